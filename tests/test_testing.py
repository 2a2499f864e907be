"""tfgen.testing without Terraform: inventories compared and rewritten, mutate's deep merge, fleet assertions on
the model and the built output, and the platform-repo example kept to the public API."""

import ast
import json

import pytest
import yaml

import tfgen
import tfgen.testing
from tests.conftest import EXAMPLE, ROOT
from tfgen.terraform.plan import Plan
from tfgen.testing import (
    assert_inventory,
    assert_private,
    assert_reachable,
    assert_registered,
    compare_inventory,
    deep_merge,
    mutate,
)

PLATFORM_REPO = ROOT / "examples" / "platform-repo"
OUT = ROOT / "out"


def _plan(resources: dict[str, dict], outputs: dict | None = None) -> Plan:
    """A plan as `terraform show -json` writes it, holding `resources` (address -> values)."""
    planned = [{"address": a, "type": a.split(".")[0], "name": a.split(".")[1], "values": v}
               for a, v in resources.items()]
    configured = [{"address": a, "mode": "managed", "type": a.split(".")[0], "name": a.split(".")[1],
                   "provider_config_key": "aws.us_east_1", "expressions": {}} for a in resources]
    return Plan({"planned_values": {"root_module": {"resources": planned},
                                    "outputs": {k: {"value": v} for k, v in (outputs or {}).items()}},
                 "configuration": {"root_module": {"resources": configured}}})


CLUSTER = {"name": "prod-hub", "version": "1.35", "tags_all": {"Owner": "platform"},
           "vpc_config": [{"endpoint_public_access": False, "subnet_ids": ["a", "b"]}]}
PLAN = _plan({"aws_eks_cluster.hub": CLUSTER, "aws_vpc.hub": {"cidr_block": "10.0.0.0/16"},
              "aws_vpc.edge": {"cidr_block": "10.1.0.0/16"}}, outputs={"gitops": {"argocd": "self-managed"}})


def test_an_inventory_matches_a_subset_of_values_blocks_as_mappings_counts_and_outputs(tmp_path):
    path = tmp_path / "production.yaml"
    path.write_text(yaml.safe_dump({
        "values": {"aws_eks_cluster.hub": {"version": "1.35", "vpc_config": {"endpoint_public_access": False}}},
        "counts": {"aws_vpc": 2, "aws_eks_cluster": 1},
        "outputs": {"gitops": {"argocd": "self-managed"}},
    }))
    assert_inventory(PLAN, path)


def test_a_wrong_inventory_fails_naming_file_address_attribute_got_expected_and_the_command(tmp_path):
    path = tmp_path / "production.yaml"
    path.write_text(yaml.safe_dump({
        "values": {"aws_eks_cluster.hub": {"vpc_config": [{"endpoint_public_access": True}]},
                   "aws_vpc.gone": {"cidr_block": "10.9.0.0/16"}},
        "counts": {"aws_vpc": 3},
    }))
    with pytest.raises(AssertionError) as failed:
        assert_inventory(PLAN, path)
    message = str(failed.value)
    assert message.splitlines()[0] == f"{path}: the plan differs from the inventory in 3 place(s):"
    assert ("values: aws_eks_cluster.hub: vpc_config[0].endpoint_public_access: got False, expected True"
            in message)
    assert "values: aws_vpc.gone: got '(not in the plan)'" in message
    assert "counts: aws_vpc: got 2, expected 3" in message
    assert message.splitlines()[-1].startswith("if the plan is right, update the inventory: pytest "
                                               "--tfgen-update-inventories")


def test_a_list_is_compared_item_by_item_and_by_length():
    found = compare_inventory(PLAN, {"values": {"aws_eks_cluster.hub": {"vpc_config": [{"subnet_ids": ["a"]}]}}})
    assert [(d.address, d.path, d.got, d.expected) for d in found] == [
        ("aws_eks_cluster.hub", "vpc_config[0].subnet_ids", ["a", "b"], ["a"])]


def test_updating_rewrites_only_the_pinned_keys_and_then_the_inventory_passes(tmp_path):
    path = tmp_path / "production.yaml"
    path.write_text(yaml.safe_dump({
        "values": {"aws_eks_cluster.hub": {"version": "1.34", "vpc_config": {"endpoint_public_access": True}},
                   "aws_vpc.gone": {"cidr_block": "10.9.0.0/16"}},
        "counts": {"aws_vpc": 5},
    }))
    assert_inventory(PLAN, path, update=True)
    assert yaml.safe_load(path.read_text()) == {
        "values": {"aws_eks_cluster.hub": {"version": "1.35", "vpc_config": {"endpoint_public_access": False}}},
        "counts": {"aws_vpc": 2},
    }
    assert_inventory(PLAN, path)


