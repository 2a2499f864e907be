"""The committed out/ is what each example produces (`tfgen build --check`)."""

import pytest

from tfgen.cli import main
from tests.conftest import EXAMPLES


@pytest.mark.parametrize("spec", sorted(EXAMPLES), ids=lambda p: p.stem)
def test_committed_output_is_current(capsys, spec):
    out = EXAMPLES[spec]
    status = main(["build", str(spec), "--out", str(out), "--check"])
    assert status == 0, capsys.readouterr().err + f"\nfix: tfgen build {spec} --out {out}"
