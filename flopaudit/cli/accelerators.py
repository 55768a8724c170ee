"""``flopaudit accelerators``: the built-in accelerator table, peak dense FLOP/s per precision, with sources."""

from __future__ import annotations

import json

import click


def peak_text(x: float | None) -> str:
    """A peak FLOP/s as the table gives it, to 4 significant figures (``9.894e14``); ``-`` when absent."""
    return "-" if x is None else f"{x:.4g}".replace("e+", "e")


@click.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def accelerators(fmt: str) -> None:
    """List the built-in accelerator table: dense peak FLOP/s per device and precision, with sources.

    A config's hardware.accelerator takes any name or alias below (case-insensitive, ignoring spaces,
    dashes and underscores); the default precision (*) is used when hardware.precision is absent.
    """
    from flopaudit.estimate.accelerators import PRECISIONS, accelerators_in_order, provenance

    accs = accelerators_in_order()
    convention, sources = provenance()
    if fmt == "json":
        click.echo(json.dumps({
            "unit": "FLOP/s per device, dense", "convention": convention,
            "sources": [{"label": label, "url": url} for label, url in sources],
            "accelerators": [{"name": a.name, "full_name": a.full_name, "vendor": a.vendor,
                              "aliases": list(a.aliases), "default_precision": a.default_precision,
                              "peak_flops": a.peak_flops, "sources": list(a.sources), "notes": a.notes}
                             for a in accs]}, indent=2))
        return
    header = ["name", "vendor", *PRECISIONS]
    rows = [[a.name, a.vendor, *(peak_text(a.peak_flops.get(p)) + ("*" if p == a.default_precision else "")
                                 for p in PRECISIONS)] for a in accs]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    out = ["Built-in accelerators: dense peak FLOP/s per device (* the default precision)", ""]
    out += ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in [header, *rows]]
    out += ["", "Aliases and sources:"]
    for a in accs:
        out.append(f"  {a.name} ({a.full_name})" + (f"; also {', '.join(a.aliases)}" if a.aliases else ""))
        out += [f"    {url}" for url in a.sources]
    out += ["", "Table sources:", *(f"  {label}: {url}" for label, url in sources)]
    click.echo("\n".join(out))
