"""Marketing messages (营销短信 / 微信通知): the seam where an SMS or WeChat provider plugs in.

Sending a text or a WeChat template message needs an outside service (an SMS gateway's
account and signed templates, a WeChat official account): lanpos ships none. What it has is
this seam — a :class:`MessageSender` the app holds (``state.services.messages``), called
with the messages a use case wants sent (a bulk coupon with ``notify``: "您获得一张优惠券…"),
**after** its transaction committed (:func:`send_after_commit`: a rolled-back or retried
request sends nothing twice). The default, :class:`RecordingSender`, sends nothing: it keeps
the last messages and a count, which is what the API answers (``messages``) and what tests
read.

A provider is a class with ``channel`` and ``send(messages) -> int`` (how many it accepted),
set at start-up: ``app.extensions["lanpos"].services.messages = MySmsSender(...)``. It should
hand the messages to its own queue (an outbox table, the gateway's batch API) and return at
once: the request that issued the coupons is waiting.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Message:
    member_id: int
    phone: str | None  # the full number: a provider needs it; never sent back to a client
    text: str
    ref: str  # what it is about (a coupon batch)


class MessageSender(Protocol):
    channel: str

    def send(self, messages: Sequence[Message]) -> int:
        """Hand ``messages`` over; returns how many were accepted."""
        ...


class RecordingSender:
    """The default: sends nothing, records what would have been sent (the last ``keep``) and
    how many."""

    channel = "none"

    def __init__(self, keep: int = 1000) -> None:
        self.recent: deque[Message] = deque(maxlen=keep)
        self.count = 0
        self._lock = threading.Lock()

    def send(self, messages: Sequence[Message]) -> int:
        with self._lock:
            self.recent.extend(messages)
            self.count += len(messages)
        log.info("%d message(s) not sent: no SMS / WeChat provider configured", len(messages))
        return len(messages)


def send_after_commit(session: Session, sender: MessageSender,
                      messages: list[Message]) -> None:
    """Send ``messages`` once ``session`` commits (never if it rolls back)."""
    if not messages:
        return

    def _send(_session: Session) -> None:
        try:
            sender.send(messages)
        except Exception:  # the coupons are issued; a provider's failure is logged
            log.exception("message sender %s failed", getattr(sender, "channel", "?"))

    event.listen(session, "after_commit", _send, once=True)
