"""Helpers shared by tfgen's Python checks (no checks here).

What reads as a secret is decided by `tfgen.checks.secrets`, the detector `validate`
uses too: `looks_secret` and `secret_tag` are re-exported from there.

checkov's terraform_json parser wraps every value in a one-element list
(`{"provider": ["aws.us_east_1"]}`); `value` unwraps it. What the values mean is
read as tfgen reads every root: references and the provider meta-argument by the
one grammar (`tfgen.terraform.references`), IAM policies by the one statement
normaliser (`tfgen.terraform.statements`).
"""

from __future__ import annotations

from typing import Any, Iterator

from tfgen.checks.secrets import looks_secret, secret_tag
from tfgen.derive.tags import STANDARD_TAGS
from tfgen.terraform.references import parse, provider_alias
from tfgen.terraform.statements import Statement, statements

__all__ = ["REQUIRED_TAGS", "looks_secret", "secret_tag", "value", "blocks", "strings", "entity_name",
           "pins_alias", "policy_statements", "literal_text"]

# The tags tfgen puts on every resource, from the one place they are defined.
REQUIRED_TAGS = STANDARD_TAGS


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


def pins_alias(conf: dict) -> bool:
    """Whether a block pins an aliased AWS provider (`provider = "aws.<alias>"`)."""
    pinned = provider_alias(value(conf, "provider"))
    return pinned is not None and pinned[0] == "aws"


def policy_statements(conf: dict, key: str = "policy") -> tuple[Statement, ...] | None:
    """The statements of the IAM policy in `key` (a JSON string or an object); None when it cannot be read
    here (a `${...}` reference to a policy made elsewhere)."""
    return statements(value(conf, key))


def literal_text(text: Any) -> str:
    """The text of a string outside its `${...}` references (what it says in itself); "" for a non-string."""
    return parse(text).literal if isinstance(text, str) else ""
