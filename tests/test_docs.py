"""The documentation that is generated from data must match the data."""

from __future__ import annotations

from pathlib import Path

from jamsostek_channels.rules.report import render

ROOT = Path(__file__).resolve().parent.parent


def test_rules_doc_matches_the_tables() -> None:
    written = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert written == render(), (
        "docs/rules.md is stale: run `python -m jamsostek_channels.rules.report > docs/rules.md`"
    )


def test_every_rule_row_is_cited() -> None:
    doc = render()
    for token in ("PP 44/2015", "PP 49/2020", "PP 50/2025", "ojek-online", "pemberi-kerja"):
        assert token in doc


def test_readme_shows_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make demo" in readme
    assert "make test" in readme


def test_readme_example_runs_and_prints_what_it_says(capsys: object) -> None:
    import re

    import pytest

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## Ten lines\n\n```python\n(.*?)```", readme, re.S)
    assert block is not None
    code = block.group(1)
    assert len(code.strip().splitlines()) <= 12
    expected = [line[2:] for line in code.splitlines() if line.startswith("# ")]
    exec(compile(code, "README.md", "exec"), {})
    assert isinstance(capsys, pytest.CaptureFixture)
    assert capsys.readouterr().out.strip() == "\n".join(expected)
