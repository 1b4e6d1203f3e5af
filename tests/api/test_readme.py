"""The README's checkout walk-through is the one docs/coupons.md proves true (test_walkthrough)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
START, END = "<!-- walkthrough:start", "<!-- walkthrough:end -->"


def _walkthrough(text: str) -> str:
    body = text[text.index(START) : text.index(END)]
    return body.replace("\n#### ", "\n### ")


def test_readme_walkthrough_matches_the_tested_one():
    readme = (ROOT / "README.md").read_text()
    doc = (ROOT / "docs" / "coupons.md").read_text()
    assert _walkthrough(readme) == _walkthrough(doc), "copy the walk-through of docs/coupons.md into README.md"
