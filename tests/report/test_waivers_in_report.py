"""The HTML report shows waivers, expired waivers and severity (issue 10, items 1 and 7)."""

from __future__ import annotations

from flopaudit.audit import audit_file
from flopaudit.render.html import render_html
from tests.conftest import ROOT

CONFIGS = ROOT / "tests" / "golden" / "configs"
POLICIES = ["eu-ai-act-systemic-risk", "eu-gpai-indicative", "us-ca-sb53"]


def page(name: str) -> str:
    return render_html([audit_file(CONFIGS / f"{name}.yaml", policies=POLICIES)])


def test_waived_check_is_shown_as_waived_with_its_reason_and_expiry() -> None:
    html = page("waived")
    # 6 x 100e9 x 30e12 = 1.8e25 > 1e25: above, but waived until 2027-06-30, so the headline is not "Above".
    assert "waived, does not gate · waived until 2027-06-30: Notified the AI Office; presumption accepted " \
           "(AIO-2026-0142) · severity error" in html
    assert "▼ Nothing that gates is crossed (waived: EU AI Act 1e25; severity warning: EU GPAI 1e23)" in html
    assert "<code>waiver</code>" in html and "<code>waiver-unmatched</code>" in html  # the notices banner


def test_expired_waiver_gates_and_says_when() -> None:
    html = page("expired-waiver")
    assert "gates the CI check · waiver expired on 2026-06-30, it no longer waives" in html
    assert "<code>waiver-expired</code>" in html and "▲ Above (binding): EU AI Act 1e25" in html


def test_severity_warning_is_shown() -> None:
    html = page("crossing")
    assert "severity warning: shown, never fails the CI check" in html
