"""Backups, the pure parts: retention over a simulated year, the schedule, the dump scanner."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from server.backup.dumpfile import DumpScanner
from server.backup.retention import RetentionItem, RetentionPolicy, plan_retention
from server.backup.schedule import due_reason, last_slots, validate_settings
from server.config import BackupSection

SH = ZoneInfo("Asia/Shanghai")


# -- retention --------------------------------------------------------------------------------
def _expected(items: list[RetentionItem], p: RetentionPolicy) -> set[str]:
    """The policy written out the long way (group, then take the newest buckets)."""
    by_time = sorted(items, key=lambda i: i.at)
    keep = {i.id for i in by_time[-p.keep_last:]}
    for count, key in ((p.daily, lambda t: t.date()),
                       (p.weekly, lambda t: t.isocalendar()[:2]),
                       (p.monthly, lambda t: (t.year, t.month))):
        newest: dict = {}
        for i in by_time:
            if i.verified is not False:
                newest[key(i.at)] = i  # later ones overwrite: the newest of the bucket
        for b in sorted(newest)[-count:] if count else []:
            keep.add(newest[b].id)
    verified = [i for i in by_time if i.verified]
    if verified:
        keep.add(verified[-1].id)
    return keep


def test_retention_over_a_simulated_year_keeps_exactly_the_policy():
    policy = RetentionPolicy(keep_last=5, daily=7, weekly=4, monthly=6)
    start = dt.datetime(2026, 1, 1, 9, 0, tzinfo=SH)
    stored: list[RetentionItem] = []
    ever: list[RetentionItem] = []
    t = start
    n = 0
    while t < start + dt.timedelta(days=365):
        # 09:00, 13:00, 17:00, 21:00 every day, plus a 03:00 daily one
        for hour in (3, 9, 13, 17, 21):
            at = t.replace(hour=hour)
            item = RetentionItem(f"b{n:05d}", at, True)
            n += 1
            stored.append(item)
            ever.append(item)
            keep = plan_retention(stored, policy)
            assert item.id in keep  # the newest is always kept
            stored = [i for i in stored if i.id in keep]
        t += dt.timedelta(days=1)
    # applying the policy after every backup ends where applying it once to the whole year
    # does, and that is exactly the policy written out the long way
    final = {i.id for i in stored}
    assert final == _expected(ever, policy)
    last = ever[-1].at
    assert last.date() == dt.date(2026, 12, 31)
    # the newest 5; the last backup (21:00) of each of the 7 newest days; of each of the 4
    # newest ISO weeks; of each of the 6 newest months
    expect = {i.id for i in ever[-5:]}
    days = [last.date() - dt.timedelta(days=k) for k in range(7)]
    expect |= {i.id for i in ever if i.at.date() in days and i.at.hour == 21}
    weeks = {(last - dt.timedelta(weeks=k)).isocalendar()[:2] for k in range(4)}
    for w in weeks:
        expect.add(max((i for i in ever if i.at.isocalendar()[:2] == w),
                       key=lambda i: i.at).id)
    for month in range(7, 13):
        expect.add(max((i for i in ever if i.at.month == month), key=lambda i: i.at).id)
    assert final == expect
    assert len(final) == 5 + 7 - 1 + 4 - 2 + 6 - 1  # overlaps: today's, this week's, month's
    assert len(ever) == 365 * 5


def test_retention_never_drops_the_newest_verified_and_skips_failed():
    policy = RetentionPolicy(keep_last=2, daily=2, weekly=0, monthly=0)
    base = dt.datetime(2026, 5, 1, 10, tzinfo=SH)
    items = [RetentionItem("old-good", base, True)]
    # thirty days of backups that never passed verification (or were not verified)
    for d in range(1, 31):
        items.append(RetentionItem(f"bad{d}", base + dt.timedelta(days=d), False))
    items.append(RetentionItem("unverified", base + dt.timedelta(days=31), None))
    keep = plan_retention(items, policy)
    assert "old-good" in keep
    # the newest two (one failed), and for the daily tier the newest day (unverified) and,
    # skipping days that only have failed backups, the day of the good one
    assert keep == {"unverified", "bad30", "old-good"}


def test_retention_with_zero_tiers_keeps_last_k_only():
    base = dt.datetime(2026, 5, 1, 10, tzinfo=SH)
    items = [RetentionItem(f"x{k}", base + dt.timedelta(hours=k), None) for k in range(20)]
    assert plan_retention(items, RetentionPolicy(3, 0, 0, 0)) == {"x17", "x18", "x19"}


# -- schedule ---------------------------------------------------------------------------------
def _s(**kw) -> BackupSection:
    return BackupSection(**{"daily_at": "03:00", "interval_hours": 4, "open_at": "09:00",
                            "close_at": "22:00", **kw})


def test_schedule_slots_and_missed_slot_runs_at_next_start():
    s = _s()
    now = dt.datetime(2026, 11, 23, 14, 5, tzinfo=SH)
    slots = last_slots(now, s)
    assert slots["daily"] == dt.datetime(2026, 11, 23, 3, 0, tzinfo=SH)
    assert slots["interval"] == dt.datetime(2026, 11, 23, 13, 0, tzinfo=SH)
    # backed up at 13:00:05 → nothing due at 14:05
    assert due_reason(now, dt.datetime(2026, 11, 23, 13, 0, 5, tzinfo=SH), s) is None
    # server was off from 12:00 to 14:05: the 13:00 slot is missed → due now
    assert due_reason(now, dt.datetime(2026, 11, 23, 12, 0, tzinfo=SH), s) == "interval"
    # off all night: at 08:00 the 03:00 daily backup is due
    morning = dt.datetime(2026, 11, 24, 8, 0, tzinfo=SH)
    assert due_reason(morning, dt.datetime(2026, 11, 23, 21, 0, tzinfo=SH), s) == "daily"
    # never backed up: due at once
    assert due_reason(now, None, s) == "interval"
    # before opening, yesterday's last slot (21:00) counts, not a slot of today
    early = dt.datetime(2026, 11, 24, 2, 0, tzinfo=SH)
    assert last_slots(early, s)["interval"] == dt.datetime(2026, 11, 23, 21, 0, tzinfo=SH)
    assert last_slots(early, s)["daily"] == dt.datetime(2026, 11, 23, 3, 0, tzinfo=SH)
    assert due_reason(early, dt.datetime(2026, 11, 23, 21, 30, tzinfo=SH), s) is None
    # disabled / interval off
    assert due_reason(now, None, _s(enabled=False)) is None
    assert "interval" not in last_slots(now, _s(interval_hours=0))


def test_schedule_settings_validation():
    assert validate_settings(_s()) == []
    bad = validate_settings(_s(daily_at="25:99", compress_level=0, keep_last=0),
                            timezone="Mars/Olympus")
    assert any("daily_at" in p for p in bad)
    assert any("compress_level" in p for p in bad)
    assert any("keep_last" in p for p in bad)
    assert any("timezone" in p for p in bad)


# -- dump scanner -----------------------------------------------------------------------------
DUMP = b"""-- MariaDB dump 10.19
-- CHANGE MASTER TO MASTER_LOG_FILE='mariadb-bin.000003', MASTER_LOG_POS=2140;

