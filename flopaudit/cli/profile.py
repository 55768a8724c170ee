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
    if fmt == "json":
        text = json.dumps(result.to_dict(), indent=2) + "\n"
    else:  # stdout: $COLUMNS, else the terminal's width, else 120; a file: 120
        from flopaudit.render.layout import width
        text = render_text(result, width=width(sys.stdout) if output is None else None)
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
    """A FLOP figure as ``check`` writes it (``4.10e25``: 3 significant figures); small counts in full."""
    from flopaudit.render.common import flop

    if value is None:
        return "-"
    return f"{value:,.0f}" if abs(value) < 1e4 and float(value).is_integer() else flop(value)


def _share(value: int, total: int) -> str:
    return f"{100 * value / total:.1f}%" if total else "-"


def shares(values: list[int], whole: int) -> list[str]:
    """Percentages of ``whole`` to 0.1% that add up to exactly 100.0% when ``values`` add up to ``whole``.

    Convention: largest remainder (Hamilton) rounding in tenths of a percent, ties to the earlier row;
    when the values do not add up to ``whole`` each is rounded on its own.
    """
    if not whole:
        return ["-"] * len(values)
    if sum(values) != whole or any(v < 0 for v in values):
        return [_share(v, whole) for v in values]
    exact = [1000 * v / whole for v in values]
    tenths = [int(x) for x in exact]
    order = sorted(range(len(values)), key=lambda i: (-(exact[i] - tenths[i]), i))
    for i in order[:1000 - sum(tenths)]:
        tenths[i] += 1
    return [f"{t / 10:.1f}%" for t in tenths]


def module_tree(by_module: dict[str, int], total: int) -> list[tuple[str, int, int]]:
    """Rows ``(indented label, FLOP, parent's FLOP)`` of the module tree, parents before children.

    A module's parent is its closest listed ancestor. A module with listed children gets a
    ``(self)`` row for its FLOP outside them, and the step a ``(outside any module)`` row, so that
    every level's rows add up to their parent.
    """
    return [(label, flop, parent) for label, flop, parent, _, _ in _tree(by_module, total, group=False)]


def _children(by_module: dict[str, int]) -> dict[str, list[str]]:
    """Each listed module's closest listed descendants (``""``: the step), in the order they ran."""
    children: dict[str, list[str]] = {"": []}
    for name in by_module:
        parts = name.split(".")
        parent = next((".".join(parts[:i]) for i in range(len(parts) - 1, 0, -1)
                       if ".".join(parts[:i]) in by_module), "")
        children.setdefault(parent, []).append(name)
    return children


def _shape(name: str, by_module: dict[str, int], children: dict[str, list[str]]) -> tuple[object, ...]:
    """What makes two sibling modules alike: their FLOP and their subtree's (relative names and FLOP)."""
    return (by_module[name], tuple((kid[len(name):], _shape(kid, by_module, children))
                                   for kid in children.get(name, [])))


def _runs(kids: list[str], by_module: dict[str, int], children: dict[str, list[str]]) -> list[list[str]]:
    """Consecutive siblings ``stack.0``, ``stack.1``... that are alike, as runs (a run of one: a module alone)."""
    runs: list[list[str]] = []
    for kid in kids:
        stem, _, index = kid.rpartition(".")
        last = runs[-1][-1] if runs else None
        if (last is not None and index.isdigit() and last.rpartition(".")[0] == stem
                and last.rpartition(".")[2].isdigit()
                and _shape(last, by_module, children) == _shape(kid, by_module, children)):
            runs[-1].append(kid)
        else:
            runs.append([kid])
    return runs


def _tree(by_module: dict[str, int], total: int, *,
          group: bool = True) -> list[tuple[str, int, int, int, str]]:
    """Rows ``(label, FLOP, parent's FLOP, copies, share of parent)``, parents before children.

    With ``group``, a run of alike layers is one row ``layers.0-31 (32 alike; below: one of them)``
    holding their sum, followed by the rows of one of them (``copies`` 32: their share of the total
    counts all 32). Each level's shares add up to 100.0% (:func:`shares`).
    """
    children = _children(by_module)
    rows: list[tuple[str, int, int, int, str]] = []

    def walk(prefix: str, flop: int, level: int, copies: int) -> None:
        kids = children.get(prefix, [])
        runs = _runs(kids, by_module, children) if group else [[k] for k in kids]
        rest = flop - sum(by_module[kid] for kid in kids)
        values = [by_module[run[0]] * len(run) for run in runs] + ([rest] if kids and rest else [])
        percent = shares(values, flop)
        for k, run in enumerate(runs):
            first = run[0]
            label = first[len(prefix) + 1:] if prefix else first
            if len(run) > 1:
                label += f"-{run[-1].rpartition('.')[2]} ({len(run)} alike; below: one of them)"
            rows.append(("  " * level + label, values[k], flop, copies, percent[k]))
            walk(first, by_module[first], level + 1, copies * len(run))
        if kids and rest:
            rows.append(("  " * level + ("(self)" if prefix else "(outside any module)"), rest, flop, copies,
                         percent[-1]))

    walk("", total, 0, 1)
    return rows


