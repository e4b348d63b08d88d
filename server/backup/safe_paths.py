"""Folders a backup may be written to: never a system path.

The backup folder, the scratch folder of test restores and the copy destinations are written
to (and old files in them deleted by retention) with the server's rights; a typo or a hostile
owner's session must not point them at ``/etc`` or at the database's own files. Refused:
the root, the system trees (``/etc``, ``/usr``, ``/bin``, ``/sbin``, ``/lib*``, ``/boot``,
``/proc``, ``/sys``, ``/dev``, ``/run``, ``/var/lib/mysql`` …, ``/root``), anything inside
them, and the managed MariaDB's data folder ``<data dir>/mariadb``. Windows: the drive roots
and ``C:\\Windows`` / ``Program Files``.
"""

from __future__ import annotations

import os
from pathlib import Path, PureWindowsPath

POSIX_SYSTEM = ("/etc", "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
                "/boot", "/proc", "/sys", "/dev", "/run", "/root", "/var/lib/mysql",
                "/var/lib/mariadb", "/var/lib/dpkg", "/var/lib/apt", "/var/log", "/snap")
WINDOWS_SYSTEM = ("windows", "program files", "program files (x86)", "programdata")


def _inside(path: Path, parent: Path) -> bool:
    return path == parent or parent in path.parents


def path_problem(raw: str, data_dir: Path | None = None) -> str | None:
    """Why ``raw`` may not be a backup folder or destination (None: it may). A folder inside
    the server's data dir (its ``backups`` folder: the default) is fine wherever the data dir
    is (``/root/.local/share/lanpos`` for a server run as root), but not the managed
    database's folder ``<data dir>/mariadb`` or anything in it."""
    text = raw.strip()
    if not text:
        return None
    if os.name == "nt":  # pragma: no cover - the suite runs on Linux
        parts = [p.lower().rstrip("\\") for p in PureWindowsPath(text).parts]
        if len(parts) <= 1 or parts[1] in WINDOWS_SYSTEM:
            return f"{raw}: 不能使用系统目录 (a system folder)"
        return None
    expanded = os.path.expanduser(text)
    if not os.path.isabs(expanded):  # relative to whatever folder the server started in
        return f"{raw}: 请填写完整路径 (an absolute path, e.g. /mnt/usb/lanpos)"
    path = Path(os.path.normpath(expanded))
    resolved = path.resolve(strict=False)  # a symlink into /etc is /etc
    for candidate in {path, resolved}:
        if candidate == Path("/"):
            return f"{raw}: 不能使用根目录 (the root folder)"
        if data_dir is not None:
            home = Path(os.path.abspath(data_dir)).resolve(strict=False)
            if _inside(candidate, home / "mariadb"):
                return f"{raw}: 不能使用数据库所在目录 (the database's folder)"
            if _inside(candidate, home):
                continue
        for system in POSIX_SYSTEM:
            if _inside(candidate, Path(system)) or _inside(candidate, Path(system).resolve()):
                return f"{raw}: 不能使用系统目录 {system} (a system folder)"
    return None
