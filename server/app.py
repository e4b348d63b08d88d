"""Flask application factory (served by waitress, see ``server.cli``)."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
import uuid
from typing import Any

from flask import Flask, Response, g, request
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from common import __version__
from common.errors import ApiError, pick_lang
from common.schemas.replication import CLUSTER_HEADER, EPOCH_HEADER, ROLE_HEADER
from server.api import register_blueprints
from server.appstate import LanposState, Services
from server.config import Config
from server.db.session import is_connection_error, make_engine, make_session_factory
from server.domain.auth import AuthPolicy, Passwords
from server.runtime import Runtime
from server.state import SharedState

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 2 * 1024 * 1024
_PID = str(os.getpid())


def create_app(config: Config, engine: Engine | None = None, *, run_jobs: bool = True,
               shared: SharedState | None = None) -> Flask:
    """The Flask app of one data directory. ``run_jobs``: run queued jobs (backup, verify,
    restore) in a thread of this process — off in the API workers of ``lanpos-server run``,
    whose supervisor runs them."""
    app = Flask(__name__, instance_path=str(config.data_dir), instance_relative_config=False)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    if engine is None:
        engine = make_engine(config.database_url(), pool_size=config.server.threads + 2)
    if shared is None:
        shared = SharedState.for_data_dir(config.data_dir)
    sec = config.security
    factory = make_session_factory(engine)
    runtime = Runtime(config, engine=engine)
    runtime._factory = factory
    if config.managed:
        runtime.mariadb = runtime.managed_instance()  # run by the supervisor, not by us
    state = LanposState(
        config=config,
        engine=engine,
        session_factory=factory,
        passwords=Passwords(sec.argon2_time_cost, sec.argon2_memory_kib),
        auth_policy=AuthPolicy(sec.token_ttl_hours, sec.max_failed_logins, sec.lockout_minutes,
                               sec.max_failed_logins_per_address, sec.login_window_minutes),
        shared=shared,
        services=Services.build(runtime, shared, run_jobs=run_jobs),
    )
    app.extensions["lanpos"] = state
    _register_error_handlers(app)
    register_blueprints(app)
    return app


def _error_response(err: ApiError) -> Response:
    lang = pick_lang(request.headers.get("Accept-Language"))
    resp = Response(
        _dumps(err.envelope(lang)), status=err.status, mimetype="application/json"
    )
    if err.status == 503:
        resp.headers["Retry-After"] = "5"
    if err.status == 429:  # too_many_attempts: the seconds until the address may try again
        resp.headers["Retry-After"] = str(err.params.get("retry_after", 60))
    if err.status == 401:
        resp.headers["WWW-Authenticate"] = 'Bearer realm="lanpos"'
    return resp


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)


def _register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(err: ApiError) -> Response:
        return _error_response(err)

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(_err: RequestEntityTooLarge) -> Response:
        limit = f"{(request.max_content_length or MAX_BODY_BYTES) // 1024 // 1024} MB"
        return _error_response(ApiError("payload_too_large", status=413, limit=limit))

    @app.errorhandler(HTTPException)
    def _http_error(err: HTTPException) -> Response:
        code = {404: "route_not_found", 405: "method_not_allowed"}.get(err.code or 500)
        if code is None:
            return _error_response(ApiError("http_error", status=err.code or 500,
                                            message=err.description or err.name))
        return _error_response(ApiError(code, status=err.code or 500))

    @app.errorhandler(DBAPIError)
    def _db_error(err: DBAPIError) -> Response:
        if is_connection_error(err):
            return _error_response(ApiError("database_unavailable", status=503))
        return _internal(err)

    @app.errorhandler(Exception)
    def _internal(err: Exception) -> Response:
        ref = uuid.uuid4().hex[:8]
        log.exception("internal error %s on %s %s", ref, request.method, request.path)
        return _error_response(ApiError("internal_error", status=500, ref=ref))

    @app.before_request
    def _start_timer() -> None:
        g.lanpos_t0 = time.perf_counter()

    @app.after_request
    def _headers(resp: Response) -> Response:
        t0 = g.get("lanpos_t0")
        if t0 is not None:  # server-side time of the request (benchmarks, slow-request logs)
            ms = (time.perf_counter() - t0) * 1000
            resp.headers["Server-Timing"] = f"app;dur={ms:.2f}"
        resp.headers.setdefault("X-Lanpos-Version", __version__)
        resp.headers["X-Lanpos-Process"] = _PID  # which worker answered (logs, tests)
        cluster = g.get("lanpos_cluster")
        if cluster is None:
            with contextlib.suppress(Exception):
                cluster = app.extensions["lanpos"].snapshot().cluster
        if cluster is not None:  # the counters follow the primary and carry its epoch
            resp.headers[ROLE_HEADER] = cluster.role.value
            resp.headers[EPOCH_HEADER] = str(cluster.epoch)
            resp.headers[CLUSTER_HEADER] = app.extensions["lanpos"].cluster_id
        resp.headers.setdefault("Cache-Control", "no-store")
        return resp
