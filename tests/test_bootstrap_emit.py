"""The GitOps bootstrap as `tfgen build` emits it (#15): self-managed, managed and none.

What is proven here, without AWS or Kubernetes: the emitted resources and their wiring; that the
document's script, with the values Terraform fills in taken from a sandbox-applied environment's
outputs, is byte for byte the script tfgen renders from those outputs (one code path), and run
against stub tools it registers one Secret per edge with the right server and role; the argument
schemas of every admitted provider; the rules of each mode, broken input by broken input.
"""

from __future__ import annotations

import copy
import dataclasses
import io
import json
import re
from pathlib import Path

import pytest

import tfgen
from bootstrap_stubs import Bench
from tfgen.bootstrap import Registration, registration_data, render_script, seed_input
from tfgen.bootstrap.validate import validate_manifests
from tfgen.checks.gitops_bootstrap import dependencies
from tfgen.checks.gitops_output import evaluate
from tfgen.emit import emit_environment
from tfgen.gitops import read_outputs, render
from tfgen.terraform.lowering import lower
from tfgen.terraform.roots import documents_root
from tfgen.sandbox.expectation import expect_environment
from tfgen.sandbox.quirks import sandbox_passes
from tfgen.sandbox.verify.bootstrap import check_bootstrap_document
from tfgen.testing import check_schemas

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "multi-region-eks.yaml"
FIXTURE = ROOT / "tests" / "gitops_fixtures" / "development.outputs.json"
REPO = ("https://github.com/example-org/fleet-gitops.git", "main", "bootstrap")
HUB = "multi-region-clusters-development-us-east-1-hub"
EDGES = ("us_east_2_edge", "us_west_2_edge")
_REF = re.compile(r"(?<!\$)\$\{([^}]+)\}")
SECRET = "arn:aws:secretsmanager:us-east-1:111111111111:secret:fleet-gitops-AbCdEf"

MANAGED = """\
project: demo
aws_provider: ">= 6.25, < 7.0"
environments:
  dev:
    account_id: "123456789012"
    access: {admins: ["arn:aws:iam::123456789012:role/platform-admin"]}
    gitops:
      argocd: managed
      repo: {url: "https://github.com/example-org/fleet-gitops.git", path: bootstrap}
      identity_center:
        instance_arn: "arn:aws:sso:::instance/ssoins-0123456789abcdef"
        region: us-east-1
        admins: ["a1b2c3d4e5-11111111-2222-3333-4444-555555555555"]
    hub: {region: us-east-1, cidr: 10.10.0.0/16}
    regions:
      us-east-2: {cidr: 10.11.0.0/16}
      us-west-2: {cidr: 10.12.0.0/16}
"""


def _fleet(tmp_path, text: str) -> tfgen.Fleet:
    spec = tmp_path / "fleet.yaml"
    spec.write_text(text)
    return tfgen.load(spec)


def _root(fleet: tfgen.Fleet, env: str) -> dict[str, dict]:
    return emit_environment(fleet, fleet.environment(env))


def _resources(documents: dict[str, dict]) -> dict[str, dict]:
    return {f"{t}.{n}": b for d in documents.values() for t, items in d.get("resource", {}).items()
            for n, b in items.items()}


def _script(documents: dict[str, dict]) -> str:
    (body,) = documents["bootstrap.tf.json"]["resource"]["aws_ssm_document"].values()
    return "\n".join(json.loads(body["content"])["mainSteps"][0]["inputs"]["runCommand"]) + "\n"


def _data(documents: dict[str, dict]) -> str:
    (body,) = documents["bootstrap.tf.json"]["resource"]["aws_s3_object"].values()
    return body["content"]


VERSION = "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY"  # the registration object's version id, as S3 hands one out


def _registration(env: str = "development", account: str = "111111111111", hub: str = HUB) -> Registration:
    return Registration(bucket=f"multi-region-clusters-{env}-bootstrap-{account}", key=f"registration/{hub}.json",
                        version=VERSION, region="us-east-1")


