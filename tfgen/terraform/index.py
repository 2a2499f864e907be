"""THE index of a Terraform JSON root module: what every reader of a root asks.

`tfgen.terraform.roots` reads a root (from a directory, or documents built in
memory) into one canonical shape and fills a `Root`: resources and data
sources by address with the file each is in, providers with their alias and
region, outputs, `terraform` blocks. What is derived from them is computed
once per root, on first use: resources by type, each block's references (read
by `tfgen.terraform.references`, the one reference grammar) and its
`depends_on`. The rules on emitted documents, the cells split and the graph of
roots, the schema check, the gate and the sandbox's passes ask it; lowering reads
a root through it and rewrites a copy by the same grammar.

Canonical documents (`Root.documents`): `resource`/`data` as
`{type: {name: body}}`, `output`/`variable`/`module`/`check` as `{name: body}`,
`provider` as `{name: [body, ...]}`, `terraform`/`locals`/... as `[body, ...]`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator, NamedTuple

from .references import Reference, provider_alias, references

__all__ = ["REBUILD", "RootProblem", "Block", "Root", "nested", "resources_of", "remove_resource"]

REBUILD = "rebuild it with `tfgen build`, or fix the file by hand"


class RootProblem(NamedTuple):
    """A file of a root that cannot be read as Terraform JSON, and what to do."""

    file: str
    line: int | None
    message: str
    fix: str = REBUILD

    @property
    def location(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file

    def __str__(self) -> str:
        return f"{self.location}: {self.message}; fix: {self.fix}"


class Block(NamedTuple):
    """One block of a root: its address (`aws_vpc.hub`, `data.x.y`, `provider.aws.us_east_1`, `output.x`,
    `terraform`), its body and the file it is in; `kind` (`resource`, `data`, `provider`, `output`,
    `terraform`), `type` (a resource's or data source's type, a provider's name) and `name` (a provider's
    alias, `default` without one)."""

    address: str
    body: dict
    file: str
    kind: str = ""
    type: str = ""
    name: str = ""


def nested(value: Any) -> dict:
    """A nested block written as an object or as a list of one (`vpc_config`, `launch_template`); else {}."""
    if isinstance(value, list):
        value = value[0] if value else {}
    return value if isinstance(value, dict) else {}


class Root:
    """A root module read and normalised: canonical documents per file name, blocks by address, problems."""

    def __init__(self, directory: Path | None = None):
        self.directory = directory
        self.documents: dict[str, dict] = {}
        self.texts: dict[str, str] = {}
        self.resources: dict[str, Block] = {}  # managed `type.name` and `data.type.name`
        self.providers: list[Block] = []
        self.outputs: dict[str, Block] = {}
        self.terraform: list[Block] = []
        self.problems: list[RootProblem] = []
        self._by_type: dict[tuple[str, str], list[Block]] | None = None
        self._references: dict[str, tuple[Reference, ...]] = {}

    # -- blocks ------------------------------------------------------------------------

    def of_type(self, type_: str, *, data: bool = False) -> list[Block]:
        """Every managed resource (with `data`, data source) of `type_`, in file order."""
        if self._by_type is None:
            self._by_type = {}
            for block in self.resources.values():
                self._by_type.setdefault((block.kind, block.type), []).append(block)
        return self._by_type.get(("data" if data else "resource", type_), [])

    def body(self, address: str) -> dict:
        """The body of resource (or `data.`) `address`; {} when the root has none."""
        block = self.resources.get(address)
        return block.body if block else {}

    def _block(self, address: str) -> Block | None:
        """The resource, data source or output (`output.<name>`) at `address`."""
        if address.startswith("output."):
            return self.outputs.get(address.removeprefix("output."))
        return self.resources.get(address)

    def file_of(self, address: str) -> str | None:
        """The file a resource, data source or output (`output.<name>`) is written in."""
        block = self._block(address)
        return block.file if block else None

    def file_of_output(self, name: str) -> str | None:
        block = self.outputs.get(name)
        return block.file if block else None

    def output_value(self, name: str) -> Any:
        """The `value` of output `name` (None when there is no such output)."""
        block = self.outputs.get(name)
        return block.body.get("value") if block else None

    # -- providers ---------------------------------------------------------------------

    def aliases(self, provider: str = "aws") -> dict[str, str]:
        """`{alias: region}` of every aliased `provider` block ("" for a region that is not a string)."""
        found = {}
        for block in self.providers:
            if block.type == provider and isinstance(block.body.get("alias"), str):
                region = block.body.get("region")
                found[block.body["alias"]] = region if isinstance(region, str) else ""
        return found

    def region_of(self, block: Block) -> str | None:
        """The region of the provider alias a resource or data source pins (`provider = "aws.<alias>"`)."""
        pinned = provider_alias(block.body.get("provider"))
        return self.aliases(pinned[0]).get(pinned[1]) if pinned else None

    # -- settings ----------------------------------------------------------------------

    def required_provider(self, provider: str = "aws") -> dict | None:
        """The root's `terraform.required_providers.<provider>` entry (an object), if it declares one."""
        for block in self.terraform:
            required = block.body.get("required_providers") or {}
            for entry in required if isinstance(required, list) else [required]:
                if isinstance(entry, dict) and isinstance(entry.get(provider), dict):
                    return entry[provider]
        return None

    def backend(self, kind: str = "s3") -> dict:
        """The settings of the root's `terraform.backend.<kind>` block ({} when it has none)."""
        for block in self.terraform:
            found = nested(nested(block.body.get("backend")).get(kind))
            if found:
                return found
        return {}

    # -- references --------------------------------------------------------------------

    def references(self, address: str) -> tuple[Reference, ...]:
        """Every reference in the body of a resource, data source or output (`output.<name>`), `depends_on`
        aside, in order; computed once."""
        found = self._references.get(address)
        if found is None:
            block = self._block(address)
            body = block.body if block else {}
            found = tuple(references({k: v for k, v in body.items() if k != "depends_on"}))
            self._references[address] = found
        return found

    def depends_on(self, address: str) -> tuple[str, ...]:
        """The addresses a block's `depends_on` names, as written."""
        block = self._block(address)
        listed = block.body.get("depends_on") if block else None
        return tuple(d for d in listed if isinstance(d, str)) if isinstance(listed, list) else ()


# -- canonical documents of a root being rewritten (lowering and its passes) -------------------


def resources_of(documents: dict[str, dict]) -> Iterator[tuple[str, str, dict]]:
    """(type, name, body) of every resource of canonical documents, in file order; safe to remove while iterating."""
    for document in documents.values():
        for type_, items in list(document.get("resource", {}).items()):
            for name, body in list(items.items()):
                yield type_, name, body


def remove_resource(documents: dict[str, dict], type_: str, name: str) -> None:
    """Take resource `type_.name` out of canonical documents (and its type's block when it was the last)."""
    for document in documents.values():
        resources = document.get("resource", {})
        if name in resources.get(type_, {}):
            del resources[type_][name]
            if not resources[type_]:
                del resources[type_]
            if not resources:
                del document["resource"]
