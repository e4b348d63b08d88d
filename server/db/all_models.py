"""Import every model module so ``Base.metadata`` is complete (Alembic, verify, tests)."""

from . import (  # noqa: F401
    activities,
    appointments,
    attendance,
    catalog,
    members,
    models,
    sales,
)
from .base import Base

metadata = Base.metadata
