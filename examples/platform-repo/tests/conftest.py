"""The fleet, built once per session by tfgen's plugin (fixture `tfgen_build`)."""

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SPEC = REPO / "fleet.yaml"
POLICIES = REPO / "policies"
INVENTORIES = Path(__file__).resolve().parent / "inventories"


@pytest.fixture(scope="session")
def out(tfgen_build):
    """The fleet's Terraform roots (a temporary OUT: the repository's files are never written)."""
    return tfgen_build(SPEC)
