"""The AWS provider's argument schemas that tfgen commits, and how two of them compare.

tfgen's output targets hashicorp/aws 6.x and the last 5.x, but the only
provider that runs here is 3.39, so `terraform plan` cannot say whether a root
is valid for the versions users run. The argument schemas of 3.39.0, 5.100.0
and 6.25.0 are committed under `tfgen/providers/schemas/` (regenerated and
validated by tools/provider_schemas.py, which compares extractions with
`compare_schemas`); `tfgen.terraform.schema_check` holds a root to them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from ..errors import TfgenError
from .features import SCHEMA_VERSIONS, Version

__all__ = ["SchemaAgreement", "load_schema", "compare_schemas"]


def _version_text(version: Version | str) -> str:
    return str(version if isinstance(version, Version) else Version.parse(version))


@lru_cache(maxsize=None)
def load_schema(version: Version | str) -> dict:
    """The committed schema of one provider version (tfgen/providers/schemas/aws-<version>.json)."""
    text = _version_text(version)
    path = resources.files("tfgen.providers") / "schemas" / f"aws-{text}.json"
    if not path.is_file():
        committed = ", ".join(str(v) for v in SCHEMA_VERSIONS)
        raise TfgenError(f"no committed schema for hashicorp/aws {text}; committed: {committed}")
    return json.loads(path.read_text())


# --------------------------------------------------------------------------- validation of extractions

@dataclass(frozen=True)
class SchemaAgreement:
    """How far two schemas agree on the argument paths both have."""

    compared: int
    agreed: int
    disagreements: tuple[str, ...]  # "type.path: what differs" (kind, nesting, max-one, type)
    required_changed: tuple[str, ...]  # "type.path: required -> optional" (or the reverse)
    only_reference: tuple[str, ...]  # argument paths the candidate lacks


def _shape(schema: dict) -> dict[str, tuple[tuple, bool]]:
    """`{type.path: ((kind, nesting or type, max-one), required)}` for every argument of the resources and provider."""
    shapes: dict[str, tuple[tuple, bool]] = {}

    def walk(block: dict, prefix: str) -> None:
        for name, attribute in block["attributes"].items():
            shapes[f"{prefix}.{name}"] = (("attribute", json.dumps(attribute["type"], sort_keys=True)),
                                          attribute["required"])
        for name, nested in block["blocks"].items():
            single = nested["nesting"] == "single" or nested.get("max_items") == 1
            shapes[f"{prefix}.{name}"] = (("block", nested["nesting"], "max-one" if single else "repeated"),
                                          bool(nested.get("min_items")))
            walk(nested["block"], f"{prefix}.{name}")

    walk(schema["provider"], "provider")
    for type_, block in schema["resources"].items():
        walk(block, type_)
    return shapes


def compare_schemas(reference: dict, candidate: dict) -> SchemaAgreement:
    """Compare kind, block nesting, max-one and attribute type on every argument path both schemas have."""
    left, right = _shape(reference), _shape(candidate)
    common = sorted(set(left) & set(right))
    disagreements = tuple(f"{path}: {' '.join(left[path][0])} -> {' '.join(right[path][0])}"
                          for path in common if left[path][0] != right[path][0])
    word = {True: "required", False: "optional"}
    required = tuple(f"{path}: {word[left[path][1]]} -> {word[right[path][1]]}"
                     for path in common if left[path][1] != right[path][1])
    return SchemaAgreement(len(common), len(common) - len(disagreements), disagreements, required,
                           tuple(sorted(set(left) - set(right))))
