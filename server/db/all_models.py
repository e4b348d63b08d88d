"""Import every model module so ``Base.metadata`` is complete (Alembic, verify, tests)."""

from . import activities, attendance, catalog, members, models, sales  # noqa: F401
from .base import Base

metadata = Base.metadata
