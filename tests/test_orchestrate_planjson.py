"""The plan-JSON reader (`tfgen.terraform.planjson`): what `terraform show -json` says each resource goes
through and why, in the words a reviewer reads, never a sensitive value.

The documents here are written in the shape of Terraform's JSON output format 1.2 (developer.hashicorp.com/
terraform/internals/json-format); the slow tests of tests/test_orchestrate_review.py read real plans.
"""

from __future__ import annotations

import json

import pytest

from tfgen.terraform.changes import Action, ResourceChange
from tfgen.terraform.planjson import PlanJsonError, load_plan, read_plan, tally


def _entry(address: str, actions: list[str], *, before=None, after=None, **more) -> dict:
    type_, name = address.split(".")[-2:]
    change = {"actions": actions, "before": before, "after": after, "after_unknown": more.pop("after_unknown", {}),
              "before_sensitive": more.pop("before_sensitive", False),
              "after_sensitive": more.pop("after_sensitive", {})}
    return {"address": address, "mode": "managed", "type": type_, "name": name,
            "provider_name": "registry.terraform.io/hashicorp/aws", "change": change, **more}


def _plan(*entries: dict, outputs: dict | None = None, version: str = "1.2") -> dict:
    return {"format_version": version, "terraform_version": "1.10.5", "resource_changes": list(entries),
            "output_changes": outputs or {}}


VPC_BEFORE = {"cidr_block": "10.11.0.0/16", "tags": {"Name": "edge"}, "id": "vpc-1"}


def test_a_replacement_is_one_change_with_the_paths_that_force_it():
    plan = read_plan(_plan(
        _entry("aws_vpc.us_east_2_edge", ["delete", "create"], before=VPC_BEFORE,
               after={"cidr_block": "10.16.0.0/16", "tags": {"Name": "edge"}}, after_unknown={"id": True},
               replace_paths=[["cidr_block"]], action_reason="replace_because_cannot_update"),
        _entry("aws_eks_cluster.us_east_2_edge", ["create", "delete"], before={"name": "edge"},
               after={"name": "edge"}, replace_paths=[["vpc_config", 0, "subnet_ids"]],
               after_unknown={"vpc_config": [{"subnet_ids": True}]}),
    ), root="development")
    vpc, cluster = plan.changes
    assert vpc == ResourceChange(
        root="development", address="aws_vpc.us_east_2_edge", type="aws_vpc", action=Action.REPLACE,
        reasons=("cidr_block: 10.11.0.0/16 -> 10.16.0.0/16",), replace_paths=("cidr_block",),
        before=VPC_BEFORE, after={"cidr_block": "10.16.0.0/16", "tags": {"Name": "edge"}})
    assert cluster.action is Action.REPLACE, "create-before-destroy is a replacement too"
    assert cluster.reasons == ("vpc_config.0.subnet_ids: (none) -> (known after apply)",)
    assert tally(plan.changes)[Action.REPLACE] == 2 and tally(plan.changes)[Action.CREATE] == 0


def test_without_replace_paths_a_replacement_names_what_changed_and_is_known():
    """Terraform before 1.2 writes no replace_paths (the offline toolchain's 1.0.3 among them)."""
    (change,) = read_plan(_plan(_entry(
        "aws_eks_node_group.hub", ["delete", "create"],
        before={"instance_types": ["t3.medium"], "arn": "arn:1", "tags": {"a": "1"}, "secret": "s1", "labels": {}},
        after={"instance_types": ["t3.large"], "arn": None, "tags": {"a": "1"}, "secret": "s2", "labels": None},
        after_unknown={"arn": True}, before_sensitive={"secret": True}, after_sensitive={"secret": True},
        action_reason="replace_because_cannot_update")), root="r").changes
    assert change.reasons == ('instance_types: ["t3.medium"] -> ["t3.large"]', "secret: (sensitive) -> (sensitive)",
                              "an argument that cannot be updated in place changes")


def test_every_action_is_read_and_counted_and_no_op_and_read_change_nothing():
    plan = read_plan(_plan(
        _entry("aws_vpc.a", ["create"], after={"cidr_block": "10.0.0.0/16"}),
        _entry("aws_vpc.b", ["update"], before={"tags": {"a": "1"}, "cidr_block": "x"},
               after={"tags": {"a": "2"}, "cidr_block": "x"}),
        _entry("aws_vpc.c", ["delete"], before={"cidr_block": "y"}, action_reason="delete_because_no_resource_config"),
        _entry("aws_vpc.d", ["no-op"], before={}, after={}),
        _entry("aws_vpc.e", ["read"], before=None, after={}, action_reason="read_because_config_unknown"),
        _entry("aws_vpc.f", ["forget"], before={"cidr_block": "z"}),
    ), root="r")
    assert {c.address: c.action for c in plan.changes} == {
        "aws_vpc.a": Action.CREATE, "aws_vpc.b": Action.UPDATE, "aws_vpc.c": Action.DELETE,
        "aws_vpc.d": Action.NO_OP, "aws_vpc.e": Action.READ, "aws_vpc.f": Action.FORGET}
    assert {c.address: c.reasons for c in plan.changes if c.reasons} == {
        "aws_vpc.b": ("changes tags",), "aws_vpc.c": ("no longer in the configuration",),
        "aws_vpc.e": ("its arguments are known only after apply",)}
    assert [c.address for c in plan.changed] == ["aws_vpc.a", "aws_vpc.b", "aws_vpc.c", "aws_vpc.f"]
    assert plan.any


