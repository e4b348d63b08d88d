"""client.api against the real server (no mocked HTTP)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from client.api import normalize_server
from common.errors import ApiError
from common.schemas.base import Role
from server.db.models import Staff
from tests.conftest import TEST_PASSWORD

from .conftest import dead_address


def test_normalize_server_accepts_what_people_type() -> None:
    # another machine is https on the TLS port; plain http is 127.0.0.1's only
    assert normalize_server("192.168.1.10") == "https://192.168.1.10:8643/api/v1"
    assert normalize_server(" 192.168.1.10:9000/ ") == "https://192.168.1.10:9000/api/v1"
    assert normalize_server("https://h:1/api/v1") == "https://h:1/api/v1"
    assert normalize_server("http://127.0.0.1:8600") == "http://127.0.0.1:8600/api/v1"
    assert normalize_server("http://localhost") == "http://localhost:8600/api/v1"
    assert normalize_server("127.0.0.1") == "http://127.0.0.1:8600/api/v1"  # this machine
    assert normalize_server("127.0.0.1:18600") == "http://127.0.0.1:18600/api/v1"
    # a counter set up before TLS: its plain address is read as the server's https port,
    # never used in clear
    assert normalize_server("http://192.168.1.10:8600/api/v1") == \
        "https://192.168.1.10:8643/api/v1"
    assert normalize_server("http://h") == "https://h:8643/api/v1"
    with pytest.raises(ValueError):
        normalize_server("http://")
    with pytest.raises(ValueError):
        normalize_server("a b")


def test_login_me_logout(live_server, cashier, make_api) -> None:
    api = make_api([live_server.url], counter="07")
    res = api.login("cash", TEST_PASSWORD)
    assert res.staff.username == "cash" and res.staff.role == Role.CASHIER
    assert res.counter == "07" and api.token == res.token
    me = api.me()
    assert me.staff.id == cashier.id and me.counter == "07"
    token = api.token
    api.logout()
    assert api.token is None
    api.token = token  # the revoked token is refused by the server
    with pytest.raises(ApiError) as e:
        api.me()
    assert e.value.status == 401


def test_server_error_is_an_api_error_with_the_chinese_message(
    live_server, cashier, make_api
) -> None:
    api = make_api([live_server.url])
    with pytest.raises(ApiError) as e:
        api.login("cash", "wrong-password")
    assert e.value.status == 401 and e.value.code == "login_failed"
    assert "用户名或密码错误" in str(e.value)
    en = make_api([live_server.url], lang="en")
    with pytest.raises(ApiError) as e2:
        en.login("cash", "wrong-password")
    assert "Wrong username or password" in e2.value.message()


def test_cashier_is_forbidden_to_list_staff(live_server, cashier, make_api) -> None:
    api = make_api([live_server.url])
    api.login("cash", TEST_PASSWORD)
    with pytest.raises(ApiError) as e:
        api.list_staff()
    assert e.value.status == 403 and "没有权限" in e.value.message()


def test_typed_staff_and_audit_calls(live_server, owner, make_api, verified_backup) -> None:
    api = make_api([live_server.url])
    api.login("boss", TEST_PASSWORD)
    s = api.create_staff(
        {"username": "zhang", "display_name": "张三", "role": "cashier", "password": "pw123456"}
    )
    assert s.display_name == "张三" and s.role == Role.CASHIER
    s2 = api.update_staff(s.id, {"display_name": "张三丰"})
    assert s2.display_name == "张三丰"
    page = api.list_staff(q="zhang")
    assert [x.username for x in page.items] == ["zhang"] and not page.has_more
    audit = api.list_audit(entity="staff", entity_id=str(s.id))
    assert {e.action for e in audit.items} >= {"staff.create", "staff.update"}
    assert api.health().status == "ok"


def test_network_failure_is_a_readable_api_error(make_api) -> None:
    api = make_api([dead_address()], max_attempts=2, retry_delays=(0.01,))
    with pytest.raises(ApiError) as e:
        api.health()
    assert e.value.status == 0 and e.value.code == "server_unreachable"
    assert "无法连接服务器" in e.value.message()


def test_write_retried_with_the_same_key_after_a_lost_response(
    proxy, owner, db_session, make_api
) -> None:
    api = make_api([proxy.url])
    api.login("boss", TEST_PASSWORD)
    proxy.drop_write_responses = 1
    s = api.create_staff(
        {"username": "lisi", "display_name": "李四", "role": "cashier", "password": "pw123456"}
    )
    assert s.username == "lisi"
    posts = [(line, key) for line, key in proxy.requests if line.startswith("POST /api/v1/staff")]
    assert len(proxy.dropped) == 1
    assert len(posts) == 2, posts  # the lost one and its retry …
    assert posts[0][1] is not None and posts[0][1] == posts[1][1]  # … with the same key
    uuid.UUID(posts[0][1])
    n = db_session.scalar(select(func.count()).select_from(Staff).where(Staff.username == "lisi"))
    assert n == 1  # exactly one record


def test_caller_given_key_is_sent_and_replays(live_server, owner, db_session, make_api) -> None:
    api = make_api([live_server.url])
    api.login("boss", TEST_PASSWORD)
    key = str(uuid.uuid4())
    body = {"username": "wangwu", "display_name": "王五", "role": "cashier", "password": "pw123456"}
    a = api.create_staff(body, key=key)
    b = api.create_staff(body, key=key)  # e.g. the cashier pressed save again
    assert a.id == b.id
    with pytest.raises(ApiError) as e:
        api.create_staff({**body, "display_name": "王六"}, key=key)
    assert e.value.status == 409 and e.value.code == "idempotency_mismatch"


def test_failover_to_the_standby_address_when_the_primary_is_down(
    live_server, cashier, make_api
) -> None:
    api = make_api([dead_address(), live_server.url], retry_delays=(0.01,))
    res = api.login("cash", TEST_PASSWORD)
    assert res.staff.username == "cash"
    assert api.active_server == live_server.url
    assert api.me().staff.username == "cash"  # next call goes straight to the live one


def test_write_refused_by_the_standby_goes_to_the_primary(
    standby_server, live_server, owner, db_session, make_api
) -> None:
    api = make_api([standby_server.url, live_server.url])
    api.login("boss", TEST_PASSWORD)  # login is allowed on the standby
    assert api.active_server == standby_server.url
    assert api.list_staff().items  # reads are served by the standby
    # a token made on a standby is kept by that standby alone (its database is a replica):
    # the write needs one the primary knows too, as a login on the primary is (replicated)
    api.token = make_api([live_server.url]).login("boss", TEST_PASSWORD).token
    assert api.list_staff().items and api.active_server == standby_server.url
    s = api.create_staff(
        {"username": "zhao", "display_name": "赵六", "role": "cashier", "password": "pw123456"}
    )
    assert s.username == "zhao"
    assert api.active_server == live_server.url
    n = db_session.scalar(select(func.count()).select_from(Staff).where(Staff.username == "zhao"))
    assert n == 1


def test_only_a_standby_reachable_means_a_standby_message(standby_server, owner, make_api) -> None:
    api = make_api([dead_address(), standby_server.url], retry_delays=(0.01,))
    api.login("boss", TEST_PASSWORD)
    with pytest.raises(ApiError) as e:
        api.create_staff(
            {"username": "qian", "display_name": "钱七", "role": "cashier", "password": "pw123456"}
        )
    assert e.value.status == 503 and e.value.code == "standby_read_only"
    assert "备用服务器" in e.value.message()
