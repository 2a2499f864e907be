"""The fleet applied to a local AWS double (moto), verified through the API, destroyed at the end.

Slow: CI's fast path deselects it (`-m "not tfgen_sandbox"`); the plugin marks every test using the fixture.
"""

from conftest import SPEC


def test_production_applies_and_verifies_on_the_double(tfgen_sandbox):
    report = tfgen_sandbox(SPEC, ["production"])
    assert report.ok
    assert [env.name for env in report.environments] == ["production"]
