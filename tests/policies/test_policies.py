"""Every built-in policy: schema-valid, cited, and right on its pass / fail / boundary fixtures (checkov style).

Each folder ``tests/policies/<id>/`` holds fixture configs and ``expected.yaml`` mapping each fixture
(file name without .yaml) to the verdict the policy must give. Fixtures run through the real loader
and engine; ``errors == 0`` is implied because any error raises.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from flopaudit.audit import audit
from flopaudit.config.loader import load_config
from flopaudit.errors import PolicyError
from flopaudit.policy.loader import builtin_policies, load_policy_file, resolve_policy
from flopaudit.policy.status import status_on

HERE = Path(__file__).parent
SPEC_IDS = ["eu-ai-act-systemic-risk", "eu-gpai-indicative", "eu-downstream-modifier", "us-eo-14110",
            "us-eo-14110-bio", "us-eo-14110-cluster", "us-ca-sb53", "us-ca-sb1047", "us-ny-raise",
            "kr-ai-basic-act"]


def _cases() -> list[tuple[str, str, str]]:
    out = []
    for folder in sorted(p for p in HERE.iterdir() if p.is_dir() and (p / "expected.yaml").exists()):
        expected = yaml.safe_load((folder / "expected.yaml").read_text())
        for name, verdict in expected.items():
            out.append((folder.name, name, verdict))
    return out


def test_builtin_ids_are_exactly_the_spec_ids() -> None:
    assert sorted(builtin_policies()) == sorted(SPEC_IDS)


def test_every_policy_has_pass_fail_boundary_fixtures() -> None:
    for pid in SPEC_IDS:
        expected = yaml.safe_load((HERE / pid / "expected.yaml").read_text())
        assert {"pass", "fail", "boundary"} <= set(expected), pid
        for name in expected:
            assert (HERE / pid / f"{name}.yaml").is_file(), (pid, name)


@pytest.mark.parametrize(("policy_id", "fixture", "verdict"), _cases(),
                         ids=[f"{p}/{f}" for p, f, _ in _cases()])
def test_fixture_verdict(policy_id: str, fixture: str, verdict: str) -> None:
    loaded = load_config(HERE / policy_id / f"{fixture}.yaml")
    result = audit(loaded, policies=[policy_id])
    (check,) = result.checks
    assert check.verdict == verdict, check.reasons


@pytest.mark.parametrize(("policy_id", "status"), [
    ("eu-ai-act-systemic-risk", "in-force"), ("eu-gpai-indicative", "in-force"),
    ("eu-downstream-modifier", "in-force"), ("us-eo-14110", "revoked"), ("us-eo-14110-bio", "revoked"),
    ("us-eo-14110-cluster", "revoked"), ("us-ca-sb53", "in-force"), ("us-ca-sb1047", "vetoed"),
    ("us-ny-raise", "not-yet-effective"), ("kr-ai-basic-act", "in-force"),
])
def test_status_on_2026_11_27_matches_spec(policy_id: str, status: str) -> None:
    assert status_on(builtin_policies()[policy_id], dt.date(2026, 11, 27)) == status


def test_status_follows_dates() -> None:
    eo, eu, ny = (builtin_policies()[i] for i in ("us-eo-14110", "eu-ai-act-systemic-risk", "us-ny-raise"))
    assert status_on(eo, dt.date(2023, 10, 29)) == "not-yet-effective"
    assert status_on(eo, dt.date(2024, 6, 1)) == "in-force"
    assert status_on(eo, dt.date(2025, 1, 20)) == "revoked"   # revoked on the day EO 14148 was signed
    assert status_on(eu, dt.date(2025, 8, 1)) == "not-yet-effective"
    assert status_on(eu, dt.date(2025, 8, 2)) == "in-force"
    assert status_on(ny, dt.date(2027, 1, 1)) == "in-force"
    kr = builtin_policies()["kr-ai-basic-act"]
    assert status_on(kr, dt.date(2026, 1, 21)) == "not-yet-effective"
    assert status_on(kr, dt.date(2026, 1, 22)) == "in-force"   # in force on the day; fines deferred


def test_every_policy_cites_a_primary_source_and_marks_unverified_facts() -> None:
    for policy in builtin_policies().values():
        assert any(c.primary and c.url.startswith("http") for c in policy.citations), policy.id
        assert all(r.citation for r in policy.rules), policy.id
        assert policy.obligations or policy.lifecycle.end_reason == "vetoed", policy.id


def test_gt_and_gte_at_exactly_the_threshold(tmp_path: Path) -> None:
    # A declared 1.0e25 is exactly the EU threshold: "greater than" (gt) -> below;
    # exactly 3.0e25 of fine-tuning is SB 1047's "equal to or greater than" (gte) -> above (with cost > $10M).
    cfg = tmp_path / "edge.yaml"
    cfg.write_text("""
model: {name: edge, parameters: 1B}
base_model: {name: base, training_flop: 2e26}
organization: {compute_cost_usd: $20M}
training:
  - {name: ft, kind: fine-tuning, flop: 3.0e+25}
as_of: 2026-11-27
""")
    result = audit(load_config(cfg), policies=["us-ca-sb1047"])
    assert result.checks[0].verdict == "above"
    assert result.checks[0].deciding.rule.id == "fine-tuned-covered-model"
    cfg.write_text(cfg.read_text().replace("3.0e+25", "1.0e+25"))
    result = audit(load_config(cfg), policies=["eu-ai-act-systemic-risk"])
    assert result.checks[0].verdict == "below"


def test_organisation_policy_file(tmp_path: Path) -> None:
    text = (Path(builtin_policies.__module__.replace(".", "/")).parent.parent.parent
            / "policies" / "eu-ai-act-systemic-risk.yaml")
    own = tmp_path / "acme-internal.yaml"
    own.write_text(text.read_text().replace("id: eu-ai-act-systemic-risk", "id: acme-internal")
                   .replace("1.0e+25", "1.0e+24"))
    policy = resolve_policy(str(own))
    assert policy.id == "acme-internal"
    assert policy.rules[0].threshold == 1e24


def test_bad_policy_file_points_at_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("schema_version: 1\nid: x\nversion: '1'\nname: x\nshort_name: x\nthreshold: 5\n")
    with pytest.raises(PolicyError) as err:
        load_policy_file(bad)
    assert str(err.value).startswith(f"{bad}:")
    with pytest.raises(PolicyError, match="did you mean 'us-ca-sb53'"):
        resolve_policy("us-ca-sb35")
