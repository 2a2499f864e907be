"""Content digests: what the caches of builds, plans and gate runs are keyed by."""

from __future__ import annotations

import hashlib
from pathlib import Path

__all__ = ["tree_digest"]

_SKIPPED = {".terraform", ".terraform.lock.hcl"}


def tree_digest(*paths: str | Path) -> str:
    """A digest of every file under `paths` (names and bytes; `.terraform/` left out): equal trees, equal digests."""
    digest = hashlib.sha256()
    for given in paths:
        top = Path(given)
        files = [top] if top.is_file() else sorted(p for p in top.rglob("*") if p.is_file()
                                                   and not _SKIPPED & set(p.relative_to(top).parts))
        for path in files:
            digest.update(path.relative_to(top).as_posix().encode() if path != top else path.name.encode())
            digest.update(b"\0")
            digest.update(path.read_bytes())
            digest.update(b"\0")
    return digest.hexdigest()
