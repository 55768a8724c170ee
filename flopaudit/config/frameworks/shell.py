"""A static reader of bash launch scripts: variables, arrays and the words of each command, with lines.

Nothing is executed and the machine's environment is never read. The reader follows the script top to
bottom as straight-line code: ``VAR=value``, ``export``/``declare``/``local``/``readonly``, arrays
``NAME=( ... )`` over many lines and ``NAME+=( ... )``, ``$VAR``, ``${VAR}``, ``${VAR:-default}``,
``${VAR-default}``, ``${VAR:=default}``, ``${VAR:+alt}``, ``${ARR[@]}``/``${ARR[*]}``/``${ARR[n]}``, single
and double quotes, backslash continuations, comments, and bash's word splitting of unquoted expansions.

Refused with the line (``base.refused``): ``source``/``.`` of another file, ``eval``, here-documents,
control flow (``if``/``for``/``while``/``case``/functions/subshells). Command substitution ``$(...)`` and
backticks and arithmetic ``$((...))`` are refused where a value that is used depends on them. A variable
used but never assigned in the file is a ConfigError naming it (unless a ``${VAR:-default}`` form gives a
default). An assignment after ``&&``/``||`` is conditional: using that variable is an error.

shlex is not used for the words: it drops the quoting a static reader needs (a single-quoted ``$X`` is
literal text, an unquoted ``$X`` splits into words) and it keeps one line counter per stream; the scanner
below keeps, for every character, the line it was written on, so each argument points at its own line
even when it comes from an array or a variable assigned elsewhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from flopaudit.config.frameworks.base import refused
from flopaudit.config.frameworks.shell_scan import (ASSIGN, NAME, ArrayAssign, Lit, Param, Scanner, Seg, Statement, Sub,
                                                     Word, merge)
from flopaudit.errors import ConfigError

_PARAM = re.compile(r"([A-Za-z_][A-Za-z0-9_]*|[0-9]+|[@*#?$!-])(?:\[([^\]]*)\])?")
_CONTROL = {"if", "then", "elif", "else", "fi", "for", "while", "until", "do", "done", "case", "esac",
            "select", "function", "{", "}", "[[", "]]"}
_DECLARE = {"export", "declare", "typeset", "local", "readonly"}


@dataclass(frozen=True)
class Arg:
    """One word of a command after expansion, and the line its first character was written on."""

    text: str
    line: int


@dataclass(frozen=True)
class _Text:
    """A string with the line of each character."""

    text: str
    lines: tuple[int, ...]

    def arg(self, default_line: int) -> Arg:
        return Arg(self.text, self.lines[0] if self.lines else default_line)


@dataclass(frozen=True)
class _Poison:
    """A variable whose value cannot be known statically: using it raises ``error``."""

    error: ConfigError


_Value = list[_Text] | _Poison  # a scalar is a one-element array


@dataclass(frozen=True)
class _Piece:
    text: str
    lines: tuple[int, ...]
    split: bool  # from an unquoted expansion: whitespace separates words


_BREAK = None  # between the elements of an "${ARR[@]}" expansion


@dataclass
class Command:
    """A command line of the script: its words, expanded on demand with the variables of that moment."""

    words: list[Word]
    line: int
    scope: dict[str, _Value]
    path: Path

    def args(self) -> list[Arg]:
        """Every word after expansion; ConfigError for a word that cannot be known statically."""
        env = _Env(dict(self.scope), self.path)
        return [a for word in self.words for a in env.fields(word)]

    def written(self) -> list[str]:
        """Each word as written, expansions left as ``${...}`` (to recognise words that cannot be expanded)."""
        def text(seg: Seg) -> str:
            if isinstance(seg, Lit):
                return seg.text
            return seg.text if isinstance(seg, Sub) else "${" + seg.expr + "}"
        return ["".join(text(seg) for seg in word.segs) for word in self.words]

    def each_word(self) -> list[list[Arg] | ConfigError]:
        """Each word's expansion, or the error that stops it (raised only where a reader needs the word)."""
        env = _Env(dict(self.scope), self.path)
        out: list[list[Arg] | ConfigError] = []
        for word in self.words:
            try:
                out.append(env.fields(word))
            except ConfigError as exc:
                out.append(exc)
        return out


@dataclass
class ShellScript:
    """What a launch script does, read statically."""

    path: Path
    commands: list[Command] = field(default_factory=list)
    variables: dict[str, _Value] = field(default_factory=dict)


