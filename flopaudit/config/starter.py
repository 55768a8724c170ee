"""The starter config ``flopaudit init`` writes: answers in, commented YAML out (one model, one stage).

Every answer is checked here with the config's own field types, so a wrong answer is refused with
the reason the loader would give, before anything is written; the text written is loaded once more
by the caller (what ``init`` writes must ``check``).
"""

from __future__ import annotations

import json
import os
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from flopaudit import __version__
from flopaudit.config.models import Devices, Hours, Parameters, Tokens
from flopaudit.config.quantity import parse_quantity

#: The flopaudit source checkout this module belongs to (holds ``schema/config.schema.json`` there).
REPO_ROOT = Path(__file__).resolve().parent.parent.parent
#: The schema as published with each release tag (the repository the GitHub Action is ``uses:``-ed from).
PUBLISHED_SCHEMA = "https://raw.githubusercontent.com/flopaudit/flopaudit/v{version}/schema/config.schema.json"
#: The LitGPT preset table the architecture presets come from (keys: LitGPT's ``Config`` fields).
PRESET_TABLE = "litgpt"
_FFN = {"LLaMAMLP": "gated", "LLaMAMoE": "gated"}


class AnswerError(ValueError):
    """An answer that the config would refuse; the message says why."""


@dataclass(frozen=True)
class Starter:
    """The answers a starter config is written from (numbers as the user wrote them, already checked)."""

    name: str
    tokens: str
    parameters: str | None = None
    preset: str | None = None
    accelerator: str | None = None
    devices: str | None = None
    hours: str | None = None
    policies: tuple[str, ...] = field(default_factory=tuple)


def check_number(text: str, kind: str) -> str:
    """``text`` stripped if it is a valid config number of ``kind`` (parameters, tokens, devices, hours)."""
    adapter = TypeAdapter({"parameters": Parameters, "tokens": Tokens, "devices": Devices, "hours": Hours}[kind])
    value = text.strip()
    try:
        adapter.validate_python(value)
    except ValidationError as exc:
        raise AnswerError(exc.errors(include_url=False)[0]["msg"].removeprefix("Value error, ")) from None
    return value


def is_number(text: str) -> bool:
    """Whether ``text`` reads as a config number at all (to tell parameters from a preset name)."""
    try:
        parse_quantity(text.strip())
    except ValueError:
        return False
    return True


def check_accelerator(name: str) -> str:
    """The canonical table name of accelerator ``name`` (matched as the config matches it)."""
    from flopaudit.estimate import accelerators

    try:
        return accelerators.resolve(name.strip()).name
    except ValueError as exc:
        raise AnswerError(str(exc).removesuffix("; or give peak_flops")) from None


def check_policy(policy_id: str) -> str:
    """``policy_id`` if it is a built-in policy id."""
    from flopaudit.policy.loader import builtin_policies
    from flopaudit.suggest import did_you_mean

    known = builtin_policies()
    pid = policy_id.strip()
    if pid not in known:
        raise AnswerError(f"unknown policy '{pid}'{did_you_mean(pid, known)}; built-in: {', '.join(known)}")
    return pid


def presets() -> dict[str, dict[str, Any]]:
    """Architecture presets by name: LitGPT's model table converted to ``architecture:`` keys."""
    from flopaudit.config.frameworks.presets import table

    out: dict[str, dict[str, Any]] = {}
    for name, m in table(PRESET_TABLE)["models"].items():
        arch: dict[str, Any] = {"family": "decoder", "layers": m["n_layer"], "d_model": m["n_embd"],
                                "heads": m["n_head"], "kv_heads": m["n_query_groups"],
                                "d_ff": m["intermediate_size"], "ffn": _FFN[m["mlp_class_name"]],
                                "vocab": m["padded_vocab_size"], "context": m["block_size"]}
        if "n_expert" in m:
            arch.update(experts=m["n_expert"], experts_per_token=m["n_expert_per_token"])
        out[name] = arch
    return out


