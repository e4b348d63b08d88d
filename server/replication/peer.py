"""Talking to the other server of the pair over its API (health, pairing, promotion)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from typing import Any

from common.schemas.base import API_PREFIX


class PeerError(RuntimeError):
    def __init__(self, message: str, status: int = 0, code: str = "",
                 payload: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.payload = payload


def api_base(address: str) -> str:
    """'http://h:8600' / 'h:8600' / '…/api/v1' → 'http://h:8600/api/v1'."""
    a = address.strip().rstrip("/")
    if "://" not in a:
        a = "http://" + a
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
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
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