class _Env:
    """Variables and the expansion of words."""

    def __init__(self, variables: dict[str, _Value], path: Path) -> None:
        self.vars, self.path = variables, path

    def fields(self, word: Word) -> list[Arg]:
        """The words ``word`` expands to (bash word splitting of unquoted expansions)."""
        pieces = self._pieces(word)
        out: list[Arg] = []
        chars: list[str] = []
        lines: list[int] = []
        keep = any(isinstance(s, Lit) and s.quoted for s in word.segs)

        def emit() -> None:
            if chars or keep:
                out.append(_Text("".join(chars), tuple(lines)).arg(word.line))
            chars.clear(), lines.clear()

        for piece in pieces:
            if piece is _BREAK:
                emit()
                continue
            for ch, ln in zip(piece.text, piece.lines):
                if piece.split and ch in " \t\n":
                    if chars:
                        emit()
                else:
                    chars.append(ch)
                    lines.append(ln)
        if chars or (keep and not out):
            emit()
        return out

    def joined(self, segs: tuple[Seg, ...], line: int) -> _Text:
        """An assignment's value: one string, no word splitting."""
        text: list[str] = []
        lines: list[int] = []
        for piece in self._pieces(Word(segs, line)):
            if piece is None:  # _BREAK: array elements joined by a space
                text.append(" ")
                lines.append(line)
            else:
                text.append(piece.text)
                lines.extend(piece.lines)
        return _Text("".join(text), tuple(lines))

    def _pieces(self, word: Word) -> list[_Piece | None]:
        out: list[_Piece | None] = []
        for seg in word.segs:
            if isinstance(seg, Lit):
                out.append(_Piece(seg.text, seg.lines, False))
            elif isinstance(seg, Sub):
                raise refused(f"{seg.kind} {seg.text}", self.path, seg.line)
            else:
                out.extend(self._param(seg))
        return out

    def _param(self, p: Param) -> list[_Piece | None]:
        expr = p.expr
        if p.braced and expr.startswith("#"):
            raise refused(f"length expansion ${{{expr}}}", self.path, p.line)
        m = _PARAM.match(expr)
        if not m:
            raise ConfigError(f"cannot read the parameter expansion ${{{expr}}}", file=self.path, line=p.line)
        name, index, rest = m.group(1), m.group(2), expr[m.end():]
        op, arg = "", ""
        if rest:
            om = re.match(r"(:?[-=+?])", rest)
            if not om:
                raise refused(f"parameter expansion ${{{expr}}} (only ${{V}}, ${{V:-default}}, ${{V:=default}}, "
                              "${V:+alt} are read)", self.path, p.line)
            op, arg = om.group(1), rest[om.end():]
        value = self.vars.get(name)
        if isinstance(value, _Poison) and not op:
            raise value.error
        elements = None if value is None or isinstance(value, _Poison) else self._select(value, index)
        unset = elements is None
        empty = elements is None or all(not e.text for e in elements)
        if op in ("-", ":-", "=", ":="):
            if unset or (op.startswith(":") and empty):
                default = self._sub_word(arg, p)
                if op.endswith("="):
                    self.vars[name] = [self.joined(default.segs, p.line)]
                return self._pieces(default)
        elif op in ("+", ":+"):
            if unset or (op == ":+" and empty):
                return []
            return self._pieces(self._sub_word(arg, p))
        elif op in ("?", ":?") and (unset or (op == ":?" and empty)):
            raise ConfigError(f"{name} must be set ({arg or 'parameter null or not set'})", file=self.path,
                              line=p.line)
        if isinstance(value, _Poison):
            raise value.error
        if elements is None:
            raise self._unassigned(name, p.line)
        out: list[_Piece | None] = []
        for k, element in enumerate(elements):
            if k:
                out.append(_BREAK if (index == "@" or not p.quoted) else _Piece(" ", (p.line,), False))
            out.append(_Piece(element.text, element.lines or (p.line,) * len(element.text), not p.quoted))
        return out

    def _select(self, value: list[_Text], index: str | None) -> list[_Text] | None:
        if index in ("@", "*"):
            return value
        k = 0 if index is None else int(index) if index.isdigit() else -1
        if k < 0:
            raise ConfigError(f"array index [{index}] is not read statically", file=self.path)
        return [value[k]] if k < len(value) else None

    def _sub_word(self, text: str, p: Param) -> Word:
        scanner = Scanner(f'"{text}"' if p.quoted else text, self.path, p.line)
        if p.quoted:
            segs: list[Seg] = []
            scanner.double_quoted(segs)
            return Word(tuple(merge(segs)), p.line)
        return scanner.word()

    def _unassigned(self, name: str, line: int) -> ConfigError:
        if not NAME.fullmatch(name):
            return ConfigError(f"${name} is given when the script is run, not in the file", file=self.path,
                               line=line, hint="write the value into the script, or use ${1:-value}")
        return ConfigError(f"variable {name} is used but never assigned in {self.path.name}", file=self.path,
                           line=line, hint=f"flopaudit never reads the environment: assign {name} in the "
                                           f"script or write ${{{name}:-value}}")


