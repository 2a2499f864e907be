"""Rules on the fleet as a whole: project, state backend, environments, regions, the names AWS gets."""

from __future__ import annotations

import re
from typing import Iterator

from ..derive import naming
from ..model import CONNECTIVITY_MODES, LAYOUT_CELLS, LAYOUTS, Environment, Fleet
from ..model.regions import REGIONS, closest_region, is_known_region
from ..providers import TERRAFORM_MIN, Constraint, Version
from ..errors import Finding, Severity
from .support import cidr_fix, cidr_problem, finding, parse_network

__all__ = ["check_project", "check_state", "check_environments", "check_regions", "check_names",
           "check_state_names", "check_terraform_version", "check_empty_regions", "check_aws_names_per_account",
           "check_layouts",
           "unknown_region", "VERSION_CONSTRAINT", "ROLE_ARN"]

# Used with fullmatch only: `$` also matches before a trailing newline.
_PROJECT = re.compile(r"[a-z][a-z0-9-]{0,38}[a-z0-9]")
_ENV_NAME = re.compile(r"[a-z][a-z0-9-]{0,30}")
_ACCOUNT_ID = re.compile(r"\d{12}", re.ASCII)
ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}", re.ASCII)
VERSION_CONSTRAINT = re.compile(r"\s*(?:(?:[<>=!~]{1,2}\s*)?\d+(?:\.\d+){0,2}\s*)(?:,\s*(?:[<>=!~]{1,2}\s*)?\d+(?:\.\d+){0,2}\s*)*", re.ASCII)


# -- project ------------------------------------------------------------------


def check_project(fleet: Fleet) -> Iterator[Finding]:
    if not isinstance(fleet.project, str) or not _PROJECT.fullmatch(fleet.project):
        yield finding("VAL101", f"project name {fleet.project!r} is not usable in AWS names",
                       "use 2-40 lower-case letters, digits and dashes, starting with a letter",
                       obj=fleet, field="project")
    for key, value in fleet.tags.items():
        if not (1 <= len(str(key)) <= 128) or len(str(value)) > 256 or str(key).lower().startswith("aws:"):
            yield finding("VAL102", f"tag {key!r} is not a valid AWS tag",
                           "tag keys are 1-128 characters and may not start with 'aws:'; values at most 256",
                           obj=fleet, field="tags")
    for name, value in (("aws_provider", fleet.aws_provider), ("terraform_version", fleet.required_terraform)):
        if not isinstance(value, str) or not VERSION_CONSTRAINT.fullmatch(value):
            yield finding("VAL103", f"{name} {value!r} is not a version constraint",
                           'write a Terraform constraint such as ">= 5.100, < 7.0"', obj=fleet, field=name)
    if not fleet.environments:
        yield finding("VAL104", "the fleet has no environments", "add an environment with a hub", obj=fleet)


def check_state(fleet: Fleet) -> Iterator[Finding]:
    state = fleet.state
    if state.backend not in ("s3", "local"):
        yield finding("VAL111", f"state backend {state.backend!r} is not supported",
                       "use `backend: s3` (with bucket, region, lock_table) or `backend: local`",
                       obj=state, field="backend")
    ignored = [name for name in ("bucket", "region", "lock_table", "key_prefix") if getattr(state, name)]
    if state.backend == "local" and ignored:
        yield finding("VAL117", f"state backend local ignores {', '.join(ignored)}: state stays in a local file",
                       f"use `backend: s3` to keep state in the bucket, or drop {', '.join(ignored)}",
                       obj=state, field=ignored[0], severity=Severity.WARNING)
    if state.backend == "s3":
        for name in ("bucket", "region"):
            if not getattr(state, name):
                yield finding("VAL112", f"the s3 state backend needs `{name}`",
                               f"add `{name}:` under `state:`", obj=state)
        if state.region and not is_known_region(state.region):
            yield unknown_region(state.region, "state", state, "region")


# -- environments and regions -----------------------------------------------


