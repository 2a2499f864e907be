"""The end of a retirement: after `tfgen apply` or `tfgen destroy`, what the apply emptied is recorded in OUT.

A retiring entry (`tfgen.lifecycle.record.Retiring`) names the roots whose apply destroys it. When one of them
was applied (or destroyed) and succeeded, its state is listed (`terraform state list`); if nothing in it is the
entry's (a retiring root: nothing at all), the root is recorded as applied in OUT's manifest, through the
writer, under the build lock (`tfgen.write.update_fleet`). Once every root of the entry is, the next build drops
the providers and roots kept for it. An apply that ran elsewhere (CI) is said with `tfgen build --retired PATH`.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Callable, Iterable

from ..terraform.run import run_command
from ..write import read_previous, update_fleet
from .record import read_record
from .retire import settled

__all__ = ["state_addresses", "settle"]

Addresses = Callable[[str], "list[str] | None"]


def state_addresses(directory: Path, *, terraform: str, env: dict[str, str]) -> list[str] | None:
    """`terraform state list` in `directory` (None when it fails: then nothing is settled)."""
    with tempfile.TemporaryDirectory(prefix="tfgen-state-") as scratch:
        data = Path(scratch) / "state.txt"
        ran = run_command(terraform, directory, "state", "list", env=env, log=Path(scratch) / "state.log",
                          timeout=300, stdout=data)
        if ran.returncode != 0:
            return None
        return [line.strip() for line in data.read_text().splitlines() if line.strip()]


def settle(out: str | Path, applied: Iterable[str], addresses: Addresses) -> list[str]:
    """Record the retirements the apply of `applied` roots (each succeeded) finished; `addresses(root)` lists
    what a root's state still holds. Returns a line per retirement that is now complete."""
    previous = read_previous(out)
    record = read_record(previous.fleet) if previous is not None else None
    if record is None:
        return []
    applied = set(applied)
    wanted = sorted({r for e in record.retiring.values() for r in e.roots if r not in e.applied} & applied)
    left = {root: found for root in wanted if (found := addresses(root)) is not None}
    if not left:
        return []
    finished: list[str] = []

    def change(fleet: dict | None) -> dict | None:
        current = read_record(fleet)
        if current is None:
            return None
        entries = {}
        for path, entry in current.retiring.items():
            for root, found in left.items():
                entry = settled(entry, root, found, current)
            if entry.done and not current.retiring[path].done:
                finished.append(path)
            entries[path] = entry
        return current.with_retiring(entries).as_dict()

    update_fleet(out, change)
    return [f"retirement of {path} applied: the next `tfgen build` drops what was kept for it" for path in finished]
