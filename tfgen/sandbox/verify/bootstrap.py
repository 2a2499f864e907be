"""The GitOps bootstrap of an applied environment, through the SSM and EKS APIs.

The double has SSM documents but no associations (the sandbox leaves the
association out and lists it), so what is checked is what the association would
run: the hub's bootstrap document exists once, is a Command document, and holds
exactly the script tfgen renders from the bootstrap's input, which is assembled
(`tfgen.bootstrap.seed_input`, as the emitter assembles it) from the Secrets
`tfgen gitops` renders from the applied root's outputs. That input is the data
the script hands over: each Secret in it is checked against its edge's EKS
endpoint, CA and IAM deployer role (`check_secrets`), and nothing is read back
out of the script's text.
"""

from __future__ import annotations

import json
from typing import Callable

from ...bootstrap import render_script, seed_input
from ..expectation import Expectation
from .gitops import check_secrets
from .lookup import Check

__all__ = ["check_bootstrap_document"]


def check_bootstrap_document(expectation: Expectation, client: Callable[[str, str], object],
                             outputs: Callable[[], dict]) -> list[Check]:
    """The bootstrap document against the script rendered from `outputs()`, and the Secrets that script
    registers against EKS and IAM."""
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
    handed = seed_input(
        environment=expectation.environment, hub_cluster_name=boot.hub_cluster_name, region=boot.region,
        namespace=boot.namespace, secrets=rendered.secrets, values=rendered.values, repo=boot.repo,
        managed=boot.managed, chart_version=boot.chart_version)
    wanted = render_script(handed)
    differs = next((i + 1 for i, (a, b) in enumerate(zip(script.splitlines(), wanted.splitlines())) if a != b), None)
    same = script == wanted
    checks.append(Check("bootstrap", f"{names[0]} script", same,
                        "the script tfgen renders from the applied outputs" if same else
                        f"differs from the script rendered from the outputs at line "
                        f"{differs or min(len(script.splitlines()), len(wanted.splitlines())) + 1}"))
    return checks + check_secrets("bootstrap secret", handed.manifests, expectation, client)


def _pages(ssm):
    token = None
    while True:
        answer = ssm.list_documents(Filters=[{"Key": "Owner", "Values": ["Self"]}],
                                    **({"NextToken": token} if token else {}))
        yield answer.get("DocumentIdentifiers", [])
        token = answer.get("NextToken")
        if not token:
            return
