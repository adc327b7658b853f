"""The Lambda artifact carries the runtime dependencies only, and stays far below Lambda's limit."""

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEV_ONLY = {
    "moto",
    "cfn-lint",
    "aws-sam-translator",
    "pytest",
    "hypothesis",
    "faker",
    "mypy",
    "ruff",
    "respx",
}
RUNTIME = {
    "aws-lambda-powertools",
    "pydantic",
    "pynamodb",
    "httpx",
    "standardwebhooks",
    "phonenumbers",
}


def test_the_artifact_requirements_are_the_runtime_dependencies_only() -> None:
    # Given the requirements `sam build` installs into every function (Makefile build-artifact)
    listed = subprocess.run(
        ["make", "-s", "--no-print-directory", "artifact-requirements"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    names = {
        re.split(r"[=<>\[ ;]", line, maxsplit=1)[0].lower()
        for line in listed.splitlines()
        if line and not line.startswith(("#", " "))
    }
    # Then no development tool rides along, and every runtime dependency does
    assert not names & DEV_ONLY
    assert names >= RUNTIME
