"""The result of counting a real model, and its JSON form (see spec/results.md, ``profile``).

This module does not import torch, so results can be built, compared and serialised anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from flopaudit.errors import MeasureError

#: The counting convention, stated in every output (text and JSON).
CONVENTION = (
    "FLOP = 2 x multiply-add (MACs = FLOP / 2), counted on the matrix products that ran "
    "(linear layers, attention QK^T and PV, LM head, convolutions, expert matmuls); "
    "elementwise ops, norms, softmax, losses and the embedding lookup count 0 (listed by "
    "category in zero_flop_calls); bias additions are not counted; backward is measured, never "
    "assumed; attention covers the full sequence x sequence matrix unless attention='causal', "
    "which halves the score and value products (fused kernels or eager bmm) of modules flagged "
    "causal, or attention='window', which counts the (query, key) pairs each mask keeps: causal "
    "n(n+1)/2, a causal sliding window w sum_i min(i+1, w) (details['attention']); routed "
    "experts cost top-k experts per token, and an expert block that runs every expert over every "
    "token is priced at top-k / E of what ran (details['moe'])."
)


@dataclass
class ProfileResult:
    """What one counting run measured. FLOP are exact integers; per-token values are floats.

    The fields named in spec/results.md are the contract; the rest are there for auditors.
    """

    model: str
    device: str
    seq_len: int
    batch: int
    parameters: int
    active_parameters: int
    forward_flop: int
    backward_flop: int | None
    attention: str
    by_operator: dict[str, int]
    by_module: dict[str, int]
    uncounted_ops: list[dict[str, Any]]
    seconds: float
    backend: str = "flopaudit"
    by_phase: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    zero_flop_calls: dict[str, int] = field(default_factory=dict)
    attention_kernels: dict[str, dict[str, int]] = field(default_factory=dict)
    sdpa_path: list[str] = field(default_factory=list)
    formulas: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    cuda: dict[str, Any] | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str = "the model") -> ProfileResult:
        """Rebuild a result from ``dataclasses.asdict`` data (what a child process sends back).

        The data comes from a process that ran the user's code, so its shape is checked: a
        malformed result is a :class:`~flopaudit.errors.MeasureError`, never a wrong count.
        """
        def bad(what: str) -> MeasureError:
            return MeasureError(f"{source} returned a malformed count ({what})")

        names = {f.name for f in fields(cls)}
        if not isinstance(data, dict) or not {"model", "forward_flop"} <= set(data) <= names:
            raise bad("unexpected fields")

        def whole(value: Any) -> bool:
            return isinstance(value, int) and not isinstance(value, bool) and value >= 0

        for name in ("seq_len", "batch", "parameters", "active_parameters", "forward_flop"):
            if not whole(data.get(name)) or (name in ("seq_len", "batch") and data[name] < 1):
                raise bad(name)
        if data.get("backward_flop") is not None and not whole(data["backward_flop"]):
            raise bad("backward_flop")
        for name in ("by_operator", "by_module"):
            table = data.get(name)
            if not isinstance(table, dict) or not all(isinstance(k, str) and whole(v) for k, v in table.items()):
                raise bad(name)
        if not isinstance(data.get("uncounted_ops"), list) or not all(
                isinstance(e, dict) and isinstance(e.get("op"), str) and whole(e.get("calls"))
                for e in data["uncounted_ops"]):
            raise bad("uncounted_ops")
        if not all(isinstance(data.get(name), str) for name in ("model", "device", "attention")):
            raise bad("model, device or attention")
        return cls(**data)

    @property
    def tokens(self) -> int:
        """Tokens in one counted step: batch x seq_len."""
        return self.batch * self.seq_len

    @property
    def flop_per_token_forward(self) -> float:
        """Forward FLOP divided by batch x seq_len."""
        return self.forward_flop / self.tokens

    @property
    def train_flop(self) -> int | None:
        """Forward + backward FLOP of one step (None when backward was not run)."""
        if self.backward_flop is None:
            return None
        return self.forward_flop + self.backward_flop

    @property
    def flop_per_token_train(self) -> float | None:
        """Forward + backward FLOP (measured) divided by batch x seq_len; None without backward."""
        train = self.train_flop
        return None if train is None else train / self.tokens

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of ``flopaudit profile --format json`` (keys of spec/results.md first)."""
        return {
            "model": self.model,
            "device": self.device,
            "seq_len": self.seq_len,
            "batch": self.batch,
            "parameters": self.parameters,
            "active_parameters": self.active_parameters,
            "forward_flop": self.forward_flop,
            "backward_flop": self.backward_flop,
            "flop_per_token_forward": self.flop_per_token_forward,
            "flop_per_token_train": self.flop_per_token_train,
            "attention": self.attention,
            "by_operator": dict(self.by_operator),
            "by_module": dict(self.by_module),
            "uncounted_ops": [dict(entry) for entry in self.uncounted_ops],
            "seconds": round(self.seconds, 3),
            "macs": {
                "forward": self.forward_flop // 2,
                "backward": None if self.backward_flop is None else self.backward_flop // 2,
            },
            "backend": self.backend,
            "sdpa_path": list(self.sdpa_path),
            "convention": CONVENTION,
            "by_phase": self.by_phase,
            "zero_flop_calls": dict(self.zero_flop_calls),
            "attention_kernels": self.attention_kernels,
            "formulas": dict(self.formulas),
            "notes": list(self.notes),
            "details": dict(self.details),
            "cuda": self.cuda,
        }


def fed_text(described: dict[str, Any], sep: str = ", ") -> str:
    """``input_ids [2, 16], pixel_values [2, 3, 32, 32]``: what ``details["inputs"]`` says was fed."""
    return sep.join(f"{name} {spec['shape']}" for name, spec in described.items())
