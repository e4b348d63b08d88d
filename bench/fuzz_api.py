"""Black-box fuzz of a running lanpos API: malformed bodies, queries, headers and path
parameters sent to every operation of its OpenAPI document; prints every 5xx answer.

    python bench/fuzz_api.py http://127.0.0.1:8080/api/v1 USER PASSWORD

(``tests/test_fuzz_openapi.py`` is the bounded schemathesis run of the suite; this script is
the broader, slower sweep used to find the classes of bad input.)
"""

from __future__ import annotations

import json
import sys
import uuid
from typing import Any

import requests

from common.schemas.base import API_PREFIX

BIG = 2**63
BAD_VALUES: list[Any] = [
    BIG, BIG - 1, -BIG - 1, 2**31, -1, 0, 1.5, 1e308, "abc", "", None, True, [], {},
    "x" * 70_000, "\x00", "a\u202eb", "\u2066x\u2069", "\x07\x1b", "é中文😀", [1] * 3,
    {"a": 1}, "9" * 40, "1e5", "-0",
]
PATH_VALUES = ["0", "-1", str(BIG), "9" * 30, "abc", "%00", "%E2%80%AE", "1.5", "中文"]
DESTRUCTIVE = ("restore", "promote", "switchover", "pair", "known-keys", "logout")


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def example(doc: dict[str, Any], schema: dict[str, Any], ids: dict[str, Any],
            name: str = "", depth: int = 0) -> Any:
    schema = _resolve(doc, schema)
    if name in ids:
        return ids[name]
    if "default" in schema and schema["default"] is not None:
        return schema["default"]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [s for s in schema[key] if _resolve(doc, s).get("type") != "null"]
            return example(doc, options[0], ids, name, depth) if options else None
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    t = schema.get("type")
    if t == "object" and depth < 6:
        props = schema.get("properties", {})
        return {k: example(doc, props[k], ids, k, depth + 1)
                for k in schema.get("required", []) if k in props}
    if t == "array":
        n = schema.get("minItems", 0)
        return [example(doc, schema.get("items", {}), ids, name, depth + 1) for _ in range(n)]
    if t == "integer":
        lo = schema.get("minimum", schema.get("exclusiveMinimum", 0))
        return int(lo) + (1 if "exclusiveMinimum" in schema else 0) or 1
    if t == "boolean":
        return False
    if t == "string":
        fmt = schema.get("format")
        if fmt == "uuid":
            return str(uuid.uuid4())
        if fmt == "date":
            return "2024-01-02"
        if fmt == "date-time":
            return "2024-01-02T03:04:05+00:00"
        return "x" * max(1, schema.get("minLength", 1))
    return None


def variants(doc: dict[str, Any], schema: dict[str, Any], base: dict[str, Any]):
    schema = _resolve(doc, schema)
    for field, sub in schema.get("properties", {}).items():
        for bad in BAD_VALUES:
            yield f"{field}={str(bad)[:20]!r}", {**base, field: bad}
        sub = _resolve(doc, sub)
        # one level down: lists of objects (lines, payments)
        items = None
        for s in [sub, *sub.get("anyOf", [])]:
            s = _resolve(doc, s)
            if s.get("type") == "array":
                items = _resolve(doc, s.get("items", {}))
            elif s.get("type") == "object" and s.get("properties"):
                items = s
                inner = example(doc, s, {})
                for v, body in variants(doc, s, inner if isinstance(inner, dict) else {}):
                    yield f"{field}.{v}", {**base, field: body}
        if items and items.get("type") == "object":
            inner = example(doc, items, {})
            for v, body in variants(doc, items, inner if isinstance(inner, dict) else {}):
                yield f"{field}[0].{v}", {**base, field: [body]}


