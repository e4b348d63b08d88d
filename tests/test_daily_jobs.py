"""Daily housekeeping run by the server's scheduler thread: points expiry."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select, text

from server.db.members import Member, PointsLedger
from server.scheduler import Scheduler, build_report_days, expire_points
from tests.conftest import open_shift


def test_daily_jobs_run_once_per_day_and_survive_a_failure():
    calls: list[str] = []

    def boom():
        calls.append("boom")
        raise RuntimeError("broken job")

    sched = Scheduler(service=None, daily_jobs=[("boom", boom),  # type: ignore[arg-type]
                                                      ("ok", lambda: calls.append("ok"))])
    day = dt.date(2026, 11, 23)
    sched.run_daily_jobs(day)
    sched.run_daily_jobs(day)
    assert calls == ["boom", "ok"]
    sched.run_daily_jobs(day + dt.timedelta(days=1))
    assert calls == ["boom", "ok", "boom", "ok"]


def test_points_expiry_job_expires_old_points(runtime, client, manager, cashier, db_session,
                                              assert_invariants):
    m = client.post("/api/v1/members", json={"name": "王五", "phone": "13700001111"},
                    headers=cashier.write_headers()).get_json()
    r = client.post(f"/api/v1/members/{m['id']}/points", json={"change": 500, "reason": "老积分"},
                    headers=manager.write_headers())
    assert r.status_code in (200, 201), r.get_json()
    # the points were earned 14 months ago
    db_session.execute(text("UPDATE points_ledger SET at = NOW() - INTERVAL 14 MONTH "
                            "WHERE member_id = :m"), {"m": m["id"]})
    db_session.commit()
    r = client.put("/api/v1/members/settings", json={"points_expiry_months": 12},
                   headers=manager.write_headers())
    assert r.status_code == 200, r.get_json()
    out = expire_points(runtime)
    assert out.startswith("500 points of 1 members expired")
    db_session.rollback()
    assert db_session.get(Member, m["id"]).points == 0
    kinds = db_session.scalars(select(PointsLedger.kind).where(
        PointsLedger.member_id == m["id"]).order_by(PointsLedger.id)).all()
    assert kinds == ["adjust", "expire"]
    # running again changes nothing
    assert expire_points(runtime).startswith("0 points")
    assert_invariants()


def test_report_days_job_builds_every_closed_day_once(runtime, client, manager, cashier,
                                                      db_session):
    """The nightly job fills the report cache from the first sale to the day before
    yesterday; a second run has nothing to do."""
    p = client.post("/api/v1/products", json={"name": "毛巾", "price": 1200},
                    headers=manager.write_headers()).get_json()
    open_shift(client, cashier)
    sale_id = str(uuid.uuid4())
    r = client.post("/api/v1/sales", json={
        "id": sale_id, "lines": [{"product_id": p["id"], "qty": 1}],
        "payments": [{"method": "cash", "amount": 1200}]},
        headers=cashier.write_headers(sale_id))
    assert r.status_code == 201, r.get_json()
    assert build_report_days(runtime) == "report days built: 0"  # only today's sale
    db_session.execute(text("UPDATE sales SET business_date = :d"),
                       {"d": dt.date.today() - dt.timedelta(days=6)})
    db_session.commit()
    assert build_report_days(runtime) == "report days built: 5"  # 6..2 days ago
    assert build_report_days(runtime) == "report days built: 0"
    total = db_session.execute(text(
        "SELECT SUM(total) FROM report_days WHERE dim = 'day'")).scalar()
    assert total == 1200
