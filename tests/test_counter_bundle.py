"""The counter bundle (installer/counter.spec) end to end: built by installer/build-counter.sh,
its executable started offscreen (``--check``: Qt, every client module, the first windows),
installed for a user in a temporary HOME by installer/counter-install.sh, then removed.

The build takes about 1–1.5 minutes on a 2-core machine (PyInstaller analysis of PyQt6); it is
done once for the module.
"""

from __future__ import annotations

import os
import re
import select
import shlex
import shutil
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PyInstaller.archive.readers import CArchiveReader

from client import bundle as bundle_files
from client.devices import raster
from client.shell.selfcheck import import_all
from tests.conftest import OUTPUT_DIR

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
NAME = "lanpos-counter"
#: The server side: none of it may be in a counter bundle.
SERVER_ONLY = ("server", "flask", "werkzeug", "waitress", "sqlalchemy", "alembic", "pymysql",
               "argon2")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("XDG_", "LANPOS_", "QT_", "FONTCONFIG"))}
    env["QT_QPA_PLATFORM"] = "offscreen"
    env.update(extra)
    return env


class Bundle:
    def __init__(self, dist: Path, tarball: Path, seconds: float, log: str) -> None:
        self.dist = dist
        self.folder = dist / NAME
        self.exe = self.folder / NAME
        self.internal = self.folder / "_internal"
        self.tarball = tarball
        self.seconds = seconds
        self.log = log


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Bundle:
    base = tmp_path_factory.mktemp("counter-bundle")
    started = time.monotonic()
    done = subprocess.run(
        ["bash", str(ROOT / "installer" / "build-counter.sh"),
         "--dist", str(base / "dist"), "--work", str(base / "work")],
        env=_env(), capture_output=True, text=True, timeout=900)
    seconds = time.monotonic() - started
    assert done.returncode == 0, done.stdout + done.stderr
    tarball = Path(done.stdout.strip().splitlines()[-1])
    OUTPUT_DIR.mkdir(exist_ok=True)
    (OUTPUT_DIR / "counter-bundle-build.txt").write_text(
        f"counter bundle built in {seconds:.0f} s\n", encoding="utf-8")
    return Bundle(base / "dist", tarball, seconds, done.stdout + done.stderr)


def _check(exe: Path, *args: str, **env: str) -> tuple[subprocess.CompletedProcess, dict]:
    done = subprocess.run([str(exe), "--check", *args], env=_env(**env),
                          capture_output=True, text=True, timeout=120)
    report: dict[str, list[str]] = {}
    for line in done.stdout.splitlines():
        key, sep, value = line.partition(": ")
        if sep:
            report.setdefault(key, []).append(value)
    return done, report


def test_the_build_makes_a_folder_and_an_archive_of_it(bundle: Bundle) -> None:
    assert bundle.exe.is_file() and os.access(bundle.exe, os.X_OK)
    assert re.fullmatch(r"lanpos-counter-[\d.]+-linux-\w+\.tar\.gz", bundle.tarball.name)
    with tarfile.open(bundle.tarball) as tar:
        names = set(tar.getnames())
    assert f"{NAME}/{NAME}" in names
    assert f"{NAME}/counter-install.sh" in names  # an installed counter can uninstall itself
    assert bundle.seconds < 600, f"the build took {bundle.seconds:.0f} s"


def test_the_bundle_holds_qt_platforms_fonts_and_data_but_no_server(bundle: Bundle) -> None:
    platforms = bundle.internal / "PyQt6" / "Qt6" / "plugins" / "platforms"
    assert (platforms / "libqxcb.so").is_file()
    assert (platforms / "libqoffscreen.so").is_file()
    assert (bundle.internal / "client" / "fonts" / "wqy-microhei.ttc").is_file()
    assert (bundle.internal / "escpos" / "capabilities.json").is_file()

    pyz = CArchiveReader(str(bundle.exe)).open_embedded_archive("PYZ.pyz")
    modules = set(pyz.toc)
    assert {"client.main", "client.counter.checkout", "client.backoffice.screens",
            "client.devices.facade", "common.pricing", "client.reports.xlsx",
            "openpyxl"} <= modules  # the back office's reports: Excel exports
    charts = bundle.internal / "PyQt6" / "Qt6" / "lib"
    assert list(charts.glob("libQt6Charts.so*")), "QtCharts (the report charts) missing"
    leaked = sorted(m for m in modules if m.split(".")[0] in SERVER_ONLY)
    assert leaked == []
    on_disk = sorted(p.name for p in bundle.internal.iterdir() if p.name in SERVER_ONLY)
    assert on_disk == []


