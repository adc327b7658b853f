"""template.yaml passes cfn-lint (its SAM transform, resource specs and best-practice rules)."""

from pathlib import Path

import pytest
from cfnlint.api import lint_file  # type: ignore[import-untyped]

from infra.template import TEMPLATE_PATH


@pytest.fixture(scope="module")
def findings() -> list[str]:
    # When cfn-lint checks the template with every rule it ships (errors and warnings)
    return [f"{m.rule.id} line {m.linenumber}: {m.message}" for m in lint_file(Path(TEMPLATE_PATH))]


def test_cfn_lint_reports_no_errors(findings: list[str]) -> None:
    # Then nothing is an error (E…): the template would deploy as written
    errors = [f for f in findings if f.startswith("E")]
    assert errors == []


def test_cfn_lint_reports_no_warnings(findings: list[str]) -> None:
    # Then nothing is a warning (W…) either: warnings are usually latent bugs
    warnings = [f for f in findings if f.startswith("W")]
    assert warnings == []
