"""Test fixtures (flaskr style): a real throwaway MariaDB for the session, a clean database
for every test, the Flask app and test client, auth helpers and a real waitress server.

Nothing is skipped: if MariaDB is not installed the session fixture fails loudly (the
installer, ``installer/setup.sh test``, installs it).
"""

from __future__ import annotations

import contextlib
import os
import random
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from sqlalchemy import Engine, text

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from common.schemas.base import Role
from server.app import create_app
from server.config import Config
from server.ops.mariadb import pick_free_port
from server.runtime import Runtime

TEST_PASSWORD = "secret123"
OUTPUT_DIR = Path(__file__).resolve().parent.parent / "test-output"


def make_test_config(data_dir: Path, db_port: int | None = None) -> Config:
    cfg = Config.load(data_dir)
    # a random start: two test runs on one machine (CI and a developer) don't race for a port
    cfg.database.managed_port = db_port or pick_free_port(random.randrange(33000, 39000, 10))
    cfg.server.threads = 8
    # cheap Argon2 in tests only; production uses the documented defaults
    cfg.security.argon2_time_cost = 1
    cfg.security.argon2_memory_kib = 1024
    return cfg


@pytest.fixture(scope="session")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    """A managed MariaDB started by the real lanpos code, schema migrated."""
    cfg = make_test_config(tmp_path_factory.mktemp("lanpos-data"))
    rt = Runtime(cfg)
    try:
        rt.up()
        yield rt
    finally:
        rt.stop_database()


@pytest.fixture(scope="session")
def engine(runtime: Runtime) -> Engine:
    return runtime.connect()


