"""`tfgen apply OUT --waves` reads each environment's clusters through EKS with that environment's credentials:
STS AssumeRole into the role the build's providers assume (once per environment, however many waves), EKS in
each cluster's region with the keys it returned; a refused AssumeRole fails that environment's clusters and says
so once, naming the role; no credentials at all leaves every cluster reported not verified, per environment.
Driven end to end through the CLI (the recording stub terraform) against recorded AWS responses (botocore's
Stubber: the stubs assert the role ARN and session name of every AssumeRole, in order)."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

import tfgen
from tfgen.cli import main
from tfgen.derive import naming
from tfgen.orchestrate import read_graph
from tfgen.upgrade import runner
from tests.test_upgrade_waves import _applied, stub_without_credentials


@pytest.fixture
def stub(tmp_path, monkeypatch):
    return stub_without_credentials(tmp_path, monkeypatch)


ROLES = {"production": "arn:aws:iam::222222222222:role/deployer", "staging": "arn:aws:iam::333333333333:role/ops"}
SPEC = """project: demo
layout: cells
rollout: {waves: [[us-east-2]]}
environments:
  production:
    assume_role: arn:aws:iam::222222222222:role/deployer
    access: {admins: ["arn:aws:iam::222222222222:role/platform-admin"]}
    defaults: {kubernetes_version: "1.35"}
    hub: {region: us-east-1, cidr: 10.20.0.0/16}
    regions:
      us-east-2: {cidr: 10.21.0.0/16}
  staging:
    __ROLE__
    access: {admins: ["arn:aws:iam::333333333333:role/platform-admin"]}
    defaults: {kubernetes_version: "1.35"}
    hub: {region: us-east-1, cidr: 10.30.0.0/16}
    regions:
      us-east-2: {cidr: 10.31.0.0/16}
