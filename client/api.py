"""The only code in the client that talks HTTP.

``ApiClient`` wraps one ``requests.Session`` and a list of servers (primary first, then the
standby). Every call returns a ``common.schemas`` model or raises ``common.errors.ApiError``
— for a server error rebuilt from the envelope (the cashier-readable message), for a network
failure one with a readable Chinese (or English) message and ``status == 0``.

Rules
-----
* Timeouts: connect ``connect_timeout`` (3 s), read ``read_timeout`` (15 s).
* Every write (POST/PATCH/PUT/DELETE) carries an ``Idempotency-Key`` (a uuid4, or the key the
  caller passes — e.g. a sale's own id). A write whose answer was lost (connection dropped,
  read time-out, 5xx other than ``503 standby_read_only``) is retried **with the same key**:
  the server either does it once or replays the stored response.
* Failover: a server that cannot be reached (connection refused / connect time-out) is skipped
  and the next one tried; the last server that answered is tried first next time. A write
  refused with ``503 standby_read_only`` ("this is the standby") goes to the next server.
  Reads are served by the standby as well.
* ``login`` and ``logout`` are not idempotent on the server; they are sent again only when the
  first attempt certainly never reached a server.

Thread-safety: the client is used from the background task pool (``client.tasks``); the
shared state (token, active server) is read and written under a lock; ``requests.Session``'s
connection pool is thread-safe for this use.

Adding an endpoint is one line in the typed section, e.g.::

    def get_product(self, pid: int) -> ProductOut:
        return ProductOut.model_validate(self._get(f"/products/{pid}"))
"""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlsplit

import requests
from pydantic import BaseModel

from common.errors import ApiError
from common.schemas.auth import LoginResponse, MeResponse
from common.schemas.backups import (
    BackupJobOut,
    BackupListOut,
    BackupSettingsIn,
    BackupSettingsOut,
)
from common.schemas.base import Page
from common.schemas.catalog import ProductOut
from common.schemas.staff import StaffCreate, StaffOut, StaffUpdate
from common.schemas.system import AuditEntryOut, HealthOut

from . import i18n

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
DEFAULT_PORT = 8600
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

#: status 0 = no HTTP answer at all (the client made this error)
NETWORK_STATUS = 0
CODE_UNREACHABLE = "server_unreachable"
CODE_TIMEOUT = "server_timeout"
CODE_BAD_RESPONSE = "bad_response"

Body = BaseModel | Mapping[str, Any] | None


def normalize_server(address: str) -> str:
    """'192.168.1.10' / '192.168.1.10:8600' / 'http://h:8600/' / '…/api/v1' →
    'http://192.168.1.10:8600/api/v1'. Raises ValueError for something that is no address."""
    text = address.strip().rstrip("/")
    if not text or text.endswith(":"):
        raise ValueError("empty server address")
    if "://" not in text:
        text = "http://" + text
    parts = urlsplit(text)
    if (parts.scheme not in ("http", "https") or not parts.hostname
            or not re.fullmatch(r"[A-Za-z0-9.\-]+", parts.hostname)):
        raise ValueError(f"not a server address: {address!r}")
    try:
        port = parts.port
    except ValueError as e:
        raise ValueError(f"not a server address: {address!r}") from e
    netloc = parts.netloc if port else f"{parts.netloc}:{DEFAULT_PORT}"
    path = parts.path.rstrip("/")
    if not path.endswith(API_PREFIX):
        path = path + API_PREFIX
    return f"{parts.scheme}://{netloc}{path}"


def display_server(base_url: str) -> str:
    """'http://192.168.1.10:8600/api/v1' → '192.168.1.10:8600' (for people)."""
    return urlsplit(base_url).netloc or base_url


def network_error(code: str, **params: Any) -> ApiError:
    key = {CODE_UNREACHABLE: "net.unreachable", CODE_TIMEOUT: "net.timeout",
           CODE_BAD_RESPONSE: "net.bad_response"}.get(code, "net.unreachable")
    return ApiError(code, status=NETWORK_STATUS, message=i18n.tr(key, **params), **params)


