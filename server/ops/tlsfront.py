"""The TLS front: a managed nginx that is the server's only door on the shop's network.

waitress speaks no TLS (its documentation: put a terminator in front), and TLS is not
something to write ourselves. So ``lanpos-server run`` starts nginx (Debian ``nginx-light``)
the way it starts MariaDB, as its own child:

    counters ──TLS──▶ nginx  <host>:<tls_port>  ──plain HTTP──▶ waitress 127.0.0.1:<port>
                       (this machine's own CA,                 (the API workers; loopback
                        its certificate)                    only: local tools, tests)

* The certificate is the one the server made for itself (``server.ops.tls``: its own CA,
  ``<data_dir>/tls/``); counters pin that CA's fingerprint at setup.
* nginx runs in **one process** (``master_process off``) with the supervisor's death signal:
  a killed supervisor takes it along. nginx's usual master + workers would leave the workers
  answering TLS for a dead server (seen: a SIGKILLed master's worker kept serving), and then a
  counter sees "502" instead of the refused connection that sends it to the standby. One
  process is ample for a shop's counters; the supervisor restarts it when it dies.
* nginx replaces any ``X-Forwarded-For`` a client sent with the address it saw; waitress
  trusts that header from 127.0.0.1 only, so the API knows each counter's address (audit,
  login throttling).
* Errors nginx itself answers (no worker listening, a body over the limit) carry the API's
  JSON envelope, so a counter reads them like any other answer.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from server.config import Config
from server.ops.process import MAX_RESPAWN_PAUSE, ChildSlot, die_with_parent, exit_description
from server.ops.tls import TlsFiles, ensure_certificates

log = logging.getLogger(__name__)

#: the most any request body may be at the door; each endpoint has its own lower limit
MAX_BODY_MB = 32
START_WAIT_SECONDS = 10.0

UNAVAILABLE_BODY = ('{"error":{"code":"server_unavailable","message":'
                    '"服务器正在启动或重启，请稍候再试 / The server is starting or restarting: '
                    'try again in a moment"}}')
TOO_LARGE_BODY = ('{"error":{"code":"payload_too_large","message":'
                  '"提交的内容太大 / The request is too large"}}')
PLAIN_HTTP_BODY = ('{"error":{"code":"tls_required","message":'
                   '"此端口只接受加密连接 (https) / This port takes encrypted connections '
                   '(https) only"}}')


class TlsFrontError(RuntimeError):
    """nginx is missing or would not start (its error log says why)."""


def nginx_program() -> str:
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None)
    if not found:
        raise TlsFrontError("nginx is missing (the TLS front of the API): run installer/setup.sh "
                            "or apt-get install nginx-light; or set [server] tls = false to "
                            "serve this machine only (http://127.0.0.1)")
    return found


def _q(path: Path) -> str:
    """A path as an nginx config string."""
    return '"' + str(path).replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_config(cfg: Config, tls: TlsFiles, prefix: Path) -> str:
    s = cfg.server
    host = s.host if ":" not in s.host else f"[{s.host}]"
    logs = cfg.data_dir / "logs"
    tmp = prefix / "tmp"
    return f"""# made by lanpos-server run (server/ops/tlsfront.py) at every start: edits are lost
