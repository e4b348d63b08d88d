"""The counter's offline store (client/offline/, no server, no Qt): the local catalogue
(apply a full and an incremental snapshot, look up by barcode and SKU, search by name part,
pinyin initials and SKU), and the durable journal (numbers, states, durability under
SIGKILL at every step of a write, refusal to open a damaged file — which is kept)."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from client.offline import catalogue_path, journal_path, offline_dir
from client.offline.catalogue import LocalCatalogue
from client.offline.journal import Journal, JournalDamaged, JournalEntry
from common.schemas.catalog import CatalogSnapshotOut, ProductOut
from common.schemas.members import LevelOut, MembershipSettings
from common.schemas.sales import SaleIn
from common.schemas.shop import ShopSettingsOut

ROOT = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2025, 3, 1, 8, 30, tzinfo=dt.UTC)


def product(pid: int, name: str, price: int = 1000, *, barcodes=(), sku=None, active=True,
            pinyin: str = "", **kw) -> ProductOut:
    return ProductOut(id=pid, kind="product", sku=sku, name=name, pinyin=pinyin, unit="件",
                      category_id=None, price=price, member_price=kw.pop("member_price", None),
                      cost=None, open_price=False, discountable=True, track_stock=False,
                      stock=0, low_stock=None, commission_kind="none", commission_value=0,
                      barcodes=list(barcodes), active=active, updated_at=NOW, **kw)


def snapshot(version: int, products, *, full: bool) -> CatalogSnapshotOut:
    return CatalogSnapshotOut(
        version=version, full=full, products=list(products),
        categories=[{"id": 1, "name": "饮料", "sort_order": 0, "active": True}],
        levels=[LevelOut(id=7, name="金卡", rank=2, discount_bp=9000, points_per_yuan=2,
                         upgrade_threshold=None, active=True)],
        membership=MembershipSettings(points_per_yuan_redeem=50),
        shop=ShopSettingsOut(name="测试小店", timezone="Asia/Shanghai"))


# --- the local catalogue ---------------------------------------------------------------------
def test_paths_are_next_to_the_settings_file(tmp_path) -> None:
    cfg = tmp_path / "lanpos" / "client.json"
    assert offline_dir(cfg) == tmp_path / "lanpos" / "offline"
    assert catalogue_path(cfg) == tmp_path / "lanpos" / "offline" / "catalogue.sqlite3"
    assert journal_path(cfg) == tmp_path / "lanpos" / "offline" / "journal.sqlite3"


def test_catalogue_full_snapshot_lookup_and_search(tmp_path) -> None:
    cat = LocalCatalogue(tmp_path / "cat.sqlite3")
    assert cat.version == 0 and cat.by_code("6901") is None and cat.membership is None
    n = cat.apply(snapshot(5, [
        product(1, "可口可乐 330ml", 350, barcodes=["6901234567890"], sku="KL330",
                pinyin="kkkl330ml", level_prices={7: 300}),
        product(2, "百事可乐", 330, barcodes=["6909999999999"], sku="BS01", pinyin="bskl"),
        product(3, "矿泉水", 200, sku="6901234567890X", favourite=True, favourite_order=2),
        product(4, "停售面包", 800, barcodes=["6905555555555"], active=False),
        product(5, "洗剪吹", 3800, sku="S1", favourite=True, favourite_order=1),
    ], full=True))
    assert n == 5 and cat.version == 5 and cat.count() == 4

    p = cat.by_code("6901234567890")
    assert isinstance(p, ProductOut) and p.id == 1 and p.price == 350
    assert p.level_prices == {7: 300}  # what pricing needs for a member offline
    assert cat.by_code(" KL330 ").id == 1  # the SKU, blanks trimmed
    assert cat.by_code("6905555555555") is None  # inactive: not sellable
    assert cat.get(4).active is False  # ... but still known by id
    assert cat.by_code("nothing") is None and cat.by_code("") is None

    assert [x.id for x in cat.search("可乐")] == [2, 1]  # shorter name first
    assert [x.id for x in cat.search("kl")] == [1]  # SKU prefix (KL330), any case
    assert [x.id for x in cat.search("bs")][:1] == [2]  # pinyin initials
    assert [x.id for x in cat.search("kkkl")] == [1]
    pinyin_made = cat.search("kqs")  # no pinyin sent: made from the name
    assert [x.id for x in pinyin_made] == [3]
    assert [x.id for x in cat.search("6901234567890")] == [1, 3]  # the exact code first
    assert [x.id for x in cat.search("KL3")] == [1]  # SKU prefix
    assert cat.search("面包") == []  # inactive
    assert cat.search("%") == [] and cat.search("_") == []  # no wildcards
    assert len(cat.search("可乐", limit=1)) == 1
    assert [x.id for x in cat.favourites()] == [5, 3]

    assert [c.name for c in cat.categories()] == ["饮料"]
    assert [(lv.id, lv.discount_bp) for lv in cat.levels] == [(7, 9000)]
    assert isinstance(cat.membership, MembershipSettings)
    assert cat.membership.points_per_yuan_redeem == 50
    assert cat.shop.name == "测试小店" and cat.shop.timezone == "Asia/Shanghai"
    cat.close()

    again = LocalCatalogue(tmp_path / "cat.sqlite3")  # kept on disk
    assert again.version == 5 and again.by_code("KL330").name == "可口可乐 330ml"
    again.close()


def test_catalogue_incremental_snapshot_changes_only_what_is_in_it(tmp_path) -> None:
    cat = LocalCatalogue(tmp_path / "cat.sqlite3")
    cat.apply(snapshot(10, [product(1, "毛巾", 1000, barcodes=["A1"]),
                            product(2, "牙刷", 500, barcodes=["B2"]),
                            product(3, "牙膏", 900, barcodes=["C3"])], full=True))
    # price changed, a barcode moved from 2 to 1, product 3 deactivated, a new one
    cat.apply(snapshot(12, [product(1, "毛巾", 1200, barcodes=["A1", "B2"]),
                            product(2, "牙刷", 500, barcodes=[]),
                            product(3, "牙膏", 900, barcodes=["C3"], active=False),
                            product(4, "香皂", 600, barcodes=["D4"])], full=False))
    assert cat.version == 12
    assert cat.by_code("A1").price == 1200
    assert cat.by_code("B2").id == 1
    assert cat.by_code("C3") is None
    assert cat.by_code("D4").name == "香皂"
    # an older answer (a slow refresh overtaken by a newer one) changes nothing
    assert cat.apply(snapshot(11, [product(1, "毛巾", 1, barcodes=["A1"])], full=False)) == 0
    assert cat.by_code("A1").price == 1200 and cat.version == 12
    # a full snapshot replaces everything: what it does not name is gone
    cat.apply(snapshot(20, [product(9, "新品", 100, barcodes=["Z9"])], full=True))
    assert cat.by_code("A1") is None and cat.get(1) is None and cat.by_code("Z9").id == 9
    # a JSON dict (as the server sends it) is applied the same way
    cat.apply(json.loads(snapshot(21, [product(9, "新品", 150, barcodes=["Z9"])],
                                  full=False).model_dump_json()))
    assert cat.by_code("Z9").price == 150 and cat.version == 21
    cat.close()


def test_an_unreadable_catalogue_is_moved_aside_and_starts_empty(tmp_path) -> None:
    path = tmp_path / "cat.sqlite3"
    path.write_bytes(b"this is no database at all" * 100)
    cat = LocalCatalogue(path)
    assert cat.version == 0 and cat.count() == 0  # a cache: the next refresh is full
    assert (tmp_path / "cat.sqlite3.damaged").read_bytes().startswith(b"this is no database")
    cat.apply(snapshot(1, [product(1, "毛巾", barcodes=["A1"])], full=True))
    assert cat.by_code("A1").id == 1
    cat.close()


# --- the journal ---------------------------------------------------------------------------
def make_entry(total: int = 1000, *, method: str = "cash", counter: str = "01",
               lines: int = 1, when: dt.datetime = NOW) -> JournalEntry:
    amounts = [total // lines] * lines
    amounts[-1] += total - sum(amounts)
    payment: dict = {"method": method, "amount": total}
    if method == "cash":
        payment["tendered"] = total + 500
    if method == "points":
        payment["points"] = total
    sale = SaleIn(id=uuid.uuid4(), lines=[{"product_id": i + 1, "qty": 1} for i in range(lines)],
                  payments=[payment])
    return JournalEntry(sale=sale, counter=counter, cashier="cash", line_amounts=amounts,
                        total=total, recorded_at=when)


def test_journal_numbers_states_and_order(tmp_path) -> None:
    j = Journal(tmp_path / "j" / "journal.sqlite3")  # the directory is made
    entries = [make_entry(100 * (i + 1), lines=i % 3 + 1) for i in range(5)]
    numbers = [j.record(e) for e in entries]
    assert numbers == [f"01-L{i:06d}" for i in range(1, 6)]
    assert j.record(entries[2]) == "01-L000003"  # the same sale again: no second entry
    assert j.pending_count() == 5
    pending = j.pending()
    assert [r.number for r in pending] == numbers
    first = pending[0]
    assert first.sale_id == entries[0].sale.id and first.total == 100
    assert first.entry.sale == entries[0].sale and first.recorded_at == NOW
    assert first.entry.payments[0].method == "cash" and first.entry.payments[0].tendered == 600
    assert pending[2].entry.line_amounts == (100, 100, 100)

    body = pending[1].offline_body()
    assert body["id"] == str(entries[1].sale.id)
    assert body["offline"] == {"number": "01-L000002", "recorded_at": NOW.isoformat(),
                               "total": 200, "line_amounts": [100, 100]}
    assert SaleIn.model_validate(body).offline.number == "01-L000002"  # the contract's shape

    j.mark_sent(entries[0].sale.id, "S20250301-0001")
    j.mark_refused(entries[1].sale.id, "offline_not_allowed", "离线不能用储值")
    assert [r.number for r in j.pending()] == numbers[2:]
    assert j.counts() == {"pending": 3, "sent": 1, "refused": 1}
    recent = j.recent(2)
    assert [r.number for r in recent] == ["01-L000005", "01-L000004"]
    refused = j.by_number("01-L000002")
    assert refused.state == "refused" and refused.error == "离线不能用储值"
    assert j.get(entries[0].sale.id).server_number == "S20250301-0001"
    assert j.requeue("01-L000002") and j.pending()[0].number == "01-L000002"
    j.close()

    with Journal(tmp_path / "j" / "journal.sqlite3") as again:  # all of it on disk
        assert again.counts() == {"pending": 4, "sent": 1, "refused": 0}
        assert again.record(make_entry(50)) == "01-L000006"


def test_journal_is_wal_with_full_sync(tmp_path) -> None:
    path = tmp_path / "journal.sqlite3"
    j = Journal(path)
    j.record(make_entry())
    assert j._con.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    j.close()
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    con.close()


@pytest.mark.parametrize("bad", [
    dict(method="stored_value"), dict(method="points"),
])
def test_journal_takes_only_what_needs_no_server_balance(tmp_path, bad) -> None:
    j = Journal(tmp_path / "journal.sqlite3")
    with pytest.raises(ValueError, match="not payable offline"):
        j.record(make_entry(**bad))
    e = make_entry(300, lines=2)
    wrong = JournalEntry(sale=e.sale, counter="01", cashier="cash", line_amounts=(100, 100),
                         total=300, recorded_at=NOW)
    with pytest.raises(ValueError, match="add up"):
        j.record(wrong)
    with pytest.raises(ValueError, match="time zone"):
        JournalEntry(sale=e.sale, counter="01", cashier="c", line_amounts=(150, 150), total=300,
                     recorded_at=dt.datetime(2025, 1, 1))
    assert j.pending_count() == 0
    j.close()


RECORDER = textwrap.dedent("""
    import datetime as dt, os, signal, sys, uuid
    from client.offline.journal import Journal, JournalEntry
    from common.schemas.sales import SaleIn

    path, kill_at, kill_step = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    state = {"n": 0}

    def on_step(step):
        if state["n"] == kill_at and step == kill_step:
            os.kill(os.getpid(), signal.SIGKILL)

    j = Journal(path, on_step=on_step)
    i = 0
    while True:
        i += 1
        state["n"] = i
        total = 100 + i
        sale = SaleIn(id=uuid.uuid4(), lines=[{"product_id": 1, "qty": 1},
                                              {"product_id": 2, "qty": 2}],
                      payments=[{"method": "cash", "amount": total, "tendered": 1000}])
        e = JournalEntry(sale=sale, counter="02", cashier="cash", line_amounts=[100, i],
                         total=total, recorded_at=dt.datetime.now(dt.UTC))
        print(j.record(e), sale.id, flush=True)  # the receipt would print now
