"""VAL106-VAL110: the spec's tags, which land in every provider's `default_tags` and on every resource."""

from __future__ import annotations

import re
from typing import Iterator

from ..errors import Finding
from ..model import Fleet
from ..derive.tags import RESOURCE_TAGS, STANDARD_TAGS
from .secrets import secret_tag
from .support import finding

__all__ = ["check_tags", "MAX_TAGS"]

# -- what AWS itself rejects ------------------------------------------------------

MAX_TAGS = 50
_TAG_TEXT = re.compile(r"[\w .:/=+\-@]*")


def check_tags(fleet: Fleet) -> Iterator[Finding]:
    """Tags land in every provider's `default_tags`, beside tfgen's own, on every resource."""
    tags = fleet.tags
    keys = set(tags) | set(STANDARD_TAGS) | set(RESOURCE_TAGS)
    if len(keys) > MAX_TAGS:
        room = MAX_TAGS - len(set(STANDARD_TAGS) | set(RESOURCE_TAGS))
        yield finding("VAL106", f"{len(tags)} tags plus tfgen's own give a subnet {len(keys)} tags; AWS allows "
                       f"{MAX_TAGS} per resource", f"keep at most {room} tags (tfgen adds {', '.join(STANDARD_TAGS)} "
                       "everywhere, and Name and two kubernetes.io tags on subnets)", obj=fleet, field="tags")
    by_case: dict[str, list[str]] = {}
    for key in sorted(keys - set(RESOURCE_TAGS[1:])):
        by_case.setdefault(key.lower(), []).append(key)
    for same in by_case.values():
        if len(same) > 1:
            yield finding("VAL107", f"tag keys {' and '.join(same)} differ only in case; IAM and other services "
                           "treat them as one key", "keep one spelling of the key", obj=fleet, field="tags")
    for key, value in tags.items():
        for what, text in (("key", key), ("value", value)):
            if not _TAG_TEXT.fullmatch(text):
                bad = "".join(sorted({c for c in text if not _TAG_TEXT.fullmatch(c)}))
                yield finding("VAL108", f"tag {what} {text!r:.80} holds characters AWS does not allow: {bad!r}",
                               "use letters, digits, spaces and _ . : / = + - @", obj=fleet, field="tags")
        if key in STANDARD_TAGS or key == "Name":
            yield finding("VAL109", f"tag {key!r} is tfgen's: your value would be silently replaced",
                           f"rename the tag; tfgen sets {', '.join(STANDARD_TAGS)} on every resource and Name on "
                           "most", obj=fleet, field="tags")
        if secret_tag(key, value):
            yield finding("VAL110", f"tag {key!r} looks like it holds a secret",
                           "remove it: tags are written in plain text into providers.tf.json (default_tags) and "
                           "onto every resource, readable by anyone who can list them", obj=fleet, field="tags")