def check_layouts(fleet: Fleet) -> Iterator[Finding]:
    """VAL135: a layout tfgen does not know; VAL136: an environment name that cells root names would blur."""
    if fleet.layout not in LAYOUTS:
        yield finding("VAL135", f"layout {fleet.layout!r} is not supported", f"use one of: {', '.join(LAYOUTS)}",
                      path="fleet", obj=fleet, field="layout")
    for env in fleet.environments.values():
        if env.layout is not None and env.layout not in LAYOUTS:
            yield finding("VAL135", f"layout {env.layout!r} of environment {env.name} is not supported",
                          f"use one of: {', '.join(LAYOUTS)}", path=env.name, obj=env, field="layout")
        elif fleet.layout_of(env) == LAYOUT_CELLS and "--" in env.name:
            yield finding("VAL136", f"environment name {env.name!r} has `--`, which separates the environment from "
                          f"the region in cells root names ({env.name}--us-east-1)",
                          "rename the environment without `--`", path=env.name, obj=env)


def check_environments(fleet: Fleet) -> Iterator[Finding]:
    for env in fleet.environments.values():
        if not _ENV_NAME.fullmatch(env.name):
            yield finding("VAL121", f"environment name {env.name!r} is not usable as a directory and AWS name",
                           "use lower-case letters, digits and dashes, starting with a letter",
                           path=env.name, obj=env)
        hubs = env.hubs
        if not hubs:
            yield finding("VAL122", f"environment {env.name} has no hub cluster",
                           "add `hub: {region: ..., cidr: ...}` to the environment", path=env.name, obj=env)
        for region, extra in hubs[1:]:
            yield finding("VAL123", f"environment {env.name} has more than one hub ({hubs[0][1].name} and "
                           f"{region.name}/{extra.name})", "keep one hub per environment; make the others edges",
                           path=f"{env.name}/{region.name}/{extra.name}", obj=extra)
        if not any(not c.is_hub for _, c in env.clusters()):
            yield finding("VAL124", f"environment {env.name} has no edge clusters",
                           "add at least one region under `regions:`", path=env.name, obj=env,
                           severity=Severity.WARNING)
        if env.connectivity not in CONNECTIVITY_MODES:
            yield finding("VAL125", f"connectivity {env.connectivity!r} is not supported",
                           f"use one of: {', '.join(CONNECTIVITY_MODES)}", path=env.name, obj=env,
                           field="connectivity")
        if env.assume_role is not None and not ROLE_ARN.fullmatch(env.assume_role):
            yield finding("VAL126", f"assume_role {env.assume_role!r} is not an IAM role ARN",
                           "write arn:aws:iam::<12-digit account>:role/<name>", path=env.name, obj=env,
                           field="assume_role")
        if not isinstance(env.vpc_prefix, int) or not 16 <= env.vpc_prefix <= 28:
            yield finding("VAL134", f"vpc_prefix {env.vpc_prefix!r} is outside /16../28",
                           "use a prefix length between 16 and 28", path=env.name, obj=env, field="vpc_prefix")
        if env.account_id is not None and not _ACCOUNT_ID.fullmatch(str(env.account_id)):
            yield finding("VAL128", f"account_id {env.account_id!r} is not an AWS account id",
                           'write the 12 digits of the account, quoted: account_id: "111111111111"',
                           path=env.name, obj=env, field="account_id")
        if env.account is None:
            yield finding("VAL129", f"environment {env.name} names no AWS account: its KMS key policies need one",
                           'add `account_id: "<12 digits>"` to the environment, or an `assume_role` ARN '
                           "in the account", path=env.name, obj=env)
        elif (env.account_id and env.assume_role and ROLE_ARN.fullmatch(env.assume_role)
              and env.assume_role.split(":")[4] != env.account_id):
            yield finding("VAL130", f"account_id {env.account_id} differs from the account of assume_role "
                           f"{env.assume_role}", "make them the same account, or drop account_id",
                           path=env.name, obj=env, field="account_id", severity=Severity.WARNING)
        if env.cidr_pool is not None and parse_network(env.cidr_pool) is None:
            yield finding("VAL127", f"cidr_pool: {cidr_problem(env.cidr_pool)}",
                           cidr_fix(env.cidr_pool, "write the pool as a network address and prefix, e.g. 10.0.0.0/12"),
                           path=env.name, obj=env, field="cidr_pool")


