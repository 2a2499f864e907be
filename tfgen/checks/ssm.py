"""VAL444: an SSM document fits SSM's size limit once applied, on emitted documents and on `tfgen check`'s.

SSM refuses a document whose content exceeds 64 KB (CreateDocument's
MaxDocumentSizeExceeded, AWS Systems Manager API reference). tfgen's bootstrap
document holds the script, the chart's values and names, and the version of the
registration object in S3 that holds every edge's data, so its size does not grow
with the fleet; the rule guards what remains, and any document that does carry
edges (an older tfgen's, or one written by hand): its content holds Terraform
references that `terraform apply` replaces with values, the largest of them an
edge's CA certificate (the base64 of its PEM, about 1,470 characters for an EKS
cluster's RSA-2048 CA, never under 1,300) and its endpoint
(`https://<32 hex>.<id>.<region>.eks.amazonaws.com`, at least 71). So the rule
measures the content twice, with every reference replaced by the shortest value
it can take and by a typical one: past the limit the first way, `apply` is
certain to fail creating the document after creating everything else (error);
the second way, it is likely to (warning).

One rule, read from a root's index (`tfgen.terraform.index`): `tfgen build`
runs it on what it emitted and names the environment's `gitops` line
(`check_ssm_documents`); `tfgen check` runs it on any root and fails on the
error (`tfgen.gate.scan`).
"""

from __future__ import annotations

from typing import Mapping, NamedTuple

from ..derive import naming
from ..errors import Finding, Severity
from ..model import Fleet
from ..terraform.index import Root
from ..terraform.references import parse
from ..terraform.roots import as_root
from .support import finding

__all__ = ["CODE", "TITLE", "FIX", "FIX_EDGES", "SSM_DOCUMENT_LIMIT", "Size", "document_sizes", "check_ssm_documents",
           "resolved_sizes"]

CODE = "VAL444"
TITLE = "an SSM document fits SSM's 64 KB once applied, each reference at its shortest value"
# The fix, by whether the document carries edges (their CA certificates) or only tfgen's script and settings.
FIX_EDGES = ("rebuild the root with this tfgen: the edges' Secrets go to the registration object in S3 and the "
             "document keeps its size at any number of edges; or set `bootstrap: false` under gitops and apply the "
             "Secrets `tfgen gitops` renders from the outputs")
FIX = ("the document holds only the script, the chart's values and names: shorten what was added to them (pins, "
       "service accounts), or set `bootstrap: false` under gitops and apply what `tfgen gitops` renders")
SSM_DOCUMENT_LIMIT = 64 * 1024  # bytes of a document's content

# (what a reference names, the shortest value it takes, a typical one), first match wins; others: (0, 40)
_SIZES = (("certificate_authority", 1300, 1476), ("endpoint", 71, 80))


def resolved_sizes(content: str) -> tuple[int, int, int]:
    """(bytes at the least, bytes typically, edges' CA certificates) of `content` once applied."""
    template = parse(content)
    least = typical = len(template.literal.encode("utf-8"))
    certificates = 0
    for part in template.interpolations:
        if part.directive:
            continue
        low, usual = next(((low, usual) for word, low, usual in _SIZES if word in part.expression), (0, 40))
        least, typical = least + low, typical + usual
        certificates += "certificate_authority" in part.expression
    return least, typical, certificates


class Size(NamedTuple):
    """One `aws_ssm_document`'s content once applied: at the least, typically, and the CA certificates in it."""

    address: str
    file: str
    least: int
    typical: int
    edges: int

    @property
    def severity(self) -> Severity | None:
        """ERROR when `apply` must fail creating the document, WARNING when it is likely to, else None."""
        if self.least > SSM_DOCUMENT_LIMIT:
            return Severity.ERROR
        return Severity.WARNING if self.typical > SSM_DOCUMENT_LIMIT else None

    def message(self, root: str) -> str:
        certain = self.severity is Severity.ERROR
        size = f"at least {self.least // 1024}" if certain else f"about {self.typical // 1024}"
        carries = f", {self.edges} edges' CA certificates among it" if self.edges else ""
        return (f"the SSM document {root}: {self.address} will hold {size} KB once applied{carries}; SSM refuses "
                f"documents over 64 KB, so `terraform apply` {'fails' if certain else 'is likely to fail'} creating it")

    @property
    def fix(self) -> str:
        return FIX_EDGES if self.edges else FIX


def document_sizes(root: Root) -> list[Size]:
    """The size once applied of every `aws_ssm_document` of a root whose content is a string."""
    found = []
    for block in sorted(root.of_type("aws_ssm_document"), key=lambda b: b.address):
        content = block.body.get("content")
        if isinstance(content, str):
            found.append(Size(block.address, block.file, *resolved_sizes(content)))
    return found


def check_ssm_documents(fleet: Fleet, roots: Mapping[str, Root | dict[str, dict]]) -> list[Finding]:
    """VAL444 for every emitted `aws_ssm_document` (of `{root: index}`, or its documents) whose content may
    not be created once applied, at the spec."""
    findings = []
    for root, index in sorted(roots.items()):
        index = as_root(index)
        env = fleet.environments.get(root.split(naming.CELL_SEPARATOR, 1)[0])
        if env is None:
            continue
        for size in document_sizes(index):
            if size.severity is not None:
                findings.append(finding(CODE, size.message(root), size.fix, path=env.name, **_where(env),
                                        severity=size.severity))
    return findings


def _where(env) -> dict:
    """The spec line to name: the gitops `bootstrap` key, the gitops section, else the environment."""
    gitops = env.gitops
    if "bootstrap" in gitops.where:
        return {"obj": gitops, "field": "bootstrap"}
    return {"obj": gitops} if gitops.where else {"obj": env}
