"""Attention conventions: which (query, key) pairs the score and value products are counted over.

Three conventions (``profile(attention=...)``, ``counting: {attention: ...}``):

- ``full``: every product over the whole ``q_len x k_len`` matrix (what the kernels execute);
- ``causal``: the products of causal attention are halved, exactly (``flop // 2``), whatever
  kernel runs: the fused SDPA kernels, or eager attention's ``bmm`` / ``baddbmm`` (what
  ``matmul`` and ``einsum`` become). Sliding windows are halved like global layers;
- ``window``: every product counts the pairs its mask keeps: :func:`attended_pairs` (a causal
  global layer ``n(n+1)/2``, a causal window of ``w`` ``sum_i min(i+1, w)``, a bidirectional
  window ``sum_i #{j : |i-j| < w}``, a bidirectional global layer ``n^2``).

Which products: the ops run inside an *attention module*, the innermost module that carries a
boolean ``is_causal`` (transformers' attention modules: Llama, Mistral, Gemma 2's soft-capped
eager path, DeepSeek-V3's MLA, Falcon, GPT-2, GPT-NeoX, ModernBERT ...), and not inside a
``Linear`` child (projections are never scaled). A ``bmm`` is a self-attention product when two
of its sizes ``[m x n] @ [n x p]`` are the sequence length (QK^T: m = p; PV, dQ, dV: m = n;
dK^T: n = p); that shared size is the sequence length. Its window is the module's
``sliding_window`` (transformers' convention: a query sees ``w`` keys up to itself, or those
with ``|i-j| < w`` when bidirectional), else its config's ``sliding_window`` (Mistral, Phi-3),
or GPT-Neo's ``window_size`` on local layers. In backward, a product takes the module of the
forward product it differentiates (tagged on its autograd node), not the module tracker's guess.

The formulas are pure functions; :class:`AttentionRule` applies them for the counter and
records what it did (``ProfileResult.details["attention"]``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

CONVENTIONS = ("full", "causal", "window")
#: The products eager attention reaches the dispatcher as (matmul and einsum decompose to bmm).
PRODUCT_OPS = frozenset({"aten.bmm", "aten.baddbmm"})
#: Fused kernels whose query and key are laid out [batch, seq, heads, dim] (the others: [.., seq, dim]).
_SEQ_FIRST_KERNELS = ("aten._flash_attention", "aten._efficient_attention")
#: Where a forward product leaves its attention site on the autograd node of its gradients.
_NODE_KEY = "flopaudit.attention_site"

STATEMENTS = {
    "full": "attention products over the full q_len x k_len matrix",
    "causal": "score and value products (QK^T, PV; bmm, baddbmm or fused kernels) of modules flagged "
              "is_causal halved exactly (flop // 2); sliding windows halved like global layers",
    "window": "score and value products count the (query, key) pairs the mask keeps: causal n(n+1)/2, "
              "causal window w sum_i min(i+1, w), bidirectional window w sum_i #{j: |i-j| < w}, "
              "bidirectional n^2",
}


# --------------------------------------------------------------------------- pure formulas


def _causal_prefix(rows: int, window: int | None) -> int:
    """Pairs kept by a causal (window ``w``) mask in the first ``rows`` rows: sum_{p<rows} min(p+1, w)."""
    if rows <= 0:
        return 0
    if window is None or window >= rows:
        return rows * (rows + 1) // 2
    return window * (window + 1) // 2 + (rows - window) * window


def causal_pairs(q_len: int, k_len: int, window: int | None = None) -> int:
    """Causal pairs, queries aligned to the last keys: sum over positions p = k-q .. k-1 of min(p+1, w)."""
    return _causal_prefix(k_len, window) - _causal_prefix(max(k_len - q_len, 0), window)


def bidirectional_pairs(q_len: int, k_len: int, window: int | None = None) -> int:
    """Bidirectional pairs: q x k, or with a window w, sum over rows i of #{j < k : |i-j| < w}."""
    if window is None or window >= max(q_len, k_len):
        return q_len * k_len
    if q_len == k_len:
        # each row keeps 2w-1 keys, less those cut off at either end: sum_{i<m} (h-i) on each side
        n, h = q_len, window - 1
        m = min(h, n)
        return n * (2 * h + 1) - 2 * (m * h - m * (m - 1) // 2)
    return sum(max(0, min(i + window - 1, k_len - 1) - max(i - window + 1, 0) + 1) for i in range(q_len))


def attended_pairs(q_len: int, k_len: int, *, causal: bool, window: int | None) -> int:
    """The (query, key) pairs a mask keeps: :func:`causal_pairs` or :func:`bidirectional_pairs`."""
    return causal_pairs(q_len, k_len, window) if causal else bidirectional_pairs(q_len, k_len, window)


def scaled_flop(flop: int, q_len: int, k_len: int, *, convention: str, causal: bool,
                window: int | None) -> int:
    """An attention product's FLOP under a convention: full as is; causal // 2; window x pairs / (q x k)."""
    if convention == "causal":
        return flop // 2 if causal else flop
    if convention == "window":
        return flop * attended_pairs(q_len, k_len, causal=causal, window=window) // (q_len * k_len)
    return flop


def self_attention_length(m: int, n: int, p: int) -> int | None:
    """The sequence length of a self-attention bmm [m x n] @ [n x p]: the size two of m, n, p share."""
    if m in (n, p):
        return m
    if n == p:
        return n
    return None


# --------------------------------------------------------------------------- modules


@dataclass(frozen=True)
class Site:
    """An attention module as the conventions see it: its class, causality and window."""

    module_type: str
    causal: bool
    window: int | None
    linear: bool = False  # a Linear module (a projection): never an attention site

    def key(self) -> str:
        """``"MistralAttention (causal, window 4)"``: how details["attention"] names it."""
        kind = "causal" if self.causal else "bidirectional"
        return f"{self.module_type} ({kind}{f', window {self.window}' if self.window else ', global'})"


def _window_of(module: Any) -> int | None:
    """A module's sliding window in keys (transformers' convention), or None for global attention."""
    if hasattr(module, "sliding_window"):
        value = module.sliding_window
    elif getattr(module, "attention_type", None) == "local":  # GPT-Neo
        value = getattr(getattr(module, "config", None), "window_size", None)
    else:
        config = getattr(module, "config", None)
        value = getattr(config, "sliding_window", None)
        if getattr(config, "use_sliding_window", True) is False:
            value = None
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def site_of(module: Any) -> Site | None:
    """The attention site of a module carrying a boolean ``is_causal``; None for any other module."""
    import torch

    if isinstance(module, torch.nn.Linear):
        return Site(type(module).__name__, False, None, linear=True)
    causal = getattr(module, "is_causal", None)
    if not isinstance(causal, bool):
        return None
    return Site(type(module).__name__, causal, _window_of(module))


class AttentionRule:
    """Applies one convention to the attention products the counter sees, and records it.

    Forward products find their module among the module tracker's ``parents``. Backward ones
    find it on the autograd node that runs them: each forward product tags the node that will
    compute its gradients (``node.metadata``), so a backward product is scaled exactly when its
    forward was, whatever the tracker believes during backward.
    """

    def __init__(self, convention: str, modules: Mapping[str, Any]) -> None:
        if convention not in CONVENTIONS:
            raise ValueError(f"attention must be one of {', '.join(CONVENTIONS)}, not {convention!r}")
        self.convention = convention
        self._modules = modules
        self._sites: dict[str, Site | None] = {}
        self._pending: list[tuple[Any, Site]] = []
        self.records: dict[str, dict[str, Any]] = {}
        self.unflagged_products = 0  # bmm outside any attention module: counted in full

    def _tag_pending(self) -> None:
        """Tag the autograd nodes of the previous forward products (set once their op returned)."""
        for tensor, site in self._pending:
            node = getattr(tensor, "grad_fn", None)
            if node is not None:
                node.metadata[_NODE_KEY] = site
        self._pending.clear()

    def _site(self, parents: Iterable[str]) -> tuple[Site | None, bool]:
        """The attention module this op runs in (None outside any, or inside a Linear), and whether
        the op is in backward."""
        import torch

        self._tag_pending()
        backward = torch._C._current_graph_task_id() != -1
        # grad mode on during backward: a checkpoint's recomputed forward, placed by the tracker
        if backward and not torch.is_grad_enabled():
            node = torch._C._current_autograd_node()
            site = None if node is None else node.metadata.get(_NODE_KEY)
            if site is not None:
                return site, True
        best: tuple[int, Site] | None = None
        best_name = ""
        parents = [name for name in parents if name != "Global"]
        for name in parents:
            if name not in self._sites:
                module = self._modules.get(name)
                self._sites[name] = None if module is None else site_of(module)
            site = self._sites[name]
            if site is not None and site.linear:
                return None, backward
            if site is not None and (best is None or len(name) > best[0]):
                best, best_name = (len(name), site), name
        # The innermost running module must be the attention module or inside it: an expert's or
        # an MLP's bmm is never an attention product, even while the module tracker still lists
        # an attention module that has finished (in backward it can, for a module none of whose
        # inputs needs a gradient: nothing then marks the end of its backward).
        if best is not None and parents:
            innermost = max(parents, key=len)
            if len(innermost) > best[0] and not innermost.startswith(best_name + "."):
                return None, backward
        return (None if best is None else best[1]), backward

    def _remember(self, out: Any, site: Site) -> None:
        """Tag ``out``'s autograd node at the next attention op (autograd sets it after this one)."""
        first = out[0] if isinstance(out, (tuple, list)) and out else out
        if hasattr(first, "grad_fn"):
            self._pending.append((first, site))

    def _record(self, site: Site, kind: str, flop: int, scaled: int, seq: tuple[int, int]) -> None:
        entry = self.records.setdefault(site.key(), {
            "module_type": site.module_type, "causal": site.causal, "window": site.window,
            "products": 0, "kernel_calls": 0, "scaled": 0, "unrecognised": 0})
        entry[kind] += 1
        if kind != "unrecognised" and scaled != flop:
            entry["scaled"] += 1
        if kind != "unrecognised":
            q_len, k_len = seq
            entry["seq_len"] = [q_len, k_len]
            if self.convention == "causal":
                fraction = 0.5 if site.causal else 1.0
            else:
                fraction = attended_pairs(q_len, k_len, causal=site.causal, window=site.window) / (q_len * k_len)
            entry["fraction"] = fraction

    def product(self, op: str, shapes: list[tuple[int, ...]], parents: Iterable[str], flop: int,
                out: Any = None) -> int:
        """A bmm / baddbmm (``shapes``: its two batched operands): scaled if it is an attention product."""
        if self.convention == "full":
            return flop
        site, _ = self._site(parents)
        if site is None:
            self.unflagged_products += 1
            return flop
        self._remember(out, site)
        (m, n), p = shapes[-2][-2:], shapes[-1][-1]
        length = self_attention_length(m, n, p)
        if length is None:
            self._record(site, "unrecognised", flop, flop, (0, 0))
            return flop
        scaled = scaled_flop(flop, length, length, convention=self.convention, causal=site.causal,
                             window=site.window)
        self._record(site, "products", flop, scaled, (length, length))
        return scaled

    def kernel(self, op: str, bound: Mapping[str, Any], parents: Iterable[str], flop: int, *,
               causal: bool, out: Any = None) -> int:
        """A fused attention kernel (``bound``: its named arguments, tensors as shapes)."""
        if self.convention == "full":
            return flop
        found, _ = self._site(parents)
        causal = causal or (found is not None and found.causal)
        window = found.window if found else None
        left = bound.get("window_size_left")  # flash kernels that take their window as arguments
        if isinstance(left, int) and left >= 0:
            window = left + 1
        site = Site(found.module_type if found else op, causal, window)
        self._remember(out, site)
        dim = 1 if op.startswith(_SEQ_FIRST_KERNELS) else -2
        query, key = bound.get("query"), bound.get("key")
        if not (isinstance(query, tuple) and isinstance(key, tuple)):
            self._record(site, "unrecognised", flop, flop, (0, 0))
            return flop
        seq = (query[dim], key[dim])
        scaled = scaled_flop(flop, *seq, convention=self.convention, causal=causal, window=site.window)
        self._record(site, "kernel_calls", flop, scaled, seq)
        return scaled

    def details(self) -> dict[str, Any]:
        """What ``details["attention"]`` shows: the convention, its statement, and each module type."""
        self._pending.clear()  # the run is over: hold no tensor of it
        return {"convention": self.convention, "statement": STATEMENTS[self.convention],
                "modules": {key: dict(entry) for key, entry in sorted(self.records.items())},
                "unflagged_products": self.unflagged_products}

    def notes(self) -> list[str]:
        """One line per thing the user must know about the convention (nothing scaled, windows ignored)."""
        if self.convention == "full":
            return []
        verb = "halved" if self.convention == "causal" else "windowed"
        scaled = {key: entry for key, entry in self.records.items() if entry["scaled"]}
        out = []
        if not scaled:
            out.append(f"attention={self.convention!r} {verb} nothing: no attention product ran in a module "
                       "flagged is_causal=True" + (" or with a sliding window" if verb == "windowed" else "")
                       + "; attention counted in full")
        else:
            parts = [f"{key}: {entry['scaled']} of {entry['products'] + entry['kernel_calls']} calls"
                     for key, entry in sorted(scaled.items())]
            out.append(f"attention={self.convention!r} {verb} the score and value products of "
                       + "; ".join(parts))
        if self.convention == "causal" and any(e["window"] and e["causal"] for e in self.records.values()):
            out.append("sliding-window layers were halved like global ones; attention='window' counts "
                       "window x sequence")
        unrecognised = sum(entry["unrecognised"] for entry in self.records.values())
        if unrecognised:
            out.append(f"{unrecognised} bmm calls inside attention modules are not self-attention "
                       "products (no two sizes equal the sequence length): counted in full")
        return out
