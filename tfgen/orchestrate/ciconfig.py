"""What a CI engine's renderer is given (`CiInputs`, checked by `tfgen.orchestrate.ci`) and the YAML it writes.

Both renderers (`actions`, `atlantis`) import this module and nothing else of
`tfgen ci`; `ci` checks the user's input and dispatches to them.
"""

from __future__ import annotations

import shlex
import textwrap
from dataclasses import dataclass, field

import yaml

__all__ = ["DISTRIBUTION", "Install", "CiInputs", "header", "dump"]

# tfgen's name on PyPI (`tfgen` there is an unrelated project); the import name and the command stay `tfgen`.
DISTRIBUTION = "tfgen-fleet"


@dataclass(frozen=True)
class Install:
    """How a CI job installs tfgen: one pinned pip requirement, or a requirements file with hashes."""

    requirement: str | None = None
    requirements_file: str | None = None  # repository path, installed with `--require-hashes`

    def pip_arguments(self) -> str:
        """What follows `pip install` (for comments a reader copies; jobs pass the value through the environment)."""
        if self.requirements_file is not None:
            return f"--require-hashes -r {_sh(self.requirements_file)}"
        return _sh(self.requirement or "")


@dataclass(frozen=True)
class CiInputs:
    """The checked inputs of one CI configuration; every path is relative to the repository root, POSIX."""

    out: str
    spec: str
    roots: dict[str, list[str]]  # {root: [roots it needs that CI runs too]}, in dependency order
    depth: dict[str, int]  # the root's depth in the whole graph
    left_out: list[str]  # roots of the build that CI does not run (`_state` unless asked for)
    branch: str
    install: Install
    terraform_version: str
    terraform_reason: str  # where the version came from, for the header
    command: str  # the `tfgen ci ...` command line that writes this configuration again
    reads: dict[str, list[str]] = field(default_factory=dict)  # {root: the CI roots whose state it reads}

    def root_dir(self, root: str) -> str:
        return root if self.out == "." else f"{self.out}/{root}"


def _sh(text: str) -> str:
    return shlex.quote(text)


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data) -> bool:  # a reader sees every job whole, no `&id001` anchors
        return True


def _text(dumper: yaml.SafeDumper, data: str):
    style = "|" if "\n" in data else None  # scripts read as scripts, not as one escaped line
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _text)


def header(*blocks: str | list[str]) -> str:
    """A comment header: each string a paragraph wrapped to the page, each list lines kept as they are."""
    parts = [block if isinstance(block, list) else textwrap.wrap(block, width=110, break_long_words=False,
                                                                  break_on_hyphens=False) for block in blocks]
    return "\n\n".join("\n".join(lines) for lines in parts)


def dump(document: dict, header: str, *, notes: dict[str, str] | None = None) -> str:
    """YAML in the order the document was built (deterministic), after a comment header; a line that ends
    in a key of `notes` gets its value as a comment (an action's version after its commit)."""
    body = yaml.dump(document, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=120,
                     allow_unicode=True)
    for value, note in (notes or {}).items():
        body = body.replace(f"{value}\n", f"{value} # {note}\n")
    return "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines()) + body
