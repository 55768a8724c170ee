"""``flopaudit profile``: count the FLOP of a real model's forward (and backward) pass.

A ``--factory`` or ``--trust-remote-code`` named on this command line is the consent of whoever
runs it (no ``--allow-code`` is asked for, unlike code a config names in ``check``); that code is
still counted in a child process under ``--code-timeout`` and ``--code-memory``, so whatever it
does (exit, abort, crash, hang) ends in exit 2.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import click

from flopaudit.cli._options import code_limit_options, code_limits
from flopaudit.errors import InputError, ModelSourceError
from flopaudit.measure import DEFAULT_SEQ_LEN


@click.command()
@click.option("--hf-config", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="A local Hugging Face config.json (built with no weights; nothing is downloaded).")
@click.option("--factory", metavar="MOD:FN",
              help="'package.module:callable' returning a torch.nn.Module (fed token ids [batch, seq_len]) "
                   "or (module, inputs): a tensor, tuple or dict of tensors by argument name. "
                   "Naming it here allows its code to run (importable from the working directory); "
                   "it runs in a child process under --code-timeout and --code-memory.")
@click.option("--seq-len", type=click.IntRange(min=1), metavar="N",
              help=f"Tokens per sequence (default {DEFAULT_SEQ_LEN}, capped at the config's positions).")
@click.option("--decoder-len", type=click.IntRange(min=1), metavar="N",
              help="Encoder-decoder models (T5, BART, Whisper): decoder tokens per sequence "
                   "(default --seq-len).")
@click.option("--batch", type=click.IntRange(min=1), default=1, show_default=True, help="Sequences per step.")
@click.option("--device", type=click.Choice(["meta", "cpu", "cuda"]), default="meta", show_default=True,
              help="meta: no weights in memory (fake tensors); cpu/cuda: real random weights "
                   "(cuda also times the step: MFU).")
@click.option("--no-backward", is_flag=True, help="Count the forward pass only.")
@click.option("--attention", type=click.Choice(["full", "causal", "window"]), default="full", show_default=True,
              help="causal halves the score and value products of causal attention (any kernel); "
                   "window counts the pairs each mask keeps (sliding windows: window x sequence).")
@click.option("--by-module", "by_module", type=click.IntRange(min=0), default=2, show_default=True,
              metavar="DEPTH", help="List modules down to this depth (2 reaches model.layers.0).")
@click.option("--no-reuse-layers", is_flag=True,
              help="Run and count every layer (default: each distinct layer of a repeated stack is "
                   "counted once and its copies credited; totals are the same, details.layers says which).")
@click.option("--backend", type=click.Choice(["flopaudit", "fvcore", "torch"]), default="flopaudit",
              show_default=True, help="torch / fvcore: what those counters would have said (raw).")
@click.option("--trust-remote-code", is_flag=True,
              help="Allow the custom modelling code an HF config names in auto_map (local files only); "
                   "it runs in a child process under --code-timeout and --code-memory.")
@code_limit_options
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="Output format.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Write the output to FILE instead of stdout.")
def profile(hf_config: Path | None, factory: str | None, seq_len: int | None, decoder_len: int | None,
            batch: int, device: str,
            no_backward: bool, attention: str, by_module: int, no_reuse_layers: bool, backend: str,
            trust_remote_code: bool,
            code_timeout: float, code_memory: float | None, fmt: str, output: Path | None) -> None:
    """Count the FLOP of one training step of a real PyTorch model (2 FLOP per multiply-add)."""
    from flopaudit import measure
    from flopaudit.measure import progress

    if (hf_config is None) == (factory is None):
        raise ModelSourceError("give exactly one of --hf-config FILE or --factory MOD:FN")
    source = measure.ModelSource(hf_config=hf_config, factory=factory, trust_remote_code=trust_remote_code)
    # seq_len None: the model's position limit caps the default, read where its code runs.
    with progress.shown():  # a transient line on stderr, only when it is a terminal
        result = measure.profile(source, seq_len=seq_len, batch=batch, device=device,
                                 backward=not no_backward, attention=attention, by_module_depth=by_module,
                                 backend=backend, reuse_layers=not no_reuse_layers, decoder_len=decoder_len,
                                 isolation=code_limits(code_timeout, code_memory) if source.runs_code() else None)
    text = json.dumps(result.to_dict(), indent=2) + "\n" if fmt == "json" else render_text(result)
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write output: {exc.strerror}", file=output) from None


# --------------------------------------------------------------------------- text rendering


def _flop(value: float | None) -> str:
    if value is None:
        return "-"
    if value == 0:
        return "0"
    return f"{value:.4g}" if abs(value) < 1e4 else f"{value:.4e}"


def _share(value: int, total: int) -> str:
    return f"{100 * value / total:.1f}%" if total else "-"


def module_tree(by_module: dict[str, int], total: int) -> list[tuple[str, int, int]]:
    """Rows ``(indented label, FLOP, parent's FLOP)`` of the module tree, parents before children.

    A module's parent is its closest listed ancestor. A module with listed children gets a
    ``(self)`` row for its FLOP outside them, and the step a ``(outside any module)`` row, so that
    every level's rows add up to their parent.
    """
    children: dict[str, list[str]] = {"": []}
    for name in by_module:  # insertion order: the order the modules ran
        parts = name.split(".")
        parent = next((".".join(parts[:i]) for i in range(len(parts) - 1, 0, -1)
                       if ".".join(parts[:i]) in by_module), "")
        children.setdefault(parent, []).append(name)
    rows: list[tuple[str, int, int]] = []

    def walk(prefix: str, flop: int, level: int) -> None:
        kids = children.get(prefix, [])
        for kid in kids:
            rows.append(("  " * level + (kid[len(prefix) + 1:] if prefix else kid), by_module[kid], flop))
            walk(kid, by_module[kid], level + 1)
        rest = flop - sum(by_module[kid] for kid in kids)
        if kids and rest:
            rows.append(("  " * level + ("(self)" if prefix else "(outside any module)"), rest, flop))

    walk("", total, 0)
    return rows


def render_text(result: Any, *, width: int = 110) -> str:
    """The text output: summary, by operator, by module, uncounted ops and the convention."""
    from rich.console import Console
    from rich.table import Table

    from flopaudit.measure.result import CONVENTION

    buffer = io.StringIO()
    console = Console(file=buffer, width=width, highlight=False, color_system=None, soft_wrap=False)
    backward = result.backward_flop
    total = result.forward_flop + (backward or 0)

    summary = Table(title=f"{result.model}: one step of {result.batch} x {result.seq_len} tokens "
                          f"on {result.device} ({result.backend})", show_header=False, title_justify="left")
    summary.add_column("what", no_wrap=True)
    summary.add_column("value", justify="right", overflow="fold")
    rows: list[tuple[str, str]] = [
        ("inputs fed", "\n".join(f"{name} {spec['shape']}" for name, spec in
                                 result.details.get("inputs", {}).items()) or "-"),
        ("parameters", f"{result.parameters:,}"),
        ("active parameters", f"{result.active_parameters:,}"),
        ("forward FLOP", _flop(result.forward_flop)),
        ("backward FLOP", _flop(backward) if backward is not None else "not counted"),
        ("forward FLOP / token", _flop(result.flop_per_token_forward)),
        ("train FLOP / token (fwd + bwd)", _flop(result.flop_per_token_train)),
        ("MACs (fwd + bwd)", _flop(total // 2)),
        ("attention", result.attention),
        ("attention kernels", "\n".join(result.sdpa_path) or "none"),
        ("seconds", f"{result.seconds:.2f}"),
    ]
    if result.cuda:
        cuda = result.cuda
        rows += [("GPU", f"{cuda['device_name']} ({cuda['accelerator'] or 'not in accelerators.yaml'})"),
                 ("step time (s)", f"{cuda['step_seconds']:.4f}"),
                 ("achieved FLOP/s", _flop(cuda["achieved_flops"])),
                 ("MFU", f"{cuda['mfu']:.1%}" if cuda["mfu"] is not None else "peak unknown"),
                 ("counter overhead", f"{cuda['counter_overhead']:.2f}x")]
    for what, value in rows:
        summary.add_row(what, value)
    console.print(summary)

    forward_ops = result.by_phase.get("forward", {}).get("by_operator", {})
    backward_ops = result.by_phase.get("backward", {}).get("by_operator", {})
    ops = Table(title="By operator", title_justify="left")
    ops.add_column("operator", overflow="fold")
    for column in ("forward", "backward", "total", "share"):
        ops.add_column(column, justify="right", no_wrap=True)
    ops.add_column("formula")
    for op, flop in result.by_operator.items():
        ops.add_row(op, _flop(forward_ops.get(op, 0)),
                    _flop(backward_ops.get(op, 0)) if backward is not None else "-",
                    _flop(flop), _share(flop, total), result.formulas.get(op, ""))
    console.print(ops)

    if result.by_module:
        modules = Table(title="By module (forward + backward), as a tree: each level adds up to its parent",
                        title_justify="left")
        modules.add_column("module")
        modules.add_column("FLOP", justify="right")
        modules.add_column("of parent", justify="right")
        modules.add_column("of total", justify="right")
        for label, flop, parent in module_tree(result.by_module, total):
            modules.add_row(label, _flop(flop), _share(flop, parent), _share(flop, total))
        console.print(modules)

    if result.uncounted_ops:
        uncounted = Table(title="Uncounted ops (ran, no formula, not known to cost 0)", title_justify="left")
        uncounted.add_column("op")
        uncounted.add_column("calls", justify="right")
        uncounted.add_column("share of calls", justify="right")
        uncounted.add_column("reason")
        for entry in result.uncounted_ops:
            share = entry.get("share_of_calls")
            uncounted.add_row(entry["op"], str(entry["calls"]), "-" if share is None else f"{share:.2%}",
                              entry.get("reason", ""))
        console.print(uncounted)
    else:
        console.print("Uncounted ops: none (every op that ran was counted or is known to cost 0 FLOP)")
    if result.zero_flop_calls:
        zero = ", ".join(f"{category} {calls}" for category, calls in result.zero_flop_calls.items())
        console.print(f"Known 0-FLOP calls: {zero}")
    for note in result.notes:
        console.print(f"Note: {note}")
    console.print(f"Convention: {CONVENTION}")
    return buffer.getvalue()
