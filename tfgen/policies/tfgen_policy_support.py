"""Helpers shared by tfgen's Python checks (no checks here).

What reads as a secret is decided by `tfgen.checks.secrets`, the detector `validate`
uses too: `looks_secret` and `secret_tag` are re-exported from there.

checkov's terraform_json parser wraps every value in a one-element list
(`{"provider": ["aws.us_east_1"]}`); `value` unwraps it.
"""

from __future__ import annotations

import re
from typing import Any, Iterator

from tfgen.checks.secrets import looks_secret, secret_tag
from tfgen.derive.tags import STANDARD_TAGS

__all__ = ["REQUIRED_TAGS", "ALIAS_REF", "looks_secret", "secret_tag", "value", "blocks", "strings", "entity_name"]

# The tags tfgen puts on every resource, from the one place they are defined.
REQUIRED_TAGS = STANDARD_TAGS
ALIAS_REF = re.compile(r"aws\.[A-Za-z_][A-Za-z0-9_-]*")  # fullmatch only


def value(conf: dict, key: str, default: Any = None) -> Any:
    """The value of `key`, unwrapped from checkov's one-element list."""
    item = conf.get(key, default)
    while isinstance(item, list) and len(item) == 1:
        item = item[0]
    return item


def blocks(conf: dict, key: str) -> list[dict]:
    """Nested blocks (`ingress`, `vpc_config`, ...) as a list of dicts."""
    item = conf.get(key) or []
    if isinstance(item, dict):
        return [item]
    found = []
    for entry in item:
        if isinstance(entry, list):
            found.extend(e for e in entry if isinstance(e, dict))
        elif isinstance(entry, dict):
            found.append(entry)
    return found


def strings(item: Any) -> Iterator[str]:
    """Every string inside a value, however deeply nested."""
    if isinstance(item, str):
        yield item
    elif isinstance(item, dict):
        for key, inner in item.items():
            if not str(key).startswith("__"):
                yield from strings(inner)
    elif isinstance(item, (list, tuple)):
        for inner in item:
            yield from strings(inner)


def entity_name(check: Any) -> str:
    """The Terraform name of the block being scanned (`x` of `aws_vpc.x`)."""
    return str(getattr(check, "entity_path", "")).rsplit(":", 1)[-1]
