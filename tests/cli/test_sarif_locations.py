"""Issue 10 item 4: SARIF that GitHub code scanning accepts (URIs, rules, the 2.1.0 schema)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml

from tests.conftest import ROOT, run_cli

SCHEMA = json.loads((Path(__file__).resolve().parent.parent / "data" / "sarif-2.1.0-flopaudit.schema.json")
                    .read_text())
CONFIG = """\
model:
  name: Seventy
  parameters: 70B
as_of: 2026-11-27
training:
  - name: pretraining
    kind: pretraining
    tokens: 1T
"""


def _uri_reference(value: object) -> bool:
    """RFC 3986 URI reference: no character that must be escaped (space, quote, backslash, control)."""
    return not isinstance(value, str) or not any(ch in value for ch in ' "<>\\^`{|}') and value.isprintable()


def _uri(value: object) -> bool:
    """An absolute URI: a reference with a scheme."""
    return not isinstance(value, str) or (_uri_reference(value) and bool(urlsplit(value).scheme))


FORMATS = jsonschema.FormatChecker()
FORMATS.checks("uri")(_uri)
FORMATS.checks("uri-reference")(_uri_reference)
VALIDATOR = jsonschema.Draft7Validator(SCHEMA, format_checker=FORMATS)


def artifact_locations(log: dict[str, Any]) -> list[dict[str, str]]:
    """Every artifactLocation of the results."""
    return [loc["physicalLocation"]["artifactLocation"] for run in log["runs"] for res in run["results"]
            for loc in res["locations"]]


def sarif(*args: str) -> dict[str, Any]:
    proc = run_cli("check", *args, "--format", "sarif")
    assert proc.returncode in (0, 1), proc.stderr
    log = json.loads(proc.stdout)
    VALIDATOR.validate(log)
    return log


def write_repo(folder: Path) -> Path:
    (folder / ".git").mkdir(parents=True)
    cfg = folder / "training runs" / "seventy b.yaml"  # spaces: escaped in the URI
    cfg.parent.mkdir()
    cfg.write_text(CONFIG)
    return cfg


def test_uris_are_relative_to_srcroot_inside_the_repository(tmp_path: Path) -> None:
    cfg = write_repo(tmp_path / "repo")
    log = sarif(str(cfg))
    run = log["runs"][0]
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": (tmp_path / "repo").resolve().as_uri() + "/"}}
    # Every result (the policies and the as-of notice) points at the config, relative and escaped.
    assert {json.dumps(a, sort_keys=True) for a in artifact_locations(log)} == {
        json.dumps({"uri": "training%20runs/seventy%20b.yaml", "uriBaseId": "%SRCROOT%"}, sort_keys=True)}
    # The config's model.name is line 2, column 3 ("  name: Seventy").
    eu = next(r for r in run["results"] if r["ruleId"] == "eu-gpai-indicative")
    assert eu["locations"][0]["physicalLocation"]["region"] == {"startLine": 2, "startColumn": 3}
    # 6 x 70e9 x 1e12 = 4.2e23 FLOP > 1e23: the EU GPAI indicative criterion is crossed, but it is
    # guidance (severity warning): a warning-level result, and the gate's exit code is 0.
    assert eu["level"] == "warning"
    assert run["invocations"] == [{"executionSuccessful": True, "exitCode": 0}]


def test_a_file_outside_the_repository_gets_a_file_uri(tmp_path: Path) -> None:
    inside = write_repo(tmp_path / "repo")
    outside = tmp_path / "elsewhere" / "other.yaml"
    outside.parent.mkdir()
    outside.write_text(CONFIG.replace("Seventy", "Other"))
    log = sarif(str(inside), str(outside))
    uris = {a["uri"]: a.get("uriBaseId") for a in artifact_locations(log)}
    assert uris == {"training%20runs/seventy%20b.yaml": "%SRCROOT%", outside.resolve().as_uri(): None}


def test_no_repository_no_base_id_and_never_a_bare_absolute_path(tmp_path: Path) -> None:
    cfg = tmp_path / "alone.yaml"
    cfg.write_text(CONFIG)
    assert not any((p / ".git").exists() for p in (tmp_path, *tmp_path.parents))
    log = sarif(str(cfg))
    assert "originalUriBaseIds" not in log["runs"][0]
    assert {a["uri"] for a in artifact_locations(log)} == {cfg.resolve().as_uri()}


def test_a_relative_config_from_the_checkout_root(tmp_path: Path) -> None:
    # The way CI runs it: from the repository root, with a relative path.
    write_repo(tmp_path / "repo")
    proc = run_cli("check", "training runs/seventy b.yaml", "--format", "sarif", cwd=tmp_path / "repo")
    log = json.loads(proc.stdout)
    VALIDATOR.validate(log)
    assert {a["uri"] for a in artifact_locations(log)} == {"training%20runs/seventy%20b.yaml"}
    for a in artifact_locations(log):
        assert a["uri"].startswith("file://") or (a.get("uriBaseId") == "%SRCROOT%" and not a["uri"].startswith("/"))


def test_one_rule_per_policy_with_its_citation_as_help_uri() -> None:
    log = sarif(str(ROOT / "examples" / "llama-3.1-405b.yaml"))
    run = log["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    policy_ids = [r["ruleId"] for r in run["results"] if not r["ruleId"].startswith(("notice/", "stage-"))]
    assert sorted(set(policy_ids)) == sorted(policy_ids)  # one result per policy and config
    for pid in policy_ids:
        source = yaml.safe_load((ROOT / "policies" / f"{pid}.yaml").read_text())
        assert rules[pid]["helpUri"] == source["citations"][0]["url"], pid
    assert len(run["tool"]["driver"]["rules"]) == len(rules)  # no rule twice


@pytest.mark.parametrize(("path", "value"), [
    (("runs", 0, "results", 0, "kind"), "crossed"),
    (("runs", 0, "results", 0, "locations", 0, "physicalLocation", "artifactLocation", "uri"), "/abs/path.yaml"),
    (("runs", 0, "results", 0, "locations", 0, "physicalLocation", "artifactLocation", "uri"), "a b.yaml"),
    (("runs", 0, "originalUriBaseIds", "%SRCROOT%", "uri"), "/srv/checkout/"),
    (("runs", 0, "results", 0, "locations", 0, "physicalLocation", "region", "startLine"), 0),
])
def test_the_schema_rejects_what_code_scanning_rejects(tmp_path: Path, path: tuple[Any, ...], value: Any) -> None:
    # The validator is not vacuous: each of these edits of a valid log is refused.
    log = sarif(str(write_repo(tmp_path / "repo")))
    node = log
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    assert not VALIDATOR.is_valid(log)


EXAMPLE_CONFIGS = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "examples").rglob("*.yaml")
                         if p.parent.name != "ci")


@pytest.mark.parametrize("config", [*EXAMPLE_CONFIGS, "tests/cli/configs/hostile-names.yaml"])
def test_every_example_gives_schema_valid_sarif(config: str) -> None:
    # Every example is judged (0 or 1; a framework file under examples/frameworks is read directly).
    proc = run_cli("check", config, "--format", "sarif", "--allow-code")
    assert proc.returncode in (0, 1), proc.stderr
    log = json.loads(proc.stdout)
    VALIDATOR.validate(log)
    for a in artifact_locations(log):
        assert a["uri"].startswith("file://") or a["uriBaseId"] == "%SRCROOT%"
