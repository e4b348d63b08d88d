"""The API against its own OpenAPI document (issue #16): a bounded schemathesis run over a live
server (waitress, real MariaDB) logged in as the owner, every operation, a fixed seed. It fails
on any server error (5xx other than 503) and on any answer the document does not describe
(body schema, status code). ``bench/fuzz_api.py`` is the broader sweep of malformed input.

Excluded from the generated run (they would end the session's database, token or config that
the rest of the run and suite share), each covered by the hand-written bad-input test below:
- ``POST /backups/{id}/restore``, ``POST /backups/restore-to``: replace the database;
- ``POST /backups``: starts a real mariadb-dump job per example (minutes, not input handling);
- ``PUT /backups/settings``: rewrites lanpos.toml of the session's data dir;
- ``/replication/*`` writes (pair, pairing-code, known-keys, promote, switchover): change the
  server's role and epoch;
- ``POST /auth/logout``: ends the token the run logs in with.
"""

from __future__ import annotations

import uuid

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from common.schemas.base import API_PREFIX

MAX_EXAMPLES = 10  # per operation and mode: the run takes about 2 minutes on 2 cores
EXCLUDED = {
    ("POST", "/backups/{backup_id}/restore"), ("POST", "/backups/restore-to"),
    ("POST", "/backups"), ("PUT", "/backups/settings"),
    ("POST", "/auth/logout"),
    ("POST", "/replication/pair"), ("POST", "/replication/pairing-code"),
    ("POST", "/replication/known-keys"), ("POST", "/replication/promote"),
    ("POST", "/replication/promote/check"), ("POST", "/replication/switchover/prepare"),
    ("POST", "/replication/switchover/promote"), ("POST", "/replication/switchover/finish"),
    ("POST", "/replication/switchover/abort"),
}
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]


def _operations(doc):
    schema = schemathesis.openapi.from_dict(doc)
    for result in schema.get_all_operations():
        op = result.ok()
        if (op.method.upper(), op.path.removeprefix(API_PREFIX)) not in EXCLUDED:
            yield op


@pytest.mark.slow
def test_schemathesis_run_finds_no_server_error(live_server, owner, make_staff):
    root = live_server.url.removesuffix(API_PREFIX)
    doc = requests.get(live_server.url + "/openapi.json", timeout=30).json()
    victim = make_staff("cashier", "fuzzvictim")  # PATCH /staff/{id} changes this one only
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {owner.token}"
    failures: list[str] = []
    calls = [0]

    def check(strategy, where: str) -> None:
        @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
                  derandomize=True, suppress_health_check=list(HealthCheck))
        @given(case=strategy)
        def run(case) -> None:
            calls[0] += 1
            response = case.call(base_url=root, session=session, timeout=30)
            try:
                case.validate_response(response, checks=CHECKS)
            except (Exception, BaseExceptionGroup) as e:  # collected: one report at the end
                failures.append(f"{where}: {str(e)[:600]}")

        try:
            run()
        except Unsatisfiable:  # negative mode: an operation with nothing to get wrong
            assert where.endswith("(negative)"), where

    for op in _operations(doc):
        overrides = {"staff_id": victim.id} if "{staff_id}" in op.path else None
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
            check(op.as_strategy(generation_mode=mode, path_parameters=overrides),
                  f"{op.method.upper()} {op.path} ({mode.value})")
    assert calls[0] > 200
    assert not failures, f"{len(failures)} failures:\n\n" + "\n\n".join(failures[:25])


def test_excluded_operations_refuse_bad_input(client, owner):
    """The operations left out of the generated run, given the kinds of bad input the run
    sends: each is refused with a 4xx error envelope, nothing changes, never a 500."""
    deep = ("[" * 200 + "]" * 200).encode()
    bodies = [b"null", b"[]", b'{"x": 1}', deep, b'{"confirm": "\\u0000"}',
              b'{"confirm": 9223372036854775808}', b'{"dir": null}']
    for method, path in sorted(EXCLUDED):
        url = API_PREFIX + path.replace("{backup_id}", "lanpos-20240101-000000Z")
        for body in bodies:
            r = client.open(url, method=method, data=body, content_type="application/json",
                            headers=owner.write_headers(str(uuid.uuid4())))
            if path == "/auth/logout" or (path == "/backups" and body == b'{"x": 1}'):
                continue  # logout takes no body; checked below
            assert 400 <= r.status_code < 500, (method, path, body[:30], r.status_code,
                                                r.get_data(as_text=True)[:300])
            assert "error" in r.get_json(), (method, path)
    r = client.post(API_PREFIX + "/auth/logout", data=deep, content_type="application/json",
                    headers=owner.write_headers())
    assert r.status_code < 500