def raw_bodies():
    deep = "[" * 1000 + "]" * 1000
    yield "deep-list", deep.encode(), "application/json"
    yield "deep-dict", ('{"a":' * 1000 + "1" + "}" * 1000).encode(), "application/json"
    yield "deep-100", ('{"a":' * 100 + "1" + "}" * 100).encode(), "application/json"
    yield "bad-utf8", b'{"a": "\xff\xfe"}', "application/json"
    yield "null", b"null", "application/json"
    yield "list", b"[]", "application/json"
    yield "nan", b'{"a": NaN}', "application/json"
    yield "huge-int", b'{"a": ' + b"9" * 5000 + b"}", "application/json"
    yield "form", b"a=1", "application/x-www-form-urlencoded"
    yield "text", b'{"a": 1}', "text/plain"


def run(base_url: str, token: str, ids: dict[str, Any]) -> list[str]:
    doc = requests.get(base_url + "/openapi.json", timeout=30).json()
    root = base_url.removesuffix(API_PREFIX)  # the document's paths carry the prefix
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {token}"
    found: list[str] = []
    sent = 0
    statuses: dict[int, int] = {}

    def send(method: str, path: str, label: str, **kw: Any) -> None:
        nonlocal sent
        headers = kw.pop("headers", {})
        headers.setdefault("Idempotency-Key", str(uuid.uuid4()))
        try:
            r = s.request(method, root + path, headers=headers, timeout=60, **kw)
        except requests.RequestException as e:
            found.append(f"{method} {path} [{label}]: {e}")
            return
        sent += 1
        statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
        if r.status_code == 401:
            found.append(f"{method} {path} [{label}]: 401 (lost the login?)")
        if r.status_code >= 500 and r.status_code != 503:
            found.append(f"{method} {path} [{label}]: {r.status_code} {r.text[:200]}")

    for path, ops in doc["paths"].items():
        if any(d in path for d in DESTRUCTIVE):
            continue
        for method, op in ops.items():
            method = method.upper()
            params = op.get("parameters", [])
            concrete = path
            for p in params:
                if p["in"] == "path":
                    concrete = concrete.replace("{" + p["name"] + "}", str(ids.get(p["name"], 1)))
            for p in params:
                if p["in"] == "path":
                    for v in PATH_VALUES:
                        send(method, path.replace("{" + p["name"] + "}", v), f"path {v}",
                             json={})
            query = [p for p in params if p["in"] == "query"]
            qbase = {p["name"]: example(doc, p["schema"], ids, p["name"]) for p in query
                     if p.get("required")}
            for p in query:
                for bad in BAD_VALUES:
                    if isinstance(bad, dict | list) or bad is None:
                        continue
                    send(method, concrete, f"query {p['name']}={str(bad)[:20]!r}",
                         params={**qbase, p["name"]: str(bad)})
            for key in ["", "x", "é" * 10, "a" * 65, "a" * 10_000, "a b c d e f",
                        "12345678"]:
                try:
                    key.encode("latin-1")
                except UnicodeEncodeError:
                    continue
                send(method, concrete, f"idem {key[:10]!r}", json={},
                     headers={"Idempotency-Key": key})
            body = op.get("requestBody")
            if body is None:
                continue
            schema = body["content"]["application/json"]["schema"]
            base = example(doc, schema, ids)
            base = base if isinstance(base, dict) else {}
            send(method, concrete, "base", json=base)
            for label, b in variants(doc, schema, base):
                send(method, concrete, label, data=json.dumps(b),
                     headers={"Content-Type": "application/json"})
            for label, raw, ctype in raw_bodies():
                send(method, concrete, label, data=raw, headers={"Content-Type": ctype})
    print(f"{sent} requests, {len(found)} server errors; statuses {statuses}", file=sys.stderr)
    return found


def main(argv: list[str]) -> int:
    base_url, user, password = argv[1:4]
    r = requests.post(base_url + "/auth/login", json={"username": user, "password": password,
                                                      "counter": "01"}, timeout=30)
    r.raise_for_status()
    found = run(base_url, r.json()["token"], {})
    print("\n".join(found))
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
