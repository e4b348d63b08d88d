"""The one string catalogue of the client: every key, in Simplified Chinese and English, is
here from the moment ``client.i18n`` is imported — no screen adds keys when it is imported.

Each module holds one area's keys (the shell, the counter, the back office, the standby
screens); a key defined in two areas is an error at import. ``tests/client/test_strings.py``
checks that every key the code uses exists here with both languages.
"""

from __future__ import annotations

from .activities import ACTIVITY_STRINGS
from .app import APP_STRINGS
from .appointments import APPOINTMENT_STRINGS
from .attendance import ATTENDANCE_STRINGS
from .backoffice import BACKOFFICE_STRINGS
from .care import CARE_STRINGS
from .counter import COUNTER_STRINGS
from .finding import FINDING_STRINGS
from .offline import OFFLINE_STRINGS
from .payment import PAYMENT_STRINGS
from .reports import REPORT_STRINGS
from .screen import SCREEN_STRINGS
from .serving import SERVING_STRINGS
from .standby import STANDBY_STRINGS
from .words import WORDS_STRINGS

AREAS: dict[str, dict[str, tuple[str, str]]] = {
    "app": APP_STRINGS,
    "counter": COUNTER_STRINGS,
    "backoffice": BACKOFFICE_STRINGS,
    "standby": STANDBY_STRINGS,
    "finding": FINDING_STRINGS,
    "payment": PAYMENT_STRINGS,
    "screen": SCREEN_STRINGS,
    "words": WORDS_STRINGS,
    "serving": SERVING_STRINGS,
    "offline": OFFLINE_STRINGS,
    "reports": REPORT_STRINGS,
    "attendance": ATTENDANCE_STRINGS,
    "care": CARE_STRINGS,
    "appointments": APPOINTMENT_STRINGS,
    "activities": ACTIVITY_STRINGS,
}


def _merge() -> dict[str, tuple[str, str]]:
    merged: dict[str, tuple[str, str]] = {}
    for area, strings in AREAS.items():
        for key, pair in strings.items():
            if key in merged and merged[key] != pair:
                raise RuntimeError(f"string key {key!r} defined twice ({area})")
            merged[key] = pair
    return merged


CATALOGUE: dict[str, tuple[str, str]] = _merge()
