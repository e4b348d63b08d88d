"""The server's own certificate authority and certificates (``<data_dir>/tls/``).

A shop has no PKI, so each lanpos server makes its own: a CA (10 years) and a server
certificate signed by it, for every name and address of this machine. The managed MariaDB uses
them at once (the standby's replication connection is TLS and checks the CA it was given at
pairing); the security issue reuses them for the counters' API connections (counters pin the
CA's fingerprint at setup).

Made with the ``openssl`` program (installed by ``installer/setup.sh``), so that the server
needs no compiled crypto package. The keys are 0600 and never leave the machine: what the
standby gets at pairing is the CA *certificate*.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import os
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

from common.tlspin import ca_fingerprint

__all__ = ["TlsError", "TlsFiles", "ca_fingerprint", "ensure_certificates", "machine_names"]

log = logging.getLogger(__name__)

CA_DAYS = 3650
CERT_DAYS = 3650


class TlsError(RuntimeError):
    """The certificates could not be made."""


@dataclass(frozen=True)
class TlsFiles:
    dir: Path

    @property
    def ca_cert(self) -> Path:
        return self.dir / "ca.pem"

    @property
    def ca_key(self) -> Path:
        return self.dir / "ca-key.pem"

    @property
    def cert(self) -> Path:
        return self.dir / "server.pem"

    @property
    def key(self) -> Path:
        return self.dir / "server-key.pem"

    @property
    def peer_ca(self) -> Path:
        """The other server's CA certificate (given at pairing): trusted for replication."""
        return self.dir / "peer-ca.pem"

    def exists(self) -> bool:
        return all(p.is_file() for p in (self.ca_cert, self.ca_key, self.cert, self.key))

    def ca_pem(self) -> str:
        return self.ca_cert.read_text()

    def fingerprint(self) -> str:
        return ca_fingerprint(self.ca_pem())


def machine_names() -> tuple[list[str], list[str]]:
    """(DNS names, IP addresses) this machine answers to, for the certificate's SANs."""
    names = {"localhost"}
    with contextlib.suppress(OSError):
        names.add(socket.gethostname())
        names.add(socket.getfqdn())
    ips = {"127.0.0.1", "::1"}
    with contextlib.suppress(OSError):
        for info in socket.getaddrinfo(socket.gethostname(), None):
            ips.add(str(info[4][0]))
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect(("10.255.255.255", 1))  # no packet is sent: picks the LAN interface
        ips.add(s.getsockname()[0])
    good_ips = []
    for ip in sorted(ips):
        with contextlib.suppress(ValueError):
            good_ips.append(str(ipaddress.ip_address(ip.split("%")[0])))
    good_names = sorted(n for n in names if n and all(c.isalnum() or c in "-." for c in n))
    return good_names, good_ips


def _openssl() -> str:
    found = shutil.which("openssl")
    if not found:
        raise TlsError("the 'openssl' program is missing: run installer/setup.sh "
                       "(or apt-get install openssl)")
    return found


def _run(*args: str) -> None:
    res = subprocess.run([_openssl(), *args], capture_output=True, text=True, check=False)
    if res.returncode != 0:
        raise TlsError(f"openssl {args[0]} failed: {(res.stderr or res.stdout)[-800:]}")


def ensure_certificates(tls_dir: Path, common_name: str = "lanpos") -> TlsFiles:
    """Make the CA and the server certificate once (idempotent)."""
    files = TlsFiles(Path(tls_dir))
    if files.exists():
        return files
    files.dir.mkdir(parents=True, exist_ok=True)
    if os.name == "posix":
        os.chmod(files.dir, 0o700)
    names, ips = machine_names()
    san = ",".join([f"DNS:{n}" for n in names] + [f"IP:{ip}" for ip in ips])
    tmp = files.dir / "tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        ca_key, ca_cert = tmp / "ca-key.pem", tmp / "ca.pem"
        key, csr, cert = tmp / "server-key.pem", tmp / "server.csr", tmp / "server.pem"
        ext = tmp / "server.ext"
        _run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", str(CA_DAYS),
             "-subj", f"/O=lanpos/CN={common_name} CA", "-keyout", str(ca_key),
             "-out", str(ca_cert))
        _run("req", "-newkey", "rsa:2048", "-nodes", "-sha256", "-subj",
             f"/O=lanpos/CN={common_name}", "-keyout", str(key), "-out", str(csr))
        ext.write_text(f"subjectAltName={san}\nbasicConstraints=CA:FALSE\n"
                       "keyUsage=digitalSignature,keyEncipherment\n"
                       "extendedKeyUsage=serverAuth,clientAuth\n")
        _run("x509", "-req", "-in", str(csr), "-CA", str(ca_cert), "-CAkey", str(ca_key),
             "-CAcreateserial", "-days", str(CERT_DAYS), "-sha256", "-extfile", str(ext),
             "-out", str(cert))
        for src in (ca_key, key):
            os.chmod(src, 0o600)
        for src, dst in ((ca_cert, files.ca_cert), (ca_key, files.ca_key), (cert, files.cert),
                         (key, files.key)):
            os.replace(src, dst)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log.info("made this server's CA and certificate in %s (CA %s)", files.dir,
             files.fingerprint())
    return files
