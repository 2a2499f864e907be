"""The rule registry (tfgen/rules/): every code tfgen raises is declared once and raised somewhere, every
code has an input that makes it fire, `tfgen explain` and `tfgen rules` answer from it, docs/findings.md's code
reference is generated from it, and a build never loads it."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tfgen.cli import main
from tfgen.model.regions import REGIONS
from tfgen.rules import CODE, READS, registry
from tests.conftest import ROOT, write_spec
from tests.test_bad_specs import CORPUS, _expectation
from tests.test_rules_fire import SMALL, TRIGGERS

PACKAGE = ROOT / "tfgen"
RULES = registry().rules
RETIRED = registry().retired


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the string nodes that are docstrings (prose that names codes, not code that raises them)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _codes_in_python(path: Path) -> dict[str, list[str]]:
    """code -> `file:line` of every string literal in `path` that is a whole finding code: what is passed to
    Finding(...), finding(...), a module's own helper, a checkov check's id, or held in a table. Docstrings,
    f-strings and comparisons (reading a code, not raising it) are not counted."""
    tree = ast.parse(path.read_text(), str(path))
    skip = _docstrings(tree)
    for node in ast.walk(tree):
        if isinstance(node, (ast.JoinedStr, ast.Compare)):
            skip.update(id(n) for n in ast.walk(node) if isinstance(n, ast.Constant))
    found: dict[str, list[str]] = {}
    for node in ast.walk(tree):
        if (isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip
                and CODE.fullmatch(node.value)):
            found.setdefault(node.value, []).append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def _raised() -> dict[str, list[str]]:
    """Every finding code the package raises, with where: Python sources and the checkov YAML policies."""
    found: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for code, where in _codes_in_python(path).items():
            found.setdefault(code, []).extend(where)
    for path in sorted((PACKAGE / "policies").glob("*.yaml")):
        check = (yaml.safe_load(path.read_text()).get("metadata") or {}).get("id")
        found.setdefault(check, []).append(str(path.relative_to(ROOT)))
    return found


RAISED = _raised()


def test_the_scan_finds_codes_of_every_family_where_they_are_raised():
    """The scan itself: a code passed to a helper, a checkov id, a YAML policy's id, a loader's default."""
    assert "tfgen/checks/topology.py" in " ".join(RAISED["NET211"]), RAISED["NET211"]
    assert "tfgen/policies/tfgen_eks_access.py" in " ".join(RAISED["CKV_TFGEN_15"])
    assert RAISED["CKV2_TFGEN_6"] == ["tfgen/policies/peering_accepter.yaml"]
    assert "tfgen/spec/loader.py" in " ".join(RAISED["SPEC006"])
    assert "TFGEN_TODAY" not in RAISED and "TFGEN_DATA" not in RAISED, "environment variables are not codes"


def test_every_code_tfgen_raises_is_registered():
    unknown = {code: where for code, where in RAISED.items() if code not in RULES}
    assert unknown == {}, f"raised but not in tfgen/rules/*.toml (add an entry): {unknown}"


def test_every_registered_code_is_raised_somewhere():
    unraised = sorted(set(RULES) - set(RAISED))
    assert unraised == [], f"in the registry but raised nowhere in tfgen/ (retire them in retired.toml): {unraised}"


def test_a_retired_code_is_raised_nowhere():
    still = {code: RAISED[code] for code in RETIRED if code in RAISED}
    assert still == {}, f"retired codes still raised: {still}"


def test_every_registered_code_has_a_corpus_entry_or_a_trigger():
    corpus = {_expectation(path)[0] for path in CORPUS}
    assert sorted(corpus - set(RULES)) == [], "tests/bad_specs/ expects codes the registry does not have"
    assert sorted(set(TRIGGERS) - set(RULES)) == [], "tests/test_rules_fire.py triggers unregistered codes"
    missing = sorted(set(RULES) - corpus - set(TRIGGERS))
    assert missing == [], f"no input makes these fire: add a tests/bad_specs/*.yaml or a TRIGGERS entry: {missing}"


def test_every_entry_says_something_of_its_own():
    for code, rule in RULES.items():
        assert len(rule.explanation) >= 100, f"{code}: the explanation says too little"
        assert rule.title != rule.fix and rule.explanation not in {r.explanation for r in RULES.values() if r is not rule}


def test_the_region_table_keeps_the_transit_gateway_peering_quota_out_of_reach():
    """NET236 was removed because a transit gateway (one per region) peers with every other region's: it
    has len(REGIONS) - 1 peering attachments, under AWS's default quota of 50 (Amazon VPC Transit
    Gateways quotas). Should the table grow past 51 regions, the rule is needed again."""
    assert len(REGIONS) - 1 <= 50, "restore the peering-attachments-per-transit-gateway quota rule (NET236)"


# -- the registry imports nothing of the pipeline, and a build does not load it ------------------------------


def test_the_registry_imports_nothing_of_tfgen_but_errors():
    for path in sorted((PACKAGE / "rules").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level:
                target = "." * node.level + (node.module or "")
                assert target in (".", "..errors"), f"{path.name} imports {target}"
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                assert not any(n == "tfgen" or n.startswith("tfgen.") for n in names), f"{path.name}: {names}"


def test_a_build_does_not_load_the_registry(tmp_path):
    spec = write_spec(tmp_path, SMALL)
    script = ("from tfgen.cli import main; from tfgen.rules import registry\n"
              f"status = main(['build', {str(spec)!r}, '--out', {str(tmp_path / 'out')!r}])\n"
              "print(status, registry.cache_info().currsize)")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True)
    assert done.stdout.split()[-2:] == ["0", "0"], done.stdout + done.stderr


# -- tfgen explain, tfgen rules -------------------------------------------------------------------------


@pytest.mark.parametrize("code", sorted(RULES))
def test_explain_prints_the_whole_entry(capsys, code):
    rule = RULES[code]
    assert main(["explain", code.lower()]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert out.startswith(f"{code}: {rule.title}"), out[:200]
    for part in (rule.severity, rule.fix, rule.explanation, *rule.reads, rule.severity_when, rule.source):
        assert " ".join(part.split()) in out, f"{code}: {part!r} not in the explanation"


def test_explain_of_a_retired_code_names_what_took_its_place(capsys):
    assert main(["explain", "TFGEN_16"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("TFGEN_16: retired; it is now VAL444"), out
    assert f"VAL444: {RULES['VAL444'].title}" in out
    assert main(["explain", "NET236"]) == 0
    assert "could not fire" in capsys.readouterr().out


@pytest.mark.parametrize("asked, close", [("VAL1311", "VAL131"), ("CKV_TFGEN_16", "CKV_TFGEN_15"), ("net2111", "NET211")])
def test_explain_of_an_unknown_code_is_a_usage_error_naming_close_codes(capsys, asked, close):
    assert main(["explain", asked]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"no finding code {asked!r}" in captured.err and close in captured.err, captured.err
    assert "fix: `tfgen rules` lists every code" in captured.err and "Traceback" not in captured.err


def test_rules_lists_every_code_once_and_filters_by_input(capsys):
    assert main(["rules"]) == 0
    lines = capsys.readouterr().out.splitlines()
    listed = [line.split()[0] for line in lines if line and CODE.fullmatch(line.split()[0])]
    assert listed == list(RULES)
    assert any(line.startswith("retired: TFGEN_16 (now VAL444)") for line in lines)
    for reads in READS:
        assert main(["rules", "--reads", reads]) == 0
        shown = {line.split()[0] for line in capsys.readouterr().out.splitlines() if line and CODE.fullmatch(line.split()[0])}
        assert shown == {c for c, r in RULES.items() if reads in r.reads}, reads
    with pytest.raises(SystemExit) as usage:
        main(["rules", "--reads", "state"])
    assert usage.value.code == 2 and "invalid choice: 'state'" in capsys.readouterr().err


def test_rules_as_json_is_the_registry(capsys):
    assert main(["rules", "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [r["code"] for r in listed["rules"]] == list(RULES)
    assert listed["rules"][0] == RULES[listed["rules"][0]["code"]].as_dict()
    assert {r["code"]: r["successor"] for r in listed["retired"]} == {c: r.successor for c, r in RETIRED.items()}


def test_docs_code_reference_is_generated_from_the_registry(capsys):
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import rules_table
    finally:
        sys.path.remove(str(ROOT / "tools"))
    _, committed, _ = rules_table.split((ROOT / "docs" / "findings.md").read_text())
    assert main(["rules", "--format", "markdown"]) == 0
    printed = capsys.readouterr().out
    assert committed.strip("\n") == printed.strip("\n"), \
        "docs/findings.md's code reference is stale: run `python tools/rules_table.py` and commit docs/findings.md"
    assert re.findall(r"^\| `([A-Z0-9_]+)` \|", committed, re.M) == list(RULES)
