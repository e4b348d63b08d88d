"""Touch (issue 14 §8): the on-screen numpad types into the field that last had the focus, its
keys and the counter's touch targets are at least 48 px high."""

from __future__ import annotations

import pytest

from client.qt import Qt, QtWidgets
from client.widgets.numpad import KEY_MIN, Numpad

from .conftest import save_shot
from .test_counter_flows import COLA, _post


@pytest.fixture
def cola(client, manager) -> dict:
    return _post(client, manager, "/api/v1/products", {
        "name": "可口可乐 330ml", "price": 350, "barcodes": [COLA], "favourite": True})


def test_numpad_types_into_the_field_that_last_had_the_focus(qtbot, screenshots) -> None:
    box = QtWidgets.QDialog()
    qtbot.addWidget(box)
    lay = QtWidgets.QVBoxLayout(box)
    qty, amount = QtWidgets.QLineEdit(), QtWidgets.QLineEdit()
    amount.setMaxLength(6)
    pad = Numpad()
    for w in (qty, amount, pad):
        lay.addWidget(w)
    pad.attach(qty)
    pad.attach(amount)
    box.resize(320, 360)
    box.show()
    qtbot.wait_exposed(box)
    box.activateWindow()
    amount.setFocus()
    qtbot.wait_until(amount.hasFocus, timeout=5000)
    for key in ("1", "2", "00", ".", "5"):
        qtbot.mouseClick(pad.buttons[key], Qt.MouseButton.LeftButton)
    assert amount.text() == "1200.5" and qty.text() == ""
    assert amount.hasFocus()  # the keys never take the focus
    qtbot.mouseClick(pad.buttons["back"], Qt.MouseButton.LeftButton)
    assert amount.text() == "1200."
    qtbot.mouseClick(pad.buttons["9"], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(pad.buttons["9"], Qt.MouseButton.LeftButton)  # max length 6
    assert amount.text() == "1200.9"
    qty.setFocus()
    qtbot.wait_until(qty.hasFocus, timeout=5000)
    qtbot.mouseClick(pad.buttons["3"], Qt.MouseButton.LeftButton)
    assert qty.text() == "3" and amount.text() == "1200.9"
    with qtbot.wait_signal(qty.returnPressed, timeout=2000):
        qtbot.mouseClick(pad.buttons["enter"], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(pad.buttons["clear"], Qt.MouseButton.LeftButton)
    assert qty.text() == ""
    texts = [b.text() for b in pad.buttons.values()]
    assert "清除" in texts and "确定" in texts and "←" in texts
    assert all(b.height() >= KEY_MIN and b.width() >= KEY_MIN for b in pad.buttons.values())
    save_shot(box, screenshots / "numpad.png")


def test_numpad_confirms_a_dialog_with_its_default_button(qtbot) -> None:
    box = QtWidgets.QDialog()
    qtbot.addWidget(box)
    lay = QtWidgets.QVBoxLayout(box)
    field = QtWidgets.QLineEdit()
    pad = Numpad()
    ok = QtWidgets.QPushButton("确定")
    ok.setDefault(True)
    ok.clicked.connect(box.accept)
    for w in (field, pad, ok):
        lay.addWidget(w)
    pad.attach(field)
    box.show()
    qtbot.wait_exposed(box)
    field.setFocus()
    qtbot.mouseClick(pad.buttons["5"], Qt.MouseButton.LeftButton)
    with qtbot.wait_signal(box.accepted, timeout=2000):  # 确定 = Enter = the default button
        qtbot.mouseClick(pad.buttons["enter"], Qt.MouseButton.LeftButton)
    assert field.text() == "5"


def test_checkout_numpad_rings_a_code_and_touch_targets_are_48px(
        qtbot, shift_open, open_counter, cola, screenshots) -> None:
    win = open_counter()
    screen = win.checkout
    assert not screen.numpad.isVisible()
    qtbot.mouseClick(screen.numpad_button, Qt.MouseButton.LeftButton)
    assert screen.numpad.isVisible() and screen.numpad_button.isChecked()
    for digit in COLA:
        qtbot.mouseClick(screen.numpad.buttons[digit], Qt.MouseButton.LeftButton)
    assert screen.entry.text() == COLA
    qtbot.mouseClick(screen.numpad.buttons["enter"], Qt.MouseButton.LeftButton)
    qtbot.wait_until(lambda: screen.cart_model.rowCount() == 1, timeout=10_000)
    assert screen.cart_model.cart.lines[0].name == "可口可乐 330ml"
    save_shot(win, screenshots / "checkout_numpad_1024x768.png")
    # every touch target of the counter screen: the F-key bar, the numpad, the product grid
    targets = [b for b in screen.findChildren(QtWidgets.QAbstractButton)
               if b.isVisible() and b.objectName().startswith(("key_", "numpad"))]
    targets += [b for b in screen.favourites.buttons.values() if b.isVisible()]
    assert screen.favourites.isVisible()  # the cola is a favourite: the grid and its fold
    targets.append(screen.favourites.toggle)
    assert len([b for b in targets if b.objectName().startswith("key_")]) >= 9
    low = [(b.objectName(), b.height()) for b in targets if b.height() < KEY_MIN]
    assert low == []
    qtbot.mouseClick(screen.numpad_button, Qt.MouseButton.LeftButton)  # and off again
    assert not screen.numpad.isVisible()
