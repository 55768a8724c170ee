"""``flopaudit report`` / ``check --report``: one self-contained, deterministic HTML risk report.

The page is rendered by jinja2 with autoescaping on, from a view built here out of the audit
results, the sensitivity analysis (:mod:`flopaudit.sensitivity`) and the context catalogues
(:mod:`flopaudit.context`). It has no script, no external font, stylesheet or image: the CSS is
inline and allowed by its SHA-256 in a Content-Security-Policy meta tag, the chart is inline SVG
(:mod:`flopaudit.render.svg`). The same inputs give the same bytes; a timestamp appears only when
``generated_at`` is given. It opens with a one-page summary (:mod:`flopaudit.render.summary`: binding
rules first, the one-sentence answer, headroom and what-if thresholds); ``report --pdf`` prints the
same page with headless Chromium (:mod:`flopaudit.render.pdf`).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2
from markupsafe import Markup

from flopaudit import __version__
from flopaudit.context import efficiency, reference
from flopaudit.context.applied import FLOP_METRICS, AppliedContext, apply
from flopaudit.errors import InputError
from flopaudit.estimate.band import Band
from flopaudit.estimate.stage import StageResult
from flopaudit.policy.judge import PolicyCheck
from flopaudit.policy.loader import builtin_dir, builtin_policies
from flopaudit.policy.models import Policy
from flopaudit.render import common as c
from flopaudit.render import summary as sm
from flopaudit.render.safe import is_web_url, printable
from flopaudit.render.svg import LABEL_CHARS, Chart, Mark, Point, YearCount, build_chart, models_above, shorten
from flopaudit.sensitivity import Flip, Sensitivity, analyse

if TYPE_CHECKING:
    from flopaudit.audit import AuditResult

TEMPLATES = Path(__file__).resolve().parent / "templates"
HOOKER = ("Sara Hooker, On the Limitations of Compute Thresholds as a Governance Strategy, arXiv:2407.05694",
          "https://arxiv.org/abs/2407.05694")
VERDICT_ICON = {"above": "▲", "below": "▼", "indeterminate": "◆", "not-applicable": "–"}


@dataclass(frozen=True)
class ObligationView:
    """A triggered obligation: its id, deadline and full text."""

    id: str
    deadline: str
    text: str


@dataclass
class CheckView:
    """One verdict row."""

    check: PolicyCheck
    status_detail: str
    obligations: list[ObligationView]
    deciders: list[str] = field(default_factory=list)
    #: Names of the stages the policy counts, as a set: the stage matrix looks every stage up in it.
    counted: frozenset[str] = frozenset()

    @property
    def reasons(self) -> list[str]:
        """The verdict's reasons, less the status note the status column already gives."""
        return [r for r in self.check.reasons if not r.endswith("judged but never gates")]

    @property
    def policy(self) -> Policy:
        """The policy judged."""
        return self.check.policy


@dataclass
class StageView:
    """One stage of 'where the compute went'."""

    result: StageResult
    share: float
    cross_checks: list[tuple[str, str, str]]
    #: "read from FILE (format): steps (line) x batch x sequence = tokens" when from a training_config
    source: str = ""
    #: "measured during training (ledger FILE): steps on ranks, times, total; projection" with a ledger
    ledger: str = ""


@dataclass
class ConfigView:
    """Everything the report shows about one config."""

    index: int
    anchor: str
    result: "AuditResult"
    checks: list[CheckView]
    stages: list[StageView]
    sensitivity: Sensitivity
    context: AppliedContext
    headline: str
    headline_class: str
    summary: str
    #: The one sentence a reader needs (:func:`summary.answer`).
    answer: str = ""
    headroom: list[sm.Headroom] = field(default_factory=list)
    what_if_basis: str = ""
    what_if: list[sm.WhatIf] = field(default_factory=list)
    uncertainty: str = ""

    @property
    def obligations(self) -> list[tuple[str, str, ObligationView]]:
        """Every obligation triggered (or that may apply), by legal weight: (policy, weight, obligation)."""
        return [(cv.policy.short_name, sm.WEIGHT_TEXT[sm.legal_weight(cv.check)], o)
                for cv in self.checks for o in cv.obligations]


