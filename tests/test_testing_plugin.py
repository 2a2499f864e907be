"""The pytest plugin as a platform repository uses it: examples/platform-repo copied and run by pytest in a child
process (the plugin found through its entry point), with its own cache directory."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT
from tests.test_orchestrate_ci import _actionlint

PLATFORM_REPO = ROOT / "examples" / "platform-repo"
INVENTORY_TEST = "tests/test_fleet.py::test_the_production_plan_holds_what_the_inventory_pins"


def _copy(tmp_path: Path) -> Path:
    repo = tmp_path / "platform-repo"
    shutil.copytree(PLATFORM_REPO, repo, ignore=shutil.ignore_patterns(".pytest_cache", "__pycache__"))
    return repo


def _pytest(repo: Path, *args: str) -> tuple[int, str, tuple[int, int] | None]:
    """Exit code, output and (plans run, plans read from the cache) of one pytest run in `repo`."""
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", *args], cwd=repo,
                            capture_output=True, text=True, timeout=1800)
    output = result.stdout + result.stderr
    counted = re.search(r"tfgen: (\d+) terraform plan run\(s\), (\d+) plan\(s\) read from the cache", output)
    return result.returncode, output, (int(counted[1]), int(counted[2])) if counted else None


@pytest.mark.slow
def test_a_wrong_inventory_fails_is_updated_and_a_second_run_plans_nothing(tmp_path):
    repo = _copy(tmp_path)
    code, output, plans = _pytest(repo, INVENTORY_TEST)
    assert (code, plans) == (0, (1, 0)), output
    inventory = repo / "tests" / "inventories" / "production.yaml"
    pinned = yaml.safe_load(inventory.read_text())
    pinned["values"]["aws_eks_cluster.us_west_2_edge"]["vpc_config"]["endpoint_public_access"] = True
    pinned["counts"]["aws_subnet"] = 9
    inventory.write_text(yaml.safe_dump(pinned, sort_keys=False))

    code, output, plans = _pytest(repo, INVENTORY_TEST)
    assert (code, plans) == (1, (0, 1)), output
    assert "tests/inventories/production.yaml: the plan differs from the inventory in 2 place(s)" in output
    assert ("values: aws_eks_cluster.us_west_2_edge: vpc_config[0].endpoint_public_access: got False, "
            "expected True") in output
    assert "counts: aws_subnet: got 12, expected 9" in output
    assert f"update the inventory: pytest --tfgen-update-inventories '{INVENTORY_TEST}'" in output

    code, output, plans = _pytest(repo, "--tfgen-update-inventories", INVENTORY_TEST)
    assert (code, plans) == (0, (0, 1)), output
    rewritten = yaml.safe_load(inventory.read_text())
    assert rewritten["values"]["aws_eks_cluster.us_west_2_edge"]["vpc_config"] == {
        "endpoint_private_access": True, "endpoint_public_access": False}
    assert rewritten["counts"] == {**pinned["counts"], "aws_subnet": 12}
    assert rewritten.keys() == pinned.keys() and rewritten["values"].keys() == pinned["values"].keys()

    code, output, plans = _pytest(repo, INVENTORY_TEST)
    assert (code, plans) == (0, (0, 1)), output


@pytest.mark.slow
def test_the_example_passes_its_fast_tier_and_leaves_the_sandbox_out(tmp_path):
    repo = _copy(tmp_path)
    code, output, _ = _pytest(repo, "-m", "not tfgen_sandbox", "-rA")
    assert code == 0, output
    assert "1 deselected" in output, output
    assert "PASSED tests/test_policies.py::test_tfgens_endpoint_policy_fails_on_a_public_hub" in output


def test_a_session_that_plans_nothing_leaves_no_plan_cache_directory(tmp_path):
    # the plugin is in every pytest session of a repository that installs tfgen
    (tmp_path / "test_nothing.py").write_text("def test_nothing():\n    pass\n")
    code, output, _ = _pytest(tmp_path)
    assert code == 0, output
    assert (tmp_path / ".pytest_cache").is_dir(), output
    assert not (tmp_path / ".pytest_cache" / "d" / "tfgen-plans").exists()


def test_the_example_ci_workflow_passes_actionlint(tmp_path):
    workflow = PLATFORM_REPO / ".github" / "workflows" / "fleet.yml"
    found = _actionlint([workflow], tmp_path)
    assert found[str(workflow)] == []
