"""The documentation: every page of docs/ is in mkdocs.yml's nav, every relative link in README and docs/
reaches a file and, with `#anchor`, a heading of it, and README's test command is the one CI runs.

`mkdocs build --strict` (.ci/run, the `docs` extra) checks the links too, as the site renders them; this
test holds the same without mkdocs installed, and for README, which the site does not contain."""

from __future__ import annotations

import re
import sys
import unicodedata
from pathlib import Path

import yaml

from tests.conftest import ROOT

DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
LINK = re.compile(r"\[(?:[^\]\\]|\\.)*\]\(([^)\s]+)\)")


def nav_pages(entries: list) -> list[str]:
    """The files mkdocs.yml's nav names, in order."""
    found: list[str] = []
    for entry in entries:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        found += nav_pages(value) if isinstance(value, list) else [value]
    return found


def prose(text: str) -> str:
    """The Markdown outside fenced code blocks and inline code, where links are links."""
    text = re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)
    return re.sub(r"`[^`\n]*`", "", text)


def slug(heading: str) -> str:
    """The anchor Python-Markdown's toc (mkdocs) gives a heading, which GitHub's agrees with here."""
    text = re.sub(r"`([^`]*)`", r"\1", heading)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def anchors(page: Path) -> set[str]:
    text = re.sub(r"^```.*?^```", "", page.read_text(), flags=re.M | re.S)
    return {slug(m.group(1)) for m in re.finditer(r"^#{1,6} (.+?)\s*$", text, re.M)}


def test_every_docs_page_is_in_the_nav_and_every_nav_entry_is_a_page():
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    listed = nav_pages(config["nav"])
    assert sorted(listed) == sorted(p.name for p in DOCS.glob("*.md")), "docs/ and mkdocs.yml's nav differ"
    assert len(listed) == len(set(listed)), f"a page is in the nav twice: {listed}"


def test_every_relative_link_reaches_a_file_and_heading():
    broken = []
    for page in PAGES:
        for target in LINK.findall(prose(page.read_text())):
            if re.match(r"[a-z]+:", target):
                continue  # https:, mailto:
            path, _, anchor = target.partition("#")
            reached = (page.parent / path).resolve() if path else page
            where = f"{page.relative_to(ROOT)}: ({target})"
            if not reached.exists():
                broken.append(f"{where}: no file {reached.relative_to(ROOT) if reached.is_relative_to(ROOT) else reached}")
            elif anchor and reached.suffix == ".md" and anchor not in anchors(reached):
                broken.append(f"{where}: no heading with anchor #{anchor}")
            elif page.parent == DOCS and not reached.is_relative_to(DOCS):
                broken.append(f"{where}: leaves docs/, which the site does not hold; name the file as `code`")
    assert broken == [], "\n".join(broken)


def test_the_docs_pages_have_one_title_each():
    for page in DOCS.glob("*.md"):
        titles = re.findall(r"^# ", re.sub(r"^```.*?^```", "", page.read_text(), flags=re.M | re.S), re.M)
        assert len(titles) == 1, f"{page.relative_to(ROOT)}: {len(titles)} `# ` titles, want 1"


def test_readme_test_command_is_the_one_ci_runs():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    command = "python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && .venv/bin/python -m pytest -q"
    assert command in readme, "README's second command changed: keep .ci/run running the same"
    assert ".venv/bin/pip install --quiet -e '.[test]'" in ci
    assert ".venv/bin/python -m pytest -q" in ci


def test_the_tables_docs_restate_from_code_are_current():
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import docs_tables
    finally:
        sys.path.remove(str(ROOT / "tools"))
    for page, name, generate in docs_tables.TABLES:
        _, committed, _ = docs_tables.split(page, name)
        assert committed.strip("\n") == generate().strip("\n"), \
            f"docs/{page}: the table of {name} is stale: run `python tools/docs_tables.py` and commit docs/"
