"""Use cases: one function per user action, one unit of work (transaction) each."""

from deconfliction.service.ports import UnitOfWork
from deconfliction.service.use_cases import (
    check_parties,
    file_notices,
    init_store,
    list_conflicts,
    stored_agreement,
)

__all__ = [
    "UnitOfWork",
    "check_parties",
    "file_notices",
    "init_store",
    "list_conflicts",
    "stored_agreement",
]
