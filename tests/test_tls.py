"""Security on the LAN (issue 16, part 1), with real parts: ``lanpos-server run`` with its TLS
front (nginx), and a counter on *another host* — a network namespace joined by a veth pair
(``tests/support/lan_host.py``) — using the counter's own ``ApiClient``.

* a counter that pinned the server's CA connects, and the server sees the counter's own
  address (not the proxy's);
* a counter that pinned another CA is refused before it sends anything; one that pinned
  nothing sends nothing;
* plain HTTP from another host is refused on both ports;
* the fingerprint the counter reads is the one the server prints and ``status`` shows;
* nginx killed: the supervisor starts it again; the supervisor killed: nginx goes with it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pymysql
import pytest
import requests

from bench.env import ServerProcess
from common import tlspin
from server.config import Config
from server.ops.mariadb import pick_free_port
from server.ops.tls import TlsFiles, ensure_certificates
from server.state import SharedState
from tests.support.lan_host import LanHost

ROOT = Path(__file__).resolve().parent.parent
OWNER_PW = "ownerpw1"

#: the counter, on the other host: ApiClient with the given pins logs in and reads /auth/me
COUNTER = """
import json, sys
from client.api import ApiClient
from common.errors import ApiError
url, pins_file = sys.argv[1], sys.argv[2]
pins = json.load(open(pins_file)) if pins_file != "-" else {}
api = ApiClient([url], counter="07", pins=pins, max_attempts=1)
try:
    res = api.login("owner", sys.argv[3])
    me = api.me()
    print(json.dumps({"ok": True, "user": me.staff.username, "counter": me.counter}))
except ApiError as e:
    print(json.dumps({"ok": False, "code": e.code, "message": str(e)}))
"""

#: plain sockets from the other host: what a snooper's tool would get
PLAIN = """
import json, socket, sys
host, port = sys.argv[1], int(sys.argv[2])
try:
    s = socket.create_connection((host, port), timeout=5)
except OSError as e:
    print(json.dumps({"connected": False, "error": type(e).__name__})); sys.exit()
s.sendall(b"GET /api/v1/health HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n")
data = b""
while chunk := s.recv(65536):
    data += chunk
head, _, body = data.partition(b"\\r\\n\\r\\n")
print(json.dumps({"connected": True, "status": head.split(b" ")[1].decode(),
                  "body": body.decode(errors="replace")}))