def test_a_sensitive_value_is_never_shown():
    plan = read_plan(_plan(
        _entry("aws_db_instance.x", ["delete", "create"], before={"password": "hunter2", "config": {"k": "old"}},
               after={"password": "correct horse", "config": {"k": "new"}},
               before_sensitive={"password": True, "config": True}, after_sensitive={"password": True, "config": True},
               replace_paths=[["password"], ["config", "k"]]),
    ), root="r")
    (change,) = plan.changes
    assert change.reasons == ("password: (sensitive) -> (sensitive)", "config.k: (sensitive) -> (sensitive)")
    assert "hunter2" not in json.dumps(change.reasons) and "correct horse" not in json.dumps(change.reasons)


def test_moves_imports_and_long_values_are_said_in_words():
    plan = read_plan(_plan(
        _entry("aws_vpc.new_name", ["no-op"], before={}, after={}, previous_address="aws_vpc.old_name"),
        _entry("aws_vpc.adopted", ["no-op"], before={}, after={}) | {"change": {
            "actions": ["no-op"], "before": {}, "after": {}, "importing": {"id": "vpc-0abc"}}},
        _entry("aws_iam_role.r", ["delete", "create"], before={"assume_role_policy": "x" * 200},
               after={"assume_role_policy": "y" * 200}, replace_paths=[["assume_role_policy"]]),
    ), root="r")
    moved, adopted, role = plan.changes
    assert moved.reasons == ("moved from aws_vpc.old_name",)
    assert adopted.reasons == ("imported (id vpc-0abc)",)
    assert role.reasons == (f"assume_role_policy: {'x' * 77}... -> {'y' * 77}...",)
    assert plan.moved == ("aws_vpc.new_name", "aws_vpc.adopted"), "applying records them in the state"
    assert [c.address for c in plan.changed] == ["aws_iam_role.r"]


def test_an_update_names_at_most_five_attributes():
    before = {f"a{i}": i for i in range(8)}
    after = {f"a{i}": i + 1 for i in range(8)}
    (change,) = read_plan(_plan(_entry("aws_vpc.x", ["update"], before=before, after=after)), root="r").changes
    assert change.reasons == ("changes a0, a1, a2, a3, a4 and 3 more",)


def test_a_plan_of_moves_alone_is_a_plan_to_apply():
    plan = read_plan(_plan(_entry("aws_vpc.b", ["no-op"], before={}, after={}, previous_address="aws_vpc.a")),
                     root="r")
    assert plan.any and not plan.changed
    assert not read_plan(_plan(_entry("aws_vpc.b", ["no-op"], before={}, after={})), root="r").any


def test_outputs_that_change_are_listed():
    plan = read_plan(_plan(outputs={
        "vpc_id": {"actions": ["update"], "before": "vpc-1", "after": None, "after_unknown": True},
        "region": {"actions": ["no-op"], "before": "us-east-1", "after": "us-east-1"},
        "gone": {"actions": ["delete"], "before": "x", "after": None}}), root="r")
    assert plan.outputs == ("gone", "vpc_id")
    assert plan.any and not plan.changed, "an output alone is a change to apply"


@pytest.mark.parametrize("document, says", [
    ([], "not `terraform show -json` of a plan"),
    ({"resource_changes": []}, "no format_version"),
    (_plan(version="2.0"), "plan format 2.0, which this tfgen cannot read"),
    (_plan() | {"resource_changes": {"a": 1}}, "resource_changes is not a list"),
    (_plan({"change": {"actions": ["create"]}}), "a resource change without an address"),
    (_plan({"address": "aws_vpc.x", "change": {}}), "aws_vpc.x has no change.actions list"),
    (_plan(_entry("aws_vpc.x", ["create", "forget"])), "has the actions ['create', 'forget'], which this tfgen "
                                                       "does not know"),
    (_plan(outputs={"x": {"actions": "update"}}), "output.x has no change.actions list"),
    (_plan(outputs={"x": ["update"]}), "output.x has no change.actions list"),
])
def test_what_is_not_a_plan_it_can_read_is_refused_naming_the_source(document, says):
    with pytest.raises(PlanJsonError) as refused:
        read_plan(document, root="r", source="plans/r/plan.json")
    assert str(refused.value).startswith("plans/r/plan.json: ") and says in str(refused.value)


def test_a_file_that_is_not_json_is_refused_naming_it(tmp_path):
    path = tmp_path / "plan.json"
    path.write_text("Plan: 1 to add, 0 to change, 0 to destroy.")
    with pytest.raises(PlanJsonError, match=f"{path}: not JSON"):
        load_plan(path, root="r")
    path.write_text("[" * 100_000)
    with pytest.raises(PlanJsonError, match=f"{path}: not JSON"):
        load_plan(path, root="r")
    with pytest.raises(PlanJsonError, match="cannot read it"):
        load_plan(tmp_path / "missing.json", root="r")
