"""The corpus of bad specs in tests/bad_specs/: each is rejected by `validate` and
`build` with its finding code, message, file:line and a fix hint, and nothing is
written (no output, no allocations file).

Each file starts with a comment naming what it is, then
`# expect: CODE | message fragment | line N` (line optional), and optionally
`# errors: N` when the spec holds one mistake that must not cascade into more findings.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tfgen.cli import main

CORPUS = sorted((Path(__file__).parent / "bad_specs").glob("*.yaml"))
_EXPECT = re.compile(r"^# expect: (\w+) \| (.+?)(?: \| line (\d+))?$", re.M)
_ERRORS = re.compile(r"^# errors: (\d+)$", re.M)


def _expectation(path: Path):
    match = _EXPECT.search(path.read_text())
    assert match, f"{path.name} has no `# expect:` line"
    code, fragment, line = match.groups()
    return code, fragment, int(line) if line else None


def test_corpus_is_large_enough():
    assert len(CORPUS) >= 25


@pytest.mark.parametrize("source", CORPUS, ids=[p.stem for p in CORPUS])
def test_bad_spec_is_rejected_with_location_and_hint(tmp_path, capsys, source):
    code, fragment, line = _expectation(source)
    spec = tmp_path / source.name
    shutil.copyfile(source, spec)
    where = f"{spec}:{line}:" if line else str(spec)

    status = main(["validate", str(spec)])
    out = capsys.readouterr().out
    assert status == 1, out
    for expected in (code, fragment, "fix:", where):
        assert expected in out, f"{source.name}: {expected!r} not in\n{out}"
    errors = _ERRORS.search(source.read_text())
    if errors:
        assert out.splitlines()[-1].startswith(f"{spec}: {errors[1]} error(s),"), out

    status = main(["build", str(spec), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert status == 1, err
    assert "Traceback" not in err
    for expected in (code, fragment, "fix:", where):
        assert expected in err, f"{source.name}: {expected!r} not in\n{err}"
    assert sorted(p.name for p in tmp_path.iterdir()) == [source.name], "something was written"
