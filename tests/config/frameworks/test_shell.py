"""The static bash reader: what a launch script's commands receive, with the line of every word."""

from __future__ import annotations

from pathlib import Path

import pytest

from flopaudit.config.frameworks.shell import read_script
from flopaudit.errors import ConfigError

FIXTURES = Path(__file__).parent / "fixtures"


def args_of(text: str, command: int = -1) -> list[tuple[str, int]]:
    script = read_script(Path("run.sh"), text)
    return [(a.text, a.line) for a in script.commands[command].args()]


def test_arrays_defaults_continuations_and_comments() -> None:
    text = (
        "#!/bin/bash\n"                                  # 1
        "GBS=${GBS:-2048}\n"                             # 2  GBS unset in the file: the default
        "ARGS=(\n"                                       # 3
        "    --num-layers 32   # a comment\n"            # 4
        "    --hidden-size \"${HID:=4096}\"\n"            # 5  := assigns HID as well
        ")\n"                                            # 6
        "ARGS+=(--swiglu)\n"                             # 7
        "python pretrain_gpt.py \\\n"                    # 8
        "    \"${ARGS[@]}\" \\\n"                         # 9
        "    --global-batch-size $GBS --x ${HID}\n"      # 10
    )
    # each word keeps the line it was written on: array elements their own lines, a variable its assignment
    assert args_of(text) == [
        ("python", 8), ("pretrain_gpt.py", 8), ("--num-layers", 4), ("32", 4), ("--hidden-size", 5),
        ("4096", 5), ("--swiglu", 7), ("--global-batch-size", 10), ("2048", 2), ("--x", 10), ("4096", 5)]


def test_unquoted_string_splits_into_words_and_single_quotes_stay_literal() -> None:
    text = (
        'OPTS="--lr 3e-4 \\\n'       # 1  a continuation inside double quotes joins the lines
        '  --min-lr 3e-5"\n'          # 2
        "NAME='a $X b'\n"             # 3  single quotes: no expansion, one word
        'train.py $OPTS --name "$NAME"\n'  # 4
    )
    assert args_of(text) == [("train.py", 4), ("--lr", 1), ("3e-4", 1), ("--min-lr", 2), ("3e-5", 2),
                             ("--name", 4), ("a $X b", 3)]


def test_export_and_prefix_assignments() -> None:
    # `export A=1` assigns; `B=2 cmd` sets B for that command only (bash expands $B before it)
    text = "export A=1\nB=5\nB=2 python x.py --a $A --b $B\n"
    assert args_of(text) == [("python", 3), ("x.py", 3), ("--a", 3), ("1", 1), ("--b", 3), ("5", 2)]


def test_redirections_and_pipes_are_not_arguments() -> None:
    # `2>&1 | tee log` after the command: the 2, the target and the piped command are not its words
    script = read_script(Path("run.sh"), "python x.py --a 1 2>&1 | tee log.txt\n")
    assert [(a.text) for a in script.commands[0].args()] == ["python", "x.py", "--a", "1"]
    assert [(a.text) for a in script.commands[1].args()] == ["tee", "log.txt"]


def test_environment_is_never_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NUM_LAYERS", "32")
    script = read_script(FIXTURES / "unassigned.sh", (FIXTURES / "unassigned.sh").read_text())
    with pytest.raises(ConfigError) as err:
        script.commands[0].args()
    assert "NUM_LAYERS" in err.value.message and err.value.line == 3


def test_default_used_when_the_variable_is_unassigned() -> None:
    assert args_of("python x.py --n ${N:-7} --m ${M-8}\n")[2:] == [("--n", 1), ("7", 1), ("--m", 1), ("8", 1)]


def test_command_substitution_refused_where_used_with_its_line() -> None:
    script = read_script(FIXTURES / "refused_subst.sh", (FIXTURES / "refused_subst.sh").read_text())
    with pytest.raises(ConfigError) as err:
        script.commands[-1].args()
    # LAYERS=$(python -c ...) is on line 4 of the fixture
    assert "command substitution" in err.value.message and err.value.line == 4


def test_arithmetic_and_backticks_refused_where_used() -> None:
    with pytest.raises(ConfigError) as err:
        args_of("N=4\nM=$((N * 2))\npython x.py --m $M\n")
    assert "arithmetic" in err.value.message and err.value.line == 2
    with pytest.raises(ConfigError) as err:
        args_of("python x.py --d `pwd`\n")
    assert "command substitution" in err.value.message and err.value.line == 1


@pytest.mark.parametrize(("text", "what", "line"), [
    ("A=1\nsource ./model.sh\n", "'source'", 2),
    ("A=1\n. ./model.sh\n", "'.'", 2),
    ("eval \"$CMD\"\n", "'eval'", 1),
    ("\nif [ -z \"$A\" ]; then A=1; fi\n", "control flow", 2),
    ("cat <<EOF > x\nhi\nEOF\n", "here-document", 1),
])
def test_refused_constructs(text: str, what: str, line: int) -> None:
    with pytest.raises(ConfigError) as err:
        read_script(Path("run.sh"), text)
    assert what in err.value.message and err.value.line == line
    assert "never runs them" in err.value.message


def test_conditional_assignment_is_an_error_when_used() -> None:
    with pytest.raises(ConfigError) as err:
        args_of("GBS=8\n[ -n \"$BIG\" ] && GBS=1024\npython x.py --g $GBS\n")
    assert "conditionally" in err.value.message and err.value.line == 2


def test_unterminated_quote_names_its_line() -> None:
    with pytest.raises(ConfigError) as err:
        read_script(Path("run.sh"), "A=1\nB=\"open\n")
    assert "unterminated double quote" in err.value.message and err.value.line == 2
