"""The owner's standby dashboard and guided failover, without Qt (DESIGN §2: no business
rule in a widget). ``client/backoffice/standby.py`` only shows what this module decides.

Dashboard
    :func:`merge_status` joins the ``/replication/status`` answers of every server this
    counter knows into one :class:`PairView`: each server as it describes itself; a server
    this counter cannot reach as its peer describes it; the primary first, then the standby.

Failover (at most three steps in one dialog)
    1. :func:`run_checks`: does this counter reach the primary right now (a short
       ``/health``)? What is the last sale it knows? Both go to the standby's
       ``POST /replication/promote/check``; every check comes back with ``ok`` and a
       plain-Chinese message.
    2. The owner types the password and confirms the old server is off or unplugged
       (:func:`can_submit`). The only failed check that may be overridden is
       "the primary still answers" (``primary_unreachable`` / ``counter_view``: a hung
       machine): :func:`override_offered`.
    3. :func:`run_promote`: ``POST /replication/promote`` to the standby; the answer is the
       new epoch and the safety backup's job; the API client now uses the new primary. A
       refusal (``409 promote_refused``) carries the failed checks: :func:`refused_checks`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import ValidationError

from common.errors import ApiError
from common.schemas.replication import (
    FailoverCheck,
    PromoteCheckIn,
    PromoteCheckOut,
    PromoteIn,
    PromoteOut,
    ReplicationStatusOut,
    ServerFacts,
)

from .. import i18n
from ..api import ROLE_PRIMARY, ROLE_STALE, ROLE_STANDBY, normalize_server

#: the checks an owner may override: "the primary still answers" (from the standby, and
#: from this counter) — a hung machine that answers but takes no sale
OVERRIDABLE_CODES = frozenset({"primary_unreachable", "counter_view"})
OK_MARK, FAIL_MARK = "✔", "✘"
FALLEN_BACK = "fallen_back"
#: the dashboard shows these in red: a standby this far behind, a disk this full
LAG_WARN_SECONDS = 60.0
DISK_WARN_BYTES = 2 * 1024 ** 3


class FailoverApi(Protocol):
    """What the failover needs of :class:`client.api.ApiClient`."""

    def reachable(self, server: str, timeout: float = ...) -> bool: ...

    def promote_check(self, server: str, body: PromoteCheckIn) -> PromoteCheckOut: ...

    def promote(self, server: str, body: PromoteIn) -> PromoteOut: ...


# --- dashboard ---------------------------------------------------------------------------


@dataclass
class PairView:
    """Both servers as the dashboard shows them."""

    servers: list[ServerFacts]  # primary first, then the standby, then any other
    warnings: list[str] = field(default_factory=list)
    #: address → why THIS counter could not ask that server (its facts may come from its peer)
    not_reached: dict[str, str] = field(default_factory=dict)

    def by_role(self, role: str) -> ServerFacts | None:
        return next((s for s in self.servers if s.role == role), None)

    @property
    def primary(self) -> ServerFacts | None:
        return self.by_role(ROLE_PRIMARY)

    @property
    def standby(self) -> ServerFacts | None:
        return self.by_role(ROLE_STANDBY)

    @property
    def fallen_back_since(self) -> dt.datetime | None:
        """When the primary stopped waiting for the standby (selling alone); None if not."""
        return fallen_back_since(self.servers)

    def primary_address(self) -> str | None:
        """The address to ask "is the old primary still there?": the primary's, else the
        one the standby names as its peer, else the other server this counter knows."""
        if self.primary is not None and self.primary.address:
            return self.primary.address
        standby = self.standby
        others = [s.address for s in self.servers
                  if s.address and (standby is None or s.address != standby.address)]
        if others:
            return others[0]
        if standby is not None and standby.replication is not None and standby.replication.peer:
            return _norm(standby.replication.peer)
        return None

    def failover_target(self) -> str | None:
        """The standby to promote, if this counter can reach it."""
        s = self.standby
        if s is None or not s.address or s.address in self.not_reached:
            return None
        return s.address


def _norm(address: str | None) -> str | None:
    if not address:
        return None
    try:
        return normalize_server(address)
    except ValueError:
        return address


def _err_text(err: Any) -> str:
    if isinstance(err, ApiError):
        return err.message(i18n.language())
    return str(err) if err else ""


_ROLE_ORDER = {ROLE_PRIMARY: 0, ROLE_STANDBY: 1, ROLE_STALE: 2}


def merge_status(asked: Sequence[str],
                 answers: Mapping[str, ReplicationStatusOut | ApiError]) -> PairView:
    """Join the answers (address → status or the error asking it gave) into one view."""
    entries: dict[str, ServerFacts] = {}
    peers: list[ServerFacts] = []
    warnings: list[str] = []
    not_reached: dict[str, str] = {}
    for addr in asked:
        ans = answers.get(addr)
        if isinstance(ans, ReplicationStatusOut):
            entries[addr] = ans.this.model_copy(update={"address": addr, "reachable": True})
            if ans.peer is not None:
                peers.append(ans.peer)
            for w in ans.warnings:
                if w not in warnings:
                    warnings.append(w)
        else:
            why = _err_text(ans) or i18n.tr("standby.not_asked")
            not_reached[addr] = why
            entries[addr] = ServerFacts(address=addr, reachable=False, error=why)
    unfilled = [a for a in asked if a in not_reached]
    for p in peers:
        key = _norm(p.address)
        if key in entries and key not in not_reached:
            continue  # it answered for itself
        if key not in entries and len(unfilled) == 1:
            key = unfilled[0]  # the peer under another name (the counter's address wins)
        if key is None:
            continue
        if key in unfilled:
            unfilled.remove(key)
        # as its peer sees it; this counter's own failure to reach it is kept apart
        entries[key] = p.model_copy(update={"address": key})
    servers = sorted(entries.values(),
                     key=lambda s: (_ROLE_ORDER.get(s.role or "", 3),
                                    list(entries).index(s.address or "")))
    return PairView(servers=servers, warnings=warnings, not_reached=not_reached)


def fallen_back_since(servers: Sequence[ServerFacts]) -> dt.datetime | None:
    for s in servers:
        rep = s.replication
        if rep is not None and rep.semi_sync == FALLEN_BACK:
            if rep.semi_sync_since is not None:
                return rep.semi_sync_since
            falls = [c.at for c in s.semi_sync_fallbacks if c.state == FALLEN_BACK]
            return max(falls) if falls else dt.datetime.now(dt.UTC)
    return None


def load_pair(status_of: Callable[[str], ReplicationStatusOut], servers: Sequence[str]
              ) -> PairView:
    """Ask every server (``status_of(address)``; blocking: run it off the GUI thread)."""
    answers: dict[str, ReplicationStatusOut | ApiError] = {}
    asked = list(servers)
    for addr in asked:
        try:
            answers[addr] = status_of(addr)
        except ApiError as e:
            answers[addr] = e
    return merge_status(asked, answers)


# --- failover ------------------------------------------------------------------------------


def failed_checks(checks: Sequence[FailoverCheck]) -> list[FailoverCheck]:
    return [c for c in checks if not c.ok]


def override_offered(checks: Sequence[FailoverCheck]) -> bool:
    """True when what failed is only "the primary still answers" (seen from the standby
    and/or from this counter) and the server says it may be overridden (a machine that
    answers but is hung); never when anything else failed."""
    bad = failed_checks(checks)
    return bool(bad) and all(c.code in OVERRIDABLE_CODES and c.overridable for c in bad)


def may_continue(check: PromoteCheckOut) -> bool:
    """May the owner go on to step 2?"""
    return check.ok or override_offered(check.checks)


def can_submit(check: PromoteCheckOut | None, password: str, confirm_off: bool,
               override: bool) -> bool:
    """Step 2's button: the checks allow it, the password is typed, the owner confirmed the
    old server is off; when the checks failed only on a primary that answers, the override
    must be ticked as well."""
    if check is None or not password or not confirm_off:
        return False
    if check.ok:
        return True
    return override_offered(check.checks) and override


@dataclass(frozen=True)
class CheckLine:
    ok: bool
    text: str  # "✔ message" / "✘ message"


def check_lines(checks: Sequence[FailoverCheck]) -> list[CheckLine]:
    return [CheckLine(c.ok, f"{OK_MARK if c.ok else FAIL_MARK} {c.message}") for c in checks]


def check_request(counter_last_sale: str | None,
                  primary_reachable: bool | None) -> PromoteCheckIn:
    return PromoteCheckIn(counter_last_sale=(counter_last_sale or None),
                          primary_reachable_from_counter=primary_reachable)


def promote_request(check_in: PromoteCheckIn, username: str, password: str,
                    confirm_off: bool, override: bool) -> PromoteIn:
    """The promotion as the owner asked for it (the counter's view as in the check)."""
    return PromoteIn(counter_last_sale=check_in.counter_last_sale,
                     primary_reachable_from_counter=check_in.primary_reachable_from_counter,
                     username=username, password=password, confirm_primary_off=confirm_off,
                     override_primary_reachable=override)


def refused_checks(err: ApiError) -> list[FailoverCheck]:
    """The checks a ``409 promote_refused`` carries (its ``details.checks``)."""
    raw = err.params.get("checks")
    out: list[FailoverCheck] = []
    if isinstance(raw, list):
        for item in raw:
            try:
                out.append(FailoverCheck.model_validate(item))
            except ValidationError:
                continue
    return out


@dataclass(frozen=True)
class CheckRound:
    """Step 1's outcome."""

    request: PromoteCheckIn
    result: PromoteCheckOut
    primary: str | None
    primary_reachable: bool | None


def run_checks(api: FailoverApi, standby: str, primary: str | None,
               counter_last_sale: str | None, timeout: float = 2.0) -> CheckRound:
    """Step 1 (blocking): this counter's view of the primary, then the standby's checks."""
    reachable = api.reachable(primary, timeout) if primary else None
    body = check_request(counter_last_sale, reachable)
    return CheckRound(body, api.promote_check(standby, body), primary, reachable)


def run_promote(api: FailoverApi, standby: str, round_: CheckRound, username: str,
                password: str, confirm_off: bool, override: bool) -> PromoteOut:
    """Step 3 (blocking). Raises the server's ApiError on a refusal."""
    return api.promote(standby, promote_request(round_.request, username, password,
                                                confirm_off, override))
