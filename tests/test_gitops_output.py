"""The GitOps path checked on the emitted documents (NET300-NET307): each break of
the example's output, one at a time, fires its code naming the edge and the place;
the unbroken output passes in every connectivity mode and identity."""

from __future__ import annotations

import copy
import json
import shutil

import pytest

import tfgen
from tfgen.derive import naming
from tfgen.checks.gitops_output import check_gitops_output, evaluate, expected_of
from tfgen.cli import main
from tfgen.pipeline import prepare
from tests.conftest import EXAMPLE, ROOT, write_spec

EDGE = "us_east_2_edge"
NAME = "us-east-2/edge"
DEPLOYER = f"aws_iam_role.{EDGE}_deployer"
ENTRY = naming.principal_name(EDGE, "argocd-deployer")


@pytest.fixture(scope="module")
def development():
    return prepare(tfgen.load(EXAMPLE)).documents["development"]


def _resources(docs, type_, name=None):
    """The resources of `type_` in the file that holds them (that holds `name`, when given)."""
    return next(d["resource"][type_] for d in docs.values()
                if type_ in d.get("resource", {}) and (name is None or name in d["resource"][type_]))


def _policy(body, key):
    return json.loads(body[key])


def _drop_rule(docs):
    del _resources(docs, "aws_vpc_security_group_ingress_rule")[f"{EDGE}_api__hub_cidr"]


def _move_rule(docs):
    _resources(docs, "aws_vpc_security_group_ingress_rule")[f"{EDGE}_api__hub_cidr"]["cidr_ipv4"] = "10.99.0.0/16"


def _drop_edge_route(docs):
    name = f"{EDGE}_private_b__to__us_east_1_hub"
    del _resources(docs, "aws_route", name)[name]


def _drop_hub_route(docs):
    name = f"us_east_1_hub_private_a__to__{EDGE}"
    del _resources(docs, "aws_route", name)[name]


def _retrust(docs):
    role = _resources(docs, "aws_iam_role", f"{EDGE}_deployer")[f"{EDGE}_deployer"]
    trust = _policy(role, "assume_role_policy")
    trust["Statement"][0]["Principal"] = {"AWS": "arn:aws:iam::111111111111:role/someone-else"}
    role["assume_role_policy"] = json.dumps(trust)


def _unlist_deployer(docs):
    policy = _resources(docs, "aws_iam_role_policy", "us_east_1_hub_argocd")["us_east_1_hub_argocd"]
    document = _policy(policy, "policy")
    document["Statement"][0]["Resource"] = [r for r in document["Statement"][0]["Resource"] if EDGE not in r]
    policy["policy"] = json.dumps(document)


def _drop_entry(docs):
    del _resources(docs, "aws_eks_access_entry")[ENTRY]


def _downgrade_association(docs):
    association = _resources(docs, "aws_eks_access_policy_association")[f"{ENTRY}__amazoneksclusteradminpolicy"]
    association["policy_arn"] = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"


def _drop_pod_identity(docs):
    _resources(docs, "aws_eks_pod_identity_association").clear()


def _public_endpoint(docs):
    _resources(docs, "aws_eks_cluster")[EDGE]["vpc_config"]["endpoint_public_access"] = True


def _no_private_endpoint(docs):
    _resources(docs, "aws_eks_cluster")[EDGE]["vpc_config"]["endpoint_private_access"] = False


def _drop_gitops_output(docs):
    del docs["outputs.tf.json"]["output"]["gitops"]


def _bootstrap_before_access(docs):
    association = _resources(docs, "aws_ssm_association")["us_east_1_hub_bootstrap"]
    association["depends_on"] = [d for d in association["depends_on"] if ENTRY not in d]


def _bootstrap_destroy_first(docs):
    del _resources(docs, "aws_ssm_association")["us_east_1_hub_bootstrap"]["lifecycle"]


def _bootstrap_on_stale_data(docs):
    document = _resources(docs, "aws_ssm_document")["us_east_1_hub_bootstrap"]
    document["content"] = document["content"].replace("${aws_s3_object.us_east_1_hub_registration.version_id}", "1")


