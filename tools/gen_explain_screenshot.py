"""Write docs/explain-page.png: the explain page of the lecture's z in headless Chromium, mid reverse sweep
(``--forward``: docs/explain-page-forward.png, mid forward mode's second sweep).

Uses the same browser set-up as the tests (tests/browser.py: Debian's chromium through Playwright).
Run it again after changing the page:  .venv/bin/python tools/gen_explain_screenshot.py
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import ember

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
import browser  # noqa: E402

Z = "3*x**5 + 2*u**2*k*x + l*x + l"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--forward", action="store_true", help="the forward-mode page")
    parser.add_argument("--out", type=Path, help="default: docs/explain-page[-forward].png")
    parser.add_argument("--step", type=int, help="how many times to press Next first "
                        "(default: 15 in reverse mode, 18 in forward mode)")
    args = parser.parse_args(argv)
    mode = "forward" if args.forward else "reverse"
    out = args.out or ROOT / "docs" / ("explain-page-forward.png" if args.forward else "explain-page.png")
    step = args.step if args.step is not None else (18 if args.forward else 15)
    reason = browser.missing()
    if reason:
        parser.exit(1, f"gen_explain_screenshot: {reason}\n")
    with tempfile.TemporaryDirectory() as folder:
        page_path = Path(folder) / "z.html"
        ember.explain(Z, mode=mode, x=2, u=4, k=3, l=1).to_html(page_path)
        with browser.browser_page(width=1300, height=900) as page:
            page.goto(page_path.as_uri())
            for _ in range(step):
                page.click("#next")
            page.screenshot(path=str(out), full_page=True)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
