"""Rules on the model, run before anything is emitted.

One function per rule; each returns findings and never raises. `check_fleet`
runs them all so a user sees every problem at once. They read the model (and
the layout derived from it), never Terraform JSON.
"""

from __future__ import annotations

import dataclasses
import functools
import ipaddress
import re
import types
import typing
from typing import Callable, Iterable, Iterator

from . import naming
from .errors import Finding, Severity
from .layout import MAX_ZONES, MIN_SUBNET_PREFIX, carve, zones_of
from .model import CONNECTIVITY_MODES, NAT_MODES, ROLES, Cluster, Environment, Fleet, Region
from .providers import Constraint, Version
from .regions import REGIONS, closest_region, is_known_region

__all__ = ["check_types", "check_fleet", "RULES"]

_PROJECT = re.compile(r"^[a-z][a-z0-9-]{0,38}[a-z0-9]$")
_ENV_NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}$")
_CLUSTER_NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}$")
_K8S_VERSION = re.compile(r"^1\.\d{1,2}$")
_ACCOUNT_ID = re.compile(r"^\d{12}$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
_VERSION_CONSTRAINT = re.compile(r"^\s*(?:(?:[<>=!~]{1,2}\s*)?\d+(?:\.\d+){0,2}\s*)(?:,\s*(?:[<>=!~]{1,2}\s*)?\d+(?:\.\d+){0,2}\s*)*$")

Rule = Callable[[Fleet], Iterable[Finding]]
# Addresses a node takes with the VPC CNI: its own plus one per pod (a t3.medium runs up to 17 pods).
PODS_PER_NODE = 30


def check_fleet(fleet: Fleet, *, types_checked: bool = False) -> list[Finding]:
    """Every finding of every rule, in a stable order (only type findings when types are wrong).

    `types_checked`: the caller has run `check_types` already and found nothing.
    """
    findings = [] if types_checked else check_types(fleet)
    if findings:
        return findings  # the value rules assume the declared types
    for rule in RULES:
        findings.extend(rule(fleet))
    return findings


# -- types (Python-built fleets can hold anything) -------------------------------


def check_types(fleet: Fleet) -> list[Finding]:
    """Every field of every model object holds its declared type; dataclasses are walked."""
    findings: list[Finding] = []
    _walk_types(fleet, "fleet", findings)
    return findings


@functools.lru_cache(maxsize=None)
def _declared(cls: type) -> tuple[tuple[str, object], ...]:
    """(field, type) of a model class, resolved once: `get_type_hints` is slow."""
    hints = typing.get_type_hints(cls)
    return tuple((f.name, hints[f.name]) for f in dataclasses.fields(cls) if f.name != "where" and f.compare)


def _walk_types(obj, path: str, findings: list[Finding]) -> None:
    for name, hint in _declared(type(obj)):
        value = getattr(obj, name)
        if not _type_ok(value, hint):
            findings.append(_finding(
                "VAL100", f"`{name}` must be {_type_name(hint)}, got {type(value).__name__} "
                f"{value!r:.60}", f"give `{name}` {_type_name(hint)}", path=path, obj=obj, field=name))
            continue
        for key, item in (value.items() if isinstance(value, dict) else enumerate(value)
                          if isinstance(value, list) else [(None, value)]):
            if dataclasses.is_dataclass(item):
                _walk_types(item, f"{path}.{name}" + (f"[{key!r}]" if key is not None else ""), findings)


def _type_ok(value, hint) -> bool:
    return _checker(hint)(value)


@functools.lru_cache(maxsize=None)
def _checker(hint) -> Callable[[object], bool]:
    """A predicate for values of `hint`, built once per annotation (this runs per field of a fleet)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        options = [_checker(a) for a in args]
        return lambda v: any(ok(v) for ok in options)
    if hint is type(None):
        return lambda v: v is None
    if origin is list:
        item = _checker(args[0])
        return lambda v: isinstance(v, list) and all(item(x) for x in v)
    if origin is dict:
        key, item = _checker(args[0]), _checker(args[1])
        return lambda v: isinstance(v, dict) and all(key(k) and item(x) for k, x in v.items())
    if hint is int:
        return lambda v: isinstance(v, int) and not isinstance(v, bool)
    if hint is float:
        return lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)
    cls = origin or hint
    return lambda v: isinstance(v, cls)


def _type_name(hint) -> str:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in args)
    if hint is type(None):
        return "None"
    if origin is list:
        return f"a list of {_type_name(args[0])}"
    if origin is dict:
        return f"a dict of {_type_name(args[0])} to {_type_name(args[1])}"
    return {"str": "a string", "int": "a whole number", "bool": "true or false"}.get(
        getattr(hint, "__name__", str(hint)), f"a {getattr(hint, '__name__', hint)}")


def _finding(code, message, hint, *, path="", obj=None, field="", severity=Severity.ERROR) -> Finding:
    origin = obj.origin(field) if obj is not None else None
    return Finding(code=code, message=message, hint=hint, path=path, origin=origin, severity=severity)


def _clusters(fleet: Fleet) -> Iterator[tuple[Environment, Region, Cluster, str]]:
    for env in fleet.environments.values():
        for region, cluster in env.clusters():
            yield env, region, cluster, f"{env.name}/{region.name}/{cluster.name}"


def _parse_network(value: str | None):
    try:
        return ipaddress.IPv4Network(value)
    except (ipaddress.AddressValueError, ipaddress.NetmaskValueError, ValueError, TypeError):
        return None


def _cidr_problem(value: str) -> str:
    """Why `value` is not a CIDR block, with the likely intended value."""
    try:
        ipaddress.IPv4Network(value, strict=False)
    except (ValueError, TypeError):
        return f"{value!r} is not an IPv4 CIDR block such as 10.10.0.0/16"
    fixed = ipaddress.IPv4Network(value, strict=False)
    return f"{value} has host bits set; the block is {fixed}"


# -- project ------------------------------------------------------------------


def check_project(fleet: Fleet) -> Iterator[Finding]:
    if not isinstance(fleet.project, str) or not _PROJECT.fullmatch(fleet.project):
        yield _finding("VAL101", f"project name {fleet.project!r} is not usable in AWS names",
                       "use 2-40 lower-case letters, digits and dashes, starting with a letter",
                       obj=fleet, field="project")
    for key, value in fleet.tags.items():
        if not (1 <= len(str(key)) <= 128) or len(str(value)) > 256 or str(key).lower().startswith("aws:"):
            yield _finding("VAL102", f"tag {key!r} is not a valid AWS tag",
                           "tag keys are 1-128 characters and may not start with 'aws:'; values at most 256",
                           obj=fleet, field="tags")
    for name, value in (("aws_provider", fleet.aws_provider), ("terraform_version", fleet.required_terraform)):
        if not isinstance(value, str) or not _VERSION_CONSTRAINT.match(value):
            yield _finding("VAL103", f"{name} {value!r} is not a version constraint",
                           'write a Terraform constraint such as ">= 5.100, < 7.0"', obj=fleet, field=name)
    if not fleet.environments:
        yield _finding("VAL104", "the fleet has no environments", "add an environment with a hub", obj=fleet)


def check_state(fleet: Fleet) -> Iterator[Finding]:
    state = fleet.state
    if state.backend not in ("s3", "local"):
        yield _finding("VAL111", f"state backend {state.backend!r} is not supported",
                       "use `backend: s3` (with bucket, region, lock_table) or `backend: local`",
                       obj=state, field="backend")
    if state.backend == "s3":
        for name in ("bucket", "region"):
            if not getattr(state, name):
                yield _finding("VAL112", f"the s3 state backend needs `{name}`",
                               f"add `{name}:` under `state:`", obj=state)
        if state.region and not is_known_region(state.region):
            yield _unknown_region(state.region, "state", state, "region")


# -- environments and regions -----------------------------------------------


def check_environments(fleet: Fleet) -> Iterator[Finding]:
    for env in fleet.environments.values():
        if not _ENV_NAME.fullmatch(env.name):
            yield _finding("VAL121", f"environment name {env.name!r} is not usable as a directory and AWS name",
                           "use lower-case letters, digits and dashes, starting with a letter",
                           path=env.name, obj=env)
        hubs = env.hubs
        if not hubs:
            yield _finding("VAL122", f"environment {env.name} has no hub cluster",
                           "add `hub: {region: ..., cidr: ...}` to the environment", path=env.name, obj=env)
        for region, extra in hubs[1:]:
            yield _finding("VAL123", f"environment {env.name} has more than one hub ({hubs[0][1].name} and "
                           f"{region.name}/{extra.name})", "keep one hub per environment; make the others edges",
                           path=f"{env.name}/{region.name}/{extra.name}", obj=extra)
        if not any(not c.is_hub for _, c in env.clusters()):
            yield _finding("VAL124", f"environment {env.name} has no edge clusters",
                           "add at least one region under `regions:`", path=env.name, obj=env,
                           severity=Severity.WARNING)
        if env.connectivity not in CONNECTIVITY_MODES:
            yield _finding("VAL125", f"connectivity {env.connectivity!r} is not supported",
                           f"use one of: {', '.join(CONNECTIVITY_MODES)}", path=env.name, obj=env,
                           field="connectivity")
        if env.assume_role is not None and not _ROLE_ARN.fullmatch(env.assume_role):
            yield _finding("VAL126", f"assume_role {env.assume_role!r} is not an IAM role ARN",
                           "write arn:aws:iam::<12-digit account>:role/<name>", path=env.name, obj=env,
                           field="assume_role")
        if not isinstance(env.vpc_prefix, int) or not 16 <= env.vpc_prefix <= 28:
            yield _finding("VAL134", f"vpc_prefix {env.vpc_prefix!r} is outside /16../28",
                           "use a prefix length between 16 and 28", path=env.name, obj=env, field="vpc_prefix")
        if env.account_id is not None and not _ACCOUNT_ID.fullmatch(str(env.account_id)):
            yield _finding("VAL128", f"account_id {env.account_id!r} is not an AWS account id",
                           'write the 12 digits of the account, quoted: account_id: "111111111111"',
                           path=env.name, obj=env, field="account_id")
        if env.account is None:
            yield _finding("VAL129", f"environment {env.name} names no AWS account: its KMS key policies need one",
                           'add `account_id: "<12 digits>"` to the environment, or an `assume_role` ARN '
                           "in the account", path=env.name, obj=env)
        elif (env.account_id and env.assume_role and _ROLE_ARN.fullmatch(env.assume_role)
              and env.assume_role.split(":")[4] != env.account_id):
            yield _finding("VAL130", f"account_id {env.account_id} differs from the account of assume_role "
                           f"{env.assume_role}", "make them the same account, or drop account_id",
                           path=env.name, obj=env, field="account_id", severity=Severity.WARNING)
        if env.cidr_pool is not None and _parse_network(env.cidr_pool) is None:
            yield _finding("VAL127", f"cidr_pool: {_cidr_problem(env.cidr_pool)}",
                           "write the pool as a network address and prefix, e.g. 10.0.0.0/12",
                           path=env.name, obj=env, field="cidr_pool")


def _unknown_region(name: str, path: str, obj, field: str = "") -> Finding:
    guess = closest_region(name)
    hint = f"did you mean {guess}?" if guess else f"use an AWS region name such as us-east-1 (known: {len(REGIONS)})"
    return _finding("VAL131", f"unknown AWS region {name!r}", hint, path=path, obj=obj, field=field)


def check_regions(fleet: Fleet) -> Iterator[Finding]:
    for env in fleet.environments.values():
        aliases: dict[str, str] = {}
        for region in env.regions.values():
            if not is_known_region(region.name):
                yield _unknown_region(region.name, f"{env.name}/{region.name}", region)
            alias = naming.alias(region.name)
            if alias in aliases:
                yield _finding("VAL132", f"regions {aliases[alias]} and {region.name} get the same provider alias "
                               f"{alias}", "name each region once, as AWS spells it", path=env.name, obj=region)
            aliases[alias] = region.name


# -- clusters -------------------------------------------------------------------


def check_clusters(fleet: Fleet) -> Iterator[Finding]:
    for env, region, cluster, path in _clusters(fleet):
        if not _CLUSTER_NAME.fullmatch(cluster.name):
            yield _finding("VAL141", f"cluster name {cluster.name!r} is not usable in AWS names",
                           "use lower-case letters, digits and dashes, starting with a letter",
                           path=path, obj=cluster)
        if cluster.role not in ROLES:
            yield _finding("VAL142", f"role {cluster.role!r} is not a cluster role", "use hub or edge",
                           path=path, obj=cluster)
        if not isinstance(cluster.kubernetes_version, str) or not _K8S_VERSION.fullmatch(cluster.kubernetes_version):
            yield _finding("VAL143", f"kubernetes_version {cluster.kubernetes_version!r} is not an EKS version",
                           'write it quoted as major.minor, e.g. "1.35"', path=path, obj=cluster,
                           field="kubernetes_version")
        if not cluster.node_groups:
            yield _finding("VAL144", "the cluster has no node groups", "add one under `node_groups:`",
                           path=path, obj=cluster, severity=Severity.WARNING)
        for group in cluster.node_groups.values():
            yield from _check_node_group(group, f"{path}/{group.name}")


def _check_node_group(group, path: str) -> Iterator[Finding]:
    if not _CLUSTER_NAME.fullmatch(group.name):
        yield _finding("VAL151", f"node group name {group.name!r} is not usable in AWS names",
                       "use lower-case letters, digits and dashes, starting with a letter", path=path, obj=group)
    if not (0 <= group.min_size <= group.desired_size <= group.max_size) or group.max_size < 1:
        yield _finding("VAL152", f"node group sizes min {group.min_size}, desired {group.desired_size}, "
                       f"max {group.max_size} are inconsistent",
                       "make 0 <= min <= desired <= max and max >= 1", path=path, obj=group, field="desired_size")
    if not group.instance_types:
        yield _finding("VAL153", "the node group has no instance types", "list at least one, e.g. [t3.medium]",
                       path=path, obj=group, field="instance_types")
    if group.capacity_type not in ("ON_DEMAND", "SPOT"):
        yield _finding("VAL154", f"capacity_type {group.capacity_type!r} is not ON_DEMAND or SPOT",
                       "use ON_DEMAND or SPOT", path=path, obj=group, field="capacity_type")
    if not (20 <= group.disk_size <= 16384):
        yield _finding("VAL155", f"disk_size {group.disk_size} GiB is outside 20..16384",
                       "use at least 20 GiB", path=path, obj=group, field="disk_size")


def check_networks(fleet: Fleet) -> Iterator[Finding]:
    for env, region, cluster, path in _clusters(fleet):
        yield from _check_network(env, region, cluster, path)


def _check_network(env: Environment, region: Region, cluster: Cluster, path: str) -> Iterator[Finding]:
    net = cluster.network
    if net.nat not in NAT_MODES:
        yield _finding("VAL161", f"nat {net.nat!r} is not a NAT layout", "use `single` or `per_az`",
                       path=path, obj=net, field="nat")
    if net.cidr is None:
        yield _finding("VAL162", "the cluster's VPC has no cidr and its environment no cidr_pool",
                       "add `cidr: 10.x.0.0/16` to the cluster, or `cidr_pool:` to the environment",
                       path=path, obj=net)
        return
    vpc = _parse_network(net.cidr)
    if vpc is None:
        yield _finding("VAL163", f"cidr: {_cidr_problem(net.cidr)}",
                       "write the VPC block as network address and prefix, e.g. 10.11.0.0/16",
                       path=path, obj=net, field="cidr")
        return
    if not 16 <= vpc.prefixlen <= 28:
        yield _finding("VAL164", f"VPC {vpc} is /{vpc.prefixlen}; AWS allows /16 to /28",
                       "use a prefix between /16 and /28", path=path, obj=net, field="cidr")
        return
    if not is_known_region(region.name) and not net.availability_zones:
        return  # reported by check_regions; zones cannot be derived
    if net.availability_zones:
        zones = list(net.availability_zones)
        for zone in zones:
            if not zone.startswith(region.name):
                yield _finding("VAL165", f"zone {zone} is not in region {region.name}",
                               f"name zones of {region.name}, e.g. {region.name}a", path=path, obj=net,
                               field="availability_zones")
        if len(set(zones)) != len(zones):
            yield _finding("VAL166", "availability_zones lists a zone twice", "list each zone once",
                           path=path, obj=net, field="availability_zones")
    else:
        known = REGIONS[region.name]
        if net.az_count is not None and not 1 <= net.az_count <= min(MAX_ZONES, len(known)):
            yield _finding("VAL167", f"az_count {net.az_count}: tfgen knows {len(known)} zones in {region.name}",
                           f"use 1 to {min(MAX_ZONES, len(known))}, or list `availability_zones:` explicitly",
                           path=path, obj=net, field="az_count")
            return
        zones = zones_of(cluster, region.name)
    if len(zones) > MAX_ZONES:
        yield _finding("VAL167", f"{len(zones)} zones; tfgen lays out at most {MAX_ZONES}",
                       f"use at most {MAX_ZONES} zones", path=path, obj=net, field="availability_zones")
        return
    subnets = []
    for tier in ("private", "public"):
        given = getattr(net, f"{tier}_subnets")
        field = f"{tier}_subnets"
        if given is None:
            continue
        if len(given) != len(zones):
            yield _finding("VAL168", f"{len(given)} {tier} subnets for {len(zones)} zones",
                           f"give one {tier} subnet per zone ({', '.join(zones)}), or leave them out to carve them",
                           path=path, obj=net, field=field)
        for cidr in given:
            block = _parse_network(cidr)
            if block is None:
                yield _finding("VAL169", f"{tier} subnet: {_cidr_problem(cidr)}",
                               "write each subnet as network address and prefix", path=path, obj=net, field=field)
                continue
            if not block.subnet_of(vpc):
                yield _finding("VAL170", f"{tier} subnet {block} is outside the VPC {vpc}",
                               f"choose subnets inside {vpc}", path=path, obj=net, field=field)
            if block.prefixlen > MIN_SUBNET_PREFIX:
                yield _finding("VAL171", f"{tier} subnet {block} is smaller than /{MIN_SUBNET_PREFIX}",
                               f"AWS subnets are /16 to /{MIN_SUBNET_PREFIX}", path=path, obj=net, field=field)
            subnets.append((block, field))
    if net.private_subnets is None or net.public_subnets is None:
        try:
            private, public = carve(str(vpc), len(zones))
        except ValueError as exc:
            yield _finding("VAL172", str(exc), "use a VPC of /22 or larger, or list the subnets explicitly",
                           path=path, obj=net, field="cidr")
            return
        if net.private_subnets is None:
            subnets += [(ipaddress.IPv4Network(c), "private_subnets") for c in private]
        if net.public_subnets is None:
            subnets += [(ipaddress.IPv4Network(c), "public_subnets") for c in public]
    for i, (a, field_a) in enumerate(subnets):
        for b, field_b in subnets[i + 1:]:
            if a.overlaps(b):
                yield _finding("VAL173", f"subnets {a} and {b} overlap", "make every subnet of a VPC disjoint",
                               path=path, obj=net, field=field_b)
    # AWS keeps 5 addresses of every subnet; nodes and (with the VPC CNI) their pods live in the private ones.
    usable = sum(b.num_addresses - 5 for b, f in subnets if f == "private_subnets")
    nodes = sum(g.max_size for g in cluster.node_groups.values() if isinstance(g.max_size, int))
    if nodes and usable < nodes:
        yield _finding("VAL174", f"private subnets hold {usable} usable addresses (AWS keeps 5 per subnet), "
                       f"fewer than the {nodes} nodes the node groups may grow to",
                       "give the VPC larger private subnets", path=path, obj=net, field="private_subnets")
    elif nodes and usable < nodes * PODS_PER_NODE:
        yield _finding("VAL175", f"private subnets hold {usable} usable addresses for up to {nodes} nodes; "
                       f"with the VPC CNI each node takes an address per pod (~{PODS_PER_NODE})",
                       "give the VPC larger private subnets, or lower the node groups' max",
                       path=path, obj=net, field="private_subnets", severity=Severity.WARNING)


def check_names(fleet: Fleet) -> Iterator[Finding]:
    """Distinct user names must give distinct Terraform and AWS names."""
    for env in fleet.environments.values():
        seen: dict[str, str] = {}
        for region, cluster in env.clusters():
            key = naming.cluster_key(region.name, cluster.name)
            path = f"{env.name}/{region.name}/{cluster.name}"
            if key in seen:
                yield _finding("VAL181", f"clusters {seen[key]} and {path} get the same Terraform name {key}",
                               "rename one of them", path=path, obj=cluster)
            seen[key] = path
            eks = naming.aws_name(fleet.project, env.name, region.name, cluster.name, limit=1000)
            if len(eks) > 100:
                yield _finding("VAL182", f"EKS cluster name {eks} is longer than 100 characters",
                               "shorten the project, environment or cluster name", path=path, obj=cluster)


# -- what AWS itself rejects ------------------------------------------------------

STANDARD_TAGS = ("Project", "Environment", "ManagedBy")
# The most tags tfgen puts on one resource besides the standard ones: a subnet's.
_RESOURCE_TAGS = ("Name", "kubernetes.io/role/internal-elb", "kubernetes.io/cluster/<cluster>")
MAX_TAGS = 50
_TAG_TEXT = re.compile(r"[\w .:/=+\-@]*")
_SECRET_KEY = re.compile(r"pass(?:word|wd|phrase)|secret|token|private[_ -]?key|api[_ -]?key|credential", re.I)
_SECRET_VALUE = re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA)[0-9A-Z]{16}\b|-----BEGIN [A-Z ]*PRIVATE KEY"
                           r"|\bgh[pousr]_[A-Za-z0-9]{36}\b|\bxox[abprs]-[A-Za-z0-9-]{10,}")


def check_tags(fleet: Fleet) -> Iterator[Finding]:
    """Tags land in every provider's `default_tags`, beside tfgen's own, on every resource."""
    tags = fleet.tags
    keys = set(tags) | set(STANDARD_TAGS) | set(_RESOURCE_TAGS)
    if len(keys) > MAX_TAGS:
        room = MAX_TAGS - len(set(STANDARD_TAGS) | set(_RESOURCE_TAGS))
        yield _finding("VAL106", f"{len(tags)} tags plus tfgen's own give a subnet {len(keys)} tags; AWS allows "
                       f"{MAX_TAGS} per resource", f"keep at most {room} tags (tfgen adds {', '.join(STANDARD_TAGS)} "
                       "everywhere, and Name and two kubernetes.io tags on subnets)", obj=fleet, field="tags")
    by_case: dict[str, list[str]] = {}
    for key in sorted(keys - set(_RESOURCE_TAGS[1:])):
        by_case.setdefault(key.lower(), []).append(key)
    for same in by_case.values():
        if len(same) > 1:
            yield _finding("VAL107", f"tag keys {' and '.join(same)} differ only in case; IAM and other services "
                           "treat them as one key", "keep one spelling of the key", obj=fleet, field="tags")
    for key, value in tags.items():
        for what, text in (("key", key), ("value", value)):
            if not _TAG_TEXT.fullmatch(text):
                bad = "".join(sorted({c for c in text if not _TAG_TEXT.fullmatch(c)}))
                yield _finding("VAL108", f"tag {what} {text!r:.80} holds characters AWS does not allow: {bad!r}",
                               "use letters, digits, spaces and _ . : / = + - @", obj=fleet, field="tags")
        if key in STANDARD_TAGS or key == "Name":
            yield _finding("VAL109", f"tag {key!r} is tfgen's: your value would be silently replaced",
                           f"rename the tag; tfgen sets {', '.join(STANDARD_TAGS)} on every resource and Name on "
                           "most", obj=fleet, field="tags")
        if _SECRET_KEY.search(key) or _SECRET_VALUE.search(value) or _SECRET_VALUE.search(key):
            yield _finding("VAL110", f"tag {key!r} looks like it holds a secret",
                           "remove it: tags are written in plain text into providers.tf.json (default_tags) and "
                           "onto every resource, readable by anyone who can list them", obj=fleet, field="tags")


_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_BUCKET_RESERVED = (("xn--", "sthree-", "amzn-s3-demo-"), ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"))
_TABLE = re.compile(r"[A-Za-z0-9_.-]{3,255}")


def _bucket_problem(name: str) -> str | None:
    if not _BUCKET.fullmatch(name):
        return "is not 3-63 lower-case letters, digits, dots and dashes, starting and ending with a letter or digit"
    if ".." in name or ".-" in name or "-." in name:
        return "has a dot next to a dot or dash"
    if re.fullmatch(r"\d+\.\d+\.\d+\.\d+", name):
        return "looks like an IP address"
    if name.startswith(_BUCKET_RESERVED[0]) or name.endswith(_BUCKET_RESERVED[1]):
        return "uses a prefix or suffix AWS reserves"
    return None


def check_state_names(fleet: Fleet) -> Iterator[Finding]:
    state = fleet.state
    if state.backend != "s3":
        return
    problem = _bucket_problem(state.bucket) if isinstance(state.bucket, str) and state.bucket else None
    if problem:
        yield _finding("VAL114", f"state bucket {state.bucket!r} {problem}: S3 rejects the name",
                       "name the bucket as S3 allows, e.g. mrc-tfstate", obj=state, field="bucket")
    if isinstance(state.lock_table, str) and state.lock_table and not _TABLE.fullmatch(state.lock_table):
        yield _finding("VAL115", f"lock_table {state.lock_table!r} is not a DynamoDB table name",
                       "use 3-255 letters, digits, _ . and -", obj=state, field="lock_table")


# tfgen writes Terraform JSON features of 1.0 (and the toolchain runs 1.0.3).
MIN_TERRAFORM = Version(1, 0)


def _lowest_admitted(constraint: str) -> Version:
    """The smallest version a Terraform constraint admits (0.0.0 when nothing bounds it below)."""
    try:
        return Constraint.parse(constraint).lowest or Version(0)
    except ValueError:
        return Version(0)


def check_terraform_version(fleet: Fleet) -> Iterator[Finding]:
    value = fleet.terraform_version
    if isinstance(value, str) and _VERSION_CONSTRAINT.match(value) and _lowest_admitted(value) < MIN_TERRAFORM:
        yield _finding("VAL116", f"terraform_version {value!r} admits versions below 1.0; tfgen's output uses "
                       "Terraform JSON features of 1.0", 'bound it below, e.g. ">= 1.0"', obj=fleet,
                       field="terraform_version")


_INSTANCE_TYPE = re.compile(r"[a-z][a-z0-9-]*[a-z0-9]\.[a-z0-9][a-z0-9-]*")
_LABEL_NAME = re.compile(r"[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*")


def _label_key_ok(key: str) -> bool:
    prefix, slash, name = key.rpartition("/")
    if slash and not (len(prefix) <= 253 and _DNS_SUBDOMAIN.fullmatch(prefix)):
        return False
    return bool(_LABEL_NAME.fullmatch(name))


def check_node_group_values(fleet: Fleet) -> Iterator[Finding]:
    for env, region, cluster, path in _clusters(fleet):
        for group in cluster.node_groups.values():
            where = f"{path}/{group.name}"
            for kind in group.instance_types:
                if not _INSTANCE_TYPE.fullmatch(kind):
                    yield _finding("VAL156", f"instance type {kind!r} is not family.size",
                                   "write an EC2 instance type such as t3.medium or m7g.2xlarge", path=where,
                                   obj=group, field="instance_types")
            for key, value in group.labels.items():
                if not _label_key_ok(key):
                    yield _finding("VAL157", f"node label key {key!r} is not a Kubernetes label key",
                                   "use [prefix/]name: name up to 63 letters, digits, - _ . starting and ending "
                                   "alphanumeric; prefix a DNS subdomain", path=where, obj=group, field="labels")
                if value and not _LABEL_NAME.fullmatch(value):
                    yield _finding("VAL157", f"node label value {value!r} of {key!r} is not a Kubernetes label "
                                   "value", "use up to 63 letters, digits, - _ . starting and ending alphanumeric",
                                   path=where, obj=group, field="labels")


_ZONE_SUFFIX = re.compile(r"[a-z]|-[a-z0-9]+(?:-[a-z0-9]+)*")


def check_zone_names(fleet: Fleet) -> Iterator[Finding]:
    for env, region, cluster, path in _clusters(fleet):
        for zone in cluster.network.availability_zones or ():
            if zone.startswith(region.name) and not _ZONE_SUFFIX.fullmatch(zone[len(region.name):]):
                yield _finding("VAL176", f"zone {zone!r} is not an availability zone name",
                               f"write the region and the zone letter, e.g. {region.name}a", path=path,
                               obj=cluster.network, field="availability_zones")


def check_empty_regions(fleet: Fleet) -> Iterator[Finding]:
    for env in fleet.environments.values():
        for region in env.regions.values():
            if not region.clusters:
                yield _finding("VAL133", f"region {region.name} of {env.name} has no clusters; nothing would be "
                               "built there", "add a cluster under `clusters:`, or remove the region",
                               path=f"{env.name}/{region.name}", obj=region)


def _aws_names(fleet: Fleet, env: Environment) -> dict[str, str]:
    """AWS names tfgen gives an environment's objects (lower case: IAM names ignore case) -> the object."""
    names = {naming.aws_name(fleet.project, env.name).lower(): env.name}
    for region, cluster in env.clusters():
        eks = naming.aws_name(fleet.project, env.name, region.name, cluster.name, limit=100)
        names[eks.lower()] = f"{env.name}/{region.name}/{cluster.name}"
    return names


def check_aws_names_per_account(fleet: Fleet) -> Iterator[Finding]:
    """Environments of one account share IAM (global) and regional name spaces."""
    seen: dict[tuple[str | None, str], str] = {}
    for env in fleet.environments.values():
        account = env.account
        for name, owner in sorted(_aws_names(fleet, env).items()):
            other = seen.setdefault((account, name), owner)
            if other != owner and other.split("/")[0] != env.name:
                yield _finding("VAL183", f"{owner} and {other} get the same AWS name {name!r} in account "
                               f"{account or '(unknown)'}: their IAM roles and clusters would collide",
                               "rename one environment or cluster; AWS names join the parts with '-' and drop "
                               "leading and trailing dashes", path=env.name, obj=env)
                break


RULES: tuple[Rule, ...] = (
    check_project,
    check_state,
    check_environments,
    check_regions,
    check_clusters,
    check_networks,
    check_names,
    check_tags,
    check_state_names,
    check_terraform_version,
    check_node_group_values,
    check_zone_names,
    check_empty_regions,
    check_aws_names_per_account,
)