BREAKS = [
    (_drop_rule, "NET303", NAME, "security.tf.json", f"aws_security_group.{EDGE}_api"),
    (_move_rule, "NET303", NAME, "security.tf.json", f"aws_vpc_security_group_ingress_rule.{EDGE}_api__hub_cidr"),
    (_drop_edge_route, "NET302", NAME, "network.tf.json", f"aws_route_table.{EDGE}_private_b"),
    (_drop_hub_route, "NET302", NAME, "network.tf.json", "aws_route_table.us_east_1_hub_private_a"),
    (_retrust, "NET305", NAME, "access.tf.json", DEPLOYER),
    (_unlist_deployer, "NET307", NAME, "access.tf.json", "aws_iam_role_policy.us_east_1_hub_argocd"),
    (_drop_entry, "NET306", NAME, "access.tf.json", DEPLOYER),
    (_downgrade_association, "NET306", NAME, "access.tf.json", f"aws_eks_access_entry.{ENTRY}"),
    (_drop_pod_identity, "NET301", "gitops/argocd/argocd-server", "access.tf.json", "aws_iam_role.us_east_1_hub_argocd"),
    (_public_endpoint, "NET304", NAME, "clusters.tf.json", f"aws_eks_cluster.{EDGE}"),
    (_no_private_endpoint, "NET304", NAME, "clusters.tf.json", f"aws_eks_cluster.{EDGE}"),
    (_drop_gitops_output, "NET300", "gitops", "outputs.tf.json", "output.gitops"),
    (_bootstrap_before_access, "VAL454", NAME, "bootstrap.tf.json", "aws_ssm_association.us_east_1_hub_bootstrap"),
    (_bootstrap_destroy_first, "VAL455", "gitops", "bootstrap.tf.json", "aws_ssm_association.us_east_1_hub_bootstrap"),
    (_bootstrap_on_stale_data, "VAL455", "gitops", "bootstrap.tf.json", "aws_ssm_association.us_east_1_hub_bootstrap"),
]


@pytest.mark.parametrize("tamper, code, subject, file, address", BREAKS, ids=[b[0].__name__ for b in BREAKS])
def test_each_break_fires_its_code_naming_the_edge_and_the_place(development, tamper, code, subject, file, address):
    docs = copy.deepcopy(development)
    tamper(docs)
    found = check_gitops_output("development", docs)
    assert {f.code for f in found} == {code}, [f.format() for f in found]
    paths = {f.path for f in found}
    assert f"development/{subject}" in paths, paths
    hit = next(f for f in found if f.path == f"development/{subject}")
    assert f"(in {file}, {address})" in hit.message, hit.message
    assert hit.origin is not None and hit.origin.file == file, hit.format()


def test_every_service_account_needs_its_association(development):
    docs = copy.deepcopy(development)
    del _resources(docs, "aws_eks_pod_identity_association")["us_east_1_hub__argocd__argocd_server"]
    found = check_gitops_output("development", docs)
    assert [(f.code, f.path) for f in found] == [("NET301", "development/gitops/argocd/argocd-server")]


def test_from_build_a_break_points_at_the_spec_line_of_the_edge(development):
    fleet = prepare(tfgen.load(EXAMPLE)).fleet
    env = fleet.environment("development")
    docs = copy.deepcopy(development)
    _drop_rule(docs)
    [finding] = check_gitops_output("development", docs, expected=expected_of(env))
    edge = env.regions["us-east-2"].clusters["edge"]
    assert (finding.code, finding.origin) == ("NET303", edge.origin()), finding.format()
    assert finding.origin.file.endswith("multi-region-eks.yaml") and finding.origin.line


def _verdicts(spec):
    prepared = prepare(tfgen.load(spec))
    assert not prepared.errors, [f.format() for f in prepared.errors]
    return {root: evaluate(root, docs) for root, docs in prepared.documents.items()}


@pytest.mark.parametrize("spec", [EXAMPLE, ROOT / "examples" / "mesh.yaml", ROOT / "examples" / "transit-gateway.yaml"])
def test_the_unbroken_examples_pass_every_rule_on_every_edge(spec):
    for root, verdicts in _verdicts(spec).items():
        assert [v.summary for v in verdicts if not v.holds] == [], root
        if root != "_state":
            assert {v.code for v in verdicts} == {f"NET30{i}" for i in range(8)} | {"VAL454", "VAL455"}, root