""")


def run_recorder(path: Path, kill_at: int, step: str) -> list[tuple[str, str]]:
    """Record until SIGKILL; the (number, sale id) lines printed (the receipts)."""
    p = subprocess.run([sys.executable, "-c", RECORDER, str(path), str(kill_at), step],
                       capture_output=True, text=True, timeout=60, cwd=ROOT,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert p.returncode == -signal.SIGKILL, p.stderr
    return [tuple(line.split()) for line in p.stdout.splitlines()]


def check_whole(path: Path, printed: list[tuple[str, str]], expect: int) -> None:
    with Journal(path) as j:
        recs = j.pending()
        assert len(recs) == expect
        on_disk = {(r.number, str(r.sale_id)) for r in recs}
        assert set(printed) <= on_disk  # every printed receipt is in the journal
        for i, r in enumerate(recs, start=1):  # whole entries only, in order
            assert r.number == f"02-L{i:06d}"
            assert r.entry.line_amounts[0] == 100 and sum(r.entry.line_amounts) == r.total
            assert len(r.entry.sale.lines) == 2 and r.entry.payments[0].tendered == 1000


@pytest.mark.parametrize(("step", "kept"), [
    ("begin", 3),       # killed before the 4th write started
    ("inserted", 3),    # the 4th row written but not committed: no trace of it
    ("committed", 4),   # the 4th committed, killed before its receipt printed: kept
])
def test_a_kill_during_a_journal_write_leaves_no_half_entry(tmp_path, step, kept) -> None:
    path = tmp_path / "journal.sqlite3"
    printed = run_recorder(path, 4, step)
    assert [n for n, _ in printed] == ["02-L000001", "02-L000002", "02-L000003"]
    check_whole(path, printed, kept)
    # the counter goes on after the restart, and survives a second kill
    printed2 = run_recorder(path, 3, "inserted")
    assert [n for n, _ in printed2] == [f"02-L{kept + 1:06d}", f"02-L{kept + 2:06d}"]
    check_whole(path, printed + printed2, kept + 2)


def test_a_kill_at_any_moment_loses_no_printed_sale(tmp_path) -> None:
    path = tmp_path / "journal.sqlite3"
    proc = subprocess.Popen([sys.executable, "-c", RECORDER, str(path), "0", "never"],
                            stdout=subprocess.PIPE, text=True, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    printed = []
    assert proc.stdout is not None
    for line in proc.stdout:
        printed.append(tuple(line.split()))
        if len(printed) == 40:
            proc.send_signal(signal.SIGKILL)  # mid-stream: whatever it was doing
            break
    proc.wait(timeout=30)
    proc.stdout.close()
    with Journal(path) as j:
        n = j.pending_count()
    assert 40 <= n <= 42  # the printed 40, and at most what was committed after them
    check_whole(path, printed, n)


def _filled_journal(path: Path, n: int = 300) -> None:
    with Journal(path) as j:
        for _ in range(n):
            j.record(make_entry(lines=3))


def _damage_truncate(path: Path) -> None:
    size = path.stat().st_size
    with open(path, "r+b") as f:
        f.truncate(size // 2)


def _damage_empty(path: Path) -> None:
    path.write_bytes(b"")


def _damage_header(path: Path) -> None:
    with open(path, "r+b") as f:
        f.write(b"\x00garbage garbage")


def _damage_pages(path: Path) -> None:
    with open(path, "r+b") as f:  # the schema page and the pages after it
        f.seek(100)
        f.write(os.urandom(4096 * 3))


@pytest.mark.parametrize("damage", [_damage_truncate, _damage_empty, _damage_header,
                                    _damage_pages])
def test_a_damaged_journal_refuses_to_open_and_is_kept(tmp_path, damage) -> None:
    path = tmp_path / "journal.sqlite3"
    _filled_journal(path)
    damage(path)
    before = path.read_bytes()
    with pytest.raises(JournalDamaged) as info:
        Journal(path)
    msg = str(info.value)
    assert str(path) in msg and "已原样保留" in msg and "改名" in msg  # where, and how
    assert path.read_bytes() == before  # kept as it was: never replaced by an empty one
    with pytest.raises(JournalDamaged):  # and it stays refused
        Journal(path)
    assert path.read_bytes() == before


def test_a_journal_whose_main_file_is_gone_but_its_log_is_there_is_refused(tmp_path) -> None:
    path = tmp_path / "journal.sqlite3"
    wal = tmp_path / "journal.sqlite3-wal"
    _filled_journal(path, 3)
    wal.write_bytes(b"log pages of sales not yet in the main file")
    path.unlink()
    with pytest.raises(JournalDamaged):
        Journal(path)
    assert not path.exists() and wal.exists()


def test_another_sqlite_file_is_not_taken_for_a_journal(tmp_path) -> None:
    path = tmp_path / "journal.sqlite3"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
    con.commit()
    con.close()
    with pytest.raises(JournalDamaged):
        Journal(path)


def test_a_creation_that_died_is_no_journal(tmp_path) -> None:
    """The journal is built under a temporary name: a leftover of a creation that died is
    removed, and the real file is made whole."""
    path = tmp_path / "journal.sqlite3"
    (tmp_path / "journal.sqlite3.new").write_bytes(b"half")
    with Journal(path) as j:
        assert j.record(make_entry()) == "01-L000001"
    assert not (tmp_path / "journal.sqlite3.new").exists()
