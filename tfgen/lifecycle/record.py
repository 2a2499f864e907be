"""What a build records about the fleet, beside its files: the objects a later build compares against.

The files say which resources a root has; they cannot say cheaply which cluster a
resource is part of, what a cluster's CIDR or version was, or what is still being
retired. So every build writes a `Record` into OUT's manifest (`fleet`), small and
sorted, and the next build reads it back as its baseline:

- per environment its layout, roots and `protect`;
- per object (`FleetObject`) of it: a cluster (`env/region/cluster`: its root, its resource
  key from `naming`, region, role, VPC CIDR, Kubernetes version, node groups, `protect`), a
  link (`env/a<->b`, `a` requesting: a VPC peering, or two regions' transit gateways), a
  region (`env/region`: its region-wide resources, the EBS key, the transit gateway);
- `retiring`: what an earlier build removed and Terraform has not destroyed yet (`Retiring`).

Each resource belongs to one object: the object whose key is the longest that starts its name
(`owner`); a route `<table>__to__<peer>` belongs to the link of its two ends when there is one.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Mapping

from ..derive import naming
from ..derive.connectivity import members, peerings_of, transit_peerings, transit_regions
from ..model import Fleet
from ..terraform.index import Root

__all__ = ["CLUSTER", "LINK", "REGION", "ENVIRONMENT", "LINK_SEPARATOR", "FleetObject", "Retiring", "Record",
           "record_of", "read_record", "environment_of"]

CLUSTER, LINK, REGION, ENVIRONMENT = "cluster", "link", "region", "environment"
LINK_SEPARATOR = "<->"
_ROUTE = "__to__"  # naming.route_name and naming.transit_route_name: `<table>__to__<peer key>`


@dataclass(frozen=True)
class FleetObject:
    """One object of the fleet as a build made it: its path, kind, environment, resource keys, roots, facts."""

    path: str
    kind: str
    environment: str
    keys: tuple[str, ...] = ()
    roots: tuple[str, ...] = ()
    facts: Mapping[str, Any] = field(default_factory=dict)

    @property
    def protected(self) -> bool:
        return bool(self.facts.get("protect"))

    def as_dict(self) -> dict:
        body = dict(self.facts)
        if self.kind != ENVIRONMENT:
            body["keys"] = list(self.keys)
        body["roots"] = list(self.roots)
        return body


@dataclass(frozen=True)
class Retiring:
    """What an earlier build removed and no apply has destroyed yet: `roots` must each be applied (or destroyed)
    until their state holds nothing of `objects`; `whole` of them are kept as retiring roots (their settings
    and providers, no resources), `providers` are kept in the others' providers files until then."""

    path: str
    kind: str
    roots: tuple[str, ...]
    whole: tuple[str, ...] = ()
    providers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    objects: tuple[FleetObject, ...] = ()
    applied: tuple[str, ...] = ()

    @property
    def done(self) -> bool:
        return set(self.roots) <= set(self.applied)

    def as_dict(self) -> dict:
        return {"kind": self.kind, "roots": list(self.roots), "whole": list(self.whole),
                "providers": {root: list(aliases) for root, aliases in sorted(self.providers.items())},
                "objects": {o.path: {"kind": o.kind, **o.as_dict()} for o in self.objects},
                "applied": list(self.applied)}


