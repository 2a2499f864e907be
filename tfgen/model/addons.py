"""EKS add-on versions per Kubernetes minor: the committed table tfgen pins add-ons from.

Every cluster runs its EKS add-ons at an explicit `addon_version` for its
Kubernetes minor, so a control-plane upgrade moves them with it (Terraform
updates each add-on after the cluster it names). The table,
`addon_versions.json` beside this module, has one row per add-on and minor:
the version, its basis (`default`: the version EKS flags `defaultVersion` for
that minor; `newest`: the newest version a source shows compatible with it)
and its source, each source described in the file. A row without a version is
a gap: no source names one (Kubernetes 1.36 when the table was made), so the
add-on keeps the version EKS chose when it was created and does not follow an
upgrade until it is pinned (`addons.<name>.version`) or the table is
regenerated. `tools/addon_versions.py` rewrites the table from
`aws eks describe-addon-versions`.

Two rules the table keeps (tests hold it to them): the VPC CNI moves one add-on
minor per Kubernetes minor (the EKS API refuses a larger step), and kube-proxy
carries its row's Kubernetes minor, so it never runs ahead of the control plane.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

__all__ = ["AddonRow", "TABLE_FILE", "REGENERATE", "rows", "row", "table_version", "sources"]

TABLE_FILE = "addon_versions.json"
REGENERATE = "python tools/addon_versions.py --aws"


@dataclass(frozen=True)
class AddonRow:
    """One add-on on one Kubernetes minor: its version (None: a gap), why that one, and where it comes from."""

    addon: str
    kubernetes: str
    version: str | None
    basis: str | None  # "default" or "newest"; None for a gap
    source: str | None  # a key of `sources()`
    note: str | None = None


@lru_cache(maxsize=1)
def _table() -> dict[str, Any]:
    text = resources.files(__package__).joinpath(TABLE_FILE).read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@lru_cache(maxsize=1)
def rows() -> dict[tuple[str, str], AddonRow]:
    """Every row of the table by (add-on, Kubernetes minor)."""
    return {(r["addon"], r["kubernetes"]): AddonRow(**r) for r in _table()["rows"]}


def row(addon: str, kubernetes: str) -> AddonRow | None:
    """The row of `addon` on Kubernetes `kubernetes` ("1.35"); None when the table has none."""
    return rows().get((addon, kubernetes))


def table_version(addon: str, kubernetes: str) -> str | None:
    """The version the table gives `addon` on Kubernetes `kubernetes`; None for a gap or a minor it lacks."""
    found = row(addon, kubernetes)
    return found.version if found else None


def sources() -> dict[str, dict[str, str]]:
    """The table's sources by key: what each is, where it was read, its date."""
    found: dict[str, dict[str, str]] = _table()["sources"]
    return found