def read_script(path: Path, text: str) -> ShellScript:
    """Follow ``text`` top to bottom: assignments update the variables, every other line is a command."""
    script = ShellScript(path)
    env = _Env(script.variables, path)
    for stmt in Scanner(text, path).statements():
        _run(stmt, env, script)
    return script


def _run(stmt: Statement, env: _Env, script: ShellScript) -> None:
    items = [i for i in stmt.items if not (isinstance(i, Word) and not i.segs)]
    if not items:
        return
    first = items[0]
    head = first.literal() if isinstance(first, Word) else None
    if head in ("source", "."):
        raise refused(f"'{head}' of another file", script.path, first.line)
    if head == "eval":
        raise refused("'eval'", script.path, first.line)
    if head in _CONTROL:
        raise refused(f"control flow ('{head}'): flopaudit reads straight-line launch scripts", script.path,
                      first.line)
    if head == "unset":
        for word in items[1:]:
            name = word.literal() if isinstance(word, Word) else None
            if name and not name.startswith("-"):
                script.variables.pop(name, None)
        return
    if head in _DECLARE:
        items = [i for i in items[1:] if not (isinstance(i, Word) and (i.literal() or "").startswith("-"))]
        for item in items:
            if isinstance(item, ArrayAssign) or _assignment(item):
                _assign(item, env, stmt.conditional)
        return
    if all(isinstance(i, ArrayAssign) or _assignment(i) for i in items):
        for item in items:
            _assign(item, env, stmt.conditional)
        return
    words = [i for i in items if isinstance(i, Word)]
    while words and _assignment(words[0]):
        words.pop(0)  # VAR=value before a command is that command's environment only
    if any(isinstance(i, ArrayAssign) for i in items):
        raise ConfigError("array assignment inside a command", file=script.path, line=stmt.line)
    script.commands.append(Command(words, stmt.line, dict(script.variables), script.path))


def _assignment(word: Word | ArrayAssign) -> re.Match[str] | None:
    if not isinstance(word, Word) or not word.segs or not isinstance(word.segs[0], Lit) or word.segs[0].quoted:
        return None
    return ASSIGN.match(word.segs[0].text)


def _assign(item: Word | ArrayAssign, env: _Env, conditional: bool) -> None:
    m = None if isinstance(item, ArrayAssign) else _assignment(item)
    if isinstance(item, ArrayAssign):
        name, append, line = item.name, item.append, item.line
    else:
        assert m is not None
        name, append, line = m.group(1), m.group(2) == "+=", item.line
    if conditional:
        env.vars[name] = _Poison(ConfigError(f"{name} is assigned conditionally (after && or ||)",
                                             file=env.path, line=line,
                                             hint="flopaudit does not evaluate conditions; assign it plainly"))
        return
    try:
        if isinstance(item, ArrayAssign):
            value: list[_Text] = [t for e in item.elements for t in _fields_with_lines(env, e)]
        else:
            first = item.segs[0]
            assert isinstance(first, Lit) and m is not None
            k = m.end()
            rest = (Lit(first.text[k:], first.lines[k:], False),) + item.segs[1:]
            value = [env.joined(rest, line)]
    except ConfigError as exc:
        env.vars[name] = _Poison(exc)
        return
    old = env.vars.get(name)
    if append and isinstance(old, list):
        if isinstance(item, ArrayAssign):
            value = old + value
        else:
            value = [_Text(old[0].text + value[0].text, old[0].lines + value[0].lines)] + old[1:]
    env.vars[name] = value


def _fields_with_lines(env: _Env, word: Word) -> list[_Text]:
    """Like ``_Env.fields`` but keeping each character's line (array elements keep their own lines)."""
    texts: list[_Text] = []
    for arg in env.fields(word):
        texts.append(_Text(arg.text, tuple([arg.line] * len(arg.text))))
    return texts

