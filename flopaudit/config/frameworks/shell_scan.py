"""The scanner of the static bash reader: characters to statements of words, each character with its line.

Words keep their quoting (a single-quoted ``$X`` is literal, an unquoted expansion splits into words)
and their pieces: literal text, ``$NAME``/``${...}`` parameters, and command/arithmetic substitutions
(kept unexpanded, refused only where a value that is used depends on them). Expansion and the meaning
of statements are :mod:`flopaudit.config.frameworks.shell`'s job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from flopaudit.config.frameworks.base import refused
from flopaudit.errors import ConfigError

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
ASSIGN = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(\+?=)")


@dataclass(frozen=True)
class Lit:
    """Literal characters (quoted: from quotes or a backslash, never split or expanded)."""

    text: str
    lines: tuple[int, ...]  # one per character
    quoted: bool


@dataclass(frozen=True)
class Param:
    """A parameter expansion: ``$NAME`` or ``${...}``."""

    expr: str  # NAME, or the text inside ${...}
    line: int
    quoted: bool
    braced: bool


@dataclass(frozen=True)
class Sub:
    """A command substitution or arithmetic expansion, kept unexpanded."""

    kind: str  # "command substitution" or "arithmetic expansion"
    text: str
    line: int


Seg = Lit | Param | Sub


@dataclass(frozen=True)
class Word:
    """A shell word: its pieces and the line it starts on."""

    segs: tuple[Seg, ...]
    line: int

    def literal(self) -> str | None:
        """The word's text when it is one unquoted literal (a command name, a keyword)."""
        if len(self.segs) == 1 and isinstance(self.segs[0], Lit) and not self.segs[0].quoted:
            return self.segs[0].text
        return None


@dataclass(frozen=True)
class ArrayAssign:
    """``NAME=( ... )`` or ``NAME+=( ... )``."""

    name: str
    append: bool
    elements: tuple[Word, ...]
    line: int


@dataclass
class Statement:
    """The words of one simple command or assignment list."""

    items: list[Word | ArrayAssign]
    line: int
    conditional: bool  # follows && or ||


class Scanner:
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
    def statements(self) -> list[Statement]:
        out: list[Statement] = []
        items: list[Word | ArrayAssign] = []
        start, conditional, next_conditional = self.line, False, False

        def end() -> None:
            nonlocal items, conditional
            if items:
                out.append(Statement(items, start, conditional))
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
            self.word()  # the redirection's target: not a word of the command

    def _word_or_array(self) -> Word | ArrayAssign:
        word = self.word()
        text = word.literal()
        if text is not None and self._peek() == "(" and (m := ASSIGN.fullmatch(text)):
            self._next()
            return ArrayAssign(m.group(1), m.group(2) == "+=", tuple(self._array_elements(word.line)), word.line)
        if (len(word.segs) == 1 and isinstance(word.segs[0], Lit) and word.segs[0].text.isdigit()
                and self._peek() in ("<", ">")):
            self._redirect()  # 2>&1: the digits name a file descriptor
            return Word((), word.line)
        return word

    def _array_elements(self, line: int) -> list[Word]:
        elements: list[Word] = []
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
                elements.append(self.word())

    # words
    def word(self) -> Word:
        """One word from the current position (it stops at blanks and operators)."""
        segs: list[Seg] = []
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
                    segs.append(Lit(self._next(), (at,), True))
            elif c == "'":
                segs.append(self._single())
            elif c == '"':
                self.double_quoted(segs)
            elif c == "$":
                segs.append(self._dollar(quoted=False))
            elif c == "`":
                segs.append(self._backtick())
            else:
                at = self.line
                segs.append(Lit(self._next(), (at,), False))
        return Word(tuple(merge(segs)), line)

    def _single(self) -> Lit:
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
        return Lit("".join(chars), tuple(lines), True)

    def double_quoted(self, segs: list[Seg]) -> None:
        """A double-quoted string from the current '"', appended to ``segs``."""
        start = self.line
        self._next()
        segs.append(Lit("", (), True))  # "" is a word even when empty
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
                segs.append(Lit(self._next(), (at,), True))
            elif c == "$":
                segs.append(self._dollar(quoted=True))
            elif c == "`":
                segs.append(self._backtick())
            else:
                at = self.line
                segs.append(Lit(self._next(), (at,), True))
        self._next()

    def _dollar(self, *, quoted: bool) -> Seg:
        line = self.line
        self._next()
        c = self._peek()
        if c == "(":
            arithmetic = self._peek(1) == "("
            text = self._balanced("(", ")")
            kind = "arithmetic expansion" if arithmetic else "command substitution"
            return Sub(kind, f"${text}", line)
        if c == "{":
            return Param(self._balanced("{", "}")[1:-1], line, quoted, True)
        if c == "'":
            lit = self._single()
            return Lit(lit.text, lit.lines, True)
        m = NAME.match(self.s, self.i)
        if m:
            for _ in m.group(0):
                self._next()
            return Param(m.group(0), line, quoted, False)
        if c and (c.isdigit() or c in "@*#?$!-"):
            return Param(self._next(), line, quoted, False)
        return Lit("$", (line,), quoted)

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

    def _backtick(self) -> Sub:
        start = self.line
        self._next()
        out = []
        while self._peek() != "`":
            if not self._peek():
                raise self._error("unterminated backtick", start)
            out.append(self._next())
        self._next()
        return Sub("command substitution", "`" + "".join(out) + "`", start)


def merge(segs: list[Seg]) -> list[Seg]:
    """Adjacent literal characters of the same quoting as one literal."""
    out: list[Seg] = []
    for seg in segs:
        last = out[-1] if out else None
        if isinstance(seg, Lit) and isinstance(last, Lit) and last.quoted == seg.quoted:
            out[-1] = Lit(last.text + seg.text, last.lines + seg.lines, seg.quoted)
        else:
            out.append(seg)
    return out