def _applied(text: str, outputs: dict) -> str:
    """`text` as Terraform makes it at apply, the references' values read from the applied outputs."""
    values = {"aws_s3_object.us_east_1_hub_registration.version_id": VERSION}
    for name, c in outputs.items():
        if name.startswith("cluster_"):
            key = name.removeprefix("cluster_")
            values.update({f"aws_eks_cluster.{key}.endpoint": c["cluster_endpoint"],
                           f"aws_eks_cluster.{key}.certificate_authority[0].data": c["certificate_authority"],
                           f"aws_eks_cluster.{key}.arn": c["cluster_arn"], f"aws_vpc.{key}.id": c["vpc_id"],
                           f"aws_iam_role.{key}_ebs_csi.arn": c["ebs_csi_role_arn"]})
            if "deployer_role_arn" in c:
                values[f"aws_iam_role.{key}_deployer.arn"] = c["deployer_role_arn"]
    values["aws_iam_role.us_east_1_hub_argocd.arn"] = outputs["gitops"]["management_role_arn"]
    return _REF.sub(lambda m: values[m.group(1)], text).replace("$${", "${").replace("%%{", "%{")


# -- self-managed (the example) ------------------------------------------------------------------


def test_each_environment_runs_the_bootstrap_on_its_bastion(example_out):
    for env in ("development", "production"):
        docs = {p.name: json.loads(p.read_text()) for p in (example_out / env).glob("*.tf.json")}
        resources = _resources(docs)
        document = resources["aws_ssm_document.us_east_1_hub_bootstrap"]
        assert (document["document_type"], document["document_format"]) == ("Command", "JSON"), env
        association = resources["aws_ssm_association.us_east_1_hub_bootstrap"]
        assert association["name"] == "${aws_ssm_document.us_east_1_hub_bootstrap.name}", env
        assert association["targets"] == [
            {"key": "InstanceIds", "values": ["${aws_instance.us_east_1_hub_bastion.id}"]}]
        assert association["wait_for_success_timeout_seconds"] == 2400, env
        assert association["output_location"]["s3_bucket_name"] == "${aws_s3_bucket.us_east_1_hub_bootstrap.id}"
        for needed in ("aws_eks_node_group.us_east_1_hub__workers", "aws_eks_addon.us_east_1_hub__coredns",
                       "aws_iam_role_policy.us_east_1_hub_bastion_bootstrap"):
            assert needed in association["depends_on"], (env, needed)
        assert all(d in resources for d in association["depends_on"]), env
        # The output bucket: KMS, private, TLS only, expiring.
        sse = resources["aws_s3_bucket_server_side_encryption_configuration.us_east_1_hub_bootstrap"]["rule"]
        assert sse["apply_server_side_encryption_by_default"] == {
            "sse_algorithm": "aws:kms", "kms_master_key_id": "${aws_kms_key.us_east_1_hub_bootstrap.arn}"}
        assert "aws:SecureTransport" in resources["aws_s3_bucket_policy.us_east_1_hub_bootstrap"]["policy"]
        assert resources["aws_s3_bucket_public_access_block.us_east_1_hub_bootstrap"]["restrict_public_buckets"]
        # The output expires; the registration data (one object, versioned) keeps its current version.
        rules = resources["aws_s3_bucket_lifecycle_configuration.us_east_1_hub_bootstrap"]["rule"]
        assert [(r["filter"], r.get("expiration"), "abort_incomplete_multipart_upload" in r) for r in rules] == [
            ({}, None, True), ({"prefix": "bootstrap/"}, {"days": 90}, False),
            ({"prefix": "registration/"}, None, False)], env
        data = resources["aws_s3_object.us_east_1_hub_registration"]
        hub = f"multi-region-clusters-{env}-us-east-1-hub"
        assert (data["bucket"], data["key"], data["kms_key_id"]) == (
            "${aws_s3_bucket.us_east_1_hub_bootstrap.id}", f"registration/{hub}.json",
            "${aws_kms_key.us_east_1_hub_bootstrap.arn}"), env
        assert "${aws_s3_object.us_east_1_hub_registration.version_id}" in document["content"], env
        # Make-before-break: the new document and association exist (and ran) before the old ones go.
        assert document["lifecycle"] == association["lifecycle"] == {"create_before_destroy": True}, env
        assert association["association_name"] == document["name"], env
        # The bastion: cluster admin on the hub (the chart's CRDs and ClusterRoles), describe, read the data, write
        # the output, use the key.
        entry = [a for a, b in resources.items() if a.startswith("aws_eks_access_entry.us_east_1_hub__bastion")]
        assert len(entry) == 1 and resources[entry[0]]["principal_arn"] == "${aws_iam_role.us_east_1_hub_bastion.arn}"
        policy = json.loads(resources["aws_iam_role_policy.us_east_1_hub_bastion_bootstrap"]["policy"])
        assert {s["Sid"]: s["Resource"] for s in policy["Statement"]} == {
            "KubeconfigOfTheHub": "${aws_eks_cluster.us_east_1_hub.arn}",
            "ReadTheRegistration": f"${{aws_s3_bucket.us_east_1_hub_bootstrap.arn}}/registration/{hub}.json",
            "WriteTheBootstrapOutput": "${aws_s3_bucket.us_east_1_hub_bootstrap.arn}/bootstrap/*",
            "SeeTheOutputBucketIsEncrypted": "${aws_s3_bucket.us_east_1_hub_bootstrap.arn}",
            "UseTheBootstrapKey": "${aws_kms_key.us_east_1_hub_bootstrap.arn}"}


