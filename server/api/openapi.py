"""OpenAPI 3.1 document generated from the endpoint specs and their pydantic schemas."""

from __future__ import annotations

import re
from typing import Any

from flask import current_app
from pydantic import TypeAdapter
from pydantic.json_schema import models_json_schema

from common import __version__
from common.schemas.base import API_PREFIX
from server.domain.idempotency import KEY_RE

from .base import PUBLIC, WRITE_METHODS, ApiBlueprint, Ctx, EndpointSpec, secret_fields

bp = ApiBlueprint("openapi", __name__, tag="system")

_RULE_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")
_REF = "#/components/schemas/{model}"


def _path(prefix: str, rule: str) -> tuple[str, list[dict[str, Any]]]:
    params = []
    for conv, name in _RULE_PARAM.findall(rule):
        schema = {"type": "integer"} if conv == "int" else {"type": "string"}
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    return prefix + _RULE_PARAM.sub(r"{\2}", rule), params


def _schema_ref(tp: Any, components: dict[str, Any]) -> dict[str, Any]:
    schema = TypeAdapter(tp).json_schema(ref_template=_REF, mode="serialization")
    components.update(schema.pop("$defs", {}))
    return schema


def error_statuses(spec: EndpointSpec) -> list[int]:
    """Every error status the dispatcher or a handler can answer for ``spec`` (the error
    envelope): 400 bad input (a body nested deeper than MAX_JSON_DEPTH, hidden characters, a bad
    Idempotency-Key); 401/403 who; 404 what (a path's row, an id in the body); 409 a rule or
    a conflict (a write: stale primary, busy, idempotency); 413 a body past its limit; 422 a
    shop rule refuses a write (``stock_not_tracked``, ``payment_mismatch`` …); 429
    too many failed logins from the address (a body with a password or PIN); 503
    maintenance / standby / database down."""
    out = [400, 401, 404]  # 401: a bad token, or a public login/pairing refused
    if spec.roles is not PUBLIC:
        out.append(403)
    if spec.method in WRITE_METHODS or spec.body is not None:
        out += [409, 413, 422]  # 422: a shop rule refuses it (stock not tracked, payments …)
    if secret_fields(spec.body):
        out.append(429)  # a password or PIN is checked: the address may be over its failures
    out.append(503)
    return sorted(set(out))


def build_document(specs: list[tuple[str, EndpointSpec]]) -> dict[str, Any]:
    components: dict[str, Any] = {}
    models = {s.body for _, s in specs if s.body} | {s.query for _, s in specs if s.query}
    _, defs = models_json_schema([(m, "validation") for m in models], ref_template=_REF)
    components.update(defs.get("$defs", {}))
    paths: dict[str, Any] = {}
    for prefix, spec in specs:
        path, params = _path(prefix, spec.rule)
        op: dict[str, Any] = {
            "operationId": spec.func_name,
            "summary": spec.summary,
            "tags": [spec.tag],
            "responses": {},
        }
        if spec.description:
            op["description"] = spec.description
        if spec.query is not None:
            for name, field in spec.query.model_fields.items():
                field_schema = TypeAdapter(field.annotation).json_schema(ref_template=_REF)
                params.append({"name": name, "in": "query", "required": field.is_required(),
                               "schema": field_schema})
        if spec.idempotent:
            params.append({"name": "Idempotency-Key", "in": "header", "required": True,
                           "description": "client-made UUID; a retry with the same key "
                                          "returns the first response",
                           "schema": {"type": "string", "pattern": KEY_RE.pattern}})
        if params:
            op["parameters"] = params
        if spec.body is not None:
            op["requestBody"] = {"required": True, "content": {"application/json": {
                "schema": {"$ref": _REF.format(model=spec.body.__name__)}}}}
        ok: dict[str, Any] = {"description": "OK"}
        if spec.response is not None:
            ok["content"] = {spec.content_type: {"schema": _schema_ref(spec.response,
                                                                         components)}}
        op["responses"][str(spec.status)] = ok
        for status in error_statuses(spec):
            op["responses"].setdefault(str(status), {"$ref": "#/components/responses/Error"})
        if spec.roles is not PUBLIC:
            op["security"] = [{"bearer": []}]
            op["x-roles"] = sorted(r.value for r in spec.roles)
        paths.setdefault(path, {})[spec.method.lower()] = op
    components["ErrorEnvelope"] = {
        "type": "object",
        "required": ["error"],
        "properties": {"error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string", "description": "cashier-readable"},
                "fields": {"type": "object", "additionalProperties": {"type": "string"}},
                "details": {"type": "object"},
            },
        }},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "lanpos API", "version": __version__,
                 "description": "LAN member-management and cashier system (会员管理收银系统)"},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "responses": {"Error": {"description": "error envelope", "content": {
                "application/json": {"schema": {"$ref": _REF.format(model="ErrorEnvelope")}}}}},
        },
    }


def app_specs() -> list[tuple[str, EndpointSpec]]:
    out = []
    for blueprint in current_app.blueprints.values():
        if isinstance(blueprint, ApiBlueprint):
            out.extend((API_PREFIX, s) for s in blueprint.specs)
    return out


@bp.endpoint("GET", "/openapi.json", roles=PUBLIC)
def openapi(ctx: Ctx) -> dict[str, Any]:
    """This document."""
    if ctx.state.openapi_document is None:
        ctx.state.openapi_document = build_document(app_specs())
    return ctx.state.openapi_document
