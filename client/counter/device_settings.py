"""设备设置 (per counter: receipt printer, drawer, serial scanner, pole display) with a
"打印测试页" button, and 打印任务 (print jobs kept after a failure: 重试 / 删除)."""

from __future__ import annotations

from dataclasses import replace

from common.errors import ApiError

from .. import i18n
from ..devices.facade import PROFILES, SUFFIXES, WIDTHS, DeviceService, DeviceSettings
from ..devices.print_queue import PrintJob
from ..devices.printer import BACKENDS
from ..i18n import tr
from ..qt import QtGui, QtWidgets, Signal
from ..widgets.approval import error_label
from ..widgets.context import Services
from ..widgets.dialogs import name_buttons
from .customer_display import AUTO, OFF


class DeviceSettingsDialog(QtWidgets.QDialog):
    """Signals:
        saved(object): the new :class:`DeviceSettings`.
    """

    saved = Signal(object)

    def __init__(self, services: Services, current: DeviceSettings,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("deviceSettingsDialog")
        self.services = services
        self.current = current
        self.setWindowTitle(tr("dev.title"))
        self.setModal(True)
        lay = QtWidgets.QVBoxLayout(self)

        pbox = QtWidgets.QGroupBox(tr("dev.printer"))
        pform = QtWidgets.QFormLayout(pbox)
        self.enabled = QtWidgets.QCheckBox(tr("dev.printer_enabled"))
        self.enabled.setObjectName("devPrinterEnabled")
        self.enabled.setChecked(current.printer_enabled)
        pform.addRow(self.enabled)
        self.backend = QtWidgets.QComboBox()
        self.backend.setObjectName("devBackend")
        for b in BACKENDS:
            self.backend.addItem(tr(f"dev.backend.{b}"), b)
        self.backend.setCurrentIndex(max(0, self.backend.findData(current.backend)))
        pform.addRow(tr("dev.backend"), self.backend)
        self.host = QtWidgets.QLineEdit(current.host)
        self.host.setObjectName("devHost")
        self.port = QtWidgets.QSpinBox()
        self.port.setObjectName("devPort")
        self.port.setRange(1, 65535)
        self.port.setValue(current.port)
        hp = QtWidgets.QHBoxLayout()
        hp.addWidget(self.host, 3)
        hp.addWidget(QtWidgets.QLabel(tr("dev.port")))
        hp.addWidget(self.port, 1)
        pform.addRow(tr("dev.host"), hp)
        self.device = QtWidgets.QLineEdit(current.device)
        self.device.setObjectName("devDevice")
        self.device.setPlaceholderText("COM3 / /dev/ttyUSB0 / /dev/usb/lp0")
        pform.addRow(tr("dev.device"), self.device)
        self.usb = QtWidgets.QLineEdit(
            f"{current.usb_vendor_id:04x}:{current.usb_product_id:04x}"
            if current.usb_vendor_id else "")
        self.usb.setPlaceholderText("0416:5011")
        pform.addRow(tr("dev.usb"), self.usb)
        self.profile = QtWidgets.QComboBox()
        self.profile.setObjectName("devProfile")
        for p in PROFILES:
            self.profile.addItem(tr(f"dev.profile.{p}"), p)
        self.profile.setCurrentIndex(max(0, self.profile.findData(current.profile)))
        pform.addRow(tr("dev.profile"), self.profile)
        self.width_combo = QtWidgets.QComboBox()
        self.width_combo.setObjectName("devWidth")
        for w in WIDTHS:
            self.width_combo.addItem(tr(f"dev.width.{w}"), w)
        self.width_combo.setCurrentIndex(max(0, self.width_combo.findData(current.width)))
        pform.addRow(tr("dev.width"), self.width_combo)
        self.pin = QtWidgets.QComboBox()
        self.pin.setObjectName("devDrawerPin")
        for p in (2, 5):
            self.pin.addItem(tr("dev.pin", pin=p), p)
        self.pin.setCurrentIndex(max(0, self.pin.findData(current.drawer_pin)))
        pform.addRow(tr("dev.drawer_pin"), self.pin)
        self.cut = QtWidgets.QCheckBox(tr("dev.cut"))
        self.cut.setChecked(current.cut)
        pform.addRow(self.cut)
        self.test_button = QtWidgets.QPushButton(tr("dev.test_page"))
        self.test_button.setObjectName("devTestPage")
        self.test_button.clicked.connect(self.test_page)
        pform.addRow(self.test_button)
        lay.addWidget(pbox)

        sbox = QtWidgets.QGroupBox(tr("dev.serial_devices"))
        sform = QtWidgets.QFormLayout(sbox)
        self.scanner_port = QtWidgets.QLineEdit(current.scanner_port)
        self.scanner_port.setObjectName("devScannerPort")
        self.scanner_port.setPlaceholderText(tr("dev.none_hint"))
        self.scanner_baud = QtWidgets.QComboBox()
        for b in (9600, 19200, 38400, 57600, 115200):
            self.scanner_baud.addItem(str(b), b)
        self.scanner_baud.setCurrentIndex(max(0, self.scanner_baud.findData(current.scanner_baud)))
        self.scanner_suffix = QtWidgets.QComboBox()
        for s in SUFFIXES:
            self.scanner_suffix.addItem(s, s)
        self.scanner_suffix.setCurrentIndex(
            max(0, self.scanner_suffix.findData(current.scanner_suffix)))
        srow = QtWidgets.QHBoxLayout()
        srow.addWidget(self.scanner_port, 3)
        srow.addWidget(self.scanner_baud, 1)
        srow.addWidget(self.scanner_suffix, 1)
        sform.addRow(tr("dev.scanner"), srow)
        self.display_port = QtWidgets.QLineEdit(current.display_port)
        self.display_port.setObjectName("devDisplayPort")
        self.display_port.setPlaceholderText(tr("dev.none_hint"))
        sform.addRow(tr("dev.display"), self.display_port)
        sform.addRow(QtWidgets.QLabel(tr("dev.wedge_note")))
        lay.addWidget(sbox)

        cbox = QtWidgets.QGroupBox(tr("dev.cdisplay"))
        cform = QtWidgets.QFormLayout(cbox)
        self.customer_screen = QtWidgets.QComboBox()
        self.customer_screen.setObjectName("devCustomerScreen")
        self.customer_screen.addItem(tr("dev.cdisplay_off"), OFF)
        self.customer_screen.addItem(tr("dev.cdisplay_auto"), AUTO)
        for n, scr in enumerate(QtGui.QGuiApplication.screens(), 1):
            g = scr.geometry()
            self.customer_screen.addItem(tr("dev.cdisplay_nth", n=n, w=g.width(), h=g.height()),
                                         str(n))
        if self.customer_screen.findData(current.customer_screen) < 0:  # a screen unplugged
            self.customer_screen.addItem(tr("dev.cdisplay_nth", n=current.customer_screen,
                                            w="?", h="?"), current.customer_screen)
        self.customer_screen.setCurrentIndex(
            max(0, self.customer_screen.findData(current.customer_screen)))
        cform.addRow(tr("dev.cdisplay_screen"), self.customer_screen)
        self.customer_image = QtWidgets.QLineEdit(current.customer_image)
        self.customer_image.setObjectName("devCustomerImage")
        self.customer_image.setPlaceholderText(tr("dev.cdisplay_image_hint"))
        browse = QtWidgets.QPushButton(tr("dev.browse"))
        browse.setObjectName("devCustomerImageBrowse")
        browse.setAutoDefault(False)
        browse.clicked.connect(self._browse_image)
        irow = QtWidgets.QHBoxLayout()
        irow.addWidget(self.customer_image, 1)
        irow.addWidget(browse)
        cform.addRow(tr("dev.cdisplay_image"), irow)
        lay.addWidget(cbox)

        self.error = error_label()
        lay.addWidget(self.error)
        buttons = name_buttons(QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Save
            | QtWidgets.QDialogButtonBox.StandardButton.Cancel))
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
        self.setMinimumWidth(520)

    def settings(self) -> DeviceSettings:
        vid = pid = 0
        if ":" in self.usb.text():
            a, _, b = self.usb.text().partition(":")
            vid, pid = int(a, 16), int(b, 16)
        return replace(
            self.current, printer_enabled=self.enabled.isChecked(),
            backend=self.backend.currentData(), host=self.host.text().strip(),
            port=self.port.value(), device=self.device.text().strip(), usb_vendor_id=vid,
            usb_product_id=pid, profile=self.profile.currentData(),
            width=self.width_combo.currentData(), drawer_pin=self.pin.currentData(),
            cut=self.cut.isChecked(), scanner_port=self.scanner_port.text().strip(),
            scanner_baud=self.scanner_baud.currentData(),
            scanner_suffix=self.scanner_suffix.currentData(),
            display_port=self.display_port.text().strip(),
            customer_screen=self.customer_screen.currentData(),
            customer_image=self.customer_image.text().strip())

    def _browse_image(self) -> None:
        path, _f = QtWidgets.QFileDialog.getOpenFileName(
            self, tr("dev.cdisplay_image"), self.customer_image.text(), tr("dev.image_filter"))
        if path:
            self.customer_image.setText(path)

    def _checked(self) -> DeviceSettings | None:
        try:
            ds = self.settings()
            ds.printer_config()
        except ValueError as e:
            self.error.setText(tr("dev.invalid", detail=str(e)))
            return None
        return ds

    def test_page(self) -> None:
        ds = self._checked()
        if ds is None:
            return
        ds = replace(ds, printer_enabled=True)
        self.test_button.setEnabled(False)
        self.error.setStyleSheet("color: #666;")
        self.error.setText(tr("dev.testing"))
        self.services.runner.op(lambda: DeviceService.test_page(ds), self._tested,
                                self._test_failed, owner=self)

    def _tested(self, _r: object) -> None:
        self.test_button.setEnabled(True)
        self.error.setStyleSheet("color: #1b5e20; font-weight: bold;")
        self.error.setText(tr("dev.test_ok"))

    def _test_failed(self, err: ApiError) -> None:
        self.test_button.setEnabled(True)
        self.error.setStyleSheet("color: #b00020; font-weight: bold;")
        self.error.setText(err.message(i18n.language()))

    def save(self) -> None:
        ds = self._checked()
        if ds is None:
            return
        self.saved.emit(ds)
        self.accept()


