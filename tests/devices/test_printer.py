"""Sending documents through the real python-escpos backends to virtual devices."""

from __future__ import annotations

import os
import select
import socket
from pathlib import Path

import pytest

from client.devices.document import normalize_for_print
from client.devices.printer import (
    PrinterConfig,
    PrinterError,
    failure_reason,
    print_document,
    print_test_page,
    send_bytes,
)
from client.devices.receipt import layout_sale
from tests.support.escpos_decoder import decode
from tests.support.virtual_printer import VirtualPrinter


def test_full_sale_through_network_backend(
    virtual_printer: VirtualPrinter, net_config, sale
) -> None:
    doc = layout_sale(sale, net_config.width, open_drawer=True)
    print_document(net_config, doc)

    (job,) = virtual_printer.wait_for_jobs(1)
    decoded = decode(job, cjk_encoding="gbk")
    assert decoded.texts == [normalize_for_print(t).rstrip() for t in doc.text_lines()]
    texts = decoded.texts
    for name in ("可口可乐330ml", "东北大米", "Oreo"):
        assert any(t.startswith(name) for t in texts), name
    assert any(t.startswith("合计") and t.endswith("￥90.70") for t in texts)
    assert any(t.startswith("找零") and t.endswith("￥9.30") for t in texts)
    assert "会员：王小明 138****1234" in texts
    assert [b.data for b in decoded.barcodes] == ["20261123-01-0042"]
    assert decoded.barcodes[0].kind == "CODE128"
    assert len(decoded.cuts) == 1 and decoded.cuts[0].partial
    assert decoded.drawer_pins == [2]
    # order on paper: drawer first, then text, barcode, cut last
    kinds = [type(e).__name__ for e in decoded.events]
    assert kinds[0] == "DrawerKick" and kinds[-1] == "Cut"
    assert kinds.index("BarcodeData") > kinds.index("Line")


def test_test_page_over_network(virtual_printer: VirtualPrinter, net_config) -> None:
    print_test_page(net_config)
    decoded = decode(virtual_printer.wait_for_jobs(1)[0], cjk_encoding="gbk")
    text = decoded.text
    assert "打印测试页 TEST" in text
    assert "金额：￥123.45 ￥67.80" in text
    aligns = {line.text: line.align for line in decoded.lines}
    assert aligns["左对齐 left"] == "left"
    assert aligns["居中 center"] == "center"
    assert aligns["右对齐 right"] == "right"
    assert decoded.barcodes and decoded.cuts


def test_no_cutter_means_feed_only(virtual_printer: VirtualPrinter, net_config, sale) -> None:
    net_config.cut = False
    print_document(net_config, layout_sale(sale, 32))
    decoded = decode(virtual_printer.wait_for_jobs(1)[0])
    assert decoded.cuts == [] and decoded.feeds >= 4


def test_file_backend(tmp_path: Path, sale) -> None:
    out = tmp_path / "lp0"
    config = PrinterConfig(backend="file", device=str(out), profile="utf8", width=48)
    print_document(config, layout_sale(sale, 48))
    decoded = decode(out.read_bytes())
    assert any(t.startswith("合计") and t.endswith("￥90.70") for t in decoded.texts)


def test_serial_backend_on_a_pty(sale) -> None:
    master, slave = os.openpty()
    try:
        config = PrinterConfig(
            backend="serial", device=os.ttyname(slave), profile="gbk", baudrate=19200, timeout=2
        )
        doc = layout_sale(sale, 32)
        print_document(config, doc)
        data = b""
        while select.select([master], [], [], 0.5)[0]:
            data += os.read(master, 65536)
        decoded = decode(data, cjk_encoding="gbk")
        assert decoded.texts == [normalize_for_print(t).rstrip() for t in doc.text_lines()]
    finally:
        os.close(master)
        os.close(slave)


def test_refused_connection_gives_a_cashier_readable_reason() -> None:
    port = _closed_port()
    config = PrinterConfig(host="127.0.0.1", port=port, timeout=1)
    with pytest.raises(PrinterError) as info:
        send_bytes(config, b"\x1b@")
    assert "拒绝连接" in info.value.reason and f"127.0.0.1:{port}" in info.value.reason


def test_missing_device_reasons(tmp_path: Path) -> None:
    with pytest.raises(PrinterError) as info:
        send_bytes(PrinterConfig(backend="file", device=str(tmp_path / "no" / "lp0")), b"x")
    assert "找不到" in info.value.reason
    with pytest.raises(PrinterError) as info:
        send_bytes(PrinterConfig(backend="serial", device="/dev/does-not-exist"), b"x")
    assert "找不到" in info.value.reason
    config = PrinterConfig(host="10.0.0.1")
    assert "超时" in failure_reason(TimeoutError("timed out"), config)
    assert "连接断开" in failure_reason(BrokenPipeError(32, "Broken pipe"), config)


def test_usb_backend_without_pyusb_says_so() -> None:
    from escpos.printer import Usb

    config = PrinterConfig(backend="usb", usb_vendor_id=0x0416, usb_product_id=0x5011)
    if Usb.is_usable():  # pyusb installed: no device exists on the test machine
        with pytest.raises(PrinterError, match="找不到"):
            send_bytes(config, b"x")
    else:
        with pytest.raises(PrinterError, match="pyusb"):
            send_bytes(config, b"x")


def test_paper_out_is_reported(virtual_printer: VirtualPrinter, net_config, sale) -> None:
    net_config.check_paper = True
    virtual_printer.paper_out = True
    with pytest.raises(PrinterError, match="缺纸"):
        print_document(net_config, layout_sale(sale, 32))
    (query_only,) = virtual_printer.wait_for_jobs(1)
    assert query_only == b"\x10\x04\x04"  # nothing printed

    virtual_printer.paper_out = False
    print_document(net_config, layout_sale(sale, 32))
    job = virtual_printer.wait_for_jobs(2)[1]
    decoded = decode(job, cjk_encoding="gbk")
    assert decoded.status_queries == [4] and decoded.cuts


def test_config_validation() -> None:
    with pytest.raises(ValueError):
        PrinterConfig(backend="bluetooth")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        PrinterConfig(profile="big5")
    with pytest.raises(ValueError):
        PrinterConfig(drawer_pin=3)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        PrinterConfig(width=16)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
