"""The bootstrap's order, checked on what was emitted (VAL454, VAL455).

Terraform orders a root by dependencies: a block waits for every block its
references and `depends_on` name, transitively. The hub's bootstrap (an SSM
association running tfgen's script) must:

- VAL454, per edge Argo CD manages: depend on the edge's `aws_eks_cluster` and
  on the policy association that gives Argo CD's role there (the deployer's,
  or the capability's) cluster admin. Then registration never races the role
  ("invalid principal" until it exists), and, since the association is
  create-before-destroy, Terraform makes what it depends on create-before-destroy
  too: an edge removed from the spec keeps its cluster and access until the new
  association has run and deregistered it.
- VAL455, per association: be `create_before_destroy` with its document; name
  the document (`name`, which forces a new association, and `latest_version`),
  whose content names the registration object's `version_id`, so a new edge set
  or a replaced edge's endpoint runs it again; with `argocd: managed`, depend on
  the capability.

Read from the root's index (`tfgen.terraform.index`) and the GitOps path graph
(`gitops_output`), which says who the edges and Argo CD's roles are.
"""

from __future__ import annotations

from collections import deque
from typing import Iterable, Iterator, Mapping

from ..terraform.index import Root, nested
from .gitops_documents import Place, Verdict, refs

__all__ = ["ROOT_SUBJECT", "bootstrap_verdicts", "dependencies"]

ROOT_SUBJECT = "gitops"  # the subject of verdicts about the root rather than one edge

_ORDER = "the bootstrap registers the edge after Argo CD's access to it, and deregisters it before it goes"
_ORDER_HINT = ("make the bootstrap's aws_ssm_association depend on the edge's aws_eks_cluster and on the access "
               "policy association of Argo CD's role there, as `tfgen build` emits it")
_FIRST = "the bootstrap's document and association are replaced create-first, and re-run on new data"
_FIRST_HINT = ("give aws_ssm_document and aws_ssm_association lifecycle.create_before_destroy; name the document "
               "(name, latest_version) from the association and the registration object's version_id from the "
               "document, as `tfgen build` emits them")


_REMOTE = "data.terraform_remote_state."


def dependencies(root: Root, address: str, *, wanted: Iterable[str] = ()) -> set[str]:
    """Every resource `address` waits for: named by its references or `depends_on`, transitively. In cells
    roots joined as one (`tfgen.emit.cells.join_environment`, files `<root>/<file>`), a `depends_on` on a
    root's remote state waits for every resource of that root, applied before. With `wanted`, the walk may
    stop once all of those are found (nearest first): what it returns then holds them, not everything."""
    seen: set[str] = set()
    wanted = set(wanted)
    left = set(wanted)
    queue = deque([address])
    while queue and (left or not wanted):
        current = queue.popleft()
        named = [r.address for r in root.references(current) if r.kind == "resource"]
        for listed in root.depends_on(current):
            if listed.startswith(_REMOTE):
                prefix = listed[len(_REMOTE):] + "/"
                named += [a for a, b in root.resources.items() if b.file.startswith(prefix)]
            else:
                named.append(listed)
        for found in named:
            if found not in seen and found in root.resources:
                seen.add(found)
                left.discard(found)
                queue.append(found)
    return seen


def _grants(root: Root) -> dict[tuple[str, str], str]:
    """`{(cluster, principal): policy association}` of every access policy association (first in file
    order), the principal named through its access entry or directly; indexed once for all the edges."""
    entries: dict[str, set[tuple[str, str]]] = {}
    for block in root.of_type("aws_eks_access_entry"):
        entries[block.address] = {(c, p) for c in refs(block.body.get("cluster_name"))
                                  for p in refs(block.body.get("principal_arn"))}
    grants: dict[tuple[str, str], str] = {}
    for block in root.of_type("aws_eks_access_policy_association"):
        for cluster in refs(block.body.get("cluster_name")):
            for named in refs(block.body.get("principal_arn")):
                pairs = {pair for pair in entries.get(named, ()) if pair[0] == cluster} or {(cluster, named)}
                for pair in pairs:
                    grants.setdefault(pair, block.address)
    return grants


def bootstrap_verdicts(root: Root, *, edges: Mapping[str, str], principals: Mapping[str, str | None],
                       capability: str | None) -> Iterator[Verdict]:
    """VAL454 for each edge (`{cluster key: name}`, Argo CD's role on it in `principals`) and VAL455 for each
    bootstrap association of a root that claims the GitOps path; `capability`: the capability's role, if managed."""
    documents = {b.address for b in root.of_type("aws_ssm_document")}
    grants = _grants(root)
    needs: dict[str, tuple[str, str | None]] = {}  # edge -> its cluster, and Argo CD's grant there
    for key in edges:
        cluster, principal = f"aws_eks_cluster.{key}", principals.get(key)
        needs[key] = (cluster, grants.get((cluster, principal)) if principal else None)
    wanted = {a for pair in needs.values() for a in pair if a}
    if capability:
        wanted |= {b.address for b in root.of_type("aws_eks_capability")}
    for block in sorted(root.of_type("aws_ssm_association"), key=lambda b: b.address):
        named = [d for d in refs(block.body.get("name")) if d in documents]
        if not named:
            continue  # not a document of this root: not tfgen's bootstrap
        place, document = Place(block.file, block.address), named[0]
        waits = dependencies(root, block.address, wanted=wanted)
        for key, name in edges.items():
            cluster, grant = needs[key]
            # a missing grant is NET306's to name; this rule is about the order of what is there
            missing = [a for a in (cluster, grant) if a and a not in waits]
            why = f"{block.address} does not wait for {', '.join(missing)}" if missing else ""
            yield Verdict("VAL454", _ORDER, name, key, place, why, _ORDER_HINT)
        whys = [f"{address} is not create_before_destroy" for address in (block.address, document)
                if nested(root.body(address).get("lifecycle")).get("create_before_destroy") is not True]
        if document not in refs(block.body.get("document_version")):
            whys.append(f"{block.address}'s document_version is not {document}'s latest_version")
        content = root.body(document).get("content")
        objects = [a for a in refs(content) if a.startswith(("aws_s3_object.", "aws_s3_bucket_object."))]
        if not objects:
            whys.append(f"{document}'s content names no registration object's version_id")
        if capability and not any(a.startswith("aws_eks_capability.") for a in waits):
            whys.append(f"{block.address} does not wait for the hub's aws_eks_capability")
        yield Verdict("VAL455", _FIRST, ROOT_SUBJECT, None, place, "; ".join(whys), _FIRST_HINT)
