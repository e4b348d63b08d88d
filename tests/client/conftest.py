"""Fixtures for the counter client tests: real server (``live_server``), a fault-injecting
TCP proxy in front of it, a standby server, recording dialogs, screenshots; the counter at
the wire (``printer``: a TCP virtual printer, ``ptys``: a scanner and a pole display,
``wedge``: the keyboard-wedge filter, ``open_counter``: a logged-in main window with
devices, ``shift_open``: counter 01's shift is open)."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from client import i18n
from client.api import ApiClient
from client.app import choose_font
from client.devices.facade import DeviceService, DeviceSettings
from client.devices.wedge import WedgeScanFilter
from client.qt import QtCore, QtWidgets
from client.settings import ClientSettings
from client.shell.main_window import MainWindow
from client.tasks import TaskRunner
from client.widgets.context import Services, SessionInfo
from client.widgets.dialogs import Dialogs, error_text
from common.errors import ApiError
from common.schemas.sales import ShiftReportOut
from server.app import create_app
from tests.conftest import TEST_PASSWORD, LiveServer
from tests.support.virtual_printer import VirtualPrinter

WRITES = {"POST", "PUT", "PATCH", "DELETE"}

#: The offscreen platform plugin warns when a dialog's layout propagates size hints; it is
#: noise of the headless plugin (not emitted on xcb/windows), so only this text is ignored.
OFFSCREEN_NOISE = r"^This plugin does not support propagateSizeHints\(\)$"


def pytest_collection_modifyitems(config, items) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.qt_log_ignore(OFFSCREEN_NOISE))


class RecordingDialogs(Dialogs):
    """Dialogs stub: records what would be shown; ``confirm`` answers ``answer``."""

    def __init__(self, answer: bool = True) -> None:
        self.errors: list = []
        self.infos: list[str] = []
        self.confirms: list[str] = []
        self.answer = answer

    def error(self, parent, err) -> None:
        self.errors.append(err)

    def info(self, parent, text: str) -> None:
        self.infos.append(text)

    def confirm(self, parent, text: str) -> bool:
        self.confirms.append(text)
        return self.answer

    @property
    def error_texts(self) -> list[str]:
        return [error_text(e) for e in self.errors]


def _read_message(sock: socket.socket, buf: bytes) -> tuple[bytes | None, bytes]:
    """One HTTP/1.1 message (request or response) from ``sock``; (None, b'') at EOF."""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            return None, b""
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    headers = {}
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        headers[k.strip().lower()] = v.strip()
    if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
        while b"0\r\n\r\n" not in rest:
            chunk = sock.recv(65536)
            if not chunk:
                return None, b""
            rest += chunk
        end = rest.index(b"0\r\n\r\n") + 5
        return head + b"\r\n\r\n" + rest[:end], rest[end:]
    length = int(headers.get(b"content-length", b"0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            return None, b""
        rest += chunk
    return head + b"\r\n\r\n" + rest[:length], rest[length:]


class FaultProxy:
    """An HTTP-aware TCP proxy in front of a live server.

    ``drop_write_responses = n``: the next n write requests are forwarded and answered by the
    server, but the proxy closes the client connection instead of passing the answer on (a
    lost response). ``delay``: seconds to wait before forwarding each request (a slow server).
    ``requests``: (request line, Idempotency-Key) of everything forwarded.
    """

    def __init__(self, upstream_port: int, delay: float = 0.0) -> None:
        self.upstream_port = upstream_port
        self.delay = delay
        self.drop_write_responses = 0
        self.requests: list[tuple[str, str | None]] = []
        self.dropped: list[str] = []
        self._lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(32)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/api/v1"
        self._closed = False
        self._open: set[socket.socket] = set()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        up = socket.create_connection(("127.0.0.1", self.upstream_port))
        with self._lock:
            self._open.update((conn, up))
        cbuf = ubuf = b""
        try:
            while True:
                req, cbuf = _read_message(conn, cbuf)
                if req is None:
                    return
                line = req.split(b"\r\n", 1)[0].decode()
                key = None
                for h in req.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]:
                    if h.lower().startswith(b"idempotency-key:"):
                        key = h.split(b":", 1)[1].strip().decode()
                with self._lock:
                    self.requests.append((line, key))
                if self.delay:
                    time.sleep(self.delay)
                up.sendall(req)
                resp, ubuf = _read_message(up, ubuf)
                if resp is None:
                    return
                with self._lock:
                    drop = self.drop_write_responses > 0 and line.split()[0] in WRITES
                    if drop:
                        self.drop_write_responses -= 1
                        self.dropped.append(line)
                if drop:
                    return  # close without answering
                conn.sendall(resp)
        except OSError:
            return
        finally:
            conn.close()
            up.close()

    def close(self) -> None:
        self._closed = True
        self.sock.close()
        with self._lock:
            for s in self._open:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()


def dead_address() -> str:
    """A server address where nothing listens (connection refused)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}/api/v1"


