"""One shop clock (``[shop] timezone``, ``server.clock``): the business day, reports, receipts
and the config, on a machine whose own time zone is another one; and the shop name's one
source (the database)."""

from __future__ import annotations

import datetime as dt
import os
import time
import uuid
from collections.abc import Callable, Iterator

import pytest

from client.counter.receipts import local_time
from common import timezones
from server import clock as clock_module
from server.clock import ShopClock, shop_clock
from server.config import Config
from server.db.models import Setting
from server.domain import shop
from server.domain.actor import Actor
from tests.conftest import open_shift

SH = "Asia/Shanghai"
SALE_MOMENT = dt.datetime(2026, 11, 30, 17, 30, tzinfo=dt.UTC)  # 01:30 on 12-01 in Shanghai


@pytest.fixture
def machine_tz() -> Iterator[Callable[[str], None]]:
    """Set this process's own time zone (``TZ`` + ``time.tzset``); restored afterwards."""
    before = os.environ.get("TZ")

    def set_tz(name: str) -> None:
        os.environ["TZ"] = name
        time.tzset()

    try:
        yield set_tz
    finally:
        if before is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = before
        time.tzset()


@pytest.fixture
def frozen_now(monkeypatch) -> None:
    """The shop clock's "now" (``server.clock.utcnow``): 2026-11-30 17:30 UTC."""
    monkeypatch.setattr(clock_module, "utcnow", lambda: SALE_MOMENT)


# -- the clock itself ---------------------------------------------------------------------------
def test_the_business_day_is_the_shops_not_the_machines(machine_tz, frozen_now):
    machine_tz("UTC")
    assert ShopClock(SH).today() == dt.date(2026, 12, 1)
    assert ShopClock(SH).now().hour == 1
    assert ShopClock("").today() == dt.date(2026, 11, 30)  # empty: the machine's zone
    sh = ShopClock(SH)
    assert sh.to_stored(dt.datetime(2026, 12, 1, 1, 30)) == dt.datetime(2026, 11, 30, 17, 30)
    assert sh.day_start(dt.date(2026, 12, 1)) == dt.datetime(2026, 11, 30, 16, 0)
    assert sh.local(dt.datetime(2026, 11, 30, 16, 0)).replace(tzinfo=None) == \
        dt.datetime(2026, 12, 1, 0, 0)


def test_an_unknown_zone_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Base'"):
        ShopClock("Mars/Base")
    assert "Asia/Shanghai" in (timezones.zone_problem("Mars/Base") or "")
    assert timezones.zone_problem("") is None and timezones.zone_problem(SH) is None


def test_the_machine_zone_follows_tz_and_daylight_saving(machine_tz):
    machine_tz("Europe/Berlin")
    local = timezones.zone("")
    winter = dt.datetime(2026, 1, 15, 12, 0, tzinfo=local)
    summer = dt.datetime(2026, 7, 15, 12, 0, tzinfo=local)
    assert winter.utcoffset() == dt.timedelta(hours=1)
    assert summer.utcoffset() == dt.timedelta(hours=2)  # not the offset of "now"
    # the hour that repeats when the clocks go back: both readings, an hour apart
    first = dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC).astimezone(local)
    second = dt.datetime(2026, 10, 25, 1, 30, tzinfo=dt.UTC).astimezone(local)
    assert first.replace(tzinfo=None) == second.replace(tzinfo=None) == \
        dt.datetime(2026, 10, 25, 2, 30)
    assert (first.utcoffset(), second.utcoffset()) == (dt.timedelta(hours=2),
                                                       dt.timedelta(hours=1))
    machine_tz("UTC")
    assert winter.utcoffset() == dt.timedelta(0)  # asked of the OS each time


def test_receipts_show_shop_time_when_the_server_publishes_it(machine_tz):
    machine_tz("UTC")
    stored = dt.datetime(2026, 11, 30, 17, 30)  # naive UTC, as the server sends it
    assert local_time(stored, SH) == dt.datetime(2026, 12, 1, 1, 30)
    assert local_time(stored) == stored  # no zone published: this machine's time
    assert local_time(stored, "Nowhere/Else") == stored  # unknown here: the machine's


