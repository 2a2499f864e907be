"""The GitOps bootstrap's SSM document against SSM's size limit, on the emitted documents (VAL444).

SSM refuses a document whose content exceeds 64 KB (CreateDocument's
MaxDocumentSizeExceeded, AWS Systems Manager API reference). The emitted
content holds Terraform references that `terraform apply` replaces with values,
and the largest of them grow the document most: each edge's CA certificate
(the base64 of its PEM, about 1,470 characters for an EKS cluster's RSA-2048
CA, never under 1,300), its endpoint (`https://<32 hex>.<id>.<region>.eks.amazonaws.com`,
at least 71). So the rule measures the content twice, with every reference
replaced by the shortest value it can take and by a typical one: past the
limit the first way, `apply` is certain to fail creating the document after
creating everything else, and the build is refused (error); the second way, it
is likely to (warning). Both name the environment's `gitops` line and the
ways out.
"""

from __future__ import annotations

import re

from ..derive import naming
from ..errors import Finding, Severity
from ..model import Fleet
from .support import finding

__all__ = ["SSM_DOCUMENT_LIMIT", "check_ssm_documents", "resolved_sizes"]

SSM_DOCUMENT_LIMIT = 64 * 1024  # bytes of a document's content

# A Terraform interpolation (`${...}`; `$${` is a literal `${`, the script's own shell variables).
_REFERENCE = re.compile(r"(?<!\$)\$\{([^}]*)\}")
# (what a reference names, the shortest value it takes, a typical one), first match wins; others: (0, 40)
_SIZES = (("certificate_authority", 1300, 1476), ("endpoint", 71, 80))


def resolved_sizes(content: str) -> tuple[int, int, int]:
    """(bytes at the least, bytes typically, edges' CA certificates) of `content` once applied."""
    literal = len(_REFERENCE.sub("", content).replace("$${", "${").encode("utf-8"))
    least = typical = literal
    certificates = 0
    for reference in _REFERENCE.findall(content):
        low, usual = next(((low, usual) for part, low, usual in _SIZES if part in reference), (0, 40))
        least, typical = least + low, typical + usual
        certificates += "certificate_authority" in reference
    return least, typical, certificates


def check_ssm_documents(fleet: Fleet, roots: dict[str, dict[str, dict]]) -> list[Finding]:
    """VAL444 for every emitted `aws_ssm_document` whose content could not be created once applied."""
    findings = []
    for root, documents in sorted(roots.items()):
        env = fleet.environments.get(root.split(naming.CELL_SEPARATOR, 1)[0])
        if env is None:
            continue
        for document in documents.values():
            for name, body in sorted((document.get("resource", {}).get("aws_ssm_document") or {}).items()):
                content = body.get("content")
                if not isinstance(content, str):
                    continue
                least, typical, edges = resolved_sizes(content)
                if typical <= SSM_DOCUMENT_LIMIT:
                    continue
                certain = least > SSM_DOCUMENT_LIMIT
                size = f"at least {least // 1024}" if certain else f"about {typical // 1024}"
                findings.append(finding(
                    "VAL444",
                    f"the GitOps bootstrap's SSM document ({root}: aws_ssm_document.{name}) registers {edges} "
                    f"edge(s) and will hold {size} KB once applied (each edge's CA certificate goes in it); SSM "
                    f"refuses documents over 64 KB, so `terraform apply` {'fails' if certain else 'is likely to fail'} "
                    "creating it",
                    "split the environment (fewer edges per hub), use `argocd: managed` (EKS's Argo CD capability "
                    "registers clusters by ARN, no document), or set `bootstrap: false` under gitops and apply the "
                    "Secrets `tfgen gitops` renders from the outputs",
                    path=env.name, **_where(env), severity=Severity.ERROR if certain else Severity.WARNING))
    return findings


def _where(env) -> dict:
    """The spec line to name: the gitops `bootstrap` key, the gitops section, else the environment."""
    gitops = env.gitops
    if "bootstrap" in gitops.where:
        return {"obj": gitops, "field": "bootstrap"}
    return {"obj": gitops} if gitops.where else {"obj": env}
