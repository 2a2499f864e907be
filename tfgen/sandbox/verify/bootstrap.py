"""The GitOps bootstrap of an applied environment, through the SSM and EKS APIs.

The double has SSM documents but no associations (the sandbox leaves the
association out and lists it), so what is checked is what the association would
run: the hub's bootstrap document exists once, is a Command document, holds
exactly the script tfgen renders from the applied root's outputs (the Secrets
`tfgen gitops` renders, assembled by `tfgen.bootstrap.seed_input`), and each
Secret in it names its edge's EKS endpoint, CA and IAM deployer role.
"""

from __future__ import annotations

import json
from typing import Callable

from ...bootstrap import render_script, seed_input
from ..expectation import Expectation
from .lookup import Check

__all__ = ["check_bootstrap_document", "secrets_in"]

_SECRETS = "cat > \"${WORK}/secrets.json\" <<'TFGEN_DATA'"


def secrets_in(script: str) -> list[dict]:
    """The cluster Secrets the script applies (its `secrets.json` data), as JSON."""
    lines = script.splitlines()
    if _SECRETS.strip() not in (line.strip() for line in lines):
        return []
    start = next(i for i, line in enumerate(lines) if line.strip() == _SECRETS) + 1
    end = lines.index("TFGEN_DATA", start)
    return json.loads("\n".join(lines[start:end]))["items"]


def check_bootstrap_document(expectation: Expectation, client: Callable[[str, str], object],
                             outputs: Callable[[], dict]) -> list[Check]:
    """The bootstrap document against the script rendered from `outputs()` and against EKS and IAM."""
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
    try:
        rendered = render(outputs())
    except OutputsError as exc:
        return checks + [Check("bootstrap", names[0], False, f"tfgen gitops cannot render the outputs: {exc}")]
    wanted = render_script(seed_input(
        environment=expectation.environment, hub_cluster_name=boot.hub_cluster_name, region=boot.region,
        namespace=boot.namespace, secrets=rendered.secrets, values=rendered.values, repo=boot.repo,
        managed=boot.managed, chart_version=boot.chart_version))
    differs = next((i + 1 for i, (a, b) in enumerate(zip(script.splitlines(), wanted.splitlines())) if a != b), None)
    same = script == wanted
    checks.append(Check("bootstrap", f"{names[0]} script", same,
                        "the script tfgen renders from the applied outputs" if same else
                        f"differs from the script rendered from the outputs at line "
                        f"{differs or min(len(script.splitlines()), len(wanted.splitlines())) + 1}"))
    edges = {e.name: e for e in (expectation.gitops.edges if expectation.gitops else ())}
    secrets = {s["stringData"]["name"]: s for s in secrets_in(script)}
    for name in sorted(set(edges) | set(secrets)):
        secret, edge = secrets.get(name), edges.get(name)
        if secret is None or edge is None:
            checks.append(Check("bootstrap secret", name, False, "no Secret for this edge in the document"
                                if secret is None else "a Secret for a cluster Argo CD should not manage"))
            continue
        config = json.loads(secret["stringData"].get("config") or "{}")
        info = client("eks", edge.region).describe_cluster(name=edge.name)["cluster"]
        arn = client("iam", edge.region).get_role(RoleName=edge.deployer_role)["Role"]["Arn"]
        server, role = secret["stringData"]["server"], config.get("awsAuthConfig", {}).get("roleARN")
        ca_ok = config.get("tlsClientConfig", {}).get("caData") == info.get("certificateAuthority", {}).get("data")
        ok = server == info.get("endpoint") and role == arn and ca_ok
        checks.append(Check("bootstrap secret", edge.label, ok,
                            f"server {server}" + ("" if server == info.get("endpoint") else
                                                  f" != endpoint {info.get('endpoint')}")
                            + f"; roleARN {role}" + ("" if role == arn else f" != deployer role {arn}")
                            + ("" if ca_ok else "; caData is not the cluster's CA")))
    return checks


def _pages(ssm):
    token = None
    while True:
        answer = ssm.list_documents(Filters=[{"Key": "Owner", "Values": ["Self"]}],
                                    **({"NextToken": token} if token else {}))
        yield answer.get("DocumentIdentifiers", [])
        token = answer.get("NextToken")
        if not token:
            return