daemon off;
master_process off;
pid {_q(prefix / "nginx.pid")};
error_log {_q(logs / "nginx-error.log")} warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    server_tokens off;
    default_type application/json;
    client_max_body_size {MAX_BODY_MB}m;
    client_body_buffer_size {MAX_BODY_MB}m;
    client_body_temp_path {_q(tmp / "body")};
    proxy_temp_path {_q(tmp / "proxy")};
    fastcgi_temp_path {_q(tmp / "fastcgi")};
    uwsgi_temp_path {_q(tmp / "uwsgi")};
    scgi_temp_path {_q(tmp / "scgi")};
    upstream lanpos_api {{
        server 127.0.0.1:{s.port};
        keepalive 32;
    }}
    server {{
        listen {host}:{s.effective_tls_port} ssl;
        ssl_certificate {_q(tls.cert)};
        ssl_certificate_key {_q(tls.key)};
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_prefer_server_ciphers off;
        ssl_session_cache shared:lanpos_tls:2m;
        ssl_session_timeout 1h;
        error_page 497 =400 @plain_http;
        error_page 413 @too_large;
        error_page 502 503 504 @unavailable;
        location / {{
            proxy_pass http://lanpos_api;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Forwarded-Proto https;
            proxy_buffering off;
            proxy_request_buffering on;
            proxy_max_temp_file_size 0;
            proxy_connect_timeout 5s;
            proxy_read_timeout 600s;
            proxy_send_timeout 600s;
            proxy_intercept_errors off;
        }}
        location @unavailable {{
            add_header Retry-After 2 always;
            return 503 '{UNAVAILABLE_BODY}';
        }}
        location @too_large {{ return 413 '{TOO_LARGE_BODY}'; }}
        location @plain_http {{ return 400 '{PLAIN_HTTP_BODY}'; }}
    }}
}}
"""


@dataclass
class TlsFront:
    """nginx as a child of the supervisor: ``start()``, ``tend()`` each round, ``stop()``."""

    config: Config
    slot: ChildSlot = field(default_factory=ChildSlot)  # the process and its restarts
    _program: str = field(default="", init=False)

    @property
    def proc(self) -> subprocess.Popen | None:
        return self.slot.proc

    @property
    def prefix(self) -> Path:
        return self.config.data_dir / "nginx"

    @property
    def conf_path(self) -> Path:
        return self.prefix / "nginx.conf"

    @property
    def error_log(self) -> Path:
        return self.config.data_dir / "logs" / "nginx-error.log"

    def prepare(self) -> TlsFiles:
        """Write the configuration and check it (``nginx -t``): a bad one fails here, before
        the server says it is listening."""
        self._program = nginx_program()
        tls = ensure_certificates(self.config.tls_dir)
        for d in (self.prefix, self.prefix / "tmp", self.config.data_dir / "logs"):
            d.mkdir(parents=True, exist_ok=True)
        if os.name == "posix":
            os.chmod(self.prefix, 0o700)
        self.conf_path.write_text(render_config(self.config, tls, self.prefix), encoding="utf-8")
        self._kill_leftover()
        res = subprocess.run(self._argv("-t", "-q"), capture_output=True, text=True, check=False)
        if res.returncode != 0:
            raise TlsFrontError(f"nginx refused its configuration: "
                                f"{(res.stderr or res.stdout).strip()[-800:]}")
        return tls

    def _argv(self, *extra: str) -> list[str]:
        return [self._program, "-p", str(self.prefix), "-c", str(self.conf_path),
                "-e", str(self.error_log), *extra]

    def _kill_leftover(self) -> None:
        """An nginx of this data directory left by a server that was killed before it could
        stop it (its pid file names it): it holds the TLS port."""
        pidfile = self.prefix / "nginx.pid"
        with contextlib.suppress(OSError, ValueError):
            pid = int(pidfile.read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            if b"nginx" in cmdline and str(self.conf_path).encode() in cmdline:
                log.warning("stopping a TLS front (nginx pid %d) left by an earlier run", pid)
                os.kill(pid, signal.SIGTERM)
                for _ in range(50):
                    if not Path(f"/proc/{pid}").exists():
                        break
                    time.sleep(0.1)

    def start(self) -> None:
        if not self._program:
            self.prepare()
        with self.error_log.open("ab") as err:  # what nginx says before its log is open
            proc = subprocess.Popen(self._argv(), stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=err,
                                    preexec_fn=die_with_parent, close_fds=True)
        self.slot.started(proc, time.monotonic())
        log.info("TLS front (nginx pid %d) on %s:%d", proc.pid, self.config.server.host,
                 self.config.server.effective_tls_port)

    def wait_listening(self, timeout: float = START_WAIT_SECONDS) -> None:
        """Until nginx accepts on its port; raises with its error log when it died."""
        host = self.config.server.host
        probe = "127.0.0.1" if host in ("0.0.0.0", "") else ("::1" if host == "::" else host)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise TlsFrontError(f"nginx stopped at once ({exit_description(self.proc.poll())}"
                                    f"): {self._stderr_tail()}")
            with contextlib.suppress(OSError), socket.create_connection(
                    (probe, self.config.server.effective_tls_port), timeout=0.5):
                return
            time.sleep(0.05)
        raise TlsFrontError(f"nginx did not listen within {timeout:.0f}s")

    def _stderr_tail(self) -> str:
        with contextlib.suppress(OSError):
            return self.error_log.read_text(errors="replace").strip()[-800:]
        return ""

    def tend(self) -> bool:
        """Restart nginx when it died (``ChildSlot``: with a growing pause if it keeps dying).
        True when something changed."""
        now = time.monotonic()
        pid = self.proc.pid if self.proc is not None else None
        died = self.slot.reap(now)
        if died is not None:
            log.error("TLS front (nginx pid %s) died (%s): %s; restarting", pid,
                      exit_description(died[0]), self._stderr_tail()[-300:] or "-")
        if not self.slot.due(now):
            return died is not None
        try:
            self.start()
        except OSError as e:
            log.error("TLS front could not start: %s", e)
            self.slot.not_before = now + MAX_RESPAWN_PAUSE
            return died is not None
        return True

    def stop(self, timeout: float = 5.0) -> None:
        proc, self.slot.proc = self.slot.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGQUIT)  # graceful: finish the requests in flight
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None and self.proc.poll() is None else None
