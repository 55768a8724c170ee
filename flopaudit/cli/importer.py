"""``flopaudit import FILE``: the flopaudit config equivalent to a training framework's file.

The config written points back at FILE (``training_config:``), so a later ``check`` reads the
numbers from FILE itself; the numbers are listed in comments for the reader. It checks to the same
total as ``flopaudit check FILE`` with the same flags.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from flopaudit.cli._options import framework_file_options
from flopaudit.errors import InputError


@click.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@framework_file_options
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), metavar="OUT.yaml",
              help="Write the config to this file (its training_config path is relative to it); default stdout.")
def import_command(file: Path, devices: int | None, vocab: int | None, sequence_length: int | None,
                   training_format: str | None, output: Path | None) -> None:
    """Write the flopaudit config of a Megatron-LM, torchtitan, MaxText, LitGPT, nanotron or HF Trainer file."""
    from flopaudit.config.direct import config_text, relative_reference
    from flopaudit.config.frameworks import read_training_config
    from flopaudit.config.frameworks.base import ReadOptions
    from flopaudit.config.loader import load_config_text

    run = read_training_config(file, format=training_format,
                               options=ReadOptions(devices=devices, vocab=vocab, sequence_length=sequence_length))
    folder = output.parent if output is not None else Path.cwd()
    text = config_text(run, reference=relative_reference(file, folder), devices=devices, vocab=vocab,
                       format=run.format, sequence_length=sequence_length, header=True)
    load_config_text(text, str(output or "<import>"))  # what is written must load
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write output: {exc.strerror}", file=output) from None
    click.echo(f"Wrote {output} (from {file}, {run.format}); check it with: flopaudit check {output}", err=True)
