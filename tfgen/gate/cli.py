"""What `tfgen check` does besides scanning: its usage rules and `--list`."""

from __future__ import annotations

import argparse

from .catalog import gate_checks, render_list
from .scan import policy_dir
from .formats import write_report

__all__ = ["usage_problem", "check_list"]


def usage_problem(args: argparse.Namespace) -> str | None:
    """Why this combination of `tfgen check` arguments cannot run (with the fix), or None."""
    if args.list:
        if args.out:
            return f"--list takes no OUT (got {args.out}); fix: run `tfgen check --list` alone"
        if args.format not in ("text", "json"):
            return f"--list prints text or json, not {args.format}; fix: use --format text or --format json"
        return None
    if not args.out:
        return "OUT is missing; fix: name the output directory of `tfgen build` (or use --list)"
    return None


def check_list(args: argparse.Namespace) -> int:
    """`tfgen check --list`: every check a run with these `--policies` runs."""
    from pathlib import Path

    from ..errors import PolicyError

    for extra in args.policies:
        if not Path(extra).is_dir():
            raise PolicyError(f"policy directory {extra} does not exist; name a directory of checkov checks")
    write_report(render_list(gate_checks([policy_dir(), *args.policies]), args.format), args.output)
    return 0
