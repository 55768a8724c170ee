"""Mixture-of-experts blocks: find them, price them as they train, and count active parameters.

Convention: a routed expert block costs what top-k routing trains with, ``top_k`` experts per
token. Most implementations execute exactly that (transformers 5's ``batched_mm`` and
``grouped_mm`` experts, and the eager per-expert loops), so their FLOP are counted as executed.
A few run every expert over every token and zero the unrouted outputs (Hugging Face's
``Llama4TextExperts``: one ``bmm`` over all ``E`` experts); the counter prices the FLOP counted
inside such a module, forward and backward, at ``top_k / E`` of what ran, which is exactly the
top-k count (every product there has the experts as its batch dimension).

Active parameters: every parameter except the routed experts' (embeddings, attention, norms,
routers, shared experts, dense layers), plus ``top_k / E`` of each routed expert block's weights.

The experts module of a block is recognised as transformers 5's fused experts (``num_experts``
plus the ``has_gate`` flag ``@use_experts_implementation`` sets), a class in
:data:`DENSE_EXPERTS`, or a module named ``experts`` that is an ``nn.ModuleList`` /
``nn.ModuleDict`` or carries an int ``num_experts``. Its top-k is the router's (a sibling with an
int ``top_k``), else the block's, else the config's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import torch

#: attributes under which configs, MoE blocks and routers name their routed top-k, in lookup order
TOP_K_NAMES = ("top_k", "num_experts_per_tok", "num_experts_per_token", "moe_topk", "moe_top_k",
               "router_topk")
#: attributes under which experts modules name their number of experts
_NUM_EXPERTS_NAMES = ("num_experts", "num_routed_experts", "moe_num_experts")
#: experts classes whose forward runs every expert over every token (class name -> how it does it)
DENSE_EXPERTS = {
    "Llama4TextExperts": "one bmm over all experts x all tokens (unrouted tokens enter with score 0)",
}
ROUTED, DENSE = "routed as executed", "dense execution priced at top-k"


@dataclass(frozen=True)
class ExpertBlock:
    """One routed experts module: where it is, its experts, top-k, shared experts and pricing."""

    path: str
    experts_class: str
    block_class: str
    experts: int
    top_k: int | None
    expert_parameters: int
    shared_modules: tuple[str, ...]
    shared_parameters: int
    dense: bool

    def inactive_parameters(self) -> float:
        """Expert weights a token does not use: (1 - top_k / E) of the block's expert weights."""
        assert self.top_k is not None
        return self.expert_parameters * (1 - min(self.top_k, self.experts) / self.experts)


def config_top_k(config: Any) -> int | None:
    """The routed top-k a config (or one of its sub-configs) names, if any."""
    for cfg in [config, *[getattr(config, key) for key in getattr(config, "sub_configs", {}) or {}
                          if getattr(config, key, None) is not None]]:
        k = _int_attr(cfg, TOP_K_NAMES)
        if k is not None:
            return k
    return None


def _int_attr(module: Any, names: Iterable[str]) -> int | None:
    for name in names:
        value = getattr(module, name, None)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


def _experts_count(name: str, module: torch.nn.Module) -> int | None:
    """E if ``module`` is the experts module of a routed block, else None."""
    leaf = name.rsplit(".", 1)[-1]
    if hasattr(module, "has_gate") or type(module).__name__ in DENSE_EXPERTS:
        return _int_attr(module, _NUM_EXPERTS_NAMES)
    if leaf == "experts":
        if isinstance(module, (torch.nn.ModuleList, torch.nn.ModuleDict)):
            return len(module) or None
        return _int_attr(module, _NUM_EXPERTS_NAMES)
    return None


def _parent(modules: Mapping[str, torch.nn.Module], name: str) -> tuple[str, torch.nn.Module] | None:
    if "." not in name:
        return ("", modules[""]) if name and "" in modules else None
    path = name.rsplit(".", 1)[0]
    return (path, modules[path]) if path in modules else None


def _block_top_k(modules: Mapping[str, torch.nn.Module], name: str, default: int | None) -> int | None:
    """The router's top-k (a sibling of the experts), else the block's, else ``default``."""
    parent = _parent(modules, name)
    if parent is None:
        return default
    _, block = parent
    for child_name, child in block.named_children():
        if child_name != name.rsplit(".", 1)[-1]:
            k = _int_attr(child, ("top_k",))
            if k is not None:
                return k
    return _int_attr(block, TOP_K_NAMES) or default


def _shared(modules: Mapping[str, torch.nn.Module], name: str) -> tuple[tuple[str, ...], int]:
    """Shared experts: children named ``shared*`` of the block or of the layer around it."""
    found: dict[str, torch.nn.Module] = {}
    level = name
    for _ in range(2):
        parent = _parent(modules, level)
        if parent is None:
            break
        level, container = parent
        for child_name, child in container.named_children():
            if child_name.startswith("shared"):
                found[f"{level}.{child_name}" if level else child_name] = child
    return tuple(found), sum(p.numel() for m in found.values() for p in m.parameters())


