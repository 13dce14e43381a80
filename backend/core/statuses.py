"""Sets of contract statuses the code asks about, written once (the statuses themselves are the
generated :mod:`backend.core.enums`)."""

from __future__ import annotations

from backend.core.enums import LeaseStatus

# A running lease: billed, reported on, holding its device (EquipmentLease._running).
RUNNING_LEASE = (LeaseStatus.ACTIVE, LeaseStatus.FROZEN, LeaseStatus.DEFAULTED)
