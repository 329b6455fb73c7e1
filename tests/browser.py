"""A headless Chromium for tests: Debian's ``chromium`` package driven by Playwright's Python package.

Playwright's own browser download cannot be reached here, so it launches the system browser
through ``executable_path``; ``.ci/run`` installs it with apt. Where either is missing the
tests that need a browser skip, saying which and how to get it.
"""
from __future__ import annotations

import contextlib
import os
import shutil

# No sandbox (CI runs as root), no GPU, and nothing that would reach the network on its own.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def chromium_path() -> str | None:
    """The system Chromium (``EMBER_CHROMIUM`` overrides), or None."""
    for candidate in (os.environ.get("EMBER_CHROMIUM"), "chromium", "chromium-browser"):
        if candidate and shutil.which(candidate):
            return shutil.which(candidate)
    return None


def missing() -> str | None:
    """Why no browser test can run here, or None when one can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "needs Playwright's Python package: pip install playwright (in the dev extra)"
    if chromium_path() is None:
        return "needs Chromium: apt-get install chromium (Debian's package; .ci/run installs it)"
    return None


@contextlib.contextmanager
def browser_page(width: int = 1400, height: int = 1000):
    """A page of a freshly launched headless Chromium, recording every request and every script error."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.requests = []
            page.errors = []
            page.on("request", lambda r: page.requests.append(r.url))
            page.on("pageerror", lambda e: page.errors.append(str(e)))
            yield page
        finally:
            browser.close()
