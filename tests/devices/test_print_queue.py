"""Print jobs are saved before sending and kept until they really went out."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from client.devices.print_queue import INTERRUPTED_REASON, PrintJob, PrintQueue
from client.devices.printer import PrinterConfig, PrinterError
from client.devices.receipt import layout_sale
from tests.support.escpos_decoder import decode
from tests.support.virtual_printer import VirtualPrinter


def test_offline_printer_keeps_the_job_and_retry_prints_it(tmp_path: Path, sale) -> None:
    printer = VirtualPrinter().start()
    port = printer.port
    printer.stop()  # printer switched off: nothing listens on the port
    config = PrinterConfig(host="127.0.0.1", port=port, timeout=1)
    changes: list[PrintJob] = []
    queue = PrintQueue(tmp_path / "spool", config, on_change=changes.append)

    job = queue.submit(
        layout_sale(sale, 32), title="小票 20261123-01-0042", meta={"sale_no": sale.sale_no}
    )
    assert job.state == "failed"
    assert job.attempts == 1
    assert "拒绝连接" in (job.last_error or "")
    assert [j.id for j in queue.failed()] == [job.id]
    files = list((tmp_path / "spool").glob("*.json"))
    assert len(files) == 1
    saved = json.loads(files[0].read_text(encoding="utf-8"))
    assert saved["version"] == 1 and saved["state"] == "failed"
    assert "小票 20261123-01-0042" in files[0].read_text(encoding="utf-8")  # readable JSON
    assert [c.state for c in changes] == ["pending", "failed"]

    # The printer comes back (same port) and the cashier presses 重打.
    printer = VirtualPrinter(port=port).start()
    try:
        again = queue.retry(job.id)
        assert again.state == "printed" and again.attempts == 2 and again.last_error is None
        decoded = decode(printer.wait_for_jobs(1)[0], cjk_encoding="gbk")
        assert decoded.barcodes[0].data == "20261123-01-0042" and decoded.cuts
    finally:
        printer.stop()
    assert queue.jobs() == []
    assert list((tmp_path / "spool").iterdir()) == []
    assert changes[-1].state == "printed"


def test_success_removes_the_job(
    tmp_path: Path, virtual_printer: VirtualPrinter, net_config, sale
) -> None:
    queue = PrintQueue(tmp_path, net_config)
    job = queue.submit(layout_sale(sale, 32), "小票")
    assert job.state == "printed"
    assert queue.jobs() == []
    assert virtual_printer.wait_for_jobs(1)


def test_job_is_on_disk_before_it_is_sent(tmp_path: Path, sale) -> None:
    seen: list[list[Path]] = []

    def send(config: PrinterConfig, doc: object) -> None:
        seen.append(list(tmp_path.glob("*.json")))

    queue = PrintQueue(tmp_path, PrinterConfig(host="x"), send=send)
    queue.submit(layout_sale(sale, 32), "小票")
    assert len(seen) == 1 and len(seen[0]) == 1
    assert queue.jobs() == []


def test_crash_while_sending_leaves_a_failed_job_not_a_silent_reprint(tmp_path: Path, sale) -> None:
    sent = []
    queue = PrintQueue(tmp_path, PrinterConfig(host="x"), send=lambda c, d: sent.append(d))
    job = queue.add(layout_sale(sale, 32), "小票")  # saved as pending; process "dies" here

    restarted = PrintQueue(tmp_path, PrinterConfig(host="x"), send=lambda c, d: sent.append(d))
    (recovered,) = restarted.jobs()
    assert recovered.id == job.id
    assert recovered.state == "failed" and recovered.last_error == INTERRUPTED_REASON
    assert sent == []
    assert restarted.retry(job.id).state == "printed"
    assert len(sent) == 1 and sent[0] == job.document


def test_retry_all_stops_at_the_first_failure_and_uses_the_new_config(
    tmp_path: Path, virtual_printer: VirtualPrinter, net_config, sale
) -> None:
    failing = PrinterConfig(host="127.0.0.1", port=1, timeout=1)
    queue = PrintQueue(tmp_path, failing)
    first = queue.submit(layout_sale(sale, 32), "一")
    second = queue.submit(layout_sale(replace(sale, sale_no="20261123-01-0043"), 32), "二")
    assert first.state == second.state == "failed"
    assert [j.state for j in queue.retry_all()] == ["failed"]

    queue.config = net_config  # the cashier fixed the printer address in the settings
    assert [j.state for j in queue.retry_all()] == ["printed", "printed"]
    jobs = virtual_printer.wait_for_jobs(2)
    assert [decode(j).barcodes[0].data for j in jobs] == ["20261123-01-0042", "20261123-01-0043"]
    assert queue.jobs() == []


def test_paper_out_marks_job_failed(
    tmp_path: Path, virtual_printer: VirtualPrinter, net_config, sale
) -> None:
    virtual_printer.paper_out = True
    queue = PrintQueue(tmp_path, replace(net_config, check_paper=True))
    job = queue.submit(layout_sale(sale, 32), "小票")
    assert job.state == "failed" and "缺纸" in (job.last_error or "")
    virtual_printer.paper_out = False
    assert queue.retry(job.id).state == "printed"


def test_rendering_bug_keeps_the_job(tmp_path: Path, sale) -> None:
    def broken(config: PrinterConfig, doc: object) -> None:
        raise RuntimeError("boom")

    queue = PrintQueue(tmp_path, PrinterConfig(host="x"), send=broken)
    job = queue.submit(layout_sale(sale, 32), "小票")
    assert job.state == "failed" and "boom" in (job.last_error or "")
    assert len(queue.jobs()) == 1


def test_discard_and_printer_error_from_custom_sender(tmp_path: Path, sale) -> None:
    def offline(config: PrinterConfig, doc: object) -> None:
        raise PrinterError("打印机离线")

    queue = PrintQueue(tmp_path, PrinterConfig(host="x"), send=offline)
    job = queue.submit(layout_sale(sale, 32), "小票")
    assert queue.get(job.id).last_error == "打印机离线"
    queue.discard(job.id)
    assert queue.jobs() == []
