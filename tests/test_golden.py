"""The committed out/ is what the example produces (`tfgen build --check`)."""

from tfgen.cli import main
from tests.conftest import EXAMPLE, ROOT


def test_committed_output_is_current(capsys):
    status = main(["build", str(EXAMPLE), "--out", str(ROOT / "out"), "--check"])
    assert status == 0, capsys.readouterr().err + "\nfix: tfgen build examples/multi-region-eks.yaml"
