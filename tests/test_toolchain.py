"""The offline toolchain refuses a provider zip that is not HashiCorp's, and
overrides never land in a generated root."""

from __future__ import annotations

import json

import pytest

from tfgen.terraform import toolchain
from tfgen.errors import ToolchainError


def test_provider_zip_with_wrong_sha256_is_refused(tmp_path, monkeypatch):
    fake = tmp_path / "cloudrail" / "terraform_plugins" / toolchain.PROVIDER_ZIP
    fake.parent.mkdir(parents=True)
    fake.write_bytes(b"not the provider")
    monkeypatch.setattr(toolchain, "_package_dir", lambda name: tmp_path / "cloudrail")
    with pytest.raises(ToolchainError, match="not HashiCorp's"):
        toolchain.provider_zip()


def test_real_provider_zip_is_verified():
    assert toolchain.provider_zip().name == toolchain.PROVIDER_ZIP


def test_copy_root_adds_the_override_to_the_copy_only(example_out, tmp_path):
    root = example_out / "development"
    before = sorted(p.name for p in root.iterdir())
    copy = tmp_path / "copy"
    toolchain.copy_root(root, copy)
    assert sorted(p.name for p in root.iterdir()) == before
    override = json.loads((copy / toolchain.OVERRIDE_FILE).read_text())
    assert [p["alias"] for p in override["provider"]["aws"]] == ["us_east_1", "us_east_2", "us_west_2"]
    assert override["terraform"]["backend"] == {"local": {"path": "terraform.tfstate"}}
    assert all(p["skip_get_ec2_platforms"] for p in override["provider"]["aws"])


def test_copy_root_of_an_empty_directory_says_to_build_first(tmp_path):
    with pytest.raises(ToolchainError, match="run `tfgen build` first"):
        toolchain.copy_root(tmp_path, tmp_path / "copy")


def test_plan_failure_is_reported_with_the_root(example_out, toolchain, tmp_path):
    from tfgen.testing import plan_root

    broken = tmp_path / "broken"
    broken.mkdir()
    for p in (example_out / "development").glob("*.tf.json"):
        (broken / p.name).write_text(p.read_text())
    network = json.loads((broken / "network.tf.json").read_text())
    network["resource"]["aws_vpc"]["us_east_2_edge"]["cidr_blok"] = "10.0.0.0/16"
    (broken / "network.tf.json").write_text(json.dumps(network))
    with pytest.raises(ToolchainError, match="cidr_blok"):
        plan_root(broken, workdir=tmp_path / "work", toolchain=toolchain)


def test_copy_root_reads_through_the_bounded_reader_and_names_a_file_it_refuses(example_out, tmp_path):
    import os

    root = tmp_path / "root"
    root.mkdir()
    for path in (example_out / "_state").glob("*.tf.json"):
        (root / path.name).write_bytes(path.read_bytes())
    os.symlink("/dev/zero", root / "zero.tf.json")
    with pytest.raises(ToolchainError, match="zero.tf.json"):
        toolchain.copy_root(root, tmp_path / "copy")
    assert not (tmp_path / "copy" / "zero.tf.json").exists()