# -- the config -------------------------------------------------------------------------------
def test_backup_timezone_of_an_older_config_becomes_the_shops(tmp_path):
    (tmp_path / "lanpos.toml").write_text(
        '[shop]\nname = "丽人美发"\n\n[backup]\ntimezone = "Asia/Shanghai"\nkeep_last = 3\n',
        encoding="utf-8")
    cfg = Config.load(tmp_path)
    assert cfg.shop.timezone == SH and cfg.backup.keep_last == 3
    assert not hasattr(cfg.backup, "timezone")
    assert shop_clock(cfg).tz.key == SH  # type: ignore[attr-defined]
    cfg.save()
    saved = (tmp_path / "lanpos.toml").read_text(encoding="utf-8")
    shop_part, backup_part = saved.split("[backup]")
    assert 'timezone = "Asia/Shanghai"' in shop_part.split("[shop]")[1]
    assert "timezone" not in backup_part
    # [shop] timezone wins over a leftover [backup] one
    (tmp_path / "lanpos.toml").write_text(
        '[shop]\ntimezone = "Europe/Berlin"\n\n[backup]\ntimezone = "Asia/Shanghai"\n',
        encoding="utf-8")
    assert Config.load(tmp_path).shop.timezone == "Europe/Berlin"


def test_the_cli_refuses_an_unknown_shop_zone(tmp_path):
    from server.cli import main

    (tmp_path / "lanpos.toml").write_text('[shop]\ntimezone = "Mars/Base"\n', encoding="utf-8")
    with pytest.raises(SystemExit) as e:
        main(["backup", "list", "--data-dir", str(tmp_path)])
    assert "[shop] timezone" in str(e.value.code) and "Mars/Base" in str(e.value.code)


# -- through the API --------------------------------------------------------------------------
@pytest.fixture
def shanghai_shop(app, monkeypatch, machine_tz, frozen_now):
    """The app's shop in Asia/Shanghai, on a machine whose own zone is UTC, at 17:30 UTC on
    2026-11-30 (01:30 on 2026-12-01 in the shop)."""
    machine_tz("UTC")
    config = app.extensions["lanpos"].config
    monkeypatch.setattr(config, "shop", type(config.shop)(name=config.shop.name, timezone=SH))
    return app


def _sale(client, who, product_id: int) -> dict:
    sale_id = str(uuid.uuid4())
    r = client.post("/api/v1/sales", json={
        "id": sale_id, "lines": [{"product_id": product_id, "qty": 1}],
        "payments": [{"method": "cash", "amount": 500}]}, headers=who.write_headers(sale_id))
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_a_sale_after_midnight_shop_time_counts_on_the_shops_new_day(
        shanghai_shop, client, manager, cashier, assert_invariants):
    r = client.post("/api/v1/products", json={"name": "绿茶", "price": 500},
                    headers=manager.write_headers())
    assert r.status_code == 201, r.get_json()
    shift = open_shift(client, cashier)
    sale = _sale(client, cashier, r.get_json()["id"])
    assert sale["number"].startswith("20261201-"), sale["number"]

    def report(day: str) -> dict:
        r = client.get("/api/v1/reports/sales", headers=manager.headers, query_string={
            "date_from": day, "date_to": day, "group": "day"})
        assert r.status_code == 200, r.get_json()
        return r.get_json()

    rep = report("2026-12-01")
    assert rep["totals"]["sales"] == 1 and rep["totals"]["total"] == 500
    assert [row["key"] for row in rep["rows"]] == ["2026-12-01"]
    assert report("2026-11-30")["totals"]["sales"] == 0
    # the day close is of the shop's day too
    r = client.get("/api/v1/shifts/day-close", headers=manager.headers)
    assert r.status_code == 200 and r.get_json()["business_date"] == "2026-12-01", r.get_json()
    assert [(s["id"], s["sales_count"]) for s in r.get_json()["shifts"]] == [(shift["id"], 1)]
    # counters print shop time: the server publishes the zone with the shop settings
    r = client.get("/api/v1/settings/shop", headers=cashier.headers)
    assert r.status_code == 200 and r.get_json()["timezone"] == SH
    stored = dt.datetime.fromisoformat(sale["created_at"])
    assert local_time(stored, r.get_json()["timezone"]).date() == stored.astimezone(
        timezones.zone(SH)).date()
    assert_invariants()


def test_the_shop_name_comes_from_the_database(app, client, owner, db_session):
    state = app.extensions["lanpos"]
    assert client.get("/api/v1/health").get_json()["shop_name"] == "lanpos 门店"  # default
    assert shop.seed(db_session, Actor.system("init"), "好邻居便利店") is True
    db_session.commit()
    assert client.get("/api/v1/health").get_json()["shop_name"] == "好邻居便利店"
    assert shop.seed(db_session, Actor.system("init"), "别的名字") is False  # only once
    r = client.put("/api/v1/settings/shop", json={"name": "丽人美发"},
                   headers=owner.write_headers())
    assert r.status_code == 200, r.get_json()
    db_session.rollback()  # a new snapshot (REPEATABLE READ)
    stored = db_session.get(Setting, shop.KEY).value
    assert stored["name"] == "丽人美发" and "timezone" not in stored  # read-only, not stored
    assert client.get("/api/v1/health").get_json()["shop_name"] == "丽人美发"
    assert state.config.shop.name != "丽人美发"  # lanpos.toml is not the source