"""


def _cli(*args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "server.cli", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


@dataclass
class TlsShop:
    server: ServerProcess
    data: Path
    lan: LanHost

    @property
    def lan_url(self) -> str:
        return self.server.https_url(self.lan.host_ip)

    def db(self) -> pymysql.Connection:
        cfg = Config.load(self.data)
        return pymysql.connect(unix_socket=str(cfg.mariadb_dir / "mariadb.sock"), user="root",
                               password=cfg.database.root_password,
                               database=cfg.database.name, autocommit=True)

    def logins_from(self, ip: str) -> int:
        with self.db() as conn, conn.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM auth_tokens WHERE ip = %s", (ip,))
            return int(cur.fetchone()[0])

    def counter(self, pins: dict[str, str] | None, tmp: Path, url: str | None = None) -> dict:
        pins_file = "-"
        if pins is not None:
            pins_file = str(tmp / f"pins-{time.monotonic_ns()}.json")
            Path(pins_file).write_text(json.dumps(pins))
        r = self.lan.python(COUNTER, url or self.lan_url, pins_file, OWNER_PW)
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def lan() -> Iterator[LanHost]:
    host = LanHost.create()
    try:
        yield host
    finally:
        host.destroy()


@pytest.fixture(scope="module")
def tls_shop(tmp_path_factory, lan: LanHost) -> Iterator[TlsShop]:
    data = tmp_path_factory.mktemp("tls") / "shop"
    r = _cli("init", "--data-dir", str(data), "--db-port", str(pick_free_port(34700)),
             "--owner-password", OWNER_PW)
    assert r.returncode == 0, r.stderr
    cfg = Config.load(data)
    cfg.security.argon2_time_cost = 1
    cfg.security.argon2_memory_kib = 1024
    cfg.backup.enabled = False
    cfg.save()
    srv = ServerProcess(data, threads=4, workers=1, host="0.0.0.0").start()
    try:
        yield TlsShop(srv, data, lan)
    finally:
        srv.stop()


def _ca(shop: TlsShop) -> str:
    return TlsFiles(shop.data / "tls").ca_pem()


def test_a_counter_on_another_host_connects_with_the_pinned_certificate(tls_shop, tmp_path):
    before = tls_shop.logins_from(tls_shop.lan.peer_ip)
    out = tls_shop.counter({tls_shop.lan_url: _ca(tls_shop)}, tmp_path)
    assert out == {"ok": True, "user": "owner", "counter": "07"}, out
    # the server saw the counter's own address through the TLS front (audit, throttling)
    assert tls_shop.logins_from(tls_shop.lan.peer_ip) == before + 1
    # an old counter's plain address of that server is read as its https port
    old_style = f"http://{tls_shop.lan.host_ip}:{tls_shop.server.port}"
    if tls_shop.server.tls_port == tls_shop.server.port + 43:
        out = tls_shop.counter({tls_shop.lan_url: _ca(tls_shop)}, tmp_path, url=old_style)
        assert out["ok"] is True, out


def test_another_certificate_or_none_is_refused_before_anything_is_sent(tls_shop, tmp_path):
    impostor = ensure_certificates(tmp_path / "impostor")  # a CA of another "server"
    before = tls_shop.logins_from(tls_shop.lan.peer_ip)
    out = tls_shop.counter({tls_shop.lan_url: impostor.ca_pem()}, tmp_path)
    assert out["ok"] is False and out["code"] == "server_certificate_changed", out
    assert "证书" in out["message"] and "店长" in out["message"]
    out = tls_shop.counter(None, tmp_path)  # nothing pinned: nothing is sent
    assert out["ok"] is False and out["code"] == "server_not_pinned", out
    assert tls_shop.logins_from(tls_shop.lan.peer_ip) == before  # no password went out


def test_plain_http_from_another_host_is_refused(tls_shop):
    lan = tls_shop.lan
    plain = lan.python(PLAIN, lan.host_ip, str(tls_shop.server.port))
    assert json.loads(plain.stdout) == {"connected": False, "error": "ConnectionRefusedError"}
    tls_port = lan.python(PLAIN, lan.host_ip, str(tls_shop.server.tls_port))
    answer = json.loads(tls_port.stdout)
    assert answer["connected"] and answer["status"] == "400", answer
    assert json.loads(answer["body"])["error"]["code"] == "tls_required"
    # this machine's own tools still have plain HTTP on loopback
    assert requests.get(tls_shop.server.url + "/health", timeout=5).status_code == 200


def test_the_fingerprint_a_counter_reads_is_the_one_the_server_shows(tls_shop):
    code = ("import sys; from common import tlspin; "
            "print(tlspin.fetch_ca(sys.argv[1])[1])")
    r = tls_shop.lan.python(code, tls_shop.lan_url)
    assert r.returncode == 0, r.stderr
    seen = r.stdout.strip()
    assert seen == tlspin.ca_fingerprint(_ca(tls_shop))
    # printed at start for the owner to read, in the 4 lines of 8 groups every screen shows
    shown = "\n".join("  " + line for line in tlspin.fingerprint_lines(seen).splitlines())
    assert shown in tls_shop.server.log.read_text()
    status = _cli("status", "--data-dir", str(tls_shop.data))
    assert seen in status.stdout and shown in status.stdout, status.stdout


def test_nginx_killed_comes_back_and_dies_with_its_supervisor(tmp_path, lan: LanHost):
    data = tmp_path / "shop"
    r = _cli("init", "--data-dir", str(data), "--db-port", str(pick_free_port(34800)),
             "--owner-password", OWNER_PW)
    assert r.returncode == 0, r.stderr
    cfg = Config.load(data)
    cfg.security.argon2_time_cost, cfg.security.argon2_memory_kib = 1, 1024
    cfg.backup.enabled = False
    cfg.save()
    srv = ServerProcess(data, threads=4, workers=1, host="0.0.0.0").start()
    shop = TlsShop(srv, data, lan)
    try:
        shared = SharedState.for_data_dir(data)
        front = _wait_front(shared)
        os.kill(front, signal.SIGKILL)
        again = _wait_front(shared, not_pid=front)
        assert again != front
        out = shop.counter({shop.lan_url: _ca(shop)}, tmp_path)
        assert out["ok"] is True, out
        assert srv.proc is not None
        srv.proc.kill()  # the supervisor dies without a word: the TLS door closes with it
        srv.proc.wait(10)
        _wait_gone(again)
        plain = lan.python(PLAIN, lan.host_ip, str(srv.tls_port))
        assert json.loads(plain.stdout)["connected"] is False
    finally:
        srv.stop()


def _wait_front(shared: SharedState, not_pid: int | None = None, timeout: float = 30) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pid = (shared.value("server.processes") or {}).get("tls_front")
        if pid and pid != not_pid and Path(f"/proc/{pid}").exists():
            return int(pid)
        time.sleep(0.2)
    raise AssertionError(f"no TLS front, processes {shared.value('server.processes')}")


def _wait_gone(pid: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().split()[2]
        except OSError:
            return
        if state == "Z":
            return
        time.sleep(0.1)
    raise AssertionError(f"nginx {pid} outlived its supervisor")
