"""``docs/cookbook.md``: every recipe runs and prints what it says.

Each python block runs in a fresh namespace in a scratch directory; the ``# `` lines that end
a block are its output (a ``# `` comment earlier in a block is a comment). A block that defines
test functions is a test module: pytest runs it, with the package's fixtures from their entry
point and no conftest. Whatever sandbox or client a block leaves open is closed after it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from jamsostek_channels.client import Client
from jamsostek_channels.testing.sandbox import Sandbox

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent
COOKBOOK = ROOT / "docs" / "cookbook.md"


def _recipes() -> list[tuple[str, str]]:
    """(the heading above it, its code) for every python block, in page order."""
    text = COOKBOOK.read_text(encoding="utf-8")
    found: list[tuple[str, str]] = []
    heading = ""
    for match in re.finditer(r"^## ([^\n]+)$|^```python\n(.*?)^```", text, re.S | re.M):
        if match.group(1) is not None:
            heading = match.group(1)
        else:
            found.append((heading, match.group(2)))
    return found


def _slug(heading: str, index: int) -> str:
    words = re.sub(r"[^a-z0-9]+", "-", heading.lower()).strip("-")
    return f"{index:02d}-{words[:40].rstrip('-')}"


def _expected(code: str) -> list[str]:
    """The ``# `` lines that end the block: what it prints."""
    lines = code.rstrip("\n").splitlines()
    tail: list[str] = []
    while lines and lines[-1].startswith("# "):
        tail.insert(0, lines.pop()[2:])
    return tail


RECIPES = _recipes()


def test_the_cookbook_has_the_recipes_the_issue_names() -> None:
    headings = [heading for heading, _ in RECIPES]
    assert len(RECIPES) >= 10
    for topic in (
        "dropped line",
        "recover()",
        "sponsor pays for a neighbour",
        "registers someone else",
        "reconciliation",
        "from pytest",
        "another language",
    ):
        assert any(topic in heading for heading in headings), topic
    every = "".join(code for _, code in RECIPES)
    for call in (
        'faults.inject("drop"',
        "render_in_progress",
        "client.pending(",
        "PayerKind.SERTAKAN",
        "host.last_otp(",
        ".recover()",
        "reconcile_journal(",
        "jamsostek_sandbox_factory",
        ".start()",
        "control_url",
    ):
        assert call in every, call


def test_the_readme_links_the_cookbook() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "`docs/cookbook.md`" in readme or "cookbook.md" in readme


def _is_test_module(code: str) -> bool:
    return re.search(r"^def test_", code, re.M) is not None


@pytest.mark.parametrize(
    "code",
    [
        pytest.param(code, id=_slug(heading, i))
        for i, (heading, code) in enumerate(RECIPES)
        if not _is_test_module(code)
    ],
)
def test_recipe_runs_and_prints_what_it_says(
    code: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)  # the recipes' journals and files land here
    namespace: dict[str, object] = {}
    try:
        exec(compile(code, str(COOKBOOK), "exec"), namespace)
    finally:
        for value in namespace.values():
            if isinstance(value, Client):
                value.close()
        for value in namespace.values():
            if isinstance(value, Sandbox):
                value.stop()
    printed = capsys.readouterr().out.strip()
    expected = _expected(code)
    assert expected, "a recipe shows what it prints"
    assert printed == "\n".join(expected)


@pytest.mark.parametrize(
    "code",
    [
        pytest.param(code, id=_slug(heading, i))
        for i, (heading, code) in enumerate(RECIPES)
        if _is_test_module(code)
    ],
)
def test_recipe_test_module_passes_under_pytest(code: str, pytester: pytest.Pytester) -> None:
    """Run as a user's test module: the fixtures come from the installed entry point."""
    pytester.makepyfile(test_recipe=code)
    assert not list(pytester.path.glob("conftest.py"))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=len(re.findall(r"^def test_", code, re.M)))
