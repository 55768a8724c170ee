"""The tripwire: warn when the projected final compute crosses a policy threshold (or a fraction of it).

Thresholds, comparisons and obligation deadlines are read from the policies
(:func:`flopaudit.policy.loader.resolve_policy`: a built-in id or a policy file), never written
here. A rule is armed when it bounds a training run's compute with an absolute threshold
(metrics ``cumulative_training_flop`` and ``training_flop``); any other rule (a cluster's peak
FLOP/s, a modification bound relative to a base model) cannot be judged from one run's ledger
and is listed in :attr:`Tripwire.not_judged`, never silently passed.

It fires when ``projected_total > fraction * threshold`` (``>=`` for a ``gte`` rule), once per
policy rule per ledger. The alarm names the policy, the projected time the threshold itself is
crossed at the mean step time so far (whether or not the planned steps reach it), and for each
obligation with a deadline, that deadline counted from the projected crossing.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from flopaudit.errors import ConfigError
from flopaudit.ledger import projection

LOG = logging.getLogger("flopaudit.ledger")
JUDGED_METRICS = ("cumulative_training_flop", "training_flop")


@dataclass(frozen=True)
class Armed:
    """One policy rule the tripwire watches."""

    policy: str
    policy_name: str
    rule: str
    threshold: float
    strict: bool
    obligations: tuple[tuple[str, int | None, int | None], ...]  # (id, deadline_days, deadline_hours)


@dataclass(frozen=True)
class Alarm:
    """A crossed tripwire: the ledger record and the warning's text."""

    record: dict[str, Any]
    message: str


class Tripwire:
    """The armed rules of ``policies`` (ids or policy files) at ``fraction`` of their thresholds."""

    def __init__(self, policies: list[str], fraction: float = 1.0) -> None:
        from flopaudit.policy.loader import resolve_policy

        if not isinstance(fraction, (int, float)) or isinstance(fraction, bool) or not 0 < fraction <= 1:
            raise ConfigError(f"fraction must be a number in (0, 1], not {fraction!r}")
        self.fraction = float(fraction)
        self.armed: list[Armed] = []
        self.not_judged: list[str] = []
        for ref in policies:
            policy = resolve_policy(ref)
            obligations = tuple((o.id, o.deadline_days, o.deadline_hours) for o in policy.obligations
                                if o.deadline_days is not None or o.deadline_hours is not None)
            for rule in policy.rules:
                if rule.metric in JUDGED_METRICS and rule.threshold is not None:
                    self.armed.append(Armed(policy.id, policy.short_name, rule.id, rule.threshold,
                                            rule.comparison == "gt", obligations))
                else:
                    self.not_judged.append(f"{policy.id}/{rule.id} ({rule.metric}"
                                           + (", relative to a base model" if rule.threshold is None else "")
                                           + "): not judged from a run's ledger")
        for line in self.not_judged:
            LOG.info("flopaudit ledger tripwire: %s", line)

    def check(self, *, step: int, total_flop: int, counted_steps: int, planned_steps: int,
              seconds_per_step: float, now: dt.datetime, fired: set[tuple[str, str]]) -> list[Alarm]:
        """Alarms for armed rules crossed by the projection and not yet in ``fired`` (which is updated)."""
        if counted_steps <= 0:
            return []
        projected = projection.projected_total(total_flop, counted_steps, planned_steps)
        per_step = total_flop / counted_steps
        alarms = []
        for armed in self.armed:
            if (armed.policy, armed.rule) in fired:
                continue
            trigger = self.fraction * armed.threshold
            if not (projected > trigger if armed.strict else projected >= trigger):
                continue
            fired.add((armed.policy, armed.rule))
            alarms.append(self._alarm(armed, step=step, total=total_flop, projected=projected,
                                      per_step=per_step, seconds=seconds_per_step, now=now,
                                      within=(projected > armed.threshold if armed.strict
                                              else projected >= armed.threshold)))
        return alarms

    def _alarm(self, armed: Armed, *, step: int, total: int, projected: float, per_step: float,
               seconds: float, now: dt.datetime, within: bool) -> Alarm:
        steps = projection.steps_until(armed.threshold, total, per_step, strict=armed.strict)
        crossing = projection.time_after_steps(now, steps, seconds) if steps is not None else None
        deadlines = []
        for ob_id, days, hours in armed.obligations:
            due = projection.deadline(crossing, days=days, hours=hours) if crossing else None
            deadlines.append({"obligation": ob_id, "deadline_days": days, "deadline_hours": hours,
                              "deadline": due.isoformat() if due else None})
        record = {"type": "tripwire", "time": now.isoformat(), "step": step, "policy": armed.policy,
                  "rule": armed.rule, "threshold": armed.threshold, "fraction": self.fraction,
                  "total_flop": total, "projected_total_flop": projected, "within_plan": within,
                  "steps_to_threshold": steps,
                  "projected_crossing": crossing.isoformat() if crossing else None,
                  "obligations": deadlines}
        when = (crossing.strftime("%Y-%m-%d %H:%M UTC") if crossing else
                "never at 0 FLOP per step" if steps is None else "after the year 9999")
        due_text = "; ".join(f"{d['obligation']} due by {d['deadline'][:10]}" for d in deadlines if d["deadline"])
        share = "" if self.fraction == 1 else f" ({self.fraction:g} of it: {self.fraction * armed.threshold:.3g})"
        message = (f"flopaudit ledger: step {step}: projected compute {projected:.3g} FLOP crosses "
                   f"{armed.policy} ({armed.policy_name}) threshold {armed.threshold:.3g} FLOP{share}; "
                   + ("the planned steps reach it; " if within else "the planned steps stay below the threshold; ")
                   + f"at the current step rate the threshold is crossed {when}"
                   + (f"; {due_text}" if due_text else ""))
        return Alarm(record=record, message=message)
