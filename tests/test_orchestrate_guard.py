"""The lifecycle's guard on real plans: `tfgen plan` and `tfgen apply` refuse a plan that replaces or destroys an
EKS cluster, VPC or KMS key unless `--allow-replace`/`--allow-destroy` (or $TFGEN_ALLOW_*) name it, and print
the fleet summary of the plans, what is lost first.

Driven with the recording stub terraform on a copy of the committed example build, whose manifest records the
fleet (development/us-east-1/hub is the EKS cluster aws_eks_cluster.us_east_1_hub of root development).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tfgen.cli import main
from tfgen.orchestrate.saved import MANIFEST
from tests.orchestrate_stub import example_out, stub_directory

ROOT = Path(__file__).resolve().parent.parent
HUB = "development/us-east-1/hub"


@pytest.fixture
def stub(tmp_path, monkeypatch):
    directory = stub_directory(tmp_path, monkeypatch)
    monkeypatch.delenv("TFGEN_ALLOW_REPLACE", raising=False)
    monkeypatch.delenv("TFGEN_ALLOW_DESTROY", raising=False)
    for root in ("_state", "development", "production"):
        (directory / f"{root}.counts").write_text("0 0 0")
    return directory


@pytest.fixture
def out(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return example_out(tmp_path)


def _replacing_the_hub(stub: Path) -> None:
    (stub / "development.counts").write_text("0 0 0 1")
    (stub / "development.addresses").write_text("aws_eks_cluster.us_east_1_hub\n")
    (stub / "production.counts").write_text("0 1 0")  # a tag change elsewhere, listed after the loss


def _run(capsys, *args) -> tuple[int, str, str]:
    status = main(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _applies(stub: Path) -> list[str]:
    path = stub / "log.jsonl"
    events = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    return [e["root"] for e in events if e["event"] == "start" and e["phase"] == "apply"]


def test_a_plan_that_replaces_a_cluster_is_refused_naming_it_and_the_flag_and_saves_nothing(stub, out, capsys):
    _replacing_the_hub(stub)
    status, text, _ = _run(capsys, "plan", "out", "--out-dir", "plans", "--detailed-exitcode")
    assert status == 1, text
    assert (f"development: refused: CHG500 this change replaces {HUB}'s EKS cluster (aws_eks_cluster.us_east_1_hub)"
            ) in text, text
    assert f"fix: if that is meant, plan with `--allow-replace {HUB}`; otherwise undo the change in the spec" in text
    assert "Python:" not in text and "build with" not in text, "the guard's words for a build, said of a plan"
    assert not Path("plans", MANIFEST).exists(), "a refused plan is not saved to be applied"


def test_an_allowed_replacement_is_planned_and_the_fleet_summary_puts_the_lost_cluster_first(stub, out, capsys):
    _replacing_the_hub(stub)
    status, text, _ = _run(capsys, "plan", "out", "--out-dir", "plans", "--allow-replace", HUB)
    assert status == 0, text
    summary = text[text.index("fleet diff against the state:"):].splitlines()
    assert summary[1].split()[:2] == [HUB, "REPLACED"], summary
    assert summary[2].split()[:2] == ["production", "updated"], summary
    assert text.index("fleet diff against") < text.index("tfgen plan: ok"), "the summary comes before the verdict"


def test_a_plan_that_replaces_a_cluster_create_first_under_its_name_is_refused_even_when_allowed(stub, out, capsys):
    _replacing_the_hub(stub)
    (stub / "development.create_first").write_text("multi-region-clusters-development-us-east-1-hub\n")
    status, text, _ = _run(capsys, "plan", "out", "--out-dir", "plans", "--allow-replace", HUB)
    assert status == 1, text
    assert (f"development: refused: CHG506 this change replaces {HUB}'s EKS cluster (aws_eks_cluster.us_east_1_hub)"
            ) in text, text
    assert "under the name it holds (multi-region-clusters-development-us-east-1-hub)" in text, text
    assert f"`--allow-destroy {HUB}`" in text and "--allow-replace cannot allow this one" in text, text
    assert "CHG505" not in text, "the allow name matched what is replaced: not a typo"
    assert not Path("plans", MANIFEST).exists(), "a refused plan is not saved to be applied"


def test_the_allow_names_may_come_from_the_environment(stub, out, capsys, monkeypatch):
    _replacing_the_hub(stub)
    monkeypatch.setenv("TFGEN_ALLOW_REPLACE", f"production {HUB}")
    assert _run(capsys, "plan", "out")[0] == 0
    monkeypatch.setenv("TFGEN_ALLOW_REPLACE", "development/us-east-1/hub;rm")
    status, _, err = _run(capsys, "plan", "out")
    assert status == 2 and "--allow-replace 'development/us-east-1/hub;rm' is not a name of the fleet" in err, err


def test_an_allow_name_that_matches_nothing_is_a_warning_in_every_format(stub, out, capsys):
    _replacing_the_hub(stub)
    allow = ["--allow-replace", HUB, "--allow-destroy", "production/eu-west-1"]
    status, text, _ = _run(capsys, "plan", "out", *allow)
    assert status == 0 and "warning CHG505 [production/eu-west-1]: --allow-destroy production/eu-west-1 allows " \
                            "nothing" in text, text
    status, text, _ = _run(capsys, "plan", "out", "--format", "json", *allow)
    found = json.loads(text)
    assert [f["code"] for f in found["findings"]] == ["CHG505"]
    assert [(o["path"], o["status"]) for o in found["fleet"]["objects"]][:1] == [(HUB, "REPLACED")]
    status, text, _ = _run(capsys, "plan", "out", "--format", "markdown", *allow)
    assert "**Fleet diff** against the state" in text and f"| {HUB} | **REPLACED** |" in text, text
    assert "> **warning CHG505**" in text
    assert text.index("**Fleet diff**") < text.index("| root | add |"), "what is lost before the per-root table"


def test_apply_plans_guards_again_and_applies_nothing_unless_allowed_there_too(stub, out, capsys):
    _replacing_the_hub(stub)
    assert _run(capsys, "plan", "out", "--out-dir", "plans", "--allow-replace", HUB)[0] == 0
    status, text, _ = _run(capsys, "apply", "plans", "--auto-approve")
    assert status == 1, text
    assert "development: refused: CHG500" in text and f"apply with `--allow-replace {HUB}`" in text, text
    assert _applies(stub) == [], "nothing is applied when one plan is refused"
    status, text, _ = _run(capsys, "apply", "plans", "--auto-approve", "--allow-replace", HUB)
    assert status == 0, text
    assert sorted(_applies(stub)) == ["development", "production"]


def test_a_plan_that_destroys_a_vpc_is_refused_unless_destroy_is_allowed(stub, out, capsys):
    (stub / "production.counts").write_text("0 0 1")
    (stub / "production.addresses").write_text("aws_vpc.eu_west_1_edge\n")
    status, text, _ = _run(capsys, "apply", "out", "--auto-approve")
    assert status == 1 and "production: refused: CHG501 this change destroys production/eu-west-1/edge's VPC" \
                           in text, text
    assert _applies(stub) == []
    assert _run(capsys, "apply", "out", "--auto-approve", "--allow-destroy", "production/eu-west-1")[0] == 0
    assert _applies(stub) == ["production"]


def _upgrade(before: str, after: str) -> str:
    """A hand-written `terraform show -json` of a plan that updates the hub's EKS cluster in place."""
    cluster = {"name": "platform-development-us-east-1-hub", "version": before}
    return json.dumps({"format_version": "1.2", "terraform_version": "1.10.5", "resource_changes": [{
        "address": "aws_eks_cluster.us_east_1_hub", "mode": "managed", "type": "aws_eks_cluster",
        "name": "us_east_1_hub", "change": {"actions": ["update"], "before": cluster,
                                            "after": {**cluster, "version": after}, "after_unknown": {},
                                            "before_sensitive": {}, "after_sensitive": {}}}]})


@pytest.mark.parametrize("before, after, says", [
    ("1.34", "1.36", "CHG530 Kubernetes 1.34 -> 1.36 skips 1.35: EKS updates a control plane one minor at a time"),
    ("1.35", "1.34", "CHG531 Kubernetes 1.35 -> 1.34 is a downgrade"),
])
def test_a_plan_that_jumps_two_minors_or_downgrades_is_refused_whatever_is_allowed(stub, out, capsys, before,
                                                                                    after, says):
    (stub / "development.show.json").write_text(_upgrade(before, after))
    status, text, _ = _run(capsys, "plan", "out", "--out-dir", "plans", "--allow-replace", "development")
    assert status == 1 and f"development: refused: {says}" in text, text
    assert "(EKS cluster platform-development-us-east-1-hub runs " + before + ")" in text
    assert not Path("plans", MANIFEST).exists()


def test_a_plan_one_minor_up_is_planned_and_applied(stub, out, capsys):
    (stub / "development.show.json").write_text(_upgrade("1.35", "1.36"))
    assert _run(capsys, "plan", "out", "--out-dir", "plans")[0] == 0
    status, text, _ = _run(capsys, "apply", "plans", "--auto-approve")
    assert status == 0 and "development" in _applies(stub), text