@dataclass(frozen=True)
class Record:
    """The fleet as one build made it: its objects by path (environments among them) and what is retiring."""

    objects: dict[str, FleetObject] = field(default_factory=dict)
    retiring: dict[str, Retiring] = field(default_factory=dict)

    def of_kind(self, kind: str) -> list[FleetObject]:
        return [o for o in self.objects.values() if o.kind == kind]

    @property
    def environments(self) -> dict[str, FleetObject]:
        return {o.path: o for o in self.of_kind(ENVIRONMENT)}

    def roots_of(self, environment: str) -> tuple[str, ...]:
        env = self.objects.get(environment)
        return env.roots if env is not None else ()

    def retiring_objects(self) -> dict[str, tuple[Retiring, FleetObject]]:
        return {o.path: (entry, o) for entry in self.retiring.values() for o in entry.objects}

    def owner(self, root: str, address: str) -> str:
        """The path of the object resource `address` of `root` belongs to (retiring objects too): the one whose
        key is the longest that starts the resource's name; else its environment (or the root itself)."""
        keyed = self._keyed()
        environment = self._environment_of_root(root)
        name = address.rsplit(".", 1)[-1]
        table = keyed.get(environment, {})
        if _ROUTE in name:
            table_part, peer = name.split(_ROUTE, 1)
            side = _longest(table, table_part)
            other = _longest(table, peer)
            if side and other:
                link = self._links().get((environment, frozenset((side[1], other[1]))))
                if link is not None:
                    return link
        found = _longest(table, name)
        return found[1] if found else environment

    def _environment_of_root(self, root: str) -> str:
        found = self._root_environments().get(root)
        return found if found is not None else naming.environment_of_root(root)

    def _root_environments(self) -> dict[str, str]:
        cached = self.__dict__.get("_roots_cache")
        if cached is None:
            cached = {}
            for obj in self._all():
                for root in obj.roots:
                    cached.setdefault(root, obj.environment)
            for entry in self.retiring.values():
                for root in entry.roots:
                    cached.setdefault(root, naming.environment_of_root(root) if not entry.objects
                                      else entry.objects[0].environment)
            object.__setattr__(self, "_roots_cache", cached)
        return cached

    def _all(self) -> Iterable[FleetObject]:
        yield from self.objects.values()
        for entry in self.retiring.values():
            yield from entry.objects

    def _keyed(self) -> dict[str, dict[str, str]]:
        """environment -> {key: path} of every object (the first object to claim a key keeps it)."""
        cached = self.__dict__.get("_keyed_cache")
        if cached is None:
            cached = {}
            for obj in self._all():
                for key in obj.keys:
                    cached.setdefault(obj.environment, {}).setdefault(key, obj.path)
            object.__setattr__(self, "_keyed_cache", cached)
        return cached

    def _links(self) -> dict[tuple[str, frozenset[str]], str]:
        cached = self.__dict__.get("_links_cache")
        if cached is None:
            cached = {}
            for obj in self._all():
                if obj.kind == LINK:
                    ends = frozenset(obj.facts.get("ends", ()))
                    cached[(obj.environment, frozenset(f"{obj.environment}/{e}" for e in ends))] = obj.path
            object.__setattr__(self, "_links_cache", cached)
        return cached

    def with_retiring(self, retiring: Mapping[str, Retiring]) -> Record:
        return replace(self, retiring=dict(sorted(retiring.items())))

    def as_dict(self) -> dict:
        environments: dict[str, dict] = {}
        for env in self.of_kind(ENVIRONMENT):
            environments[env.path] = {**env.as_dict(), "clusters": {}, "links": {}, "regions": {}}
        for obj in self.objects.values():
            if obj.kind != ENVIRONMENT:
                where = environments[obj.environment][obj.kind + "s"]
                where[obj.path[len(obj.environment) + 1:]] = obj.as_dict()
        return {"environments": _sorted(environments),
                "retiring": {path: entry.as_dict() for path, entry in sorted(self.retiring.items())}}


def _longest(table: Mapping[str, str], name: str) -> tuple[str, str] | None:
    """(key, path) of the longest key that is `name` or starts it followed by `_`: one lookup per `_` in the
    name, not a scan of every key (a build asks this once per resource)."""
    end = len(name)
    while end > 0:
        key = name[:end]
        if key in table:
            return key, table[key]
        end = name.rfind("_", 0, end)
    return None


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(v) for k, v in sorted(value.items())}
    return value


# -- the record of a build --------------------------------------------------------------------------


def environment_of(path: str) -> str:
    """The environment of an object path (`development/us-east-2/edge` -> `development`)."""
    return path.split("/", 1)[0]


