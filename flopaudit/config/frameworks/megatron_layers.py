"""Megatron-LM's ``--moe-layer-freq``: an int, or a Python-like list expression, parsed without eval.

Megatron reads ``--moe-layer-freq 1`` (every layer MoE), ``--moe-layer-freq 2`` (layers 0, 2, 4, ...)
or a list expression such as ``"([0]*3+[1]*58)"`` / ``"[1,0,1,0]"`` (``moe_freq_type`` in
megatron/training/arguments.py). This module accepts exactly that tiny grammar::

    expr := term ('+' term)*      term := atom ('*' INT)?      atom := '[' INT (',' INT)* ']' | '(' expr ')'
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"\s*(\d+|[\[\](),+*])")


def moe_layer_pattern(text: str, num_layers: int) -> list[int]:
    """The per-layer MoE pattern (1 = MoE) of ``--moe-layer-freq``; ValueError for anything else."""
    text = text.strip()
    if text.isdigit():
        k = int(text)
        if k < 1:
            raise ValueError("--moe-layer-freq must be at least 1")
        return [1 if i % k == 0 else 0 for i in range(num_layers)]
    tokens = _tokens(text)
    pattern, pos = _expr(tokens, 0)
    if pos != len(tokens):
        raise ValueError(f"unexpected '{tokens[pos]}' in --moe-layer-freq {text!r}")
    if any(v not in (0, 1) for v in pattern):
        raise ValueError("--moe-layer-freq lists hold 0 (dense) and 1 (MoE) only")
    if len(pattern) != num_layers:
        raise ValueError(f"--moe-layer-freq gives {len(pattern)} layers, --num-layers is {num_layers}")
    return pattern


def _tokens(text: str) -> list[str]:
    out, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            if text[pos:].strip():
                raise ValueError(f"--moe-layer-freq {text!r} is not an int or a list expression of 0/1")
            break
        out.append(m.group(1))
        pos = m.end()
    return out


def _expr(tokens: list[str], pos: int) -> tuple[list[int], int]:
    value, pos = _term(tokens, pos)
    while pos < len(tokens) and tokens[pos] == "+":
        more, pos = _term(tokens, pos + 1)
        value = value + more
    return value, pos


def _term(tokens: list[str], pos: int) -> tuple[list[int], int]:
    value, pos = _atom(tokens, pos)
    while pos < len(tokens) and tokens[pos] == "*":
        if pos + 1 >= len(tokens) or not tokens[pos + 1].isdigit():
            raise ValueError("'*' in --moe-layer-freq needs a count")
        count = int(tokens[pos + 1])
        if count > 100_000:
            raise ValueError("--moe-layer-freq repeats more layers than any model has")
        value, pos = value * count, pos + 2
    return value, pos


def _atom(tokens: list[str], pos: int) -> tuple[list[int], int]:
    if pos >= len(tokens):
        raise ValueError("--moe-layer-freq ends early")
    if tokens[pos] == "(":
        value, pos = _expr(tokens, pos + 1)
        if pos >= len(tokens) or tokens[pos] != ")":
            raise ValueError("--moe-layer-freq: '(' is not closed")
        return value, pos + 1
    if tokens[pos] == "[":
        items: list[int] = []
        pos += 1
        while True:
            if pos >= len(tokens) or not tokens[pos].isdigit():
                raise ValueError("--moe-layer-freq: a list holds integers")
            items.append(int(tokens[pos]))
            pos += 1
            if pos < len(tokens) and tokens[pos] == ",":
                pos += 1
                continue
            if pos < len(tokens) and tokens[pos] == "]":
                return items, pos + 1
            raise ValueError("--moe-layer-freq: '[' is not closed")
    raise ValueError(f"unexpected '{tokens[pos]}' in --moe-layer-freq")
