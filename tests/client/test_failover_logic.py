"""The pure parts of the standby pair on the counter: which server to write to, what the
dashboard shows, when the failover may go on (client/failover.py, client/api.pick_writer,
client/shell/server_watch helpers, the epoch in the settings). No server needed."""

from __future__ import annotations

import datetime as dt
import json

from client.api import ApiClient, ServerView, normalize_server, pick_writer
from client.backoffice import failover
from client.settings import ClientSettings, SettingsStore
from client.shell.server_watch import role_in_use, server_status
from common.errors import ApiError
from common.schemas.replication import (
    FailoverCheck,
    PromoteCheckIn,
    PromoteCheckOut,
    PromoteIn,
    PromoteOut,
    ReplicationHealth,
    ReplicationStatusOut,
    SemiSyncChange,
    ServerFacts,
)

A = normalize_server("192.168.1.10:8600")
B = normalize_server("192.168.1.11:8600")
C = normalize_server("192.168.1.12:8600")
OURS, OTHER = "1111aaaa2222bbbb", "0123456789abcdef"


def chk(code: str, ok: bool, overridable: bool = False) -> FailoverCheck:
    return FailoverCheck(code=code, ok=ok, message=f"{code} {'好' if ok else '不好'}",
                         overridable=overridable and not ok)


ALL_OK = [chk("is_standby", True), chk("primary_unreachable", True),
          chk("relay_log_applied", True), chk("no_errant_gtids", True), chk("disk_space", True)]


def with_failed(*bad: FailoverCheck) -> list[FailoverCheck]:
    codes = {b.code for b in bad}
    return [c for c in ALL_OK if c.code not in codes] + list(bad)


# --- pick_writer --------------------------------------------------------------------------

def test_pick_writer_takes_the_primary_of_the_newest_epoch() -> None:
    views = [ServerView(A, True, "stale", 2), ServerView(B, True, "primary", 2)]
    assert pick_writer(views, 2, A) == B
    # an old primary that has not heard of the promotion yet is never chosen
    views = [ServerView(A, True, "primary", 1), ServerView(B, False)]
    assert pick_writer(views, 2, A) is None
    # the highest epoch wins; unreachable ones do not count
    views = [ServerView(A, True, "primary", 1), ServerView(B, True, "primary", 3),
             ServerView(C, False, "primary", 9)]
    assert pick_writer(views, 0, A) == B
    # no primary answers: keep what works (reads may be served by a standby)
    assert pick_writer([ServerView(A, True, "standby", 1)], 1, A) is None
    # equals: the current one stays
    views = [ServerView(A, True, "primary", 2), ServerView(B, True, "primary", 2)]
    assert pick_writer(views, 2, B) == B and pick_writer(views, 2, None) == A


def test_pick_writer_compares_epochs_within_the_cluster_only() -> None:
    views = [ServerView(A, True, "primary", 1, cluster=OURS),
             ServerView(B, True, "primary", 5, cluster=OTHER)]
    assert pick_writer(views, 0, A) == B  # no cluster asked for: the highest epoch
    # another installation's primary (a newer epoch of *its* own) is never taken over ours
    assert pick_writer(views, 1, A, cluster=OURS) == A
    assert pick_writer(views, 1, B, cluster=OURS) == A
    assert pick_writer(views[1:], 1, A, cluster=OURS) is None  # none of ours: keep what works
    assert pick_writer(views, 5, B, cluster=OTHER) == B
    # a server that sends no cluster id (an older version) still counts
    old = [ServerView(A, True, "standby", 1, cluster=OURS), ServerView(C, True, "primary", 2)]
    assert pick_writer(old, 1, A, cluster=OURS) == C


def test_cluster_id_given_to_the_client_is_checked() -> None:
    api = ApiClient([A], epoch=3, cluster=f" {OURS} ")
    assert (api.epoch, api.cluster, api.fencing) == (3, OURS, (3, OURS))
    assert ApiClient([A], epoch=3, cluster="not an id!").cluster == ""
    # an epoch of another cluster replaces the pair (even a smaller one); of ours it only grows
    api.observe_epoch(2)
    assert api.fencing == (3, OURS)
    api.observe_epoch(7, OURS)
    assert api.fencing == (7, OURS)
    api.observe_epoch(1, OTHER)
    assert api.fencing == (1, OTHER)


def test_status_bar_text_and_warning() -> None:
    assert role_in_use(None, A, [A, B]) == "primary"  # before it said: the settings' order
    assert role_in_use(None, B, [A, B]) == "standby"
    assert role_in_use("stale", A, [A, B]) == "stale"
    text, tip, warn = server_status("primary", A)
    assert text == "主服务器 192.168.1.10:8600" and not warn and tip
    text, _tip, warn = server_status("standby", B)
    assert text == "⚠ 备用服务器 192.168.1.11:8600（只读，不能收银）" and warn
    text, _tip, warn = server_status("stale", A)
    assert "旧主服务器 192.168.1.10:8600" in text and "不能收银" in text and warn


