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
"""

from __future__ import annotations

import json
import re
from collections import defaultdict

from ..derive import naming
from ..errors import TfgenError
from ..model import Environment, Fleet

__all__ = ["EXPORTS_FILE", "REMOTE_STATE_FILE", "MAX_PROVIDERS", "split_environment", "join_environment",
           "cell_roots_of"]

EXPORTS_FILE = "exports.tf.json"
REMOTE_STATE_FILE = "remote_state.tf.json"
MAX_PROVIDERS = 2  # the point of the layout: plan cost bounded per root
_REMOTE = "terraform_remote_state"
# `type.name` plus its attribute path, inside `${...}`; names of tfgen's blocks are identifiers with `-` allowed
_REFERENCE = re.compile(r"(?<![\w.-])((?:data\.)?[a-z][a-z0-9_]*\.[A-Za-z_][A-Za-z0-9_-]*)"
                        r"((?:\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\])*)")
_INTERPOLATION = re.compile(r"\$\{([^}]*)\}")
_READ = re.compile(r"data\.terraform_remote_state\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)")
_LITERAL_ROLE = re.compile(r"arn:aws:iam::(\d{12}):role/([\w+=,.@-]+)")


class _Block:
    """One resource, data source or output of the environment's root, with where it was written."""

    def __init__(self, kind: str, type_: str, name: str, body: dict, file: str):
        self.kind, self.type, self.name, self.body, self.file = kind, type_, name, body, file

    @property
    def address(self) -> str:
        if self.kind == "output":
            return f"output.{self.name}"
        return f"data.{self.type}.{self.name}" if self.kind == "data" else f"{self.type}.{self.name}"


def _blocks(documents: dict[str, dict]) -> dict[str, _Block]:
    found = {}
    for file, document in sorted(documents.items()):
        for kind in ("resource", "data"):
            for type_, items in sorted((document.get(kind) or {}).items()):
                for name, body in sorted(items.items()):
                    block = _Block(kind, type_, name, body, file)
                    found[block.address] = block
        for name, body in sorted((document.get("output") or {}).items()):
            found[f"output.{name}"] = _Block("output", "output", name, body, file)
    return found


def _references(value) -> list[tuple[str, str]]:
    """Every `(address, attribute path)` that `${...}` expressions in `value` name, in order."""
    text = json.dumps(value, sort_keys=True)
    return [(m.group(1), m.group(2)) for expr in _INTERPOLATION.findall(text) for m in _REFERENCE.finditer(expr)]


class _Split:
    def __init__(self, fleet: Fleet, env: Environment, documents: dict[str, dict]):
        self.fleet, self.env = fleet, env
        self.blocks = _blocks(documents)
        self.providers = {block["alias"]: block for document in documents.values()
                          for block in (document.get("provider") or {}).get("aws", [])}
        self.terraform = next((d["terraform"] for d in documents.values() if "terraform" in d), {})
        self._home: dict[str, frozenset[str]] = {}

    # -- where each block lives -----------------------------------------------------

    def region(self, block: _Block) -> str | None:
        provider = block.body.get("provider") if block.kind != "output" else None
        if not provider:
            return None
        alias = provider.split(".", 1)[1]
        return self.providers[alias]["region"]

    def literal(self, address: str, path: str) -> str | None:
        """The value of `address` + `path` when tfgen writes it literally across roots, else None."""
        block = self.blocks.get(address)
        if block is None or block.type != "aws_iam_role" or block.kind != "resource":
            return None
        name = block.body.get("name")
        if not isinstance(name, str) or "${" in name or block.body.get("path", "/") != "/":
            return None
        if path == ".arn":
            return naming.role_arn(self.env.account, name)
        return name if path in (".name", ".id") else None

    def dependencies(self, block: _Block) -> list[str]:
        found = [a for a, path in _references(block.body) if a in self.blocks and self.literal(a, path) is None]
        found += [a for a in block.body.get("depends_on") or [] if a in self.blocks]
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

    def _rewrite(self, block: _Block, root: str, placed: dict, exports: dict, reads: dict) -> dict:
        def expression(match: re.Match) -> str:
            address, path = match.group(1), match.group(2)
            if address not in placed or placed[address] == root:
                return match.group(0)
            source = placed[address]
            name = naming.export_name(address + path)
            exports[source][name] = "${" + address + path + "}"
            reads[root].add(source)
            return f"data.{_REMOTE}.{source}.outputs.{name}"

        def text(value: str) -> str:
            for match in _INTERPOLATION.finditer(value):
                for ref in _REFERENCE.finditer(match.group(1)):
                    literal = self.literal(ref.group(1), ref.group(2))
                    if literal is not None and placed.get(ref.group(1)) != root and match.group(0) == (
                            "${" + ref.group(0) + "}"):
                        value = value.replace(match.group(0), literal)
            return _INTERPOLATION.sub(lambda m: "${" + _REFERENCE.sub(expression, m.group(1)) + "}", value)

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


def join_environment(roots: dict[str, dict[str, dict]]) -> dict[str, dict]:
    """One environment's cells roots as one set of documents (`{"<root>/<file>": document}`): each read of
    another root's state replaced by the expression that root exports (left as it is when the export is
    missing, so a rule that follows it breaks), each literal ARN of a role one of the roots creates by the
    role's `arn` reference. Rules about the whole environment evaluate this."""
    exported = {(root, name): body.get("value") for root, documents in roots.items()
                for name, body in (documents.get(EXPORTS_FILE, {}).get("output") or {}).items()}
    roles = {}
    for documents in roots.values():
        for document in documents.values():
            for name, body in ((document.get("resource") or {}).get("aws_iam_role") or {}).items():
                if isinstance(body.get("name"), str):
                    roles[body["name"]] = f"aws_iam_role.{name}"

    def read(match: re.Match) -> str:
        value = exported.get((match.group(1), match.group(2)))
        if isinstance(value, str) and value.startswith("${") and value.endswith("}"):
            return value[2:-1]
        return match.group(0)

    def role(match: re.Match) -> str:
        address = roles.get(match.group(2))
        return "${" + address + ".arn}" if address else match.group(0)

    def walk(value):
        if isinstance(value, str):
            return _LITERAL_ROLE.sub(role, _READ.sub(read, value))
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        return value

    return {f"{root}/{file}": walk(document) for root, documents in sorted(roots.items())
            for file, document in sorted(documents.items()) if file not in (EXPORTS_FILE, REMOTE_STATE_FILE)}
