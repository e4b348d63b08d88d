"""Talking to the other server of the pair over its API (health, pairing, promotion).

Between machines that is https to the other server's TLS front, checked against the other
server's CA that this one pinned at pairing (``<data_dir>/tls/peer-ca.pem``): only that CA
is trusted, so the host name is not checked (a DHCP lease may move the address; the
certificate names the addresses it had when it was made). Plain http is for 127.0.0.1 (one
machine: tests, local tools). The first contact, before anything is pinned, is
``fetch_ca()``: the fingerprint it returns is what the owner compares with the other
server's screen (``standby init`` asks, or takes ``--fingerprint``).
"""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from common import tlspin
from common.schemas.base import API_PREFIX

#: the pinned CA of the other server (set by ``use_trust``: every Runtime does it)
_peer_ca: Path | None = None


def use_trust(peer_ca: Path) -> None:
    """Trust ``peer_ca`` (the other server's CA certificate) for https to the other server."""
    global _peer_ca
    _peer_ca = Path(peer_ca)


def _context(address: str) -> ssl.SSLContext | None:
    """None for http; for https a context that trusts the pinned CA only."""
    if urlsplit(api_base(address)).scheme != "https":
        return None
    if _peer_ca is None or not _peer_ca.is_file():
        raise PeerError(f"{api_base(address)}: the other server's certificate is not known yet "
                        "(pair first: lanpos-server standby init)", code="peer_not_pinned")
    return tlspin.pinned_context(_peer_ca.read_text())


def fetch_ca(address: str, timeout: float = 5.0) -> tuple[str, str]:
    """(CA PEM, fingerprint) of the server at ``address``, before anything is pinned
    (``common.tlspin.fetch_ca``: show the fingerprint to the owner)."""
    try:
        return tlspin.fetch_ca(api_base(address), timeout)
    except tlspin.PinError as e:
        raise PeerError(str(e)) from e


class PeerError(RuntimeError):
    def __init__(self, message: str, status: int = 0, code: str = "",
                 payload: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.payload = payload


def api_base(address: str) -> str:
    """'https://h:8643' / 'h:8643' / '…/api/v1' → 'https://h:8643/api/v1' (no scheme: https,
    but http for 127.0.0.1 and localhost, where the plain port is)."""
    a = address.strip().rstrip("/")
    if "://" not in a:
        local = a.split(":")[0] in ("127.0.0.1", "localhost")
        a = ("http://" if local else "https://") + a
    if not a.endswith(API_PREFIX):
        a += API_PREFIX
    return a


def call(address: str, method: str, path: str, body: Any = None, *, token: str | None = None,
         timeout: float = 5.0, lang: str = "zh") -> tuple[int, dict[str, str], Any]:
    """One request → (status, headers, decoded JSON). Raises PeerError when no answer came;
    an HTTP error status is returned, not raised."""
    data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
    req = urllib.request.Request(api_base(address) + path, data=data, method=method)
    req.add_header("Accept", "application/json")
    req.add_header("Accept-Language", lang)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    if method in ("POST", "PUT", "PATCH", "DELETE"):
        req.add_header("Idempotency-Key", str(uuid.uuid4()))
    ctx = _context(address)
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=ctx) as resp:
            raw = resp.read()
            status, headers = resp.status, dict(resp.headers.items())
    except urllib.error.HTTPError as e:
        raw, status, headers = e.read(), e.code, dict(e.headers.items())
    except (urllib.error.URLError, OSError, TimeoutError) as e:
        reason = getattr(e, "reason", e)
        raise PeerError(f"{api_base(address)}: {reason}") from e
    try:
        payload = json.loads(raw) if raw else None
    except ValueError:
        payload = None
    return status, headers, payload


def checked(address: str, method: str, path: str, body: Any = None, **kw: Any) -> Any:
    """``call`` that raises PeerError on an error status (with the server's message)."""
    status, _h, payload = call(address, method, path, body, **kw)
    if status >= 400:
        err = (payload or {}).get("error", {}) if isinstance(payload, dict) else {}
        raise PeerError(str(err.get("message") or f"HTTP {status}"), status=status,
                        code=str(err.get("code") or ""), payload=payload)
    return payload


@dataclass(frozen=True)
class PeerHealth:
    reachable: bool
    role: str | None = None
    epoch: int | None = None
    database_ok: bool = False
    gtid: str | None = None
    payload: dict[str, Any] | None = None
    error: str | None = None


def health(address: str, timeout: float = 2.0) -> PeerHealth:
    try:
        status, _h, payload = call(address, "GET", "/health", timeout=timeout)
    except PeerError as e:
        return PeerHealth(False, error=str(e))
    if not isinstance(payload, dict) or "role" not in payload:
        return PeerHealth(False, error=f"HTTP {status}: not a lanpos server")
    repl = payload.get("replication") or {}
    return PeerHealth(True, role=payload.get("role"), epoch=payload.get("epoch"),
                      database_ok=payload.get("database") == "ok", gtid=repl.get("gtid"),
                      payload=payload)


def login(address: str, username: str, password: str) -> str:
    payload = checked(address, "POST", "/auth/login",
                      {"username": username, "password": password, "counter": "standby"})
    return str(payload["token"])
