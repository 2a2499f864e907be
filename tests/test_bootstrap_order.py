"""The bootstrap on the local AWS double (slow): its data verified, a private repository's secret absent from
every artefact, and a removed edge deregistered before it is destroyed.

One sandbox apply of a hub and two edges in one region (so removing one keeps its region's provider) serves
all three. The double has no State Manager: the sandbox puts an SSM parameter where the association is in the
graph (same references, `depends_on` and lifecycle), so Terraform's order is applied, not the run; the run is
the stub run of tests/test_bootstrap_script.py, here on the data the double holds.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from pathlib import Path

import pytest

import tfgen
from bootstrap_stubs import Bench
from tfgen.bootstrap import Registration, render_script, seed_input
from tfgen.gitops import render
from tfgen.sandbox import Sandbox
from tfgen.sandbox.prepare import in_accounts
from tfgen.sandbox.quirks import sandbox_passes
from tfgen.terraform.run import run_command
from tfgen.terraform.toolchain import OVERRIDE_FILE, copy_root

pytestmark = pytest.mark.slow

SECRET_ARN = "arn:aws:secretsmanager:us-east-1:111111111111:secret:fleet-gitops-AbCdEf"
SECRET = json.dumps({"username": "fleet-bot", "token": "tok-" + "5e1f0b" * 6})
TOKEN = json.loads(SECRET)["token"]
OLD = f"""\
project: order
environments:
  development:
    account_id: "111111111111"
    access: {{admins: ["arn:aws:iam::111111111111:role/platform-admin"]}}
    gitops:
      repo: {{url: "https://github.com/example-org/fleet-gitops.git", path: bootstrap, secret_arn: "{SECRET_ARN}"}}
    defaults:
      kubernetes_version: "1.35"
      az_count: 2
      node_groups: {{workers: {{instance_types: [t3.medium], min: 1, max: 1, desired: 1}}}}
    hub: {{region: us-east-1, cidr: 10.10.0.0/16}}
    regions:
      us-east-2:
        clusters:
          edge: {{cidr: 10.11.0.0/16}}
          extra: {{cidr: 10.12.0.0/16}}