def check_preset(name: str) -> str:
    """``name`` if it is an architecture preset."""
    from flopaudit.suggest import did_you_mean

    known = presets()
    if name.strip() not in known:
        raise AnswerError(f"unknown preset '{name.strip()}'{did_you_mean(name.strip(), known)}; "
                          f"presets: {', '.join(known)}")
    return name.strip()


def preset_source() -> str:
    """The URL the preset table was copied from."""
    from flopaudit.config.frameworks.presets import table

    return str(table(PRESET_TABLE)["config_py"])


def schema_reference(config_dir: Path, root: Path = REPO_ROOT) -> str:
    """The ``$schema`` of a config in ``config_dir``: a relative path inside the checkout ``root``, else the URL.

    Inside the flopaudit repository the committed ``schema/config.schema.json`` is the one that
    matches the code; anywhere else the schema published with this version's release tag is.
    """
    schema = root / "schema" / "config.schema.json"
    here, top = config_dir.resolve(), root.resolve()
    if schema.is_file() and (here == top or top in here.parents):
        return Path(os.path.relpath(schema.resolve(), here)).as_posix()
    return PUBLISHED_SCHEMA.format(version=__version__)


def _text(value: str) -> str:
    """A YAML scalar for a free-text answer (a JSON string is a YAML double-quoted string)."""
    return json.dumps(value, ensure_ascii=False)


COMMENT_COLUMN = 34


def _line(code: str, comment: str = "") -> str:
    """``code`` with ``comment`` aligned at :data:`COMMENT_COLUMN` (one space at least)."""
    if not comment:
        return code
    return code + " " * max(1, COMMENT_COLUMN - len(code)) + "# " + comment


def starter_text(s: Starter, schema: str) -> str:
    """The commented starter config of ``s``; ``schema`` goes on the yaml-language-server line."""
    from flopaudit.policy.loader import builtin_policies

    lines = [f"# yaml-language-server: $schema={schema}",
             "# A flopaudit audit config, written by `flopaudit init`. Check it with: flopaudit check FILE",
             "# Every key is explained in docs/config.md and in the schema above (an editor shows it on hover).",
             "# Numbers take SI suffixes (7B, 2T) and ranges (14T..16T); a range flows into the estimate's band.",
             "",
             "model:",
             f"  name: {_text(s.name)}",
             _line("  modality: [text]", "text, code, audio, speech, image, video, biology, multimodal, other")]
    if s.parameters is not None:
        lines.append(_line(f"  parameters: {s.parameters}",
                           "total parameters; add active_parameters for a mixture of experts"))
    if s.preset is not None:
        lines += [_line("  architecture:", f"preset {s.preset}, from LitGPT's model table:"),
                  f"    # {preset_source()}"]
        lines += [f"    {key}: {value}" for key, value in presets()[s.preset].items()]
    lines += ["",
              _line("training:", "every stage of compute that went into the model, in order"),
              "  - name: pretraining",
              _line("    kind: pretraining", "or continued-pretraining, fine-tuning, reinforcement-learning, ..."),
              _line(f"    tokens: {s.tokens}", "tokens processed per epoch (not unique tokens)")]
    if s.accelerator is not None:
        lines += [_line("    hardware:", "enables the hardware method: devices x hours x peak x utilisation"),
                  _line(f"      accelerator: {s.accelerator}", "see `flopaudit accelerators`; or give peak_flops"),
                  _line(f"      count: {s.devices}", "devices"),
                  _line(f"      hours: {s.hours}", "wall-clock hours"),
                  _line("      # utilization: 0.38..0.43", "model FLOP utilisation; default 0.3..0.5 when absent")]
    lines += [_line("  # - name: instruction-tuning", "a later stage, for example:"),
              "  #   kind: fine-tuning",
              "  #   tokens: 10B",
              ""]
    if s.policies:
        lines.append(f"policies: [{', '.join(s.policies)}]")
    else:
        lines += ["# policies:                      # leave out to judge every built-in policy; or a list of ids:"]
        lines += textwrap.wrap(", ".join(builtin_policies()), width=96, initial_indent="#   [",
                               subsequent_indent="#    ", break_on_hyphens=False)
        lines[-1] += "]"
    return "\n".join(lines) + "\n"
