"""Switching an environment between layouts: refused by `build` unless asked for, and the state moves.

Switching layouts moves every resource of an environment to another root; the
resources keep their addresses, so nothing needs to be destroyed, but a root
that plans without the state of what it now holds would create it all again.
`build` refuses the switch (VAL137) unless `allow_layout_change`, and
`tfgen migrate` prints the shell script that moves the state: the old roots'
state pulled through their backends, `terraform state mv` of each resource
into the new root's state file, pushed through the new roots' backends, the
emptied old state pushed back so no two states own a resource.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from .derive import naming
from .emit import emit_environment
from .emit.cells import split_environment
from .errors import Finding
from .model import LAYOUT_CELLS, LAYOUT_ENVIRONMENT, Environment, Fleet

__all__ = ["layout_changes", "check_layout_change", "migration_script"]


def _layout_in(roots, env: str) -> str | None:
    """The layout `env` has among the recorded `roots` (None: it has no root there)."""
    if env in roots:
        return LAYOUT_ENVIRONMENT
    if any(naming.environment_of_root(r) == env and r != env for r in roots):
        return LAYOUT_CELLS
    return None


def layout_changes(fleet: Fleet, previous: dict[str, list[str]] | None) -> list[tuple[Environment, str, str]]:
    """`(environment, layout before, layout now)` of each environment whose layout the build would switch."""
    if not previous:
        return []
    changes = []
    for env in fleet.environments.values():
        before, now = _layout_in(previous, env.name), fleet.layout_of(env)
        if before is not None and before != now:
            changes.append((env, before, now))
    return changes


def check_layout_change(fleet: Fleet, previous: dict[str, list[str]] | None, *, spec: str = "SPEC",
                        out: str = "out") -> list[Finding]:
    """VAL137 for each environment the build would move to another layout."""
    return [Finding(
        "VAL137", f"environment {env.name} is built in the {before} layout in {out}; building it in the {now} "
        f"layout moves every resource to other roots, whose plans would create them all again",
        f"to switch, build with --allow-layout-change, then move the state before any plan or apply: "
        f"`tfgen migrate {spec} --env {env.name} --out {out} > migrate.sh` and run it (README: Cells); "
        f"else set `layout: {before}` on the environment",
        path=env.name, origin=env.origin("layout") if env.layout is not None else fleet.origin("layout"))
        for env, before, now in layout_changes(fleet, previous)]


def _resources(documents: dict[str, dict]) -> list[str]:
    return sorted(f"{type_}.{name}" for document in documents.values()
                  for type_, items in (document.get("resource") or {}).items() for name in items)


def _backend(fleet: Fleet, env: str, root: str) -> dict | None:
    """The backend block a throwaway directory needs to reach `root`'s state (None: local state in OUT)."""
    state = fleet.state
    if state.backend != "s3":
        return None
    cell = None if root == env else root[len(env) + len(naming.CELL_SEPARATOR):]
    s3 = {"bucket": state.bucket, "key": state.key(env, cell), "region": state.region}
    if state.lock_table:
        s3["dynamodb_table"] = state.lock_table
    return {"terraform": {"backend": {"s3": s3}}}


def migration_script(fleet: Fleet, env: Environment, *, out: str | Path = "out") -> str:
    """A POSIX shell script that moves `env`'s state from its other layout's roots into its layout's (`fleet`
    with pool CIDRs allocated, as `pipeline.prepare` gives it)."""
    import json

    documents = emit_environment(fleet, env)
    cells = split_environment(fleet, env, documents)
    whole = {env.name: documents}
    to_cells = fleet.layout_of(env) == LAYOUT_CELLS
    sources, targets = (whole, cells) if to_cells else (cells, whole)
    owner = {address: root for root, docs in targets.items() for address in _resources(docs)}
    q = shlex.quote
    lines = [
        "#!/bin/sh",
        f"# tfgen migrate: the state of environment {env.name} from the "
        f"{'environment' if to_cells else 'cells'} layout into the {fleet.layout_of(env)} layout.",
        "# Run it from the output directory's parent after `tfgen build --allow-layout-change`, before any plan",
        "# or apply, with the credentials you apply with. It destroys nothing: every resource keeps its address.",
        "set -eu",
        f"OUT={q(str(out))}",
        'WORK=$(mktemp -d)',
        'pull() {  # pull ROOT: its state into $WORK/ROOT.tfstate',
        '  if [ -f "$WORK/$1.backend/backend.tf.json" ]; then',
        '    terraform -chdir="$WORK/$1.backend" init -input=false >/dev/null',
        '    terraform -chdir="$WORK/$1.backend" state pull > "$WORK/$1.tfstate"',
        '  elif [ -f "$OUT/$1/terraform.tfstate" ]; then cp "$OUT/$1/terraform.tfstate" "$WORK/$1.tfstate"',
        '  else echo "no state for $1: nothing to move from it" >&2; return 1; fi',
        '}',
        'push_back() {  # push_back ROOT: the emptied state of an old root back where it was',
        '  if [ -f "$WORK/$1.backend/backend.tf.json" ]; then terraform -chdir="$WORK/$1.backend" state push '
        '"$WORK/$1.tfstate"',
        '  else cp "$WORK/$1.tfstate" "$OUT/$1/terraform.tfstate"; fi',
        '}',
        'move() {  # move FROM TO ADDRESS: when FROM\'s state has ADDRESS (a partly applied root may not)',
        '  if [ -n "$(terraform -chdir="$WORK" state list -state="$WORK/$1.tfstate" "$3" 2>/dev/null)" ]; then',
        '    terraform -chdir="$WORK" state mv -state="$WORK/$1.tfstate" -state-out="$WORK/$2.tfstate" "$3" "$3"',
        '  fi',
        '}',
    ]
    for root in sorted(sources):
        backend = _backend(fleet, env.name, root)
        lines.append(f"mkdir -p \"$WORK/{root}.backend\"")
        if backend is not None:
            lines.append(f"cat > \"$WORK/{root}.backend/backend.tf.json\" <<'EOF'\n{json.dumps(backend, sort_keys=True)}"
                         f"\nEOF")
        lines.append(f"if pull {q(root)}; then")
        for address in _resources(sources[root]):
            target = owner.get(address)
            if target is not None and target != root:
                lines.append(f"  move {q(root)} {q(target)} {q(address)}")
        lines.append(f"  push_back {q(root)}")
        lines.append("fi")
    for root in sorted(targets):
        lines.append(f"if [ -f \"$WORK/{root}.tfstate\" ]; then")
        lines.append(f"  terraform -chdir=\"$OUT/{root}\" init -input=false >/dev/null")
        lines.append(f"  terraform -chdir=\"$OUT/{root}\" state push \"$WORK/{root}.tfstate\"")
        lines.append("fi")
    lines.append(f'echo "moved; now \\`tfgen plan $OUT --env {env.name}...\\` should show no creations"')
    return "\n".join(lines) + "\n"
