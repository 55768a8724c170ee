"""Issue 7, done-when: every example config, mutated by hypothesis, never makes ``check`` crash or pass wrongly.

Properties, for thousands of mutated configs (types, magnitudes, unicode, structure):
- the exit code is 0, 1 or 2, with no traceback and no "internal error";
- exit 0 only when every gating check is below (or not applicable);
- the same input gives the same bytes twice.

The CLI runs in-process (``flopaudit.cli.app.main``) so that thousands of cases fit in CI; the
examples that name a real model (``hf_config``) have it removed, since counting a real model per
case would take minutes (the measured method has its own tests).
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flopaudit.cli.app import main
from tests.conftest import EXAMPLES

FORMULA_EXAMPLES = []
for _path in sorted(EXAMPLES.glob("*.yaml")):
    _data = yaml.safe_load(_path.read_text())
    _data["model"].pop("hf_config", None)
    _data["model"].pop("factory", None)
    FORMULA_EXAMPLES.append((_path.name, _data))

#: Cases per run (about 30 s on the 2-core CI machine); FLOPAUDIT_HYPOTHESIS_EXAMPLES=20000 for a long hunt.
EXAMPLES_PER_RUN = int(os.environ.get("FLOPAUDIT_HYPOTHESIS_EXAMPLES", "1500"))

NUMBERS = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 1, -1, 1e-300, 1e308, 1e160, 1e-9, 2**63, 10**19, 0.5, 1.0000001]),
    st.builds(lambda m, e, s: f"{m}{'e' + str(e) if e else ''}{s}", st.integers(-5, 10**6),
              st.integers(-400, 400), st.sampled_from(["", "K", "M", "B", "T", "P", "E", "Q", " ", "..2"])),
)
TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["[/]", "[bold red]x", "<script>alert(1)</script>", "[x](javascript:alert(1))",
                     "::error::pwned", "\u202eevil", "%0A::warning::x", "a\x00b", "\x1b[31mred", "1e25..1e24",
                     "unknown", "eu-ai-act-systemic-risk", "pretraining", "evaluation", "H100", "2020-01-01"]),
)
SCALARS = st.one_of(NUMBERS, TEXT, st.booleans(), st.none(), st.dates().map(str))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(TEXT, inner, max_size=3)), max_leaves=6)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _paths(value, (*prefix, i))
    return out


NAME_KEYS = {"name", "developer", "sources"}
#: Mutations, the ones that keep a config valid (names, magnitudes) more often than those that break it.
ACTIONS = ["names", "names", "scale", "scale", "scale", "number", "replace", "delete", "add", "duplicate"]


@st.composite
def mutated_configs(draw: st.DrawFn) -> tuple[str, Any]:
    """An example config with one to three random mutations."""
    name, data = draw(st.sampled_from(FORMULA_EXAMPLES))
    data = copy.deepcopy(data)
    for _ in range(draw(st.integers(1, 3))):
        action = draw(st.sampled_from(ACTIONS))
        if action in ("names", "scale"):
            data = _map_leaves(data, draw, action)
            continue
        paths = _paths(data)
        if action == "number":
            paths = [p for p in paths if p and isinstance(_get(data, p), (int, float))] or paths
        path = draw(st.sampled_from(paths))
        if not path:
            if action == "replace":
                data = draw(VALUES)
            continue
        parent = _get(data, path[:-1])
        key = path[-1]
        if action == "replace":
            parent[key] = draw(VALUES)
        elif action == "number":
            parent[key] = draw(NUMBERS)
        elif action == "delete":
            del parent[key]
        elif action == "add" and isinstance(parent[key], dict):
            parent[key][draw(TEXT)] = draw(VALUES)
        elif action == "duplicate" and isinstance(parent[key], list) and parent[key]:
            parent[key].append(copy.deepcopy(parent[key][0]))
        if not isinstance(data, (dict, list)):
            break
    return name, data


def _get(node: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        node = node[part]
    return node


def _map_leaves(node: Any, draw: st.DrawFn, action: str, key: Any = None) -> Any:
    """Hostile text for names ("names"), or numbers scaled by a power of ten ("scale"), at random leaves."""
    if isinstance(node, dict):
        return {k: _map_leaves(v, draw, action, k) for k, v in node.items()}
    if isinstance(node, list):
        return [_map_leaves(v, draw, action, key) for v in node]
    if action == "names" and key in NAME_KEYS and isinstance(node, str) and draw(st.booleans()):
        return draw(TEXT)
    if action == "scale" and isinstance(node, (int, float)) and not isinstance(node, bool) and draw(st.booleans()):
        return node * 10.0 ** draw(st.integers(-15, 15))
    return node


def run(argv: list[str]) -> tuple[int, str, str]:
    """Run the CLI in-process; (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    code: Any = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(argv)
        except SystemExit as exc:
            code = exc.code
    return (code if isinstance(code, int) else 0), out.getvalue(), err.getvalue()


def _check_one(path: Path) -> None:
    code, out, err = run(["check", str(path), "--format", "json"])
    assert code in (0, 1, 2), (code, err)
    assert "Traceback" not in err and "internal error" not in err, err
    assert run(["check", str(path), "--format", "json"]) == (code, out, err), "not deterministic"
    if code == 2:
        assert err.startswith("flopaudit: error: "), err
        return
    data = json.loads(out)
    gating = [c for c in data["checks"] if c["gates"]]
    if code == 0:
        assert all(c["verdict"] in ("below", "not-applicable") for c in gating), gating
    else:
        assert any(c["verdict"] in ("above", "indeterminate") for c in gating), gating
    for fmt in ("text", "markdown", "github", "sarif", "junit"):
        fcode, _, ferr = run(["check", str(path), "--format", fmt])
        assert fcode == code and "Traceback" not in ferr and "internal error" not in ferr, (fmt, ferr)


@settings(max_examples=EXAMPLES_PER_RUN, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
@given(case=mutated_configs())
def test_mutated_example_configs_never_crash_or_pass_wrongly(case: tuple[str, Any], tmp_path_factory: Any) -> None:
    name, data = case
    path = tmp_path_factory.mktemp("hostile") / name
    try:
        text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    except yaml.YAMLError:
        return
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    _check_one(path)
