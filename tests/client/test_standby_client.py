"""The counter's side of the standby pair against two real servers (the ``pair`` fixture): the
epoch and cluster id sent and learned, an epoch of another installation fencing nothing, a
write refused by a replaced primary going to the new one with the
same key, the peer learned from /health, the counter following a promotion within 10 s with
its cart, the status bar, the owner's dashboard and the failover dialog. Screenshots under
test-output/screenshots/."""

from __future__ import annotations

import contextlib
import datetime as dt
import time
import uuid
from collections.abc import Iterator

import pymysql
import pytest
import requests
from sqlalchemy import func, select

from client.api import ApiClient
from client.app import AppController
from client.backoffice.standby import FailoverDialog, StandbyScreen
from client.counter.payment import PaymentDialog
from client.devices.facade import DeviceService, DeviceSettings
from client.qt import Qt, QtCore, QtGui
from client.settings import ClientSettings, SettingsStore
from client.shell.main_window import MainWindow
from client.widgets.context import Services, SessionInfo
from common import tlspin
from common.errors import ApiError
from common.schemas.replication import CLUSTER_HEADER, EPOCH_HEADER
from server.db.sales import Sale
from server.ops.tls import ensure_certificates
from tests.conftest import TEST_PASSWORD

from .conftest import FaultProxy, ensure_shift, save_shot

WAIT = 15_000
COLA = "6901234567892"
#: a cluster id of no server here: the shop's old installation a counter still remembers
FOREIGN = "0123456789abcdef"


