"""The README's op coverage table is generated from the op samples and must be up to date."""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import gen_coverage  # noqa: E402


def test_readme_coverage_table_is_regenerated_text() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert gen_coverage.START in readme, "README.md lacks the coverage markers"
    assert gen_coverage.readme_text(readme) == readme, "run tools/gen_coverage.py"


def test_docs_coverage_page_is_regenerated_text() -> None:
    assert (ROOT / "docs" / "coverage.md").read_text(encoding="utf-8") == gen_coverage.page_text()


def test_every_sample_entry_has_a_row() -> None:
    table = gen_coverage.table()
    for name in gen_coverage.SAMPLES:
        assert f"| `{name}` |" in table
