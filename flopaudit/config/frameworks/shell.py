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
from flopaudit.errors import ConfigError

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ASSIGN = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(\+?=)")
_PARAM = re.compile(r"([A-Za-z_][A-Za-z0-9_]*|[0-9]+|[@*#?$!-])(?:\[([^\]]*)\])?")
_CONTROL = {"if", "then", "elif", "else", "fi", "for", "while", "until", "do", "done", "case", "esac",
            "select", "function", "{", "}", "[[", "]]"}
_DECLARE = {"export", "declare", "typeset", "local", "readonly"}


@dataclass(frozen=True)
class Arg:
    """One word of a command after expansion, and the line its first character was written on."""

    text: str
    line: int


# --- scanned words ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Lit:
    text: str
    lines: tuple[int, ...]  # one per character
    quoted: bool


@dataclass(frozen=True)
class _Param:
    expr: str  # NAME, or the text inside ${...}
    line: int
    quoted: bool
    braced: bool


@dataclass(frozen=True)
class _Sub:
    kind: str  # "command substitution" or "arithmetic expansion"
    text: str
    line: int


_Seg = _Lit | _Param | _Sub


@dataclass(frozen=True)
class _Word:
    segs: tuple[_Seg, ...]
    line: int

    def literal(self) -> str | None:
        """The word's text when it is one unquoted literal (a command name, a keyword)."""
        if len(self.segs) == 1 and isinstance(self.segs[0], _Lit) and not self.segs[0].quoted:
            return self.segs[0].text
        return None


@dataclass(frozen=True)
class _Array:
    name: str
    append: bool
    elements: tuple[_Word, ...]
    line: int


@dataclass
class _Stmt:
    items: list[_Word | _Array]
    line: int
    conditional: bool  # follows && or ||


