"""The only code in the client that talks HTTP.

``ApiClient`` wraps one ``requests.Session`` and a list of servers (primary first, then the
standby). Every call returns a ``common.schemas`` model or raises ``common.errors.ApiError``
— for a server error rebuilt from the envelope (the cashier-readable message), for a network
failure one with a readable Chinese (or English) message and ``status == 0``.

Rules
-----
* Timeouts: connect ``connect_timeout`` (3 s), read ``read_timeout`` (15 s) by default; a
  scan, search or quote at the counter never waits more than about ``OFFLINE_THRESHOLD``
  (``SCAN_TIMEOUT``, one try: the counter then resolves it locally or sells offline); a sale
  submit waits up to ``SUBMIT_TIMEOUT`` per try and is resent with the same key.
* Every write (POST/PATCH/PUT/DELETE) carries an ``Idempotency-Key`` (a uuid4, or the key the
  caller passes — e.g. a sale's own id). A write whose answer was lost (connection dropped,
  read time-out, 5xx other than ``503 standby_read_only``) is retried **with the same key**:
  the server either does it once or replays the stored response.
* Failover: a server that cannot be reached (connection refused / connect time-out) is skipped
  and the next one tried; the last server that answered is tried first next time. A write
  refused with ``503 standby_read_only`` ("this is the standby") or ``409 stale_primary`` ("I was
  replaced by a promoted standby") goes to the next server **with the same Idempotency-Key**
  (safe: those servers refused before doing anything); the one that takes it becomes the
  active server. Reads are served by the standby as well.
* Epoch fencing (DESIGN §4): every answer carries ``X-Lanpos-Role``, ``X-Lanpos-Epoch`` and
  ``X-Lanpos-Cluster`` (the pair's id); the client keeps the newest epoch it has seen together
  with the cluster id it belongs to (``epoch``, ``cluster``) and sends both (``X-Lanpos-Epoch``,
  ``X-Lanpos-Cluster``) with every request: a server of that cluster behind the epoch learns
  it was replaced and refuses writes (a server ignores an epoch sent without its own cluster
  id). The role each server last reported is kept (``server_role``) for the status bar.
* Clusters: an answer of the remembered cluster (or of an older server that sends no id) can
  only raise the epoch. An answer with another cluster id is a new installation (e.g. the shop
  reinstalled its servers): its id is adopted and the epoch starts again from *that answer's*
  epoch, never the max (an epoch of the old installation must not fence the new one). The same
  holds when no cluster id was remembered yet: an epoch without an id (a settings file of an
  older version) is of an unknown installation. ``on_epoch(epoch, cluster)`` is told the new
  pair whenever the epoch grows or the cluster id changes, so the app can persist both (it
  keeps the larger epoch of one cluster, and replaces both when the cluster differs).
* Peers: a server address revealed by ``/health`` (``replication.peer``) or by
  ``/replication/status`` that is not in ``servers`` is appended (``on_servers(list)`` is told),
  so a counter set up with the primary's address alone finds the standby after pairing.
* Following the writer: :meth:`follow` asks every server's ``/health`` (short time-outs) and
  makes the primary of the newest epoch the active server. Epochs are compared only among
  servers of the remembered cluster: a server of another cluster (an address typed by
  mistake) is never taken over one of ours; when only servers of one other cluster answer, it
  is a new installation and is adopted (its newest epoch with it). The app calls it every few
  seconds from a ``QTimer`` through ``client.tasks`` (``client.shell.server_watch``), so a counter
  moves to a promoted standby within seconds, without a restart and without losing its cart.
* ``server=`` (``health``, ``replication_status``, ``promote_check``, ``promote``) sends a call
  to that one server, without failover, and does not change the active server.
* ``login`` and ``logout`` are not idempotent on the server; they are sent again only when the
  first attempt certainly never reached a server.

Thread-safety: the client is used from the background task pool (``client.tasks``); the
shared state (token, active server, servers, epoch and cluster, roles seen) is read and
written under a lock; ``servers`` is replaced, never changed in place, so a request iterates
over a snapshot; ``requests.Session``'s connection pool is thread-safe for this use.
``on_epoch`` and ``on_servers`` are called on the thread that made the request (outside the
lock): a GUI must hand them over to its own thread (``client.app`` does it with a queued
signal).

Adding an endpoint is one line in the typed section, e.g.::

    def get_product(self, pid: int) -> ProductOut:
        return ProductOut.model_validate(self._get(f"/products/{pid}"))
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import requests
from pydantic import BaseModel, ValidationError
from requests.adapters import HTTPAdapter

from common import tlspin
from common.errors import ApiError
from common.schemas import activities as sact
from common.schemas import appointments as sp
from common.schemas import attendance as sa
from common.schemas import catalog as sc
from common.schemas import members as sm
from common.schemas import reports as sr
from common.schemas import sales as ss
from common.schemas.auth import LoginResponse, MeResponse
from common.schemas.backups import (
    BackupJobOut,
    BackupKeyOut,
    BackupListOut,
    BackupSettingsIn,
    BackupSettingsOut,
)
from common.schemas.base import API_PREFIX, Page
from common.schemas.catalog import ProductOut
from common.schemas.replication import (
    CLUSTER_HEADER,
    EPOCH_HEADER,
    ROLE_HEADER,
    PairingCodeOut,
    PromoteCheckIn,
    PromoteCheckOut,
    PromoteIn,
    PromoteOut,
    ReplicationHealth,
    ReplicationStatusOut,
)
from common.schemas.shop import ShopSettingsOut
from common.schemas.staff import ServingStaffOut, StaffCreate, StaffOut, StaffUpdate
from common.schemas.system import AuditEntryOut, HealthOut, TlsOut

from . import i18n

log = logging.getLogger(__name__)

#: the counters' port: https, the server's TLS front (server/ops/tlsfront.py)
DEFAULT_PORT = 8643
#: plain HTTP, which a server answers on 127.0.0.1 only (its own machine: tools, tests)
PLAIN_PORT = 8600
TLS_PORT_OFFSET = DEFAULT_PORT - PLAIN_PORT
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

#: status 0 = no HTTP answer at all (the client made this error)
NETWORK_STATUS = 0
CODE_UNREACHABLE = "server_unreachable"
CODE_TIMEOUT = "server_timeout"
CODE_BAD_RESPONSE = "bad_response"
#: an https server this counter has not pinned (setup: compare its fingerprint)
CODE_NOT_PINNED = "server_not_pinned"
#: an https server whose certificate is not the pinned one (a manager re-pins, or an impostor)
CODE_CERT_CHANGED = "server_certificate_changed"

#: a write refused with one of these went nowhere: the next server gets it (same key)
NOT_THE_WRITER = frozenset({(503, "standby_read_only"), (409, "stale_primary")})
ROLE_PRIMARY, ROLE_STANDBY, ROLE_STALE = "primary", "standby", "stale"
#: time-outs of the follow probe (connect, read): a dead machine must not hold it up
PROBE_TIMEOUT = (1.0, 2.0)
#: a dashboard's refresh: a machine that is off must not hold it up either
QUICK_TIMEOUT = (2.0, 8.0)
#: the counter's offline threshold (s): no scan or quote waits longer for a server
OFFLINE_THRESHOLD = 3.0
#: a scan, a search, a quote: one try with these (connect, read) — with a standby that is off
#: too, still within about OFFLINE_THRESHOLD
SCAN_TIMEOUT = (1.0, 2.0)
#: a sale's submit may wait longer (and is resent with its own key, never doubled): at most
#: SUBMIT_ATTEMPTS × (connect + read) ≈ 26 s on a server that takes the connection and never
#: answers, before the counter journals the sale (a committed sale takes well under a second)
SUBMIT_TIMEOUT = (3.0, 10.0)
SUBMIT_ATTEMPTS = 2
#: the catalogue snapshot (10,000 products at a full refresh)
SNAPSHOT_TIMEOUT = (3.0, 60.0)

#: what a cluster id may look like (the server makes 16 hex digits; a little room for more)
CLUSTER_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")

Body = BaseModel | Mapping[str, Any] | None
#: ``on_epoch(epoch, cluster)``: the newest epoch and the cluster id it belongs to
EpochCallback = Callable[[int, str], None]
ServersCallback = Callable[[list[str]], None]
PinsCallback = Callable[[dict[str, str]], None]


@dataclass(frozen=True)
class ServerSeen:
    """What one server said about itself in its last answer (headers or ``/health``)."""

    role: str | None
    epoch: int | None
    at: float  # time.monotonic()
    cluster: str | None = None  # None: the server sent no cluster id (an older version)


@dataclass(frozen=True)
class ServerView:
    """One server as the follow probe found it."""

    address: str  # base URL
    reachable: bool
    role: str | None = None
    epoch: int | None = None
    health: HealthOut | None = None
    replication: ReplicationHealth | None = None
    error: str | None = None
    cluster: str | None = None  # the cluster id it answered with (None: none sent)


@dataclass(frozen=True)
class FollowResult:
    """The outcome of :meth:`ApiClient.follow`."""

    active: str | None  # the active server after the probe
    role: str | None  # its role as it reported it (None: unknown)
    epoch: int  # the newest epoch the client knows
    moved: bool  # the active server changed
    views: tuple[ServerView, ...]
    cluster: str = ""  # the cluster id that epoch belongs to ("": none known)


def pick_writer(views: Sequence[ServerView], newest_epoch: int,
                current: str | None = None, cluster: str | None = None) -> str | None:
    """The server to write to: a reachable one that says it is the primary, of the highest
    epoch (never one behind ``newest_epoch``: that is an old primary not yet told); among
    equals the current one. None when no server qualifies (keep what works).

    ``cluster``: only servers of that cluster count (an epoch means something only within
    its cluster); a server that sent no cluster id (an older version) is not excluded."""
    best: list[ServerView] = []
    top = -1
    for v in views:
        if not v.reachable or v.role != ROLE_PRIMARY:
            continue
        if cluster and v.cluster is not None and v.cluster != cluster:
            continue  # another installation's server: its epoch is not comparable
        e = v.epoch or 0
        if e < newest_epoch:
            continue
        if e > top:
            best, top = [v], e
        elif e == top:
            best.append(v)
    if not best:
        return None
    for v in best:
        if v.address == current:
            return current
    return best[0].address


def is_loopback(host: str | None) -> bool:
    return bool(host) and (host == "localhost" or host == "::1" or host.startswith("127."))


def normalize_server(address: str) -> str:
    """'192.168.1.10' / '192.168.1.10:8643' / 'https://h:8643/' / '…/api/v1' →
    'https://192.168.1.10:8643/api/v1'. Raises ValueError for something that is no address.

    Another machine is https only (its TLS front). Plain http is this machine's own server
    (127.0.0.1, also when typed without a scheme): an ``http://`` address of another machine
    — a counter set up before TLS — is read as that server's https port (8600 → 8643), never
    sent anything in clear."""
    text = address.strip().rstrip("/")
    if not text or text.endswith(":"):
        raise ValueError("empty server address")
    if "://" not in text:
        local = is_loopback(urlsplit("//" + text).hostname)
        text = ("http://" if local else "https://") + text  # this machine: its plain port
    parts = urlsplit(text)
    if (parts.scheme not in ("http", "https") or not parts.hostname
            or not re.fullmatch(r"[A-Za-z0-9.\-]+", parts.hostname)):
        raise ValueError(f"not a server address: {address!r}")
    try:
        port = parts.port
    except ValueError as e:
        raise ValueError(f"not a server address: {address!r}") from e
    scheme = parts.scheme
    if scheme == "http" and not is_loopback(parts.hostname):
        scheme, port = "https", (port or PLAIN_PORT) + TLS_PORT_OFFSET
    if port is None:
        port = DEFAULT_PORT if scheme == "https" else PLAIN_PORT
    path = parts.path.rstrip("/")
    if not path.endswith(API_PREFIX):
        path = path + API_PREFIX
    return f"{scheme}://{parts.hostname}:{port}{path}"


def _origin(base_url: str) -> str:
    """'https://h:8643/api/v1' → 'https://h:8643/' (the prefix an adapter is mounted on)."""
    parts = urlsplit(base_url)
    return f"{parts.scheme}://{parts.netloc}/"


class PinnedAdapter(HTTPAdapter):
    """https that trusts one server's own CA and nothing else (``common.tlspin``): not the
    public CAs requests would add (``cert_verify``), not the host name (the pinned CA is the
    identity; a DHCP lease may move the server)."""

    def __init__(self, ca_pem: str) -> None:
        self._context = tlspin.pinned_context(ca_pem)
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["ssl_context"] = self._context
        kwargs["assert_hostname"] = False
        super().init_poolmanager(*args, **kwargs)

    def build_connection_pool_key_attributes(self, request: Any, verify: Any,
                                             cert: Any = None) -> tuple[dict, dict]:
        host, pool = super().build_connection_pool_key_attributes(request, True, cert)
        pool.pop("ca_certs", None)
        pool.pop("ca_cert_dir", None)
        pool["cert_reqs"] = "CERT_REQUIRED"
        return host, pool

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        conn.cert_reqs, conn.ca_certs, conn.ca_cert_dir = "CERT_REQUIRED", None, None


class _NotTrusted(Exception):
    """An https server with no pin: nothing was sent to it."""

    def __init__(self, error: ApiError) -> None:
        super().__init__(error.code)
        self.error = error


def valid_cluster(value: Any) -> str | None:
    """A cluster id as sent or stored (surrounding blanks dropped), or None if it is none."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    return text if CLUSTER_ID.fullmatch(text) else None