class RecordingSession(requests.Session):
    """A real session that keeps (method, url, fencing headers sent) of every request."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[str, str, str | None, str | None]] = []

    def request(self, method, url, *args, **kw):
        h = kw.get("headers") or {}
        self.sent.append((method, url, h.get(EPOCH_HEADER), h.get(CLUSTER_HEADER)))
        return super().request(method, url, *args, **kw)


def new_product(api: ApiClient) -> int:
    p = api.create_product({"name": "可口可乐 330ml", "price": 350, "barcodes": [COLA]})
    return p.id


def sale_body(product_id: int) -> tuple[str, dict]:
    sid = str(uuid.uuid4())
    return sid, {"id": sid, "lines": [{"product_id": product_id, "qty": 2}],
                 "payments": [{"method": "cash", "amount": 700, "tendered": 1000}]}


def sales_with(db_session, sid: str) -> int:
    db_session.expire_all()
    return db_session.scalar(select(func.count()).select_from(Sale).where(Sale.uuid == sid))


# --- client.api ---------------------------------------------------------------------------

def test_epoch_is_learned_from_every_answer_and_sent_with_every_request(
        pair, owner, make_api) -> None:
    seen: list[tuple[int, str]] = []
    cid = pair.cluster_id
    api = make_api([pair.primary.url], on_epoch=lambda e, c: seen.append((e, c)))
    assert api.epoch == 0 and api.cluster == ""
    api.login("boss", TEST_PASSWORD)
    # X-Lanpos-Epoch and X-Lanpos-Cluster of the login's answer
    assert api.epoch == 1 and api.cluster == cid and seen == [(1, cid)]
    assert api.server_role() == "primary" and api.server_cluster(pair.primary.url) == cid
    # the standby is promoted: epoch 2, learned from its answer (any answer: a read)
    pair.promote_standby()
    api.health(server=pair.standby.url)
    assert api.epoch == 2 and seen == [(1, cid), (2, cid)]
    assert api.cluster == cid
    assert api.server_role(pair.standby.url) == "primary"
    assert api.active_server == pair.primary.url  # server= does not move the counter
    # the next request to the old primary carries epoch 2: it learns it was replaced
    assert pair.cluster(pair.primary).role.value == "primary"
    api.me()
    c = pair.cluster(pair.primary)
    assert (c.role.value, c.epoch) == ("stale", 2)
    assert api.server_role(pair.primary.url) == "stale"
    # the same epoch remembered from another installation fences nothing: the counter starts
    # again from this cluster's epoch
    foreign = make_api([pair.standby.url], epoch=5, cluster=FOREIGN)
    foreign.health()
    assert pair.cluster(pair.standby).epoch == 2
    assert (foreign.epoch, foreign.cluster) == (2, cid)
    # a counter restarted with the epoch (and cluster id) from its settings sends it at once
    fresh = make_api([pair.standby.url], epoch=5, cluster=cid)
    fresh.health()
    assert fresh.epoch == 5 and pair.cluster(pair.standby).epoch == 5
    assert fresh.cluster == cid


def test_cluster_id_is_learned_and_sent_with_the_epoch_on_every_request(
        pair, owner, make_api) -> None:
    session = RecordingSession()
    api = make_api([pair.primary.url], session=session)
    api.health()
    assert session.sent[-1][2:] == (None, None)  # nothing known yet: nothing sent
    cid = pair.cluster_id
    assert len(cid) == 16 and api.cluster == cid and api.epoch == 1
    api.login("boss", TEST_PASSWORD)
    new_product(api)
    api.follow()  # the probe of every server (the standby, learned from the peer) too
    later = session.sent[1:]
    assert {m for m, *_ in later} >= {"GET", "POST"}
    assert any(u.startswith(pair.standby.url) for _m, u, *_ in later)
    assert all((e, c) == ("1", cid) for _m, _u, e, c in later), later
    # a newer epoch of the cluster goes with the same id, to every server
    pair.promote_standby()
    res = api.follow()
    assert (res.active, res.epoch, res.cluster) == (pair.standby.url, 2, cid)
    api.me()
    assert session.sent[-1][2:] == ("2", cid)
    assert pair.cluster(pair.primary).role.value == "primary"  # not told yet
    api.health(server=pair.primary.url)
    assert session.sent[-1][2:] == ("2", cid)
    assert pair.cluster(pair.primary).role.value == "stale"  # fenced: the ids match


def test_an_epoch_of_another_installation_does_not_fence_the_new_server(
        live_server, owner, make_api) -> None:
    """A counter that remembers epoch 5 of the shop's old installation meets a freshly
    installed server (epoch 1, another cluster id): the server keeps selling and the counter
    starts again from the server's epoch and id."""
    state = live_server.flask_client.application.extensions["lanpos"]
    before = state.shared.cluster()
    assert before.role.value == "primary" and before.epoch < 5
    seen: list[tuple[int, str]] = []
    session = RecordingSession()
    api = make_api([live_server.url], epoch=5, cluster=FOREIGN, session=session,
                   on_epoch=lambda e, c: seen.append((e, c)))
    assert (api.epoch, api.cluster) == (5, FOREIGN)
    api.login("boss", TEST_PASSWORD)
    assert session.sent[0][2:] == ("5", FOREIGN)  # what it remembered was sent
    pid = new_product(api)  # a write: taken
    assert api.get_product(pid).name == "可口可乐 330ml"
    after = state.shared.cluster()
    assert (after.role.value, after.epoch) == ("primary", before.epoch)  # not fenced
    assert (api.epoch, api.cluster) == (before.epoch, state.cluster_id)
    assert seen == [(before.epoch, state.cluster_id)]  # told once: the new pair
    assert session.sent[-1][2:] == (str(before.epoch), state.cluster_id)
    assert api.server_role() == "primary"


def test_follow_adopts_a_new_installation_when_only_it_answers(
        live_server, owner, make_api) -> None:
    state = live_server.flask_client.application.extensions["lanpos"]
    epoch = state.shared.cluster().epoch
    api = make_api([live_server.url], epoch=epoch + 4, cluster=FOREIGN)
    res = api.follow()
    assert (res.active, res.role, res.moved) == (live_server.url, "primary", False)
    assert (res.epoch, res.cluster) == (epoch, state.cluster_id)
    assert res.views[0].cluster == state.cluster_id
    assert state.shared.cluster().role.value == "primary"  # the probe fenced nothing
    api.login("boss", TEST_PASSWORD)
    new_product(api)  # and it takes writes


