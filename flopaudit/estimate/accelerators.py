"""The built-in accelerator table (``flopaudit/data/accelerators.yaml``): dense peak FLOP/s per device.

Names match case-insensitively, ignoring spaces, dashes and underscores (spec: config.md).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import yaml

from flopaudit.suggest import did_you_mean

DATA_FILE = Path(__file__).resolve().parent.parent / "data" / "accelerators.yaml"
PRECISIONS = ("bf16", "fp16", "fp8", "tf32", "fp32", "int8")


@dataclass(frozen=True)
class Accelerator:
    """One accelerator: its dense peak FLOP/s by precision, with sources."""

    name: str
    full_name: str
    vendor: str
    peak_flops: dict[str, float]
    default_precision: str
    sources: tuple[str, ...]
    aliases: tuple[str, ...] = ()
    notes: str = ""

    def peak(self, precision: str | None) -> float:
        """Peak dense FLOP/s at ``precision`` (the device's default when None); KeyError if absent."""
        return self.peak_flops[precision or self.default_precision]


def normalise(name: str) -> str:
    """The matching key of an accelerator name: lower case, no spaces, dashes or underscores."""
    return "".join(ch for ch in name.lower() if ch not in " -_")


@functools.lru_cache(maxsize=1)
def table() -> dict[str, Accelerator]:
    """All accelerators, keyed by the normalised form of every name and alias."""
    raw = yaml.safe_load(DATA_FILE.read_text(encoding="utf-8"))
    out: dict[str, Accelerator] = {}
    for entry in raw["accelerators"]:
        acc = Accelerator(
            name=entry["name"], full_name=entry.get("full_name", entry["name"]),
            vendor=entry.get("vendor", ""),
            peak_flops={k: float(v) for k, v in entry["peak_flops"].items() if v is not None},
            default_precision=entry.get("default_precision", "bf16"),
            sources=tuple(entry.get("sources", ())), aliases=tuple(entry.get("aliases", ())),
            notes=entry.get("notes", ""),
        )
        for alias in (acc.name, *acc.aliases):
            key = normalise(alias)
            if key in out and out[key] is not acc:
                raise ValueError(f"accelerator table: '{alias}' names two entries")
            out[key] = acc
    return out


def canonical_names() -> list[str]:
    """The canonical accelerator names, in table order."""
    seen: dict[str, None] = {}
    for acc in table().values():
        seen.setdefault(acc.name, None)
    return list(seen)


def resolve(name: str) -> Accelerator:
    """Look an accelerator up by name; ``ValueError`` with a 'did you mean' hint when unknown."""
    acc = table().get(normalise(name))
    if acc is None:
        names = canonical_names()
        raise ValueError(f"unknown accelerator '{name}'{did_you_mean(name, names)}; "
                         f"known: {', '.join(names)}; or give peak_flops")
    return acc


def match_device_name(device_name: str) -> Accelerator | None:
    """The accelerator whose name or alias is the longest part of a driver's device name.

    ``torch.cuda.get_device_name()`` says e.g. "NVIDIA H100 80GB HBM3" or "NVIDIA H100 PCIe";
    the longest matching alias wins, so "H100 PCIe" beats "H100" and "GH200" beats "H200".
    """
    device = normalise(device_name)
    best: tuple[int, Accelerator] | None = None
    for key, acc in table().items():
        if key and key in device and (best is None or len(key) > best[0]):
            best = (len(key), acc)
    return None if best is None else best[1]


@functools.lru_cache(maxsize=1)
def provenance() -> tuple[str, tuple[tuple[str, str], ...]]:
    """The table's convention text and its table-wide sources ``(label, url)``."""
    raw = yaml.safe_load(DATA_FILE.read_text(encoding="utf-8"))
    return raw["convention"], tuple((s["label"], s["url"]) for s in raw.get("sources", ()))


def accelerators_in_order() -> list[Accelerator]:
    """Every accelerator once, in table order."""
    seen: dict[str, Accelerator] = {}
    for acc in table().values():
        seen.setdefault(acc.name, acc)
    return list(seen.values())