def test_a_new_inventory_pins_known_values_of_the_default_types_every_count_and_output(tmp_path):
    path = tmp_path / "inventories" / "new.yaml"
    assert_inventory(PLAN, path, update=True)
    written = yaml.safe_load(path.read_text())
    assert written["values"]["aws_eks_cluster.hub"] == {k: v for k, v in CLUSTER.items() if k != "tags_all"}
    assert written["counts"] == {"aws_eks_cluster": 1, "aws_vpc": 2}
    assert written["outputs"] == {"gitops": {"argocd": "self-managed"}}
    assert_inventory(PLAN, path)


def test_a_missing_or_malformed_inventory_says_how_to_write_one(tmp_path):
    with pytest.raises(AssertionError, match="no inventory; write one from the plan with pytest"):
        assert_inventory(PLAN, tmp_path / "absent.yaml")
    (tmp_path / "bad.yaml").write_text("valus: {}\n")
    with pytest.raises(AssertionError, match=r"unknown key\(s\) \['valus'\]; an inventory holds only values"):
        assert_inventory(PLAN, tmp_path / "bad.yaml")


@pytest.mark.parametrize("body, changes, expected", [
    ({"vpc_config": {"a": 1, "b": 2}}, {"vpc_config": {"b": 3}}, {"vpc_config": {"a": 1, "b": 3}}),
    ({"vpc_config": [{"a": 1, "b": 2}]}, {"vpc_config": {"b": 3}}, {"vpc_config": [{"a": 1, "b": 3}]}),
    ({"tags": {"x": "1"}, "name": "n"}, {"tags": None}, {"name": "n"}),
    ({"subnet_ids": ["a", "b"]}, {"subnet_ids": ["c"]}, {"subnet_ids": ["c"]}),
])
def test_deep_merge_merges_blocks_held_as_an_object_or_a_list_of_one(body, changes, expected):
    assert deep_merge(body, changes) == expected


def test_mutate_changes_one_resource_of_a_copy_and_leaves_the_output_alone(tmp_path):
    before = (OUT / "development" / "clusters.tf.json").read_bytes()
    copy = mutate(OUT, "development", "aws_eks_cluster.us_east_1_hub",
                  {"vpc_config": {"endpoint_public_access": True}}, into=tmp_path)
    changed = json.loads((copy / "development" / "clusters.tf.json").read_text())
    cluster = changed["resource"]["aws_eks_cluster"]["us_east_1_hub"]
    original = json.loads(before)["resource"]["aws_eks_cluster"]["us_east_1_hub"]
    assert cluster == {**original, "vpc_config": {**original["vpc_config"], "endpoint_public_access": True}}
    assert (OUT / "development" / "clusters.tf.json").read_bytes() == before
    assert (copy / "production" / "clusters.tf.json").read_bytes() == (OUT / "production" /
                                                                       "clusters.tf.json").read_bytes()
    with pytest.raises(AssertionError, match="no resource aws_eks_cluster.nope; name a resource the root holds"):
        mutate(OUT, "development", "aws_eks_cluster.nope", {}, into=tmp_path / "x")


@pytest.mark.parametrize("source", ["model", "output"])
def test_the_hub_reaches_each_edge_api_and_edges_do_not_reach_each_other(source):
    fleet_or_out = tfgen.load(EXAMPLE) if source == "model" else OUT
    assert_reachable(fleet_or_out, "production/us-east-1/hub", "production/us-west-2/edge", port=443)
    with pytest.raises(AssertionError, match="us_west_2_edge_private_a has no route for 10.21.0.0/16"):
        assert_reachable(fleet_or_out, "production/us-west-2/edge", "production/us-east-2/edge")
    with pytest.raises(AssertionError, match="admits TCP 443 from 10.22.0.0/16"):
        assert_reachable(fleet_or_out, "production/us-west-2/edge", "production/us-east-1/hub", port=443)


def test_reachability_fails_when_a_route_of_the_output_is_gone(tmp_path):
    broken = mutate(OUT, "production", "aws_route.us_west_2_edge_private_b__to__us_east_1_hub",
                    {"destination_cidr_block": "10.99.0.0/16"}, into=tmp_path)
    with pytest.raises(AssertionError, match="aws_route_table.us_west_2_edge_private_b has no route for "
                                             "10.20.0.0/16"):
        assert_reachable(broken, "production/us-east-1/hub", "production/us-west-2/edge")


def test_reachability_over_transit_gateways():
    assert_reachable(ROOT / "out" / "transit-gateway", "production/us-west-2/edge", "production/eu-west-1/edge-a")


def test_registered_and_private_hold_for_the_example_and_fail_on_a_broken_copy(tmp_path):
    assert_registered(OUT, "production")
    assert_private(OUT)
    broken = mutate(OUT, "production", "aws_vpc_security_group_ingress_rule.us_east_2_edge_api__hub_cidr",
                    {"cidr_ipv4": "0.0.0.0/0"}, into=tmp_path)
    with pytest.raises(AssertionError, match=r"us_east_2_edge_api__hub_cidr: admits the internet on port\(s\) "
                                             r"\[443\]"):
        assert_private(broken)
    closed = mutate(OUT, "production", "aws_vpc_security_group_ingress_rule.us_east_2_edge_api__hub_cidr",
                    {"cidr_ipv4": "10.99.0.0/16"}, into=tmp_path / "closed")
    with pytest.raises(AssertionError, match="production/us-east-2/edge: NET303"):
        assert_registered(closed, "production")


