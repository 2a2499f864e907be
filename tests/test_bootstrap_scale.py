"""GitOps at fleet scale (issue 24): the managed capability's limit, Argo CD's shards, private repositories.

The document's constant size is benchmarks/bootstrap_size.py's and tests/test_ssm_size.py's; the script at
500 edges is tests/test_bootstrap_script.py's; the order of registration, deregistration and destroy is
tests/test_bootstrap_order.py's.
"""

from __future__ import annotations

import json
import re

import pytest

import tfgen
from tfgen.checks.argocd import check_capability_limit
from tfgen.cli import main
from tfgen.derive.gitops_path import controller_sharding
from tfgen.emit import emit_environment
from tests.conftest import write_spec

SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:fleet-gitops-AbCdEf"
KEY = "arn:aws:kms:us-east-1:123456789012:key/0123abcd-4567-89ab-cdef-0123456789ab"
CENTER = ('identity_center: {instance_arn: "arn:aws:sso:::instance/ssoins-0123456789abcdef", '
          'admins: ["a1b2c3d4e5-11111111-2222-3333-4444-555555555555"]}')


def _spec(edges: int, gitops: str, *, managed: bool = False) -> str:
    """A hub and `edges` edges in us-east-2 (transit gateway: no peering quota in the way)."""
    lines = ["project: demo"] + (['aws_provider: ">= 6.25, < 7.0"'] if managed else []) + [
        "environments:", "  dev:", '    account_id: "123456789012"', "    connectivity: transit-gateway",
        '    access: {admins: ["arn:aws:iam::123456789012:role/platform-admin"]}', f"    gitops: {{{gitops}}}",
        "    hub: {region: us-east-1, cidr: 10.0.0.0/16}", "    regions:", "      us-east-2:", "        clusters:"]
    lines += [f"          e{i}: {{cidr: 10.{i + 1}.0.0/16}}" for i in range(edges)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("edges", [100, 101])
def test_a_managed_hub_of_100_edges_or_more_is_refused_at_the_argocd_line_and_99_pass(edges, tmp_path, capsys):
    path = write_spec(tmp_path, _spec(edges, f"argocd: managed, {CENTER}", managed=True))
    assert main(["build", str(path), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    (line,) = [line for line in err.splitlines() if "VAL450" in line]
    assert re.search(rf"{re.escape(str(path))}:8: error VAL450 \[dev\]", line), line  # the gitops line
    assert f"registers {edges + 1} clusters with EKS's Argo CD capability" in line and "at most 100" in line
    assert "split the environment so each hub manages at most 99 edges, or use argocd: self-managed" in err
    assert not (tmp_path / "out").exists()
    fleet = tfgen.loads(_spec(99, f"argocd: managed, {CENTER}", managed=True))
    assert list(check_capability_limit(fleet)) == []
    self_managed = tfgen.loads(_spec(100, "argocd: self-managed"))
    assert list(check_capability_limit(self_managed)) == []


@pytest.mark.parametrize("edges, replicas", [(2, 1), (49, 1), (50, 2), (99, 2), (149, 3), (500, 11)])
def test_the_controller_gets_a_replica_per_50_clusters_it_manages(edges, replicas):
    fleet = tfgen.loads(_spec(edges, "argocd: self-managed"))
    assert controller_sharding(fleet.environment("dev")) == (replicas, "legacy")


def test_the_spec_overrides_the_shards_and_both_reach_the_chart_and_tfgen_gitops():
    fleet = tfgen.loads(_spec(2, "controller_replicas: 3, sharding: round-robin"))
    assert controller_sharding(fleet.environment("dev")) == (3, "round-robin")
    docs = emit_environment(fleet, fleet.environment("dev"))
    (document,) = docs["bootstrap.tf.json"]["resource"]["aws_ssm_document"].values()
    lines = json.loads(document["content"])["mainSteps"][0]["inputs"]["runCommand"]
    values = json.loads(next(lines[i + 1] for i, line in enumerate(lines) if "values.json\" <<'TFGEN_DATA'" in line))
    assert (values["controller"]["replicas"], values["configs"]["params"]) == (
        3, {"controller.sharding.algorithm": "round-robin"})
    gitops = docs["outputs.tf.json"]["output"]["gitops"]["value"]
    assert (gitops["controller_replicas"], gitops["sharding"]) == (3, "round-robin")


def _statements(docs: dict, type_: str, name: str) -> dict:
    body = next(d["resource"][type_][name] for d in docs.values() if name in d.get("resource", {}).get(type_, {}))
    return {s["Sid"]: s for s in json.loads(body["policy"])["Statement"]}


def test_a_private_repository_is_read_by_exactly_its_secret_arn_and_key():
    repo = f'repo: {{url: "https://github.com/org/fleet.git", secret_arn: "{SECRET}", kms_key_arn: "{KEY}"}}'
    fleet = tfgen.loads(_spec(2, repo))
    docs = emit_environment(fleet, fleet.environment("dev"))
    policy = _statements(docs, "aws_iam_role_policy", "us_east_1_hub_bastion_bootstrap")
    assert policy["ReadTheGitOpsRepositoryCredential"]["Resource"] == SECRET
    assert set(policy["ReadTheGitOpsRepositoryCredential"]["Action"]) == {"secretsmanager:GetSecretValue",
                                                                          "secretsmanager:DescribeSecret"}
    decrypt = policy["DecryptTheGitOpsRepositoryCredential"]
    assert (decrypt["Action"], decrypt["Resource"], decrypt["Condition"]) == (
        "kms:Decrypt", KEY, {"StringEquals": {"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}})
    naming = [f"{t}.{n}" for d in docs.values() for t, items in d.get("resource", {}).items()
              for n, b in items.items() if SECRET in json.dumps(b)]
    assert naming == ["aws_iam_role_policy.us_east_1_hub_bastion_bootstrap",  # who may read it
                      "aws_ssm_document.us_east_1_hub_bootstrap"]  # the script that reads it: its ARN, never its value
    # Managed: the capability reads the secret itself, named in the repository Secret of the registration data.
    managed = tfgen.loads(_spec(2, f"argocd: managed, {CENTER}, {repo}", managed=True))
    docs = emit_environment(managed, managed.environment("dev"))
    policy = _statements(docs, "aws_iam_role_policy", "us_east_1_hub_argocd_capability_repository")
    assert (policy["ReadTheGitOpsRepositoryCredential"]["Resource"], policy["DecryptTheGitOpsRepositoryCredential"]
            ["Resource"]) == (SECRET, KEY)
    bastion = _statements(docs, "aws_iam_role_policy", "us_east_1_hub_bastion_bootstrap")
    assert not any("secretsmanager:GetSecretValue" in str(s["Action"]) for s in bastion.values())
    (data,) = docs["bootstrap.tf.json"]["resource"]["aws_s3_object"].values()
    assert f'"secretArn": "{SECRET}"' in data["content"]


def test_without_a_secret_nobody_may_read_one():
    fleet = tfgen.loads(_spec(2, 'repo: {url: "https://github.com/org/fleet.git"}'))
    docs = emit_environment(fleet, fleet.environment("dev"))
    assert "secretsmanager" not in json.dumps(docs)
