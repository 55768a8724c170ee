"""Implausible inputs: values inside the schema's bounds but far outside what real training runs have.

``epochs: 1e-9``, ``utilization: 1e-9``, ``active_parameters: 1`` beside a 405B architecture or a
declared ``flop`` 10^27 times the other estimates may be typos, and each one moves an estimate (and
so a verdict) by orders of magnitude. They are not errors, since an unusual run can be real, but
none may steer the verdict silently: each becomes an ``implausible-input`` notice located at its
field, which every output format lists.

| check | notice when | why that bound |
| --- | --- | --- |
| ``epochs`` | below 0.01 or above 1,000 | under 1% of the data is not a training run; image models train for hundreds of epochs at most |
| ``hardware.utilization`` | below 0.05 or above 0.75 | published model FLOP utilisation of large runs is about 0.2..0.6 |
| ``parameters`` / ``active_parameters`` beside ``architecture`` | more than 2x from what the architecture implies | the architecture counts every weight matrix; embeddings and unexpressible parts (MLA) stay within 2x |
| ``active_parameters`` without ``architecture`` | below 1% of ``parameters`` | the sparsest published MoE models use about 3% of their weights per token |
| tokens per active parameter of a ``pretraining`` stage | below 0.1 or above 1e6 | published pre-training runs use about 1..6e4 tokens per parameter |
| a declared ``flop`` | more than 10x from every other estimate of its stage | methods agree within about 2x (attention, utilisation); 10x is a slipped exponent or a wrong unit |
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from flopaudit.config.quantity import Quantity, format_number, format_ratio
from flopaudit.estimate.methods import arch_parameters
from flopaudit.notices import Notice, at

if TYPE_CHECKING:
    from flopaudit.config.loader import LoadedConfig
    from flopaudit.estimate.stage import StageResult

EPOCHS = (0.01, 1000.0)
UTILIZATION = (0.05, 0.75)
ARCHITECTURE_FACTOR = 2.0
ACTIVE_SHARE_MIN = 0.01
TOKENS_PER_PARAMETER = (0.1, 1e6)
DECLARED_FACTOR = 10.0


def _outside(q: Quantity, low: float, high: float) -> str | None:
    """``"below"`` / ``"above"`` when part of ``q`` leaves [low, high], else None."""
    return "below" if q.low < low else "above" if q.high > high else None


def _epochs(loaded: "LoadedConfig") -> list[Notice]:
    out = []
    for i, stage in enumerate(loaded.config.training):
        side = _outside(stage.epochs, *EPOCHS)
        if side:
            out.append(at(loaded, "implausible-input",
                          f"stage '{stage.name}': epochs {stage.epochs} is {side} the plausible "
                          f"{format_number(EPOCHS[0])}..{EPOCHS[1]:,.0f}; it multiplies the stage's tokens "
                          f"(and every estimate from them)", "training", i, "epochs"))
    return out


def _utilization(loaded: "LoadedConfig") -> list[Notice]:
    out = []
    for i, stage in enumerate(loaded.config.training):
        u = stage.hardware.utilization if stage.hardware else None
        side = _outside(u, *UTILIZATION) if u is not None else None
        if side:
            out.append(at(loaded, "implausible-input",
                          f"stage '{stage.name}': utilization {u} is {side} the plausible "
                          f"{UTILIZATION[0]:g}..{UTILIZATION[1]:g} (published model FLOP utilisation of large "
                          "runs is about 0.2..0.6); it scales the hardware estimate",
                          "training", i, "hardware", "utilization"))
    return out


def _parameters(loaded: "LoadedConfig") -> list[Notice]:
    model = loaded.config.model
    out = []
    if model.architecture is not None:
        for key, given, active in (("parameters", model.parameters, False),
                                   ("active_parameters", model.active_parameters, True)):
            if given is None:
                continue
            implied = arch_parameters(model.architecture, active=active)
            ratio = given.central / implied if implied else math.inf
            if not 1 / ARCHITECTURE_FACTOR <= ratio <= ARCHITECTURE_FACTOR:
                what = "active parameters" if active else "parameters"
                out.append(at(loaded, "implausible-input",
                              f"{key} {given} differs from the {format_number(implied)} {what} the architecture "
                              f"implies by {format_ratio(ratio)}, more than {ARCHITECTURE_FACTOR:g}x either way; "
                              "the 6nd estimate uses it", "model", key))
    elif model.parameters is not None and model.active_parameters is not None:
        share = model.active_parameters.central / model.parameters.central
        if share < ACTIVE_SHARE_MIN:
            out.append(at(loaded, "implausible-input",
                          f"active_parameters {model.active_parameters} are {share:.2g} of parameters "
                          f"{model.parameters}, below {ACTIVE_SHARE_MIN:.0%} (the sparsest published "
                          "mixture-of-experts models use about 3% per token); the 6nd estimate uses them",
                          "model", "active_parameters"))
    return out


def _tokens_per_parameter(loaded: "LoadedConfig", stages: Sequence["StageResult"]) -> list[Notice]:
    model = loaded.config.model
    active = model.active.central if model.active else (
        arch_parameters(model.architecture, active=True) if model.architecture else None)
    out = []
    for i, r in enumerate(stages):
        tokens = r.stage.processed_tokens
        if r.stage.kind != "pretraining" or tokens is None or not active:
            continue
        per = tokens.central / active
        if not TOKENS_PER_PARAMETER[0] <= per <= TOKENS_PER_PARAMETER[1]:
            key = "tokens" if r.stage.tokens is not None else "samples"
            out.append(at(loaded, "implausible-input",
                          f"stage '{r.stage.name}': {format_number(per)} tokens per active parameter is outside the "
                          f"plausible {TOKENS_PER_PARAMETER[0]:g}..{format_number(TOKENS_PER_PARAMETER[1])} for "
                          f"pre-training ({format_number(tokens.central)} tokens, {format_number(active)} active "
                          "parameters)", "training", i, key))
    return out


def _declared(loaded: "LoadedConfig", stages: Sequence["StageResult"]) -> list[Notice]:
    out = []
    for i, r in enumerate(stages):
        declared = next((e for e in r.estimates if e.method == "declared"), None)
        others = [e for e in r.estimates if e.method != "declared" and e.flop.central > 0]
        if declared is None or not others or r.stage.flop is None or declared.flop.central <= 0:
            continue
        nearest = min(others, key=lambda e: abs(math.log(declared.flop.central / e.flop.central)))
        ratio = declared.flop.central / nearest.flop.central
        if not 1 / DECLARED_FACTOR <= ratio <= DECLARED_FACTOR:
            out.append(at(loaded, "implausible-input",
                          f"stage '{r.stage.name}': the declared flop {r.stage.flop} differs from the nearest other "
                          f"estimate ({nearest.method} {format_number(nearest.flop.central)}) by {format_ratio(ratio)}, "
                          f"more than {DECLARED_FACTOR:g}x from every one: a slipped exponent or a wrong unit?",
                          "training", i, "flop"))
    return out


def implausible_inputs(loaded: "LoadedConfig", stages: Sequence["StageResult"]) -> list[Notice]:
    """An ``implausible-input`` notice for each input far outside what real training runs have."""
    return (_parameters(loaded) + _epochs(loaded) + _utilization(loaded)
            + _tokens_per_parameter(loaded, stages) + _declared(loaded, stages))


__all__ = ["implausible_inputs"]