IRSA_SPEC = """\
project: demo
environments:
  dev:
    account_id: "123456789012"
    identity: irsa
    {gitops}
    hub: {{region: us-east-1, cidr: 10.10.0.0/16}}
    regions:
      us-east-2: {{cidr: 10.11.0.0/16}}
"""


def test_irsa_passes_and_its_sub_condition_is_checked(tmp_path):
    spec = write_spec(tmp_path, IRSA_SPEC.format(gitops=""))
    docs = prepare(tfgen.load(spec)).documents["dev"]
    assert [v.summary for v in evaluate("dev", docs) if not v.holds] == []
    role = _resources(docs, "aws_iam_role", "us_east_1_hub_argocd")["us_east_1_hub_argocd"]
    role["assume_role_policy"] = role["assume_role_policy"].replace("argocd:argocd-server", "argocd:other")
    found = check_gitops_output("dev", docs)
    assert [(f.code, f.path) for f in found] == [("NET301", "dev/gitops/argocd/argocd-server")], found


def test_a_fleet_without_gitops_has_no_gitops_path_to_check(tmp_path):
    spec = write_spec(tmp_path, IRSA_SPEC.format(gitops="gitops: {enabled: false}"))
    prepared = prepare(tfgen.load(spec))
    assert not [f for f in prepared.findings if f.code.startswith("NET30")]
    assert evaluate("dev", prepared.documents["dev"]) == []


def test_build_refuses_a_fleet_whose_emitted_path_is_broken(tmp_path, monkeypatch, capsys):
    import tfgen.emit as emit
    from tfgen.emit import security

    class WithoutHubCidr:
        """What emit_security makes, minus the edges' rules from the hub CIDR."""

        def __init__(self, ctx):
            self.document = copy.deepcopy(security.emit_security(ctx).as_dict())
            rules = self.document["resource"]["aws_vpc_security_group_ingress_rule"]
            for name in [n for n in rules if n.endswith("__hub_cidr")]:
                del rules[name]

        def __bool__(self):
            return True

        def as_dict(self):
            return self.document

    monkeypatch.setitem(emit.FILES, "security.tf.json", WithoutHubCidr)
    spec = write_spec(tmp_path, IRSA_SPEC.format(gitops=""))
    out = tmp_path / "out"
    assert main(["build", str(spec), "--out", str(out)]) == 1
    printed = capsys.readouterr()
    assert "NET303" in printed.err and "us-east-2/edge" in printed.err, printed.err
    assert f"{spec}:" in printed.err, "the finding names the spec line of the edge"
    assert "Traceback" not in printed.err
    assert not out.exists()


@pytest.mark.slow
def test_tfgen_check_fails_a_hand_edited_output_at_the_broken_rule(example_out, tmp_path, capsys):
    out = tmp_path / "out"
    shutil.copytree(example_out / "development", out / "development")
    security = out / "development" / "security.tf.json"
    document = json.loads(security.read_text())
    document["resource"]["aws_vpc_security_group_ingress_rule"][f"{EDGE}_api__hub_cidr"]["cidr_ipv4"] = "10.99.0.0/16"
    security.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    assert main(["check", str(out)]) == 1
    printed = capsys.readouterr().out
    failed = [line for line in printed.splitlines() if line.strip().startswith("FAILED NET")]
    assert len(failed) == 1, printed
    assert f"FAILED NET303 aws_vpc_security_group_ingress_rule.{EDGE}_api__hub_cidr at " in failed[0], failed
    assert "security.tf.json:" in failed[0] and NAME in failed[0], failed


def test_an_edge_whose_output_names_no_region_is_named_by_its_providers_region(development):
    """The edge's name comes from its `cluster_<key>` output; without a region there, from the region of the
    provider alias its cluster pins (read through the root's index)."""
    docs = copy.deepcopy(development)
    _drop_rule(docs)
    outputs = next(d["output"] for d in docs.values() if f"cluster_{EDGE}" in d.get("output", {}))
    del outputs[f"cluster_{EDGE}"]["value"]["region"]
    found = check_gitops_output("development", docs)
    assert {f.path for f in found if f.code == "NET303"} == {f"development/{NAME}"}, [f.format() for f in found]