def status_detail(policy: Policy, status: str) -> str:
    """``in force since 2025-08-02`` / ``revoked on 2025-01-20`` / ``not yet effective (from 2027-01-01)``."""
    life = policy.lifecycle
    if status == "in-force":
        return f"in force since {life.effective.isoformat()}" if life.effective else "in force"
    if status == "not-yet-effective":
        return f"not yet effective (from {life.effective.isoformat()})" if life.effective else "not yet effective"
    if status == "draft":
        return "draft, not enacted"
    if life.ended is not None:
        return f"{status} on {life.ended.isoformat()}"
    return c.status_label(status)


def gate_text(check: PolicyCheck) -> str:
    """What the check does to the CI gate, with its severity and waiver: the status column's second line."""
    if not check.in_force:
        return f"judged, never gates · severity {c.severity(check)}"
    if check.waiver is not None:
        return f"waived, does not gate · {c.waiver_line(check)} · severity {c.severity(check)}"
    if check.severity == "warning":
        return f"severity {c.severity(check)}: shown, never fails the CI check"
    if check.expired_waiver is not None:
        return f"gates the CI check · {c.waiver_line(check)} · severity {c.severity(check)}"
    return f"gates the CI check · severity {c.severity(check)}"


def _obligations(check: PolicyCheck) -> list[ObligationView]:
    by_id = {o.id: o for o in check.policy.obligations}
    out = []
    for label, text in zip(check.obligation_ids, check.obligations, strict=True):
        ob = by_id.get(label.split(" (")[0])
        deadline = ""
        if ob is not None and ob.deadline_days:
            deadline = f"within {ob.deadline_days} days"
        elif ob is not None and ob.deadline_hours:
            deadline = f"within {ob.deadline_hours} hours"
        out.append(ObligationView(label.split(" (")[0], deadline, text.replace(f" [{deadline}]", "")))
    return out


def compared_band(check: PolicyCheck) -> tuple[Band | None, str]:
    """The figure the deciding rule compared (None: none) and its unit, as :func:`common.compared` has them."""
    value = check.deciding.counted
    if check.deciding.rule.metric == "cluster_peak_flops":
        return value, "FLOP/s"
    return (value if value is not None else check.counted_flop), "FLOP"


def margin_parts(check: PolicyCheck) -> tuple[str, str]:
    """:func:`common.margin` split into ``4.1x over`` and ``+2.0 doublings`` (``+0.012 doublings``, never ``+0.0``)."""
    main, _, _ = c.margin(check).partition(" (")
    return main, c.doublings(check.doublings) if check.doublings is not None else ""


def flip_text(flip: Flip) -> str:
    """``eu-ai-act-systemic-risk: UNDECIDED → ABOVE (1.18e25)``."""
    value = f" ({c.flop(flip.compared.central)})" if flip.compared else ""
    return f"{flip.policy}: {c.VERDICT_LABEL[flip.before]} → {c.VERDICT_LABEL[flip.after]}{value}"


def _deciders(sens: Sensitivity, check: PolicyCheck) -> list[str]:
    if check.verdict != "indeterminate":
        return []
    out = [f"{o.scenario.assumption} → {o.scenario.variant}: {c.VERDICT_LABEL[f.after]}"
           for o, f in sens.deciding(check.policy.id)]
    out += [f"Utilisation of stage '{b.stage}' above {b.utilization:.3f} gives ABOVE (declared range "
            f"{b.low:g}..{b.high:g}; found by bisection)" for b in sens.break_evens if b.policy == check.policy.id]
    return out


def _stage_views(result: "AuditResult") -> list[StageView]:
    total = result.total_flop.central
    views = []
    for r in result.stages:
        checks = []
        for e in r.cross_checks:
            diff = f"{e.flop.central / r.flop.central - 1:+.0%}" if r.flop.central else "-"
            checks.append((f"{e.method} ({e.label})" if e.label else e.method, c.band(e.flop), diff))
        views.append(StageView(r, r.flop.central / total if total else 0.0, checks,
                               c.training_config_line(result, r) or "", c.ledger_line(result, r) or ""))
    return views


