"""The counter's offline package (plain Python and sqlite3, no Qt): the local catalogue
(:mod:`.catalogue`), the durable journal of offline sales (:mod:`.journal`), their replay
(:mod:`.replay`) and the support command line (:mod:`.cli`, ``lanpos-client journal …``).

The files live next to the client's settings file (``client.settings.default_config_path``):
``offline/catalogue.sqlite3`` and ``offline/journal.sqlite3``.
"""

from __future__ import annotations

from pathlib import Path

from ..settings import default_config_path

CATALOGUE_FILE = "catalogue.sqlite3"
JOURNAL_FILE = "journal.sqlite3"


def offline_dir(config_path: Path | None = None) -> Path:
    """The directory of the offline files of the client whose settings are at
    ``config_path`` (default: the client's settings file)."""
    return (config_path or default_config_path()).parent / "offline"


def catalogue_path(config_path: Path | None = None) -> Path:
    return offline_dir(config_path) / CATALOGUE_FILE


def journal_path(config_path: Path | None = None) -> Path:
    return offline_dir(config_path) / JOURNAL_FILE