@pytest.mark.parametrize("endpoints", ["as recorded", "in the reverse order of the edges"])
def test_the_document_is_the_script_rendered_from_the_applied_outputs(endpoints):
    outputs = read_outputs(FIXTURE)
    if endpoints != "as recorded":
        # EKS hands out endpoints at random: whatever their order, the applied document must be the script
        # rendered from the outputs (the sandbox compares the two; sorting by server once broke it).
        edges = sorted(k for k, v in outputs.items() if k.startswith("cluster_") and v["role"] == "edge")
        for digit, key in zip("FEDCBA98", edges):  # the first edge's endpoint sorts last, and so on
            host = outputs[key]["cluster_endpoint"].removeprefix("https://").split(".", 1)[1]
            outputs[key]["cluster_endpoint"] = f"https://{digit * 32}.{host}"
    fleet = tfgen.load(EXAMPLE)
    docs = _root(fleet, "development")
    rendered = render(outputs)
    handed = seed_input(environment="development", hub_cluster_name=HUB, region="us-east-1", namespace="argocd",
                        secrets=rendered.secrets, values=rendered.values, repo=REPO, registration=_registration())
    applied = _applied(_script(docs), outputs)
    assert applied == render_script(handed)
    assert "{{" not in applied  # nothing SSM would read as a parameter
    # The registration object, as Terraform writes it, is the data rendered from the outputs.
    assert _applied(_data(docs), outputs) == registration_data(handed)


def test_the_script_from_the_outputs_registers_each_edge_with_its_server_and_role(tmp_path):
    outputs = read_outputs(FIXTURE)
    rendered = render(outputs)
    bench = Bench(tmp_path)
    inp = seed_input(environment="development", hub_cluster_name=HUB, region="us-east-1", namespace="argocd",
                     secrets=rendered.secrets, values=rendered.values, repo=REPO, registration=bench.registration())
    inp = dataclasses.replace(inp, pins=bench.pins())
    bench.put(inp)
    result = bench.run(render_script(inp))
    assert result.returncode == 0, result.stderr
    secrets = {k: v for k, v in bench.objects().items() if k.startswith("Secret/")}
    assert len(secrets) == len(EDGES)
    for key in EDGES:
        cluster = outputs[f"cluster_{key}"]
        secret = secrets[f"Secret/argocd/{cluster['cluster_name']}"]
        assert secret["stringData"]["server"] == cluster["cluster_endpoint"], key
        assert json.loads(secret["stringData"]["config"])["awsAuthConfig"]["roleARN"] == cluster["deployer_role_arn"]
        assert secret["metadata"]["labels"]["tfgen.io/role"] == "edge", key
    root = bench.objects()["Application/argocd/development-root"]
    assert root["spec"]["source"] == {"repoURL": REPO[0], "targetRevision": "main", "path": "bootstrap"}