def test_follow_never_takes_a_primary_of_another_cluster(
        pair, live_server, owner, make_api) -> None:
    """The counter's standby (its primary is away) and, typed in by mistake, the primary of
    another installation: the counter stays on its own cluster's server."""
    pair.publish(pair.standby, state="connecting", semi_sync="off")  # names no peer
    other = live_server.flask_client.application.extensions["lanpos"]
    assert other.cluster_id != pair.cluster_id
    api = make_api([pair.standby.url, live_server.url], epoch=1, cluster=pair.cluster_id)
    res = api.follow()
    assert [v.address for v in res.views] == [pair.standby.url, live_server.url]
    assert [v.role for v in res.views] == ["standby", "primary"]
    assert [v.cluster for v in res.views] == [pair.cluster_id, other.cluster_id]
    assert res.active == pair.standby.url and not res.moved
    assert (res.epoch, res.cluster) == (1, pair.cluster_id)
    assert (api.epoch, api.cluster) == (1, pair.cluster_id)
    # the promoted standby is the writer of our cluster: it is followed
    pair.promote_standby()
    res = api.follow()
    assert res.active == pair.standby.url and (res.epoch, res.cluster) == (2, pair.cluster_id)
    assert other.shared.cluster().role.value == "primary"  # the other one was never fenced


def test_stale_primary_sends_the_sale_to_the_new_primary_with_the_same_key(
        pair, owner, db_session, make_api) -> None:
    proxies = [FaultProxy(pair.primary.port), FaultProxy(pair.standby.port)]
    try:
        api = make_api([p.url for p in proxies], counter="01")  # a counter sells
        api.login("boss", TEST_PASSWORD)
        pid = new_product(api)
        ensure_shift(api)  # counter 01 sells
        assert api.active_server == proxies[0].url
        pair.promote_standby()
        api.health(server=proxies[1].url)  # the counter has seen epoch 2 (a read)
        sid, body = sale_body(pid)
        sale = api.create_sale(body, key=sid)
        assert str(sale.id) == sid and sale.change == 300
        # the old primary refused (409 stale_primary), the new one took it: same key
        posts = [[k for line, k in p.requests if line.startswith("POST /api/v1/sales")]
                 for p in proxies]
        assert posts == [[sid], [sid]]
        assert api.active_server == proxies[1].url
        assert api.server_role(proxies[0].url) == "stale"
        assert sales_with(db_session, sid) == 1
        # a resend (a lost answer) replays on the new primary: still one sale
        again = api.create_sale(body, key=sid)
        assert again.id == sale.id and sales_with(db_session, sid) == 1
    finally:
        for p in proxies:
            p.close()


def test_a_write_to_the_stale_server_alone_says_so(pair, owner, make_api) -> None:
    api = make_api([pair.primary.url], retry_delays=(0.01,))
    api.login("boss", TEST_PASSWORD)
    pair.state(pair.primary).shared.bump_epoch(by="test", role="stale")
    pair.publish(pair.primary, state="none", semi_sync="off")  # no peer to go to
    with pytest.raises(ApiError) as e:
        api.create_product({"name": "雪碧", "price": 300})
    assert e.value.status == 409 and e.value.code == "stale_primary"
    assert "已被备用服务器替代" in e.value.message()


def test_peer_learned_from_health_is_kept_in_the_settings(
        qtbot, pair, dialogs, runner, make_api, tmp_path) -> None:
    store = SettingsStore(tmp_path / "client.json")
    settings = ClientSettings(counter="03").with_servers(pair.primary.url)
    store.save(settings)
    c = AppController(settings, store=store, dialogs=dialogs, runner=runner,
                      api_factory=lambda s: make_api(s.servers, counter=s.counter,
                                                     lang=s.lang, epoch=s.epoch,
                                                     cluster=s.cluster))
    api = c.services.api
    assert api.servers == [pair.primary.url]
    runner.op(api.health)  # from a worker thread, as the app does
    qtbot.wait_until(lambda: store.load().servers == (pair.primary.url, pair.standby.url),
                     timeout=WAIT)
    assert api.servers == [pair.primary.url, pair.standby.url]
    qtbot.wait_until(lambda: store.load().epoch == 1, timeout=WAIT)
    assert c.settings.epoch == 1 and c.settings.standby == pair.standby.url
    assert store.load().cluster == c.settings.cluster == pair.cluster_id
    # a counter that starts again starts with what it learned
    again = AppController(store.load(), dialogs=dialogs, runner=runner,
                          api_factory=lambda s: make_api(s.servers, epoch=s.epoch)).services.api
    assert (again.epoch, again.cluster) == (1, pair.cluster_id)