def display_server(base_url: str) -> str:
    """'http://192.168.1.10:8600/api/v1' → '192.168.1.10:8600' (for people)."""
    return urlsplit(base_url).netloc or base_url


def network_error(code: str, **params: Any) -> ApiError:
    key = {CODE_UNREACHABLE: "net.unreachable", CODE_TIMEOUT: "net.timeout",
           CODE_BAD_RESPONSE: "net.bad_response", CODE_NOT_PINNED: "net.not_pinned",
           CODE_CERT_CHANGED: "net.certificate_changed"}.get(code, "net.unreachable")
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
        epoch: int = 0,
        cluster: str = "",
        on_epoch: EpochCallback | None = None,
        on_servers: ServersCallback | None = None,
        pins: Mapping[str, str] | None = None,
        on_pins: PinsCallback | None = None,
    ) -> None:
        urls: list[str] = []
        for s in servers:
            if s and s.strip():
                url = normalize_server(s)
                if url not in urls:
                    urls.append(url)
        self.servers: list[str] = urls  # replaced (never changed in place) under the lock
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
        self._epoch = max(0, int(epoch or 0))
        self._cluster = valid_cluster(cluster) or ""
        if cluster and not self._cluster:
            log.warning("ignoring a cluster id that is none: %r", cluster)
        self._seen: dict[str, ServerSeen] = {}
        self.on_epoch = on_epoch
        self.on_servers = on_servers
        self.on_pins = on_pins
        self._pins: dict[str, str] = {}
        for url, pem in (pins or {}).items():
            self._mount_pin(normalize_server(url), pem)

    # --- TLS pins ---------------------------------------------------------------------------

    @property
    def pins(self) -> dict[str, str]:
        """Server base URL → the CA certificate (PEM) trusted for it."""
        with self._lock:
            return dict(self._pins)

    def _mount_pin(self, url: str, pem: str) -> None:
        self._session.mount(_origin(url), PinnedAdapter(pem))
        with self._lock:
            self._pins[url] = pem

    def pin(self, server: str, ca_pem: str) -> None:
        """Trust ``ca_pem`` for ``server`` (after a person compared its fingerprint, or told by
        a server already pinned); ``on_pins`` is told."""
        url = normalize_server(server)
        tlspin.ca_fingerprint(ca_pem)  # ValueError for something that is no certificate
        self._mount_pin(url, ca_pem)
        self._tell(self.on_pins, self.pins)

    def _learn_peer_pin(self, via: str, peer: str) -> None:
        """A peer named by ``via`` (pinned): pin the peer's CA as ``via`` tells it."""
        try:
            url = normalize_server(peer)
        except ValueError:
            return
        if not url.startswith("https://") or url in self.pins or not via.startswith("https://"):
            return
        try:
            t = TlsOut.model_validate(self.request("GET", "/health/tls", server=via,
                                                   attempts=1, timeout=PROBE_TIMEOUT))
        except (ApiError, ValidationError) as e:
            log.warning("could not learn the certificate of %s from %s: %s", url, via, e)
            return
        if t.peer_ca_pem and t.peer and normalize_server(t.peer) == url:
            log.info("pinned %s (%s) as told by %s", url, t.peer_fingerprint, via)
            self.pin(url, t.peer_ca_pem)

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

    @property
    def epoch(self) -> int:
        """The newest epoch a server of ``cluster`` has reported (0: none yet)."""
        with self._lock:
            return self._epoch

    @property
    def cluster(self) -> str:
        """The id of the cluster ``epoch`` belongs to ("": none known yet)."""
        with self._lock:
            return self._cluster

    @property
    def fencing(self) -> tuple[int, str]:
        """(epoch, cluster) read together: what is sent with every request."""
        with self._lock:
            return self._epoch, self._cluster

    def server_role(self, server: str | None = None) -> str | None:
        """The role ``server`` (default: the active one) reported last; None if unknown."""
        with self._lock:
            if server is None:
                server = self.servers[self._active] if self.servers else None
            seen = self._seen.get(server) if server else None
            return seen.role if seen else None

    def server_epoch(self, server: str) -> int | None:
        with self._lock:
            seen = self._seen.get(server)
            return seen.epoch if seen else None

    def server_cluster(self, server: str) -> str | None:
        """The cluster id ``server`` answered with last (None: unknown or none sent)."""
        with self._lock:
            seen = self._seen.get(server)
            return seen.cluster if seen else None

    def use_server(self, server: str) -> None:
        """Make ``server`` the active one (added to ``servers`` if new)."""
        url = normalize_server(server)
        self.learn_servers([url])
        with self._lock:
            self._active = self.servers.index(url)

    def observe_epoch(self, epoch: int | None, cluster: str | None = None) -> None:
        """Remember an epoch learned elsewhere (a promotion's answer, the settings file).
        ``cluster``: the cluster it belongs to (None: the remembered one); another cluster
        than the remembered one replaces it, with this epoch (see module doc)."""
        self._note(None, None, epoch, valid_cluster(cluster))

    def learn_servers(self, addresses: Sequence[str | None]) -> list[str]:
        """Append the addresses not yet known; returns the new ones (``on_servers`` is told)."""
        added: list[str] = []
        with self._lock:
            current = list(self.servers)
            for a in addresses:
                if not a:
                    continue
                try:
                    url = normalize_server(a)
                except ValueError:
                    log.warning("ignoring a peer address that is no address: %r", a)
                    continue
                if url not in current:
                    current.append(url)
                    added.append(url)
            if added:
                self.servers = current
        if added:
            log.info("learned server(s) %s", ", ".join(added))
            self._tell(self.on_servers, list(current))
        return added

    def _note(self, base: str | None, role: str | None, epoch: int | None,
              cluster: str | None = None, *, adopt: bool = True) -> None:
        """Record what ``base`` said about itself. Of the remembered cluster (or with no
        cluster id: an older server): keep the newest epoch. Of another cluster: with
        ``adopt``, a new installation — its id and *this* epoch replace the remembered pair;
        without (a probe: :meth:`follow` decides), nothing is learned from it."""
        told: tuple[int, str] | None = None
        adopted = None
        with self._lock:
            if base is not None:
                self._seen[base] = ServerSeen(role, epoch, time.monotonic(), cluster)
            if cluster is not None and cluster != self._cluster:
                if adopt:
                    adopted = self._cluster
                    self._cluster = cluster
                    self._epoch = max(0, epoch or 0)
                    told = (self._epoch, cluster)
            elif epoch is not None and epoch > self._epoch:
                self._epoch = epoch
                told = (epoch, self._cluster)
        if adopted:
            log.warning("cluster %s (epoch %d) replaces %s: a new installation", cluster,
                        told[0] if told else 0, adopted)
        elif adopted is not None:
            log.info("cluster %s, epoch %d", cluster, told[0] if told else 0)
        elif told is not None:
            log.info("newest cluster epoch is now %d", told[0])
        if told is not None:
            self._tell(self.on_epoch, *told)

    def _observe(self, base: str, resp: requests.Response, *, adopt: bool = True) -> None:
        role = resp.headers.get(ROLE_HEADER)
        raw = resp.headers.get(EPOCH_HEADER)
        raw_cluster = resp.headers.get(CLUSTER_HEADER)
        if role is None and raw is None and raw_cluster is None:
            return  # a server of an older version: nothing to learn
        try:
            epoch = int(raw) if raw is not None else None
        except ValueError:
            epoch = None
        cluster = valid_cluster(raw_cluster)
        if raw_cluster is not None and cluster is None:
            log.warning("%s sent a cluster id that is none: %r", base, raw_cluster)
        self._note(base, role.strip().lower() if role else None, epoch, cluster, adopt=adopt)

    def _fencing_headers(self, headers: dict[str, str]) -> dict[str, str]:
        """``headers`` with the newest epoch and its cluster id (when known)."""
        epoch, cluster = self.fencing
        extra: dict[str, str] = {}
        if epoch:
            extra[EPOCH_HEADER] = str(epoch)
        if cluster:
            extra[CLUSTER_HEADER] = cluster
        return {**headers, **extra} if extra else headers

    @staticmethod
    def _tell(callback: Callable[..., None] | None, *values: Any) -> None:
        if callback is None:
            return
        try:
            callback(*values)
        except Exception:  # a listener's bug must not fail the request
            log.exception("ApiClient callback failed")

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
        server: str | None = None,
        anonymous: bool = False,
        timeout: tuple[float, float] | None = None,
        attempts: int | None = None,
    ) -> Any:
        """Send one API call with failover and retries; returns the decoded JSON (or None).

        ``idempotent=False`` (login/logout): resend only when no server was reached.
        ``server``: to this server only (no failover; the active server stays).
        ``anonymous``: without the login token (a call that carries its own password).
        ``timeout`` (connect, read) and ``attempts`` override the client's for this call.
        """
        method = method.upper()
        with self._lock:
            servers = [normalize_server(server)] if server else list(self.servers)
            start = 0 if server else self._active
        if not servers:
            raise ApiError("no_server", status=NETWORK_STATUS, message=i18n.tr("net.no_server"))
        follow = server is None  # failover, and the answering server becomes the active one
        headers = {"Accept": "application/json",
                   "Accept-Language": "en" if self.lang == i18n.EN else "zh-CN"}
        token = None if anonymous else self.token
        if token:
            headers["Authorization"] = f"Bearer {token}"
        is_write = method in WRITE_METHODS
        if is_write:
            headers["Idempotency-Key"] = key or str(uuid.uuid4())
        json_body = _dump(body)
        query = _query(params)

        last_error: ApiError | None = None
        standby_error: ApiError | None = None  # more useful to show than "unreachable"
        trust_error: ApiError | None = None  # the most useful: someone must act
        n = len(servers)
        for attempt in range(max(1, attempts or self.max_attempts)):
            if attempt:
                self._sleep(self.retry_delays[min(attempt - 1, len(self.retry_delays) - 1)]
                            if self.retry_delays else 0)
            retry = False
            for step in range(n):
                idx = (start + step) % n
                base = servers[idx]
                try:
                    err, data = self._exchange(method, base, path, query, json_body, headers,
                                               timeout)
                except _NotTrusted as nt:
                    last_error = trust_error = nt.error
                    continue  # nothing was sent: the next server may be trusted
                except requests.exceptions.SSLError as exc:
                    # the handshake failed before anything was sent (which is what makes it
                    # safe to try the next server): not the pinned certificate, or no TLS
                    log.error("server %s: TLS refused: %s", base, exc)
                    last_error = trust_error = network_error(
                        CODE_CERT_CHANGED, server=display_server(base))
                    continue
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
                if err is not None and (err.status, err.code) in NOT_THE_WRITER:
                    # a standby, a replaced primary, a primary unsure of itself: refused
                    # before doing anything, so the next server may take it (same key)
                    last_error = standby_error = err
                    if follow:
                        continue
                    raise err
                if follow:
                    with self._lock:
                        self._active = self.servers.index(base) if base in self.servers else idx
                if err is None:
                    return data
                if err.status >= 500 and idempotent:
                    last_error, start, retry = err, idx, True
                    break
                raise err
            if retry:
                continue
            if last_error is not None and last_error.status != NETWORK_STATUS:
                break  # every server answered "standby": retrying will not help
        error = trust_error or standby_error or last_error
        assert error is not None
        raise error

    def _exchange(self, method: str, base: str, path: str, query: Any, json_body: Any,
                  headers: dict[str, str], timeout: tuple[float, float] | None = None
                  ) -> tuple[ApiError | None, Any]:
        """One HTTP request → (error from the envelope or None, decoded body). The newest
        epoch and its cluster id are sent; the role, epoch and cluster id the server answers
        with are recorded.

        The response never outlives this frame: a traceback that kept it would keep its
        socket open."""
        headers = self._fencing_headers(headers)
        if base.startswith("https://") and base not in self._pins:
            raise _NotTrusted(network_error(CODE_NOT_PINNED, server=display_server(base)))
        resp = self._session.request(method, base + path, params=query, json=json_body,
                                     headers=headers,
                                     timeout=timeout or (self.connect_timeout,
                                                         self.read_timeout))
        try:
            self._observe(base, resp)
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

    def health(self, server: str | None = None) -> HealthOut:
        """``GET /health`` (public); a peer it names is learned (see module doc)."""
        out, rep = _health_of(self.request("GET", "/health", server=server))
        if rep is not None and rep.peer:
            self.learn_servers([rep.peer])
            self._learn_peer_pin(normalize_server(server) if server else
                                 self.active_server or "", rep.peer)
        return out

    def replication_of(self, health: HealthOut) -> ReplicationHealth | None:
        """The replication part of a health answer (None from a server without it)."""
        return _replication_of(health)

    def probe(self, timeout: tuple[float, float] = PROBE_TIMEOUT) -> list[ServerView]:
        """Every known server's ``/health``, one try each with short time-outs; peers they
        name are learned and asked in the same round. Never raises for a server's failure."""
        views: list[ServerView] = []
        asked: set[str] = set()
        for _round in range(3):  # the servers, then peers learned from them
            with self._lock:
                todo = [s for s in self.servers if s not in asked]
            if not todo:
                break
            for base in todo:
                asked.add(base)
                views.append(self._probe_one(base, timeout))
            named = [(v, v.replication.peer) for v in views
                     if v.replication is not None and v.replication.peer]
            self.learn_servers([peer for _v, peer in named])
            for v, peer in named:
                self._learn_peer_pin(v.address, peer)
        return views

    def _probe_one(self, base: str, timeout: tuple[float, float]) -> ServerView:
        headers = self._fencing_headers({
            "Accept": "application/json",
            "Accept-Language": "en" if self.lang == i18n.EN else "zh-CN"})
        if base.startswith("https://") and base not in self.pins:
            return ServerView(base, reachable=False, error=CODE_NOT_PINNED)
        try:
            resp = self._session.get(base + "/health", headers=headers, timeout=timeout)
        except requests.exceptions.SSLError:
            return ServerView(base, reachable=False, error=CODE_CERT_CHANGED)
        except requests.RequestException as exc:
            return ServerView(base, reachable=False, error=type(exc).__name__)
        try:
            # another cluster's answer is not adopted here: follow() looks at all of them
            self._observe(base, resp, adopt=False)
            seen_role = self.server_role(base)
            try:
                # 503 carries the same body (the database does not answer)
                out, rep = _health_of(resp.json())
            except (ValueError, ValidationError, TypeError):
                return ServerView(base, reachable=True, role=seen_role,
                                  epoch=self.server_epoch(base),
                                  error=f"HTTP {resp.status_code}",
                                  cluster=self.server_cluster(base))
        finally:
            resp.close()
        if ROLE_HEADER not in resp.headers:  # an older server: its body says it
            self._note(base, out.role, out.epoch, self.server_cluster(base), adopt=False)
        role = self.server_role(base) or out.role
        epoch_of = self.server_epoch(base)
        return ServerView(base, reachable=True, role=role,
                          epoch=epoch_of if epoch_of is not None else out.epoch,
                          health=out, replication=rep, cluster=self.server_cluster(base))

    def follow(self, timeout: tuple[float, float] = PROBE_TIMEOUT) -> FollowResult:
        """Probe every server and make the primary of the newest epoch of the remembered
        cluster the active server (see :func:`pick_writer`, :meth:`_settle_cluster`). With
        no such primary answering, the active server stays (reads may be served by a
        standby)."""
        views = self.probe(timeout)
        before = self.active_server
        cluster = self._settle_cluster(views, before)
        target = pick_writer(views, self.epoch, before, cluster=cluster)
        if target is not None and target != before:
            log.info("following the primary: %s → %s", before, target)
            self.use_server(target)
        after = self.active_server
        epoch, cluster = self.fencing
        return FollowResult(active=after, role=self.server_role(after) if after else None,
                            epoch=epoch, moved=after != before, views=tuple(views),
                            cluster=cluster)

    def _settle_cluster(self, views: Sequence[ServerView], active: str | None) -> str:
        """The cluster whose epochs :meth:`follow` compares. The remembered one while any of
        its servers answers (or none with an id does); else, when the answering servers are
        of one other cluster — or none was remembered — that cluster is adopted with its
        newest epoch (a new installation). Servers of several other clusters and none of
        ours: nothing is adopted (no writer is picked: keep what works)."""
        ours = self.cluster
        answering = [v for v in views if v.reachable and v.cluster]
        if not answering or any(v.cluster == ours for v in answering):
            return ours
        others = list(dict.fromkeys(v.cluster for v in answering if v.cluster))
        if ours and len(others) > 1:
            log.warning("no server of cluster %s answers, servers of %s do: none is followed",
                        ours, ", ".join(others))
            return ours
        # none remembered and several answer: the active server's cluster, else the first's
        chosen = next((v.cluster for v in answering if v.address == active), others[0])
        assert chosen is not None
        newest = max(v.epoch or 0 for v in answering if v.cluster == chosen)
        self._note(None, None, newest, chosen)
        return chosen

    def reachable(self, server: str, timeout: float = 2.0) -> bool:
        """Does ``server`` answer HTTP at all right now (any status)? One short try."""
        view = self._probe_one(normalize_server(server), (timeout, timeout))
        return view.reachable

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

    def product_by_barcode(self, code: str, *, timeout: tuple[float, float] | None = None
                           ) -> ProductOut:
        """``timeout``: one try with these time-outs (a scan must not wait for retries)."""
        return ProductOut.model_validate(self.request(
            "GET", f"/products/barcode/{quote(code, safe='')}", timeout=timeout,
            attempts=1 if timeout else None))

    def list_products(self, page: int = 1, page_size: int = 50, q: str | None = None
                      ) -> Page[ProductOut]:
        return Page[ProductOut].model_validate(self._get("/products", {
            "page": page, "page_size": page_size, "q": q or None}))

    def find_products(self, q: str, limit: int = 30, *,
                      timeout: tuple[float, float] | None = None) -> Page[ProductOut]:
        """The counter's search: barcode, SKU, name part or pinyin initials (best first);
        ``timeout``: one try with these time-outs."""
        if timeout is None:
            return self.list_products(page=1, page_size=limit, q=q)
        return Page[ProductOut].model_validate(self.request(
            "GET", "/products", params={"page": 1, "page_size": limit, "q": q or None},
            timeout=timeout, attempts=1))

    def favourite_products(self) -> list[ProductOut]:
        """The counter's touch grid (收银台常用), in grid order."""
        return Page[ProductOut].model_validate(self._get("/products", {
            "page": 1, "page_size": 200, "favourite": "true"})).items


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

    def backup_key(self) -> BackupKeyOut:
        return BackupKeyOut.model_validate(self._get("/backups/key"))

    def setup_backup_key(self, passphrase: str) -> BackupKeyOut:
        """The answer holds the recovery key once (not resent, not stored by the server)."""
        return BackupKeyOut.model_validate(self.request(
            "POST", "/backups/key", idempotent=False, body={"passphrase": passphrase}))

    def change_backup_key(self, passphrase: str, *, old_passphrase: str | None = None,
                          recovery_key: str | None = None) -> BackupKeyOut:
        return BackupKeyOut.model_validate(self.request(
            "PUT", "/backups/key", idempotent=False,
            body={"passphrase": passphrase, "old_passphrase": old_passphrase,
                  "recovery_key": recovery_key}))

    def backup_settings(self) -> BackupSettingsOut:
        return BackupSettingsOut.model_validate(self._get("/backups/settings"))

    def update_backup_settings(self, body: BackupSettingsIn | Mapping[str, Any], *,
                               key: str | None = None) -> BackupSettingsOut:
        return BackupSettingsOut.model_validate(
            self.request("PUT", "/backups/settings", body=body, key=key))

    # --- standby and failover (owner / manager) ------------------------------------------

    def replication_status(self, server: str | None = None, *, quick: bool = False
                           ) -> ReplicationStatusOut:
        """``GET /replication/status``: that server and its peer as it sees them.
        ``quick``: one try with short time-outs (a dashboard that refreshes itself)."""
        out = ReplicationStatusOut.model_validate(self.request(
            "GET", "/replication/status", server=server,
            timeout=QUICK_TIMEOUT if quick else None, attempts=1 if quick else None))
        self.learn_servers([f.address for f in (out.this, out.peer) if f is not None])
        return out

    def pairing_code(self) -> PairingCodeOut:
        """A one-time code (owner) for ``standby init --pairing-code`` on a new standby."""
        return PairingCodeOut.model_validate(self.request("POST", "/replication/pairing-code",
                                                          idempotent=False))

    def promote_check(self, server: str, body: PromoteCheckIn | Mapping[str, Any]
                      ) -> PromoteCheckOut:
        """Can the standby at ``server`` be promoted? (owner; writes nothing)"""
        return PromoteCheckOut.model_validate(
            self.request("POST", "/replication/promote/check", body=body, server=server))

    def promote(self, server: str, body: PromoteIn | Mapping[str, Any]) -> PromoteOut:
        """Promote the standby at ``server`` (the owner's password in the body, no token).
        Never resent after a lost answer: the owner looks and decides. On success the
        promoted server becomes the active one and its epoch the newest."""
        out = PromoteOut.model_validate(self.request(
            "POST", "/replication/promote", body=body, server=server, idempotent=False,
            anonymous=True))
        url = normalize_server(server)
        self._note(url, out.role, out.epoch, self.server_cluster(url))
        if out.role == ROLE_PRIMARY:
            self.use_server(url)
        return out

    # --- back office (products, stock, members, membership, shop settings) -------------------
    # Typed one-liners for client/backoffice/. Bodies are the ``common.schemas`` In/Patch
    # models or plain dicts of the same shape; ``key`` reuses an Idempotency-Key on a retry.

    def list_categories(self) -> list[sc.CategoryOut]:
        return [sc.CategoryOut.model_validate(c) for c in self._get("/categories")]

    def create_category(self, body: Body, *, key: str | None = None) -> sc.CategoryOut:
        return sc.CategoryOut.model_validate(self._post("/categories", body, key=key))

    def update_category(self, cid: int, body: Body, *, key: str | None = None
                        ) -> sc.CategoryOut:
        return sc.CategoryOut.model_validate(self._patch(f"/categories/{cid}", body, key=key))

    def search_products(self, page: int = 1, page_size: int = 50, q: str | None = None, *,
                        kind: str | None = None, category_id: int | None = None,
                        low_stock_only: bool = False, include_inactive: bool = False
                        ) -> Page[ProductOut]:
        return Page[ProductOut].model_validate(self._get("/products", {
            "page": page, "page_size": page_size, "q": q or None, "kind": kind or None,
            "category_id": category_id, "low_stock_only": low_stock_only or None,
            "include_inactive": include_inactive or None}))

    def get_product(self, pid: int) -> ProductOut:
        return ProductOut.model_validate(self._get(f"/products/{pid}"))

    def create_product(self, body: Body, *, key: str | None = None) -> ProductOut:
        return ProductOut.model_validate(self._post("/products", body, key=key))

    def update_product(self, pid: int, body: Body, *, key: str | None = None) -> ProductOut:
        return ProductOut.model_validate(self._patch(f"/products/{pid}", body, key=key))

    def import_products(self, filename: str, content_base64: str, dry_run: bool = True
                        ) -> sc.ImportReportOut:
        return sc.ImportReportOut.model_validate(self._post("/products/import", {
            "filename": filename, "content_base64": content_base64, "dry_run": dry_run}))

    def export_products(self, fmt: str = "csv") -> sc.FileOut:
        return sc.FileOut.model_validate(self._get("/products/export", {"format": fmt}))

    def stock_ledger(self, pid: int, page: int = 1, page_size: int = 50
                     ) -> Page[sc.StockLedgerOut]:
        return Page[sc.StockLedgerOut].model_validate(self._get(
            f"/stock/ledger/{pid}", {"page": page, "page_size": page_size}))

    def adjust_stock(self, body: Body, *, key: str | None = None) -> sc.StockLedgerOut:
        return sc.StockLedgerOut.model_validate(self._post("/stock/adjustments", body, key=key))

    def receive_purchase(self, body: Body, *, key: str | None = None) -> sc.PurchaseOut:
        return sc.PurchaseOut.model_validate(self._post("/stock/purchases", body, key=key))

    def stock_count(self, body: Body, *, key: str | None = None) -> sc.StockCountOut:
        return sc.StockCountOut.model_validate(self._post("/stock/counts", body, key=key))

    def list_members(self, page: int = 1, page_size: int = 50, q: str | None = None, *,
                     level_id: int | None = None, include_inactive: bool = False
                     ) -> Page[sm.MemberOut]:
        return Page[sm.MemberOut].model_validate(self._get("/members", {
            "page": page, "page_size": page_size, "q": q or None, "level_id": level_id,
            "include_inactive": include_inactive or None}))

    def get_member(self, mid: int) -> sm.MemberOut:
        return sm.MemberOut.model_validate(self._get(f"/members/{mid}"))

    def create_member(self, body: Body, *, key: str | None = None) -> sm.MemberOut:
        return sm.MemberOut.model_validate(self._post("/members", body, key=key))

    def update_member(self, mid: int, body: Body, *, key: str | None = None) -> sm.MemberOut:
        return sm.MemberOut.model_validate(self._patch(f"/members/{mid}", body, key=key))

    def anonymise_member(self, mid: int, reason: str | None = None, *, key: str | None = None
                         ) -> sm.MemberOut:
        """注销会员 (owner): the member's personal data removed, balances and history kept."""
        return sm.MemberOut.model_validate(self._post(f"/members/{mid}/anonymise",
                                                      {"reason": reason}, key=key))

    def member_ledger(self, mid: int, book: str, page: int = 1, page_size: int = 50
                      ) -> Page[sm.LedgerEntryOut]:
        return Page[sm.LedgerEntryOut].model_validate(self._get(
            f"/members/{mid}/ledger", {"book": book, "page": page, "page_size": page_size}))

    def adjust_stored_value(self, mid: int, body: Body, *, key: str | None = None
                            ) -> sm.StoredValueResultOut:
        return sm.StoredValueResultOut.model_validate(
            self._post(f"/members/{mid}/stored-value/adjustments", body, key=key))

    def adjust_points(self, mid: int, body: Body, *, key: str | None = None
                      ) -> sm.PointsResultOut:
        return sm.PointsResultOut.model_validate(
            self._post(f"/members/{mid}/points", body, key=key))

    def membership_settings(self) -> sm.MembershipSettings:
        return sm.MembershipSettings.model_validate(self._get("/members/settings"))

    def update_membership_settings(self, body: Body, *, key: str | None = None
                                   ) -> sm.MembershipSettings:
        return sm.MembershipSettings.model_validate(
            self.request("PUT", "/members/settings", body=body, key=key))

    def import_members(self, filename: str, content_base64: str, dry_run: bool = True
                       ) -> sm.MemberImportReportOut:
        return sm.MemberImportReportOut.model_validate(self._post("/members/import", {
            "filename": filename, "content_base64": content_base64, "dry_run": dry_run}))

    def export_members(self, fmt: str = "csv", **care_list: Any) -> sc.FileOut:
        """Every member, or (``kind`` and its parameters, as :meth:`member_list`) only that
        list's members, with their full phones (owner only; audited)."""
        return sc.FileOut.model_validate(self._get("/members/export", {
            "format": fmt, **_list_query(care_list)}))

    def list_levels(self, include_inactive: bool = False) -> list[sm.LevelOut]:
        return [sm.LevelOut.model_validate(x) for x in self._get(
            "/levels", {"include_inactive": include_inactive or None})]

    def create_level(self, body: Body, *, key: str | None = None) -> sm.LevelOut:
        return sm.LevelOut.model_validate(self._post("/levels", body, key=key))

    def update_level(self, lid: int, body: Body, *, key: str | None = None) -> sm.LevelOut:
        return sm.LevelOut.model_validate(self._patch(f"/levels/{lid}", body, key=key))

    def level_prices(self, lid: int) -> list[sm.LevelPriceOut]:
        return [sm.LevelPriceOut.model_validate(x) for x in self._get(f"/levels/{lid}/prices")]

    def put_level_prices(self, lid: int, body: Body, *, key: str | None = None
                         ) -> list[sm.LevelPriceOut]:
        return [sm.LevelPriceOut.model_validate(x) for x in self.request(
            "PUT", f"/levels/{lid}/prices", body=body, key=key)]

    def list_recharge_rules(self, include_inactive: bool = False) -> list[sm.RechargeRuleOut]:
        return [sm.RechargeRuleOut.model_validate(x) for x in self._get(
            "/recharge-rules", {"include_inactive": include_inactive or None})]

    def create_recharge_rule(self, body: Body, *, key: str | None = None
                             ) -> sm.RechargeRuleOut:
        return sm.RechargeRuleOut.model_validate(self._post("/recharge-rules", body, key=key))

    def update_recharge_rule(self, rid: int, body: Body, *, key: str | None = None
                             ) -> sm.RechargeRuleOut:
        return sm.RechargeRuleOut.model_validate(
            self._patch(f"/recharge-rules/{rid}", body, key=key))

    def list_count_card_templates(self, include_inactive: bool = False
                                  ) -> list[sm.CountCardTemplateOut]:
        return [sm.CountCardTemplateOut.model_validate(x) for x in self._get(
            "/count-card-templates", {"include_inactive": include_inactive or None})]

    def create_count_card_template(self, body: Body, *, key: str | None = None
                                   ) -> sm.CountCardTemplateOut:
        return sm.CountCardTemplateOut.model_validate(
            self._post("/count-card-templates", body, key=key))

    def update_count_card_template(self, tid: int, body: Body, *, key: str | None = None
                                   ) -> sm.CountCardTemplateOut:
        return sm.CountCardTemplateOut.model_validate(
            self._patch(f"/count-card-templates/{tid}", body, key=key))

    def list_coupon_templates(self, include_inactive: bool = False
                              ) -> list[sm.CouponTemplateOut]:
        return [sm.CouponTemplateOut.model_validate(x) for x in self._get(
            "/coupon-templates", {"include_inactive": include_inactive or None})]

    def create_coupon_template(self, body: Body, *, key: str | None = None
                               ) -> sm.CouponTemplateOut:
        return sm.CouponTemplateOut.model_validate(
            self._post("/coupon-templates", body, key=key))

    def update_coupon_template(self, tid: int, body: Body, *, key: str | None = None
                               ) -> sm.CouponTemplateOut:
        return sm.CouponTemplateOut.model_validate(
            self._patch(f"/coupon-templates/{tid}", body, key=key))

    def list_coupons(self, page: int = 1, page_size: int = 50, *, member_id: int | None = None,
                     status: str | None = None, code: str | None = None
                     ) -> Page[sm.CouponOut]:
        return Page[sm.CouponOut].model_validate(self._get("/coupons", {
            "page": page, "page_size": page_size, "member_id": member_id,
            "status": status or None, "code": code or None}))

    def issue_coupons(self, body: Body, *, key: str | None = None,
                      read_timeout: float | None = None) -> sm.CouponIssueOut:
        """``POST /coupons``: to a member, a level or a list (``members``, with its
        ``batch_id`` as ``key``); a big list may take longer than the usual read time-out
        (``read_timeout``)."""
        timeout = (self.connect_timeout, read_timeout) if read_timeout else None
        return sm.CouponIssueOut.model_validate(self.request("POST", "/coupons", body=body,
                                                             key=key, timeout=timeout))

    def void_coupon(self, cid: int, reason: str, *, key: str | None = None) -> sm.CouponOut:
        return sm.CouponOut.model_validate(
            self._post(f"/coupons/{cid}/void", {"reason": reason}, key=key))

    def shop_settings(self) -> ShopSettingsOut:
        return ShopSettingsOut.model_validate(self._get("/settings/shop"))

    def update_shop_settings(self, body: Body, *, key: str | None = None) -> ShopSettingsOut:
        return ShopSettingsOut.model_validate(
            self.request("PUT", "/settings/shop", body=body, key=key))

    def sales_report(self, date_from: dt.date, date_to: dt.date, group: str = "day",
                     top: int | None = None) -> Any:
        """``GET /reports/sales`` → ``common.schemas.reports.SalesReportOut``."""
        from common.schemas.reports import SalesReportOut  # reports are a later addition

        return SalesReportOut.model_validate(self._get("/reports/sales", {
            "date_from": date_from.isoformat(), "date_to": date_to.isoformat(),
            "group": group, "top": top}))

    @staticmethod
    def _period(date_from: dt.date, date_to: dt.date, **extra: Any) -> dict[str, Any]:
        return {"date_from": date_from.isoformat(), "date_to": date_to.isoformat(), **extra}

    def members_report(self, date_from: dt.date, date_to: dt.date, top: int = 20
                       ) -> sr.MemberReportOut:
        """``GET /reports/members`` → ``common.schemas.reports.MemberReportOut``."""
        return sr.MemberReportOut.model_validate(self._get(
            "/reports/members", self._period(date_from, date_to, top=top)))

    def count_card_report(self, date_from: dt.date, date_to: dt.date
                          ) -> sr.CountCardReportOut:
        """``GET /reports/count-cards`` → ``common.schemas.reports.CountCardReportOut``."""
        return sr.CountCardReportOut.model_validate(self._get(
            "/reports/count-cards", self._period(date_from, date_to)))

    def stock_report(self, date_from: dt.date, date_to: dt.date) -> sr.StockReportOut:
        """``GET /reports/stock`` → ``common.schemas.reports.StockReportOut``."""
        return sr.StockReportOut.model_validate(self._get(
            "/reports/stock", self._period(date_from, date_to)))

    def exceptions_report(self, date_from: dt.date, date_to: dt.date, limit: int = 200
                          ) -> sr.ExceptionsReportOut:
        """``GET /reports/exceptions`` → ``common.schemas.reports.ExceptionsReportOut``."""
        return sr.ExceptionsReportOut.model_validate(self._get(
            "/reports/exceptions", self._period(date_from, date_to, limit=limit)))

    def member_list(self, kind: str, *, page: int = 1, page_size: int = 50,
                    **params: Any) -> Page[sr.MemberListRowOut]:
        """``GET /reports/member-list`` (``kind`` new | dormant | birthdays; ``date_from`` /
        ``date_to`` as dates, ``days``, ``scope``) → ``Page[MemberListRowOut]``."""
        return Page[sr.MemberListRowOut].model_validate(self._get("/reports/member-list", {
            "kind": kind, "page": page, "page_size": page_size, **_list_query(params)}))

    def member_list_count(self, kind: str, **params: Any) -> sr.MemberListCountOut:
        """``GET /reports/member-list/count``: how many members the list holds now."""
        return sr.MemberListCountOut.model_validate(self._get(
            "/reports/member-list/count", {"kind": kind, **_list_query(params)}))

    # --- end of back office ------------------------------------------------------------------

    # --- checkout (counter: sales, refunds, approvals, held orders, shifts, cards) ----------
    # Typed one-liners for client/counter/ (controller, payment, refund, shift …). A sale's
    # own UUID is its Idempotency-Key (``key=str(sale_id)``), so a retry never makes a second
    # sale. Member reads/creates, recharge rules, coupons and shop settings are shared with
    # the back-office section above.

    def quote_cart(self, cart: Body) -> ss.QuoteOut:
        """Price a cart on the server (authoritative; writes nothing, no key needed); one
        try within ``SCAN_TIMEOUT``."""
        return ss.QuoteOut.model_validate(self.request("POST", "/sales/quote", body=cart,
                                                       timeout=SCAN_TIMEOUT, attempts=1))

    def create_sale(self, sale: Body, *, key: str) -> ss.SaleOut:
        """``POST /sales``; a lost answer is resent with the same key (``SUBMIT_TIMEOUT``)."""
        return ss.SaleOut.model_validate(self.request("POST", "/sales", body=sale, key=key,
                                                      timeout=SUBMIT_TIMEOUT,
                                                      attempts=SUBMIT_ATTEMPTS))

    def catalog_snapshot(self, since: int | None = None) -> sc.CatalogSnapshotOut:
        """``GET /catalog/snapshot``: the sellable catalogue for the counter's local copy —
        everything (``full``) or what changed after version ``since``."""
        return sc.CatalogSnapshotOut.model_validate(self.request(
            "GET", "/catalog/snapshot", params={"since": since}, timeout=SNAPSHOT_TIMEOUT))

    def list_sales(self, page: int = 1, page_size: int = 50, *, q: str | None = None,
                   date_from: dt.date | None = None, date_to: dt.date | None = None,
                   member_id: int | None = None, counter: str | None = None,
                   total_min: int | None = None, total_max: int | None = None,
                   origin: str | None = None) -> Page[ss.SaleSummaryOut]:
        """Sales newest first (the refund list): by shop day, member, counter, total (fen);
        ``origin="offline"``: only the sales made offline."""
        return Page[ss.SaleSummaryOut].model_validate(self._get("/sales", {
            "page": page, "page_size": page_size, "q": q or None,
            "date_from": date_from.isoformat() if date_from else None,
            "date_to": date_to.isoformat() if date_to else None,
            "member_id": member_id, "counter": counter or None,
            "total_min": total_min, "total_max": total_max, "origin": origin or None}))

    def offline_differences(self, page: int = 1, page_size: int = 50, *,
                            date_from: dt.date | None = None, date_to: dt.date | None = None,
                            counter: str | None = None) -> Page[ss.OfflineDifferenceOut]:
        """What replayed offline sales did otherwise than the server would charge, newest
        first (managers); by the sales' shop day."""
        return Page[ss.OfflineDifferenceOut].model_validate(self._get(
            "/sales/offline-differences", {
                "page": page, "page_size": page_size,
                "date_from": date_from.isoformat() if date_from else None,
                "date_to": date_to.isoformat() if date_to else None,
                "counter": counter or None}))

    def get_sale(self, ref: str) -> ss.SaleOut:
        """By UUID or by sale number (the receipt barcode)."""
        return ss.SaleOut.model_validate(self._get(f"/sales/{quote(ref.strip(), safe='')}"))

    def refund_sale(self, ref: str, body: Body, *, key: str) -> ss.RefundOut:
        return ss.RefundOut.model_validate(
            self._post(f"/sales/{quote(ref.strip(), safe='')}/refunds", body, key=key))

    def grant_approval(self, username: str, password: str, purpose: str) -> ss.ApprovalOut:
        """A manager's password typed at the counter → a one-use approval token."""
        return ss.ApprovalOut.model_validate(self.request(
            "POST", "/approvals", idempotent=False,
            body={"username": username, "password": password, "purpose": purpose}))

    def list_held_orders(self, page: int = 1, page_size: int = 50) -> Page[ss.HeldOrderOut]:
        return Page[ss.HeldOrderOut].model_validate(
            self._get("/held-orders", {"page": page, "page_size": page_size}))

    def hold_order(self, cart: Body, label: str | None = None, *, key: str | None = None
                   ) -> ss.HeldOrderOut:
        return ss.HeldOrderOut.model_validate(
            self._post("/held-orders", {"label": label or None, "cart": _dump(cart)}, key=key))

    def resume_held_order(self, held_id: int, *, key: str | None = None) -> ss.HeldOrderOut:
        return ss.HeldOrderOut.model_validate(
            self._post(f"/held-orders/{held_id}/resume", key=key))

    def delete_held_order(self, held_id: int, *, key: str | None = None) -> None:
        self._delete(f"/held-orders/{held_id}", key=key)

    def open_shift(self, float_amount: int, *, key: str | None = None) -> ss.ShiftReportOut:
        return ss.ShiftReportOut.model_validate(
            self._post("/shifts", {"float_amount": float_amount}, key=key))

    def current_shift(self) -> ss.ShiftReportOut:
        """The open shift of this counter (404 ``no_open_shift`` if none)."""
        return ss.ShiftReportOut.model_validate(self._get("/shifts/current"))

    def close_shift(self, shift_id: int, denominations: Mapping[int, int],
                    note: str | None = None, *, key: str | None = None) -> ss.ShiftReportOut:
        return ss.ShiftReportOut.model_validate(self._post(
            f"/shifts/{shift_id}/close",
            {"denominations": {str(k): v for k, v in denominations.items()}, "note": note},
            key=key))

    def day_close(self, date: str | None = None) -> ss.DayCloseOut:
        return ss.DayCloseOut.model_validate(self._get("/shifts/day-close", {"date": date}))

    def my_sales(self, date_from: dt.date, date_to: dt.date) -> ss.MySalesOut:
        """我的业绩: the logged-in staff member's commission and served lines, business days
        ``date_from``..``date_to`` (``GET /commissions/mine``)."""
        return ss.MySalesOut.model_validate(self._get("/commissions/mine", {
            "date_from": date_from.isoformat(), "date_to": date_to.isoformat()}))

    def member_count_cards(self, member_id: int, usable_only: bool = True,
                           page_size: int = 100) -> Page[sm.CountCardOut]:
        return Page[sm.CountCardOut].model_validate(self._get("/count-cards", {
            "member_id": member_id, "usable_only": usable_only, "page_size": page_size}))

    def serving_staff(self) -> list[ServingStaffOut]:
        """Active staff to name as a line's serving staff (技师 / 导购); any role may ask."""
        return [ServingStaffOut.model_validate(x) for x in self._get("/staff/serving")]

    def sell_count_card(self, body: Body, *, key: str) -> sm.CountCardOut:
        """``POST /count-cards`` (``CountCardSellIn``): a count card sold outside a sale."""
        return sm.CountCardOut.model_validate(self._post("/count-cards", body, key=key))

    def recharge(self, member_id: int, amount: int, method: str,
                 reference: str | None = None, *, key: str | None = None
                 ) -> sm.StoredValueResultOut:
        return sm.StoredValueResultOut.model_validate(self._post(
            f"/members/{member_id}/recharges",
            {"amount": amount, "method": method, "reference": reference or None}, key=key))

    def lookup_card(self, card_no: str) -> sm.CardLookupOut:
        return sm.CardLookupOut.model_validate(self._get("/cards", {"card_no": card_no}))

    def report_card_lost(self, card_id: int, note: str | None = None, *,
                         key: str | None = None) -> sm.CardOut:
        return sm.CardOut.model_validate(
            self._post(f"/cards/{card_id}/lost", {"note": note}, key=key))

    def reissue_card(self, card_id: int, new_card_no: str, *, key: str | None = None
                     ) -> sm.CardOut:
        return sm.CardOut.model_validate(
            self._post(f"/cards/{card_id}/reissue", {"card_no": new_card_no}, key=key))

    def freeze_card(self, card_id: int, note: str | None = None, *, key: str | None = None
                    ) -> sm.CardOut:
        return sm.CardOut.model_validate(
            self._post(f"/cards/{card_id}/freeze", {"note": note}, key=key))

    def unfreeze_card(self, card_id: int, note: str | None = None, *, key: str | None = None
                      ) -> sm.CardOut:
        return sm.CardOut.model_validate(
            self._post(f"/cards/{card_id}/unfreeze", {"note": note}, key=key))

    def audit_drawer_open(self, reason: str | None = None, *, key: str | None = None
                          ) -> AuditEntryOut:
        """Record a manual cash-drawer opening (manager/owner) before the drawer is kicked."""
        return AuditEntryOut.model_validate(
            self._post("/audit/drawer", {"reason": reason or None}, key=key))

    # --- attendance (考勤) ---------------------------------------------------------------------

    def clock(self, username: str, secret: str, action: str, *, key: str | None = None
              ) -> sa.ClockOut:
        """A clock action (in / break_start / break_end / out) of ``username`` with their own
        password or PIN, at this counter. Retried with the same key: done once."""
        return sa.ClockOut.model_validate(self._post("/attendance/clock", {
            "username": username, "secret": secret, "action": action}, key=key))

    def clock_staff(self) -> list[sa.ClockStaffOut]:
        """Active staff for the 考勤打卡 dialog, with who is clocked in now."""
        return [sa.ClockStaffOut.model_validate(x) for x in self._get("/attendance/staff")]

    def set_my_pin(self, password: str, pin: str, *, key: str | None = None) -> StaffOut:
        return StaffOut.model_validate(self.request(
            "PUT", "/attendance/my-pin", body={"password": password, "pin": pin}, key=key))

    def attendance_summary(self, month: str) -> sa.SummaryOut:
        return sa.SummaryOut.model_validate(self._get("/attendance/summary", {"month": month}))

    def attendance_days(self, month: str, staff_id: int) -> sa.DaysOut:
        return sa.DaysOut.model_validate(self._get("/attendance/days", {
            "month": month, "staff_id": staff_id}))

    def attendance_plans(self, month: str, staff_id: int | None = None) -> list[sa.PlanOut]:
        return [sa.PlanOut.model_validate(p) for p in self._get("/attendance/plans", {
            "month": month, "staff_id": staff_id})]

    def set_attendance_plans(self, body: Body, *, key: str | None = None) -> list[sa.PlanOut]:
        return [sa.PlanOut.model_validate(p)
                for p in self._post("/attendance/plans", body, key=key)]

    def update_attendance_plan(self, plan_id: int, body: Body, *, key: str | None = None
                               ) -> sa.PlanOut:
        return sa.PlanOut.model_validate(self._patch(f"/attendance/plans/{plan_id}", body,
                                                     key=key))

    def delete_attendance_plan(self, plan_id: int, *, key: str | None = None) -> None:
        self._delete(f"/attendance/plans/{plan_id}", key=key)

    def attendance_corrections(self, month: str, staff_id: int | None = None
                               ) -> list[sa.CorrectionOut]:
        return [sa.CorrectionOut.model_validate(c) for c in self._get(
            "/attendance/corrections", {"month": month, "staff_id": staff_id})]

    def correct_attendance(self, body: Body, *, key: str | None = None) -> sa.CorrectionOut:
        return sa.CorrectionOut.model_validate(self._post("/attendance/corrections", body,
                                                          key=key))

    # --- appointments (预约) ----------------------------------------------------------------

    def appointment_day(self, day: dt.date | None = None) -> sp.DayOut:
        """The counter's 预约 day view: staff columns with their hours, classes, bookings."""
        return sp.DayOut.model_validate(self._get("/appointments/day", {
            "date": day.isoformat() if day else None}))

    def appointments(self, day: dt.date | None = None, *, status: str | None = None,
                     page: int = 1, page_size: int = 50) -> Page[sp.AppointmentOut]:
        """A day's bookings (the lists to call), the phone masked for a cashier."""
        return Page[sp.AppointmentOut].model_validate(self._get("/appointments", {
            "date": day.isoformat() if day else None, "status": status, "page": page,
            "page_size": page_size}))

    def book(self, body: Body, *, key: str | None = None) -> sp.AppointmentOut:
        return sp.AppointmentOut.model_validate(self._post("/appointments", body, key=key))

    def move_appointment(self, aid: int, body: Body, *, key: str | None = None
                         ) -> sp.AppointmentOut:
        return sp.AppointmentOut.model_validate(self._post(f"/appointments/{aid}/move", body,
                                                           key=key))

    def cancel_appointment(self, aid: int, reason: str, *, key: str | None = None
                           ) -> sp.AppointmentOut:
        return sp.AppointmentOut.model_validate(self._post(
            f"/appointments/{aid}/cancel", {"reason": reason}, key=key))

    def check_in_appointment(self, aid: int, *, key: str | None = None) -> sp.CheckInOut:
        return sp.CheckInOut.model_validate(self._post(f"/appointments/{aid}/check-in",
                                                       key=key))

    def no_show_appointment(self, aid: int, *, key: str | None = None) -> sp.AppointmentOut:
        return sp.AppointmentOut.model_validate(self._post(f"/appointments/{aid}/no-show",
                                                           key=key))
    # --- activities (活动) and promotions (促销) ------------------------------------------------

    def list_activities(self, page: int = 1, page_size: int = 50, *, q: str | None = None,
                        upcoming: bool = False, include_cancelled: bool = True
                        ) -> Page[sact.ActivityOut]:
        return Page[sact.ActivityOut].model_validate(self._get("/activities", {
            "page": page, "page_size": page_size, "q": q or None, "upcoming": upcoming,
            "include_cancelled": include_cancelled}))

    def get_activity(self, activity_id: int) -> sact.ActivityOut:
        return sact.ActivityOut.model_validate(self._get(f"/activities/{activity_id}"))

    def create_activity(self, body: Body, *, key: str | None = None) -> sact.ActivityOut:
        return sact.ActivityOut.model_validate(self._post("/activities", body, key=key))

    def update_activity(self, activity_id: int, body: Body, *, key: str | None = None
                        ) -> sact.ActivityOut:
        return sact.ActivityOut.model_validate(self._patch(f"/activities/{activity_id}", body,
                                                           key=key))

    def activity_signups(self, activity_id: int, page: int = 1, page_size: int = 50, *,
                         status: str | None = None) -> Page[sact.SignupOut]:
        return Page[sact.SignupOut].model_validate(self._get(
            f"/activities/{activity_id}/signups",
            {"page": page, "page_size": page_size, "status": status}))

    def sign_up(self, activity_id: int, member_id: int, *, key: str | None = None
                ) -> sact.SignupOut:
        """A member signs up for a FREE activity (a priced one is sold in the cart)."""
        return sact.SignupOut.model_validate(self._post(
            f"/activities/{activity_id}/signups", {"member_id": member_id}, key=key))

    def check_in_signup(self, activity_id: int, signup_id: int, *, key: str | None = None
                        ) -> sact.SignupOut:
        return sact.SignupOut.model_validate(self._post(
            f"/activities/{activity_id}/signups/{signup_id}/check-in", key=key))

    def cancel_signup(self, activity_id: int, signup_id: int, reason: str, *,
                      key: str | None = None) -> sact.SignupOut:
        return sact.SignupOut.model_validate(self._post(
            f"/activities/{activity_id}/signups/{signup_id}/cancel", {"reason": reason},
            key=key))

    def member_signups(self, member_id: int) -> list[sact.SignupOut]:
        return [sact.SignupOut.model_validate(x)
                for x in self._get(f"/members/{member_id}/activity-signups")]

    def activity_stats(self, date_from: dt.date, date_to: dt.date
                       ) -> sact.ActivityStatsListOut:
        return sact.ActivityStatsListOut.model_validate(self._get("/reports/activities", {
            "date_from": date_from.isoformat(), "date_to": date_to.isoformat()}))

    def list_promotions(self, page: int = 1, page_size: int = 50, *,
                        state: str | None = None) -> Page[sact.PromotionOut]:
        return Page[sact.PromotionOut].model_validate(self._get("/promotions", {
            "page": page, "page_size": page_size, "state": state}))

    def create_promotion(self, body: Body, *, key: str | None = None) -> sact.PromotionOut:
        return sact.PromotionOut.model_validate(self._post("/promotions", body, key=key))

    def update_promotion(self, promotion_id: int, body: Body, *, key: str | None = None
                         ) -> sact.PromotionOut:
        return sact.PromotionOut.model_validate(self._patch(f"/promotions/{promotion_id}",
                                                            body, key=key))

    # --- end of checkout ---------------------------------------------------------------------


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


