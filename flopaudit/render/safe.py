"""Make user-supplied text inert in each output format.

Names, stage names, file paths and every text of a custom policy file reach the outputs. Each
format has its own active syntax (rich markup, Markdown and raw HTML, XML, links), so every
renderer passes such text through the function here for its format, and makes a link only of a
URL that :func:`is_web_url` accepts. YAML's double-quoted escapes (``"\\e"``, ``"\\x01"``) can
put control characters in any string; they are replaced by U+FFFD everywhere, so a name can
neither drive the terminal nor make the XML unreadable.

Plain-text outputs have one more hazard: a GitHub Actions runner reads any log line that starts
with ``::`` (after leading whitespace) as a workflow command, so a name holding a line break and
``::error::`` would forge an annotation. :func:`plain` puts a zero-width space between two colons,
which reads the same and can never start a command.
"""

from __future__ import annotations

import html
import re
from urllib.parse import quote, urlsplit

#: C0 controls (less tab and newline), DEL, C1 controls, and what XML 1.0 cannot hold at all.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
#: Link and image brackets, table pipes, code spans, and the backslash that would escape our own pipe.
#: Emphasis (``*``, ``_``) is left alone: it changes no meaning, and ``aten._fft_c2c`` stays readable.
_MARKDOWN_SPECIAL = re.compile(r"([\\`\[\]|])")
_BACKTICKS = re.compile("`+")
_COLON_COLON = re.compile(":(?=:)")
#: Characters kept as they are in a URL written into Markdown; the rest are percent-encoded.
_URL_SAFE = "/:?#[]@!$&'*+,;=%~-._"


def printable(text: str) -> str:
    """``text`` with control characters replaced by U+FFFD (tab and newline kept)."""
    return _CONTROL.sub("\ufffd", text)


def plain(text: str) -> str:
    """``text`` for plain-text output (terminal, logs, XML): printable, and no ``::`` in it."""
    return _COLON_COLON.sub(":\u200b", printable(text))


def is_web_url(url: object) -> bool:
    """Whether ``url`` is an absolute http(s) URL with a host and no whitespace or control character."""
    if not isinstance(url, str) or not url or any(ch <= " " or ch == "\x7f" for ch in url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def one_line(text: str) -> str:
    """``text`` printable and on one line (line breaks become spaces)."""
    return printable(_newlines(text)).replace("\n", " ")


def markdown(text: str) -> str:
    """Markdown (GitHub-flavoured) that shows ``text`` literally, on one line.

    HTML is escaped, the characters of links, images, code spans and table cells are
    backslash-escaped, and line breaks become ``<br>`` so a name cannot start a new block.
    """
    text = printable(_newlines(text))
    text = html.escape(_MARKDOWN_SPECIAL.sub(r"\\\1", text), quote=False)
    return text.replace("\n", "<br>")


def markdown_code(text: str) -> str:
    """``text`` as a Markdown code span, outside tables: a fence longer than any run of backticks in it."""
    text = one_line(text)
    fence = "`" * (max((len(m) for m in _BACKTICKS.findall(text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def markdown_link(label: str, url: str) -> str:
    """``[label](url)`` when ``url`` is http(s), else the label alone as plain text."""
    if not is_web_url(url):
        return markdown(label)
    return f"[{markdown(label)}]({quote(url, safe=_URL_SAFE)})"


def uri_reference(path: str) -> str:
    """A file path as a relative URI reference (SARIF's ``artifactLocation.uri``): spaces and the like escaped."""
    return quote(printable(path), safe=_URL_SAFE.replace("?", "").replace("#", ""))
