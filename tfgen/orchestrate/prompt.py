"""Asking on the terminal before a root is changed, as terraform asks: only `yes` goes ahead."""

from __future__ import annotations

from typing import Callable, TextIO

from .review import root_lines
from .run import Approval

__all__ = ["approver"]


def approver(log: TextIO) -> Callable[[Approval], bool]:
    """An `approve` callback that shows a root's plan on `log` and reads the answer from the terminal."""

    def approve(approval: Approval) -> bool:
        print(f"\n{approval.root}: the plan", file=log)
        for line in root_lines(approval.review) if approval.review is not None else approval.lines:
            print(f"  {line}", file=log)
        what = "destroy these resources of" if approval.command == "destroy" else "apply these changes to"
        print(f"Do you want to {what} {approval.root}? Only 'yes' will be accepted.", file=log, flush=True)
        return input("  Enter a value: ").strip() == "yes"

    return approve
