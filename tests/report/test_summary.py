"""The report's one-page summary: binding rules first, the one-sentence answer, headroom, what-if thresholds."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from flopaudit.audit import audit_file
from flopaudit.render import common as c
from flopaudit.render import summary as sm
from flopaudit.render.html import config_view, margin_parts, render_html

CONFIGS = Path(__file__).resolve().parent / "configs"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def headroom_view():  # noqa: ANN201
    return config_view(0, audit_file(CONFIGS / "headroom.yaml"))


@pytest.fixture(scope="module")
def llama_view():  # noqa: ANN201
    return config_view(0, audit_file(EXAMPLES / "llama-3.1-405b.yaml"))


def test_binding_rules_come_first_then_guidance_then_not_in_force(llama_view) -> None:  # noqa: ANN001
    weights = [sm.legal_weight(cv.check) for cv in llama_view.checks]
    assert weights == sorted(weights) and weights[0] == 0 and 2 in weights
    first = llama_view.checks[0].check
    assert first.policy.id == "eu-ai-act-systemic-risk" and first.verdict == "above"
    # The EU GPAI criterion (severity warning) is crossed too, but comes after the binding rule.
    assert llama_view.headline == "▲ Above (binding): EU AI Act 1e25 · also crossed: guidance EU GPAI 1e23"


def test_the_one_sentence_answer_names_the_margin_and_the_deadline(llama_view) -> None:  # noqa: ANN001
    # Llama 3.1 405B: 4.10e25 counted / 1e25 = 4.1x; notify-commission has deadline_days: 14 and its
    # summary's first sentence is the duty.
    assert llama_view.answer == (
        "Above EU AI Act 1e25 (binding, > 1.00e25 FLOP) by 4.1x: notify the Commission without delay, and at "
        "the latest two weeks after the threshold is met or it becomes known that it will be met (within 14 days).")


def test_below_answer_names_the_nearest_binding_threshold(headroom_view) -> None:  # noqa: ANN001
    # 6e22 counted; binding thresholds 1e25 (EU), 1e26 (KR, CA): the nearest is 1e25, 1e25 / 6e22 = 166.7 -> 167x.
    assert headroom_view.answer.startswith("Below EU AI Act 1e25 (binding, > 1.00e25 FLOP) by 167x")


def test_headroom_in_tokens_and_days(headroom_view) -> None:  # noqa: ANN001
    rows = {h.policy: h for h in headroom_view.headroom}
    # FLOP per token: 6e22 / 1e12 = 6e10. Sustained rate: 64 x 989.4e12 x 0.4 = 2.53286e16 FLOP/s.
    # EU AI Act: 1e25 - 6e22 = 9.94e24 to go; 9.94e24 / 6e10 = 1.657e14 tokens = 166 trillion;
    #   9.94e24 / 2.53286e16 / 86400 = 4542.1 days.
    assert rows["EU AI Act 1e25"].text == ("9.94e24 FLOP to go: about 166 trillion more tokens, "
                                           "or 4,542 more days at the stated hardware")
    # EU GPAI (guidance): 1e23 - 6e22 = 4e22; 4e22 / 6e10 = 6.67e11 = 667 billion;
    #   4e22 / 2.53286e16 / 86400 = 18.3 days, 18 to two significant figures.
    assert rows["EU GPAI 1e23"].text == ("4.00e22 FLOP to go: about 667 billion more tokens, "
                                         "or 18 more days at the stated hardware")
    assert [h.weight for h in headroom_view.headroom][:1] == ["binding"]


def test_headroom_above_says_how_far(llama_view) -> None:  # noqa: ANN001
    # 4.10e25 / 1e25 = 4.1x; 4.10e25 - 1e25 = 3.10e25 over.
    eu = next(h for h in llama_view.headroom if h.policy == "EU AI Act 1e25")
    assert eu.text == "4.1x above (crossed by 3.10e25 FLOP)"


def test_what_if_thresholds_and_the_progress_adjusted_one(headroom_view) -> None:  # noqa: ANN001
    rows = headroom_view.what_if
    assert [r.threshold for r in rows[:4]] == [1e24, 1e25, 1e26, 1e27]
    assert all(r.verdict == "below" for r in rows)
    # 1e24 / 6e22 = 16.7 -> 17x under; 1e27 / 6e22 = 16,667x under.
    assert rows[0].margin == "17x under" and rows[3].margin == "16,667x under"
    # EU AI Act enacted 2024-06-13, run dated 2026-06-13 (as_of): 730 days / 365.25 = 1.9986 years;
    # halving every 8 months: multiplier 2^(12 x 1.9986 / 8) = 2^2.9979 = 7.988; 1e25 / 7.988 = 1.252e24.
    adjusted = rows[4]
    assert adjusted.threshold == pytest.approx(1e25 / 2 ** (12 * (730 / 365.25) / 8), rel=1e-9)
    assert adjusted.label == "1.00e25 adjusted to 1.25e24 FLOP"
    assert "2.0 years of algorithmic progress, ÷7.99" in adjusted.note
    # 1.252e24 / 6e22 = 20.9 -> 21x under.
    assert adjusted.margin == "21x under"
    assert headroom_view.what_if_basis == "6.00e22 FLOP, counted as EU AI Act 1e25 counts it"


def test_verdict_at_uses_the_whole_band() -> None:
    from flopaudit.estimate.band import Band
    assert sm.verdict_at(1e25, Band(1.1e25, 1.2e25, 1.3e25)) == "above"
    assert sm.verdict_at(1e25, Band(8e24, 9e24, 1e25)) == "below"  # "greater than": equal is not above
    assert sm.verdict_at(1e25, Band(8e24, 1e25, 1.2e25)) == "indeterminate"


def test_biggest_uncertainty_is_the_assumption_that_moves_the_total_most(headroom_view) -> None:  # noqa: ANN001
    # The hardware cross-check: 2.53286e16 FLOP/s x 700 h x 3600 s = 6.383e22; 6.383e22 / 6e22 = 1.064 -> 1.06x.
    assert headroom_view.uncertainty == ("Estimation method (first available per stage) → hardware wherever a stage "
                                         "allows it: total 6.38e22 (1.06x the baseline); flips no verdict")


def test_doublings_never_read_plus_zero() -> None:
    # log2(1.01) = 0.01436: one decimal would print "+0.0", two significant figures print "+0.014".
    assert c.doublings(math.log2(1.01)) == "+0.014 doublings"
    assert c.doublings(math.log2(4.1)) == "+2.0 doublings"  # log2(4.1) = 2.036
    assert c.doublings(0.0) == "exactly at the threshold"


def test_margin_parts_in_the_report(llama_view) -> None:  # noqa: ANN001
    eu = llama_view.checks[0].check
    assert margin_parts(eu) == ("4.1x over", "+2.0 doublings")


def test_stage_matrix_shows_flops_per_second_for_a_cluster_rule() -> None:
    html = render_html([audit_file(EXAMPLES / "llama-3.1-405b.yaml")], ["x"])
    matrix = re.search(r'<table class="matrix">.*?</table>', html, re.S).group(0)
    row = re.search(r'<tr><th scope="row">US EO 14110 cluster.*?</tr>', matrix, re.S).group(0)
    assert "FLOP/s" in row and "cluster peak, not a FLOP count" in row and "4.10e25" not in row


def test_summary_section_comes_first_with_everything_it_promises() -> None:
    html = render_html([audit_file(EXAMPLES / "llama-3.1-405b.yaml")], ["x"])
    summary = re.search(r'<section id="summary".*?</section>', html, re.S).group(0)
    assert html.index('<section id="summary"') < html.index('<section id="verdicts"')
    for expected in ("by 4.1x: notify the Commission", "Total compute", "Method", "Biggest uncertainty",
                     "Obligations and deadlines", "within 14 days", "binding", "guidance"):
        assert expected in summary, expected
    assert re.search(r'<table class="[^"]*\bwhat-if\b', html) and "arXiv:2403.05812" in html


def test_biggest_uncertainty_gives_the_range_of_an_assumption_with_several_variants() -> None:
    # near-threshold: 8192 x 3600 s x 989.4e12 FLOP/s x 900 h = 2.918e22 x 900; at utilisation 0.30
    # 7.88e24, at 0.45 1.18e25, central 0.375 9.85e24: 7.88 / 9.85 = 0.8x and 11.8 / 9.85 = 1.2x.
    view = config_view(0, audit_file(EXAMPLES / "near-threshold.yaml"))
    assert view.uncertainty == ("Utilisation of stage 'pretraining' (0.3..0.45): total 7.88e24..1.18e25 over its 2 "
                                "variants (0.8x..1.2x the baseline); flips eu-ai-act-systemic-risk")


def test_the_chart_marks_each_config_once() -> None:
    # Issue 12 item 5: no second "in 2024-06 FLOP" marker beside "this report"; one dot per catalogue model.
    from flopaudit.context.reference import reference_models
    from flopaudit.render.html import chart

    views = [config_view(0, audit_file(EXAMPLES / "llama-3.1-405b.yaml"))]
    dots = chart(views).dots
    assert [d.label for d in dots if d.kind == "audited"] == ["Llama 3.1 405B (this report)"]
    assert sorted(d.key for d in dots if d.kind != "audited") == sorted(m.id for m in reference_models())
    assert not any("FLOP" in d.label for d in dots)
