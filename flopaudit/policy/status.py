"""A policy's status on a date, derived from its lifecycle dates."""

from __future__ import annotations

import datetime as dt

from flopaudit.policy.models import Policy

STATUSES = ("in-force", "not-yet-effective", "revoked", "rescinded", "superseded", "expired", "vetoed", "draft")


def status_on(policy: Policy, date: dt.date) -> str:
    """One of :data:`STATUSES`; only ``in-force`` policies gate."""
    life = policy.lifecycle
    if life.draft:
        return "draft"
    if life.end_reason == "vetoed":
        return "vetoed"
    if life.ended is not None and life.end_reason and life.ended <= date:
        return life.end_reason
    if life.effective is None or life.effective > date:
        return "not-yet-effective"
    return "in-force"