"""
NEW = OLD.replace("          extra: {cidr: 10.12.0.0/16}\n", "")
ENV = "development"


@pytest.fixture(scope="module")
def applied(tmp_path_factory):
    """OLD applied to the double and verified as `tfgen sandbox` does (the bootstrap's document, data and
    access among the checks); kept for the tests, then the double goes."""
    workdir = tmp_path_factory.mktemp("bootstrap-order")
    with Sandbox(tfgen.loads(OLD), workdir=workdir / "sandbox") as sandbox:
        report = sandbox.run([ENV], keep=True)
        phases = report.environment(ENV).phases
        assert report.ok, [(p.phase, p.reason, p.details) for p in phases if not p.ok]
        yield sandbox, report, workdir


def test_the_sandbox_verifies_the_bootstrap_against_ssm_s3_eks_and_iam(applied):
    _, report, _ = applied
    checks = [c for p in report.environment(ENV).phases for c in p.checks if c.kind.startswith("bootstrap")]
    assert sorted({c.kind for c in checks}) == ["bootstrap", "bootstrap access", "bootstrap data", "bootstrap secret"]
    assert all(c.ok for c in checks), [c.format() for c in checks if not c.ok]
    assert len([c for c in checks if c.kind == "bootstrap secret"]) == 2  # both edges, by EKS and IAM


def test_a_private_repositorys_secret_reaches_no_artefact(applied, tmp_path):
    """The secret is in the double's Secrets Manager; the bootstrap, run on what the double holds, makes Argo
    CD's repository Secret from it; and the value is in none of: the sandbox's work directory (the build,
    lowered copies, Terraform state and logs), the double's buckets (the registration data, the run's output
    as SSM would put it there), its SSM documents, the run's output, the tools' log and leftovers."""
    sandbox, _, _ = applied
    region = "us-east-1"
    secrets = sandbox.client("secretsmanager", region, ENV)
    secrets.create_secret(Name="fleet-gitops", SecretString=SECRET)
    boot = sandbox.expectation(ENV).bootstrap
    s3 = sandbox.client("s3", region, ENV)
    version = s3.head_object(Bucket=boot.bucket, Key=boot.key)["VersionId"]
    rendered = render(sandbox.gitops_outputs(ENV))
    handed = seed_input(environment=ENV, hub_cluster_name=boot.hub_cluster_name, region=region,
                        namespace=boot.namespace, secrets=rendered.secrets, values=rendered.values, repo=boot.repo,
                        credential=boot.credential, chart_version=boot.chart_version,
                        registration=Registration(bucket=boot.bucket, key=boot.key, version=version, region=region))
    bench = Bench(tmp_path)
    data = s3.get_object(Bucket=boot.bucket, Key=boot.key, VersionId=version)["Body"].read().decode()
    objects = bench.root / "objects"
    objects.mkdir()
    (objects / "applied.json").write_text(data)
    bench.objects_file.write_text(json.dumps({f"{boot.bucket}/{boot.key}/{version}": str(objects / "applied.json")}))
    bench.secrets[SECRET_ARN] = secrets.get_secret_value(SecretId="fleet-gitops")["SecretString"]
    # The document the double holds is this script (the sandbox's verify compared them), bar the test's pins.
    result = bench.run(render_script(dataclasses.replace(handed, pins=bench.pins())))
    assert result.returncode == 0, result.stderr
    assert bench.objects()[f"Secret/argocd/{ENV}-gitops-repository"]["stringData"]["password"] == TOKEN
    # What SSM would write to the output bucket: the run's output.
    s3.put_object(Bucket=boot.bucket, Key="bootstrap/command/stdout", Body=result.stdout.encode())
    s3.put_object(Bucket=boot.bucket, Key="bootstrap/command/stderr", Body=result.stderr.encode())
    places = {"run output": result.stdout + result.stderr, "tools' log": bench.log.read_text(),
              "run leftovers": "".join(p.read_text(errors="replace") for p in bench.tmp.rglob("*") if p.is_file())}
    for path in sorted(Path(sandbox.workdir).rglob("*")):
        if path.is_file() and ".terraform/providers" not in str(path) and path.stat().st_size < 64 << 20:
            places[str(path)] = path.read_bytes().decode(errors="replace")
    for bucket in s3.list_buckets()["Buckets"]:
        for item in s3.list_object_versions(Bucket=bucket["Name"]).get("Versions", []):
            body = s3.get_object(Bucket=bucket["Name"], Key=item["Key"], VersionId=item["VersionId"])["Body"]
            places[f"s3://{bucket['Name']}/{item['Key']}@{item['VersionId']}"] = body.read().decode(errors="replace")
    ssm = sandbox.client("ssm", region, ENV)
    for document in ssm.list_documents(Filters=[{"Key": "Owner", "Values": ["Self"]}])["DocumentIdentifiers"]:
        places[f"ssm document {document['Name']}"] = ssm.get_document(Name=document["Name"])["Content"]
    assert any(f"s3://{boot.bucket}/{boot.key}" in place for place in places)  # the data was searched
    assert [where for where, text in places.items() if TOKEN in text] == []
    assert all(SECRET_ARN in places[w] for w in places if w.startswith("ssm document"))  # named, never its value


def test_a_removed_edge_is_deregistered_before_its_cluster_is_destroyed(applied):
    """NEW applied over OLD's state: Terraform writes the new registration data, creates the new document and
    the new association (its stand-in), and only then destroys the removed edge's cluster."""
    sandbox, _, workdir = applied
    out = workdir / "new"
    tfgen.build(in_accounts(tfgen.loads(NEW), sandbox.accounts), out)
    ssm = sandbox.client("ssm", "us-east-1", ENV)
    lowered = workdir / "new-lowered"
    copy_root(out / ENV, lowered, endpoint=sandbox.double.endpoint, passes=sandbox_passes(
        lambda region, name: sandbox.client("ssm", region, ENV).get_parameter(Name=name)["Parameter"]["Value"]))
    copy = sandbox.workspace.copy_of(ENV, sandbox.workdir)
    for stale in copy.glob("*.tf.json"):
        if stale.name != OVERRIDE_FILE:  # the override holds the double's endpoint and this account's credentials
            stale.unlink()
    for fresh in lowered.glob("*.tf.json"):
        if fresh.name != OVERRIDE_FILE:
            shutil.copy(fresh, copy / fresh.name)
    log = workdir / "apply-new.log"
    ran = run_command(sandbox.workspace.terraform, copy, "apply", "-auto-approve", "-input=false", "-no-color",
                      "-parallelism=20", env=sandbox.workspace.env(), log=log, timeout=900)
    text = log.read_text()
    assert ran.returncode == 0, text[-3000:]
    lines = text.splitlines()

    def first(pattern: str) -> int:
        found = [i for i, line in enumerate(lines) if re.match(pattern, line)]
        assert found, f"no line matches {pattern!r} in {log}"
        return found[0]

    destroyed = first(r"aws_eks_cluster\.us_east_2_extra: Destroying")
    run = first(r"aws_ssm_parameter\.us_east_1_hub_bootstrap: Creation complete")
    data = first(r"aws_s3_bucket_object\.us_east_1_hub_registration: Modifications complete")
    document = first(r"aws_ssm_document\.us_east_1_hub_bootstrap: Creation complete")
    assert data < document < run < destroyed, (data, document, run, destroyed)
    # ... and everything of the edge Argo CD reached it through goes after the run too (its deployer role).
    assert run < first(r"aws_iam_role\.us_east_2_extra_deployer: Destroying")
    # The old association (its stand-in) is gone; the one left names the new document.
    (kept,) = ssm.get_parameters_by_path(Path="/tfgen-sandbox/association", Recursive=True)["Parameters"]
    assert ssm.describe_document(Name=kept["Name"].rsplit("/", 1)[1])["Document"]["Status"] == "Active"
    eks = sandbox.client("eks", "us-east-2", ENV)
    assert "order-development-us-east-2-extra" not in eks.list_clusters()["clusters"]
    plan = run_command(sandbox.workspace.terraform, copy, "plan", "-detailed-exitcode", "-input=false", "-no-color",
                       env=sandbox.workspace.env(), log=workdir / "replan.log", timeout=600)
    assert plan.returncode == 0, (workdir / "replan.log").read_text()[-3000:]
