"""The one way to declare an API endpoint.

``ApiBlueprint.endpoint(...)`` registers a view and records its spec (roles, request and
response schemas, idempotency) so the OpenAPI document is generated from the very schemas that
validate requests. The wrapper does, in order:

1. language (Accept-Language), maintenance / standby checks;
2. parse and validate the JSON body and the query string with the pydantic schemas
   (400 ``validation_error`` with per-field messages);
3. open the request's database session; authenticate the bearer token and check the roles
   (401 / 403);
4. for idempotent writes: replay a stored response or 409 on a key reused with another body;
5. call the handler ``handler(ctx, body=..., query=..., **view_args)``;
6. serialise the result with the response schema, store the idempotency record, commit once;
7. retry the whole unit on deadlock / lock-wait time-out.

Handlers never commit and never touch ``request``; they call domain functions with ``ctx.db``
and ``ctx.actor``.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, current_app, g, request
from pydantic import BaseModel, TypeAdapter, ValidationError
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from common.errors import ApiError, field_message, message_for, pick_lang
from common.schemas.base import Role
from common.schemas.replication import CLUSTER_HEADER, EPOCH_HEADER
from common.text import has_hidden_characters
from server.appstate import LanposState
from server.clock import shop_clock
from server.db.models import AuthToken, Staff
from server.db.session import ER_DUP_ENTRY, is_connection_error, is_retryable, mysql_errno
from server.domain import auth as auth_domain
from server.domain import idempotency
from server.domain.actor import Actor
from server.replication.pairing import fence_database
from server.roles import policy
from server.state import Cluster, ServerRole, Snapshot

ALL_STAFF = frozenset({Role.OWNER, Role.MANAGER, Role.CASHIER})
MANAGERS = frozenset({Role.OWNER, Role.MANAGER})
OWNER = frozenset({Role.OWNER})
PUBLIC = None

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
MAX_ATTEMPTS = 5
MAX_JSON_DEPTH = 32  # the deepest real body (a sale: sale → lines → line → staff → share) is 5


@dataclass(frozen=True)
class EndpointSpec:
    method: str
    rule: str
    func_name: str
    roles: frozenset[Role] | None
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    response: Any
    status: int
    idempotent: bool
    summary: str
    description: str
    tag: str
    commit_errors: bool
    max_body: int | None = None
    content_type: str = "application/json"
    any_role: bool = False  # served by a standby and a stale server too (failover, pairing)


@dataclass
class Ctx:
    """Everything a handler may use."""

    db: Session
    lang: str
    state: LanposState
    actor: Actor | None = None
    staff: Staff | None = None
    token: AuthToken | None = None
    ip: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def me(self) -> Actor:
        if self.actor is None:  # pragma: no cover - only public endpoints lack an actor
            raise ApiError("unauthorized", status=401)
        return self.actor


def _validation_error(exc: ValidationError, lang: str, prefix: str = "") -> ApiError:
    fields: dict[str, str] = {}
    for err in exc.errors(include_url=False):
        loc = ".".join(str(p) for p in err.get("loc", ())) or "_body"
        loc = f"{prefix}{loc}"
        msg = err["msg"]
        if err["type"] == "value_error" and err.get("ctx", {}).get("error") is not None:
            msg = str(err["ctx"]["error"])  # our own validators' messages, without a prefix
        fields.setdefault(loc, field_message(err["type"], err.get("ctx"), msg, lang))
    return ApiError("validation_error", status=400, fields=fields)


def check_request_text(payload: Any, lang: str, prefix: str = "") -> None:
    """Refuse, before any schema or the database sees them, a body nested deeper than
    ``MAX_JSON_DEPTH`` (400 ``invalid_json``) and text holding NUL, other control characters
    or bidi marks anywhere in it (400 ``validation_error`` naming the field). Iterative: a
    deep body cannot exhaust the stack here."""
    fields: dict[str, str] = {}
    stack: list[tuple[Any, str, int]] = [(payload, "", 1)]
    while stack:
        value, loc, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > MAX_JSON_DEPTH:
                raise ApiError("invalid_json", status=400,
                               message=message_for("json_too_deep", lang, limit=MAX_JSON_DEPTH))
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str) and has_hidden_characters(key):
                    fields.setdefault(f"{prefix}{loc or '_body'}",
                                      field_message("control_characters", None, "", lang))
                stack.append((item, f"{loc}.{key}" if loc else str(key), depth + 1))
        elif isinstance(value, str) and has_hidden_characters(value):
            fields.setdefault(f"{prefix}{loc or '_body'}",
                              field_message("control_characters", None, "", lang))
    if fields:
        raise ApiError("validation_error", status=400, fields=fields)


def _parse_body(spec: EndpointSpec, lang: str) -> tuple[BaseModel | None, Any]:
    if spec.body is None:
        return None, None
    raw = request.get_data(cache=True)
    if not raw.strip():
        payload: Any = {}
    else:
        try:
            payload = json.loads(raw)
        except (ValueError, UnicodeDecodeError, RecursionError) as e:
            raise ApiError("invalid_json", status=400) from e
    if not isinstance(payload, dict):
        raise ApiError("invalid_json", status=400, message=None)
    check_request_text(payload, lang)
    try:
        return spec.body.model_validate(payload), payload
    except ValidationError as e:
        raise _validation_error(e, lang) from e


def _parse_query(spec: EndpointSpec, lang: str) -> BaseModel | None:
    if spec.query is None:
        return None
    data: dict[str, Any] = {}
    for key in request.args:
        values = request.args.getlist(key)
        data[key] = values if len(values) > 1 else values[0]
    check_request_text(data, lang)
    try:
        return spec.query.model_validate(data)
    except ValidationError as e:
        raise _validation_error(e, lang) from e


def named_secrets(body: type[BaseModel] | None) -> frozenset[str]:
    """The fields a body schema names in its ``secret_fields`` (a password or PIN checked
    like a login: clocking in)."""
    return frozenset(getattr(body, "secret_fields", frozenset())) if body else frozenset()


def secret_fields(body: type[BaseModel] | None) -> frozenset[str]:
    """The fields of a body that carry a secret checked like a login: a ``password`` field,
    or those named in the schema's ``secret_fields``. The OpenAPI document lists 429 for
    them (the address may be over its failed attempts)."""
    if body is None:
        return frozenset()
    return named_secrets(body) | ({"password"} & set(body.model_fields))


def without_secrets(body: type[BaseModel] | None, payload: Any) -> Any:
    """``payload`` without the fields its schema names in ``secret_fields``: an idempotency
    record's hash is never one of a PIN (a short PIN in a hash is as good as in clear)."""
    secrets = named_secrets(body)
    if not secrets or not isinstance(payload, dict):
        return payload
    return {k: v for k, v in payload.items() if k not in secrets}


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return None


