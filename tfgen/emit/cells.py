"""The cells layout: one environment's documents split into a root per region and per link.

The emitters know nothing of layouts. An environment is emitted as one root,
then `split_environment` partitions its blocks by where they live. A block's
*home* is its own region (its provider alias) joined with the homes of every
block it refers to (`${...}` or `depends_on`), except references tfgen writes as
literals across roots: an IAM role's ARN (and name) from its `name` and the
account, so a deployer role's trust names the management role's ARN. A home of
one region is that region's root; of two, the link root of the pair (a VPC
peering's requester, accepter and routes on both sides; a transit gateway
peering, its accepter, routes and associations); of more, the environment's
fan-in root (see `naming.cell_name`). Outputs go where their values live.

A reference that crosses roots and is not a literal becomes a read of the
source root's state (`data.terraform_remote_state.<root>.outputs.<name>`, on
the environment's own backend), the source root exporting the value in
`exports.tf.json`; a cross-root `depends_on` becomes a dependency on that read.
A region root never reads another root: everything its blocks refer to is at
home. `join_environment` puts the roots back together (reads resolved to what
the source root exports, literal role ARNs to the roles), so rules about the
whole environment (the GitOps path) run over what was emitted.

Both read the environment through its index (`tfgen.terraform.index`) and
rewrite references through the one grammar (`tfgen.terraform.references`).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from typing import Mapping

from ..derive import naming
from ..errors import TfgenError
from ..model import LAYOUT_CELLS, Environment, Fleet
from ..terraform.index import Block, Root
from ..terraform.references import Reference, parse, rewrite
from ..terraform.roots import as_root, documents_root

__all__ = ["EXPORTS_FILE", "REMOTE_STATE_FILE", "MAX_PROVIDERS", "split_environment", "join_environment",
           "environment_roots", "cell_roots_of"]

EXPORTS_FILE = "exports.tf.json"
REMOTE_STATE_FILE = "remote_state.tf.json"
MAX_PROVIDERS = 2  # the point of the layout: plan cost bounded per root
_REMOTE = "terraform_remote_state"
_LITERAL_ROLE = re.compile(r"arn:aws:iam::(\d{12}):role/([\w+=,.@-]+)")


class _Split:
    def __init__(self, fleet: Fleet, env: Environment, documents: dict[str, dict]):
        self.fleet, self.env = fleet, env
        self.root = documents_root(documents)
        self.blocks: dict[str, Block] = {**self.root.resources,
                                         **{b.address: b for b in self.root.outputs.values()}}
        self.providers = {b.name: b.body for b in self.root.providers if b.type == "aws"}
        self.terraform = self.root.terraform[0].body if self.root.terraform else {}
        self._home: dict[str, frozenset[str]] = {}

    # -- where each block lives -----------------------------------------------------

    def region(self, block: Block) -> str | None:
        return self.root.region_of(block) if block.kind != "output" else None

    def literal(self, reference: Reference) -> str | None:
        """The value `reference` takes when tfgen writes it literally across roots, else None."""
        block = self.blocks.get(reference.address)
        if block is None or block.type != "aws_iam_role" or block.kind != "resource":
            return None
        name = block.body.get("name")
        if not isinstance(name, str) or not parse(name).is_literal or block.body.get("path", "/") != "/":
            return None
        if reference.path == ("arn",):
            return naming.role_arn(self.env.account, name)
        return name if reference.path in (("name",), ("id",)) else None

    def dependencies(self, block: Block) -> list[str]:
        found = [r.address for r in self.root.references(block.address)
                 if r.kind in ("resource", "data") and r.address in self.blocks and self.literal(r) is None]
        found += [a for a in self.root.depends_on(block.address) if a in self.blocks]
        return found

    def home(self, address: str) -> frozenset[str]:
        if address not in self._home:
            block = self.blocks[address]
            own = self.region(block)
            home = {own} if own else set()
            self._home[address] = frozenset(home)  # a cycle cannot be emitted; guard recursion anyway
            for needed in self.dependencies(block):
                home |= self.home(needed)
            self._home[address] = frozenset(home)
        return self._home[address]

    def root_of(self, address: str) -> str:
        home = self.home(address)
        if not home:
            raise TfgenError(f"tfgen emitted {address} with no region to place it in; please report this")
        return naming.cell_root(self.env.name, naming.cell_name(home))

    # -- the roots ---------------------------------------------------------------------

    def roots(self) -> dict[str, dict[str, dict]]:
        placed = {address: self.root_of(address) for address in self.blocks}
        roots: dict[str, dict[str, dict]] = defaultdict(lambda: defaultdict(dict))
        exports: dict[str, dict[str, str]] = defaultdict(dict)  # root -> {output name: expression}
        reads: dict[str, set[str]] = defaultdict(set)  # root -> roots whose state it reads
        regions: dict[str, set[str]] = defaultdict(set)
        for address, block in self.blocks.items():
            root = placed[address]
            body = self._rewrite(block, root, placed, exports, reads)
            section = roots[root][block.file].setdefault(block.kind, {})
            if block.kind == "output":
                section[block.name] = body
            else:
                section.setdefault(block.type, {})[block.name] = body
            if self.region(block):
                regions[root].add(self.region(block))
        for root, documents in roots.items():
            self._settle(root, documents, sorted(regions[root]), exports.get(root, {}), sorted(reads[root]))
        return {root: {file: dict(doc) for file, doc in sorted(docs.items())} for root, docs in sorted(roots.items())}

    def _rewrite(self, block: Block, root: str, placed: dict, exports: dict, reads: dict) -> dict:
        def read(reference: Reference) -> str:
            source = placed[reference.address]
            name = naming.export_name(reference.text)
            exports[source][name] = "${" + reference.text + "}"
            reads[root].add(source)
            return f"data.{_REMOTE}.{source}.outputs.{name}"

        def text(value: str) -> str:
            """A literal where an interpolation is one reference tfgen writes literally across roots; a read
            of the source root's state for any other reference to a block placed in another root."""
            pieces, at = [], 0
            for part in parse(value).interpolations:
                sole = part.references[0] if len(part.references) == 1 else None
                literal = self.literal(sole) if sole and part.expression == sole.text and not part.directive \
                    and placed.get(sole.address) != root else None
                if literal is not None:
                    pieces += [value[at:part.start], literal]
                    at = part.end
                    continue
                for reference in part.references:
                    if reference.kind in ("resource", "data") and placed.get(reference.address, root) != root:
                        pieces += [value[at:reference.start], read(reference)]
                        at = reference.end
            return "".join(pieces) + value[at:] if pieces else value

        def walk(value):
            if isinstance(value, str):
                return text(value)
            if isinstance(value, list):
                return [walk(v) for v in value]
            if isinstance(value, dict):
                return {k: walk(v) for k, v in value.items()}
            return value

        body = {k: walk(v) for k, v in block.body.items() if k != "depends_on"}
        if "depends_on" in block.body:
            depends = []
            for address in block.body["depends_on"]:
                if placed.get(address, root) == root:
                    depends.append(address)
                else:  # the other root is applied before this one; wait for its state instead
                    reads[root].add(placed[address])
                    depends.append(f"data.{_REMOTE}.{placed[address]}")
            body["depends_on"] = sorted(set(depends), key=depends.index)
        return body

    def _settle(self, root: str, documents: dict, regions: list[str], exports: dict[str, str],
                reads: list[str]) -> None:
        """The terraform block, providers, exports and reads of one root."""
        if len(regions) > MAX_PROVIDERS:
            raise TfgenError(f"tfgen would give root {root} {len(regions)} AWS providers ({', '.join(regions)}), "
                             f"more than the cells layout's {MAX_PROVIDERS}; please report this with your spec")
        cell = root[len(self.env.name) + len(naming.CELL_SEPARATOR):]
        block = json.loads(json.dumps(self.terraform))
        backend = (block.get("backend") or {}).get("s3")
        if backend is not None:
            backend["key"] = self.fleet.state.key(self.env.name, cell)
        documents["terraform.tf.json"] = {"terraform": block}
        documents["providers.tf.json"] = {"provider": {"aws": [
            self.providers[naming.alias(region)] for region in regions]}}
        if exports:
            documents[EXPORTS_FILE] = {"output": {
                name: {"value": value, "description": "read by another cell of this environment (README: Cells)"}
                for name, value in sorted(exports.items())}}
        if reads:
            documents[REMOTE_STATE_FILE] = {"data": {_REMOTE: {
                source: self._remote_state(source) for source in reads}}}

    def _remote_state(self, source: str) -> dict:
        state = self.fleet.state
        if state.backend == "s3":
            cell = source[len(self.env.name) + len(naming.CELL_SEPARATOR):]
            return {"backend": "s3", "config": {"bucket": state.bucket, "key": state.key(self.env.name, cell),
                                                "region": state.region}}
        return {"backend": "local", "config": {"path": f"../{source}/terraform.tfstate"}}