def _is_connect_failure(exc: requests.RequestException) -> bool:
    """True when the request certainly never reached the server (safe to send elsewhere)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    if isinstance(exc, requests.ConnectionError):
        text = repr(exc)
        return any(s in text for s in ("NewConnectionError", "Connection refused",
                                       "Failed to establish", "Name or service not known",
                                       "No route to host", "Network is unreachable"))
    return False


class ApiClient:
    """HTTP client of the lanpos API (see module doc)."""

    def __init__(
        self,
        servers: Sequence[str],
        *,
        counter: str = "",
        lang: str = i18n.ZH,
        connect_timeout: float = 3.0,
        read_timeout: float = 15.0,
        max_attempts: int = 3,
        retry_delays: Sequence[float] = (0.2, 0.6),
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.servers = [normalize_server(s) for s in servers if s and s.strip()]
        self.counter = counter
        self.lang = lang
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_attempts = max(1, max_attempts)
        self.retry_delays = tuple(retry_delays)
        self._session = session or requests.Session()
        self._sleep = sleep
        self._lock = threading.Lock()
        self._token: str | None = None
        self._active = 0

    # --- state ----------------------------------------------------------------------------

    @property
    def token(self) -> str | None:
        with self._lock:
            return self._token

    @token.setter
    def token(self, value: str | None) -> None:
        with self._lock:
            self._token = value

    @property
    def active_server(self) -> str | None:
        """The base URL of the server that answered last (first choice for the next call)."""
        with self._lock:
            return self.servers[self._active] if self.servers else None

    def close(self) -> None:
        self._session.close()

    # --- generic request --------------------------------------------------------------------

    def _get(self, path: str, params: Mapping[str, Any] | BaseModel | None = None) -> Any:
        return self.request("GET", path, params=params)

    def _post(self, path: str, body: Body = None, *, key: str | None = None) -> Any:
        return self.request("POST", path, body=body, key=key)

    def _patch(self, path: str, body: Body = None, *, key: str | None = None) -> Any:
        return self.request("PATCH", path, body=body, key=key)

    def _delete(self, path: str, *, key: str | None = None) -> Any:
        return self.request("DELETE", path, key=key)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | BaseModel | None = None,
        body: Body = None,
        key: str | None = None,
        idempotent: bool = True,
    ) -> Any:
        """Send one API call with failover and retries; returns the decoded JSON (or None).

        ``idempotent=False`` (login/logout): resend only when no server was reached.
        """
        method = method.upper()
        if not self.servers:
            raise ApiError("no_server", status=NETWORK_STATUS, message=i18n.tr("net.no_server"))
        headers = {"Accept": "application/json",
                   "Accept-Language": "en" if self.lang == i18n.EN else "zh-CN"}
        token = self.token
        if token:
            headers["Authorization"] = f"Bearer {token}"
        is_write = method in WRITE_METHODS
        if is_write:
            headers["Idempotency-Key"] = key or str(uuid.uuid4())
        json_body = _dump(body)
        query = _query(params)

        last_error: ApiError | None = None
        standby_error: ApiError | None = None  # more useful to show than "unreachable"
        with self._lock:
            start = self._active
        n = len(self.servers)
        for attempt in range(self.max_attempts):
            if attempt:
                self._sleep(self.retry_delays[min(attempt - 1, len(self.retry_delays) - 1)]
                            if self.retry_delays else 0)
            retry = False
            for step in range(n):
                idx = (start + step) % n
                base = self.servers[idx]
                try:
                    err, data = self._exchange(method, base + path, query, json_body, headers)
                except requests.RequestException as exc:
                    if _is_connect_failure(exc):
                        log.info("server %s unreachable: %s", base, exc)
                        last_error = network_error(CODE_UNREACHABLE,
                                                   server=display_server(base))
                        continue  # never reached: try the next server
                    log.warning("%s %s on %s: answer lost (%s)", method, path, base, exc)
                    if isinstance(exc, requests.Timeout):
                        last_error = network_error(CODE_TIMEOUT)
                    else:
                        last_error = network_error(CODE_UNREACHABLE,
                                                   server=display_server(base))
                    if not idempotent:
                        raise last_error from exc
                    start, retry = idx, True  # retry the same server with the same key
                    break
                if err is not None and err.status == 503 and err.code == "standby_read_only":
                    last_error = standby_error = err
                    continue  # this is the standby: a write goes to the next server
                with self._lock:
                    self._active = idx
                if err is None:
                    return data
                if err.status >= 500 and idempotent:
                    last_error, start, retry = err, idx, True
                    break
                raise err
            if not retry and last_error is not None and last_error.status != NETWORK_STATUS:
                break  # every server answered "standby": retrying will not help
        error = standby_error or last_error
        assert error is not None
        raise error

    def _exchange(self, method: str, url: str, query: Any, json_body: Any,
                  headers: dict[str, str]) -> tuple[ApiError | None, Any]:
        """One HTTP request → (error from the envelope or None, decoded body).

        The response never outlives this frame: a traceback that kept it would keep its
        socket open."""
        resp = self._session.request(method, url, params=query, json=json_body,
                                     headers=headers,
                                     timeout=(self.connect_timeout, self.read_timeout))
        try:
            err = self._error_of(resp)
            if err is not None:
                return err, None
            try:
                return None, _decode(resp)
            except ApiError as e:
                return e, None
        finally:
            resp.close()

    @staticmethod
    def _error_of(resp: requests.Response) -> ApiError | None:
        if resp.status_code < 400:
            return None
        try:
            payload = resp.json()
        except ValueError:
            return network_error(CODE_BAD_RESPONSE, http_status=resp.status_code)
        err = ApiError.from_envelope(resp.status_code, payload)
        if not isinstance(payload, dict) or "error" not in payload:
            return network_error(CODE_BAD_RESPONSE, http_status=resp.status_code)
        return err

    # --- typed endpoints ---------------------------------------------------------------------

    def health(self) -> HealthOut:
        return HealthOut.model_validate(self._get("/health"))

    def login(self, username: str, password: str) -> LoginResponse:
        data = self.request("POST", "/auth/login", idempotent=False,
                            body={"username": username, "password": password,
                                  "counter": self.counter})
        res = LoginResponse.model_validate(data)
        self.token = res.token
        return res

    def logout(self) -> None:
        """Revoke the token (an already invalid token counts as logged out)."""
        if self.token is None:
            return
        try:
            self.request("POST", "/auth/logout", idempotent=False)
        except ApiError as e:
            if e.status not in (401, NETWORK_STATUS):
                raise
            log.info("logout: %s (token dropped locally)", e.code)
        finally:
            self.token = None

    def me(self) -> MeResponse:
        return MeResponse.model_validate(self._get("/auth/me"))

    def list_staff(self, page: int = 1, page_size: int = 50, q: str | None = None,
                   include_inactive: bool = False) -> Page[StaffOut]:
        return Page[StaffOut].model_validate(self._get("/staff", {
            "page": page, "page_size": page_size, "q": q or None,
            "include_inactive": include_inactive}))

    def get_staff(self, staff_id: int) -> StaffOut:
        return StaffOut.model_validate(self._get(f"/staff/{staff_id}"))

    def create_staff(self, body: StaffCreate | Mapping[str, Any], *,
                     key: str | None = None) -> StaffOut:
        return StaffOut.model_validate(self._post("/staff", body, key=key))

    def update_staff(self, staff_id: int, body: StaffUpdate | Mapping[str, Any], *,
                     key: str | None = None) -> StaffOut:
        return StaffOut.model_validate(self._patch(f"/staff/{staff_id}", body, key=key))

    def list_audit(self, page: int = 1, page_size: int = 50, *, action: str | None = None,
                   entity: str | None = None, entity_id: str | None = None,
                   staff_id: int | None = None) -> Page[AuditEntryOut]:
        return Page[AuditEntryOut].model_validate(self._get("/audit", {
            "page": page, "page_size": page_size, "action": action or None,
            "entity": entity or None, "entity_id": entity_id or None, "staff_id": staff_id}))

    def product_by_barcode(self, code: str) -> ProductOut:
        return ProductOut.model_validate(self._get(f"/products/barcode/{quote(code, safe='')}"))

    def list_products(self, page: int = 1, page_size: int = 50, q: str | None = None
                      ) -> Page[ProductOut]:
        return Page[ProductOut].model_validate(self._get("/products", {
            "page": page, "page_size": page_size, "q": q or None}))


    # --- backups (owner) ---------------------------------------------------------------------

    def list_backups(self) -> BackupListOut:
        return BackupListOut.model_validate(self._get("/backups"))

    def start_backup(self, note: str | None = None, *, key: str | None = None) -> BackupJobOut:
        body = {"note": note} if note else {}
        return BackupJobOut.model_validate(self._post("/backups", body, key=key))

    def backup_job(self, job_id: str) -> BackupJobOut:
        return BackupJobOut.model_validate(self._get(f"/backups/jobs/{quote(job_id, safe='')}"))

    def verify_backup(self, backup_id: str, *, key: str | None = None) -> BackupJobOut:
        return BackupJobOut.model_validate(
            self._post(f"/backups/{quote(backup_id, safe='')}/verify", key=key))

    def restore_backup(self, backup_id: str, confirm: str, force: bool = False) -> BackupJobOut:
        """Not resent after a lost answer (a restore is never started twice)."""
        return BackupJobOut.model_validate(self.request(
            "POST", f"/backups/{quote(backup_id, safe='')}/restore", idempotent=False,
            body={"confirm": confirm, "force": force}))

    def backup_settings(self) -> BackupSettingsOut:
        return BackupSettingsOut.model_validate(self._get("/backups/settings"))

    def update_backup_settings(self, body: BackupSettingsIn | Mapping[str, Any], *,
                               key: str | None = None) -> BackupSettingsOut:
        return BackupSettingsOut.model_validate(
            self.request("PUT", "/backups/settings", body=body, key=key))

def _dump(body: Body) -> Any:
    if body is None:
        return None
    if isinstance(body, BaseModel):
        return body.model_dump(mode="json", exclude_unset=True)
    return dict(body)


def _query(params: Mapping[str, Any] | BaseModel | None) -> dict[str, Any] | None:
    if params is None:
        return None
    if isinstance(params, BaseModel):
        params = params.model_dump(mode="json", exclude_none=True)
    out: dict[str, Any] = {}
    for k, v in params.items():
        if v is None:
            continue
        out[k] = ("true" if v else "false") if isinstance(v, bool) else v
    return out


def _decode(resp: requests.Response) -> Any:
    if resp.status_code == 204 or not resp.content:
        return None
    try:
        return resp.json()
    except ValueError as e:
        raise network_error(CODE_BAD_RESPONSE, http_status=resp.status_code) from e