DROP TABLE IF EXISTS `t`;
CREATE TABLE `t` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB;
CREATE TABLE `empty` (
  `id` int(11) NOT NULL
) ENGINE=InnoDB;
CREATE TABLE `we``ird` (
  `id` int(11) NOT NULL
) ENGINE=InnoDB;
LOCK TABLES `t` WRITE;
INSERT INTO `t` VALUES
(1,'a),(b','\\0\\'\\n\\\\'),
(2,'x\\'y);',NULL),
(3,NULL,'');
INSERT INTO `t` VALUES
(4,'INSERT INTO `t` VALUES',NULL);
INSERT INTO `we``ird` VALUES (1,'),('),(2,'\\''),(3,'');
INSERT INTO `alembic_version` VALUES
('0002');
UNLOCK TABLES;
-- SET GLOBAL gtid_slave_pos='0-1-10';
-- Dump completed on 2026-11-23  8:51:11
"""


@pytest.mark.parametrize("chunk", [1, 2, 7, 64, 100_000])
def test_dump_scanner_counts_rows_in_any_chunking(chunk):
    sc = DumpScanner()
    for i in range(0, len(DUMP), chunk):
        sc.feed(DUMP[i:i + chunk])
    sc.finish()
    assert sc.tables == {"t": 4, "empty": 0, "we`ird": 3, "alembic_version": 1}
    assert sc.binlog_file == "mariadb-bin.000003" and sc.binlog_pos == 2140
    assert sc.gtid == "0-1-10"
    assert sc.schema_revision == "0002"
    assert sc.completed


def test_dump_scanner_sees_a_truncated_dump():
    sc = DumpScanner()
    sc.feed(DUMP[: len(DUMP) // 2])
    sc.finish()
    assert not sc.completed


def test_gzip_members_read_back_and_a_truncated_file_is_corrupt(tmp_path):
    from server.backup.dumpfile import BackupError, gzip_block, iter_sql

    parts = [DUMP, b"-- second member\n" * 1000, DUMP]
    f = tmp_path / "x.sql.gz"
    f.write_bytes(b"".join(gzip_block(p, 1) for p in parts))
    assert b"".join(iter_sql(f)) == b"".join(parts)
    import gzip

    assert gzip.decompress(f.read_bytes()) == b"".join(parts)  # what zcat reads
    f.write_bytes(f.read_bytes()[:-20])
    with pytest.raises(BackupError) as e:
        b"".join(iter_sql(f))
    assert e.value.code == "backup_corrupt"
