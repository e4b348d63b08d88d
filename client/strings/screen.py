"""Strings of layout, the customer display, the numpad, language switch and dialog defaults: part
of the catalogue of :mod:`client.strings`. Simplified Chinese first, English second."""

from __future__ import annotations

SCREEN_STRINGS: dict[str, tuple[str, str]] = {
    # the on-screen numpad
    "numpad.toggle": ("键盘", "Keypad"),
    "numpad.back": ("←", "←"),
    "numpad.clear": ("清除", "Clear"),
    "numpad.enter": ("确定", "OK"),
    # the customer display (second screen)
    "cdisplay.title": ("顾客显示", "Customer display"),
    "cdisplay.welcome": ("欢迎光临", "Welcome"),
    "cdisplay.items": ("共 {n} 件", "{n} items"),
    "cdisplay.total": ("应付", "Total"),
    "cdisplay.paid": ("实付", "Paid"),
    "cdisplay.change": ("找零", "Change"),
    "cdisplay.thanks": ("谢谢惠顾", "Thank you"),
    "cdisplay.col.name": ("品名", "Item"),
    "cdisplay.col.qty": ("数量", "Qty"),
    "cdisplay.col.amount": ("金额", "Amount"),
    # device settings: the customer display window
    "dev.cdisplay": ("顾客显示屏（第二屏幕）", "Customer display (second screen)"),
    "dev.cdisplay_screen": ("显示在", "Show on"),
    "dev.cdisplay_off": ("关闭", "Off"),
    "dev.cdisplay_auto": ("自动（第二块屏幕）", "Automatic (the second screen)"),
    "dev.cdisplay_nth": ("屏幕 {n}（{w}×{h}）", "Screen {n} ({w}×{h})"),
    "dev.cdisplay_image": ("空闲时显示图片", "Picture when idle"),
    "dev.cdisplay_image_hint": ("店铺图片或收款码图片（PNG / JPG）",
                                "Shop picture or payment QR image (PNG / JPG)"),
    "dev.browse": ("选择…", "Browse…"),
    "dev.image_filter": ("图片 (*.png *.jpg *.jpeg *.bmp)", "Images (*.png *.jpg *.jpeg *.bmp)"),
    # held orders: amount and item count
    "held.col.items": ("件数", "Items"),
    "held.col.amount": ("金额", "Amount"),
    "held.amount_unknown": ("—", "—"),
}
