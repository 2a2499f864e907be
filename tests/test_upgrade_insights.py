"""tfgen upgrade --check: EKS upgrade insights of the next step's clusters, read through boto3 against recorded
responses (botocore's Stubber: the AWS double has no insights API); an ERROR insight refuses, naming it; without
credentials the check says it did not check."""

from __future__ import annotations

from datetime import date

import boto3
from botocore.stub import Stubber

import tfgen
from tfgen.derive import naming
from tfgen.upgrade import plan_upgrade
from tfgen.upgrade.insights import check_steps

SPEC = """project: demo
rollout: {waves: [[us-east-2]]}
environments:
  dev:
    account_id: "123456789012"
    access: {admins: ["arn:aws:iam::123456789012:role/platform-admin"]}
    defaults: {kubernetes_version: "1.35"}
    hub: {region: us-east-1, cidr: 10.10.0.0/16}
    regions:
      us-east-2: {cidr: 10.11.0.0/16}
      us-west-2: {cidr: 10.12.0.0/16}
"""
EKS_NAME = naming.eks_cluster_name("demo", "dev", "us-east-2", "edge")
FILTER = {"categories": ["UPGRADE_READINESS", "MISCONFIGURATION"], "kubernetesVersions": ["1.36"]}


def _summary(id_: str, name: str, status: str, reason: str) -> dict:
    return {"id": id_, "name": name, "category": "UPGRADE_READINESS", "kubernetesVersion": "1.36",
            "insightStatus": {"status": status, "reason": reason}}


def _stubbed(responses):
    client = boto3.client("eks", region_name="us-east-2", aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(client)
    for method, expected, response in responses:
        stubber.add_response(method, response, expected)
    stubber.activate()
    return client, stubber


def _steps():
    fleet = tfgen.loads(SPEC)
    return fleet, [plan_upgrade(fleet, "1.36", today=date(2026, 12, 7)).environments[0].steps[0]]


def test_an_error_insight_on_the_next_wave_refuses_naming_it():
    fleet, steps = _steps()
    assert steps[0].clusters == ("us-east-2/edge",)  # the canary wave
    client, stubber = _stubbed([
        ("list_insights", {"clusterName": EKS_NAME, "filter": FILTER},
         {"insights": [_summary("a1", "Deprecated APIs removed in Kubernetes v1.36", "ERROR", "Deprecated API usage "
                                "detected within last 30 days"),
                       _summary("b2", "Kubelet version skew", "PASSING", "")], "nextToken": "page-2"}),
        ("list_insights", {"clusterName": EKS_NAME, "filter": FILTER, "nextToken": "page-2"},
         {"insights": [_summary("c3", "Amazon EKS add-on version compatibility", "WARNING", "check add-ons")]}),
        ("describe_insight", {"clusterName": EKS_NAME, "id": "a1"},
         {"insight": {"id": "a1", "name": "Deprecated APIs removed in Kubernetes v1.36",
                      "recommendation": "Update manifests and clients to use newer API versions"}}),
    ])
    report = check_steps(fleet, steps, target="1.36", clients=lambda region, role: client)
    stubber.assert_no_pending_responses()
    assert report.checked == ["dev/us-east-2/edge"]
    assert [(i.name, i.status) for i in report.insights] == [
        ("Deprecated APIs removed in Kubernetes v1.36", "ERROR"), ("Kubelet version skew", "PASSING"),
        ("Amazon EKS add-on version compatibility", "WARNING")]
    (refusal,) = report.findings
    assert (refusal.code, refusal.path) == ("CHG572", "dev/us-east-2/edge")
    assert "Deprecated APIs removed in Kubernetes v1.36" in refusal.message
    assert refusal.hint == "Update manifests and clients to use newer API versions"


def test_passing_insights_let_the_step_go():
    fleet, steps = _steps()
    client, stubber = _stubbed([("list_insights", {"clusterName": EKS_NAME, "filter": FILTER},
                                 {"insights": [_summary("b2", "Kubelet version skew", "PASSING", "")]})])
    report = check_steps(fleet, steps, target="1.36", clients=lambda region, role: client)
    assert (report.checked, report.findings) == (["dev/us-east-2/edge"], [])


def test_an_api_error_leaves_the_cluster_unchecked_never_ready():
    fleet, steps = _steps()
    client = boto3.client("eks", region_name="us-east-2", aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(client)
    stubber.add_client_error("list_insights", "ResourceNotFoundException", "No cluster found")
    stubber.activate()
    report = check_steps(fleet, steps, target="1.36", clients=lambda region, role: client)
    assert report.checked == [] and report.findings == []
    assert report.unchecked[0][0] == "dev/us-east-2/edge" and "ResourceNotFoundException" in report.unchecked[0][1]
    assert "did not check upgrade readiness" in report.format()


def test_without_credentials_check_says_it_did_not_check(tmp_path, capsys, monkeypatch):
    from tfgen.cli import main

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("TFGEN_TODAY", "2026-12-07")
    spec = tmp_path / "fleet.yaml"
    spec.write_text(SPEC)
    assert main(["upgrade", str(spec), "--to", "1.36", "--check"]) == 0
    out = capsys.readouterr().out
    assert "dev/us-east-2/edge: NOT CHECKED: no AWS credentials" in out
    assert "did not check upgrade readiness" in out


def test_the_cli_refuses_on_an_error_insight(tmp_path, capsys, monkeypatch):
    from tfgen.cli import main
    from tfgen.upgrade import insights

    client, _ = _stubbed([
        ("list_insights", {"clusterName": EKS_NAME, "filter": FILTER},
         {"insights": [_summary("a1", "Deprecated APIs removed in Kubernetes v1.36", "ERROR", "in use")]}),
        ("describe_insight", {"clusterName": EKS_NAME, "id": "a1"}, {"insight": {"id": "a1", "recommendation": ""}}),
    ])
    monkeypatch.setattr(insights, "aws_clients", lambda: (lambda region, role: client))
    monkeypatch.setenv("TFGEN_TODAY", "2026-12-07")
    spec = tmp_path / "fleet.yaml"
    spec.write_text(SPEC)
    assert main(["upgrade", str(spec), "--to", "1.36", "--check", "--write"]) == 1
    assert "CHG572" in capsys.readouterr().err
    assert spec.read_text() == SPEC  # refused before anything is written
