"""EC2 instance types against tfgen's table of them (VAL194), for node groups and the bastion alike.

The table (`instance_types.json` beside this module) is every type of botocore's
EC2 service model, by family; `tools/instance_types.py` regenerates it. A type the
table lacks is an error when its size is no EC2 size at all (`t3.lrage`), and a
warning when family and size could be real but newer than the table (`m9g.large`);
either way the finding proposes the closest type the table has. Values not shaped
family.size are VAL156's and VAL441's.
"""

from __future__ import annotations

import difflib
import json
import re
from functools import lru_cache
from importlib import resources
from typing import Iterator

from ..errors import Finding, Severity
from ..model import Fleet
from .support import INSTANCE_TYPE, clusters, finding

__all__ = ["check_instance_types", "instance_type_problem", "table_source"]

_NUMBERED_SIZE = re.compile(r"\d+xlarge|metal-\d+xl")


@lru_cache(maxsize=1)
def _table() -> tuple[str, dict[str, tuple[str, ...]]]:
    data = json.loads(resources.files(__package__).joinpath("instance_types.json").read_text(encoding="utf-8"))
    return data["source"], {family: tuple(sizes) for family, sizes in data["families"].items()}


@lru_cache(maxsize=1)
def _known() -> tuple[frozenset[str], frozenset[str]]:
    """Every type of the table, and every size word."""
    _, families = _table()
    types = frozenset(f"{family}.{size}" for family, sizes in families.items() for size in sizes)
    return types, frozenset(size for sizes in families.values() for size in sizes)


def table_source() -> str:
    """Where the table comes from (botocore's version and the EC2 API's)."""
    return _table()[0]


def instance_type_problem(kind: str) -> tuple[Severity, str, str] | None:
    """(severity, why, fix) when the family.size `kind` is not in the table; None when it is."""
    types, sizes = _known()
    if kind in types:
        return None
    source, families = _table()
    family, _, size = kind.partition(".")
    real_size = size in sizes or bool(_NUMBERED_SIZE.fullmatch(size))
    pool = [f"{family}.{s}" for s in families[family]] if family in families else sorted(types)
    close = difflib.get_close_matches(kind, pool, n=1, cutoff=0.6)
    guess = f"did you mean {close[0]}? " if close else ""
    why = f"EC2 family {family} has no size {size}" if family in families else f"{family} is no EC2 family"
    listed = f"{family}'s sizes: {', '.join(families[family])}" if family in families else ""
    if real_size:
        return (Severity.WARNING, f"{why} in tfgen's table ({source})",
                f"{guess}keep it if AWS added it after the table (a warning does not stop a build)"
                + (f"; {listed}" if listed else ""))
    return Severity.ERROR, why, (f"{guess}{listed}" if listed else f"{guess}write an EC2 instance type such as "
                                                                   "t3.medium").strip()


def check_instance_types(fleet: Fleet) -> Iterator[Finding]:
    for env, region, cluster, path in clusters(fleet):
        for group in cluster.node_groups.values():
            for kind in group.instance_types:
                yield from _judge(kind, f"instance type {kind!r}", path=f"{path}/{group.name}", obj=group,
                                  field="instance_types")
    for env in fleet.environments.values():
        if env.bastion.enabled:
            kind = env.bastion.instance_type
            yield from _judge(kind, f"bastion instance_type {kind!r}", path=env.name, obj=env.bastion,
                              field="instance_type")


def _judge(kind, what: str, **where) -> Iterator[Finding]:
    if not isinstance(kind, str) or not INSTANCE_TYPE.fullmatch(kind):
        return  # not family.size: VAL156 (node groups) and VAL441 (the bastion) say so
    problem = instance_type_problem(kind)
    if problem is not None:
        severity, why, fix = problem
        verdict = "is not" if severity is Severity.ERROR else "may not be"
        yield finding("VAL194", f"{what} {verdict} an EC2 instance type: {why}", fix, severity=severity, **where)
