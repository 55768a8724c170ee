"""Fill a config's stages from the framework files they name (``training_config:``).

A stage may point at the training framework's own config (a Megatron-LM launch script, a
torchtitan TOML, ...; see :mod:`flopaudit.config.frameworks`). The file is read statically and
gives the stage its tokens and sequence length, and the model its architecture and parameters,
unless the config gives them; where both give a number they must agree, else the error names
both places. The runs read are kept on the :class:`LoadedConfig` (``runs``, by stage name) so that
every output can say which file and line each number came from.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from pydantic import ValidationError

from flopaudit.config.frameworks import read_training_config
from flopaudit.config.frameworks.base import ReadOptions, TrainingRun
from flopaudit.config.loader import LoadedConfig
from flopaudit.config.models import Architecture, ModelInfo
from flopaudit.config.paths import config_file
from flopaudit.config.quantity import Quantity, format_number
from flopaudit.errors import ConfigError

#: A parameter count in the config within this fraction of the file's exact count agrees with it
#: (``405B`` for 405,853,388,800: SI suffixes round).
PARAMETER_TOLERANCE = 0.01

#: Architecture fields with a default derived from others: compared by their effective value.
_EFFECTIVE = {"kv_heads": "kv", "head_dim": "hd", "d_ff": "ff"}


def where(run: TrainingRun, name: str) -> str:
    """``file:line (origin)`` of one number of a run, for messages."""
    value = run.values.get(name)
    if value is None:
        return str(run.path)
    place = f"{run.path}:{value.line}" if value.line else str(run.path)
    return f"{place} ({value.origin})"


def resolve(loaded: LoadedConfig, *, allow_outside_paths: bool = False) -> LoadedConfig:
    """``loaded`` with every ``training_config`` stage filled in from its file (unchanged without one)."""
    config = loaded.config
    if not any(stage.training_config is not None for stage in config.training):
        return loaded
    model = config.model
    stages = list(config.training)
    runs: dict[str, TrainingRun] = {}
    arch_run: TrainingRun | None = None  # the run the model's architecture came from, if one did
    for i, stage in enumerate(stages):
        ref = stage.training_config
        if ref is None:
            continue
        path, why = config_file(ref.path, loaded.file, allow_outside=allow_outside_paths)
        if why is not None or path is None:
            raise loaded.error(why or "cannot read", "training", i, "training_config", "path")
        run = loaded.runs.get(stage.name)  # already read when the file was given directly (config.direct)
        if run is None or run.path.resolve() != path:
            options = ReadOptions(devices=ref.devices, vocab=ref.vocab, sequence_length=stage.sequence_length)
            run = read_training_config(path, format=ref.format, options=options)
        stages[i] = stage.model_copy(update=_stage_updates(loaded, i, stage, run))
        model, arch_run = _model_from(loaded, i, model, run, arch_run)
        runs[stage.name] = run
    resolved = config.model_copy(update={"model": model, "training": stages})
    return dataclasses.replace(loaded, config=resolved, runs=runs)


def _conflict(loaded: LoadedConfig, what: str, given: Any, run: TrainingRun, name: str, value: Any,
              *path: str | int) -> ConfigError:
    return loaded.error(f"{given} conflicts with {value} from {where(run, name)}; give it in one place "
                        f"or make them agree", *path)


def _stage_updates(loaded: LoadedConfig, i: int, stage: Any, run: TrainingRun) -> dict[str, Any]:
    updates: dict[str, Any] = {}
    if stage.samples is not None:
        raise loaded.error("the training config gives the tokens; samples would count them twice",
                           "training", i, "samples")
    if stage.epochs.low != 1 or stage.epochs.high != 1:
        raise loaded.error("the training config's steps already count every pass over the data; leave "
                           "epochs out", "training", i, "epochs")
    if stage.tokens is None:
        updates["tokens"] = Quantity.exact(float(run.tokens))
    elif not stage.tokens.low <= run.tokens <= stage.tokens.high:
        raise _conflict(loaded, "tokens", format_number(stage.tokens.central), run, "steps",
                        f"{run.tokens:,} tokens ({run.steps:,} steps x {run.global_batch:,} sequences x "
                        f"{run.sequence_length:,} tokens)", "training", i, "tokens")
    if stage.sequence_length is None:
        updates["sequence_length"] = run.sequence_length
    elif stage.sequence_length != run.sequence_length:
        raise _conflict(loaded, "sequence_length", stage.sequence_length, run, "sequence_length",
                        run.sequence_length, "training", i, "sequence_length")
    return updates


def _architecture(run: TrainingRun) -> Architecture:
    data = dict(run.architecture)
    data.setdefault("context", run.sequence_length)
    try:
        return Architecture.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ConfigError(f"the architecture it describes is not valid: {first['msg']}",
                          file=run.path) from None


def _effective(arch: Architecture, key: str) -> Any:
    value = getattr(arch, key)
    return getattr(arch, _EFFECTIVE[key]) if key in _EFFECTIVE and value is None else value


def _model_from(loaded: LoadedConfig, i: int, model: ModelInfo, run: TrainingRun,
                arch_run: TrainingRun | None) -> tuple[ModelInfo, TrainingRun | None]:
    arch = _architecture(run)
    updates: dict[str, Any] = {}
    if model.architecture is None:
        updates["architecture"] = arch
        arch_run = run
    else:
        for key in run.architecture:
            if key == "context":
                continue
            given, value = _effective(model.architecture, key), _effective(arch, key)
            if given != value:
                if arch_run is not None:  # two framework files disagree about one model
                    raise loaded.error(f"model.architecture.{key}: {value} from {where(run, key)} conflicts "
                                       f"with {given} from {where(arch_run, key)}", "training", i,
                                       "training_config", "path")
                raise _conflict(loaded, key, given, run, key, value, "model", "architecture", key)
    for key, exact in (("parameters", run.parameters), ("active_parameters", run.active_parameters)):
        given = getattr(model, key)
        if exact is None:
            continue
        if given is None:
            updates[key] = Quantity.exact(float(exact))
        elif abs(given.central - exact) > PARAMETER_TOLERANCE * exact:
            raise loaded.error(f"{format_number(given.central)} conflicts with {exact:,} counted from the "
                               f"architecture in {run.path} (more than {PARAMETER_TOLERANCE:.0%} apart)",
                               "model", key)
    return (model.model_copy(update=updates) if updates else model), arch_run


def derived(run: TrainingRun) -> dict[str, dict[str, Any]]:
    """``{name: {value, line, origin}}`` of every number a run gave (JSON ``training_config.derived``)."""
    return {name: {"value": v.value, "line": v.line, "origin": v.origin} for name, v in run.values.items()}