def _headline(result: "AuditResult") -> tuple[str, str]:
    """The banner's first line: crossed policies by legal weight, binding ones first, then guidance."""
    ordered = sm.by_legal_weight(result.checks)
    binding = [k for k in ordered if k.gates]  # in force, severity error, not waived
    above = [k.policy.short_name for k in binding if k.verdict == "above"]
    undecided = [k.policy.short_name for k in binding if k.verdict == "indeterminate"]
    waived = [k.policy.short_name for k in ordered if k.waiver is not None and c.crossing(k)]
    warned = [k.policy.short_name for k in ordered if k.waiver is None and sm.legal_weight(k) == 1 and c.crossing(k)]
    if above or undecided:
        parts = ([f"▲ Above (binding): {', '.join(above)}"] if above else []) + \
            ([f"◆ {'u' if above else 'U'}ndecided (binding): {', '.join(undecided)}"] if undecided else [])
        extra = ([f"guidance {', '.join(warned)}"] if warned else []) + \
            ([f"waived {', '.join(waived)}"] if waived else [])
        return "; ".join(parts) + (" · also crossed: " + "; ".join(extra) if extra else ""), \
            "above" if above else "indeterminate"
    if waived or warned:
        extra = ([f"waived: {', '.join(waived)}"] if waived else []) + \
            ([f"severity warning: {', '.join(warned)}"] if warned else [])
        return "▼ Nothing that gates is crossed (" + "; ".join(extra) + ")", "below"
    return "▼ Below every threshold in force", "below"


def config_view(index: int, result: "AuditResult") -> ConfigView:
    """The view of one audited config (runs its sensitivity analysis)."""
    sens = analyse(result)
    moe = next((o for o in sens.outcomes if o.scenario.topic == "moe"), None)
    context = apply(result, moe.total if moe else None)
    checks = [CheckView(k, status_detail(k.policy, k.status), _obligations(k), _deciders(sens, k),
                        frozenset(k.counted_stages)) for k in sm.by_legal_weight(result.checks)]
    headline, css = _headline(result)
    basis, what_if = sm.what_if(result, context)
    return ConfigView(index, f"config-{index + 1}", result, checks, _stage_views(result), sens, context,
                      headline, css, c.summary_line(result.exit_code, result.checks, result.fail_on),
                      sm.answer(result), sm.headrooms(result), basis, what_if, sm.biggest_uncertainty(result, sens))


def chart(views: Sequence[ConfigView]) -> Chart:
    """The landscape chart: every audited config at its run date, the catalogue, every FLOP threshold."""
    points = []
    for v in views:
        name, total = v.result.config.model.name, v.result.total_flop
        suffix = " (this report)" if len(views) == 1 else f" (config {v.index + 1})"
        run = v.context.run
        points.append(Point(f"config-{v.index + 1}", shorten(name, LABEL_CHARS - len(suffix)) + suffix, run.date,
                            total.central, total.low, total.high, "audited",
                            f"{name}: total {c.band(total)} FLOP (all stages), dated {run.date.isoformat()} "
                            f"({run.source})"))
    for m in reference.reference_models():
        sources = "; ".join(f"{s.label} {s.url}" for s in m.sources)
        points.append(Point(m.id, m.name, m.published, m.flop, m.low, m.high, m.basis,
                            f"{m.name} ({m.developer}, published {m.published.isoformat()}): {c.flop(m.flop)} FLOP, "
                            f"{m.basis_text}. Source: {sources}"))
    return build_chart(points, _marks(views))


def _marks(views: Sequence[ConfigView]) -> list[Mark]:
    """Every FLOP threshold judged, labelled with its policy's short name (and status when not in force)."""
    marks = []
    for v in views:
        for k in v.result.checks:
            t = k.deciding.threshold
            if t is None or k.verdict == "not-applicable" or k.deciding.rule.metric not in FLOP_METRICS:
                continue
            label, status = k.policy.short_name, c.status_label(k.status)
            if not k.in_force and status not in label:
                label += f" ({status})"
            marks.append(Mark(t.low, t.high, label, k.in_force))
    return marks


def landscape_counts(views: Sequence[ConfigView]) -> tuple[list[str], list[YearCount]]:
    """Threshold labels (single values only, by value) and, per year, catalogue models above each."""
    values: dict[float, list[str]] = {}
    for m in _marks(views):
        if m.low == m.high and m.label not in values.get(m.low, []):
            values.setdefault(m.low, []).append(m.label)
    thresholds = sorted(values)
    labels = [f"> {c.flop(t)} ({', '.join(values[t])})" for t in thresholds]
    dated = [(m.published, m.flop) for m in reference.reference_models()]
    return labels, models_above(dated, thresholds)