class _Scanner:
    """Characters to statements of words; every character keeps its line."""

    def __init__(self, text: str, path: Path, line: int = 1) -> None:
        self.s, self.path, self.i, self.line = text, path, 0, line

    def _peek(self, k: int = 0) -> str:
        j = self.i + k
        return self.s[j] if j < len(self.s) else ""

    def _next(self) -> str:
        ch = self.s[self.i]
        self.i += 1
        if ch == "\n":
            self.line += 1
        return ch

    def _error(self, message: str, line: int | None = None) -> ConfigError:
        return ConfigError(message, file=self.path, line=line or self.line)

    # statements
    def statements(self) -> list[_Stmt]:
        out: list[_Stmt] = []
        items: list[_Word | _Array] = []
        start, conditional, next_conditional = self.line, False, False

        def end() -> None:
            nonlocal items, conditional
            if items:
                out.append(_Stmt(items, start, conditional))
            items, conditional = [], next_conditional

        while self.i < len(self.s):
            c = self._peek()
            if c == "\\" and self._peek(1) == "\n":
                self._next(), self._next()
            elif c in " \t\r":
                self._next()
            elif c == "#":
                while self.i < len(self.s) and self._peek() != "\n":
                    self._next()
            elif c in "\n;":
                next_conditional = False
                self._next()
                end()
            elif c in "&|":
                op = self._next()
                if self._peek() == op:
                    op += self._next()
                next_conditional = op in ("&&", "||")
                end()
            elif c in "<>":
                self._redirect()
            elif c in "()":
                raise refused("a subshell, function definition or array outside an assignment", self.path,
                              self.line)
            else:
                if not items:
                    start = self.line
                items.append(self._word_or_array())
        end()
        return out

    def _redirect(self) -> None:
        line = self.line
        op = self._next()
        if op == "<" and self._peek() == "<":
            raise refused("a here-document (<<)", self.path, line)
        while self._peek() in (">", "&", "|"):
            self._next()
        while self._peek() in (" ", "\t"):
            self._next()
        if self._peek() and self._peek() not in "\n;&|":
            self._word()  # the redirection's target: not a word of the command

    def _word_or_array(self) -> _Word | _Array:
        word = self._word()
        text = word.literal()
        if text is not None and self._peek() == "(" and (m := _ASSIGN.fullmatch(text)):
            self._next()
            return _Array(m.group(1), m.group(2) == "+=", tuple(self._array_elements(word.line)), word.line)
        if (len(word.segs) == 1 and isinstance(word.segs[0], _Lit) and word.segs[0].text.isdigit()
                and self._peek() in ("<", ">")):
            self._redirect()  # 2>&1: the digits name a file descriptor
            return _Word((), word.line)
        return word

    def _array_elements(self, line: int) -> list[_Word]:
        elements: list[_Word] = []
        while True:
            c = self._peek()
            if not c:
                raise self._error("array assignment is not closed with ')'", line)
            if c == "\\" and self._peek(1) == "\n":
                self._next(), self._next()
            elif c in " \t\r\n":
                self._next()
            elif c == "#":
                while self._peek() and self._peek() != "\n":
                    self._next()
            elif c == ")":
                self._next()
                return elements
            elif c in "(;&|<>":
                raise self._error(f"unexpected '{c}' inside an array assignment")
            else:
                elements.append(self._word())

    # words
    def _word(self) -> _Word:
        segs: list[_Seg] = []
        line = self.line
        while self.i < len(self.s):
            c = self._peek()
            if c in " \t\r\n;&|<>()":
                break
            if c == "\\":
                self._next()
                if self._peek() == "\n":
                    self._next()
                elif self._peek():
                    at = self.line
                    segs.append(_Lit(self._next(), (at,), True))
            elif c == "'":
                segs.append(self._single())
            elif c == '"':
                self._double(segs)
            elif c == "$":
                segs.append(self._dollar(quoted=False))
            elif c == "`":
                segs.append(self._backtick())
            else:
                at = self.line
                segs.append(_Lit(self._next(), (at,), False))
        return _Word(tuple(_merge(segs)), line)

    def _single(self) -> _Lit:
        start = self.line
        self._next()
        chars: list[str] = []
        lines: list[int] = []
        while self._peek() != "'":
            if not self._peek():
                raise self._error("unterminated single quote", start)
            lines.append(self.line)
            chars.append(self._next())
        self._next()
        return _Lit("".join(chars), tuple(lines), True)

    def _double(self, segs: list[_Seg]) -> None:
        start = self.line
        self._next()
        segs.append(_Lit("", (), True))  # "" is a word even when empty
        while self._peek() != '"':
            c = self._peek()
            if not c:
                raise self._error("unterminated double quote", start)
            if c == "\\" and self._peek(1) in ('"', "\\", "$", "`", "\n"):
                self._next()
                if self._peek() == "\n":
                    self._next()
                    continue
                at = self.line
                segs.append(_Lit(self._next(), (at,), True))
            elif c == "$":
                segs.append(self._dollar(quoted=True))
            elif c == "`":
                segs.append(self._backtick())
            else:
                at = self.line
                segs.append(_Lit(self._next(), (at,), True))
        self._next()

    def _dollar(self, *, quoted: bool) -> _Seg:
        line = self.line
        self._next()
        c = self._peek()
        if c == "(":
            arithmetic = self._peek(1) == "("
            text = self._balanced("(", ")")
            kind = "arithmetic expansion" if arithmetic else "command substitution"
            return _Sub(kind, f"${text}", line)
        if c == "{":
            return _Param(self._balanced("{", "}")[1:-1], line, quoted, True)
        if c == "'":
            lit = self._single()
            return _Lit(lit.text, lit.lines, True)
        m = _NAME.match(self.s, self.i)
        if m:
            for _ in m.group(0):
                self._next()
            return _Param(m.group(0), line, quoted, False)
        if c and (c.isdigit() or c in "@*#?$!-"):
            return _Param(self._next(), line, quoted, False)
        return _Lit("$", (line,), quoted)

    def _balanced(self, open_: str, close: str) -> str:
        start = self.line
        depth, out, quote = 0, [], ""
        while True:
            c = self._peek()
            if not c:
                raise self._error(f"unterminated '{open_}'", start)
            out.append(self._next())
            if quote:
                if c == quote:
                    quote = ""
            elif c in "'\"":
                quote = c
            elif c == open_:
                depth += 1
            elif c == close:
                depth -= 1
                if depth == 0:
                    return "".join(out)

    def _backtick(self) -> _Sub:
        start = self.line
        self._next()
        out = []
        while self._peek() != "`":
            if not self._peek():
                raise self._error("unterminated backtick", start)
            out.append(self._next())
        self._next()
        return _Sub("command substitution", "`" + "".join(out) + "`", start)


