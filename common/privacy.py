"""Members' personal data (PIPL, 个人信息保护法): who sees what — the one place that decides it.

* **Phones in lists.** A list or search result (the member search, birthdays, a card look-up,
  a sale's or refund's member) shows the phone masked (``138****5678``,
  :func:`common.text.mask_phone`) to a role without the *see personal data* permission: the
  cashier. Owner and manager see full numbers (they call members back, run the birthday list,
  correct records). A cashier still finds a member by the full number or its last 4 digits:
  the search runs on the server with the real number; only the answer is masked.
* **The member's own record** (``GET /members/<id>``, and what create / edit / PIN answer)
  shows the full number to every role: the staff serving that member confirms it with them.
  A cashier reading it is audited (``member.view``, once per member and cashier a day), so a
  cashier stepping through every member shows in the audit log.
* **Report lists** (new, dormant and birthday members, the care lists of 会员关怀,
  ``GET /reports/member-list``): the phone masked for every role, owner included — a report
  page is printed or exported to a file; the full number stays in the member's own record
  and the owner's audited export (:func:`report_phone`).
* **Export** of the member list (every phone and birthday at once), or of one care list to
  call its members (``/members/export?kind=…``): owner only, audited with the row count
  (and the list's definition).
* **Anonymise** (注销会员, on the member's request): owner only, see
  ``server.domain.member_privacy``.
"""

from __future__ import annotations

from common.schemas.base import Role
from common.text import mask_phone


def sees_personal_data(role: Role | str) -> bool:
    """Does ``role`` see members' full phone numbers in lists? Owner and manager."""
    return Role(role).rank >= Role.MANAGER.rank


def can_export_members(role: Role | str) -> bool:
    return Role(role) == Role.OWNER


def can_anonymise_members(role: Role | str) -> bool:
    return Role(role) == Role.OWNER


def shown_phone(phone: str | None, role: Role | str, *, own_record: bool = False
                ) -> str | None:
    """The phone as ``role`` may see it: full on the member's own record or with the
    permission, else masked."""
    if not phone or own_record or sees_personal_data(role):
        return phone
    return mask_phone(phone)


def report_phone(phone: str | None) -> str | None:
    """The phone in a report list: masked for every role (it may end up in a file)."""
    return mask_phone(phone) if phone else phone


def audits_record_view(role: Role | str) -> bool:
    """Is ``role`` reading a member's full record audited? When it lacks the permission."""
    return not sees_personal_data(role)