def test_what_the_bootstrap_applies_validates_against_the_real_schemas():
    outputs = read_outputs(FIXTURE)
    rendered = render(outputs)
    inp = seed_input(environment="development", hub_cluster_name=HUB, region="us-east-1", namespace="argocd",
                     secrets=rendered.secrets, values=rendered.values, repo=REPO, registration=_registration())
    validate_manifests(json.loads(registration_data(inp))["items"])
    managed = seed_input(environment="dev", hub_cluster_name=HUB, region="us-east-1", namespace="argocd",
                         secrets=render(dict(outputs, gitops=dict(outputs["gitops"], argocd="managed"))).secrets,
                         values={}, repo=REPO, managed=True, hub_server="arn:aws:eks:us-east-1:111111111111:cluster/h",
                         registration=_registration(), credential=SECRET)
    items = json.loads(registration_data(managed))["items"]
    validate_manifests(items)
    assert [i["metadata"]["name"] for i in items if i["kind"] == "Secret" and "secretArn" in i["stringData"]] == [
        "dev-gitops-repository"]
    assert all(p["spec"]["sourceNamespaces"] == ["argocd"] for p in managed.root_manifests if p["kind"] == "AppProject")


def test_an_edge_more_is_a_new_document_and_association(tmp_path):
    fleet = tfgen.load(EXAMPLE)
    before = _resources(_root(fleet, "development"))
    fleet.environment("development").add_region("eu-west-1", cidr="10.13.0.0/16")
    after = _resources(_root(fleet, "development"))
    name, data = "aws_ssm_document.us_east_1_hub_bootstrap", "aws_s3_object.us_east_1_hub_registration"
    assert after[name]["name"] != before[name]["name"]  # name forces a new association: the apply waits again
    association = "aws_ssm_association.us_east_1_hub_bootstrap"
    assert after[association]["association_name"] == after[name]["name"]
    # The new edge is registration data; the document is the same size and names the data's version.
    assert "multi-region-clusters-development-eu-west-1-edge" in after[data]["content"]
    assert "multi-region-clusters-development-eu-west-1-edge" not in before[data]["content"]
    assert "eu-west-1" not in after[name]["content"] and len(after[name]["content"]) == len(before[name]["content"])


def test_the_example_is_schema_clean_and_the_sandbox_copy_keeps_the_document(example_out):
    for env in ("development", "production"):
        assert check_schemas(example_out / env) == {"5.100.0": [], "6.25.0": []}, env
    docs = {p.name: json.loads(p.read_text()) for p in (example_out / "development").glob("*.tf.json")}
    lowered = lower(docs, passes=sandbox_passes(lambda region, parameter: "ami-0123456789abcdef0"))
    kept = _resources(lowered.documents)
    assert "aws_ssm_document.us_east_1_hub_bootstrap" in kept
    assert "aws_s3_bucket_object.us_east_1_hub_registration" in kept  # its name before provider 4.0
    assert "aws_ssm_association.us_east_1_hub_bootstrap" not in kept
    # The double has no State Manager: a parameter stands where the association is in the graph.
    association = _resources(docs)["aws_ssm_association.us_east_1_hub_bootstrap"]
    stand_in = kept["aws_ssm_parameter.us_east_1_hub_bootstrap"]
    assert stand_in["name"] == "/tfgen-sandbox/association/${aws_ssm_document.us_east_1_hub_bootstrap.name}"
    assert stand_in["lifecycle"] == association["lifecycle"] == {"create_before_destroy": True}
    assert {"aws_eks_node_group.us_east_1_hub__workers", "aws_s3_bucket_object.us_east_1_hub_registration",
            "aws_iam_role_policy.us_east_1_hub_bastion_bootstrap"} <= set(stand_in["depends_on"])
    assert "${aws_ssm_document.us_east_1_hub_bootstrap.latest_version}" in stand_in["value"]
    assert any(c.address == "aws_ssm_association.us_east_1_hub_bootstrap" and "associations" in c.reason
               for c in lowered.changes)
    offline = lower(docs)  # provider 3.39: the association stays, without the wait
    association = _resources(offline.documents)["aws_ssm_association.us_east_1_hub_bootstrap"]
    assert "wait_for_success_timeout_seconds" not in association


