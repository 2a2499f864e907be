"""The graph of roots: which root modules a root needs applied before it, read from the emitted documents.

A root needs another when it uses something the other creates. Each kind of
edge is one rule in `EDGES`, and the orchestrator, `tfgen ci` and the sandbox
read one graph:

- the state backend: a root keeps its state in the bucket (and lock table)
  the `_state` root creates;
- remote state (cells layout): a link root reads its region roots' state;
- a role named literally (cells layout): a role's trust, or an access entry,
  names a role another root creates (an edge's deployer role trusts the hub's
  management role), and AWS refuses a principal that does not exist yet. A
  permission policy naming a role (the management role may assume the deployer
  roles) makes no edge: IAM takes any ARN there.

So a cells environment applies `_state`, then the hub's region, then the
other regions at once, then the links.

`root_graph(roots, backend=False)` is the graph without the state-backend
edges, for copies that keep their state locally (the sandbox's: an
environment does not need `_state` there).
"""

from __future__ import annotations

from typing import Callable, Iterator
import json
import re

__all__ = ["EDGES", "root_graph", "backend_edges", "remote_state_edges", "role_edges"]

Documents = dict[str, dict[str, dict]]


def _created(documents: dict[str, dict], type_: str, argument: str) -> Iterator[str]:
    """Literal values of `argument` on every `type_` resource of one root."""
    for document in documents.values():
        for body in (document.get("resource", {}).get(type_) or {}).values():
            value = body.get(argument)
            if isinstance(value, str) and "${" not in value:
                yield value


def backend_edges(roots: Documents) -> Iterator[tuple[str, str]]:
    """(root, needed): `root` keeps its state in a bucket or lock table that `needed` creates."""
    makers: dict[tuple[str, str], str] = {}
    for name, documents in roots.items():
        for bucket in _created(documents, "aws_s3_bucket", "bucket"):
            makers[("bucket", bucket)] = name
        for table in _created(documents, "aws_dynamodb_table", "name"):
            makers[("dynamodb_table", table)] = name
    for name, documents in roots.items():
        for document in documents.values():
            backend = (document.get("terraform", {}).get("backend") or {}).get("s3") or {}
            for key in ("bucket", "dynamodb_table"):
                needed = makers.get((key, backend.get(key)))
                if needed is not None and needed != name:
                    yield name, needed


def remote_state_edges(roots: Documents) -> Iterator[tuple[str, str]]:
    """(root, needed): `root` reads `needed`'s state (`data.terraform_remote_state.<needed>`)."""
    for name, documents in roots.items():
        for document in documents.values():
            for needed in (document.get("data", {}).get("terraform_remote_state") or {}):
                if needed in roots and needed != name:
                    yield name, needed


_ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/([\w+=,.@-]+)")


def _principals(documents: dict[str, dict]) -> Iterator[str]:
    """Role names this root's role trusts and access entries name literally."""
    for document in documents.values():
        resources = document.get("resource", {})
        for body in (resources.get("aws_iam_role") or {}).values():
            try:
                trust = json.loads(body.get("assume_role_policy") or "{}")
            except (TypeError, ValueError):
                continue
            for statement in trust.get("Statement") or []:
                aws = (statement.get("Principal") or {}).get("AWS") if isinstance(statement, dict) else None
                for principal in aws if isinstance(aws, list) else [aws]:
                    yield from _ROLE_ARN.findall(principal) if isinstance(principal, str) else ()
        for body in (resources.get("aws_eks_access_entry") or {}).values():
            yield from _ROLE_ARN.findall(body.get("principal_arn") or "")


def role_edges(roots: Documents) -> Iterator[tuple[str, str]]:
    """(root, needed): a trust or access entry of `root` names a role that `needed` creates."""
    makers = {role: name for name, documents in roots.items()
              for role in _created(documents, "aws_iam_role", "name")}
    for name, documents in roots.items():
        for role in _principals(documents):
            needed = makers.get(role)
            if needed is not None and needed != name:
                yield name, needed


EDGES: tuple[Callable[[Documents], Iterator[tuple[str, str]]], ...] = (backend_edges, remote_state_edges, role_edges)


def root_graph(roots: Documents, *, backend: bool = True) -> dict[str, list[str]]:
    """`{root: [roots it needs, sorted]}` for every root of a build (`emit_documents`' result).

    `backend=False`: without `backend_edges`, for roots whose state is kept locally (offline copies)."""
    graph: dict[str, set[str]] = {name: set() for name in roots}
    for rule in EDGES if backend else tuple(r for r in EDGES if r is not backend_edges):
        for name, needed in rule(roots):
            graph[name].add(needed)
    return {name: sorted(needs) for name, needs in sorted(graph.items())}
