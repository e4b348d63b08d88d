"""Codes the server sends → the words people read: the one place the client names them.

The server speaks in codes (``sale.create``, ``payment_refund``, ``stored_value``,
``scratch instance``); a screen shows :func:`audit_action` & co. and keeps the code for a
tooltip or the details pane. Every label is a catalogue key (``client/strings/words.py``,
``label.*``; payment methods are ``pay.method.*``, roles ``role.*``), so it follows the
interface language. An unknown code is shown as it is (a newer server may send one):
``tests/client/test_strings.py`` checks that every audit action the server writes has a
label here.
"""

from __future__ import annotations

import re

from common.schemas.sales import PAYMENT_LABELS_ZH

from . import i18n
from .i18n import STRINGS, tr


def _label(prefix: str, code: str | None) -> str:
    if not code:
        return ""
    key = f"{prefix}.{code}"
    return tr(key) if key in STRINGS else code


def audit_action(code: str) -> str:
    """``sale.create`` → 销售."""
    return _label("label.audit", code)


def audit_entity(code: str) -> str:
    """``member_level`` → 会员等级."""
    return _label("label.entity", code)


def payment_method(code: str | None) -> str:
    """``stored_value`` → 储值 (the catalogue's ``pay.method.*``; the server's own
    :data:`PAYMENT_LABELS_ZH` for a method the counter does not offer)."""
    if not code:
        return ""
    key = f"pay.method.{code}"
    return tr(key) if key in STRINGS else PAYMENT_LABELS_ZH.get(code, code)


def ledger_kind(code: str) -> str:
    """A member ledger entry's kind (stored value, points, count cards): ``earn`` → 消费积分."""
    return _label("label.ledger", code)


def stock_kind(code: str) -> str:
    """A stock ledger entry's kind: ``purchase`` → 进货."""
    return _label("label.stock", code)


def offline_difference(code: str) -> str:
    """What an offline sale did otherwise than the server would charge: ``price_changed`` →
    价格已变 (``GET /sales/offline-differences``)."""
    return _label("label.offline", code)


def ref_type(code: str | None) -> str:
    """What a ledger entry refers to: ``sale`` → 销售单."""
    return _label("label.ref", code)


def role(code: str) -> str:
    return _label("role", code)


def job_step(message: str) -> str:
    """A backup job's progress message (``verify scratch instance``, ``dump``, ``12 MB``)
    in words: a ``verify`` prefix (the test restore after a backup) is kept as 验证."""
    text = (message or "").strip()
    if not text:
        return ""
    key = f"label.step.{text}"
    if key in STRINGS:
        return tr(key)
    head, _, rest = text.partition(" ")
    if head == "verify" and rest:
        return f"{tr('label.step.verify')}：{job_step(rest)}"
    return text  # a figure such as "12 MB", or a step this client does not know


_BILINGUAL = re.compile(r"^(?P<zh>.*?[\u4e00-\u9fff].*?)\s*\((?P<en>[^()\u4e00-\u9fff]+)\)\s*$",
                        re.S)


def bilingual(text: str) -> str:
    """A server text written ``中文 (English)`` (the backup health warnings) in the
    interface language; any other text as it is."""
    m = _BILINGUAL.match(text or "")
    if m is None:
        return text
    return m.group("en").strip() if i18n.language() == i18n.EN else m.group("zh").strip()


__all__ = ["audit_action", "audit_entity", "bilingual", "job_step", "ledger_kind",
           "offline_difference", "payment_method", "ref_type", "role", "stock_kind"]
