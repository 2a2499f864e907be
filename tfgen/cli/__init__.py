"""`tfgen` on the command line. Exit status: 0 ok, 1 findings, stale output or failed verification, 2 usage,
130 interrupted, 141 the output's reader stopped reading."""

from __future__ import annotations

import argparse
import functools
import gc
import os
import sys

from .._version import __version__
from ..errors import FindingsError, Severity, TfgenError
from .build import add_build_verbs, add_upgrade_verb
from .common import Parser, print_findings
from .findings import add_check_verb, add_rule_verbs
from .roots import add_gitops_verb, add_run_verbs
from .sandbox import add_sandbox_verb

# Each verb imports what it needs when it runs: `tfgen check` never loads the network
# checks (networkx), `tfgen build` never loads the policy gate or the sandbox.

__all__ = ["main", "run"]

# A build allocates small objects by the hundred thousand and keeps nearly all of them until it ends, so the
# default thresholds make the collector walk live objects again and again. As mypy does, the `tfgen` command
# sets these for its own process (library callers of `main` keep theirs); cycles are still collected.
GC_THRESHOLDS = (200_000, 30, 30)


@functools.cache  # built once per process: parsing does not change it, and library callers run main() often
def _parser() -> argparse.ArgumentParser:
    parser = Parser(prog="tfgen", description="Multi-region EKS fleets as checked Terraform JSON.")
    parser.add_argument("--version", action="version", version=f"tfgen {__version__}")
    verbs = parser.add_subparsers(dest="verb", required=True, parser_class=Parser)

    add_build_verbs(verbs)
    add_check_verb(verbs)
    add_sandbox_verb(verbs)
    add_gitops_verb(verbs)
    add_upgrade_verb(verbs)
    add_run_verbs(verbs)
    add_rule_verbs(verbs)
    _add_tool_verbs(verbs)
    return parser


def _add_tool_verbs(verbs) -> None:
    from ..completion import SHELLS

    s = verbs.add_parser("schema", help="print the spec's JSON Schema (for editors: yaml-language-server)")
    s.set_defaults(run=_schema)
    c = verbs.add_parser("completion", help="print the shell completion script for bash, zsh or fish")
    c.add_argument("shell", choices=SHELLS, help="the shell to complete in")
    c.set_defaults(run=_completion)
    h = verbs.add_parser("help", help="show the help of tfgen or of a verb (tfgen help build)")
    h.add_argument("topic", nargs="*", choices=_Topics(sorted(verbs.choices)), metavar="VERB",
                   help="the verb (and for ci, the engine) to explain")
    h.set_defaults(run=_help)


class _Topics(tuple):
    """The verbs `tfgen help` completes to; any word passes the parser, `_help` says which are wrong."""

    def __contains__(self, word: object) -> bool:
        return True


def _schema(args) -> int:
    from ..spec.schema import shipped

    sys.stdout.write(shipped())
    return 0


def _completion(args) -> int:
    from ..completion import render

    sys.stdout.write(render(args.shell, _parser()))
    return 0


def _help(args) -> int:
    import difflib

    parser = _parser()
    for word in args.topic:
        verbs = next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)
        if verbs is None or word not in verbs.choices:
            known = sorted(verbs.choices) if verbs is not None else []
            close = difflib.get_close_matches(word, known, n=1)
            guess = f"did you mean `{' '.join(args.topic[:args.topic.index(word)] + close)}`? " if close else ""
            raise TfgenError(f"no help on {' '.join(args.topic)!r}\n  fix: {guess}`tfgen help` lists the verbs")
        parser = verbs.choices[word]
    parser.print_help()
    return 0


# Verbs whose standard output is for programs (scripts, YAML, JSON, diagrams): never coloured.
_MACHINE_OUTPUT = {"gitops", "ci", "migrate", "graph", "schema", "completion"}


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit status."""
    from ..colour import painting

    args = _parser().parse_args(argv)
    human = args.verb not in _MACHINE_OUTPUT and getattr(args, "format", "text") == "text"
    with painting(stdout=human):
        return _run(args)


def _run(args) -> int:
    try:
        return args.run(args)
    except FindingsError as exc:
        print_findings(exc.findings)
        errors = sum(f.count for f in exc.findings if f.severity is Severity.ERROR)
        print(f"tfgen: {errors} error(s); nothing was written", file=sys.stderr)
        return exc.exit_code
    except TfgenError as exc:
        print(f"tfgen: {exc}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:
        # Whoever read the output stopped reading (`tfgen build ... | head`): what the verb does is done or
        # stopped as at any error, nothing is wrong with a path. Quiet, with the status a shell gives a command
        # SIGPIPE ended (128 + 13); the standard output goes to /dev/null so Python's last flush cannot fail.
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):  # a library caller's stdout without a file descriptor
            pass
        return 141
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"tfgen: {where}{exc.strerror or exc}\n  fix: check that the path exists and is writable",
              file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("tfgen: interrupted", file=sys.stderr)
        return 130


def run() -> None:
    """The `tfgen` command: `main`, and its status as the process's exit status."""
    gc.set_threshold(*GC_THRESHOLDS)
    status = main()
    # What the verb made is garbage now or lives until the process ends. The interpreter's shutdown would walk
    # every object still tracked for cycles once more before the process ends (for a large build, a good part
    # of its time); frozen, they are left to the exit. Exit handlers, the flush of output and the wait for
    # other threads still run as in any exit.
    gc.freeze()
    sys.exit(status)