def test_a_new_installation_replaces_the_saved_epoch_and_cluster(
        qtbot, live_server, owner, dialogs, runner, make_api, tmp_path) -> None:
    """Settings remembering epoch 5 of an old installation: the new server's (smaller) epoch
    and its cluster id are saved in their place, and the counter sells."""
    state = live_server.flask_client.application.extensions["lanpos"]
    epoch = state.shared.cluster().epoch
    assert epoch < 5
    store = SettingsStore(tmp_path / "client.json")
    settings = ClientSettings(counter="03", epoch=5, cluster=FOREIGN).with_servers(
        live_server.url)
    store.save(settings)
    c = AppController(store.load(), store=store, dialogs=dialogs, runner=runner,
                      api_factory=lambda s: make_api(s.servers, counter=s.counter,
                                                     epoch=s.epoch, cluster=s.cluster))
    api = c.services.api
    assert (api.epoch, api.cluster) == (5, FOREIGN)
    runner.op(api.health)  # from a worker thread, as the app does
    qtbot.wait_until(lambda: store.load().cluster == state.cluster_id, timeout=WAIT)
    assert store.load().epoch == epoch and (c.settings.epoch, c.settings.cluster) == (
        epoch, state.cluster_id)
    api.login("boss", TEST_PASSWORD)
    new_product(api)
    assert state.shared.cluster().role.value == "primary"


# --- the counter window -------------------------------------------------------------------

def open_counter(qtbot, pair, make_api, runner, dialogs, tmp_path, username: str,
                 servers: list[str] | None = None, size=(1024, 768),
                 shift: bool = True) -> MainWindow:
    settings = ClientSettings(counter="01").with_servers(*(servers or [pair.primary.url]))
    api = make_api(settings.servers, counter="01")
    services = Services(api=api, runner=runner, dialogs=dialogs, settings=settings,
                        devices=DeviceService(DeviceSettings(), tmp_path / f"spool-{username}"))
    res = api.login(username, TEST_PASSWORD)
    if shift:  # counter 01 sells (a login without a shift: test_shift_and_sales.py)
        ensure_shift(api)
    win = MainWindow(services, SessionInfo(res.staff, res.counter))
    qtbot.addWidget(win)
    win.resize(*size)
    win.show()
    qtbot.wait_exposed(win)
    return win