"""
STAGING_ROLE = "assume_role: arn:aws:iam::333333333333:role/ops"
STAGING_ACCOUNT = 'account_id: "333333333333"'


def _build(tmp_path, stub, staging: str = STAGING_ROLE):
    spec = tmp_path / "demo.yaml"
    spec.write_text(SPEC.replace("__ROLE__", staging))
    out = tmp_path / "out"
    tfgen.build(tfgen.load(spec), out)
    for root in read_graph(out).roots:
        (stub / f"{root}.counts").write_text("0 0 0")
    return out


def _key(env: str) -> str:
    return f"AK{env.upper():0<16}"


def _keys(env: str) -> dict:
    return {"AccessKeyId": _key(env), "SecretAccessKey": "s", "SessionToken": "t",
            "Expiration": "2026-12-07T12:00:00Z"}


class Recorded:
    """boto3 clients on recorded responses: one STS client whose AssumeRoles are expected in order, and an EKS
    client per (region, access key) answering DescribeCluster with the given versions."""

    def __init__(self) -> None:
        self.sts = boto3.client("sts", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
        self.sts_stub = Stubber(self.sts)
        self.versions: dict[tuple[str, str | None], dict[str, str]] = {}
        self.stubs: list[Stubber] = [self.sts_stub]
        self.connected: list[tuple[str, str, str | None]] = []

    def assume(self, env: str, *, denied: bool = False) -> None:
        expected = {"RoleArn": ROLES[env], "RoleSessionName": naming.aws_name("tfgen", "demo", env)}
        if denied:
            self.sts_stub.add_client_error("assume_role", "AccessDenied", f"not authorized to assume {ROLES[env]}",
                                           expected_params=expected)
        else:
            self.sts_stub.add_response("assume_role", {"Credentials": _keys(env)}, expected)

    def cluster(self, region: str, key: str | None, env: str, version: str) -> None:
        name = naming.eks_cluster_name("demo", env, region, "edge")
        self.versions.setdefault((region, key), {})[name] = version

    def connect(self, service: str, region: str, credentials: dict | None):
        key = credentials["aws_access_key_id"] if credentials else None
        self.connected.append((service, region, key))
        if service == "sts":
            return self.sts
        client = boto3.client("eks", region_name=region, aws_access_key_id="x", aws_secret_access_key="x")
        stubber = Stubber(client)
        for name, version in sorted(self.versions.get((region, key), {}).items()):
            stubber.add_response("describe_cluster", {"cluster": {"name": name, "version": version}},
                                 {"name": name})
        self.stubs.append(stubber)
        stubber.activate()
        return client

    def __enter__(self):
        self.sts_stub.activate()
        return self

    def __exit__(self, *exc):
        if exc[0] is None:
            for stubber in self.stubs:
                stubber.assert_no_pending_responses()


@pytest.fixture
def recorded(monkeypatch):
    with Recorded() as aws:
        monkeypatch.setattr(runner, "default_connect", lambda: aws.connect)
        yield aws


def test_each_environment_is_read_with_the_role_its_providers_assume(tmp_path, stub, recorded, capsys):
    out = _build(tmp_path, stub)
    recorded.assume("production")
    recorded.assume("staging")
    for env in ROLES:
        recorded.cluster("us-east-2", _key(env), env, "1.35")
        recorded.cluster("us-east-1", _key(env), env, "1.35")
        recorded.versions[("us-east-1", _key(env))] = {
            naming.eks_cluster_name("demo", env, "us-east-1", "hub"): "1.35"}
    assert main(["apply", str(out), "--waves", "--auto-approve"]) == 0, capsys.readouterr()
    text = capsys.readouterr().out
    assert "not verified" not in text and "FAILED" not in text, text
    eks = sorted(c for c in recorded.connected if c[0] == "eks")
    assert eks == [("eks", "us-east-1", _key("production")), ("eks", "us-east-1", _key("staging")),
                   ("eks", "us-east-2", _key("production")), ("eks", "us-east-2", _key("staging"))]
    assert [c for c in recorded.connected if c[0] == "sts"] == [("sts", "us-east-1", None)] * 2  # once each


def test_a_refused_assume_role_fails_that_environment_naming_the_role(tmp_path, stub, recorded, capsys):
    out = _build(tmp_path, stub)
    recorded.assume("production", denied=True)
    assert main(["apply", str(out), "--waves", "--auto-approve"]) == 1
    text = capsys.readouterr().out
    assert text.count(f"production: AssumeRole into {ROLES['production']} failed (ClientError") == 1, text
    assert ("FAILED production/us-east-2/edge: not verified: its environment's credentials could not be had "
            "(see above)") in text
    assert "later waves were not run" in text
    assert "staging--us-east-2" not in _applied(stub)
    assert [c for c in recorded.connected if c[0] == "eks"] == []


def test_a_wrong_version_fails_the_cluster(tmp_path, stub, recorded, capsys):
    out = _build(tmp_path, stub)
    recorded.assume("production")
    recorded.cluster("us-east-2", _key("production"), "production", "1.34")
    assert main(["apply", str(out), "--waves", "--auto-approve"]) == 1
    assert "FAILED production/us-east-2/edge: EKS reports Kubernetes 1.34, the build gives it 1.35" in \
        capsys.readouterr().out


def test_an_environment_without_a_role_is_read_with_the_default_chain(tmp_path, stub, recorded, capsys):
    out = _build(tmp_path, stub, staging=STAGING_ACCOUNT)
    recorded.assume("production")
    recorded.cluster("us-east-2", _key("production"), "production", "1.35")
    recorded.versions[("us-east-1", _key("production"))] = {
        naming.eks_cluster_name("demo", "production", "us-east-1", "hub"): "1.35"}
    recorded.cluster("us-east-2", None, "staging", "1.35")
    recorded.versions[("us-east-1", None)] = {naming.eks_cluster_name("demo", "staging", "us-east-1", "hub"): "1.35"}
    assert main(["apply", str(out), "--waves", "--auto-approve"]) == 0, capsys.readouterr()
    assert [c for c in recorded.connected if c[0] == "sts"] == [("sts", "us-east-1", None)]  # production only
    assert ("eks", "us-east-2", None) in recorded.connected


def test_without_credentials_each_environment_says_it_was_not_verified(tmp_path, stub, monkeypatch, capsys):
    out = _build(tmp_path, stub)
    monkeypatch.setattr(runner, "default_connect", lambda: None)
    assert main(["apply", str(out), "--waves", "--auto-approve"]) == 0
    text = capsys.readouterr().out
    for env in ROLES:
        assert f"not verified through the EKS API: {env}/us-east-2/edge: {env}: no AWS credentials" in text, text


def test_a_govcloud_or_china_role_is_assumed_through_its_partitions_sts():
    from tfgen.upgrade.aws import Access, EnvironmentSessions

    asked = []

    class Sts:
        def assume_role(self, **request):
            return {"Credentials": {"AccessKeyId": "k", "SecretAccessKey": "s", "SessionToken": "t"}}

    def connect(service, region, credentials):
        asked.append((service, region))
        return Sts()

    sessions = EnvironmentSessions(connect)
    for env, arn in (("gov", "arn:aws-us-gov:iam::111111111111:role/deploy"),
                     ("cn", "arn:aws-cn:iam::222222222222:role/deploy"),
                     ("commercial", "arn:aws:iam::333333333333:role/deploy")):
        sessions.credentials(env, Access(arn, "tfgen"))
    assert asked == [("sts", "us-gov-west-1"), ("sts", "cn-north-1"), ("sts", "us-east-1")]