def unknown_region(name: str, path: str, obj, field: str = "") -> Finding:
    guess = closest_region(name)
    hint = f"did you mean {guess}?" if guess else f"use an AWS region name such as us-east-1 (known: {len(REGIONS)})"
    return finding("VAL131", f"unknown AWS region {name!r}", hint, path=path, obj=obj, field=field)


def check_regions(fleet: Fleet) -> Iterator[Finding]:
    for env in fleet.environments.values():
        aliases: dict[str, str] = {}
        for region in env.regions.values():
            if not is_known_region(region.name):
                yield unknown_region(region.name, f"{env.name}/{region.name}", region)
            alias = naming.alias(region.name)
            if alias in aliases:
                yield finding("VAL132", f"regions {aliases[alias]} and {region.name} get the same provider alias "
                               f"{alias}", "name each region once, as AWS spells it", path=env.name, obj=region)
            aliases[alias] = region.name



def check_names(fleet: Fleet) -> Iterator[Finding]:
    """Distinct user names must give distinct Terraform names (AWS names: `aws_names`, VAL185)."""
    for env in fleet.environments.values():
        seen: dict[str, str] = {}
        for region, cluster in env.clusters():
            key = naming.cluster_key(region.name, cluster.name)
            path = f"{env.name}/{region.name}/{cluster.name}"
            if key in seen:
                yield finding("VAL181", f"clusters {seen[key]} and {path} get the same Terraform name {key}",
                               "rename one of them", path=path, obj=cluster)
            seen[key] = path



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
        yield finding("VAL114", f"state bucket {state.bucket!r} {problem}: S3 rejects the name",
                       "name the bucket as S3 allows, e.g. mrc-tfstate", obj=state, field="bucket")
    if isinstance(state.lock_table, str) and state.lock_table and not _TABLE.fullmatch(state.lock_table):
        yield finding("VAL115", f"lock_table {state.lock_table!r} is not a DynamoDB table name",
                       "use 3-255 letters, digits, _ . and -", obj=state, field="lock_table")




def _lowest_admitted(constraint: str) -> Version:
    """The smallest version a Terraform constraint admits (0.0.0 when nothing bounds it below)."""
    try:
        return Constraint.parse(constraint).lowest or Version(0)
    except ValueError:
        return Version(0)


def check_terraform_version(fleet: Fleet) -> Iterator[Finding]:
    value = fleet.terraform_version
    if isinstance(value, str) and VERSION_CONSTRAINT.fullmatch(value) and _lowest_admitted(value) < TERRAFORM_MIN:
        yield finding("VAL116", f"terraform_version {value!r} admits versions below 1.0; tfgen's output uses "
                       "Terraform JSON features of 1.0", 'bound it below, e.g. ">= 1.0"', obj=fleet,
                       field="terraform_version")



def check_empty_regions(fleet: Fleet) -> Iterator[Finding]:
    for env in fleet.environments.values():
        for region in env.regions.values():
            if not region.clusters:
                yield finding("VAL133", f"region {region.name} of {env.name} has no clusters; nothing would be "
                               "built there", "add a cluster under `clusters:`, or remove the region",
                               path=f"{env.name}/{region.name}", obj=region)


def _aws_names(fleet: Fleet, env: Environment) -> dict[str, str]:
    """AWS names tfgen gives an environment's objects (lower case: IAM names ignore case) -> the object."""
    names = {naming.aws_name(fleet.project, env.name).lower(): env.name}
    for region, cluster in env.clusters():
        eks = naming.eks_cluster_name(fleet.project, env.name, region.name, cluster.name)
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
                yield finding("VAL183", f"{owner} and {other} get the same AWS name {name!r} in account "
                               f"{account or '(unknown)'}: their IAM roles and clusters would collide",
                               "rename one environment or cluster; AWS names join the parts with '-' and drop "
                               "leading and trailing dashes", path=env.name, obj=env)
                break


