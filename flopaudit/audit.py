"""Join the parts: load a config, estimate every stage, judge every policy, decide the exit code."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flopaudit import __version__, notices
from flopaudit.config.loader import LoadedConfig
from flopaudit.config.paths import config_file
from flopaudit.errors import (CodeNotAllowedError, ConfigError, FlopauditError, MeasureError,
                              MissingDependencyError, ModelSourceError, PolicyError)
from flopaudit.estimate.band import Band
from flopaudit.estimate.methods import METHOD_ORDER, Context, Unavailable
from flopaudit.estimate.plausibility import implausible_inputs
from flopaudit.estimate.stage import StageResult, estimate_stage
from flopaudit.policy.judge import PolicyCheck, judge
from flopaudit.policy.loader import builtin_policies, resolve_policy
from flopaudit.policy import severity as severities
from flopaudit.policy import waivers as waiving
from flopaudit.policy.models import Policy
from flopaudit.suggest import did_you_mean

if TYPE_CHECKING:
    from flopaudit.measure.isolate import Limits

FAIL_ON = ("above", "indeterminate", "never")
CONVENTION = ("1 multiply-add = 2 FLOP; every operation counts equally whatever its precision; "
              "embedding lookups and elementwise operations count 0")


@dataclass
class AuditResult:
    """Everything ``check`` knows about one config."""

    loaded: LoadedConfig
    stages: list[StageResult]
    checks: list[PolicyCheck]
    as_of: dt.date
    fail_on: str
    #: The method asked for with ``--method`` (None: each stage's first available).
    method: str | None = None
    #: What the config or the command did to its own gate (see :mod:`flopaudit.notices`).
    notices: list[notices.Notice] = field(default_factory=list)

    @property
    def config(self):  # noqa: ANN201 - the pydantic Config
        """The validated config."""
        return self.loaded.config

    @property
    def total_flop(self) -> Band:
        """Sum over every stage (model FLOP)."""
        return Band.total(r.flop for r in self.stages)

    @property
    def attention(self) -> str:
        """Attention convention used: full or causal."""
        return self.config.counting.attention

    @property
    def exit_code(self) -> int:
        """0: nothing in force crossed; 1: crossed (or undecided under fail-on indeterminate)."""
        failing = {"above": {"above"}, "indeterminate": {"above", "indeterminate"}, "never": set()}[self.fail_on]
        return int(any(c.gates and c.verdict in failing for c in self.checks))

    def config_sha256(self) -> str:
        """SHA-256 of the config file's bytes (or of its text when it has no file)."""
        path = Path(self.loaded.file)
        if self.loaded.source is not None:  # read from stdin
            data = self.loaded.source
        else:
            data = path.read_bytes() if path.is_file() else self.loaded.file.encode()
        return hashlib.sha256(data).hexdigest()

    def parameters(self) -> tuple[float | None, float | None]:
        """Total and active parameters, from the config or derived from the architecture."""
        from flopaudit.estimate.methods import arch_parameters
        m = self.config.model
        total = m.parameters.central if m.parameters else (
            arch_parameters(m.architecture, active=False) if m.architecture else None)
        active = m.active.central if m.active else (
            arch_parameters(m.architecture, active=True) if m.architecture else total)
        return total, active

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of results.md (``check --format json``)."""
        total, active = self.parameters()
        return {
            "schema_version": 1,
            "flopaudit_version": __version__,
            "config": self.loaded.file,
            "as_of": self.as_of.isoformat(),
            "convention": {"flop_per_multiply_add": 2, "attention": self.attention, "text": CONVENTION},
            "model": {"name": self.config.model.name, "parameters": total, "active_parameters": active,
                      "modality": list(self.config.model.modality)},
            "stages": [_stage_dict(r, self.loaded) for r in self.stages],
            "total_flop": self.total_flop.as_dict(),
            "checks": [_check_dict(c, self.as_of) for c in self.checks],
            "notices": [n.as_dict() for n in self.notices],
            "exit_code": self.exit_code,
        }


def _stage_dict(r: StageResult, loaded: LoadedConfig) -> dict[str, Any]:
    run = loaded.runs.get(r.stage.name)
    extra: dict[str, Any] = {}
    if run is not None:
        from flopaudit.config.training_config import derived

        ref = r.stage.training_config
        extra["training_config"] = {"path": ref.path if ref else str(run.path), "format": run.format,
                                    "tokens": run.tokens, "derived": derived(run), "notes": list(run.notes)}
    ledger = loaded.ledgers.get(r.stage.name)
    if ledger is not None:
        extra["ledger"] = ledger.to_dict()
    return {
        "name": r.stage.name, "kind": r.stage.kind, "method": r.method, "flop": r.flop.as_dict(),
        "tokens": r.stage.processed_tokens.central if r.stage.processed_tokens else None, **extra,
        "parts": {k: v.as_dict() for k, v in r.chosen.parts.items()},
        "recomputation_flop": r.recomputation_flop.as_dict() if r.recomputation_flop else None,
        "assumptions": list(r.chosen.assumptions),
        "estimates": [{"method": e.method, **({"label": e.label} if e.label else {}), "flop": e.flop.as_dict(),
                       "assumptions": list(e.assumptions)} for e in r.cross_checks],
        "unavailable": dict(r.unavailable),
        "warnings": list(r.warnings),
    }


def _check_dict(c: PolicyCheck, as_of: dt.date) -> dict[str, Any]:
    p, d = c.policy, c.deciding
    return {
        "policy": p.id, "name": p.name, "jurisdiction": p.jurisdiction.code, "status": c.status,
        "gates": c.gates, "metric": d.rule.metric, "rule": d.rule.id,
        "threshold": d.threshold.central if d.threshold else None,
        "threshold_band": {"low": d.threshold.low, "high": d.threshold.high} if d.threshold else None,
        "comparison": d.rule.comparison,
        "counted_flop": c.counted_flop.as_dict(),
        "compared_value": d.counted.as_dict() if d.counted else None,
        "counted_stages": c.counted_stages, "excluded_stages": c.excluded_stages,
        "verdict": c.verdict, "margin": c.margin, "doublings": c.doublings,
        "conditions": [{"condition": text, "holds": ok} for text, ok in d.conditions],
        "reasons": c.reasons, "obligations": c.obligations,
        "citation": {"label": p.citations[0].label, "url": p.citations[0].url, "locator": d.rule.citation},
        "overrides": p.overrides, "policy_file": p.source if p.overrides else None,
        "severity": c.severity, "severity_source": c.severity_source,
        "waiver": c.waiver.as_dict(as_of) if c.waiver else None,
        "waiver_expired": c.expired_waiver.as_dict(as_of) if c.expired_waiver else None,
    }


def select_policies(loaded: LoadedConfig, refs: Sequence[str | Policy] = (),
                    extra: Sequence[Policy] = ()) -> list[Policy]:
    """Policies to judge: ``refs`` (ids, files or Policy objects) if given, else the config's list, else every built-in.

    ``extra`` (an organisation's own policies, the ``policy-paths`` setting) are judged as well; one
    that ``overrides`` a selected built-in takes its place, and the config's list may name them by id.
    Two policies that would be judged under one id (a built-in and a file overriding it, or the
    same id twice) are refused: one of them would silently hide the other.
    """
    chosen = _select(loaded, refs, extra)
    for p in extra:
        if any(q is p for q in chosen):
            continue
        replaced = [i for i, q in enumerate(chosen)
                    if p.overrides is not None and q is builtin_policies().get(p.overrides)]
        if replaced:
            chosen[replaced[0]] = p
            continue
        other = next((q for q in chosen if {q.id, q.overrides or q.id} & {p.id, p.overrides or p.id}), None)
        if other is not None:
            raise PolicyError(f"two policies stand for '{p.overrides or p.id}': {_origin(other)} and {_origin(p)}; "
                              "give one of them", file=p.source)
        chosen.append(p)
    return chosen


def _select(loaded: LoadedConfig, refs: Sequence[str | Policy], extra: Sequence[Policy]) -> list[Policy]:
    if refs:
        chosen = [r if isinstance(r, Policy) else resolve_policy(r) for r in refs]
        seen: dict[str, Policy] = {}
        for p in chosen:
            for key in {p.id, p.overrides or p.id}:
                if key in seen and seen[key] is not p:
                    other = seen[key]
                    raise PolicyError(f"two policies stand for '{key}': {_origin(other)} and {_origin(p)}; "
                                      "give one of them", file=p.source)
                seen[key] = p
        return chosen
    builtins = builtin_policies()
    ids = loaded.config.policies
    if ids is None:
        return list(builtins.values())
    known = {**builtins, **{p.id: p for p in extra}}
    out = []
    for i, pid in enumerate(ids):
        if pid not in known:
            raise loaded.error(f"unknown policy '{pid}'{did_you_mean(pid, known)}; "
                               f"built-in: {', '.join(builtins)}", "policies", i)
        if pid in ids[:i]:
            raise loaded.error(f"policy '{pid}' is listed twice", "policies", i)
        out.append(known[pid])
    return out


def _origin(p: Policy) -> str:
    if p.source and p.overrides:
        return f"{p.source} (overrides {p.overrides})"
    return p.source or f"built-in {p.id}"


def gate_notices(loaded: LoadedConfig, stages: Sequence[StageResult], checks: Sequence[PolicyCheck],
                 *, date: dt.date, today: dt.date, as_of_source: str | None, policies_source: str | None,
                 allow_outside_paths: bool = False, allow_code: bool = False) -> list[notices.Notice]:
    """Everything the config (or the command, or the settings) did to narrow its gate, in a fixed order.

    ``policies_source`` is None when the config chose its policies, else where they came from:
    a choice on the command line is the operator's own and is not a notice; one in a settings
    file (which a pull request can edit too) is.
    """
    builtins = builtin_policies()
    out: list[notices.Notice] = notices.code_allowed(loaded) if allow_code else []
    out += notices.outside_paths(loaded) if allow_outside_paths else []
    if policies_source is None:
        out += notices.excluded_policies(loaded, list(builtins))
    elif policies_source != "--policy":
        out += notices.settings_policies(policies_source, [c.policy.id for c in checks], list(builtins))
    out += notices.policy_overrides([c.policy for c in checks], builtins)
    out += notices.as_of(loaded, date, today, as_of_source)
    out += notices.stages_not_counted(loaded, stages, checks)
    return out


def measured_counter(loaded: LoadedConfig, *, allow_code: bool = False, code_limits: Limits | None = None,
                     method: str | None = None, allow_outside_paths: bool = False
                     ) -> Callable[[int, int | None], tuple[float, list[str], list[str]]] | None:
    """seq_len -> (counted train FLOP per token, uncounted ops) of the config's real model; None without one.

    A ``model.factory`` is imported only with ``allow_code``, and then counted in a child process
    under ``code_limits`` (default :class:`~flopaudit.measure.isolate.Limits`). Without consent,
    or without the extras counting needs, this raises when the figure could come from
    ``measured`` (``method`` None or "measured"); under another ``method`` the measured
    cross-check is unavailable instead, with the reason as a warning.
    """
    model = loaded.config.model
    if model.hf_config is None and model.factory is None:
        return None
    if model.factory is not None and not allow_code:
        error = loaded.error(f"'{model.factory}' names Python code to import and run; pass --allow-code "
                             "to allow it (it then runs in a child process)", "model", "factory",
                             cls=CodeNotAllowedError)
        error.hint = _other_method_hint(loaded, "without running it")
        return _not_counted(error, method, "model.factory runs code, which needs --allow-code")
    from flopaudit.measure import ModelSource, require_extras, train_flop_per_token  # torch only when asked for

    hf: Path | None = None
    if model.hf_config is not None:
        hf, why = config_file(model.hf_config, loaded.file, allow_outside=allow_outside_paths)
        if why is not None:
            raise loaded.error(why, "model", "hf_config")
    source = ModelSource(hf_config=hf, factory=model.factory,
                         factory_input=model.factory_input)
    try:
        require_extras(source)
    except MissingDependencyError as exc:
        key = "hf_config" if model.hf_config is not None else "factory"
        line, column = loaded.document.position(("model", key)) or (None, None)
        error = MissingDependencyError(exc.package, exc.extras, exc.purpose, file=loaded.file, line=line,
                                       column=column, also=_other_method_hint(loaded, "without it"))
        return _not_counted(error, method, f"needs the optional package '{exc.package}' ({exc.hint})")
    limits = None
    if source.runs_code():
        from flopaudit.measure.isolate import Limits

        limits = code_limits or Limits()

    def per_token(seq_len: int, decoder_len: int | None = None) -> tuple[float, list[str], list[str]]:
        # train_flop_per_token caches its counts per source and sequence lengths.
        result = train_flop_per_token(source, seq_len=seq_len, attention=loaded.config.counting.attention,
                                      isolation=limits, decoder_len=decoder_len)
        uncounted = [f"{e['op']} ({e['calls']} calls, {e.get('share_of_calls', 0):.2%} of the op calls)"
                     for e in result.uncounted_ops]
        from flopaudit.measure.moe import assumptions  # MoE pricing, stated with the figure

        return float(result.flop_per_token_train), uncounted, assumptions(result.details)

    return per_token


def enforce_locks(loaded: LoadedConfig, locked: Collection[str], settings_file: str | None) -> None:
    """Refuse a config that sets what the project settings lock (``lock = ["policies", "as-of"]``)."""
    from flopaudit.config.settings import LOCKABLE

    data = loaded.document.data if isinstance(loaded.document.data, dict) else {}
    for item in (i for i in LOCKABLE if i in locked):
        key = LOCKABLE[item]
        if key in data:
            raise loaded.error(f"locked by the project settings ({settings_file or 'lock'}): a config may not set "
                               f"'{key}'; remove it (the settings decide {item})", key)


def _other_method_hint(loaded: LoadedConfig, how: str) -> str | None:
    if loaded.config.model.architecture is None:
        return None
    return f"--method transformer judges from model.architecture {how}"


def _not_counted(error: FlopauditError, method: str | None,
                 reason: str) -> Callable[[int, int | None], tuple[float, list[str], list[str]]]:
    """Raise ``error`` if the figure may come from ``measured``; else make ``measured`` unavailable."""
    if method in (None, "measured"):
        raise error

    def unavailable(seq_len: int, decoder_len: int | None = None) -> tuple[float, list[str], list[str]]:
        raise Unavailable(reason)

    return unavailable


def audit(loaded: LoadedConfig, *, policies: Sequence[str | Policy] = (), as_of: dt.date | None = None,
          method: str | None = None, fail_on: str = "indeterminate", allow_code: bool = False,
          code_limits: Limits | None = None, today: dt.date | None = None, as_of_source: str = "--as-of",
          policies_source: str = "--policy", locked: Collection[str] = (), settings_file: str | None = None,
          allow_outside_paths: bool = False, extra_policies: Sequence[Policy] = (),
          waivers: Sequence[waiving.Waiver] = (),
          severity: Mapping[str, severities.SeverityOverride] | None = None) -> AuditResult:
    """Estimate every stage and judge every selected policy for one loaded config.

    ``allow_code`` is the consent to import and run the code a config names (``model.factory``):
    without it such a config raises :class:`~flopaudit.errors.CodeNotAllowedError` (exit 2) unless
    ``method`` names another method, which then judges alone. With it, the code runs in a child
    process under ``code_limits`` (timeout, memory); see :func:`measured_counter`.

    ``today`` (default: the system date) is what an as-of date is compared with for its notice;
    ``as_of_source`` and ``policies_source`` say where ``as_of`` and ``policies`` came from.
    ``locked`` (from project settings, see :mod:`flopaudit.config.settings`) names what the config
    may not set itself. ``allow_outside_paths`` lets the config name files outside its repository root.
    ``extra_policies`` (the ``policy-paths`` setting) are judged besides the selected ones.
    ``waivers`` (the settings'; the config's own ``waivers:`` come first) and ``severity`` (policy id
    -> settings override) change which checks gate, never a verdict (:mod:`flopaudit.policy.waivers`,
    :mod:`flopaudit.policy.severity`).
    """
    enforce_locks(loaded, locked, settings_file)
    from flopaudit.config.training_config import resolve  # framework readers only when a stage names a file

    if any(stage.training_config is not None for stage in loaded.config.training):
        loaded = resolve(loaded, allow_outside_paths=allow_outside_paths)
    if any(stage.ledger is not None for stage in loaded.config.training):
        loaded = _with_ledgers(loaded, allow_outside_paths=allow_outside_paths)
    if method is not None and method not in METHOD_ORDER:
        raise ConfigError(f"unknown method '{method}'{did_you_mean(method, METHOD_ORDER)}; "
                          f"known: {', '.join(METHOD_ORDER)}")
    if fail_on not in FAIL_ON:
        raise ConfigError(f"unknown --fail-on '{fail_on}'; known: {', '.join(FAIL_ON)}")
    config = loaded.config
    date = as_of or config.as_of or dt.date.today()
    selected = select_policies(loaded, policies, extra_policies)
    ctx = Context(config.model, config.counting.attention,
                  measured_counter(loaded, allow_code=allow_code, code_limits=code_limits, method=method,
                                   allow_outside_paths=allow_outside_paths), runs=dict(loaded.runs),
                  ledgers=dict(loaded.ledgers))
    stages = []
    source_key = "hf_config" if config.model.hf_config is not None else "factory"
    for i, stage in enumerate(config.training):
        try:
            stages.append(estimate_stage(stage, ctx, method))
        except Unavailable as why:
            raise loaded.error(str(why), "training", i) from None
        except ConfigError as exc:
            # An estimate the stage's inputs make impossible (not finite): an input error at the stage.
            raise loaded.error(exc.message, "training", i) from None
        except (ModelSourceError, MeasureError) as exc:
            # The real model could not be built or counted: point at the config line that names it.
            located = loaded.error(exc.message, "model", source_key, cls=type(exc))
            located.hint = exc.hint
            raise located from None
    severity = dict(severity or {})
    known = {*builtin_policies(), *(p.id for p in selected)}
    severities.check_known(severity, known)
    checks = [judge(p, config, stages, date, method,
                    (severity[p.id].level, severity[p.id].source) if p.id in severity else None)
              for p in selected]
    found = gate_notices(loaded, stages, checks, date=date, today=today or dt.date.today(),
                         as_of_source=as_of_source if as_of is not None else None,
                         policies_source=policies_source if policies else None,
                         allow_outside_paths=allow_outside_paths, allow_code=allow_code)
    found += implausible_inputs(loaded, stages)
    if method is not None:
        found += notices.method_selected(method, stages, checks)
    found += severities.lowered(selected, severity)
    found += waiving.apply(checks, [*waiving.from_config(loaded), *waivers], date, known)
    return AuditResult(loaded, stages, checks, date, fail_on, method, found)


def _with_ledgers(loaded: LoadedConfig, *, allow_outside_paths: bool) -> LoadedConfig:
    """``loaded`` with the compute ledger of every ``ledger:`` stage read (a bad one is an error at its line)."""
    import dataclasses

    from flopaudit.ledger.records import read_ledger  # no torch: the ledger's reader is plain JSON

    ledgers = {}
    for i, stage in enumerate(loaded.config.training):
        if stage.ledger is None:
            continue
        path, why = config_file(stage.ledger, loaded.file, allow_outside=allow_outside_paths)
        if why is not None or path is None:
            raise loaded.error(why or "cannot read", "training", i, "ledger")
        summary = read_ledger(path)
        ledgers[stage.name] = dataclasses.replace(summary, path=stage.ledger)
    return dataclasses.replace(loaded, ledgers=ledgers)


def audit_file(path: str | Path, *, devices: int | None = None, vocab: int | None = None,
               sequence_length: int | None = None, training_format: str | None = None,
               **kwargs: Any) -> AuditResult:
    """Load and audit one config file, or a training framework's file as one pretraining stage.

    ``devices``, ``vocab`` and ``training_format`` are for a framework's file given directly
    (:mod:`flopaudit.config.direct`); a flopaudit config gives them under ``training_config``.
    """
    from flopaudit.config.direct import load_any

    return audit(load_any(path, devices=devices, vocab=vocab, sequence_length=sequence_length,
                          format=training_format), **kwargs)


__all__ = ["CONVENTION", "FAIL_ON", "AuditResult", "audit", "audit_file", "enforce_locks", "gate_notices",
           "measured_counter", "select_policies"]
