"""Join the parts: load a config, estimate every stage, judge every policy, decide the exit code."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flopaudit import __version__
from flopaudit.config.loader import LoadedConfig, load_config
from flopaudit.errors import (CodeNotAllowedError, ConfigError, FlopauditError, MeasureError,
                              MissingDependencyError, ModelSourceError)
from flopaudit.estimate.band import Band
from flopaudit.estimate.methods import METHOD_ORDER, Context, Unavailable
from flopaudit.estimate.stage import StageResult, estimate_stage
from flopaudit.policy.judge import PolicyCheck, judge
from flopaudit.policy.loader import builtin_policies, resolve_policy
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
            "stages": [_stage_dict(r) for r in self.stages],
            "total_flop": self.total_flop.as_dict(),
            "checks": [_check_dict(c) for c in self.checks],
            "exit_code": self.exit_code,
        }


def _stage_dict(r: StageResult) -> dict[str, Any]:
    return {
        "name": r.stage.name, "kind": r.stage.kind, "method": r.method, "flop": r.flop.as_dict(),
        "parts": {k: v.as_dict() for k, v in r.chosen.parts.items()},
        "recomputation_flop": r.recomputation_flop.as_dict() if r.recomputation_flop else None,
        "assumptions": list(r.chosen.assumptions),
        "estimates": [{"method": e.method, "flop": e.flop.as_dict(), "assumptions": list(e.assumptions)}
                      for e in r.cross_checks],
        "unavailable": dict(r.unavailable),
        "warnings": list(r.warnings),
    }


def _check_dict(c: PolicyCheck) -> dict[str, Any]:
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
    }


def select_policies(loaded: LoadedConfig, refs: Sequence[str | Policy] = ()) -> list[Policy]:
    """Policies to judge: ``refs`` (ids, files or Policy objects) if given, else the config's list, else every built-in."""
    if refs:
        return [r if isinstance(r, Policy) else resolve_policy(r) for r in refs]
    builtins = builtin_policies()
    ids = loaded.config.policies
    if ids is None:
        return list(builtins.values())
    out = []
    for i, pid in enumerate(ids):
        if pid not in builtins:
            raise loaded.error(f"unknown policy '{pid}'{did_you_mean(pid, builtins)}; "
                               f"built-in: {', '.join(builtins)}", "policies", i)
        out.append(builtins[pid])
    return out


def measured_counter(loaded: LoadedConfig, *, allow_code: bool = False, code_limits: Limits | None = None,
                     method: str | None = None) -> Callable[[int], tuple[float, list[str]]] | None:
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

    hf = model.hf_config
    if hf is not None and not Path(hf).is_absolute():
        hf = str(Path(loaded.file).resolve().parent / hf)
    if hf is not None and not Path(hf).is_file():
        raise loaded.error(f"file not found: {hf}", "model", "hf_config")
    source = ModelSource(hf_config=Path(hf) if hf else None, factory=model.factory,
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

    def per_token(seq_len: int) -> tuple[float, list[str]]:
        # train_flop_per_token caches its counts per source and sequence length.
        result = train_flop_per_token(source, seq_len=seq_len, attention=loaded.config.counting.attention,
                                      isolation=limits)
        uncounted = [f"{e['op']} ({e['calls']} calls, {e.get('share_of_calls', 0):.2%} of the op calls)"
                     for e in result.uncounted_ops]
        return float(result.flop_per_token_train), uncounted

    return per_token


def _other_method_hint(loaded: LoadedConfig, how: str) -> str | None:
    if loaded.config.model.architecture is None:
        return None
    return f"--method transformer judges from model.architecture {how}"


def _not_counted(error: FlopauditError, method: str | None,
                 reason: str) -> Callable[[int], tuple[float, list[str]]]:
    """Raise ``error`` if the figure may come from ``measured``; else make ``measured`` unavailable."""
    if method in (None, "measured"):
        raise error

    def unavailable(seq_len: int) -> tuple[float, list[str]]:
        raise Unavailable(reason)

    return unavailable


def audit(loaded: LoadedConfig, *, policies: Sequence[str | Policy] = (), as_of: dt.date | None = None,
          method: str | None = None, fail_on: str = "indeterminate", allow_code: bool = False,
          code_limits: Limits | None = None) -> AuditResult:
    """Estimate every stage and judge every selected policy for one loaded config.

    ``allow_code`` is the consent to import and run the code a config names (``model.factory``):
    without it such a config raises :class:`~flopaudit.errors.CodeNotAllowedError` (exit 2) unless
    ``method`` names another method, which then judges alone. With it, the code runs in a child
    process under ``code_limits`` (timeout, memory); see :func:`measured_counter`.
    """
    if method is not None and method not in METHOD_ORDER:
        raise ConfigError(f"unknown method '{method}'{did_you_mean(method, METHOD_ORDER)}; "
                          f"known: {', '.join(METHOD_ORDER)}")
    if fail_on not in FAIL_ON:
        raise ConfigError(f"unknown --fail-on '{fail_on}'; known: {', '.join(FAIL_ON)}")
    config = loaded.config
    date = as_of or config.as_of or dt.date.today()
    selected = select_policies(loaded, policies)
    ctx = Context(config.model, config.counting.attention,
                  measured_counter(loaded, allow_code=allow_code, code_limits=code_limits, method=method))
    stages = []
    source_key = "hf_config" if config.model.hf_config is not None else "factory"
    for i, stage in enumerate(config.training):
        try:
            stages.append(estimate_stage(stage, ctx, method))
        except Unavailable as why:
            raise loaded.error(str(why), "training", i) from None
        except (ModelSourceError, MeasureError) as exc:
            # The real model could not be built or counted: point at the config line that names it.
            located = loaded.error(exc.message, "model", source_key, cls=type(exc))
            located.hint = exc.hint
            raise located from None
    checks = [judge(p, config, stages, date) for p in selected]
    return AuditResult(loaded, stages, checks, date, fail_on, method)


def audit_file(path: str | Path, **kwargs: Any) -> AuditResult:
    """Load and audit one config file."""
    return audit(load_config(path), **kwargs)


__all__ = ["CONVENTION", "FAIL_ON", "AuditResult", "audit", "audit_file", "measured_counter", "select_policies"]
