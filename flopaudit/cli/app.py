"""The ``flopaudit`` command group. Each command lives in its own module, imported only when it runs."""

from __future__ import annotations

import importlib
import sys

import click

from flopaudit import __version__
from flopaudit.cli._errors import error_handler

#: Command name -> ("module:attribute" of its click command, one-line help). One module per command.
COMMANDS = {
    "check": ("flopaudit.cli.check:check", "Estimate every stage, judge every policy: the CI gate."),
    "report": ("flopaudit.cli.report:report", "Write a self-contained HTML risk report."),
    "profile": ("flopaudit.cli.profile:profile", "Count the FLOP of a real PyTorch model (meta, CPU or CUDA)."),
    "policies": ("flopaudit.cli.policies:policies",
                 "List the built-in policies; 'policies show ID'; 'policies verify DIR' checks policy files."),
    "schema": ("flopaudit.cli.schema:schema", "Print the JSON Schema of a config or policy file."),
    "import": ("flopaudit.cli.importer:import_command",
               "Write the flopaudit config of a training framework's own file (Megatron-LM, torchtitan ...)."),
    "ledger": ("flopaudit.cli.ledger:ledger", "Read a training run's compute ledger: 'ledger show LEDGER'."),
    "init": ("flopaudit.cli.init:init", "Ask a few questions (or read flags) and write a commented starter config."),
    "accelerators": ("flopaudit.cli.accelerators:accelerators",
                     "List the built-in accelerator table: peak FLOP/s per precision, with sources."),
}


class LazyGroup(click.Group):
    """A group whose commands are imported on first use, so ``check`` never pays for ``profile``."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, _, attr = COMMANDS[cmd_name][0].partition(":")
        return getattr(importlib.import_module(module), attr)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # The help line comes from the table: listing commands must not import them (torch, jinja2).
        with formatter.section("Commands"):
            formatter.write_dl([(name, help_) for name, (_, help_) in COMMANDS.items()])


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="flopaudit")
def cli() -> None:
    """Auditable training-compute estimates and compute-threshold policy checks.

    Exit codes: 0 no policy in force crossed; 1 a policy in force crossed (or undecided under
    --fail-on indeterminate); 2 the input could not be judged.
    """


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: every error goes through the one error handler."""
    with error_handler():
        code = cli.main(args=argv if argv is not None else sys.argv[1:], prog_name="flopaudit",
                        standalone_mode=False)
        sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