def test_counter_follows_the_promoted_standby_within_10_s_and_keeps_its_cart(
        qtbot, pair, owner, cashier, make_api, runner, dialogs, tmp_path, db_session,
        screenshots) -> None:
    setup = make_api([pair.primary.url])
    setup.login("boss", TEST_PASSWORD)
    new_product(setup)
    win = open_counter(qtbot, pair, make_api, runner, dialogs, tmp_path, "cash")
    api = win.services.api
    screen = win.checkout
    # the standby is learned from the primary's /health (configured: the primary only)
    qtbot.wait_until(lambda: pair.standby.url in api.servers, timeout=WAIT)
    qtbot.wait_until(lambda: win.server_label.text()
                     == f"主服务器 127.0.0.1:{pair.primary.port}", timeout=WAIT)
    screen.entry.setFocus()
    with qtbot.wait_signal(screen.cart_model.totals_changed, timeout=WAIT):
        qtbot.keyClicks(screen.entry, COLA)
        qtbot.keyClick(screen.entry, Qt.Key.Key_Return)
    assert screen.cart_model.cart.item_count == 1

    t0 = time.monotonic()
    epoch = pair.promote_standby()
    qtbot.wait_until(lambda: api.active_server == pair.standby.url, timeout=10_000)
    took = time.monotonic() - t0
    assert took < 10, took
    qtbot.wait_until(lambda: win.server_label.text()
                     == f"主服务器 127.0.0.1:{pair.standby.port}", timeout=WAIT)
    assert api.epoch == epoch
    assert screen.cart_model.cart.item_count == 1  # the cart is as it was
    assert "已切换到主服务器" in screen.status.text()
    save_shot(win, screenshots / "counter_after_failover_1024x768.png")

    # pay: the sale goes to the new primary; the old one has learned it was replaced
    dialogs_seen: list = []
    win.counter.dialog_opened.connect(dialogs_seen.append)
    qtbot.keyClick(screen.entry, Qt.Key.Key_F9)
    qtbot.wait_until(lambda: bool(dialogs_seen), timeout=WAIT)
    dlg = dialogs_seen[-1]
    assert isinstance(dlg, PaymentDialog)
    qtbot.wait_until(lambda: dlg.confirm.isEnabled(), timeout=WAIT)
    sale_id = dlg.sale_id
    with qtbot.wait_signal(win.counter.sale_completed, timeout=WAIT) as done:
        qtbot.mouseClick(dlg.confirm, Qt.MouseButton.LeftButton)
    assert str(done.args[0].id) == sale_id and sales_with(db_session, sale_id) == 1
    assert api.active_server == pair.standby.url
    # the old primary is told by this counter's next probe (the counters are the witnesses)
    qtbot.wait_until(lambda: pair.cluster(pair.primary).role.value == "stale", timeout=WAIT)
    assert dialogs.errors == []


def test_status_bar_warns_on_a_standby_and_on_a_stale_server(
        qtbot, pair, owner, cashier, make_api, runner, dialogs, tmp_path,
        screenshots) -> None:
    pair.publish(pair.standby, state="connecting", semi_sync="off")  # no peer named
    win = open_counter(qtbot, pair, make_api, runner, dialogs, tmp_path, "cash",
                       servers=[pair.standby.url], shift=False)  # a standby writes nothing
    label = win.server_label
    qtbot.wait_until(lambda: label.text().startswith("⚠ 备用服务器"), timeout=WAIT)
    assert label.text() == f"⚠ 备用服务器 127.0.0.1:{pair.standby.port}（只读，不能收银）"
    assert "background-color: #b00020" in label.styleSheet()
    assert "不能收银" in label.toolTip()
    save_shot(win, screenshots / "counter_on_standby_1024x768.png")
    win.close()

    pair.state(pair.primary).shared.bump_epoch(by="test", role="stale")
    pair.publish(pair.primary, state="none", semi_sync="off")
    win = open_counter(qtbot, pair, make_api, runner, dialogs, tmp_path, "cash", shift=False)
    label = win.server_label
    qtbot.wait_until(lambda: "旧主服务器" in label.text(), timeout=WAIT)
    assert label.text() == f"⚠ 旧主服务器 127.0.0.1:{pair.primary.port}（已被替代，不能收银）"
    assert "background-color: #b00020" in label.styleSheet()


# --- the back office: dashboard and failover ----------------------------------------------

def show_standby(qtbot, win: MainWindow) -> StandbyScreen:
    screen = win.backoffice.standby
    with qtbot.wait_signal(screen.loaded, timeout=WAIT):
        win.acts["standby"].trigger()
    return screen