def test_settings_keep_the_epoch(tmp_path) -> None:
    store = SettingsStore(tmp_path / "client.json")
    s = ClientSettings(epoch=7).with_servers("192.168.1.10", "192.168.1.11")
    store.save(s)
    assert json.loads(store.path.read_text(encoding="utf-8"))["epoch"] == 7
    assert store.load() == s and store.load().epoch == 7
    store.path.write_text(json.dumps({"servers": [A], "epoch": "x"}), encoding="utf-8")
    assert store.load().epoch == 0  # a bad value is ignored, not fatal


def test_settings_keep_the_cluster_with_the_epoch(tmp_path) -> None:
    store = SettingsStore(tmp_path / "client.json")
    assert ClientSettings().cluster == "" and store.load().cluster == ""
    s = ClientSettings(epoch=7, cluster=OURS).with_servers("192.168.1.10")
    store.save(s)
    data = json.loads(store.path.read_text(encoding="utf-8"))
    assert (data["epoch"], data["cluster"]) == (7, OURS)
    loaded = store.load()
    assert loaded == s and (loaded.epoch, loaded.cluster) == (7, OURS)
    assert "cluster" not in loaded.extra
    # a bad value is ignored, not fatal (and the rest of the file is kept)
    for bad in (12, ["x"], "no spaces please", "x" * 65):
        store.path.write_text(json.dumps({"servers": [A], "epoch": 4, "cluster": bad}),
                              encoding="utf-8")
        got = store.load()
        assert (got.cluster, got.epoch, got.servers) == ("", 4, (A,)), bad
        assert "cluster" not in got.extra
    # a file of an older version (no cluster id): the epoch alone
    store.path.write_text(json.dumps({"servers": [A], "epoch": 4}), encoding="utf-8")
    assert (store.load().epoch, store.load().cluster) == (4, "")


# --- failover rules -----------------------------------------------------------------------

def test_override_is_offered_only_when_the_primary_still_answers() -> None:
    assert not failover.override_offered(ALL_OK)
    reachable = chk("primary_unreachable", False, overridable=True)
    counter = chk("counter_view", False, overridable=True)
    assert failover.override_offered(with_failed(reachable))
    assert failover.override_offered(with_failed(reachable, counter))
    # anything else failed as well: no override
    assert not failover.override_offered(with_failed(reachable, chk("no_errant_gtids", False)))
    assert not failover.override_offered(with_failed(chk("relay_log_applied", False)))
    # the server did not mark it overridable: none
    assert not failover.override_offered(with_failed(chk("primary_unreachable", False)))


def test_can_submit_needs_password_confirmation_and_override_when_asked() -> None:
    ok = PromoteCheckOut(ok=True, checks=ALL_OK, summary="")
    hung = PromoteCheckOut(ok=False, summary="", checks=with_failed(
        chk("primary_unreachable", False, overridable=True)))
    blocked = PromoteCheckOut(ok=False, summary="", checks=with_failed(
        chk("no_errant_gtids", False)))
    assert failover.may_continue(ok) and failover.may_continue(hung)
    assert not failover.may_continue(blocked)
    assert failover.can_submit(ok, "pw", True, False)
    assert not failover.can_submit(ok, "", True, False)  # no password
    assert not failover.can_submit(ok, "pw", False, False)  # the old server not confirmed off
    assert not failover.can_submit(None, "pw", True, True)  # no checks yet
    assert not failover.can_submit(hung, "pw", True, False)  # the override must be ticked
    assert failover.can_submit(hung, "pw", True, True)
    assert not failover.can_submit(blocked, "pw", True, True)  # nothing overrides errant GTIDs


def test_requests_and_check_lines() -> None:
    body = failover.check_request("", True)
    assert body == PromoteCheckIn(counter_last_sale=None, primary_reachable_from_counter=True)
    p = failover.promote_request(failover.check_request("20261201-02-0042", False), "boss",
                                 "pw", True, False)
    assert p == PromoteIn(counter_last_sale="20261201-02-0042",
                          primary_reachable_from_counter=False, username="boss",
                          password="pw", confirm_primary_off=True,
                          override_primary_reachable=False)
    lines = failover.check_lines([chk("is_standby", True), chk("disk_space", False)])
    assert [(x.ok, x.text) for x in lines] == [(True, "✔ is_standby 好"),
                                               (False, "✘ disk_space 不好")]


def test_refused_checks_come_from_the_error_details() -> None:
    raw = [chk("no_errant_gtids", False).model_dump(), {"code": "broken"},
           chk("disk_space", True).model_dump()]
    err = ApiError("promote_refused", status=409, reason="x", checks=raw)
    got = failover.refused_checks(err)
    assert [c.code for c in got] == ["no_errant_gtids", "disk_space"]  # the bad item skipped
    assert [c.code for c in failover.failed_checks(got)] == ["no_errant_gtids"]
    assert failover.refused_checks(ApiError("promote_refused", status=409, reason="x")) == []


