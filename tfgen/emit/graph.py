"""The graph of roots: which root modules a root needs applied before it, read from the emitted documents.

A root needs another when it uses something the other creates. Each kind of
edge is one rule in `EDGES` over the roots' indexes (`tfgen.terraform.index`),
and the orchestrator, `tfgen ci` and the sandbox read one graph:

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

import re
from typing import Callable, Iterator, Mapping

from ..terraform.index import Root
from ..terraform.references import parse
from ..terraform.roots import as_root
from ..terraform.statements import statements

__all__ = ["EDGES", "root_graph", "backend_edges", "remote_state_edges", "role_edges"]

Roots = Mapping[str, Root]


def _created(root: Root, type_: str, argument: str) -> Iterator[str]:
    """Literal values of `argument` on every `type_` resource of one root."""
    for block in root.of_type(type_):
        value = block.body.get(argument)
        if isinstance(value, str) and parse(value).is_literal:
            yield value


def backend_edges(roots: Roots) -> Iterator[tuple[str, str]]:
    """(root, needed): `root` keeps its state in a bucket or lock table that `needed` creates."""
    makers: dict[tuple[str, str], str] = {}
    for name, root in roots.items():
        for bucket in _created(root, "aws_s3_bucket", "bucket"):
            makers[("bucket", bucket)] = name
        for table in _created(root, "aws_dynamodb_table", "name"):
            makers[("dynamodb_table", table)] = name
    for name, root in roots.items():
        backend = root.backend("s3")
        for key in ("bucket", "dynamodb_table"):
            value = backend.get(key)
            needed = makers.get((key, value)) if isinstance(value, str) else None
            if needed is not None and needed != name:
                yield name, needed


def remote_state_edges(roots: Roots) -> Iterator[tuple[str, str]]:
    """(root, needed): `root` reads `needed`'s state (`data.terraform_remote_state.<needed>`)."""
    for name, root in roots.items():
        for block in root.of_type("terraform_remote_state", data=True):
            if block.name in roots and block.name != name:
                yield name, block.name


_ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/([\w+=,.@-]+)")


def _principals(root: Root) -> Iterator[str]:
    """Role names this root's role trusts and access entries name literally."""
    for block in root.of_type("aws_iam_role"):
        for statement in statements(block.body.get("assume_role_policy")) or ():
            for principal in statement.principal("AWS"):
                yield from _ROLE_ARN.findall(principal) if isinstance(principal, str) else ()
    for block in root.of_type("aws_eks_access_entry"):
        principal = block.body.get("principal_arn")
        yield from _ROLE_ARN.findall(principal) if isinstance(principal, str) else ()


def role_edges(roots: Roots) -> Iterator[tuple[str, str]]:
    """(root, needed): a trust or access entry of `root` names a role that `needed` creates."""
    makers = {role: name for name, root in roots.items() for role in _created(root, "aws_iam_role", "name")}
    for name, root in roots.items():
        for role in _principals(root):
            needed = makers.get(role)
            if needed is not None and needed != name:
                yield name, needed


EDGES: tuple[Callable[[Roots], Iterator[tuple[str, str]]], ...] = (backend_edges, remote_state_edges, role_edges)


def root_graph(roots: Mapping[str, Root | dict[str, dict]], *, backend: bool = True) -> dict[str, list[str]]:
    """`{root: [roots it needs, sorted]}` for every root of a build (each its index, or its documents as
    `emit_documents` made them).

    `backend=False`: without `backend_edges`, for roots whose state is kept locally (offline copies)."""
    indexes = {name: as_root(root) for name, root in roots.items()}
    graph: dict[str, set[str]] = {name: set() for name in indexes}
    for rule in EDGES if backend else tuple(r for r in EDGES if r is not backend_edges):
        for name, needed in rule(indexes):
            graph[name].add(needed)
    return {name: sorted(needs) for name, needs in sorted(graph.items())}
