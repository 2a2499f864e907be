"""IAM policy documents in every form JSON allows them, as one shape of statement.

A policy argument (`policy`, `assume_role_policy`, an inline policy) holds a
JSON string, or, as checkov reads it, an object; `Statement` is an object or a
list; `Action`, `NotAction`, `Resource` and `NotResource` a string or a list;
`Principal` is `"*"` or an object whose `AWS`, `Service`, `Federated` or
`CanonicalUser` is a string or a list; a condition's value a scalar or a list.
`statements` turns each into `Statement`s whose fields are always tuples; a
policy it cannot read (a `${...}` reference to a policy made elsewhere, text
that is not JSON) is None, never an exception. A policy's text is read once:
a root repeats its policies, and a rule asks about them once per edge.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any, NamedTuple

__all__ = ["Statement", "statements", "EVERYONE"]

EVERYONE = "*"  # `"Principal": "*"`: every principal, of every kind


def _strings(value: Any) -> tuple:
    """A string or a list of them (checkov's one-element lists unwrapped) as a tuple; anything else: ()."""
    if isinstance(value, list):
        return tuple(v for item in value for v in (_strings(item) if isinstance(item, list) else (item,))
                     if v is not None)
    return () if value is None else (value,)


def _object(value: Any) -> dict:
    """An object, or the object of a one-element list; anything else: {}."""
    while isinstance(value, list) and len(value) == 1:
        value = value[0]
    return value if isinstance(value, dict) else {}


class Statement(NamedTuple):
    """One IAM policy statement with every field normalised to tuples (`not_actions` is None when absent)."""

    effect: str = ""
    actions: tuple = ()
    not_actions: tuple | None = None
    resources: tuple = ()
    not_resources: tuple | None = None
    principals: dict[str, tuple] = {}  # kind -> principals; {"*": ("*",)} for "*"; never changed in place
    conditions: dict[str, dict[str, tuple]] = {}  # operator -> key -> values
    sid: str = ""

    def allows(self, action: str) -> bool:
        """Whether this is an Allow of `action` (`sts:AssumeRole`), directly or through `sts:*` or `*`."""
        service = action.split(":", 1)[0]
        return self.effect == "Allow" and any(a in (action, f"{service}:*", "*") for a in self.actions)

    def principal(self, kind: str) -> tuple:
        """The principals of `kind` (`AWS`, `Service`, `Federated`); `("*",)` when the statement names everyone."""
        if EVERYONE in self.principals:
            return (EVERYONE,)
        return self.principals.get(kind, ())

    def condition(self, *operators: str) -> dict[str, tuple]:
        """`{condition key: values}` under the given operators (`StringEquals`, `StringLike`), merged in order."""
        found: dict[str, tuple] = {}
        for operator in operators:
            found.update(self.conditions.get(operator, {}))
        return found


def _statement(raw: dict) -> Statement:
    principal = raw.get("Principal")
    while isinstance(principal, list) and len(principal) == 1:
        principal = principal[0]
    principals = ({EVERYONE: (EVERYONE,)} if principal == EVERYONE else
                  {str(k): _strings(v) for k, v in principal.items()} if isinstance(principal, dict) else {})
    conditions = {str(operator): {str(k): _strings(v) for k, v in _object(keys).items()}
                  for operator, keys in _object(raw.get("Condition")).items()}
    effect = _strings(raw.get("Effect"))
    sid = _strings(raw.get("Sid"))
    return Statement(
        effect=effect[0] if effect and isinstance(effect[0], str) else "",
        actions=_strings(raw.get("Action")),
        not_actions=_strings(raw["NotAction"]) if "NotAction" in raw else None,
        resources=_strings(raw.get("Resource")),
        not_resources=_strings(raw["NotResource"]) if "NotResource" in raw else None,
        principals=principals,
        conditions=conditions,
        sid=sid[0] if sid and isinstance(sid[0], str) else "",
    )


def statements(policy: Any) -> tuple[Statement, ...] | None:
    """The statements of a policy document (a JSON string or an object); None when it is not one."""
    while isinstance(policy, list) and len(policy) == 1:
        policy = policy[0]
    if isinstance(policy, str):
        return _statements_of_text(policy)
    return _statements_of(policy)


@lru_cache(maxsize=1 << 12)
def _statements_of_text(text: str) -> tuple[Statement, ...] | None:
    try:
        return _statements_of(json.loads(text))
    except ValueError:
        return None


def _statements_of(policy: Any) -> tuple[Statement, ...] | None:
    if not isinstance(policy, dict) or "Statement" not in policy:
        return None
    found = policy["Statement"]
    found = [found] if isinstance(found, dict) else found
    if not isinstance(found, list):
        return None
    return tuple(_statement(s) for s in found if isinstance(s, dict))