def record_of(fleet: Fleet, roots: Mapping[str, Root]) -> Record:
    """The record of `fleet` (pool CIDRs allocated) as built into `roots` (`{root: its index}`)."""
    where = _where(roots)
    objects: dict[str, FleetObject] = {}
    for env in fleet.environments.values():
        name = env.name
        env_roots = tuple(sorted({r for r in roots if r == name or r.startswith(name + naming.CELL_SEPARATOR)}
                                 if str(fleet.layout_of(env)) == "cells" else ({name} & set(roots))))
        objects[name] = FleetObject(name, ENVIRONMENT, name, (), env_roots,
                                    {"layout": str(fleet.layout_of(env)), "protect": bool(getattr(env, "protect", False))})
        for region, cluster in env.clusters():
            key = naming.cluster_key(region.name, cluster.name)
            path = f"{name}/{region.name}/{cluster.name}"
            groups = {g: {"instance_types": list(ng.instance_types), "capacity_type": ng.capacity_type,
                          "ami_type": ng.ami_type, "disk_size": ng.disk_size}
                      for g, ng in sorted(cluster.node_groups.items())}
            objects[path] = FleetObject(path, CLUSTER, name, (key,), where(name, f"aws_eks_cluster.{key}"), {
                "region": region.name, "role": cluster.role, "cidr": cluster.network.cidr,
                "version": cluster.kubernetes_version, "node_groups": groups,
                "protect": bool(getattr(cluster, "protect", False) or getattr(env, "protect", False))})
        for region in sorted({r.name for r, _ in env.clusters()}):
            path = f"{name}/{region}"
            keys = (naming.alias(region), naming.region_stem(region, "ebs"))
            objects[path] = FleetObject(path, REGION, name, keys, where(name, f"aws_kms_key.{keys[1]}"),
                                        {"region": region, "protect": bool(getattr(env, "protect", False))})
        for link in peerings_of(env, members(env)):
            a, b = link.requester, link.accepter
            path = f"{name}/{a.name}{LINK_SEPARATOR}{b.name}"
            key = naming.peering_name(a.key, b.key)
            objects[path] = FleetObject(path, LINK, name, (key,), where(name, f"aws_vpc_peering_connection.{key}"),
                                        {"ends": [a.name, b.name]})
        if transit_regions(env):
            for requester, accepter in transit_peerings(env):
                path = f"{name}/{requester}{LINK_SEPARATOR}{accepter}"
                key = naming.transit_peering_name(requester, accepter)
                objects[path] = FleetObject(
                    path, LINK, name, (key,), where(name, f"aws_ec2_transit_gateway_peering_attachment.{key}"),
                    {"ends": [requester, accepter]})
    return Record(dict(sorted(objects.items())))


def _where(roots: Mapping[str, Root]):
    """(environment, address) -> the roots of that environment holding the address."""
    def find(environment: str, address: str) -> tuple[str, ...]:
        return tuple(sorted(r for r, index in roots.items()
                            if (r == environment or r.startswith(environment + naming.CELL_SEPARATOR))
                            and address in index.resources))
    return find


# -- reading it back -------------------------------------------------------------------------------


def read_record(data: Any) -> Record | None:
    """The record a manifest holds under `fleet` (None when there is none, or it is not one tfgen wrote)."""
    if not isinstance(data, dict) or not isinstance(data.get("environments"), dict):
        return None
    try:
        objects: dict[str, FleetObject] = {}
        for env, body in data["environments"].items():
            objects[env] = FleetObject(env, ENVIRONMENT, env, (), tuple(body.get("roots", ())),
                                       {"layout": body.get("layout", ""), "protect": bool(body.get("protect"))})
            for kind in (CLUSTER, LINK, REGION):
                for rest, item in (body.get(kind + "s") or {}).items():
                    path = f"{env}/{rest}"
                    objects[path] = _object(path, kind, env, item)
        retiring = {}
        for path, entry in (data.get("retiring") or {}).items():
            retiring[path] = Retiring(
                path, str(entry["kind"]), tuple(entry.get("roots", ())), tuple(entry.get("whole", ())),
                {root: tuple(aliases) for root, aliases in (entry.get("providers") or {}).items()},
                tuple(_object(p, str(o["kind"]), environment_of(p), o) for p, o in (entry.get("objects") or {}).items()),
                tuple(entry.get("applied", ())))
    except (KeyError, TypeError, AttributeError, ValueError):
        return None
    return Record(dict(sorted(objects.items())), dict(sorted(retiring.items())))


def _object(path: str, kind: str, environment: str, item: Mapping) -> FleetObject:
    facts = {k: v for k, v in item.items() if k not in ("keys", "roots", "kind")}
    return FleetObject(path, kind, environment, tuple(str(k) for k in item.get("keys", ())),
                       tuple(str(r) for r in item.get("roots", ())), facts)
