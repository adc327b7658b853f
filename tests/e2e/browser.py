"""A real browser for customer pages: Debian's Chromium driven by Playwright, at a phone's size.

Customer pages (`/l/{token}`) are opened on phones, so tests see them as a phone does:

    def test_a_page(local_stack, page, screenshots):
        page.goto(link_url)                         # a URL of the local stack
        page.get_by_role("button", name="Сохранить").click()
        page.screenshot(path=screenshots / "saved.png", full_page=True)

`page` is a fresh tab in a fresh context (no cookies, no storage) at 390×844 CSS px with touch
and a mobile viewport; `phone` is its context (open more tabs with `phone.new_page()`);
`screenshots` is a per-test folder (under pytest's tmp_path). A failing test keeps a full-page
screenshot of where its page stopped in that folder, named in the test's captured teardown output.

Playwright cannot download its own browsers here, so it launches `/usr/bin/chromium` (Debian's
package; `make browser` installs it) — one process per test session, with a fresh temporary
user-data dir that Playwright creates and removes.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

CHROMIUM = Path(os.environ.get("TRIGLY_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # root in CI containers
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "screen": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "ru-RU",
    "timezone_id": "Europe/Moscow",
    "user_agent": (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/130.0.0.0 Mobile Safari/537.36"
    ),
}
TIMEOUT_MS = 15_000


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def chromium(playwright_driver: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: browser tests need Debian's chromium package "
            "(`make browser` installs it, or apt-get install chromium)",
            pytrace=False,
        )
    browser = playwright_driver.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS, timeout=60_000
    )
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture
def phone(chromium: Browser) -> Iterator[BrowserContext]:
    """A fresh browser context the size of a phone (Russian locale, Moscow time)."""
    context = chromium.new_context(**PHONE)  # type: ignore[arg-type]
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    folder = tmp_path / "screenshots"
    folder.mkdir()
    return folder


@pytest.fixture
def page(
    phone: BrowserContext, screenshots: Path, request: pytest.FixtureRequest
) -> Iterator[Page]:
    """A fresh tab; if the test fails, a full-page screenshot of where it stopped is kept."""
    failed_before = request.session.testsfailed
    tab = phone.new_page()
    yield tab
    if request.session.testsfailed > failed_before:  # the call phase is reported by teardown
        path = screenshots / f"failed-{request.node.name}.png"
        with contextlib.suppress(Exception):  # the test's own failure matters more
            tab.screenshot(path=str(path), full_page=True)
            print(f"browser: {tab.url} — screenshot {path}")
