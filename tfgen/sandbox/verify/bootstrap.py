"""The GitOps bootstrap of an applied environment, through the SSM, S3, EKS and IAM APIs.

The double has SSM documents but no associations (the sandbox stands an SSM
parameter in for the association), so what is checked is what the association
would run and read: the hub's bootstrap document exists once, is a Command
document, and holds exactly the script tfgen renders from the bootstrap's input;
the registration object's current version holds exactly the registration data
rendered from that input, and the document names that version. The input is
assembled (`tfgen.bootstrap.seed_input`, as the emitter assembles it) from the
Secrets `tfgen gitops` renders from the applied root's outputs, and each Secret
in it is checked against its edge's EKS endpoint, CA and IAM deployer role
(`check_secrets`); nothing is read back out of the script's text. The bastion's
role may read exactly the registration object and, with a private repository,
exactly its secret.
"""

from __future__ import annotations

import json
from typing import Callable

from ...bootstrap import Registration, registration_data, render_script, seed_input
from ..expectation import Expectation
from .gitops import check_secrets
from .lookup import Check, as_set, policy_document, statements_of

__all__ = ["check_bootstrap_document"]


def check_bootstrap_document(expectation: Expectation, client: Callable[[str, str], object],
                             outputs: Callable[[], dict]) -> list[Check]:
    """The bootstrap document and registration data against those rendered from `outputs()`, the Secrets they
    register against EKS and IAM, and what the bastion may read."""
    from botocore.exceptions import ClientError

    from ...gitops import OutputsError, render

    boot = expectation.bootstrap
    if boot is None:
        return []
    ssm = client("ssm", boot.region)
    names = sorted(d["Name"] for page in _pages(ssm) for d in page if d["Name"].startswith(boot.prefix))
    subject = f"{boot.region} {boot.prefix}*"
    if len(names) != 1:
        return [Check("bootstrap", subject, False, f"{len(names)} bootstrap documents ({', '.join(names) or 'none'})"
                      "; expected one")]
    document = ssm.get_document(Name=names[0])
    content = json.loads(document["Content"])
    steps = content.get("mainSteps") or [{}]
    script = "\n".join(steps[0].get("inputs", {}).get("runCommand", [])) + "\n"
    checks = [Check("bootstrap", names[0], document.get("DocumentType") == "Command"
                    and steps[0].get("action") == "aws:runShellScript",
                    f"{document.get('DocumentType')} document, step {steps[0].get('action')}")]
    where = f"s3://{boot.bucket}/{boot.key}"
    s3 = client("s3", boot.region)
    try:
        version = s3.head_object(Bucket=boot.bucket, Key=boot.key).get("VersionId") or ""
        data = s3.get_object(Bucket=boot.bucket, Key=boot.key, VersionId=version)["Body"].read().decode()
    except ClientError as exc:  # the object (or bucket) is not there
        return checks + [Check("bootstrap data", where, False, f"no registration object: {exc}")]
    try:
        rendered = render(outputs())
    except OutputsError as exc:
        return checks + [Check("bootstrap", names[0], False, f"tfgen gitops cannot render the outputs: {exc}")]
    handed = seed_input(
        environment=expectation.environment, hub_cluster_name=boot.hub_cluster_name, region=boot.region,
        namespace=boot.namespace, secrets=rendered.secrets, values=rendered.values, repo=boot.repo,
        credential=boot.credential, managed=boot.managed, chart_version=boot.chart_version,
        registration=Registration(bucket=boot.bucket, key=boot.key, version=version, region=boot.region))
    checks.append(_same("bootstrap", f"{names[0]} script", script, render_script(handed),
                        "the script tfgen renders from the applied outputs, naming the object's current version"))
    checks.append(_same("bootstrap data", f"{where} version {version}", data, registration_data(handed),
                        "the registration data tfgen renders from the applied outputs"))
    checks.append(_bastion_access(expectation, client, where))
    return checks + check_secrets("bootstrap secret", handed.manifests, expectation, client)


def _same(kind: str, subject: str, got: str, wanted: str, what: str) -> Check:
    if got == wanted:
        return Check(kind, subject, True, what)
    lines, expected = got.splitlines(), wanted.splitlines()
    differs = next((i + 1 for i, (a, b) in enumerate(zip(lines, expected)) if a != b), min(len(lines), len(expected)) + 1)
    return Check(kind, subject, False, f"differs from {what} at line {differs}")


def _bastion_access(expectation: Expectation, client: Callable[[str, str], object], where: str) -> Check:
    """The bastion's bootstrap policy reads exactly the registration object and, with a private repository,
    exactly its secret (and no secret without one)."""
    boot = expectation.bootstrap
    iam = client("iam", boot.region)
    reads, secrets = set(), set()
    for name in iam.list_role_policies(RoleName=boot.bastion_role)["PolicyNames"]:
        document = policy_document(iam.get_role_policy(RoleName=boot.bastion_role, PolicyName=name)["PolicyDocument"])
        for statement in statements_of(document):
            actions = as_set(statement.get("Action"))
            if "s3:GetObject" in actions:
                reads |= as_set(statement.get("Resource"))
            if any(a.startswith("secretsmanager:") for a in actions):
                secrets |= as_set(statement.get("Resource"))
    wanted_reads = {f"arn:aws:s3:::{boot.bucket}/{boot.key}"}
    wanted_secrets = {boot.credential} if boot.credential and not boot.managed else set()
    ok = reads == wanted_reads and secrets == wanted_secrets
    return Check("bootstrap access", boot.bastion_role, ok,
                 f"reads {', '.join(sorted(reads)) or 'no object'} and {', '.join(sorted(secrets)) or 'no secret'}"
                 + ("" if ok else f"; expected {where} and {', '.join(sorted(wanted_secrets)) or 'no secret'}"))


def _pages(ssm):
    token = None
    while True:
        answer = ssm.list_documents(Filters=[{"Key": "Owner", "Values": ["Self"]}],
                                    **({"NextToken": token} if token else {}))
        yield answer.get("DocumentIdentifiers", [])
        token = answer.get("NextToken")
        if not token:
            return
