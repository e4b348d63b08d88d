"""Foundation API: health, auth, roles, validation envelope, idempotency, audit, OpenAPI."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import requests
from sqlalchemy import func, select

from common.schemas.base import Role
from server.db.models import AuditLog, IdempotencyRecord, Staff

from .conftest import TEST_PASSWORD


def test_health_needs_no_login(app, client, owner, backups_here):
    # health counts the backups: none verified yet is a warning (status "degraded") ...
    r = client.get("/api/v1/health")
    assert r.status_code == 200
    body = r.get_json()
    assert body["status"] == "degraded"
    assert any("no verified backup" in w for w in body["warnings"]), body
    svc = backups_here
    svc.verify(svc.backup().id)  # ... and one verified backup makes it "ok"
    r = client.get("/api/v1/health")
    assert r.status_code == 200
    body = r.get_json()
    assert body["status"] == "ok", body
    assert body["epoch"] >= 1 and body["maintenance"] is None
    assert body["database"] == "ok"
    assert body["role"] == "primary"
    assert body["version"]
    assert body["schema_version"] == "0001" or body["schema_version"].isdigit()


def test_login_ok_returns_token_that_works(client, make_staff):
    make_staff(Role.CASHIER, "alice")
    r = client.post("/api/v1/auth/login",
                    json={"username": "alice", "password": TEST_PASSWORD, "counter": "02"})
    assert r.status_code == 200
    data = r.get_json()
    assert len(data["token"]) >= 40
    assert data["staff"]["role"] == "cashier"
    assert "password_hash" not in data["staff"]
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {data['token']}"})
    assert me.status_code == 200
    assert me.get_json()["counter"] == "02"


def test_token_is_stored_hashed(client, make_staff, db_session):
    from server.db.models import AuthToken

    login = make_staff(Role.CASHIER, "hashcheck")
    stored = db_session.scalars(select(AuthToken.token_hash)).all()
    assert login.token not in stored
    assert len(stored) == 1 and len(stored[0]) == 64


def test_login_bad_password_and_unknown_user(client, make_staff):
    make_staff(Role.CASHIER, "bob")
    r = client.post("/api/v1/auth/login", json={"username": "bob", "password": "wrong"})
    assert r.status_code == 401
    err = r.get_json()["error"]
    assert err["code"] == "login_failed"
    assert "密码" in err["message"]
    r = client.post("/api/v1/auth/login", json={"username": "nobody", "password": "x"})
    assert r.status_code == 401
    assert r.get_json()["error"]["code"] == "login_failed"


def test_five_failed_logins_lock_the_account(client, make_staff, db_session):
    make_staff(Role.CASHIER, "carol")
    codes = []
    for _ in range(5):
        r = client.post("/api/v1/auth/login", json={"username": "carol", "password": "nope"})
        codes.append(r.get_json()["error"]["code"])
    assert codes == ["login_failed"] * 4 + ["account_locked"]
    # even the right password is refused while locked
    r = client.post("/api/v1/auth/login",
                    json={"username": "carol", "password": TEST_PASSWORD})
    assert r.status_code == 403
    assert r.get_json()["error"]["code"] == "account_locked"
    staff = db_session.scalars(select(Staff).where(Staff.username == "carol")).one()
    assert staff.locked_until is not None


def test_manager_can_unlock_a_locked_cashier(client, make_staff, manager):
    cashier = make_staff(Role.CASHIER, "dave")
    for _ in range(5):
        client.post("/api/v1/auth/login", json={"username": "dave", "password": "nope"})
    r = client.patch(f"/api/v1/staff/{cashier.id}", json={"unlock": True},
                     headers=manager.write_headers())
    assert r.status_code == 200, r.get_json()
    r = client.post("/api/v1/auth/login", json={"username": "dave", "password": TEST_PASSWORD})
    assert r.status_code == 200


def test_logout_revokes_the_token(client, cashier):
    assert client.get("/api/v1/auth/me", headers=cashier.headers).status_code == 200
    assert client.post("/api/v1/auth/logout", headers=cashier.headers).status_code == 204
    r = client.get("/api/v1/auth/me", headers=cashier.headers)
    assert r.status_code == 401
    assert r.get_json()["error"]["code"] == "unauthorized"


def test_requests_without_token_get_401(client):
    for method, path in [("get", "/api/v1/staff"), ("post", "/api/v1/staff"),
                         ("get", "/api/v1/audit"), ("get", "/api/v1/auth/me")]:
        r = getattr(client, method)(path, json={} if method == "post" else None)
        assert r.status_code == 401, path
        assert r.get_json()["error"]["code"] == "unauthorized"
    r = client.get("/api/v1/staff", headers={"Authorization": "Bearer not-a-real-token"})
    assert r.status_code == 401


def test_cashier_gets_403_on_manager_and_owner_endpoints(client, cashier):
    r = client.get("/api/v1/staff", headers=cashier.headers)
    assert r.status_code == 403
    assert r.get_json()["error"]["code"] == "forbidden"
    r = client.get("/api/v1/audit", headers=cashier.headers)
    assert r.status_code == 403


def test_manager_may_manage_cashiers_only(client, manager):
    r = client.post("/api/v1/staff", headers=manager.write_headers(), json={
        "username": "newmgr", "display_name": "新店长", "role": "manager", "password": "abcdef1"})
    assert r.status_code == 403
    assert r.get_json()["error"]["code"] == "cannot_manage_role"
    r = client.post("/api/v1/staff", headers=manager.write_headers(), json={
        "username": "newcash", "display_name": "新收银", "role": "cashier", "password": "abcdef1"})
    assert r.status_code == 201, r.get_json()
    new_id = r.get_json()["id"]
    r = client.patch(f"/api/v1/staff/{new_id}", headers=manager.write_headers(),
                     json={"role": "owner"})
    assert r.status_code == 403


def test_validation_errors_have_per_field_messages(client, owner):
    r = client.post("/api/v1/staff", headers=owner.write_headers(), json={
        "username": "x", "role": "janitor", "password": "1", "balance": 100})
    assert r.status_code == 400
    err = r.get_json()["error"]
    assert err["code"] == "validation_error"
    assert set(err["fields"]) >= {"username", "display_name", "role", "password", "balance"}
    assert err["fields"]["display_name"] == "必填"
    assert err["fields"]["balance"] == "不允许的字段"
    # English on request
    r = client.post("/api/v1/staff", headers={**owner.write_headers(), "Accept-Language": "en"},
                    json={"username": "okname"})
    assert r.get_json()["error"]["fields"]["display_name"] == "Required"


def test_invalid_json_and_wrong_types_are_400_not_500(client, owner):
    r = client.post("/api/v1/staff", headers={**owner.write_headers(),
                                              "Content-Type": "application/json"},
                    data=b"{not json")
    assert r.status_code == 400
    assert r.get_json()["error"]["code"] == "invalid_json"
    r = client.post("/api/v1/staff", headers=owner.write_headers(), json=[1, 2])
    assert r.status_code == 400
    r = client.get("/api/v1/staff?page=abc", headers=owner.headers)
    assert r.status_code == 400
    assert "page" in r.get_json()["error"]["fields"]


def test_unknown_route_and_method_use_the_envelope(client):
    r = client.get("/api/v1/no-such-thing")
    assert r.status_code == 404
    assert r.get_json()["error"]["code"] == "route_not_found"
    r = client.delete("/api/v1/health")
    assert r.status_code == 405
    assert r.get_json()["error"]["code"] == "method_not_allowed"


def test_request_too_large_is_413(client, owner):
    big = {"username": "big", "display_name": "x" * (3 * 1024 * 1024), "role": "cashier",
           "password": "abcdef"}
    r = client.post("/api/v1/staff", headers=owner.write_headers(), json=big)
    assert r.status_code == 413
    assert r.get_json()["error"]["code"] == "payload_too_large"


def _new_cashier(username: str) -> dict:
    return {"username": username, "display_name": "收银员", "role": "cashier",
            "password": "abcdef1"}


def test_write_without_idempotency_key_is_rejected(client, owner):
    r = client.post("/api/v1/staff", headers=owner.headers, json=_new_cashier("nokey"))
    assert r.status_code == 400
    assert r.get_json()["error"]["code"] == "idempotency_key_required"


def test_idempotent_replay_and_mismatch(client, owner, db_session):
    key = str(uuid.uuid4())
    r1 = client.post("/api/v1/staff", headers=owner.write_headers(key),
                     json=_new_cashier("erin"))
    assert r1.status_code == 201
    r2 = client.post("/api/v1/staff", headers=owner.write_headers(key),
                     json=_new_cashier("erin"))
    assert r2.status_code == 201
    assert r2.get_json() == r1.get_json()
    assert r2.headers["Idempotent-Replayed"] == "true"
    n = db_session.scalar(select(func.count()).select_from(Staff).where(Staff.username == "erin"))
    assert n == 1
    r3 = client.post("/api/v1/staff", headers=owner.write_headers(key),
                     json=_new_cashier("frank"))
    assert r3.status_code == 409
    assert r3.get_json()["error"]["code"] == "idempotency_mismatch"
    assert db_session.scalar(select(func.count()).select_from(Staff).where(
        Staff.username == "frank")) == 0
    assert db_session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 1


def test_failed_write_is_not_recorded_so_a_retry_runs_again(client, owner, make_staff):
    make_staff(Role.CASHIER, "gina")
    key = str(uuid.uuid4())
    r = client.post("/api/v1/staff", headers=owner.write_headers(key), json=_new_cashier("gina"))
    assert r.status_code == 409
    assert r.get_json()["error"]["code"] == "username_taken"


def test_concurrent_retries_with_one_key_write_once(live_server, owner, db_session):
    """Ten copies of one request race through the real HTTP server: one staff row."""
    key = str(uuid.uuid4())

    def post(_):
        return requests.post(live_server.url + "/staff", json=_new_cashier("henry"),
                             headers=owner.write_headers(key), timeout=30)

    with ThreadPoolExecutor(10) as pool:
        results = list(pool.map(post, range(10)))
    assert {r.status_code for r in results} == {201}
    assert len({r.json()["id"] for r in results}) == 1
    n = db_session.scalar(select(func.count()).select_from(Staff).where(
        Staff.username == "henry"))
    assert n == 1


def test_audit_rows_for_staff_changes(client, owner, db_session):
    r = client.post("/api/v1/staff", headers=owner.write_headers(), json=_new_cashier("ivy"))
    staff_id = r.get_json()["id"]
    r = client.patch(f"/api/v1/staff/{staff_id}", headers=owner.write_headers(),
                     json={"display_name": "艾薇", "password": "newpass9"})
    assert r.status_code == 200
    rows = db_session.scalars(select(AuditLog).where(AuditLog.entity == "staff",
                                                     AuditLog.entity_id == str(staff_id))
                              .order_by(AuditLog.id)).all()
    assert [r.action for r in rows] == ["staff.create", "staff.update"]
    assert rows[1].username == "boss" and rows[1].counter == "01"
    assert rows[1].before["display_name"] == "收银员"
    assert rows[1].after["display_name"] == "艾薇"
    assert rows[1].after["password_changed"] is True
    assert "password_hash" not in str(rows[1].after)
    # readable through the API by the owner
    r = client.get(f"/api/v1/audit?entity=staff&entity_id={staff_id}", headers=owner.headers)
    assert r.status_code == 200
    assert [e["action"] for e in r.get_json()["items"]] == ["staff.update", "staff.create"]


def test_last_owner_cannot_be_demoted(client, owner):
    r = client.patch(f"/api/v1/staff/{owner.id}", headers=owner.write_headers(),
                     json={"role": "manager"})
    assert r.status_code == 409
    assert r.get_json()["error"]["code"] == "last_owner"


def test_deactivated_staff_loses_access(client, owner, cashier):
    r = client.patch(f"/api/v1/staff/{cashier.id}", headers=owner.write_headers(),
                     json={"active": False})
    assert r.status_code == 200
    assert client.get("/api/v1/auth/me", headers=cashier.headers).status_code == 401
    r = client.post("/api/v1/auth/login", json={"username": "cash", "password": TEST_PASSWORD})
    assert r.status_code == 403
    assert r.get_json()["error"]["code"] == "account_disabled"


def test_staff_list_pages(client, owner, make_staff):
    for i in range(5):
        make_staff(Role.CASHIER, f"pager{i}")
    r = client.get("/api/v1/staff?page_size=4", headers=owner.headers)
    body = r.get_json()
    assert len(body["items"]) == 4 and body["has_more"] is True
    r = client.get("/api/v1/staff?page_size=4&page=2", headers=owner.headers)
    body = r.get_json()
    assert len(body["items"]) == 2 and body["has_more"] is False


def test_openapi_document_covers_every_route(client, app):
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    doc = r.get_json()
    assert doc["openapi"].startswith("3.")
    paths = doc["paths"]
    import re

    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        assert path in paths, path
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in paths[path], (method, path)
    login = paths["/api/v1/auth/login"]["post"]
    ref = login["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    name = ref.rsplit("/", 1)[1]
    assert set(doc["components"]["schemas"][name]["properties"]) == {
        "username", "password", "counter"}
    create = paths["/api/v1/staff"]["post"]
    assert any(p["name"] == "Idempotency-Key" for p in create["parameters"])
    assert create["x-roles"] == ["manager", "owner"]
    # every $ref resolves
    text = r.get_data(as_text=True)
    for ref in set(re.findall(r'"#/components/schemas/([^"]+)"', text)):
        assert ref in doc["components"]["schemas"], ref


def test_standby_refuses_writes_with_503(app, client, owner):
    shared = app.extensions["lanpos"].shared
    shared.set_role("standby", by="test")
    try:
        r = client.post("/api/v1/staff", headers=owner.write_headers(),
                        json=_new_cashier("sam"))
        assert r.status_code == 503
        assert r.get_json()["error"]["code"] == "standby_read_only"
        assert client.get("/api/v1/staff", headers=owner.headers).status_code == 200
        assert client.get("/api/v1/health").get_json()["role"] == "standby"
    finally:
        shared.set_role("primary", by="test")


def test_database_unavailable_is_503(runtime):
    from server.app import create_app
    from server.config import Config
    from server.ops.mariadb import pick_free_port

    cfg = Config.load(runtime.config.data_dir)
    cfg.database.url = f"mysql+pymysql://x:y@127.0.0.1:{pick_free_port(39900)}/nope"
    app = create_app(cfg)
    c = app.test_client()
    r = c.get("/api/v1/health")
    assert r.status_code == 503  # a monitor reading only the status code sees it (issue 12)
    assert r.get_json()["database"] == "unavailable"
    assert r.get_json()["status"] == "down"
    r = c.get("/api/v1/staff", headers={"Authorization": "Bearer abc"})
    assert r.status_code == 503
    assert r.get_json()["error"]["code"] == "database_unavailable"
    r = c.post("/api/v1/auth/login", json={"username": "a", "password": "b"})
    assert r.status_code == 503