def test_dashboard_shows_both_servers_and_the_fall_back_banner(
        qtbot, pair, owner, make_api, runner, dialogs, tmp_path, screenshots) -> None:
    p_tls = ensure_certificates(pair.state(pair.primary).config.tls_dir)
    win = open_counter(qtbot, pair, make_api, runner, dialogs, tmp_path, "boss",
                       servers=[pair.primary.url, pair.standby.url])
    screen = show_standby(qtbot, win)
    assert screen.timer.isActive()  # refreshes itself while it is shown
    assert len(screen.cards) == 2
    prim, stby = (c.text() for c in screen.cards)
    # the fingerprint a cashier compares at a counter's setup, as the setup shows it
    assert tlspin.fingerprint_lines(p_tls.fingerprint()) in prim
    assert len(tlspin.fingerprint_lines(p_tls.fingerprint()).splitlines()) == 4
    assert f"主服务器 · 127.0.0.1:{pair.primary.port}（本收银台正在使用）" in prim
    assert f"备用服务器 · 127.0.0.1:{pair.standby.port}" in stby
    assert "✔ 正在同步" in stby and "接收 Yes · 应用 Yes" in stby
    assert "0 秒 · 0 笔交易" in stby
    assert "✔ 开启" in prim and " GB" in prim
    assert not screen.banner.isVisible()
    assert screen.failover_button.isVisible() and screen.failover_button.isEnabled()
    save_shot(win, screenshots / "standby_dashboard_1024x768.png")

    # the standby is gone past the timeout: the primary sells alone, loudly
    since = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    pair.publish(pair.primary, state="alone", semi_sync="fallen_back",
                 semi_sync_since=since.isoformat(), peer=pair.standby.url)
    pair.state(pair.primary).shared.record_event("semi_sync_fallen_back", {})
    pair.publish(pair.standby, state="error", semi_sync="off", peer=pair.primary.url,
                 io_thread="No", sql_thread="Yes", last_error="error reconnecting to master",
                 lag_seconds=None, lag_transactions=None)
    with qtbot.wait_signal(screen.loaded, timeout=WAIT):
        qtbot.mouseClick(screen.refresh_button, Qt.MouseButton.LeftButton)
    local = since.astimezone().strftime("%H:%M")
    assert screen.banner.isVisible()
    assert screen.banner.text() == f"备用服务器已断开：主服务器单机运行中，自 {local} 起"
    prim, stby = (c.text() for c in screen.cards)
    assert f"✘ 已降级（自 {local} 起只保存在主服务器）" in prim
    assert "✘ 出错" in stby and "接收 No · 应用 Yes" in stby
    assert screen.history.isVisible()  # when it fell back (the primary's records)
    assert screen.history.text().startswith("半同步降级记录：")
    assert screen.history.text().endswith(" 降级")
    win.resize(1920, 1080)
    save_shot(win, screenshots / "standby_dashboard_fallen_back_1920x1080.png")
    win.resize(1024, 768)
    save_shot(win, screenshots / "standby_dashboard_fallen_back_1024x768.png")
    # hidden: no refresh behind the owner's back
    win.show_checkout()
    assert not screen.timer.isActive()


def test_manager_sees_the_dashboard_without_the_failover_button(
        qtbot, pair, manager, make_api, runner, dialogs, tmp_path) -> None:
    win = open_counter(qtbot, pair, make_api, runner, dialogs, tmp_path, "mgr",
                       servers=[pair.primary.url, pair.standby.url])
    screen = show_standby(qtbot, win)
    assert len(screen.cards) == 2
    assert not screen.failover_button.isVisible()
    assert screen.open_failover() is None and dialogs.infos == ["只有店主可以切换服务器"]


