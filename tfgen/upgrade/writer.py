"""The spec rewritten to the next step of an upgrade, its comments, order and quoting kept.

A step is one reviewed pull request: `tfgen upgrade --write` edits the YAML as a
person would (ruamel.yaml's round trip, so comments and key order stay) and
changes only the lines the step needs:

- `control-plane`: the wave's clusters get `kubernetes_version` one minor up,
  their node groups `version` at the old minor (a cluster that takes its node
  groups from `defaults` gets its own copy) and the add-ons the table moves a
  pin at the old minor's version;
- `nodes-and-addons`: those pins go but the VPC CNI's (a copied node group
  mapping that equals the defaults again goes too);
- `vpc-cni`: the VPC CNI's pin goes.

When every cluster of an environment runs one version again and `defaults`
names a version, the version moves back into `defaults`. Lines ruamel.yaml
would re-indent are left as written: the edit is computed on ruamel's text and
patched into the original. The result is read back and must plan from exactly
the state the step leads to, or nothing is written.
"""

from __future__ import annotations

import copy
import difflib
import io
import os
from pathlib import Path
from typing import Any

from ..errors import TfgenError
from ..model import ADDONS, DEFAULT_EDGE_NAME, Fleet
from ..model.addons import table_version
from .planner import CONTROL_PLANE, NODES_AND_ADDONS, Step, apply_step, moves, read_state

__all__ = ["WriteError", "rewrite", "write_steps"]

_CNI = "vpc-cni"


class WriteError(TfgenError):
    """The spec cannot be rewritten to the step (exit 2): the spec is not YAML, or its shape hides a cluster."""


def _yaml(sequence: int, offset: int):
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=sequence, offset=offset)
    return yaml


def _dump(yaml, data) -> str:
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def _load(text: str):
    """The document and the YAML instance whose dump reproduces `text` best (exactly where one does)."""
    best = None
    for sequence, offset in ((2, 0), (4, 2)):
        yaml = _yaml(sequence, offset)
        data = yaml.load(text)
        same = _dump(yaml, data) == text
        if same:
            return yaml, data
        best = best or (yaml, data)
    assert best is not None
    return best


def _quoted(version: str):
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString

    return DoubleQuotedScalarString(version)


def _mapping(parent, key) -> Any:
    """`parent[key]` as a mapping, an empty one put there when it holds nothing."""
    from ruamel.yaml.comments import CommentedMap

    if parent.get(key) is None:
        parent[key] = CommentedMap()
    return parent[key]


def _cluster_node(doc, fleet: Fleet, env_name: str, path: str):
    region, _, name = path.partition("/")
    env = fleet.environment(env_name)
    cluster = env.region(region).cluster(name)
    body = doc["environments"][env_name]
    if cluster.is_hub:
        return _mapping(body, "hub")
    regions = body["regions"]
    node = regions.get(region)
    if isinstance(node, dict) and "clusters" in node:
        return _mapping(node["clusters"], name)
    if name != DEFAULT_EDGE_NAME:
        raise WriteError(f"cannot find cluster {env_name}/{path} in the spec's YAML")
    return _mapping(regions, region)


def _default_groups(doc_env) -> Any:
    from ruamel.yaml.comments import CommentedMap

    defaults = doc_env.get("defaults") or {}
    groups = defaults.get("node_groups")
    if groups is not None:
        return copy.deepcopy(groups)
    fresh = CommentedMap()
    fresh["workers"] = CommentedMap()
    fresh["workers"].fa.set_flow_style()
    return fresh


def _plain(value) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _edit(doc, fleet: Fleet, step: Step) -> None:
    from ruamel.yaml.comments import CommentedMap

    doc_env = doc["environments"][step.environment]
    env = fleet.environment(step.environment)
    for path in step.clusters:
        node = _cluster_node(doc, fleet, step.environment, path)
        region, _, name = path.partition("/")
        state = read_state(env, region, env.region(region).cluster(name))
        if step.kind == CONTROL_PLANE:
            node["kubernetes_version"] = _quoted(step.after)
            if "node_groups" not in node:
                node["node_groups"] = _default_groups(doc_env)
            for group in [n for c, n, _, _ in step.nodes if c == path]:
                _mapping(node["node_groups"], group)["version"] = _quoted(step.before)
            held = [a for a in ADDONS if a not in state.pinned_addons() and moves(a, state.control, step.after)]
            if held:
                addons = _mapping(node, "addons")
                for addon in held:
                    pin = CommentedMap()
                    pin["version"] = table_version(addon, state.control)
                    pin.fa.set_flow_style()
                    addons[addon] = pin
            node.fa.set_block_style()  # a reviewer reads the pins one per line
            continue
        if step.kind == NODES_AND_ADDONS:
            groups = node.get("node_groups") or {}
            for group in groups.values():
                if isinstance(group, dict):
                    group.pop("version", None)
            defaults = _default_groups(doc_env)
            if "node_groups" in node and _plain(node["node_groups"]) == _plain(defaults):
                del node["node_groups"]
        released = state.held - {_CNI} if step.kind == NODES_AND_ADDONS else state.held & {_CNI}
        addons = node.get("addons")
        if isinstance(addons, dict):
            for name in released:
                addons.pop(name, None)
            if not addons:
                del node["addons"]
        _restyle(node, [_cluster_node(doc, fleet, e.name, f"{r.name}/{c.name}")
                        for e in fleet.environments.values() for r, c in e.clusters()])


