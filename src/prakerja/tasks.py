"""Imports every domain's ``tasks`` module so the worker knows all task names."""

from prakerja.audit import tasks as audit_tasks  # noqa: F401
from prakerja.idempotency import tasks as idempotency_tasks  # noqa: F401
from prakerja.ledger import tasks as ledger_tasks  # noqa: F401
from prakerja.notifications import tasks as notifications_tasks  # noqa: F401
from prakerja.partners import tasks as partners_tasks  # noqa: F401
from prakerja.payouts import tasks as payouts_tasks  # noqa: F401
from prakerja.registration import tasks as registration_tasks  # noqa: F401
from prakerja.selection import tasks as selection_tasks  # noqa: F401
from prakerja.training import tasks as training_tasks  # noqa: F401