@pytest.fixture(scope="session", autouse=True)
def cjk_font(qapp: QtWidgets.QApplication) -> str:
    name = choose_font(qapp)
    assert name is not None, "no CJK font installed (fonts-noto-cjk)"
    return name


@pytest.fixture(autouse=True)
def chinese_and_idle_pool() -> Iterator[None]:
    """Chinese UI by default; no background task may outlive its test."""
    i18n.set_language(i18n.ZH)
    yield
    QtCore.QThreadPool.globalInstance().waitForDone(20_000)
    QtWidgets.QApplication.processEvents()
    i18n.set_language(i18n.ZH)


@pytest.fixture
def proxy(live_server) -> Iterator[FaultProxy]:
    p = FaultProxy(live_server.port)
    yield p
    p.close()


def share_cluster(standby_app, primary_app) -> str:
    """What pairing does (``standby init``): the standby adopts the primary's cluster id, before
    it serves (a server reads its id once). Returns the id."""
    cid = primary_app.extensions["lanpos"].cluster_id
    state = standby_app.extensions["lanpos"]
    state.shared.adopt_cluster_id(cid)
    state.__dict__.pop("cluster_id", None)  # not read yet; never a stale cached id
    assert state.cluster_id == cid
    return cid


@pytest.fixture
def standby_server(runtime, tmp_path, app) -> Iterator[LiveServer]:
    """A second API server on the same database in the standby role (writes refused); a data
    directory of its own, so that its role is its own; paired with ``live_server`` (the same
    cluster id)."""
    cfg = dataclasses.replace(runtime.config, data_dir=tmp_path / "standby")
    standby_app = create_app(cfg, runtime.connect())
    standby_app.config["TESTING"] = True
    standby_app.extensions["lanpos"].shared.set_role("standby", by="test")
    share_cluster(standby_app, app)
    srv = LiveServer(standby_app, threads=8).start()
    yield srv
    srv.stop()


@dataclasses.dataclass
class Pair:
    """A primary and a standby API server on the one test database (see ``pair``)."""

    primary: LiveServer
    standby: LiveServer

    def state(self, srv: LiveServer):
        return srv.flask_client.application.extensions["lanpos"]

    def cluster(self, srv: LiveServer):
        return self.state(srv).shared.cluster()

    @property
    def cluster_id(self) -> str:
        """The pair's id (both servers have it, as after pairing)."""
        return self.state(self.primary).cluster_id

    def publish(self, srv: LiveServer, **facts) -> None:
        """What the replication monitor would publish for ``srv`` (none runs in tests)."""
        self.state(srv).shared.put_value("replication", facts)

    def promote_standby(self) -> int:
        """The standby becomes the primary of a new epoch (what a promotion does to its
        shared state); returns the new epoch. The old primary learns it from a counter."""
        c = self.state(self.standby).shared.bump_epoch(by="test", role="primary")
        self.publish(self.standby, state="alone", semi_sync="off", peer=_root(self.primary))
        return c.epoch


def _root(srv: LiveServer) -> str:
    return srv.url.removesuffix("/api/v1")


@pytest.fixture
def pair(runtime, clean_db, tmp_path) -> Iterator[Pair]:
    """Two real waitress servers on the shared test database: the primary (epoch 1) and the
    standby, each with its own data directory (role and epoch of its own), of one cluster (the
    standby has the primary's cluster id, as after pairing), each naming the other as its peer
    (configuration and the monitor's published facts).

    Made safe for a database the two share: the primary is configured as on an *external*
    database, so that when a counter's newer epoch fences it (``stale``) it does not set the
    shared test database read-only under the promoted standby (and every later test). The
    standby's managed-instance directory is the test database's own, so that its
    ``promote/check`` asks a real MariaDB (read-only questions)."""
    from server.config import ReplicationSection

    base = runtime.config
    (tmp_path / "standby").mkdir()
    (tmp_path / "standby" / "mariadb").symlink_to(base.mariadb_dir)
    cfg_p = dataclasses.replace(
        base, data_dir=tmp_path / "primary", replication=ReplicationSection(),
        database=dataclasses.replace(base.database, url="mysql+pymysql://shared-test-db/x"))
    cfg_s = dataclasses.replace(base, data_dir=tmp_path / "standby",
                                replication=ReplicationSection())
    apps = []
    for cfg in (cfg_p, cfg_s):
        app = create_app(cfg, runtime.connect())
        app.config["TESTING"] = True
        apps.append(app)
    apps[1].extensions["lanpos"].shared.set_role("standby", by="test")
    share_cluster(apps[1], apps[0])  # one pair, one cluster id
    primary = LiveServer(apps[0], threads=12).start()
    standby = LiveServer(apps[1], threads=12).start()
    cfg_p.replication.peer, cfg_p.replication.advertise = _root(standby), _root(primary)
    cfg_s.replication.peer, cfg_s.replication.advertise = _root(primary), _root(standby)
    p = Pair(primary, standby)
    p.publish(primary, state="streaming", semi_sync="on", semi_sync_since=None,
              peer=_root(standby), gtid="0-1-100")
    p.publish(standby, state="streaming", lag_seconds=0.0, lag_transactions=0,
              semi_sync="off", peer=_root(primary), io_thread="Yes", sql_thread="Yes",
              gtid="0-1-100")
    try:
        yield p
    finally:
        primary.stop()
        standby.stop()
        mdb = runtime.mariadb
        if mdb is not None and mdb.is_read_only():  # never leave the shared database fenced
            mdb.set_read_only(False)