def render_text(result: Any, *, width: int | None = None) -> str:
    """The text output (``width`` columns, default 120): summary, by operator, by module, uncounted
    ops and the convention; every heading says "forward only" when the backward was not counted."""
    from rich.console import Console
    from rich.text import Text

    from flopaudit.measure.result import CONVENTION, fed_text
    from flopaudit.render import layout
    from flopaudit.render.layout import Column
    from flopaudit.render.safe import plain

    width = width or layout.DEFAULT_WIDTH
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, highlight=False, color_system=None, soft_wrap=False)
    backward = result.backward_flop
    total = result.forward_flop + (backward or 0)
    counted = "forward + backward" if backward is not None else "forward only"

    def t(value: object) -> Text:
        return Text(plain(str(value)))

    step = "one step" if backward is not None else "one forward pass"
    rows: list[tuple[str, str]] = [
        ("inputs fed", fed_text(result.details.get("inputs", {}), "\n") or "-"),
        ("parameters", f"{result.parameters:,}"),
        ("active parameters", f"{result.active_parameters:,}"),
        ("forward FLOP", _flop(result.forward_flop)),
        ("backward FLOP", _flop(backward) if backward is not None else "not counted (--no-backward)"),
        ("forward FLOP / token", _flop(result.flop_per_token_forward)),
        ("train FLOP / token (fwd + bwd)", _flop(result.flop_per_token_train)),
        (f"MACs ({counted})", _flop(total // 2)),
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
    title = (f"{result.model}: {step} of {result.batch} x {result.seq_len} tokens on {result.device} "
             f"({result.backend})")
    console.print(layout.table(title, (Column("what", wrap=False), Column("value", wrap=False)),
                               [[t(what), t(value)] for what, value in rows], width, show_header=False))

    forward_ops = result.by_phase.get("forward", {}).get("by_operator", {})
    backward_ops = result.by_phase.get("backward", {}).get("by_operator", {})
    numbers = ("forward", "backward", "total", "share") if backward is not None else ("forward", "share")
    op_rows = []
    ops = list(result.by_operator.items())
    for (op, flop), share in zip(ops, shares([f for _, f in ops], total)):
        cells = [_flop(forward_ops.get(op, 0))]
        if backward is not None:
            cells += [_flop(backward_ops.get(op, 0)), _flop(flop)]
        op_rows.append([t(op), *map(t, cells), t(share), t(result.formulas.get(op, ""))])
    console.print(layout.table(f"By operator ({counted})",
                               (Column("operator", wrap=False),
                                *(Column(n, wrap=False, justify="right") for n in numbers),
                                Column("formula", wrap=False)), op_rows, width))

    if result.by_module:
        tree = _tree(result.by_module, total)
        module_rows = [[t(label), t(_flop(flop)), t(share), t(_share(flop * copies, total))]
                       for label, flop, _, copies, share in tree]
        console.print(layout.table(f"By module ({counted}), as a tree: at each level the shares of the "
                                   "parent add up to 100%", (Column("module", wrap=False),
                                   Column("FLOP", wrap=False, justify="right"),
                                   Column("of parent", wrap=False, justify="right"),
                                   Column("of total", wrap=False, justify="right")), module_rows, width))
        if any(copies > 1 for *_, copies, _ in tree):
            console.print(t("Under a row of N alike layers, the rows are one of them; "
                            "their 'of total' counts all N."))

    if result.uncounted_ops:
        uncounted = [[t(e["op"]), t(e["calls"]),
                      t("-" if e.get("share_of_calls") is None else f"{e['share_of_calls']:.2%}"),
                      t(e.get("reason", ""))] for e in result.uncounted_ops]
        console.print(layout.table("Uncounted ops (ran, no formula, not known to cost 0)",
                                   (Column("op", wrap=False), Column("calls", wrap=False, justify="right"),
                                    Column("share of calls", wrap=False, justify="right"), Column("reason")),
                                   uncounted, width))
    else:
        console.print(t("Uncounted ops: none (every op that ran was counted or is known to cost 0 FLOP)"))
    if result.zero_flop_calls:
        zero = ", ".join(f"{category} {calls}" for category, calls in result.zero_flop_calls.items())
        console.print(t(f"Known 0-FLOP calls: {zero}"))
    for note in result.notes:
        console.print(t(f"Note: {note}"))
    console.print(t(f"Convention: {CONVENTION}"))
    return "".join(line.rstrip() + "\n" for line in buffer.getvalue().splitlines())
