"""A second host on the shop's LAN, for tests of what crosses the network: a network
namespace joined to this machine by a veth pair (``ip netns``, ``ip link``; root needed).

    this machine  <HOST_IP>  ── veth ──  <PEER_IP>  the namespace ("another counter")

A server that listens on 0.0.0.0 is reached from the namespace at ``host_ip``; what runs
inside (``run``) connects from ``peer_ip``, which is not a loopback address — exactly what a
counter on the shop's Wi-Fi is to the server.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _ip(*args: str) -> None:
    res = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    if res.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {res.stderr.strip()}")


@dataclass
class LanHost:
    name: str
    host_ip: str
    peer_ip: str

    @classmethod
    def create(cls) -> LanHost:
        if not shutil.which("ip"):
            raise RuntimeError("the 'ip' program (iproute2) is missing: run installer/setup.sh")
        if os.geteuid() != 0:
            raise RuntimeError("a network namespace needs root (the tests run as root in CI)")
        tag = os.getpid() % 100000
        net = 10 + os.getpid() % 240
        h = cls(f"lpt{tag}", f"10.86.{net}.1", f"10.86.{net}.2")
        h.destroy()  # a leftover of a killed run with the same pid
        _ip("netns", "add", h.name)
        _ip("link", "add", f"lph{tag}", "type", "veth", "peer", "name", f"lpc{tag}")
        _ip("link", "set", f"lpc{tag}", "netns", h.name)
        _ip("addr", "add", f"{h.host_ip}/24", "dev", f"lph{tag}")
        _ip("link", "set", f"lph{tag}", "up")
        _ip("netns", "exec", h.name, "ip", "addr", "add", f"{h.peer_ip}/24", "dev", f"lpc{tag}")
        _ip("netns", "exec", h.name, "ip", "link", "set", f"lpc{tag}", "up")
        _ip("netns", "exec", h.name, "ip", "link", "set", "lo", "up")
        return h

    def destroy(self) -> None:
        tag = self.name[3:]
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True, check=False)
        subprocess.run(["ip", "link", "del", f"lph{tag}"], capture_output=True, check=False)

    def python(self, code: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        """Run Python ``code`` (with the project importable) on the other host."""
        return self.run([sys.executable, "-c", code, *args], timeout=timeout)

    def run(self, argv: Sequence[str], timeout: float = 60) -> subprocess.CompletedProcess:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        return subprocess.run(["ip", "netns", "exec", self.name, *argv], capture_output=True,
                              text=True, timeout=timeout, cwd=ROOT, env=env, check=False)