@pytest.fixture
def dialogs() -> RecordingDialogs:
    return RecordingDialogs()


@pytest.fixture
def runner(qapp) -> Iterator[TaskRunner]:
    r = TaskRunner()
    yield r
    r.wait_idle(20_000)


@pytest.fixture
def make_api() -> Iterator:
    """``make_api(servers, **kw)`` → ApiClient, closed at teardown (an open keep-alive
    connection would keep the test waitress server's loop running)."""
    made: list[ApiClient] = []

    def _make(servers, **kw) -> ApiClient:
        api = ApiClient(servers, **kw)
        made.append(api)
        return api

    yield _make
    QtCore.QThreadPool.globalInstance().waitForDone(20_000)
    for api in made:
        api.close()


@pytest.fixture
def services(live_server, runner, dialogs, make_api) -> Services:
    settings = ClientSettings(servers=(live_server.url,), counter="01")
    api = make_api(settings.servers, counter="01")
    return Services(api=api, runner=runner, dialogs=dialogs, settings=settings)


@pytest.fixture
def screenshots(output_dir: Path) -> Path:
    d = output_dir / "screenshots"
    d.mkdir(parents=True, exist_ok=True)
    return d


def ensure_shift(api: ApiClient, float_fen: int = 0) -> ShiftReportOut:
    """Open the shift of ``api``'s counter (logged in) unless one is open: a sale, recharge
    or count-card sale needs it (409 ``shift_not_open``). With the Flask test client, use
    ``tests.conftest.open_shift``."""
    try:
        return api.open_shift(float_fen)
    except ApiError as e:
        if e.code != "shift_already_open":
            raise
        return api.current_shift()


def save_shot(widget: QtWidgets.QWidget, path: Path) -> Path:
    QtWidgets.QApplication.processEvents()
    pix = widget.grab()
    assert not pix.isNull()
    assert pix.save(str(path))
    assert path.stat().st_size > 1000
    return path


# --- the counter at the wire ------------------------------------------------------------
class FakeClock:
    """Milliseconds that advance ``step`` per key: a wedge scanner's burst."""

    def __init__(self, step: float) -> None:
        self.now, self.step = 50_000.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


@pytest.fixture
def printer() -> Iterator[VirtualPrinter]:
    vp = VirtualPrinter().start()
    yield vp
    vp.stop()


@pytest.fixture
def ptys() -> Iterator[list[tuple[int, str]]]:
    """Two pseudo-terminal pairs: (master fd, slave path) — a scanner and a pole display."""
    pairs = [os.openpty() for _ in range(2)]
    yield [(m, os.ttyname(s)) for m, s in pairs]
    for m, s in pairs:
        os.close(m)
        os.close(s)


def device_settings(printer: VirtualPrinter, **kw) -> DeviceSettings:
    return DeviceSettings(printer_enabled=True, backend="network", host="127.0.0.1",
                          port=printer.port, profile="gbk", width=32, drawer_pin=2, **kw)


@pytest.fixture
def wedge(qapp) -> Iterator[WedgeScanFilter]:
    f = WedgeScanFilter(clock=FakeClock(4))  # 4 ms between keys: a scanner, not a person
    qapp.installEventFilter(f)
    yield f
    qapp.removeEventFilter(f)


@pytest.fixture
def open_counter(qtbot, services, printer, tmp_path, wedge):
    """``open_counter(username, **device_kw)`` → a logged-in MainWindow with devices;
    ``focus=False``: do not wait for the barcode entry's focus (a dialog opens at login)."""
    made: list[MainWindow] = []

    def _open(username: str = "cash", size=(1024, 768), focus: bool = True,
              **device_kw) -> MainWindow:
        res = services.api.login(username, TEST_PASSWORD)
        services.devices = DeviceService(device_settings(printer, **device_kw),
                                         tmp_path / f"spool-{username}")
        win = MainWindow(services, SessionInfo(res.staff, res.counter), scan_source=wedge)
        qtbot.addWidget(win)
        made.append(win)
        win.resize(*size)
        win.show()
        qtbot.wait_exposed(win)
        win.activateWindow()
        if focus:
            win.checkout.entry.setFocus()
            qtbot.wait_until(win.checkout.entry.hasFocus, timeout=5000)
        return win

    yield _open
    for w in made:
        w.counter.shutdown()


@pytest.fixture
def shift_open(services, cashier) -> None:
    """Counter 01's shift is open (a sale needs it; without one the counter asks to open it)."""
    services.api.login("cash", TEST_PASSWORD)
    ensure_shift(services.api)
