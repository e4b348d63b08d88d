"""The shared state file (server.state) and the job runner (server.jobs), across processes."""

from __future__ import annotations

import multiprocessing
import threading
import time
from pathlib import Path

import pytest

from common.errors import ApiError
from server.jobs import JobQueue, JobRunner
from server.state import JobBusy, JobState, ServerRole, SharedState


def _claim_in_child(path: str, n: int, out) -> None:
    st = SharedState(path)
    out.put([st.claim_slot("daily:x", f"2026-12-{d:02d}") for d in range(1, n + 1)])


def test_a_slot_is_claimed_exactly_once_by_competing_processes(tmp_path):
    path = str(tmp_path / "state.sqlite3")
    SharedState(path)
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_claim_in_child, args=(path, 20, out)) for _ in range(4)]
    for p in procs:
        p.start()
    results = [out.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(30)
    # for every day exactly one of the four processes got True
    assert [sum(r[d] for r in results) for d in range(20)] == [1] * 20
    assert len(SharedState(path).slots("daily:x")) == 20


def test_role_epoch_and_maintenance_are_seen_by_another_handle(tmp_path):
    a = SharedState.for_data_dir(tmp_path)
    b = SharedState.for_data_dir(tmp_path)  # another process would open it the same way
    assert b.cluster().role == ServerRole.PRIMARY and b.cluster().epoch == 1
    a.set_role("standby", by="test")
    assert b.snapshot().cluster.role == ServerRole.STANDBY
    c = a.bump_epoch("promote", role=ServerRole.PRIMARY)
    assert c.epoch == 2 and b.cluster().role == ServerRole.PRIMARY
    assert a.adopt_epoch(1, "old").epoch == 2  # an epoch never goes back
    assert a.adopt_epoch(5, "newer").epoch == 5
    assert b.maintenance() is None
    a.begin_maintenance("正在还原备份", by="boss", job_id="j1")
    m = b.snapshot().maintenance
    assert m is not None and m.reason == "正在还原备份" and m.by == "boss" and m.job_id == "j1"
    assert not b.end_maintenance("another-job")  # only its holder ends it
    assert b.maintenance() is not None
    assert b.end_maintenance("j1") and a.maintenance() is None
    kinds = [e.kind for e in a.events()]
    assert kinds[:3] == ["maintenance_off", "maintenance_on", "epoch"]
    assert (tmp_path / "state.sqlite3").stat().st_mode & 0o077 == 0


def test_exclusive_job_refuses_company_and_jobs_run_one_at_a_time(tmp_path):
    st = SharedState.for_data_dir(tmp_path)
    first = st.submit_job("backup", {"note": "a"})
    with pytest.raises(JobBusy) as e:
        st.submit_job("restore", {"backup_id": "x"}, exclusive=True)
    assert e.value.busy.id == first.id
    claimed = st.claim_next_job(pid=1)
    assert claimed is not None and claimed.id == first.id and claimed.state == JobState.RUNNING
    second = st.submit_job("verify", {})
    assert st.claim_next_job(pid=1) is None  # one at a time
    st.finish_job(first.id, {"backup_id": "b1"}, backup_id="b1")
    assert st.job(first.id).backup_id == "b1" and st.job(first.id).progress == 1.0
    assert st.claim_next_job(pid=1).id == second.id
    st.fail_job(second.id, "backup_failed", "坏了", "broken")
    restore = st.submit_job("restore", {}, exclusive=True)
    with pytest.raises(JobBusy):  # nothing is queued behind an exclusive job either
        st.submit_job("backup", {})
    assert st.job(restore.id).state == JobState.QUEUED


def test_a_job_whose_runner_died_is_failed_and_releases_maintenance(tmp_path):
    st = SharedState.for_data_dir(tmp_path)
    job = st.submit_job("restore", {}, exclusive=True)
    assert st.claim_next_job(pid=2 ** 22 + 12345) is not None  # a pid that does not exist
    st.begin_maintenance("restoring", by="boss", job_id=job.id)
    # the maintenance is held by this (live) process: not abandoned
    assert st.release_abandoned_maintenance() is None and st.maintenance() is not None
    (gone,) = st.fail_interrupted_jobs()
    assert gone.id == job.id
    assert st.job(job.id).state == JobState.FAILED
    assert st.job(job.id).error_code == "job_interrupted"


def _hold_maintenance(path: str) -> None:
    SharedState(path).begin_maintenance("正在还原备份", by="boss", job_id="j9")


def test_maintenance_of_a_dead_process_is_released_and_remembered(tmp_path):
    path = str(tmp_path / "state.sqlite3")
    ctx = multiprocessing.get_context("spawn")
    p = ctx.Process(target=_hold_maintenance, args=(path,))
    p.start()
    p.join(60)
    st = SharedState(path)
    m = st.maintenance()
    assert m is not None and m.pid == p.pid  # the API would answer 503 for ever
    released = st.release_abandoned_maintenance()
    assert released is not None and released.reason == "正在还原备份"
    assert st.maintenance() is None
    assert st.abandoned_maintenance()["reason"] == "正在还原备份"  # a warning until ...
    st.begin_maintenance("restoring again", by="boss", job_id="j10")
    assert st.end_maintenance("j10")
    assert st.abandoned_maintenance() is None  # ... a maintenance ends properly


def test_runner_runs_jobs_in_order_and_records_progress_results_and_errors(tmp_path: Path):
    st = SharedState.for_data_dir(tmp_path)
    order: list[str] = []
    gate = threading.Event()

    def slow(job, progress):
        order.append(job.params["n"])
        progress(0.5, "half way")
        gate.wait(10)
        return {"n": job.params["n"], "backup_id": "bk"}

    def broken(job, progress):
        order.append("broken")
        raise ApiError("backup_disk_full", status=507, path="/x")

    def crash(job, progress):
        raise RuntimeError("boom")

    runner = JobRunner(st, {"slow": slow, "broken": broken, "crash": crash},
                       poll_seconds=0.05, failure_code="backup_failed")
    queue = JobQueue(st, runner)
    try:
        a = queue.submit("slow", {"n": "a"})
        b = queue.submit("broken", {})
        c = queue.submit("crash", {})
        d = queue.submit("nope", {})
        deadline = time.monotonic() + 10
        while st.job(a.id).progress < 0.5 and time.monotonic() < deadline:
            time.sleep(0.02)
        mid = st.job(a.id)
        assert mid.state == JobState.RUNNING and mid.message == "half way"
        assert st.job(b.id).state == JobState.QUEUED
        gate.set()
        while st.job(d.id).state != JobState.FAILED and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        queue.close()
    done = st.job(a.id)
    assert done.state == JobState.DONE and done.result == {"n": "a", "backup_id": "bk"}
    assert done.backup_id == "bk"
    failed = st.job(b.id)
    assert failed.error_code == "backup_disk_full" and "/x" in failed.error_en
    assert st.job(c.id).error_code == "backup_failed" and st.job(c.id).error == "boom"
    assert st.job(d.id).error_code == "backup_failed" and "nope" in st.job(d.id).error_en
    assert order == ["a", "broken"]
