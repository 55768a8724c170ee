"""docs/results.md names every notice code and every key of a JSON check (the contract is documented)."""

from __future__ import annotations

from flopaudit.audit import audit_file
from flopaudit.notices import CODES
from tests.conftest import ROOT

RESULTS = (ROOT / "docs" / "results.md").read_text(encoding="utf-8")


def test_every_notice_code_has_a_row() -> None:
    missing = [code for code in CODES if f"| `{code}` |" not in RESULTS]
    assert not missing, f"notice codes missing from docs/results.md: {missing}"


def test_every_check_key_is_named() -> None:
    result = audit_file(ROOT / "tests" / "golden" / "configs" / "waived.yaml", policies=["eu-ai-act-systemic-risk"])
    [check] = result.to_dict()["checks"]
    missing = [key for key in check if f"`{key}`" not in RESULTS]
    assert not missing, f"check keys missing from docs/results.md: {missing}"
    waiver = check["waiver"]
    assert waiver is not None
    missing = [key for key in waiver if f"`{key}`" not in RESULTS]
    assert not missing, f"waiver keys missing from docs/results.md: {missing}"