def test_every_public_name_is_documented_and_importable_from_tfgen_testing():
    for name in tfgen.testing.__all__:
        value = getattr(tfgen.testing, name)
        assert value.__doc__ or not callable(value), name
    assert sorted(dir(tfgen.testing)) == sorted(tfgen.testing.__all__)


def test_the_platform_repo_example_imports_only_tfgen_and_tfgen_testing():
    files = sorted(PLATFORM_REPO.rglob("*.py"))
    imported = set()
    for path in files:
        if path.parent.name == "policies":
            continue  # checkov policies import checkov, as every checkov policy does
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                imported.add(node.module or "")
    assert {name for name in imported if name.split(".")[0] == "tfgen"} == {"tfgen.testing"}
    assert len(files) >= 5, files


def test_the_plugin_is_registered_through_the_pytest11_entry_point():
    from importlib.metadata import entry_points

    assert [e.value for e in entry_points(group="pytest11") if e.name == "tfgen"] == ["tfgen.testing.plugin"]


def _change(address: str, actions: list[str], before: dict | None, after: dict | None, **more) -> dict:
    """A resource change as `terraform show -json` writes it (format 1.2)."""
    type_, name = address.split(".")
    return {"address": address, "mode": "managed", "type": type_, "name": name,
            "change": {"actions": actions, "before": before, "after": after, "after_unknown": {},
                       "before_sensitive": {}, "after_sensitive": {}}, **more}


def _plan_document(*changes: dict) -> dict:
    return {"format_version": "1.2", "terraform_version": "1.10.5", "resource_changes": list(changes)}


DAY2 = _plan_document(
    _change("aws_eks_node_group.us_west_2_edge__workers", ["update"], {"scaling_config": [{"max_size": 6}]},
            {"scaling_config": [{"max_size": 8}]}),
    _change("aws_vpc.us_east_2_edge", ["delete", "create"], {"cidr_block": "10.21.0.0/16"},
            {"cidr_block": "10.31.0.0/16"}, replace_paths=[["cidr_block"]], action_reason="replace_because_cannot_update"),
)


def test_a_replacement_fails_naming_the_resource_and_why():
    with pytest.raises(AssertionError) as failed:
        tfgen.testing.assert_no_replacements(DAY2, root="production")
    assert "the plan of production replaces 1 resource(s)" in str(failed.value)
    assert "production: aws_vpc.us_east_2_edge is replaced: cidr_block: 10.21.0.0/16 -> 10.31.0.0/16" in str(
        failed.value)
    tfgen.testing.assert_no_replacements(_plan_document(DAY2["resource_changes"][0]), root="production")


def test_assert_changes_allows_by_status_and_object_path_with_the_builds_record(tmp_path):
    out = tmp_path / "out"
    tfgen.build(tfgen.load(EXAMPLE), out)
    diff = tfgen.testing.fleet_diff(DAY2, root="production", out=out)
    assert {o.path: str(o.status) for o in diff.objects} == {
        "production/us-west-2/edge": "updated in place", "production/us-east-2/edge": "REPLACED"}
    tfgen.testing.assert_changes(DAY2, root="production", out=out,
                                 allow={"updated": ["*"], "replaced": ["production/us-east-2/*"]})
    with pytest.raises(AssertionError, match=r"(?s)not allowed \(updated: \['\*'\]\).*production/us-east-2/edge  "
                                             r"REPLACED"):
        tfgen.testing.assert_changes(DAY2, root="production", out=out, allow={"updated": ["*"]})
    with pytest.raises(AssertionError, match=r"allow= names \['changed'\]; use new, updated, replaced, destroyed"):
        tfgen.testing.assert_changes(DAY2, allow={"changed": ["*"]})


def test_the_plan_cache_reads_an_unchanged_root_back_and_never_stores_a_real_plan(tmp_path):
    from tfgen.testing.plugin import PlanCache

    root = tmp_path / "production"
    root.mkdir()
    (root / "main.tf.json").write_text('{"resource": {}}')
    made = []

    def make() -> Plan:
        made.append(1)
        return PLAN

    store = tmp_path / "cache"
    store.mkdir()
    PlanCache(store).plan(root, offline=True, make=make)
    PlanCache(store).plan(root, offline=False, make=make)
    assert (len(made), len(list(store.iterdir()))) == (2, 1)
    again = PlanCache(store)
    assert again.plan(root, offline=True, make=make).raw == PLAN.raw
    assert (len(made), again.planned, again.cached) == (2, 0, 1)
    (root / "main.tf.json").write_text('{"resource": {"aws_vpc": {}}}')
    again.plan(root, offline=True, make=make)
    assert (len(made), again.planned) == (3, 1), "a changed root is planned again"