def test_the_bundled_counter_starts_offscreen_and_shows_its_first_windows(
        bundle: Bundle) -> None:
    OUTPUT_DIR.mkdir(exist_ok=True)
    shot = OUTPUT_DIR / "counter-bundle-first-window.png"
    shot.unlink(missing_ok=True)
    done, report = _check(bundle.exe, "--screenshot", str(shot))
    assert done.returncode == 0, done.stdout + done.stderr
    assert report["check"] == ["ok"]
    assert report["window"] == ["收银台设置", "登录收银台"]
    assert report["server package"] == ["absent"]
    assert report["lanpos-client"][0][0].isdigit()
    assert "platform offscreen" in report["qt"][0]
    # every module of client and common loads in the bundle, as in the checkout
    imported, failed = import_all()
    assert failed == []
    assert report["modules"] == [f"{len(imported)} (client, common)"]
    assert "import failed" not in report
    assert shot.stat().st_size > 5000


def test_without_system_fonts_the_bundle_uses_its_own_chinese_font(
        bundle: Bundle, tmp_path: Path) -> None:
    conf = tmp_path / "fonts.conf"  # a fontconfig that knows no font directory at all
    conf.write_text('<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n'
                    f"<fontconfig><cachedir>{tmp_path / 'fc-cache'}</cachedir></fontconfig>\n",
                    encoding="utf-8")
    shot = OUTPUT_DIR / "counter-bundle-own-font.png"
    shot.unlink(missing_ok=True)
    done, report = _check(bundle.exe, "--screenshot", str(shot), FONTCONFIG_FILE=str(conf))
    assert done.returncode == 0, done.stdout + done.stderr
    assert report["font"] == ["WenQuanYi Micro Hei (bundled)"]
    assert report["check"] == ["ok"]
    assert shot.stat().st_size > 5000


@pytest.fixture
def xvfb_display() -> Iterator[str]:
    """A virtual X display of 1024×768 (Xvfb picks a free display number)."""
    read_end, write_end = os.pipe()
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(write_end), "-screen", "0", "1024x768x24",
                             "-nolisten", "tcp"], pass_fds=[write_end],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_end)
    try:
        number = b""
        deadline = time.monotonic() + 30
        while not number.endswith(b"\n") and time.monotonic() < deadline:
            ready, _, _ = select.select([read_end], [], [], 1)
            if ready:
                chunk = os.read(read_end, 16)
                if not chunk:
                    break
                number += chunk
        assert number.strip().isdigit(), "Xvfb did not start"
        yield f":{number.strip().decode()}"
    finally:
        os.close(read_end)
        proc.terminate()
        proc.wait(10)


def test_the_bundled_counter_starts_on_an_x_display(bundle: Bundle, xvfb_display: str) -> None:
    """The xcb platform plugin and the libraries it needs are in the bundle (what a Linux
    counter's desktop uses), not only the offscreen one."""
    done, report = _check(bundle.exe, DISPLAY=xvfb_display, QT_QPA_PLATFORM="xcb")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "platform xcb" in report["qt"][0]
    assert report["window"] == ["收银台设置", "登录收银台"]
    assert report["check"] == ["ok"]


def _desktop_entry(path: Path) -> dict[str, str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "[Desktop Entry]"
    return dict(line.split("=", 1) for line in lines[1:] if "=" in line)


def _install(home: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(ROOT / "installer" / "counter-install.sh"), *args],
                          env=_env(HOME=str(home)), capture_output=True, text=True,
                          timeout=300)