class StubFailoverApi:
    """Implements ``failover.FailoverApi`` with canned answers (the HTTP side is tested
    against the real servers in test_standby_client.py)."""

    def __init__(self, reachable: bool) -> None:
        self._reachable = reachable
        self.calls: list[tuple] = []

    def reachable(self, server: str, timeout: float = 2.0) -> bool:
        self.calls.append(("reachable", server))
        return self._reachable

    def promote_check(self, server: str, body: PromoteCheckIn) -> PromoteCheckOut:
        self.calls.append(("check", server, body))
        return PromoteCheckOut(ok=not body.primary_reachable_from_counter, checks=ALL_OK,
                               summary="s")

    def promote(self, server: str, body: PromoteIn) -> PromoteOut:
        self.calls.append(("promote", server, body))
        return PromoteOut(role="primary", epoch=2, backup_job_id="j1", checks=ALL_OK,
                          seconds=1.5)


def test_run_checks_then_promote_carry_the_counters_view() -> None:
    api = StubFailoverApi(reachable=False)
    r = failover.run_checks(api, B, A, "20261201-02-0042")
    assert api.calls[0] == ("reachable", A)
    assert r.request.primary_reachable_from_counter is False
    assert r.request.counter_last_sale == "20261201-02-0042" and r.result.ok
    out = failover.run_promote(api, B, r, "boss", "pw", True, False)
    assert out.epoch == 2
    sent = api.calls[-1][2]
    assert api.calls[-1][1] == B and sent.counter_last_sale == "20261201-02-0042"
    assert sent.primary_reachable_from_counter is False and sent.confirm_primary_off
    # no primary known: nothing asked, "not asked" sent
    api = StubFailoverApi(reachable=True)
    r = failover.run_checks(api, B, None, None)
    assert [c[0] for c in api.calls] == ["check"]
    assert r.request.primary_reachable_from_counter is None


# --- the dashboard ------------------------------------------------------------------------

def facts(address: str, role: str, epoch: int = 1, **rep) -> ServerFacts:
    return ServerFacts(address=address, role=role, epoch=epoch,
                       replication=ReplicationHealth(state=rep.pop("state", "streaming"), **rep))


def test_merge_status_both_answer_primary_first() -> None:
    since = dt.datetime(2026, 12, 1, 6, 3, tzinfo=dt.UTC)
    sa = ReplicationStatusOut(this=facts("elsewhere:1", "primary", semi_sync="fallen_back",
                                         semi_sync_since=since),
                              peer=facts(B, "standby"), warnings=["w1"])
    sb = ReplicationStatusOut(this=facts(None, "standby", lag_seconds=3.0),
                              peer=facts(A, "primary"), warnings=["w1", "w2"])
    v = failover.merge_status([B, A], {A: sa, B: sb})
    assert [s.address for s in v.servers] == [A, B]  # each as it describes itself
    assert v.servers[1].replication.lag_seconds == 3.0
    assert v.warnings == ["w1", "w2"] and v.not_reached == {}
    assert v.fallen_back_since == since
    assert v.primary_address() == A and v.failover_target() == B


def test_merge_status_a_dead_primary_is_shown_as_its_peer_sees_it() -> None:
    sb = ReplicationStatusOut(this=facts(B, "standby", state="connecting"),
                              peer=ServerFacts(address="http://10.0.0.1:8600", reachable=False,
                                               error="timed out"))
    err = ApiError("server_unreachable", status=0, message="无法连接服务器（A）")
    v = failover.merge_status([A, B], {A: err, B: sb})
    assert [s.address for s in v.servers] == [B, A]  # the standby (a role) first
    dead = v.servers[1]
    assert dead.reachable is False and dead.error == "timed out"  # the peer's view wins
    assert v.not_reached == {A: "无法连接服务器（A）"}
    assert v.primary_address() == A  # the other server of the pair
    assert v.failover_target() == B


def test_merge_status_learns_an_unknown_peer_and_unreachable_standby() -> None:
    sa = ReplicationStatusOut(this=facts(A, "primary"), peer=facts(C, "standby"))
    v = failover.merge_status([A], {A: sa})
    assert [s.address for s in v.servers] == [A, C]
    assert v.failover_target() == C
    err = ApiError("server_unreachable", status=0, message="x")
    v = failover.merge_status([A, B], {A: sa, B: err})
    assert [s.address for s in v.servers] == [A, B]  # C is B under another name
    assert v.servers[1].role == "standby"
    assert v.failover_target() is None  # this counter cannot reach the standby
    v = failover.merge_status([A, B], {A: err, B: err})
    assert all(not s.reachable for s in v.servers) and v.failover_target() is None


def test_fallen_back_since_from_the_history_when_no_time_is_given() -> None:
    at = dt.datetime(2026, 12, 1, 6, 3, tzinfo=dt.UTC)
    f = facts(A, "primary", semi_sync="fallen_back").model_copy(update={
        "semi_sync_fallbacks": [SemiSyncChange(at=at - dt.timedelta(days=1), state="fallen_back"),
                                SemiSyncChange(at=at, state="fallen_back")]})
    assert failover.fallen_back_since([f]) == at
    assert failover.fallen_back_since([facts(A, "primary", semi_sync="on")]) is None


def test_every_standby_string_has_both_languages() -> None:
    from client.strings.standby import STANDBY_STRINGS

    for key, (zh, en) in STANDBY_STRINGS.items():
        assert zh and en, key