def split_environment(fleet: Fleet, env: Environment, documents: dict[str, dict]) -> dict[str, dict[str, dict]]:
    """`{root: {file: document}}` of `env` in the cells layout, from its one-root `documents`."""
    return _Split(fleet, env, documents).roots()


def cell_roots_of(roots, environment: str) -> list[str]:
    """The cells roots of `environment` among `roots` (names), sorted."""
    prefix = environment + naming.CELL_SEPARATOR
    return sorted(r for r in roots if r.startswith(prefix))


def join_environment(roots: Mapping[str, Root | dict[str, dict]]) -> Root:
    """One environment's cells roots as one root (files named `"<root>/<file>"`): each read of another
    root's state replaced by the expression that root exports (left as it is when the export is missing,
    so a rule that follows it breaks), each literal ARN of a role one of the roots creates by the role's
    `arn` reference. Rules about the whole environment evaluate this."""
    indexes = {name: as_root(root) for name, root in roots.items()}
    exported = {(name, output): block.body.get("value") for name, index in indexes.items()
                for output, block in index.outputs.items() if block.file == EXPORTS_FILE}
    roles = {block.body["name"]: block.address for index in indexes.values()
             for block in index.of_type("aws_iam_role") if isinstance(block.body.get("name"), str)}

    def read(reference: Reference) -> str | None:
        if reference.kind != "data" or reference.type != _REMOTE or len(reference.path) < 2 \
                or reference.path[0] != "outputs":
            return None
        value = exported.get((reference.address.split(".")[2], reference.path[1]))
        template = parse(value) if isinstance(value, str) else None
        if template is None or not template.is_interpolation or len(template.parts) != 1:
            return None
        prefix = f"{reference.address}.outputs.{reference.path[1]}"
        return template.parts[0].expression + reference.text[len(prefix):]

    def role(match: re.Match) -> str:
        address = roles.get(match.group(2))
        return "${" + address + ".arn}" if address else match.group(0)

    def walk(value):
        if isinstance(value, str):
            return _LITERAL_ROLE.sub(role, rewrite(value, read))
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        return value

    return documents_root({f"{name}/{file}": walk(document) for name, index in sorted(indexes.items())
                           for file, document in sorted(index.documents.items())
                           if file not in (EXPORTS_FILE, REMOTE_STATE_FILE)})


def environment_roots(fleet: Fleet, roots: Mapping[str, Root | dict[str, dict]]) -> dict[str, Root]:
    """`{environment: index}` as emitted (each root given as its index, or its documents): its root's, or its
    cells roots' joined (`join_environment`)."""
    joined = {}
    for env in fleet.environments.values():
        if fleet.layout_of(env) == LAYOUT_CELLS:
            prefix = env.name + naming.CELL_SEPARATOR
            joined[env.name] = join_environment({r: index for r, index in roots.items() if r.startswith(prefix)})
        elif env.name in roots:
            joined[env.name] = as_root(roots[env.name])
    return joined
