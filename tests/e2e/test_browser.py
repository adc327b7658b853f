"""The browser fixture itself: Debian's Chromium at a phone's size, against the local stack."""

from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.e2e.conftest import LocalStack

pytestmark = pytest.mark.e2e

MOBILE_PAGE = '<meta name="viewport" content="width=device-width, initial-scale=1"><p>Привет'


def test_the_page_is_a_phone_that_reaches_the_stack(
    local_stack: LocalStack, page: Page, screenshots: Path
) -> None:
    # A page made for phones is laid out 390 CSS px wide, with touch
    page.set_content(MOBILE_PAGE)
    assert page.evaluate("() => [window.innerWidth, navigator.maxTouchPoints > 0]") == [390, True]
    page.screenshot(path=str(screenshots / "phone.png"))
    assert (screenshots / "phone.png").stat().st_size > 0
    # and the local stack answers the browser (a forged link is a 404)
    response = page.goto(local_stack.url("/l/not-a-token"))
    assert response is not None and response.status == 404