@functools.cache
def _adapter(tp: Any) -> TypeAdapter[Any]:
    return TypeAdapter(tp)  # building one costs more than the validation itself


def _serialise(spec: EndpointSpec, result: Any) -> tuple[int, str]:
    status = spec.status
    if isinstance(result, tuple):
        result, status = result
    if result is None:
        return status, ""
    if isinstance(result, BaseModel):
        return status, result.model_dump_json()
    if spec.response is not None:
        adapter = _adapter(spec.response)
        value = adapter.validate_python(result, from_attributes=True)
        return status, adapter.dump_json(value).decode()
    return status, json.dumps(result, ensure_ascii=False, default=str)


def _json_response(status: int, body: str, replayed: bool = False) -> Response:
    resp = Response(body, status=status, mimetype="application/json")
    if replayed:
        resp.headers["Idempotent-Replayed"] = "true"
    return resp


class ApiBlueprint(Blueprint):
    """A Flask blueprint whose endpoints are declared with ``endpoint()``."""

    def __init__(self, name: str, import_name: str, tag: str, **kwargs: Any) -> None:
        super().__init__(name, import_name, **kwargs)
        self.tag = tag
        self.specs: list[EndpointSpec] = []

    def endpoint(
        self,
        method: str,
        rule: str,
        *,
        roles: frozenset[Role] | None,
        body: type[BaseModel] | None = None,
        query: type[BaseModel] | None = None,
        response: Any = None,
        status: int = 200,
        idempotent: bool | None = None,
        summary: str = "",
        commit_errors: bool = False,
        max_body: int | None = None,
        any_role: bool = False,
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        method = method.upper()
        if idempotent is None:
            idempotent = method in WRITE_METHODS and roles is not PUBLIC

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            doc = (fn.__doc__ or "").strip()
            spec = EndpointSpec(
                method=method, rule=rule, func_name=fn.__name__, roles=roles, body=body,
                query=query, response=response, status=status, idempotent=idempotent,
                summary=summary or (doc.splitlines()[0] if doc else fn.__name__),
                description=doc, tag=self.tag, commit_errors=commit_errors, max_body=max_body,
                any_role=any_role,
            )
            self.specs.append(spec)

            def view(**view_args: Any) -> Response:
                return _dispatch(spec, fn, view_args)

            view.__name__ = fn.__name__
            view.__doc__ = fn.__doc__
            self.add_url_rule(rule, endpoint=fn.__name__, view_func=view, methods=[method])
            return fn

        return decorator


ER_READ_ONLY = 1290  # the database is read-only: a standby's, or a fenced old primary's


def _refusal(state: LanposState, cluster: Cluster) -> ApiError:
    if cluster.role == ServerRole.STALE:
        replaced = shop_clock(state.config).local(cluster.changed_at).strftime("%Y-%m-%d %H:%M")
        return ApiError("stale_primary", status=409, replaced_at=replaced, epoch=cluster.epoch)
    return ApiError("standby_read_only", status=503)


def _newer_epoch(state: LanposState, epoch: int, ip: str | None) -> Snapshot:
    """A counter has seen a newer epoch: remember it; a primary learns it was replaced (the
    counters are the witnesses a two-machine pair lacks) and fences its database at once."""
    before = state.snapshot().cluster.role
    cluster = state.shared.learn_epoch(epoch, by=f"counter {ip or '?'}")
    if cluster.role == ServerRole.STALE and before != ServerRole.STALE:
        current_app.logger.error("a counter (%s) knows epoch %s: this server was replaced by "
                                 "the standby and takes no more writes", ip, epoch)
        try:
            fence_database(state.config)
        except Exception as e:  # the replication monitor corrects it within a second
            current_app.logger.warning("could not set the database read-only: %s", e)
    return state.snapshot()


def _dispatch(spec: EndpointSpec, fn: Callable[..., Any], view_args: dict[str, Any]) -> Response:
    state = current_app.extensions["lanpos"]
    lang = pick_lang(request.headers.get("Accept-Language"))
    is_write = spec.method in WRITE_METHODS and spec.roles is not PUBLIC
    snap = state.snapshot()  # role and maintenance, shared by every worker: one query
    seen = request.headers.get(EPOCH_HEADER, "")
    if (seen.isdigit() and int(seen) > snap.cluster.epoch
            and request.headers.get(CLUSTER_HEADER) == state.cluster_id):
        snap = _newer_epoch(state, int(seen), request.remote_addr)
    g.lanpos_cluster = snap.cluster
    if snap.maintenance is not None and spec.roles is not PUBLIC and not spec.any_role:
        raise ApiError("maintenance", status=503, reason=snap.maintenance.reason)
    if is_write and not spec.any_role and not policy(snap.cluster.role).accepts_writes:
        raise _refusal(state, snap.cluster)

    if spec.max_body is not None:
        request.max_content_length = spec.max_body  # e.g. file imports
    endpoint_name = f"{spec.method} {request.path}"
    ip = request.remote_addr
    reconnected = False
    for attempt in range(1, MAX_ATTEMPTS + 1):
        session: Session = state.session_factory()
        ctx = Ctx(db=session, lang=lang, ip=ip, state=state)
        try:
            # who first (401/403 before any detail of the request is judged), then what
            if spec.roles is not PUBLIC:
                ctx.actor, ctx.staff, ctx.token = auth_domain.authenticate(
                    session, bearer_token(), ip, local_tokens=state.shared.local_token)
                if ctx.actor.role not in spec.roles:
                    raise ApiError("forbidden", status=403)
            body, raw_body = _parse_body(spec, lang)
            kwargs: dict[str, Any] = dict(view_args)
            if spec.body is not None:
                kwargs["body"] = body
            if spec.query is not None:
                kwargs["query"] = _parse_query(spec, lang)
            key = None
            if spec.idempotent:
                key = idempotency.check_key(request.headers.get("Idempotency-Key"))
                req_hash = idempotency.request_hash(endpoint_name,
                                                    without_secrets(spec.body, raw_body))
            record = None
            if key is not None:
                try:
                    # claim the key first (no look-up before: one round trip for a new
                    # write); a concurrent copy of this request waits here on the key's lock
                    # until this transaction ends, then finds the key taken
                    record = idempotency.claim(session, key, ctx.actor.staff_id
                                               if ctx.actor else None, endpoint_name, req_hash)
                except IntegrityError as e:
                    if mysql_errno(e) != ER_DUP_ENTRY:
                        raise
                    session.rollback()
                    # a replay: the stored response (409 if the key came with another body)
                    stored = idempotency.lookup(session, key, req_hash)
                    if stored is None:  # pragma: no cover - the row was just seen
                        raise
                    session.rollback()
                    return _json_response(stored.status_code, stored.body, replayed=True)
            try:
                result = fn(ctx, **kwargs)
            except ApiError:
                if spec.commit_errors:
                    if record is not None:  # a refused write is not recorded: a retry runs
                        session.delete(record)
                    session.commit()
                raise
            status, text = _serialise(spec, result)
            if record is not None:
                idempotency.complete(session, record, status, text)
            session.commit()
            resp = _json_response(status, text)
            for name, value in ctx.headers.items():
                resp.headers[name] = value
            return resp
        except DBAPIError as e:
            session.rollback()
            if is_retryable(e) and attempt < MAX_ATTEMPTS:
                time.sleep(0.005 * attempt)
                continue
            if is_retryable(e):
                raise ApiError("busy_retry", status=409) from e
            if is_connection_error(e) and not reconnected and attempt < MAX_ATTEMPTS:
                # a pooled connection that died (the database was restarted, a restore
                # killed it): SQLAlchemy has dropped the pool; once more on a fresh one. Safe
                # for writes too: a write whose COMMIT did get through is found by its
                # idempotency key and replayed, not done twice
                reconnected = True
                continue
            if is_connection_error(e):
                raise ApiError("database_unavailable", status=503) from e
            if mysql_errno(e) == ER_READ_ONLY:  # fenced under us (a promotion elsewhere)
                raise _refusal(state, state.snapshot().cluster) from e
            raise
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
    raise AssertionError("unreachable")  # pragma: no cover