def _restyle(node, clusters) -> None:
    """A cluster back to scalars only is written on one line again where other clusters of the spec are."""
    scalars = all(not isinstance(v, (dict, list)) for v in node.values())
    if scalars and any(c is not node and hasattr(c, "fa") and c.fa.flow_style() for c in clusters):
        node.fa.set_flow_style()


def _fold_versions(doc, fleet: Fleet, env_name: str, state) -> None:
    """Every cluster of the environment on one version again: the version goes back to `defaults`."""
    versions = {s.control for s in state.values()}
    doc_env = doc["environments"][env_name]
    defaults = doc_env.get("defaults")
    if len(versions) != 1 or not isinstance(defaults, dict) or "kubernetes_version" not in defaults:
        return
    version = versions.pop()
    defaults["kubernetes_version"] = _quoted(version)
    for path in state:
        node = _cluster_node(doc, fleet, env_name, path)
        if str(node.get("kubernetes_version")) == version:
            del node["kubernetes_version"]


def _patch(original: str, before: str, after: str) -> str:
    """`original` with the change from `before` (ruamel's dump of it) to `after` applied where the lines of
    `before` are the original's; where they are not (a line ruamel re-indents), `after` as it is."""
    if before == original:
        return after
    orig, base, new = original.splitlines(True), before.splitlines(True), after.splitlines(True)
    where: dict[int, int] = {}
    for block in difflib.SequenceMatcher(None, base, orig, autojunk=False).get_matching_blocks():
        for k in range(block.size):
            where[block.a + k] = block.b + k
    out, cursor = [], 0
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, base, new, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        anchor = i1 if i1 < len(base) else None
        if any(k not in where for k in range(i1, i2)) or (anchor is not None and anchor not in where
                                                          and i1 == i2 and (i1 - 1) not in where):
            return after
        start = where[i1] if i1 in where else (where[i1 - 1] + 1 if i1 > 0 else 0)
        out += orig[cursor:start] + new[j1:j2]
        cursor = start + (i2 - i1)
    return "".join(out + orig[cursor:])


def rewrite(text: str, fleet: Fleet, steps: list[Step]) -> str:
    """The spec text `text` (of `fleet`) rewritten to the end of `steps` (one per environment at most)."""
    yaml, doc = _load(text)
    baseline = _dump(yaml, doc)
    for step in steps:
        _edit(doc, fleet, step)
        env = fleet.environment(step.environment)
        state = {f"{r.name}/{c.name}": read_state(env, r.name, c) for r, c in env.clusters()}
        _fold_versions(doc, fleet, step.environment, apply_step(state, step))
    return _patch(text, baseline, _dump(yaml, doc))


def write_steps(spec: str | Path, fleet: Fleet, steps: list[Step]) -> str:
    """Rewrite the YAML spec at `spec` to the end of `steps` and return the new text; the new spec must read
    back to exactly the states the steps lead to, or nothing is written (WriteError)."""
    from ..spec import loads

    path = Path(spec)
    if path.suffix not in (".yaml", ".yml"):
        raise WriteError(f"{spec} is not a YAML spec; --write rewrites YAML only\n  fix: make the step's change in "
                         "your Python (the plan above names it), or plan without --write")
    text = path.read_text(encoding="utf-8")
    new = rewrite(text, fleet, steps)
    fleet_after = loads(new, filename=str(spec))
    for step in steps:
        env, env_after = fleet.environment(step.environment), fleet_after.environment(step.environment)
        expected = apply_step({f"{r.name}/{c.name}": read_state(env, r.name, c) for r, c in env.clusters()}, step)
        got = {f"{r.name}/{c.name}": read_state(env_after, r.name, c) for r, c in env_after.clusters()}
        if got != expected:
            wrong = sorted(p for p in expected if got.get(p) != expected[p])
            raise WriteError(f"the rewritten spec would not express {step.environment} step {step.number} on "
                             f"{', '.join(wrong)}; nothing was written\n  fix: make the step's change by hand "
                             "(the plan names it)")
    temporary = path.with_name(f".{path.name}.tfgen-upgrade")
    temporary.write_text(new, encoding="utf-8")
    os.replace(temporary, path)
    return new