def side_by_side(views: Sequence[ConfigView]) -> list[tuple[Policy, str, list[CheckView | None]]]:
    """Policies (in first-seen order) with their threshold text and each config's verdict row, if judged."""
    rows: dict[str, list[CheckView | None]] = {}
    first: dict[str, CheckView] = {}
    for i, v in enumerate(views):
        for cv in v.checks:
            first.setdefault(cv.policy.id, cv)
            rows.setdefault(cv.policy.id, [None] * len(views))[i] = cv
    out = []
    for pid, cells in rows.items():
        texts = {c.threshold(cv.check) for cv in cells if cv is not None}
        # A relative or per-rule bound can differ between configs: then each cell shows its own.
        out.append((first[pid].policy, c.threshold(first[pid].check) if len(texts) == 1 else "per config", cells))
    return out


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def policy_digest(policy: Policy) -> tuple[str, str]:
    """SHA-256 of the built-in policy file, or of the parsed policy's canonical JSON for other policies."""
    path = builtin_dir() / f"{policy.id}.yaml"
    if builtin_policies().get(policy.id) == policy and path.is_file():
        return _sha256(path), f"policies/{policy.id}.yaml"
    canonical = json.dumps(policy.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest(), "canonical JSON of the parsed policy"


def _policies(views: Sequence[ConfigView]) -> list[tuple[Policy, str, str]]:
    seen: dict[str, Policy] = {}
    for v in views:
        for k in v.result.checks:
            seen.setdefault(k.policy.id, k.policy)
    return [(p, *policy_digest(p)) for p in seen.values()]


def _printable(value: object) -> object:
    """Every string printed into the page loses its control characters (autoescaping does the rest)."""
    return printable(value) if isinstance(value, str) and not isinstance(value, Markup) else value


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             finalize=_printable)
    env.filters.update(flop=c.flop, band=c.band, threshold=c.threshold, status_label=c.status_label,
                       pct=lambda x: f"{x:.1%}" if x >= 0.001 else "< 0.1%")
    env.tests["web_url"] = is_web_url
    env.globals.update(VERDICT_LABEL=c.VERDICT_LABEL, VERDICT_ICON=VERDICT_ICON, flip_text=flip_text,
                       compared_band=compared_band, margin_parts=margin_parts, gate_text=gate_text,
                       weight_text=lambda k: sm.WEIGHT_TEXT[sm.legal_weight(k)])
    return env


def render_html(results: Sequence["AuditResult"], command: Sequence[str] = ("flopaudit", "report"), *,
                generated_at: dt.datetime | None = None) -> str:
    """The report for ``results`` as one HTML document (deterministic unless ``generated_at`` is given)."""
    from flopaudit.audit import CONVENTION

    views = [config_view(i, r) for i, r in enumerate(results)]
    env = _environment()
    css = env.get_template("report.css").render()
    style_hash = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    names = [v.result.config.model.name for v in views]
    return env.get_template("report.html.j2").render(
        views=views, side_by_side=side_by_side(views), title="flopaudit risk report: " + "; ".join(names),
        css=Markup(css), style_hash=style_hash,
        chart=chart(views), landscape=landscape_counts(views), catalogue=efficiency.catalogue(),
        references=reference.reference_models(),
        policies=_policies(views), version=__version__, command=shlex.join(command), convention=CONVENTION, notices_title=c.NOTICES_TITLE,
        hooker=HOOKER, generated_at=generated_at.isoformat(timespec="seconds") if generated_at else None,
        data_files=[(p.name, _sha256(p)) for p in (reference.DATA_FILE, efficiency.DATA_FILE)])


def write_report(results: Sequence["AuditResult"], path: str | Path, command: list[str], *,
                 generated_at: dt.datetime | None = None) -> None:
    """Render the report and write it to ``path`` (UTF-8, parent folders created)."""
    write_html(render_html(results, command, generated_at=generated_at), path)


def write_html(text: str, path: str | Path) -> None:
    """Write a rendered report to ``path`` (UTF-8, parent folders created)."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
    except OSError as exc:
        raise InputError(f"cannot write the report: {exc.strerror}", file=path) from None
