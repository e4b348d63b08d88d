"""Pinning a lanpos server's own CA (DESIGN §4 "Security on the LAN"), for counters and for
the other server of a standby pair alike.

A shop has no PKI: each server makes its own CA (``server.ops.tls``). Whoever connects to it
trusts exactly that CA, pinned once after a person compared its fingerprint with the one the
server's screen and back office show (``fetch_ca`` is the one look *without* checking, and
its fingerprint is what the person compares). After that, ``pinned_context`` trusts that CA
only. The host name is not checked: the pinned CA is the server's identity, and a shop's
DHCP may move the server's address away from the ones its certificate names.

Standard library only (``ssl``, ``urllib``): the server and the client both use it.
"""

from __future__ import annotations

import hashlib
import json
import ssl
import urllib.error
import urllib.request
from typing import Any

#: where a server tells its CA (public: certificates are no secret)
CA_PATH = "/health/tls"


class PinError(RuntimeError):
    """The server did not answer over TLS, or sent no usable certificate."""


def ca_fingerprint(pem: str) -> str:
    """SHA-256 of the certificate's DER bytes, as 'AB:CD:…' (what a person compares).
    Raises ValueError for something that is no PEM certificate."""
    der = ssl.PEM_cert_to_DER_cert(pem)
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def same_fingerprint(a: str, b: str) -> bool:
    """'ab:cd …' and 'ABCD…' are the same fingerprint (as typed, copied or read aloud)."""
    def norm(x: str) -> str:
        return "".join(c for c in x.upper() if c in "0123456789ABCDEF")
    return bool(norm(a)) and norm(a) == norm(b)


def fingerprint_lines(fingerprint: str, per_line: int = 8) -> str:
    """'AB:CD:…' as 4 lines of 8 groups ('AB CD …'): how every screen shows it (the server's
    terminal, the back office, the counter's setup), so that a person compares line by line."""
    groups = fingerprint.split(":")
    return "\n".join(" ".join(groups[i:i + per_line]) for i in range(0, len(groups), per_line))


def pinned_context(ca_pem: str) -> ssl.SSLContext:
    """A client context that trusts ``ca_pem`` and nothing else (no host name check)."""
    ctx = ssl.create_default_context(cadata=ca_pem)
    ctx.check_hostname = False
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def _get_json(url: str, ctx: ssl.SSLContext, timeout: float) -> Any:
    try:
        with urllib.request.urlopen(url, timeout=timeout, context=ctx) as resp:
            return json.loads(resp.read() or b"null")
    except (urllib.error.URLError, OSError, ValueError) as e:
        raise PinError(f"{url}: {getattr(e, 'reason', e)}") from e


def fetch_ca(api_base: str, timeout: float = 5.0) -> tuple[str, str]:
    """(CA certificate PEM, fingerprint) of the https server at ``api_base`` (…/api/v1), read
    without checking who answers — show the fingerprint to a person before trusting it. The
    server's certificate must be signed by the CA it sent (checked by a second request with
    that CA pinned), so the fingerprint belongs to the server that holds the TLS key."""
    url = api_base.rstrip("/") + CA_PATH
    loose = ssl.create_default_context()
    loose.check_hostname, loose.verify_mode = False, ssl.CERT_NONE
    payload = _get_json(url, loose, timeout)
    pem = str(payload.get("ca_pem") or "") if isinstance(payload, dict) else ""
    try:
        fingerprint = ca_fingerprint(pem)
    except ValueError as e:
        raise PinError(f"{url}: no usable certificate in its answer") from e
    try:
        _get_json(url, pinned_context(pem), timeout)
    except ssl.SSLError as e:
        raise PinError(f"{url}: its certificate is not signed by the CA it sent") from e
    return pem, fingerprint
