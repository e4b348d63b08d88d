from __future__ import annotations

from dataclasses import dataclass

from common.schemas.base import Role


@dataclass(frozen=True)
class Actor:
    """Who is doing something: a logged-in staff member at a counter (or the system)."""

    staff_id: int | None
    username: str
    role: Role
    counter: str = ""
    ip: str | None = None

    @classmethod
    def system(cls, what: str = "system") -> Actor:
        return cls(staff_id=None, username=what, role=Role.OWNER)

    def at_least(self, role: Role) -> bool:
        return self.role.rank >= role.rank