def _merge(segs: list[_Seg]) -> list[_Seg]:
    """Adjacent literal characters of the same quoting as one literal."""
    out: list[_Seg] = []
    for seg in segs:
        last = out[-1] if out else None
        if isinstance(seg, _Lit) and isinstance(last, _Lit) and last.quoted == seg.quoted:
            out[-1] = _Lit(last.text + seg.text, last.lines + seg.lines, seg.quoted)
        else:
            out.append(seg)
    return out


# --- values -----------------------------------------------------------------------------------------
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

    words: list[_Word]
    line: int
    scope: dict[str, _Value]
    path: Path

    def args(self) -> list[Arg]:
        """Every word after expansion; ConfigError for a word that cannot be known statically."""
        env = _Env(dict(self.scope), self.path)
        return [a for word in self.words for a in env.fields(word)]

    def written(self) -> list[str]:
        """Each word as written, expansions left as ``${...}`` (to recognise words that cannot be expanded)."""
        def text(seg: _Seg) -> str:
            if isinstance(seg, _Lit):
                return seg.text
            return seg.text if isinstance(seg, _Sub) else "${" + seg.expr + "}"
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

    def fields(self, word: _Word) -> list[Arg]:
        """The words ``word`` expands to (bash word splitting of unquoted expansions)."""
        pieces = self._pieces(word)
        out: list[Arg] = []
        chars: list[str] = []
        lines: list[int] = []
        keep = any(isinstance(s, _Lit) and s.quoted for s in word.segs)

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

    def joined(self, segs: tuple[_Seg, ...], line: int) -> _Text:
        """An assignment's value: one string, no word splitting."""
        text, lines = "", ()  # type: ignore[var-annotated]
        for piece in self._pieces(_Word(segs, line)):
            if piece is _BREAK:
                text, lines = text + " ", lines + (line,)
            else:
                text, lines = text + piece.text, lines + piece.lines
        return _Text(text, lines)

    def _pieces(self, word: _Word) -> list[_Piece | None]:
        out: list[_Piece | None] = []
        for seg in word.segs:
            if isinstance(seg, _Lit):
                out.append(_Piece(seg.text, seg.lines, False))
            elif isinstance(seg, _Sub):
                raise refused(f"{seg.kind} {seg.text}", self.path, seg.line)
            else:
                out.extend(self._param(seg))
        return out

    def _param(self, p: _Param) -> list[_Piece | None]:
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
        empty = unset or all(not e.text for e in elements)  # type: ignore[union-attr]
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

    def _sub_word(self, text: str, p: _Param) -> _Word:
        scanner = _Scanner(f'"{text}"' if p.quoted else text, self.path, p.line)
        if p.quoted:
            segs: list[_Seg] = []
            scanner._double(segs)
            return _Word(tuple(_merge(segs)), p.line)
        return scanner._word()

    def _unassigned(self, name: str, line: int) -> ConfigError:
        if not _NAME.fullmatch(name):
            return ConfigError(f"${name} is given when the script is run, not in the file", file=self.path,
                               line=line, hint="write the value into the script, or use ${1:-value}")
        return ConfigError(f"variable {name} is used but never assigned in {self.path.name}", file=self.path,
                           line=line, hint=f"flopaudit never reads the environment: assign {name} in the "
                                           f"script or write ${{{name}:-value}}")