def composite(win: MainWindow, dlg, path) -> None:
    """The window with the dialog drawn over its middle (as the owner sees it)."""
    QtCore.QCoreApplication.processEvents()
    pix = win.grab()
    d = dlg.grab()
    painter = QtGui.QPainter(pix)
    painter.fillRect(pix.rect(), QtGui.QColor(0, 0, 0, 60))
    painter.drawPixmap((pix.width() - d.width()) // 2, (pix.height() - d.height()) // 2, d)
    painter.end()
    assert pix.save(str(path))


def open_dialog(qtbot, screen: StandbyScreen) -> FailoverDialog:
    opened: list = []
    screen.failover_opened.connect(opened.append)
    with qtbot.wait_signal(screen.failover_opened, timeout=WAIT):
        qtbot.mouseClick(screen.failover_button, Qt.MouseButton.LeftButton)
    dlg = opened[0]
    assert isinstance(dlg, FailoverDialog)
    qtbot.addWidget(dlg)
    qtbot.wait_until(lambda: dlg.round is not None, timeout=WAIT)
    return dlg


@pytest.fixture
def standby_in_step(runtime) -> Iterator:
    """``align()``: make the test database look like a standby that has replicated all of its
    binary log (``gtid_slave_pos`` = ``gtid_binlog_pos``; else every test write is an errant
    transaction for the promotion checks). Put back afterwards when MariaDB allows it (it
    refuses a position behind its own binary log: then it stays aligned, which nothing else
    reads — a backup takes its position from the binary log, and the next write is "errant"
    again)."""
    conn = runtime.mariadb.admin_connect()
    with conn.cursor() as cur:
        cur.execute("SELECT @@global.gtid_slave_pos")
        before = cur.fetchone()[0]

    def align() -> None:
        with conn.cursor() as cur:
            cur.execute("SELECT @@global.gtid_binlog_pos")
            cur.execute("SET GLOBAL gtid_slave_pos = %s", (cur.fetchone()[0],))

    try:
        yield align
    finally:
        with conn.cursor() as cur, contextlib.suppress(pymysql.err.OperationalError):
            cur.execute("SET GLOBAL gtid_slave_pos = %s", (before,))
        conn.close()


def test_failover_dialog_shows_the_failed_checks(
        qtbot, pair, owner, make_api, runner, dialogs, tmp_path, screenshots) -> None:
    """The test database holds writes no primary sent: the standby's checks refuse."""
    for size in ((1024, 768), (1920, 1080)):
        win = open_counter(qtbot, pair, make_api, runner, dialogs, tmp_path, "boss",
                           servers=[pair.primary.url, pair.standby.url], size=size)
        screen = show_standby(qtbot, win)
        dlg = open_dialog(qtbot, screen)
        texts = dlg.check_texts()
        assert len(texts) == 6 and all(t[0] in "✔✘" for t in texts)
        # the primary answers the standby and this counter: both say so
        assert "✘ 主服务器仍有应答（API）：它可能还在运行，请先关掉它" in texts
        assert "✘ 本收银台还能连上主服务器：请先确认主服务器真的已停止" in texts
        assert "✔ 这是备用服务器" in texts
        assert any(t.startswith("✘ 备用服务器有不属于主服务器的数据") for t in texts)
        assert dlg.round.request.primary_reachable_from_counter is True
        assert dlg.round.request.counter_last_sale is None  # no sale at this counter yet
        assert "备用服务器还没有销售记录" in dlg.summary.text()
        assert "本收银台本次开机以来还没有收银" in dlg.summary.text()
        assert dlg.step_label.text() == "第 1 步（共 3 步）：检查"
        # nothing overrides errant transactions: no step 2
        assert not dlg.next_button.isEnabled()
        assert "现在不能切换" in dlg.verdict.text()
        composite(win, dlg, screenshots / f"failover_checks_{size[0]}x{size[1]}.png")
        dlg.close()
        win.close()


def test_failover_with_override_promotes_and_the_counter_uses_the_new_primary(
        qtbot, pair, owner, make_api, runner, dialogs, tmp_path, screenshots,
        standby_in_step) -> None:
    win = open_counter(qtbot, pair, make_api, runner, dialogs, tmp_path, "boss",
                       servers=[pair.primary.url, pair.standby.url])
    api = win.services.api
    # this counter's last sale (as a completed sale leaves it)
    sid, body = sale_body(new_product(api))
    win.counter.last_sale = api.create_sale(body, key=sid)
    number = win.counter.last_sale.number
    screen = show_standby(qtbot, win)
    standby_in_step()
    dlg = open_dialog(qtbot, screen)
    assert dlg.round.request.counter_last_sale == number
    assert f"备用服务器最后一笔销售是 {number}" in dlg.summary.text()
    assert dlg.summary.text().count(number) == 2  # the standby's and this counter's
    bad = [t for t in dlg.check_texts() if t.startswith("✘")]
    assert len(bad) == 2 and "主服务器仍有应答" in bad[0]  # only "the primary answers"
    assert dlg.next_button.isEnabled()
    qtbot.mouseClick(dlg.next_button, Qt.MouseButton.LeftButton)
    assert dlg.step_label.text() == "第 2 步（共 3 步）：确认"
    assert dlg.override.isVisible() and dlg.username_label.text() == "boss"
    assert not dlg.go_button.isEnabled()
    qtbot.keyClicks(dlg.password, TEST_PASSWORD)
    dlg.confirm_off.setChecked(True)
    assert not dlg.go_button.isEnabled()  # the primary still answers: the override is needed
    dlg.override.setChecked(True)
    assert dlg.go_button.isEnabled()
    composite(win, dlg, screenshots / "failover_confirm_1024x768.png")
    with qtbot.wait_signal(dlg.promoted, timeout=60_000) as done:
        qtbot.mouseClick(dlg.go_button, Qt.MouseButton.LeftButton)
    out = done.args[0]
    assert (out.role, out.epoch) == ("primary", 2) and out.backup_job_id
    assert dlg.result_title.text() == "✔ 切换完成"
    text = dlg.result_text.text()
    assert f"新的主服务器：127.0.0.1:{pair.standby.port}（切换序号 2" in text
    assert f"安全备份已开始（任务 {out.backup_job_id}）" in text
    assert "本收银台现在使用新的主服务器" in text
    assert not dlg.back_button.isVisible()
    c = pair.cluster(pair.standby)
    assert (c.role.value, c.epoch) == ("primary", 2)
    assert api.active_server == pair.standby.url and api.epoch == 2
    qtbot.wait_until(lambda: win.server_label.text()
                     == f"主服务器 127.0.0.1:{pair.standby.port}", timeout=WAIT)
    composite(win, dlg, screenshots / "failover_done_1024x768.png")
    # the old primary learns it from this counter's next request
    qtbot.wait_until(lambda: pair.cluster(pair.primary).role.value == "stale", timeout=WAIT)
    qtbot.mouseClick(dlg.close_button, Qt.MouseButton.LeftButton)
    qtbot.wait_until(lambda: screen.failover_button.isEnabled() is False, timeout=WAIT)


def test_failover_refused_by_the_server_shows_why(
        qtbot, pair, owner, make_api, runner, dialogs, tmp_path, screenshots,
        standby_in_step) -> None:
    win = open_counter(qtbot, pair, make_api, runner, dialogs, tmp_path, "boss",
                       servers=[pair.primary.url, pair.standby.url])
    screen = show_standby(qtbot, win)
    standby_in_step()
    dlg = open_dialog(qtbot, screen)
    qtbot.mouseClick(dlg.next_button, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(dlg.password, TEST_PASSWORD)
    dlg.confirm_off.setChecked(True)
    dlg.override.setChecked(True)
    # meanwhile a write lands on this database directly: the standby is no longer clean
    new_product(win.services.api)
    with qtbot.wait_signal(dlg.refused, timeout=60_000) as done:
        qtbot.mouseClick(dlg.go_button, Qt.MouseButton.LeftButton)
    err = done.args[0]
    assert (err.status, err.code) == (409, "promote_refused")
    assert dlg.result_title.text() == "✘ 没有切换"
    assert "不能切换到备用服务器" in dlg.result_text.text()
    assert "备用服务器有不属于主服务器的数据" in dlg.result_text.text()
    composite(win, dlg, screenshots / "failover_refused_1024x768.png")
    assert pair.cluster(pair.standby).role.value == "standby"  # nothing changed
    assert dlg.password.text() == ""  # not kept
    # back to the checks: they run again and say the same
    assert dlg.back_button.isVisible()
    qtbot.mouseClick(dlg.back_button, Qt.MouseButton.LeftButton)
    qtbot.wait_until(lambda: not dlg.busy and dlg.pages.currentIndex() == dlg.PAGE_CHECK,
                     timeout=WAIT)
    assert any("不属于主服务器" in t for t in dlg.check_texts())
