"""The spec's shape: YAML nodes -> model objects, with the file and line of every key.

This module checks the *shape* of a spec: known keys, value types. Whether
values make sense (a CIDR parses, a region exists, one hub per environment) is
for `tfgen.checks`, which sees YAML- and Python-built fleets alike. The YAML
itself is composed by `tfgen.spec.loader` (bounded); sections about what runs
on the clusters have their readers in `tfgen.spec.sections`.
"""

from __future__ import annotations

import difflib
from typing import Any

import yaml

from . import sections as spec_sections
from ..errors import Finding, Origin
from ..model import (
    DEFAULT_EDGE_NAME,
    DEFAULT_HUB_NAME,
    EDGE,
    HUB,
    Defaults,
    Fleet,
    Link,
    NodeGroup,
    Reach,
    Region,
    StateBackend,
)
from .keys import (CLUSTER, DEFAULTS, ENVIRONMENT, HUB_CLUSTER, KINDS, NODE_GROUP, REGION, REGION_CLUSTERS, STATE, TOP,
                   Table)
from .loader import CONSTRUCTOR, compose, merged_pairs, node_kind, number_form

__all__ = ["Reader"]

KeyPath = tuple  # a key path in the spec, e.g. ("environments", "development", "hub")


class Reader:
    """Reads one spec: `parse` its text, then `fleet` the data; `findings` collects every shape problem."""

    def __init__(self, filename: str):
        self.filename = filename
        self.lines: dict[KeyPath, int] = {}
        self.findings: list[Finding] = []
        self.reported: set[KeyPath] = set()  # values whose scalar was reported (SPEC005, SPEC016): no SPEC013
        self.shaped: set[KeyPath] = set()  # the key paths of every shape finding
        self.written: dict[KeyPath, str] = {}  # plain numbers as written: YAML reads 1.30 as 1.3

    # -- YAML with line numbers --------------------------------------------

    def parse(self, text: str) -> Any:
        root, findings = compose(text, self.filename)
        self.findings += findings
        if root is None:
            if not findings:
                self._add((), "SPEC002", "the spec is empty", "start from examples/multi-region-eks.yaml")
            return None
        return self._value(root, ())
    def _value(self, node: yaml.Node, path: KeyPath) -> Any:
        self.lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            result: dict = {}
            explicit: set[str] = set()
            for key_node, value_node, is_explicit in merged_pairs(node, self._bad_merge):
                key = self._scalar(key_node)
                if not isinstance(key, (str, int, float)) or isinstance(key, bool):
                    self._add(path, "SPEC003", f"a key must be a plain name, not {key!r}", "use a plain name as key",
                              line=key_node.start_mark.line + 1)
                    continue
                key = str(key)
                if is_explicit and key in explicit:
                    self._add(path + (key,), "SPEC004", f"key {key!r} appears twice",
                              "remove one of the two; YAML keeps only the last", line=key_node.start_mark.line + 1)
                if is_explicit:
                    explicit.add(key)
                result[key] = self._value(value_node, path + (key,))
                self.lines[path + (key,)] = key_node.start_mark.line + 1
            return result
        if isinstance(node, yaml.SequenceNode):
            return [self._value(item, path + (i,)) for i, item in enumerate(node.value)]
        return self._scalar(node, path)

    def _bad_merge(self, source: yaml.Node) -> None:
        self.findings.append(Finding(
            code="SPEC009", message=f"`<<` merges mappings, not {node_kind(source)}",
            hint="merge a mapping (`<<: *name` where `&name` marks a mapping) or a list of them",
            origin=Origin(self.filename, source.start_mark.line + 1)))

    def _scalar(self, node: yaml.Node, path: KeyPath | None = None) -> Any:
        """The value of a scalar; `path` is the key it is the value of (None for a key itself)."""
        if not isinstance(node, yaml.ScalarNode):
            return node  # reported by the caller as a wrong key type
        if path is not None and node.style is None and node.tag in _NUMBER_TAGS:
            self.written[path] = node.value
        disputed = number_form(node)
        if disputed is not None:
            message, hint = disputed
            self.findings.append(Finding(code="SPEC016", message=message, hint=hint, path=_dotted(path or ()),
                                         origin=Origin(self.filename, node.start_mark.line + 1)))
            if path is not None:
                self.reported.add(path)
                self.shaped.add(path)
        try:
            return CONSTRUCTOR.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError) as exc:
            problem = getattr(exc, "problem", None) or str(exc)
            if path is not None:
                self.reported.add(path)
                self.shaped.add(path)
            self.findings.append(Finding(
                code="SPEC005", message=f"cannot read the value {node.value!r}: {problem}",
                hint="write plain values; quote anything that YAML reads as a tag (!Ref) or a date",
                origin=Origin(self.filename, node.start_mark.line + 1)))
            return node.value

    # -- findings -----------------------------------------------------------

    def origin(self, path: KeyPath) -> Origin:
        while path and path not in self.lines:
            path = path[:-1]
        return Origin(self.filename, self.lines.get(path))

    def _where(self, path: KeyPath, *fields: str) -> dict[str, Origin]:
        where = {"": self.origin(path)}
        for name in fields:
            if path + (name,) in self.lines:
                where[name] = self.origin(path + (name,))
        return where

    def explained(self) -> frozenset[Origin]:
        """The spec lines whose value findings only repeat a shape finding: the line of each key a shape finding
        is about, and of the mapping that holds it (a hub without `region` is no hub; an unreadable
        `account_id` is no account)."""
        return frozenset(self.origin(p) for path in self.shaped for p in (path, path[:-1]))

    def _add(self, path: KeyPath, code: str, message: str, hint: str, *, line: int | None = None) -> None:
        self.shaped.add(path)
        origin = Origin(self.filename, line) if line else self.origin(path)
        self.findings.append(
            Finding(code=code, message=message, hint=hint, path=_dotted(path), origin=origin)
        )

    # -- typed access -------------------------------------------------------

    def _mapping(self, value: Any, path: KeyPath, table: Table) -> dict:
        """Check that `value` is a mapping with only the keys of `table`, each of its kind, and its required keys."""
        if value is None:
            value = {}
        if not isinstance(value, dict):
            self._add(path, "SPEC010", f"{_dotted(path) or 'the spec'} must be a mapping, got {_kind(value)}",
                      f"write `{path[-1] if path else 'key'}:` followed by indented `key: value` lines")
            return {}
        out = {}
        for key, item in value.items():
            if key not in table:
                guess = difflib.get_close_matches(key, list(table), n=1, cutoff=0.6)
                hint = f"did you mean `{guess[0]}`?" if guess else f"allowed keys here: {', '.join(sorted(table))}"
                self._add(path + (key,), "SPEC011", f"unknown key `{key}` in {_dotted(path) or 'the spec'}", hint)
                continue
            checked = self._typed(item, path + (key,), table[key].kind)
            if checked is not _BAD:
                out[key] = checked
        for key in table.required:
            if key not in value:
                self._add(path, "SPEC012", f"{_dotted(path) or 'the spec'} needs `{key}`", f"add `{key}:` here")
        return out

    def _typed(self, item: Any, path: KeyPath, kind: str) -> Any:
        ok = {
            "str": lambda v: isinstance(v, str),
            "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
            "str_list": lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
            "str_map": lambda v: isinstance(v, dict) and all(isinstance(x, str) for x in v.values()),
            "map": lambda v: v is None or isinstance(v, dict),
            "node_groups": lambda v: isinstance(v, dict),
            "bool": lambda v: isinstance(v, bool),
            "list": lambda v: isinstance(v, list),
            "waves": lambda v: isinstance(v, list) and all(
                isinstance(w, list) and all(isinstance(x, str) for x in w) for w in v),
            "pairs": lambda v: isinstance(v, list) and all(
                isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) for x in p) for p in v),
        }[kind](item)
        if ok:
            return item
        if path in self.reported:
            return _BAD  # its SPEC005 or SPEC016 says how to write it
        hint = f"write {KINDS[kind]}"
        got = _kind(item)
        if kind == "str" and isinstance(item, (int, float)) and not isinstance(item, bool):
            text = self.written.get(path, str(item))
            got += f" (written {text})" if text != str(item) else ""
            hint = f'quote it: "{text}" (YAML reads {text} as a number)'
        elif kind == "str_map" and isinstance(item, dict):
            hint = "quote values that YAML reads as numbers or booleans, e.g. \"true\""
        self._add(path, "SPEC013", f"`{path[-1]}` must be {KINDS[kind]}, got {got}", hint)
        return _BAD

    # -- the fleet ------------------------------------------------------------

    def fleet(self, data: Any) -> Fleet | None:
        top = self._mapping(data, (), TOP)
        if "project" not in top:
            return None
        fleet = Fleet(
            project=top["project"],
            tags=dict(top.get("tags", {})),
            where=self._where((), *TOP),
        )
        if "aws_provider" in top:
            fleet.aws_provider = top["aws_provider"]
        if "terraform_version" in top:
            fleet.terraform_version = top["terraform_version"]
        if "layout" in top:
            fleet.layout = top["layout"]
        if "rollout" in top:
            fleet.rollout = spec_sections.read_rollout(self, top["rollout"], ("rollout",))
        if "state" in top:
            state = self._mapping(top["state"], ("state",), STATE)
            fleet.state = StateBackend(**state, where=self._where(("state",), *STATE))
        environments = top.get("environments")
        if environments is not None and not environments:
            self._add(("environments",), "SPEC014", "no environments are defined",
                      "add one, e.g. `development:` with a `hub:` and `regions:`")
        for name, body in (environments or {}).items():
            self.environment(fleet, str(name), body, ("environments", name))
        return fleet

    def environment(self, fleet: Fleet, name: str, body: Any, path: KeyPath) -> None:
        env_data = self._mapping(body, path, ENVIRONMENT)
        defaults = Defaults(where=self._where(path + ("defaults",)))
        if "defaults" in env_data:
            d = self._mapping(env_data["defaults"], path + ("defaults",), DEFAULTS)
            dpath = path + ("defaults",)
            defaults = Defaults(
                where=self._where(dpath, *DEFAULTS),
                **{k: v for k, v in d.items() if k != "node_groups"},
            )
            if "node_groups" in d:
                defaults.node_groups = self.node_groups(d["node_groups"], dpath + ("node_groups",))
        env = fleet.add_environment(
            name,
            cidr_pool=env_data.get("cidr_pool"),
            assume_role=env_data.get("assume_role"),
            account_id=env_data.get("account_id"),
            defaults=defaults,
            where=self._where(path, *ENVIRONMENT),
        )
        if "vpc_prefix" in env_data:
            env.vpc_prefix = env_data["vpc_prefix"]
        if "connectivity" in env_data:
            env.connectivity = env_data["connectivity"]
        if "identity" in env_data:
            env.identity = env_data["identity"]
        if "layout" in env_data:
            env.layout = env_data["layout"]
        if "protect" in env_data:
            env.protect = env_data["protect"]
        for key, read in (("access", spec_sections.read_access), ("addons", spec_sections.read_addons),
                          ("gitops", spec_sections.read_gitops), ("bastion", spec_sections.read_bastion),
                          ("rollout", spec_sections.read_rollout)):
            if key in env_data:
                setattr(env, key, read(self, env_data[key], path + (key,)))
        for i, (a, b) in enumerate(env_data.get("links", [])):
            env.links.append(Link(a=a, b=b, where={"": self.origin(path + ("links", i))}))
        for i, (a, b) in enumerate(env_data.get("reach", [])):
            env.reach.append(Reach(source=a, target=b, where={"": self.origin(path + ("reach", i))}))
        if "hub" in env_data:
            hub = self._mapping(env_data["hub"], path + ("hub",), HUB_CLUSTER)
            if "region" in hub:
                region = hub.pop("region")
                self.cluster(env, region, hub.pop("name", DEFAULT_HUB_NAME), HUB, hub, path + ("hub",))
        regions = env_data.get("regions") or {}
        for region, rbody in regions.items():
            rpath = path + ("regions", region)
            if isinstance(rbody, dict) and "clusters" in rbody:
                rdata = self._mapping(rbody, rpath, REGION_CLUSTERS)
                if "clusters" in rdata and not rdata["clusters"]:
                    env.regions.setdefault(region, Region(name=region, where={"": self.origin(rpath)}))
                for cname, cbody in (rdata.get("clusters") or {}).items():
                    cpath = rpath + ("clusters", cname)
                    cdata = self._mapping(cbody, cpath, CLUSTER)
                    self.cluster(env, region, str(cname), EDGE, cdata, cpath)
            else:
                cdata = self._mapping(rbody, rpath, REGION)
                self.cluster(env, region, DEFAULT_EDGE_NAME, EDGE, cdata, rpath)

    def cluster(self, env, region: str, name: str, role: str, data: dict, path: KeyPath) -> None:
        options = dict(data)
        if "node_groups" in options:
            options["node_groups"] = self.node_groups(options["node_groups"], path + ("node_groups",))
        if "access" in options:
            options["access"] = spec_sections.read_access(self, options["access"], path + ("access",))
        if "addons" in options:
            options["addons"] = spec_sections.read_addons(self, options["addons"], path + ("addons",))
        existing = env.regions.get(region)
        if existing is not None and name in existing.clusters:
            self._add(path, "SPEC015", f"region {region} of environment {env.name} already has a cluster {name!r}",
                      "give this cluster another `name:` (the hub and an edge in one region need different names)")
            return
        env.add_cluster(region, name, role=role, where=self._where(path, *CLUSTER), **options)

    def node_groups(self, value: dict, path: KeyPath) -> dict[str, NodeGroup]:
        groups = {}
        for name, body in value.items():
            gpath = path + (name,)
            g = self._mapping(body, gpath, NODE_GROUP)
            renamed = {"min": "min_size", "max": "max_size", "desired": "desired_size"}
            groups[str(name)] = NodeGroup(
                name=str(name),
                where={renamed.get(k, k): o for k, o in self._where(gpath, *NODE_GROUP).items()},
                **{renamed.get(k, k): v for k, v in g.items()},
            )
        return groups




_BAD = object()
_NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")


def _dotted(path: KeyPath) -> str:
    return ".".join(str(p) for p in path)


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__
