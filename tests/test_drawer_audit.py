"""POST /api/v1/audit/drawer: a manual cash-drawer opening is audited (managers only,
idempotent)."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from server.db.models import AuditLog


def test_manager_drawer_open_is_audited_once(client, manager, cashier, db_session) -> None:
    key = str(uuid.uuid4())
    r = client.post("/api/v1/audit/drawer", json={"reason": "换零钱"},
                    headers=manager.write_headers(key))
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["action"] == "drawer.open" and body["entity"] == "drawer"
    assert body["username"] == "mgr" and body["counter"] == "01"
    assert body["entity_id"] == "01" and body["reason"] == "换零钱"
    # the same request retried with the same key: replayed, not recorded twice
    again = client.post("/api/v1/audit/drawer", json={"reason": "换零钱"},
                        headers=manager.write_headers(key))
    assert again.status_code == 201 and again.get_json() == body
    assert again.headers.get("Idempotent-Replayed") == "true"
    # a cashier may not open the drawer by hand
    denied = client.post("/api/v1/audit/drawer", json={}, headers=cashier.write_headers())
    assert denied.status_code == 403
    assert denied.get_json()["error"]["code"] == "forbidden"
    n = db_session.scalar(select(func.count()).select_from(AuditLog)
                          .where(AuditLog.action == "drawer.open"))
    assert n == 1
    listed = client.get("/api/v1/audit?action=drawer.open", headers=manager.headers).get_json()
    assert [e["id"] for e in listed["items"]] == [body["id"]]