def _data_tables(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return [r[0] for r in conn.execute(text(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() "
            "AND table_type = 'BASE TABLE' AND table_name <> 'alembic_version'"))]


@pytest.fixture
def clean_db(engine: Engine) -> Engine:
    """Every test starts with empty tables (schema kept)."""
    tables = _data_tables(engine)
    with engine.begin() as conn:
        conn.execute(text("SET FOREIGN_KEY_CHECKS = 0"))
        for t in tables:
            conn.execute(text(f"DELETE FROM `{t}`"))
        conn.execute(text("SET FOREIGN_KEY_CHECKS = 1"))
    return engine


@pytest.fixture
def app(runtime: Runtime, clean_db: Engine):
    app = create_app(runtime.config, runtime.connect())
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def db_session(app):
    """A session for arranging and checking data directly (commit yourself)."""
    factory = app.extensions["lanpos"].session_factory
    with factory() as session:
        yield session


@dataclass
class StaffLogin:
    id: int
    username: str
    role: Role
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def write_headers(self, key: str | None = None) -> dict[str, str]:
        return {**self.headers, "Idempotency-Key": key or str(uuid.uuid4())}


def open_shift(client, login: StaffLogin, float_fen: int = 0) -> dict:
    """Open the shift of ``login``'s counter (the counter it logged in at) with a cash float
    of ``float_fen``: a sale, recharge or count-card sale needs one (409 ``shift_not_open``).
    A counter's shift that is open already is answered as it is. ``client``: the Flask test
    client (``client`` fixture). Returns the shift report (JSON)."""
    r = client.post("/api/v1/shifts", json={"float_amount": float_fen},
                    headers=login.write_headers())
    if r.status_code == 409 and r.get_json()["error"]["code"] == "shift_already_open":
        r = client.get("/api/v1/shifts/current", headers=login.headers)
    assert r.status_code in (200, 201), r.get_json()
    return r.get_json()


@pytest.fixture
def make_staff(app) -> Callable[..., StaffLogin]:
    """Create a staff account directly and log it in through the API."""
    from server.domain import staff as staff_domain

    state = app.extensions["lanpos"]
    client = app.test_client()
    counter = iter(range(1, 1000))

    def _make(role: Role | str = Role.CASHIER, username: str | None = None,
              password: str = TEST_PASSWORD, counter_name: str = "01") -> StaffLogin:
        role = Role(role)
        username = username or f"{role.value}{next(counter)}"
        with state.session_factory() as session:
            staff = staff_domain.create_initial(session, state.passwords, username, password,
                                                role, f"测试{role.label_zh}")
            session.commit()
            staff_id = staff.id
        r = client.post("/api/v1/auth/login",
                        json={"username": username, "password": password,
                              "counter": counter_name})
        assert r.status_code == 200, r.get_json()
        return StaffLogin(staff_id, username, role, r.get_json()["token"])

    return _make


@pytest.fixture
def owner(make_staff) -> StaffLogin:
    return make_staff(Role.OWNER, "boss")


@pytest.fixture
def manager(make_staff) -> StaffLogin:
    return make_staff(Role.MANAGER, "mgr")


@pytest.fixture
def cashier(make_staff) -> StaffLogin:
    return make_staff(Role.CASHIER, "cash")


class LiveServer:
    """The app served by a real waitress server on 127.0.0.1 in a thread."""

    def __init__(self, app, threads: int = 8) -> None:
        from waitress import create_server

        # as the API workers are (server/ops/worker.py): the TLS front says who the client is
        self.server = create_server(app, host="127.0.0.1", port=0, threads=threads,
                                    ident="lanpos-test", trusted_proxy="127.0.0.1",
                                    trusted_proxy_count=1,
                                    trusted_proxy_headers={"x-forwarded-for",
                                                           "x-forwarded-proto"},
                                    clear_untrusted_proxy_headers=True)
        self.port = int(self.server.effective_port)
        self.url = f"http://127.0.0.1:{self.port}/api/v1"
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.flask_client = app.test_client()  # same app and database, without the network
        self._stopping = False

    def _run(self) -> None:
        try:
            self.server.run()
        except OSError:
            # close() from the test thread races the loop thread's poll() (EBADF)
            if not self._stopping:
                raise

    def start(self) -> LiveServer:
        self.thread.start()
        r = requests.get(self.url + "/health", timeout=10)
        assert r.status_code == 200
        return self

    def stop(self) -> None:
        self._stopping = True
        self.server.close()
        self.thread.join(timeout=10)
        for channel in list(self.server._map.values()):  # open keep-alive connections
            with contextlib.suppress(OSError):
                channel.close()
        self.server.task_dispatcher.shutdown(timeout=5)  # its threads would outlive the test


@pytest.fixture
def live_server(app) -> Iterator[LiveServer]:
    srv = LiveServer(app, threads=24).start()
    try:
        yield srv
    finally:
        srv.stop()


@dataclass
class TlsFrontServer:
    """``live_server`` behind the real TLS front (nginx), as a counter on the LAN sees it."""

    url: str  # https base URL
    ca_pem: str  # the server's CA (what a counter pins)
    fingerprint: str


@pytest.fixture
def tls_server(live_server, runtime: Runtime) -> Iterator[TlsFrontServer]:
    from server.ops.tlsfront import TlsFront

    cfg = Config.from_dict(runtime.config.to_dict())
    cfg.server.host, cfg.server.port = "127.0.0.1", live_server.port
    cfg.server.tls_port = pick_free_port(live_server.port + 43)
    front = TlsFront(cfg)
    files = front.prepare()
    front.start()
    try:
        front.wait_listening()
        yield TlsFrontServer(f"https://127.0.0.1:{cfg.server.tls_port}/api/v1", files.ca_pem(),
                             files.fingerprint())
    finally:
        front.stop()


@pytest.fixture(scope="session")
def output_dir() -> Path:
    OUTPUT_DIR.mkdir(exist_ok=True)
    return OUTPUT_DIR


@pytest.fixture
def assert_invariants(app, owner):
    """Call after a scenario: every ``lanpos-server verify`` check must pass."""
    from server.domain.verify import run_all

    factory = app.extensions["lanpos"].session_factory

    def _check() -> None:
        with factory() as session:
            bad = [(r.name, r.problems[:5]) for r in run_all(session) if not r.ok]
        assert not bad, bad

    return _check


def attach_backups(app, rt: Runtime):
    """Rebind the app's backup service (and its in-process job runner) to ``rt`` — the
    session database with a data directory of the test's own (backup folder, settings)."""
    from server.appstate import Services

    state = app.extensions["lanpos"]
    state.services.close()
    state.services = Services.build(rt, state.shared, run_jobs=True)
    return state.services.backups


@pytest.fixture
def backups_here(app, runtime: Runtime, tmp_path: Path):
    """The app's backups in this test's own folder (the session database), no backup yet."""
    import dataclasses

    from server.config import BackupSection

    cfg = dataclasses.replace(runtime.config, data_dir=tmp_path / "backups-here",
                              backup=BackupSection())
    rt = Runtime(cfg, mariadb=runtime.mariadb, engine=runtime.engine)
    rt._factory = runtime.session_factory
    return attach_backups(app, rt)


@pytest.fixture
def verified_backup(backups_here, owner):
    """One backup that passed its test restore (a healthy server has one: /health says "ok"
    only then). The invariants checked by the test restore need an active owner."""
    info = backups_here.backup(reason="test")
    assert backups_here.verify(info.id).ok
    return backups_here.get(info.id)

