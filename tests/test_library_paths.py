"""The library as a user scripts it: relative paths work wherever a path is taken,
and a failed terraform run says, as text, what Terraform said and what to do."""

from __future__ import annotations

import json
import logging

import pytest
import tftest

import tfgen
from tfgen.errors import ToolchainError
from tfgen.testing import plan_root
from tfgen.terraform.toolchain import Toolchain, terraform_failure
from tests.conftest import EXAMPLE


@pytest.mark.slow
def test_plan_root_with_relative_root_and_workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    tfgen.build(tfgen.load(EXAMPLE), "out")
    plan = plan_root("out/development", workdir="wd")
    assert plan.region_of("aws_vpc.us_east_2_edge") == "us-east-2"
    assert (tmp_path / "wd" / "development" / "network.tf.json").is_file()


def test_a_toolchain_in_a_relative_directory_names_its_mirror_absolutely(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    toolchain = Toolchain("tc")
    config = toolchain.cli_config.read_text()
    assert toolchain.cli_config.is_absolute(), toolchain.cli_config
    assert f'path    = "{tmp_path / "tc" / "mirror"}"' in config, config
    assert f'plugin_cache_dir = "{tmp_path / "tc" / "plugin-cache"}"' in config, config


def test_a_relative_terraform_binary_is_made_absolute(tmp_path, monkeypatch):
    binary = Toolchain(tmp_path / "tc").terraform
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "terraform").symlink_to(binary)
    monkeypatch.chdir(tmp_path)
    assert Toolchain("tc", terraform="bin/terraform").terraform == str(tmp_path / "bin" / "terraform")
    monkeypatch.setenv("TFGEN_TERRAFORM", "bin/terraform")
    assert Toolchain("tc2").terraform == str(tmp_path / "bin" / "terraform")


def test_a_root_that_is_not_a_directory_is_a_toolchain_error(tmp_path):
    with pytest.raises(ToolchainError, match="is not a directory"):
        plan_root(tmp_path / "missing", workdir=tmp_path / "wd")


def test_terraform_output_is_text_with_a_fix_not_a_tuple_repr():
    stdout = "Error running command init: 1 \nInitializing the backend...\n"
    stderr = ("\nError: Failed to query available provider packages\n\nCould not retrieve the list of available "
              "versions for provider hashicorp/aws:\ncould not connect to registry.terraform.io\n")
    error = terraform_failure(tftest.TerraformTestError(stdout, stderr), root="out/dev", copy="/w/dev",
                              env={"TF_CLI_CONFIG_FILE": "/w/.toolchain/terraformrc"})
    text = str(error)
    assert not text.lstrip().startswith("(") and "\\n" not in text and "', '" not in text, text
    assert text.startswith("terraform init (exit 1) failed on a copy of out/dev in /w/dev:\n"), text
    assert "  Error: Failed to query available provider packages\n" in text, text
    assert "fix: Terraform looked for the AWS provider online" in text, text
    assert "rerun: cd /w/dev && TF_CLI_CONFIG_FILE=/w/.toolchain/terraformrc terraform init" in text, text


def test_a_real_init_failure_reads_as_text(example_out, toolchain, tmp_path):
    root = tmp_path / "development"
    root.mkdir()
    for path in (example_out / "development").glob("*.tf.json"):
        (root / path.name).write_bytes(path.read_bytes())
    settings = json.loads((root / "terraform.tf.json").read_text())
    settings["terraform"]["required_version"] = ">= 99.0"
    (root / "terraform.tf.json").write_text(json.dumps(settings))
    with pytest.raises(ToolchainError) as caught:
        plan_root(root, workdir=tmp_path / "wd", toolchain=toolchain)
    text = str(caught.value)
    assert "Error running command" not in text and "', '" not in text, text
    assert "Unsupported Terraform Core version" in text and "widen terraform_version" in text, text


def test_a_failed_plan_logs_nothing_itself(example_out, toolchain, tmp_path, caplog):
    root = tmp_path / "development"
    root.mkdir()
    for path in (example_out / "development").glob("*.tf.json"):
        (root / path.name).write_bytes(path.read_bytes())
    (root / "network.tf.json").write_text("{}")
    (root / "broken.tf.json").write_text('{"resource": {"aws_vpc": {"x": {"provider": "aws.nowhere"}}}}')
    with pytest.raises(ToolchainError):
        plan_root(root, workdir=tmp_path / "wd", toolchain=toolchain)
    assert [r.getMessage()[:60] for r in caplog.records if r.name == "tftest"] == []
    assert logging.getLogger("tftest").level == logging.NOTSET
