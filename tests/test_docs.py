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


def _readme_python_blocks(after: str = "") -> list[str]:
    """The README's python blocks, those after the heading ``after`` when given."""
    import re

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    if after:
        readme = readme[readme.index(after) :]
    return re.findall(r"```python\n(.*?)```", readme, re.S)


def test_readme_reading_errors_prints_what_it_says(capsys: object) -> None:
    import pytest

    assert isinstance(capsys, pytest.CaptureFixture)
    (block,) = [b for b in _readme_python_blocks() if "err.problems" in b]
    exec(compile(block, "README.md", "exec"), {})
    expected = [line[2:] for line in block.splitlines() if line.startswith("# ")]
    assert capsys.readouterr().out.strip() == "\n".join(expected)


def test_readme_paying_example_runs_against_the_sandbox(
    tmp_path: Path, monkeypatch: object, capsys: object
) -> None:
    """Every python block after "Ten lines" runs, in order and in one namespace (the later
    blocks use the earlier ones' client), against the sandbox the first of them starts; each
    block's ``# `` lines are what it prints."""
    import pytest

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    assert isinstance(capsys, pytest.CaptureFixture)
    monkeypatch.chdir(tmp_path)  # the example's journal file lands here
    blocks = _readme_python_blocks(after="## Paying through a channel")
    assert blocks, "the README shows paying through a channel"
    connecting = blocks[0]
    assert "jc.connect(" in connecting
    assert len(connecting.strip().splitlines()) <= 10
    namespace: dict[str, object] = {}
    try:
        for block in blocks:
            exec(compile(block, "README.md", "exec"), namespace)
            expected = [line[2:] for line in block.splitlines() if line.startswith("# ")]
            printed = capsys.readouterr().out.strip()  # each block's own output
            if expected:
                assert printed == "\n".join(expected)
    finally:
        client = namespace.get("client")
        sandbox = namespace.get("sandbox")
        if client is not None:
            client.close()
        if sandbox is not None:
            sandbox.stop()
    assert (tmp_path / "payments.sqlite").exists()
