"""Which AWS provider versions tfgen's output needs: the one table.

tfgen emits for the providers users run (hashicorp/aws 6.x and the last 5.x),
but the only provider binary that runs offline is 3.39. `FEATURES` names every
resource type and argument tfgen can emit whose minimum provider version is
above the oldest version a range may admit (3.38, provider-level
`default_tags`), with the release that added it, and what a later major
removed. Everything that depends on a provider version asks this module:

- `tfgen.checks.compat` (VAL105): the spec's `aws_provider` range must not
  admit a provider older than a feature the fleet's output uses
  (`tfgen.checks.compat.features_of` says which a root uses);
- `tfgen.terraform.lowering`: rewrites a built root for an older provider (3.39 here),
  listing everything it left out;
- `tfgen.terraform.schema_check`: validates a root against the argument schema of every
  provider version the range admits.

Nowhere else does tfgen compare provider versions.

A feature key is a resource type (`aws_eks_access_entry`), an argument or
block (`aws_eks_cluster.access_config`), or an argument with one value
(`aws_eks_node_group.ami_type=AL2023_*`, `*` matching any suffix).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import total_ordering

__all__ = [
    "Version",
    "Constraint",
    "Feature",
    "FEATURES",
    "REMOVED",
    "OLDEST",
    "OFFLINE",
    "PROVEN",
    "SCHEMA_VERSIONS",
    "DEFAULT_RANGE",
    "TERRAFORM_MIN",
    "TERRAFORM_LOCKING",
    "TERRAFORM_DEFAULT",
    "TERRAFORM_LOCKFILE",
    "feature",
    "uses",
]


@total_ordering
@dataclass(frozen=True)
class Version:
    """A provider version, `major.minor.patch`."""

    major: int
    minor: int = 0
    patch: int = 0

    @classmethod
    def parse(cls, text: str) -> "Version":
        parts = str(text).strip().lstrip("v").split(".")
        if not 1 <= len(parts) <= 3 or not all(p.isdigit() for p in parts):
            raise ValueError(f"{text!r} is not a version such as 5.100.0")
        numbers = [int(p) for p in parts] + [0, 0]
        return cls(numbers[0], numbers[1], numbers[2])

    def __lt__(self, other: "Version") -> bool:
        return (self.major, self.minor, self.patch) < (other.major, other.minor, other.patch)

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"


_TERM = re.compile(r"^\s*(>=|<=|!=|~>|>|<|=)?\s*v?(\d+(?:\.\d+){0,2})\s*$")


@dataclass(frozen=True)
class Constraint:
    """A Terraform version constraint such as `">= 5.100, < 7.0"`."""

    text: str
    terms: tuple[tuple[str, Version, int], ...]  # (operator, version, digits written)

    @classmethod
    def parse(cls, text: str) -> "Constraint":
        terms = []
        for raw in str(text).split(","):
            match = _TERM.match(raw)
            if not match:
                raise ValueError(f"{raw.strip()!r} is not a version constraint term such as >= 5.100")
            terms.append((match.group(1) or "=", Version.parse(match.group(2)), match.group(2).count(".") + 1))
        return cls(str(text), tuple(terms))

    def admits(self, version: Version | str) -> bool:
        """Whether `version` satisfies every term."""
        v = version if isinstance(version, Version) else Version.parse(version)
        for op, bound, digits in self.terms:
            ok = {
                ">=": v >= bound, ">": v > bound, "<=": v <= bound, "<": v < bound,
                "=": v == bound, "!=": v != bound,
            }.get(op)
            if op == "~>":
                upper = Version(bound.major + 1) if digits <= 2 else Version(bound.major, bound.minor + 1)
                ok = bound <= v < upper
            if not ok:
                return False
        return True

    @property
    def lowest(self) -> Version | None:
        """The lowest version admitted, if the range has a lower bound (None: unbounded below)."""
        candidates = []
        for op, bound, _ in self.terms:
            if op in (">=", "=", "~>"):
                candidates.append(bound)
            elif op == ">":
                candidates.append(Version(bound.major, bound.minor, bound.patch + 1))
        if not candidates:
            return None
        low = max(candidates)
        return low if self.admits(low) else None

    def admits_major(self, major: int) -> bool:
        """Whether some version of `major` (x.0.0 .. x.999.999) is admitted."""
        probes = [Version(major), Version(major, 999, 999)]
        probes += [b for _, b, _ in self.terms if b.major == major]
        probes += [Version(b.major, b.minor, b.patch + 1) for _, b, _ in self.terms if b.major == major]
        return any(self.admits(p) for p in probes)


@dataclass(frozen=True)
class Feature:
    """A resource type or argument and the provider release that brought it.

    `minimum` is the release that added it. Where no source names that release, `after` is set:
    then the committed schemas prove only a bound, absent in `after` and present in `minimum`
    (the lowest committed version that has it), and `minimum` is used as the requirement:
    never admitting a provider too old, possibly refusing one that would do.
    """

    key: str
    minimum: Version
    what: str
    after: Version | None = None

    @property
    def resource(self) -> str:
        return self.key.split(".", 1)[0]

    @property
    def since(self) -> str:
        """The release that added it, or the bound the schemas prove ("after 3.39.0, by 5.100.0")."""
        return str(self.minimum) if self.after is None else f"after {self.after}, by {self.minimum}"


def _f(key: str, minimum: str, what: str, after: str | None = None) -> Feature:
    return Feature(key, Version.parse(minimum), what, Version.parse(after) if after else None)


# Versions from the provider's CHANGELOG (the release that added the type or argument); `after=`
# marks a bound read from the committed schemas (tfgen/providers/schemas/) where no CHANGELOG
# reachable here names the release (the 3.x and 4.x CHANGELOGs live on release branches).
FEATURES: tuple[Feature, ...] = (
    _f("provider.default_tags", "3.38.0", "provider-level default_tags"),
    _f("aws_instance.launch_template", "3.51.0", "instances launched from a launch template"),
    _f("aws_s3_bucket_ownership_controls.rule.object_ownership=BucketOwnerEnforced", "3.69.0",
       "S3 buckets with ACLs disabled (BucketOwnerEnforced)"),
    _f("aws_s3_bucket_versioning", "4.0.0", "S3 bucket settings as their own resources (4.0 split aws_s3_bucket)"),
    _f("aws_s3_bucket_server_side_encryption_configuration", "4.0.0", "S3 default encryption as a resource"),
    _f("aws_s3_bucket_lifecycle_configuration", "4.0.0", "S3 lifecycle rules as a resource"),
    # CHANGELOG 4.0.0: aws_s3_object is the new name of aws_s3_bucket_object (deprecated since).
    _f("aws_s3_object", "4.0.0", "S3 objects under their 4.0 name (aws_s3_bucket_object before)"),
    _f("aws_vpc_security_group_ingress_rule", "4.56.0", "one security group rule per resource"),
    _f("aws_vpc_security_group_egress_rule", "4.56.0", "one security group rule per resource"),
    _f("aws_eks_addon.resolve_conflicts_on_create", "5.0.0", "add-on conflict handling on create"),
    _f("aws_eks_addon.resolve_conflicts_on_update", "5.0.0", "add-on conflict handling on update"),
    _f("aws_eks_pod_identity_association", "5.29.0", "EKS Pod Identity associations"),
    _f("aws_eks_access_entry", "5.33.0", "EKS access entries"),
    _f("aws_eks_access_policy_association", "5.33.0", "EKS access policy associations"),
    _f("aws_eks_cluster.access_config", "5.33.0", "EKS cluster authentication mode (access entries)"),
    _f("aws_eks_node_group.ami_type=AL2023_*", "5.40.0", "Amazon Linux 2023 node AMI types"),
    _f("aws_eks_cluster.bootstrap_self_managed_addons", "5.58.0", "clusters without self-managed add-ons"),
    _f("aws_eks_cluster.upgrade_policy", "5.61.0", "EKS standard or extended support policy"),
    _f("aws_eks_addon.pod_identity_association", "5.75.0", "Pod Identity roles on EKS add-ons"),
    _f("aws_iam_openid_connect_provider.thumbprint_list=absent", "5.81.0",
       "OIDC providers without thumbprints (AWS verifies EKS issuers through its trusted CAs)"),
    # Absent from the real 3.39.0 schema, present in 5.100.0 (cdktf-cdktf-provider-aws 20.1.0).
    _f("aws_ssm_association.wait_for_success_timeout_seconds", "5.100.0",
       "SSM associations that make the apply wait for the run's result", after="3.39.0"),
    _f("aws_ssm_association.tags", "5.100.0", "tags on SSM associations", after="3.39.0"),
    # Added by terraform-provider-aws PR #13938 (merged 2021; no CHANGELOG reachable here names the release):
    # absent from 3.39.0, present in 5.100.0. Lowering names the group in full instead.
    _f("aws_eks_node_group.node_group_name_prefix", "5.100.0",
       "node groups named by a prefix (replaced create-first)", after="3.39.0"),
    # CHANGELOG 6.25.0 (2025-12-04): "New Resource: aws_eks_capability (#45326)" (as BOOTSTRAP.md quotes it;
    # the committed schemas agree: absent from 5.100.0, present in 6.25.0).
    _f("aws_eks_capability", "6.25.0", "EKS managed capabilities (Argo CD)"),
)

# What a major release removed: tfgen never emits these; the schema check catches them in a user's root.
REMOVED: dict[str, Version] = {
    "aws_eip.vpc": Version(6),
    "aws_flow_log.log_group_name": Version(6),
    "aws_eks_addon.resolve_conflicts": Version(6),
}

OLDEST = Version(3, 38)
# The one provider binary that runs here (TOOLCHAIN.md); plans and the sandbox run the build lowered to it.
OFFLINE = Version(3, 39)
# The versions users run that the full output is proven against (their schemas are committed).
PROVEN = (Version(5, 100), Version(6, 25))
# Versions whose argument schemas are committed under tfgen/schemas (see tools/provider_schemas.py).
SCHEMA_VERSIONS = (OFFLINE, *PROVEN)
# The last 5.x and every 6.x: the output is proven against both schemas (README: "Provider target").
DEFAULT_RANGE = ">= 5.100, < 7.0"

# Terraform: tfgen writes Terraform JSON of 1.0 (the offline toolchain runs 1.0.3); S3-native state
# locking (`use_lockfile`) came in 1.10. The roots' default `required_version` follows from these two.
TERRAFORM_MIN = Version(1, 0)
TERRAFORM_LOCKING = Version(1, 10)
TERRAFORM_DEFAULT = f">= {TERRAFORM_MIN.major}.{TERRAFORM_MIN.minor}"
TERRAFORM_LOCKFILE = f">= {TERRAFORM_LOCKING.major}.{TERRAFORM_LOCKING.minor}"

_BY_KEY = {f.key: f for f in FEATURES}


def _argument_keys() -> dict[str, list[tuple[str, str | None, str]]]:
    """Per resource type: (argument, value pattern or None, feature key) of its argument features."""
    table: dict[str, list[tuple[str, str | None, str]]] = {}
    for f in FEATURES:
        if "." in f.key and not f.key.startswith("provider."):
            type_, rest = f.key.split(".", 1)
            argument, _, pattern = rest.partition("=")
            table.setdefault(type_, []).append((argument, pattern or None, f.key))
    return table


_ARGUMENTS = _argument_keys()


def feature(key: str) -> Feature:
    """The feature called `key` (a KeyError names a tfgen bug: every key used must be in the table)."""
    return _BY_KEY[key]


def uses(type_: str, body: dict) -> list[str]:
    """The feature keys one resource block uses."""
    found = [type_] if type_ in _BY_KEY else []
    for argument, pattern, key in _ARGUMENTS.get(type_, ()):
        value = _at(body, argument)
        present = value is not None
        if pattern is None:
            hit = present
        elif pattern == "absent":
            hit = not present
        else:
            hit = isinstance(value, str) and (
                value.startswith(pattern[:-1]) if pattern.endswith("*") else value == pattern)
        if hit:
            found.append(key)
    return found


def _at(body: dict, path: str):
    """The value at a dotted argument path (`rule.object_ownership`); a block given as a list is its first item."""
    value = body
    for part in path.split("."):
        if isinstance(value, list):
            value = value[0] if value else None
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value