def read_script(path: Path, text: str) -> ShellScript:
    """Follow ``text`` top to bottom: assignments update the variables, every other line is a command."""
    script = ShellScript(path)
    env = _Env(script.variables, path)
    for stmt in _Scanner(text, path).statements():
        _run(stmt, env, script)
    return script


def _run(stmt: _Stmt, env: _Env, script: ShellScript) -> None:
    items = [i for i in stmt.items if not (isinstance(i, _Word) and not i.segs)]
    if not items:
        return
    first = items[0]
    head = first.literal() if isinstance(first, _Word) else None
    if head in ("source", "."):
        raise refused(f"'{head}' of another file", script.path, first.line)
    if head == "eval":
        raise refused("'eval'", script.path, first.line)
    if head in _CONTROL:
        raise refused(f"control flow ('{head}'): flopaudit reads straight-line launch scripts", script.path,
                      first.line)
    if head == "unset":
        for word in items[1:]:
            name = word.literal() if isinstance(word, _Word) else None
            if name and not name.startswith("-"):
                script.variables.pop(name, None)
        return
    if head in _DECLARE:
        items = [i for i in items[1:] if not (isinstance(i, _Word) and (i.literal() or "").startswith("-"))]
        for item in items:
            if isinstance(item, _Array) or _assignment(item):
                _assign(item, env, stmt.conditional)
        return
    if all(isinstance(i, _Array) or _assignment(i) for i in items):
        for item in items:
            _assign(item, env, stmt.conditional)
        return
    words = [i for i in items if isinstance(i, _Word)]
    while words and _assignment(words[0]):
        words.pop(0)  # VAR=value before a command is that command's environment only
    if any(isinstance(i, _Array) for i in items):
        raise ConfigError("array assignment inside a command", file=script.path, line=stmt.line)
    script.commands.append(Command(words, stmt.line, dict(script.variables), script.path))


def _assignment(word: _Word | _Array) -> re.Match[str] | None:
    if not isinstance(word, _Word) or not word.segs or not isinstance(word.segs[0], _Lit) or word.segs[0].quoted:
        return None
    return _ASSIGN.match(word.segs[0].text)


def _assign(item: _Word | _Array, env: _Env, conditional: bool) -> None:
    if isinstance(item, _Array):
        name, append, line = item.name, item.append, item.line
    else:
        m = _assignment(item)
        assert m is not None
        name, append, line = m.group(1), m.group(2) == "+=", item.line
    if conditional:
        env.vars[name] = _Poison(ConfigError(f"{name} is assigned conditionally (after && or ||)",
                                             file=env.path, line=line,
                                             hint="flopaudit does not evaluate conditions; assign it plainly"))
        return
    try:
        if isinstance(item, _Array):
            value: list[_Text] = [t for e in item.elements for t in _fields_with_lines(env, e)]
        else:
            first = item.segs[0]
            assert isinstance(first, _Lit)
            k = m.end()  # type: ignore[union-attr]
            rest = (_Lit(first.text[k:], first.lines[k:], False),) + item.segs[1:]
            value = [env.joined(rest, line)]
    except ConfigError as exc:
        env.vars[name] = _Poison(exc)
        return
    old = env.vars.get(name)
    if append and isinstance(old, list):
        if isinstance(item, _Array):
            value = old + value
        else:
            value = [_Text(old[0].text + value[0].text, old[0].lines + value[0].lines)] + old[1:]
    env.vars[name] = value


def _fields_with_lines(env: _Env, word: _Word) -> list[_Text]:
    """Like ``_Env.fields`` but keeping each character's line (array elements keep their own lines)."""
    texts: list[_Text] = []
    for arg in env.fields(word):
        texts.append(_Text(arg.text, tuple([arg.line] * len(arg.text))))
    return texts

