"""Counter settings: server addresses (primary, standby), counter name, language, and the
newest cluster epoch this counter has seen with the id of the cluster (the server pair) it
belongs to (DESIGN §4 "fencing by epoch": a counter remembers it across restarts, so a
replaced primary cannot take its sales after a reboot; the cluster id keeps an epoch of a
shop's old installation from fencing a newly installed server).

Stored as a small JSON file: ``$LANPOS_CLIENT_CONFIG`` if set, else
``%APPDATA%\\lanpos\\client.json`` on Windows, ``$XDG_CONFIG_HOME/lanpos/client.json``
(``~/.config/lanpos/client.json``) elsewhere. Tests pass their own path. Command-line
arguments override the file for one run (``apply_args``) without being saved.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import sys
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from common import tlspin

from .api import normalize_server, valid_cluster
from .i18n import EN, LANGS, ZH

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClientSettings:
    servers: tuple[str, ...] = ()  # base URLs, primary first
    counter: str = "01"
    lang: str = ZH
    epoch: int = 0  # the newest cluster epoch seen (0: none yet)
    cluster: str = ""  # the id of the cluster that epoch belongs to ("": none known yet)
    #: server base URL → the CA certificate (PEM) trusted for it: pinned at setup after a
    #: person compared its fingerprint, or told by a pinned server about its standby
    pins: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict, compare=False)  # future keys kept

    @property
    def configured(self) -> bool:
        return bool(self.servers)

    @property
    def primary(self) -> str:
        return self.servers[0] if self.servers else ""

    @property
    def standby(self) -> str:
        return self.servers[1] if len(self.servers) > 1 else ""

    def with_servers(self, *addresses: str) -> ClientSettings:
        """Normalised, empties dropped, duplicates removed; raises ValueError on a bad one."""
        out: list[str] = []
        for a in addresses:
            if a and a.strip():
                url = normalize_server(a)
                if url not in out:
                    out.append(url)
        return replace(self, servers=tuple(out))


def default_config_path() -> Path:
    env = os.environ.get("LANPOS_CLIENT_CONFIG")
    if env:
        return Path(env)
    if sys.platform == "win32" and os.environ.get("APPDATA"):
        base = Path(os.environ["APPDATA"])
    else:
        base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "lanpos" / "client.json"


class SettingsStore:
    """Loads and saves :class:`ClientSettings` as JSON at ``path``."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_config_path()

    def load(self) -> ClientSettings:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return ClientSettings()
        except (OSError, ValueError) as e:
            log.warning("settings file %s unreadable (%s); starting with defaults", self.path, e)
            return ClientSettings()
        if not isinstance(data, dict):
            return ClientSettings()
        servers: list[str] = []
        for s in data.get("servers") or []:
            try:
                servers.append(normalize_server(str(s)))
            except ValueError:
                log.warning("ignoring bad server address %r in %s", s, self.path)
        lang = data.get("lang") if data.get("lang") in LANGS else ZH
        try:
            epoch = max(0, int(data.get("epoch") or 0))
        except (TypeError, ValueError):
            log.warning("ignoring bad epoch %r in %s", data.get("epoch"), self.path)
            epoch = 0
        raw_cluster = data.get("cluster")
        cluster = valid_cluster(raw_cluster) or ""
        if raw_cluster not in (None, "") and not cluster:
            log.warning("ignoring bad cluster id %r in %s", raw_cluster, self.path)
        pins: dict[str, str] = {}
        raw_pins = data.get("pins") if isinstance(data.get("pins"), dict) else {}
        for url, pem in raw_pins.items():
            try:
                tlspin.ca_fingerprint(str(pem))
                pins[normalize_server(str(url))] = str(pem)
            except ValueError:
                log.warning("ignoring a bad certificate pin for %r in %s", url, self.path)
        known = {"servers", "counter", "lang", "epoch", "cluster", "pins"}
        return ClientSettings(servers=tuple(dict.fromkeys(servers)),
                              counter=str(data.get("counter") or "01"), lang=lang, epoch=epoch,
                              cluster=cluster, pins=pins,
                              extra={k: v for k, v in data.items() if k not in known})

    def save(self, settings: ClientSettings) -> None:
        data = {**settings.extra, **{k: v for k, v in asdict(settings).items() if k != "extra"}}
        data["servers"] = list(settings.servers)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
        tmp.replace(self.path)


def window_geometry(settings: ClientSettings) -> bytes | None:
    """The main window's saved geometry (``QWidget.saveGeometry``), None when never saved."""
    raw = settings.extra.get("window_geometry")
    if not isinstance(raw, str) or not raw:
        return None
    try:
        return base64.b64decode(raw, validate=True)
    except ValueError:
        log.warning("ignoring a bad saved window geometry")
        return None


def with_window_geometry(settings: ClientSettings, geometry: bytes) -> ClientSettings:
    """Settings that remember the main window's geometry (kept across re-logins, restarts)."""
    return replace(settings, extra={**settings.extra,
                                    "window_geometry": base64.b64encode(geometry).decode()})


def apply_args(settings: ClientSettings, servers: list[str] | None, counter: str | None,
               lang: str | None) -> ClientSettings:
    """Command-line overrides (not saved)."""
    if servers:
        settings = settings.with_servers(*servers)
    if counter:
        settings = replace(settings, counter=counter)
    if lang in (ZH, EN):
        settings = replace(settings, lang=lang)
    return settings