# -- managed and none ----------------------------------------------------------------------------


def test_managed_argocd_is_the_capability_and_its_access_entries(tmp_path):
    fleet = _fleet(tmp_path, MANAGED)
    docs = _root(fleet, "dev")
    resources = _resources(docs)
    capability = resources["aws_eks_capability.us_east_1_hub_argocd"]
    assert (capability["type"], capability["delete_propagation_policy"]) == ("ARGOCD", "RETAIN")
    assert capability["configuration"]["argo_cd"]["aws_idc"]["idc_instance_arn"].startswith("arn:aws:sso:::instance/")
    trust = json.loads(resources["aws_iam_role.us_east_1_hub_argocd_capability"]["assume_role_policy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "capabilities.eks.amazonaws.com"}
    principal = "${aws_iam_role.us_east_1_hub_argocd_capability.arn}"
    entries = sorted(a.split(".")[1].split("__")[0] for a, b in resources.items()
                     if a.startswith("aws_eks_access_entry.") and b["principal_arn"] == principal)
    assert entries == list(EDGES)  # none on the hub: EKS makes it; the hub gets a policy association instead
    assert resources["aws_eks_access_policy_association.us_east_1_hub_argocd_capability"]["depends_on"] == [
        "aws_eks_capability.us_east_1_hub_argocd"]
    assert not any("deployer" in a or a.endswith("_argocd") and "aws_iam_role." in a for a in resources)
    assert not any(a.endswith("_api__hub_cidr") for a in resources)  # AWS reaches the edges: no 443 path
    script = _script(docs)
    assert "install-helm" not in script and "${aws_eks_cluster.us_east_2_edge.arn}" in _data(docs)
    # The registration never races the capability's role: it waits for the capability and each edge's entry.
    waits = dependencies(documents_root(docs), "aws_ssm_association.us_east_1_hub_bootstrap")
    assert {"aws_eks_capability.us_east_1_hub_argocd", "aws_iam_role.us_east_1_hub_argocd_capability"} <= waits
    assert {f"aws_eks_access_entry.{e}" for e in entries} <= {a.split("__")[0] if a.startswith(
        "aws_eks_access_entry.") else a for a in waits}
    assert check_schemas(docs, versions=["6.25.0"]) == {"6.25.0": []}
    assert all(v.holds for v in evaluate("dev", docs))


def test_the_bootstrap_waits_for_the_capability_even_when_it_is_reached_past_every_edge(tmp_path):
    docs = _root(_fleet(tmp_path, MANAGED), "dev")
    resources = _resources(docs)
    capability = "aws_eks_capability.us_east_1_hub_argocd"
    association = resources["aws_ssm_association.us_east_1_hub_bootstrap"]
    # the association no longer names the capability; an edge's cluster does: it is waited for one step further
    association["depends_on"] = [a for a in association["depends_on"] if not a.startswith("aws_eks_capability.")]
    hub_grant = "aws_eks_access_policy_association.us_east_1_hub_argocd_capability"
    association["depends_on"] = [a for a in association["depends_on"] if a != hub_grant]
    resources[f"aws_eks_cluster.{EDGES[0]}"]["depends_on"] = [capability]
    verdicts = [v for v in evaluate("dev", docs) if v.code == "VAL455"]
    assert [(v.holds, v.why) for v in verdicts] == [(True, "")]
    resources[f"aws_eks_cluster.{EDGES[0]}"]["depends_on"] = []
    verdicts = [v for v in evaluate("dev", docs) if v.code == "VAL455"]
    assert [v.why for v in verdicts] == [
        "aws_ssm_association.us_east_1_hub_bootstrap does not wait for the hub's aws_eks_capability"]


def test_managed_rules_see_a_missing_capability_entry(tmp_path):
    docs = _root(_fleet(tmp_path, MANAGED), "dev")
    access = docs["access.tf.json"]["resource"]["aws_eks_access_entry"]
    victim = next(n for n, b in access.items() if n.startswith("us_west_2_edge__argocd_capability"))
    del access[victim]
    broken = [v for v in evaluate("dev", docs) if not v.holds]
    assert [(v.code, v.subject) for v in broken] == [("NET306", "us-west-2/edge")], broken
    assert "capability" in broken[0].title


def test_none_and_bootstrap_off_emit_no_association_and_no_bastion_entry(tmp_path):
    for gitops in ("{argocd: none}", "{bootstrap: false}"):
        text = MANAGED.replace(MANAGED[MANAGED.index("    gitops:"):MANAGED.index("    hub:")],
                               f"    gitops: {gitops}\n").replace(">= 6.25", ">= 5.100")
        docs = _root(_fleet(tmp_path, text), "dev")
        resources = _resources(docs)
        assert "bootstrap.tf.json" not in docs, gitops
        assert not any("bastion_bootstrap" in a for a in resources), gitops
        assert "aws_iam_role.us_east_2_edge_deployer" in resources, gitops  # the path stays, as before #15
        assert check_schemas(docs) == {"5.100.0": [], "6.25.0": []}, gitops


def test_the_sandbox_checks_the_document_and_the_data_against_the_outputs(tmp_path):
    outputs = read_outputs(FIXTURE)
    fleet = tfgen.load(EXAMPLE)
    expectation = expect_environment(fleet, "development")
    boot = expectation.bootstrap
    docs = _root(fleet, "development")
    secrets = {s["stringData"]["name"]: s for s in render(outputs).secrets}

    class Client:
        def __init__(self, service, region, script, data):
            self.service, self.region, self.script, self.data = service, region, script, data

        def list_documents(self, **_):
            return {"DocumentIdentifiers": [{"Name": boot.prefix + "0123456789"}]}

        def get_document(self, Name):
            return {"DocumentType": "Command", "Content": json.dumps({"mainSteps": [
                {"action": "aws:runShellScript", "inputs": {"runCommand": self.script.splitlines()}}]})}

        def head_object(self, Bucket, Key):
            assert (Bucket, Key) == (boot.bucket, boot.key)
            return {"VersionId": VERSION}

        def get_object(self, Bucket, Key, VersionId):
            assert (Bucket, Key, VersionId) == (boot.bucket, boot.key, VERSION)
            return {"Body": io.BytesIO(self.data.encode())}

        def list_role_policies(self, RoleName):
            return {"PolicyNames": ["gitops-bootstrap"] if RoleName == boot.bastion_role else []}

        def get_role_policy(self, RoleName, PolicyName):
            return {"PolicyDocument": {"Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"],
                                                      "Resource": f"arn:aws:s3:::{boot.bucket}/{boot.key}"}]}}

        def describe_cluster(self, name):
            c = next(v for v in outputs.values() if isinstance(v, dict) and v.get("cluster_name") == name)
            return {"cluster": {"endpoint": c["cluster_endpoint"], "certificateAuthority": {
                "data": c["certificate_authority"]}}}

        def get_role(self, RoleName):
            arn = next(json.loads(s["stringData"]["config"])["awsAuthConfig"]["roleARN"] for s in secrets.values()
                       if RoleName in json.loads(s["stringData"]["config"])["awsAuthConfig"]["roleARN"])
            return {"Role": {"Arn": arn}}

    def check(script, data, applied_outputs):
        return check_bootstrap_document(expectation, lambda s, r: Client(s, r, script, data), lambda: applied_outputs)

    script, data = _applied(_script(docs), outputs), _applied(_data(docs), outputs)
    checks = check(script, data, outputs)
    assert [(c.kind, c.ok) for c in checks] == [("bootstrap", True), ("bootstrap", True), ("bootstrap data", True),
                                                 ("bootstrap access", True), ("bootstrap secret", True),
                                                 ("bootstrap secret", True)], [c.format() for c in checks]
    # The object holds what the bootstrap's input says, byte for byte, or its data check fails; the Secrets
    # are checked as that input hands them over, not read back out of the object.
    tampered = data.replace(outputs["cluster_us_west_2_edge"]["cluster_endpoint"], "https://example.com")
    assert [c.kind for c in check(script, tampered, outputs) if not c.ok] == ["bootstrap data"]
    stale = script.replace(VERSION, "an-earlier-version")
    assert [c.kind for c in check(stale, data, outputs) if not c.ok] == ["bootstrap"]
    wrong = copy.deepcopy(outputs)
    wrong["cluster_us_west_2_edge"]["cluster_endpoint"] = f"https://{'0' * 32}.gr7.us-west-2.eks.amazonaws.com"
    checks = check(_applied(_script(docs), wrong), _applied(_data(docs), wrong), wrong)
    assert [(c.kind, c.subject) for c in checks if not c.ok] == [("bootstrap secret", "us-west-2/edge")], checks