def find_blocks(module: torch.nn.Module, top_k: int | None = None) -> list[ExpertBlock]:
    """Every routed experts module under ``module`` (``top_k``: the config's, the fallback)."""
    modules = dict(module.named_modules())
    blocks: list[ExpertBlock] = []
    seen: set[int] = set()
    for name, sub in modules.items():
        experts = _experts_count(name, sub)
        if not experts or id(sub) in seen:
            continue
        seen.add(id(sub))
        parent = _parent(modules, name)
        shared, shared_params = _shared(modules, name)
        blocks.append(ExpertBlock(
            path=name, experts_class=type(sub).__name__,
            block_class=type(parent[1]).__name__ if parent else "",
            experts=experts, top_k=_block_top_k(modules, name, top_k),
            expert_parameters=sum(p.numel() for p in sub.parameters()),
            shared_modules=tuple(s.rsplit(".", 1)[-1] for s in shared), shared_parameters=shared_params,
            dense=type(sub).__name__ in DENSE_EXPERTS))
    return blocks


def dense_scales(modules: Mapping[str, torch.nn.Module]) -> dict[str, tuple[int, int]]:
    """Name -> (top_k, E) for every dense experts module in ``modules`` (names as the counter keys them).

    ``modules`` maps names to modules the way the counter names them (``"Root.model.layers.0"``);
    top-k is found as in :func:`find_blocks`, falling back on the root module's ``config``; a
    dense module whose top-k is unknown is not rescaled (and :func:`describe` says so).
    """
    scales: dict[str, tuple[int, int]] = {}
    root = min(modules, key=len, default=None)
    config = getattr(modules[root], "config", None) if root is not None else None
    default = config_top_k(config) if config is not None else None
    for name, sub in modules.items():
        if type(sub).__name__ not in DENSE_EXPERTS:
            continue
        experts = _int_attr(sub, _NUM_EXPERTS_NAMES)
        k = _block_top_k(modules, name, default)
        if experts and k:
            scales[name] = (min(k, experts), experts)
    return scales


def priced(flop: int, parents: Iterable[str], scales: Mapping[str, tuple[int, int]]) -> int:
    """``flop`` of an op run inside a dense experts module, priced at top-k: ``flop x k / E``."""
    for parent in parents:
        scale = scales.get(parent)
        if scale is not None:
            return flop * scale[0] // scale[1]
    return flop


def active_parameters(total: int, blocks: list[ExpertBlock]) -> int:
    """``total`` less the expert weights top-k routing leaves unused per token."""
    return total - round(sum(block.inactive_parameters() for block in blocks))


def describe(module: torch.nn.Module, total: int, config_k: int | None
             ) -> tuple[int, list[str], dict[str, Any] | None]:
    """Active parameters, notes and ``details["moe"]`` for a built model (None: no experts)."""
    blocks = find_blocks(module, config_k)
    if not blocks:
        return total, [], None
    unknown = [block.path for block in blocks if block.top_k is None]
    if unknown:
        executed = " and their FLOP are counted as executed" if any(b.dense for b in blocks) else ""
        return total, [f"experts found at {unknown[0]!r} but no top-k: active_parameters = parameters"
                       + executed], None
    by_type: dict[str, dict[str, Any]] = {}
    for block in blocks:
        key = f"{block.block_class}.{block.experts_class}" if block.block_class else block.experts_class
        entry = by_type.setdefault(key, {
            "blocks": 0, "experts": block.experts, "top_k": block.top_k,
            "shared_experts": list(block.shared_modules), "expert_parameters": 0,
            "shared_parameters": 0,
            "priced": DENSE if block.dense else ROUTED,
            "execution": DENSE_EXPERTS.get(block.experts_class, "top-k tokens per expert")})
        entry["blocks"] += 1
        entry["expert_parameters"] += block.expert_parameters
        entry["shared_parameters"] += block.shared_parameters
    active = active_parameters(total, blocks)
    notes = [f"mixture of experts: {len(blocks)} expert blocks; active_parameters counts top-k of each "
             "block's routed experts plus every other parameter (shared experts and embeddings included)"]
    for key, entry in by_type.items():
        if entry["priced"] == DENSE:
            notes.append(f"{key} runs all {entry['experts']} experts over every token; its FLOP are "
                         f"priced at top-{entry['top_k']} ({entry['top_k']}/{entry['experts']} of what "
                         "ran), as routed training executes them (flopaudit backend only)")
    return active, notes, {"blocks": by_type, "active_parameters": active, "parameters": total}


def assumptions(details: Mapping[str, Any]) -> list[str]:
    """One line per expert block type of ``details["moe"]``: E, top-k, shared experts, pricing."""
    blocks = (details.get("moe") or {}).get("blocks", {})
    return [f"MoE {key}: top-{entry['top_k']} of {entry['experts']} routed experts"
            + (f" + shared ({', '.join(entry['shared_experts'])})" if entry["shared_experts"] else "")
            + f" in {entry['blocks']} blocks, {entry['priced']}" for key, entry in blocks.items()]
