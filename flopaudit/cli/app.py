"""The ``flopaudit`` command group; each command lives in its own module."""

from __future__ import annotations

import sys

import click

from flopaudit import __version__
from flopaudit.cli._errors import error_handler
from flopaudit.cli.check import check
from flopaudit.cli.policies import policies
from flopaudit.cli.schema import schema


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="flopaudit")
def cli() -> None:
    """Auditable training-compute estimates and compute-threshold policy checks.

    Exit codes: 0 no policy in force crossed; 1 a policy in force crossed (or undecided under
    --fail-on indeterminate); 2 the input could not be judged.
    """


cli.add_command(check)
cli.add_command(policies)
cli.add_command(schema)


def _add_optional_commands() -> None:
    # The profile command's module imports torch only when it runs, so registering it is cheap.
    if "profile" not in cli.commands:
        from flopaudit.cli.profile import profile
        cli.add_command(profile)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    with error_handler():
        _add_optional_commands()
        cli.main(args=argv if argv is not None else sys.argv[1:], prog_name="flopaudit", standalone_mode=False)


if __name__ == "__main__":
    main()
