"""A salon for the appointment tests (预约): two bookable stylists, services with durations,
a group class, and the shop clock frozen at a chosen moment (shop time)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import server.clock
from common.schemas.base import Role
from server.clock import shop_clock

API = "/api/v1"


def post(client, who, path, body=None, status=201):
    r = client.post(f"{API}{path}", json=body, headers=who.write_headers())
    assert r.status_code == status, (path, r.get_json())
    return r.get_json()


def next_monday(weeks: int = 1) -> dt.date:
    today = dt.date.today()
    return today + dt.timedelta(days=7 * weeks - today.weekday())


def freeze(monkeypatch, app, local: dt.datetime) -> None:
    """The shop clock (``server.clock.utcnow``) stands still at ``local`` shop time."""
    clock = shop_clock(app.extensions["lanpos"].config)
    moment = clock.to_utc(local)
    monkeypatch.setattr(server.clock, "utcnow", lambda: moment)


@dataclass
class Salon:
    day: dt.date  # a Monday, in the future
    amei: object  # StaffLogin
    xiaobo: object
    wash: dict  # 洗剪吹 60 min, 20 % commission
    dye: dict  # 染发 90 min
    yoga: dict  # 团课 19:00, 60 min, 2 places


def make_salon(client, manager, make_staff, monkeypatch, app, capacity: int = 2) -> Salon:
    day = next_monday()
    freeze(monkeypatch, app, dt.datetime.combine(day, dt.time(8, 0)))
    amei = make_staff(Role.CASHIER, "amei")
    xiaobo = make_staff(Role.CASHIER, "xiaobo")
    for s, name in ((amei, "阿美"), (xiaobo, "小波")):
        r = client.patch(f"{API}/staff/{s.id}", json={
            "display_name": name, "bookable": True, "work_start": "10:00",
            "work_end": "19:00", "work_days": 127}, headers=manager.write_headers())
        assert r.status_code == 200, r.get_json()
    wash = post(client, manager, "/products", {
        "name": "洗剪吹", "kind": "service", "price": 8800, "duration_minutes": 60,
        "commission_kind": "percent", "commission_value": 2000})
    dye = post(client, manager, "/products", {
        "name": "染发", "kind": "service", "price": 26800, "duration_minutes": 90,
        "commission_kind": "fixed", "commission_value": 3000})
    yoga = post(client, manager, "/products", {
        "name": "瑜伽团课", "kind": "service", "price": 6000, "duration_minutes": 60,
        "capacity": capacity, "class_start": "19:00"})
    return Salon(day, amei, xiaobo, wash, dye, yoga)


def at(day: dt.date, hhmm: str) -> str:
    return f"{day.isoformat()}T{hhmm}:00"


def book(client, who, product_ids, start: str, staff_id=None, status=201, **extra):
    body = {"product_ids": product_ids, "starts_at": start, "staff_id": staff_id, **extra}
    if "member_id" not in extra and "customer_name" not in extra:
        body.update(customer_name="王女士", phone="13912345678")
    r = client.post(f"{API}/appointments", json=body, headers=who.write_headers())
    assert r.status_code == status, r.get_json()
    return r.get_json()
