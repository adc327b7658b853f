"""The Lambda artifact carries the runtime dependencies only, and stays far below Lambda's limit."""

import os
import re
import subprocess
import sys
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
    "holidays",  # the production calendar ships as data generated from it
}
RUNTIME = {
    "aws-lambda-powertools",
    "pydantic",
    "pynamodb",
    "httpx",
    "standardwebhooks",
    "phonenumbers",
    "mjml",
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


def test_the_artifact_carries_the_customer_page_templates(tmp_path: Path) -> None:
    # Given the artifact's code as build-artifact copies it (the Makefile's own `cp` line)
    recipe = (ROOT / "Makefile").read_text(encoding="utf-8").split("\nbuild-artifact:", 1)[1]
    [copy] = [line.strip().lstrip("@") for line in recipe.splitlines() if "cp -r shared/" in line]
    subprocess.run(
        copy.replace("$(ARTIFACTS_DIR)", str(tmp_path)), shell=True, cwd=ROOT, check=True
    )
    # Then every template is in it, and the pages render from the artifact's package alone
    shipped = {p.name for p in (tmp_path / "trigly/web/templates").glob("*.html")}
    assert shipped == {p.name for p in (ROOT / "shared/trigly/web/templates").glob("*.html")}
    probe = (
        f"import trigly.web.pages as p; assert p.__file__.startswith({str(tmp_path)!r}); "
        "print(p.render_page('error.html', title='T', dealer=None, gone=True))"
    )
    rendered = subprocess.run(
        [sys.executable, "-c", probe],
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    assert '<html lang="ru">' in rendered and "истёк" in rendered
    # ...and the production calendar's data rides along (slots close on 7 January)
    probe = (
        "import datetime, sys, trigly.booking.calendar as c; sys.modules['holidays'] = None; "
        f"assert c.__file__.startswith({str(tmp_path)!r}); "
        "print(c.is_day_off(datetime.date(2027, 1, 7)))"
    )
    shown = subprocess.run(
        [sys.executable, "-c", probe],
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    assert shown.strip() == "True"
