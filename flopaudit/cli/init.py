"""``flopaudit init``: ask a few questions (or read flags) and write a commented starter config.

Every answer a flag gives is not asked; with ``--non-interactive`` nothing is asked and a missing
required answer is an error. A wrong answer is asked again (interactive) or refused naming its flag.
What is written is loaded as ``check`` would load it before the file is written.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import click

from flopaudit.errors import InputError

DEFAULT_FILE = "flopaudit.yaml"


def _checked(flag: str, check: Callable[[str], str], value: str) -> str:
    """``check(value)``, a usage error naming ``flag`` when the answer is refused."""
    from flopaudit.config.starter import AnswerError

    try:
        return check(value)
    except AnswerError as exc:
        raise click.BadParameter(str(exc), param_hint=flag) from None


def _ask(question: str, check: Callable[[str], str], *, default: str | None = None) -> str:
    """Prompt until ``check`` accepts the answer; ``check`` returns the value to keep."""
    from flopaudit.config.starter import AnswerError

    def proc(text: str) -> str:
        try:
            return check(text)
        except AnswerError as exc:
            raise click.UsageError(str(exc)) from None

    return click.prompt(question, default=default, value_proc=proc)


def _size(text: str) -> tuple[str | None, str | None]:
    """An answer to 'parameters or preset': ``(parameters, None)`` or ``(None, preset)``."""
    from flopaudit.config.starter import check_number, check_preset, is_number

    return (check_number(text, "parameters"), None) if is_number(text) else (None, check_preset(text))


def _policies(text: str) -> tuple[str, ...]:
    """Comma- or space-separated built-in policy ids; empty for every built-in policy."""
    from flopaudit.config.starter import check_policy

    ids = tuple(check_policy(p) for p in text.replace(",", " ").split())
    if len(set(ids)) != len(ids):
        from flopaudit.config.starter import AnswerError
        raise AnswerError("a policy is listed twice")
    return ids


@click.command()
@click.option("--non-interactive", is_flag=True, help="Ask nothing: take every answer from the flags.")
@click.option("--name", metavar="TEXT", help="The model's name.")
@click.option("--parameters", metavar="N", help="Total parameters (7B, 405e9).")
@click.option("--preset", metavar="NAME", help="An architecture preset instead of --parameters (LitGPT's "
                                                "model table: Llama-3.1-8B, Mixtral-8x7B-v0.1, ...).")
@click.option("--tokens", metavar="N", help="Training tokens of the pretraining stage (2T, 15.6e12).")
@click.option("--accelerator", metavar="NAME", help="Accelerator of the run (see 'flopaudit accelerators'); "
                                                    "needs --devices and --hours.")
@click.option("--devices", metavar="N", help="Number of accelerators.")
@click.option("--hours", metavar="H", help="Wall-clock hours of the run.")
@click.option("--policy", "policies", multiple=True, metavar="ID",
              help="A built-in policy id to judge (repeatable); default: every built-in policy.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help=f"Write the config here; '-' for stdout. Default: ask (interactive, {DEFAULT_FILE}) "
                   "or stdout (--non-interactive).")
@click.option("--force", is_flag=True, help="Overwrite FILE if it exists.")
def init(non_interactive: bool, name: str | None, parameters: str | None, preset: str | None, tokens: str | None,
         accelerator: str | None, devices: str | None, hours: str | None, policies: tuple[str, ...],
         output: Path | None, force: bool) -> None:
    """Write a commented starter config (model, stage, hardware, policies) that 'check' accepts."""
    from flopaudit.config import starter as st
    from flopaudit.config.loader import load_config_text

    ask = not non_interactive

    def need(flag: str, value: str | None) -> str:
        if value is None:
            raise click.UsageError(f"{flag} is required with --non-interactive")
        return value

    if output is not None and str(output) != "-" and output.exists() and not force:
        raise InputError("exists; give --force to overwrite it", file=output)  # before asking anything
    if parameters is not None and preset is not None:
        raise click.UsageError("give --parameters or --preset, not both")
    if name is not None:
        name = _checked("--name", _name, name)
    elif ask:
        name = _ask("Model name", _name)
    size: tuple[str | None, str | None]
    if parameters is not None:
        size = (_checked("--parameters", lambda t: st.check_number(t, "parameters"), parameters), None)
    elif preset is not None:
        size = (None, _checked("--preset", st.check_preset, preset))
    elif ask:
        size = _ask(f"Parameters (e.g. 7B), or an architecture preset ({', '.join(st.presets())})",
                    lambda t: _size(t))  # type: ignore[arg-type, return-value]
    else:
        raise click.UsageError("--parameters or --preset is required with --non-interactive")
    if tokens is not None:
        tokens = _checked("--tokens", lambda t: st.check_number(t, "tokens"), tokens)
    elif ask:
        tokens = _ask("Training tokens (e.g. 2T)", lambda t: st.check_number(t, "tokens"))
    if accelerator is not None:
        accelerator = _checked("--accelerator", st.check_accelerator, accelerator)
    elif ask and devices is None and hours is None:
        answer = _ask("Accelerator (e.g. H100-SXM; empty: no hardware)",
                      lambda t: st.check_accelerator(t) if t.strip() else "", default="")
        accelerator = answer or None
    if accelerator is None and (devices is not None or hours is not None):
        raise click.UsageError("--devices and --hours go with --accelerator")
    if accelerator is not None:
        if devices is not None:
            devices = _checked("--devices", lambda t: st.check_number(t, "devices"), devices)
        else:
            devices = _ask("Number of accelerators", lambda t: st.check_number(t, "devices")) if ask \
                else need("--devices", None)
        if hours is not None:
            hours = _checked("--hours", lambda t: st.check_number(t, "hours"), hours)
        else:
            hours = _ask("Wall-clock hours of the run", lambda t: st.check_number(t, "hours")) if ask \
                else need("--hours", None)
    if policies:
        chosen = _checked("--policy", lambda t: " ".join(_policies(t)), " ".join(policies)).split()
    elif ask:
        chosen = _ask("Policies to judge (ids, comma-separated; empty: every built-in)",
                      lambda t: " ".join(_policies(t)), default="").split()
    else:
        chosen = []
    answers = st.Starter(name=need("--name", name), tokens=need("--tokens", tokens), parameters=size[0],
                         preset=size[1], accelerator=accelerator, devices=devices, hours=hours,
                         policies=tuple(chosen))
    if output is None and ask:
        output = Path(click.prompt("Write to", default=DEFAULT_FILE))
    to_stdout = output is None or str(output) == "-"
    folder = Path.cwd() if to_stdout else output.parent  # type: ignore[union-attr]
    text = st.starter_text(answers, st.schema_reference(folder))
    load_config_text(text, "<init>")  # what is written must load
    if to_stdout:
        sys.stdout.write(text)
        return
    assert output is not None
    if output.exists() and not force:
        raise InputError("exists; give --force to overwrite it", file=output)
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write output: {exc.strerror}", file=output) from None
    click.echo(f"Wrote {output}; check it with: flopaudit check {output}", err=True)


def _name(text: str) -> str:
    """A model name: not blank, one line of printable characters (no control characters)."""
    from flopaudit.config.starter import AnswerError

    value = text.strip()
    if not value or not value.isprintable():
        raise AnswerError("the model needs a name: one line of printable characters")
    return value