class PrintJobsDialog(QtWidgets.QDialog):
    """The print jobs kept on this counter (failed ones first): 重试 / 删除. Enter means 重试
    (the default button), never 删除.

    Signals:
        changed(): a job was retried or discarded (the failed-jobs count may have changed).
    """

    changed = Signal()

    COLUMNS = ("jobs.col.time", "jobs.col.title", "jobs.col.state", "jobs.col.error")

    def __init__(self, services: Services, devices: DeviceService,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("printJobsDialog")
        self.services = services
        self.devices = devices
        self.jobs: list[PrintJob] = []
        self.setWindowTitle(tr("jobs.title"))
        self.setModal(True)
        lay = QtWidgets.QVBoxLayout(self)
        self.table = QtWidgets.QTableWidget(0, len(self.COLUMNS))
        self.table.setObjectName("jobsTable")
        self.table.setHorizontalHeaderLabels([tr(c) for c in self.COLUMNS])
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(True)
        header = self.table.horizontalHeader()
        for c in range(3):
            header.setSectionResizeMode(c, QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QtWidgets.QHeaderView.ResizeMode.Stretch)
        lay.addWidget(self.table)
        self.error = error_label()
        lay.addWidget(self.error)
        row = QtWidgets.QHBoxLayout()
        self.discard_button = QtWidgets.QPushButton(tr("jobs.discard"))
        self.discard_button.setObjectName("jobsDiscard")
        self.discard_button.setAutoDefault(False)  # Enter must never delete a receipt
        self.discard_button.clicked.connect(self.discard)
        self.retry_button = QtWidgets.QPushButton(tr("jobs.retry"))
        self.retry_button.setObjectName("jobsRetry")
        self.retry_button.setDefault(True)
        self.retry_button.clicked.connect(self.retry)
        close = QtWidgets.QPushButton(tr("common.close"))
        close.setAutoDefault(False)
        close.clicked.connect(self.accept)
        row.addWidget(self.discard_button)
        row.addStretch(1)
        row.addWidget(close)
        row.addWidget(self.retry_button)
        lay.addLayout(row)
        self.resize(820, 320)
        self.load()

    def load(self) -> None:
        self.services.runner.op(self.devices.jobs, self._loaded, self._failed, owner=self)

    def _loaded(self, jobs: list[PrintJob]) -> None:
        self.jobs = jobs
        self.table.setRowCount(len(jobs))
        for r, j in enumerate(jobs):
            for c, text in enumerate((j.created_at.strftime("%m-%d %H:%M:%S"), j.title,
                                      tr(f"jobs.state.{j.state}"), j.last_error or "")):
                self.table.setItem(r, c, QtWidgets.QTableWidgetItem(text))
        self.table.resizeRowsToContents()
        if jobs:
            self.table.selectRow(0)
        else:  # (a failed retry's reason stays on show)
            self.error.setText(tr("jobs.none"))

    def selected(self) -> PrintJob | None:
        rows = self.table.selectionModel().selectedRows()
        return self.jobs[rows[0].row()] if rows else None

    def retry(self) -> None:
        job = self.selected()
        if job is None:
            return
        self.retry_button.setEnabled(False)
        self.error.clear()
        devices = self.devices
        self.services.runner.op(lambda: devices.retry(job.id), self._retried, self._failed,
                                owner=self)

    def _retried(self, job: PrintJob) -> None:
        self.retry_button.setEnabled(True)
        if job.state == "failed":
            self.error.setText(job.last_error or "")
        self.load()
        self.changed.emit()

    def discard(self) -> None:
        job = self.selected()
        if job is None or not self.services.dialogs.confirm(self, tr("jobs.confirm_discard",
                                                                     title=job.title)):
            return
        devices = self.devices
        self.services.runner.op(lambda: devices.discard(job.id), lambda _r: self._discarded(),
                                self._failed, owner=self)

    def _discarded(self) -> None:
        self.load()
        self.changed.emit()

    def _failed(self, err: ApiError) -> None:
        self.retry_button.setEnabled(True)
        self.error.setText(err.message(i18n.language()))
