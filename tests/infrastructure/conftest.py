"""Fixtures for the template suite: the SAM template as written and as CloudFormation sees it."""

from typing import Any

import pytest

from infra import template as sam


@pytest.fixture(scope="session")
def sam_template() -> dict[str, Any]:
    return sam.load()


@pytest.fixture(scope="session")
def cfn_template() -> dict[str, Any]:
    """template.yaml after the AWS::Serverless transform, with default parameters."""
    return sam.translated()