def test_the_managed_script_registers_by_arn_and_installs_nothing(tmp_path):
    outputs = read_outputs(FIXTURE)
    managed = dict(outputs, gitops={k: v for k, v in outputs["gitops"].items() if k != "management_role_arn"}
                   | {"argocd": "managed"})
    rendered = render(managed)
    assert rendered.values == {}
    assert all("config" not in s["stringData"] and s["stringData"]["server"].startswith("arn:aws:eks:")
               for s in rendered.secrets)
    bench = Bench(tmp_path)
    hub = "arn:aws:eks:us-east-1:111111111111:cluster/" + HUB
    inp = seed_input(environment="development", hub_cluster_name=HUB, region="us-east-1", namespace="argocd",
                     secrets=rendered.secrets, values={}, repo=REPO, managed=True, hub_server=hub,
                     registration=bench.registration(), credential=SECRET)
    inp = dataclasses.replace(inp, pins=bench.pins())
    bench.put(inp)
    result = bench.run(render_script(inp))
    assert result.returncode == 0, result.stderr
    assert re.findall(r"^tfgen-bootstrap: ([a-z-]+)$", result.stdout, re.M) == [
        "install-kubectl", "registration", "kubeconfig", "cluster-secrets", "deregister", "repository",
        "root-application", "done"]
    assert {c["tool"] for c in bench.calls()} == {"curl", "aws", "kubectl"}  # no helm, no chart
    assert not any(c["args"][:1] == ["secretsmanager"] for c in bench.calls())  # the capability reads it itself
    assert bench.objects()["Application/argocd/development-root"]["spec"]["destination"]["server"] == hub
    repository = bench.objects()["Secret/argocd/development-gitops-repository"]
    assert repository["stringData"] == {"type": "git", "url": REPO[0], "secretArn": SECRET}


def test_a_managed_cluster_arn_that_is_not_the_clusters_is_refused():
    outputs = copy.deepcopy(read_outputs(FIXTURE))
    outputs["gitops"]["argocd"] = "managed"
    outputs["cluster_us_west_2_edge"]["cluster_arn"] = "arn:aws:eks:us-west-2:111111111111:cluster/someone-else"
    with pytest.raises(Exception) as error:
        render(outputs)
    assert "output cluster_us_west_2_edge: field cluster_arn" in str(error.value)


def test_the_tag_policy_knows_which_types_got_tags_after_the_offline_provider():
    import sys

    from tfgen.providers.features import FEATURES, OFFLINE

    sys.path.insert(0, str(ROOT / "tfgen" / "policies"))
    try:
        from tfgen_tags import TAGS_AFTER_OFFLINE
    finally:
        sys.path.pop(0)
    assert TAGS_AFTER_OFFLINE == {f.resource for f in FEATURES if f.key.endswith(".tags") and OFFLINE < f.minimum}
