"""Interface strings: Simplified Chinese first, English second.

``tr(key, **params)`` looks a key up in :data:`STRINGS` (the one catalogue,
``client/strings/``) for the current language and formats it. The language is chosen once at
start-up (``set_language``, from the settings or ``--lang``); windows built afterwards use it,
so a change applies to windows built after it (the app rebuilds its windows when the language
is changed in the settings dialog). Server messages arrive already translated (the client
sends ``Accept-Language``).
"""

from __future__ import annotations

from typing import Any

from .strings import CATALOGUE

ZH = "zh"
EN = "en"
LANGS = (ZH, EN)

# every key of the client (client/strings/), complete from the start
STRINGS: dict[str, tuple[str, str]] = CATALOGUE

_current = ZH


def set_language(lang: str) -> None:
    """Choose the interface language (``'zh'`` or ``'en'``; anything else means Chinese)."""
    global _current
    _current = EN if lang == EN else ZH


def language() -> str:
    return _current


def tr(key: str, **params: Any) -> str:
    """The string for ``key`` in the current language, formatted with ``params``."""
    pair = STRINGS.get(key)
    if pair is None:
        return key
    text = pair[1] if _current == EN else pair[0]
    if params:
        try:
            return text.format(**params)
        except (KeyError, IndexError, ValueError):
            return text
    return text


def field_label(field: str) -> str:
    """'display_name' → '姓名' (unknown fields as they are)."""
    key = f"field.{field.split('.')[0]}"
    return tr(key) if key in STRINGS else field


def role_label(role: str) -> str:
    return tr(f"role.{role}")