def _replication_of(health: HealthOut) -> ReplicationHealth | None:
    rep = getattr(health, "replication", None)
    return rep if isinstance(rep, ReplicationHealth) else None


def _health_of(data: Any) -> tuple[HealthOut, ReplicationHealth | None]:
    """A health answer → (HealthOut, its replication part). Reads ``replication`` also when
    this version's HealthOut has no such field (a newer server)."""
    if not isinstance(data, dict):
        raise network_error(CODE_BAD_RESPONSE, http_status=200)
    raw = data.get("replication")
    if "replication" not in HealthOut.model_fields:
        data = {k: v for k, v in data.items() if k != "replication"}
    out = HealthOut.model_validate(data)
    rep = _replication_of(out)
    if rep is None and isinstance(raw, dict):
        try:
            rep = ReplicationHealth.model_validate(raw)
        except ValidationError:
            log.warning("unreadable replication part of /health: %r", raw)
    return out, rep


def _decode(resp: requests.Response) -> Any:
    if resp.status_code == 204 or not resp.content:
        return None
    try:
        return resp.json()
    except ValueError as e:
        raise network_error(CODE_BAD_RESPONSE, http_status=resp.status_code) from e


def _list_query(params: Mapping[str, Any]) -> dict[str, Any]:
    """A member list's parameters as a query (dates as ISO days)."""
    return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in params.items()}