def test_install_with_autostart_then_uninstall_in_a_user_home(
        bundle: Bundle, tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "Desktop").mkdir(parents=True)
    settings = home / ".config" / "lanpos" / "client.json"
    settings.parent.mkdir(parents=True)
    settings.write_text('{"servers": ["http://192.168.1.10:8600"]}', encoding="utf-8")

    done = _install(home, "--autostart", str(bundle.tarball))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "check: ok" in done.stdout
    exe = home / ".local" / "opt" / NAME / NAME
    assert exe.is_file() and os.access(exe, os.X_OK)
    menu = home / ".local" / "share" / "applications" / f"{NAME}.desktop"
    desktop = home / "Desktop" / f"{NAME}.desktop"
    autostart = home / ".config" / "autostart" / f"{NAME}.desktop"
    for entry in (menu, desktop, autostart):
        fields = _desktop_entry(entry)
        assert shlex.split(fields["Exec"]) == [str(exe)]
        assert fields["Type"] == "Application" and fields["Terminal"] == "false"
        assert "收银台" in fields["Name"]
        assert Path(fields["Icon"]).is_file() and fields["Icon"].startswith(str(exe.parent))
    assert _desktop_entry(autostart)["X-GNOME-Autostart-enabled"] == "true"
    assert os.access(desktop, os.X_OK)

    # what a shortcut starts really starts (the check flag on the Exec line's program)
    started, report = _check(Path(shlex.split(_desktop_entry(menu)["Exec"])[0]))
    assert started.returncode == 0 and report["check"] == ["ok"]

    # a second install (an upgrade) replaces the program and keeps the autostart choice
    (exe.parent / "left-over").write_text("old", encoding="utf-8")
    again = _install(home, str(bundle.tarball))
    assert again.returncode == 0, again.stdout + again.stderr
    assert exe.is_file() and not (exe.parent / "left-over").exists()
    assert autostart.is_file()
    assert not [p for p in exe.parent.parent.iterdir() if p.name.startswith(".")]

    off = _install(home, "--no-autostart")
    assert off.returncode == 0 and not autostart.exists() and menu.is_file()

    gone = _install(home, "--uninstall")
    assert gone.returncode == 0, gone.stdout + gone.stderr
    assert not exe.parent.exists()
    assert not menu.exists() and not desktop.exists() and not autostart.exists()
    assert settings.is_file()  # the counter's settings stay for a reinstall


def test_install_refuses_a_file_that_is_not_a_counter_bundle(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    bogus = tmp_path / "bogus.tar.gz"
    with tarfile.open(bogus, "w:gz") as tar:
        tar.add(__file__, arcname="something/else.py")
    done = _install(home, str(bogus))
    assert done.returncode == 1
    assert "not a counter bundle" in done.stderr
    assert not (home / ".local" / "opt" / NAME).exists()
    assert not (home / ".local" / "share" / "applications").exists()


def test_check_flag_in_the_checkout_reports_the_same_windows() -> None:
    done = subprocess.run([sys.executable, "-m", "client.main", "--check"], cwd=ROOT,
                          env=_env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "window: 收银台设置\nwindow: 登录收银台\n" in done.stdout
    assert done.stdout.rstrip().endswith("check: ok")


def test_receipt_bitmaps_use_the_bundled_font_when_the_system_has_none(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fonts = tmp_path / "fonts"  # what the bundle's client/fonts holds
    fonts.mkdir()
    shutil.copy("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", fonts)
    monkeypatch.delenv("LANPOS_CJK_FONT", raising=False)
    monkeypatch.setattr(bundle_files, "FONT_DIR", fonts)
    monkeypatch.setattr(raster, "FONT_CANDIDATES", (str(tmp_path / "no-such-font.ttc"),))
    assert raster.find_cjk_font() == fonts / "wqy-microhei.ttc"
    face = raster.load_font(str(raster.find_cjk_font()))
    assert "Micro Hei" in " ".join(face.getname())
    text = raster.render_text_line("会员 ¥12.50", 32, font=face)
    blank = raster.render_text_line(" " * 11, 32, font=face)
    assert text.size == blank.size
    assert text.tobytes() != blank.tobytes()  # the glyphs were drawn
