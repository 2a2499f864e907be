"""A built root rewritten for an older AWS provider, saying what it left out.

tfgen's output targets the providers users run (see `tfgen.providers`); the
one provider binary that runs offline is 3.39. Plans, `tfgen check --plan`
and the sandbox run a copy *lowered* to it: every resource type and argument
`tfgen.providers.FEATURES` says is newer than the target is left out, or
rewritten where the old provider expresses the same thing another way, and
each is listed. Whatever depended on something left out goes too (a policy
association on a dropped access entry), and is listed with the reason. The
committed output is never touched.

The provider's own lowering is the last of a chain of *passes*: `lower(...,
passes=...)` runs further passes first, in order, on the same copy. A pass is
a callable that rewrites a root's documents in place and returns a `LeftOut`
record for each thing it changed; whatever a pass removes, anything referring
to it goes too. `leave_out(types)` is the pass for resource types something
cannot take (the sandbox's AWS double lacks some APIs; its passes are in
`tfgen.sandbox.quirks`).

A root is read through its index (`tfgen.terraform.index`) and its references
through the one grammar (`tfgen.terraform.references`): what refers to
something left out, a bucket setting's bucket, a renamed address.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass
from typing import Any, Callable, Mapping, Sequence

from ..errors import TfgenError
from ..providers.features import OFFLINE, TERRAFORM_DEFAULT, TERRAFORM_LOCKFILE, Version, feature, uses
from .index import Root, nested, remove_resource, resources_of
from .references import Reference, parse, references, rewrite
from .roots import as_root

__all__ = ["LeftOut", "Lowered", "Pass", "lower", "leave_out", "LOWERED_FILE", "EKS_OIDC_THUMBPRINT"]

LOWERED_FILE = "tfgen_lowered.json"
# SHA-1 of the root CA that signs every EKS OIDC issuer's certificate; 3.x providers require a thumbprint,
# newer ones let AWS verify the issuer through its own trusted CAs.
EKS_OIDC_THUMBPRINT = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280"


@dataclass(frozen=True)
class LeftOut:
    """One thing a lowered root does not contain as built, and why."""

    address: str
    what: str
    action: str  # "left out" or "rewritten" (or a pass's own word, such as the sandbox's "sandbox quirk")
    reason: str

    def format(self) -> str:
        return f"{self.action:9} {self.address}: {self.what} ({self.reason})"


@dataclass
class Lowered:
    """The documents of a lowered root and what lowering changed."""

    documents: dict[str, dict]
    target: str
    changes: list[LeftOut]

    def as_dict(self) -> dict:
        return {"target": self.target, "changes": [asdict(c) for c in self.changes]}

    def summary(self) -> str:
        """One line: how many things were left out and rewritten, by resource type or argument."""
        parts = []
        for action in ("left out", "rewritten"):
            counts: dict[str, int] = {}
            for change in self.changes:
                if change.action == action:
                    what = change.what if change.what.startswith("argument ") else change.address.split(".")[0]
                    counts[what] = counts.get(what, 0) + 1
            if counts:
                listed = ", ".join(f"{what} x{n}" for what, n in sorted(counts.items()))
                parts.append(f"{sum(counts.values())} {action} ({listed})")
        return f"lowered to provider {self.target}: " + ("; ".join(parts) or "nothing to change")


# A pass: rewrites `{file: document}` of one root in place, returns what it changed.
Pass = Callable[[dict[str, dict]], list[LeftOut]]


def leave_out(types: Mapping[str, str]) -> Pass:
    """A pass that leaves out every resource of the given types, each with its reason."""
    def run(documents: dict[str, dict]) -> list[LeftOut]:
        changes = []
        for type_, name, _ in list(resources_of(documents)):
            if type_ in types:
                remove_resource(documents, type_, name)
                changes.append(LeftOut(f"{type_}.{name}", type_, "left out", types[type_]))
        return changes
    return run


def _sg_rule(kind: str):
    def rewrite(body: dict) -> tuple[str, dict]:
        rule = {"type": kind, "security_group_id": body["security_group_id"], "protocol": body["ip_protocol"],
                "from_port": body["from_port"], "to_port": body["to_port"]}
        if "cidr_ipv4" in body:
            rule["cidr_blocks"] = [body["cidr_ipv4"]]
        if "referenced_security_group_id" in body:
            rule["source_security_group_id"] = body["referenced_security_group_id"]
        for key in ("description", "provider", "depends_on"):
            if key in body:
                rule[key] = body[key]
        return "aws_security_group_rule", rule
    return rewrite


def _bucket_object(body: dict) -> tuple[str, dict]:
    return "aws_s3_bucket_object", dict(body)


# Features an older provider can express another way: resource type -> new (type, body).
_RESOURCE_REWRITES = {
    "aws_s3_object": (_bucket_object, "as aws_s3_bucket_object (its name before 4.0)"),
    "aws_vpc_security_group_ingress_rule": (_sg_rule("ingress"), "as aws_security_group_rule (type ingress)"),
    "aws_vpc_security_group_egress_rule": (_sg_rule("egress"), "as aws_security_group_rule (type egress)"),
}


def _launch_template_ami(body: dict) -> None:
    template = body.pop("launch_template")
    body["ami"] = rewrite(template["id"], lambda r: f"{r.address}.image_id" if r.path == ("id",) else None)


def _thumbprint(body: dict) -> None:
    body["thumbprint_list"] = [EKS_OIDC_THUMBPRINT]


def _full_node_group_name(body: dict) -> None:
    # One fixed name cannot be created before the group holding it is destroyed: replacements go destroy-first.
    body["node_group_name"] = body.pop("node_group_name_prefix").rstrip("-")
    lifecycle = body.get("lifecycle")
    if isinstance(lifecycle, dict):
        lifecycle.pop("create_before_destroy", None)


def _fold_versioning(body: dict) -> dict | None:
    status = nested(body.get("versioning_configuration")).get("status")
    return {"versioning": {"enabled": status == "Enabled"}} if status in ("Enabled", "Suspended") else None


def _fold_encryption(body: dict) -> dict | None:
    rule = nested(body.get("rule"))
    default = nested(rule.get("apply_server_side_encryption_by_default"))
    if not default or set(rule) - {"apply_server_side_encryption_by_default", "bucket_key_enabled"}:
        return None
    return {"server_side_encryption_configuration": {"rule": rule}}


_LIFECYCLE_FIELDS = {"id", "status", "filter", "abort_incomplete_multipart_upload", "noncurrent_version_expiration",
                     "expiration"}


def _fold_lifecycle(body: dict) -> dict | None:
    rules = []
    for rule in _as_list(body.get("rule")):
        filter_ = nested(rule.get("filter"))
        if set(rule) - _LIFECYCLE_FIELDS or set(filter_) - {"prefix"}:
            return None  # transitions, tag filters, ...: not folded, left out
        old = {"id": rule.get("id"), "enabled": rule.get("status") == "Enabled"}
        if filter_.get("prefix"):
            old["prefix"] = filter_["prefix"]
        if "abort_incomplete_multipart_upload" in rule:
            old["abort_incomplete_multipart_upload_days"] = nested(
                rule["abort_incomplete_multipart_upload"]).get("days_after_initiation")
        if "noncurrent_version_expiration" in rule:
            old["noncurrent_version_expiration"] = {
                "days": nested(rule["noncurrent_version_expiration"]).get("noncurrent_days")}
        if "expiration" in rule:
            old["expiration"] = {k: v for k, v in nested(rule["expiration"]).items()
                                 if k in ("days", "date", "expired_object_delete_marker")}
        rules.append(old)
    return {"lifecycle_rule": rules} if rules else None


# S3 settings 4.0 split into their own resources, which 3.x sets on the bucket: type -> (fold, how).
_BUCKET_FOLDS = {
    "aws_s3_bucket_versioning": (_fold_versioning, "as the bucket's `versioning` block"),
    "aws_s3_bucket_server_side_encryption_configuration": (
        _fold_encryption, "as the bucket's `server_side_encryption_configuration` block"),
    "aws_s3_bucket_lifecycle_configuration": (_fold_lifecycle, "as the bucket's `lifecycle_rule` blocks"),
}


def _bucket_of(value: Any) -> str | None:
    """The `aws_s3_bucket` a setting's `bucket` names (`${aws_s3_bucket.x.id}` or `.bucket`), else None."""
    reference = parse(value).sole_reference if isinstance(value, str) else None
    if reference and reference.type == "aws_s3_bucket" and reference.kind == "resource" and \
            reference.path in (("id",), ("bucket",)):
        return reference.address
    return None


# Argument features an older provider can express another way: feature key -> (rewrite, how).
_ARGUMENT_REWRITES = {
    "aws_instance.launch_template": (_launch_template_ami, "the launch template's image_id as `ami`"),
    "aws_iam_openid_connect_provider.thumbprint_list=absent": (
        _thumbprint, f"thumbprint_list = [EKS OIDC root CA {EKS_OIDC_THUMBPRINT}]"),
    "aws_eks_node_group.node_group_name_prefix": (
        _full_node_group_name, "node_group_name = the prefix without its dash, replaced destroy-first "
        "(create_before_destroy left out)"),
}


def lower(root: Root | Mapping[str, dict], target: Version = OFFLINE, *, passes: Sequence[Pass] = ()) -> Lowered:
    """A root (its index, or `{file: document}` as tfgen writes it) for provider `target`, after `passes`.

    The copy keeps the documents' shape (the index's canonical one for an
    index). Each of `passes` runs in order on the copy before the provider's
    own lowering; their changes are listed with the provider's, and whatever
    referred to a resource a pass removed is left out too.
    """
    index = as_root(root)
    if index.problems:
        raise TfgenError("cannot lower " + "; ".join(str(p) for p in index.problems))
    docs = copy.deepcopy(index.documents if isinstance(root, Root) else dict(root))
    changes: list[LeftOut] = []
    present = {f"{t}.{n}" for t, n, _ in resources_of(docs)}
    for run in passes:
        changes += run(docs)
    dropped = present - {f"{t}.{n}" for t, n, _ in resources_of(docs)}
    changes += _to_provider(docs, target, dropped)
    changes += _cascade(docs, dropped)
    changes += _pin_versions(docs, target)
    changes += _to_terraform_min(docs)
    return Lowered(docs, str(target), sorted(changes, key=lambda c: (c.address, c.what)))


def _to_provider(docs: dict[str, dict], target: Version, dropped: set[str]) -> list[LeftOut]:
    """Leave out or rewrite what provider `target` lacks; adds what it leaves out to `dropped`."""
    changes: list[LeftOut] = []
    renamed: list[tuple[str, str]] = []
    bodies = {f"{type_}.{name}": body for document in docs.values()
              for type_, items in document.get("resource", {}).items() for name, body in items.items()}
    for document in docs.values():
        resources = document.get("resource", {})
        for type_ in list(resources):
            for name in list(resources[type_]):
                body = resources[type_][name]
                address = f"{type_}.{name}"
                for key in uses(type_, body):
                    f = feature(key)
                    if f.minimum <= target:
                        continue
                    reason = f"{f.what}: provider {f.minimum}+" if f.after is None else f"{f.what}: provider {f.since}"
                    if key == type_ and type_ in _RESOURCE_REWRITES:
                        rewrite, how = _RESOURCE_REWRITES[type_]
                        new_type, new_body = rewrite(body)
                        del resources[type_][name]
                        resources.setdefault(new_type, {})[name] = new_body
                        changes.append(LeftOut(address, how, "rewritten", reason))
                        renamed.append((address, f"{new_type}.{name}"))
                        break
                    if key == type_ and type_ in _BUCKET_FOLDS:
                        fold, how = _BUCKET_FOLDS[type_]
                        bucket = _bucket_of(body.get("bucket"))
                        folded = fold(body) if bucket in bodies else None
                        if folded is not None:
                            bodies[bucket].update(folded)
                            del resources[type_][name]
                            changes.append(LeftOut(address, how, "rewritten", reason))
                            renamed.append((address, bucket))
                            break
                    if key == type_:
                        del resources[type_][name]
                        dropped.add(address)
                        changes.append(LeftOut(address, type_, "left out", reason))
                        break
                    if key in _ARGUMENT_REWRITES:
                        rewrite, how = _ARGUMENT_REWRITES[key]
                        rewrite(body)
                        changes.append(LeftOut(address, how, "rewritten", reason))
                        continue
                    argument = key.split(".", 1)[1].split("=", 1)[0]
                    if "." in argument:  # a value inside a block: the resource cannot be kept without it
                        del resources[type_][name]
                        dropped.add(address)
                        changes.append(LeftOut(address, f"{type_} ({argument} = {_value(key)})", "left out",
                                               reason))
                        break
                    body.pop(argument, None)
                    _forget_ignored(body, argument)
                    changes.append(LeftOut(address, f"argument {argument}", "left out", reason))
            if not resources[type_]:
                del resources[type_]
    for old, new in renamed:
        _rename(docs, old, new)
    return changes


def _value(key: str) -> str:
    return key.split("=", 1)[1] if "=" in key else ""


def _forget_ignored(body: dict, argument: str) -> None:
    lifecycle = body.get("lifecycle") or {}
    ignored = lifecycle.get("ignore_changes")
    if isinstance(ignored, list):
        lifecycle["ignore_changes"] = [i for i in ignored if i.split(".")[0].split("[")[0] != argument]


def _mentions(value, addresses: set[str]) -> str | None:
    """The first of `addresses` that `value` (any JSON) refers to."""
    return next((r.address for r in references(value) if r.address in addresses), None)


def _cascade(docs: dict[str, dict], dropped: set[str]) -> list[LeftOut]:
    """Leave out whatever refers to something left out; drop dangling depends_on entries."""
    changes = []
    while True:
        more = False
        for document in docs.values():
            resources = document.get("resource", {})
            for type_ in list(resources):
                for name in list(resources[type_]):
                    body = resources[type_][name]
                    if isinstance(body.get("depends_on"), list):
                        body["depends_on"] = [d for d in body["depends_on"] if d not in dropped]
                        if not body["depends_on"]:
                            del body["depends_on"]
                    culprit = _mentions({k: v for k, v in body.items() if k != "depends_on"}, dropped)
                    if culprit:
                        address = f"{type_}.{name}"
                        del resources[type_][name]
                        dropped.add(address)
                        changes.append(LeftOut(address, type_, "left out", f"refers to {culprit}, left out"))
                        more = True
                if not resources[type_]:
                    del resources[type_]
            for section in ("output", "locals"):
                # `locals` is an object, or (Terraform JSON's other form, as tfgen.terraform.roots reads it)
                # a list of objects.
                tables = _as_list(document.get(section))
                for block in tables:
                    for name in list(block):
                        item = block[name]
                        value = item.get("value") if section == "output" else item
                        if isinstance(value, dict):
                            for field in [k for k, v in value.items() if _mentions(v, dropped)]:
                                changes.append(LeftOut(f"{section}.{name}.{field}", field, "left out",
                                                       f"refers to {_mentions(value[field], dropped)}, left out"))
                                del value[field]
                        elif _mentions(value, dropped):
                            changes.append(LeftOut(f"{section}.{name}", name, "left out",
                                                   f"refers to {_mentions(value, dropped)}, left out"))
                            del block[name]
                if section in document and not any(tables):
                    del document[section]
        if not more:
            return changes


# Meta-arguments whose strings are bare references (`aws_vpc.hub`), not templates.
_BARE = ("depends_on", "replace_triggered_by")


def _rename(docs: dict[str, dict], old: str, new: str) -> None:
    """Every reference to `old` (in templates, `depends_on` and `replace_triggered_by`) made to `new`."""
    def renamed(reference: Reference) -> str | None:
        return new + reference.text[len(old):] if reference.address == old else None

    def walk(value: Any, bare: bool = False) -> Any:
        if isinstance(value, str):
            return rewrite(value, renamed, expression=bare)
        if isinstance(value, list):
            return [walk(item, bare) for item in value]
        if isinstance(value, dict):
            return {key: walk(item, key in _BARE) for key, item in value.items()}
        return value

    for filename, document in docs.items():
        docs[filename] = walk(document)


def _pin_versions(docs: dict[str, dict], target: Version) -> list[LeftOut]:
    changes = []
    for document in docs.values():
        for block in _as_list(document.get("terraform")):
            aws = block.get("required_providers", {}).get("aws")
            if isinstance(aws, dict):
                aws["version"] = str(target)
            # Terraform 1.10 is asked for by S3-native state locking only; an offline copy keeps local state.
            if block.get("required_version") == TERRAFORM_LOCKFILE and \
                    "use_lockfile" in nested(nested(block.get("backend")).get("s3")):
                block["required_version"] = TERRAFORM_DEFAULT
                changes.append(LeftOut("terraform.required_version", f"{TERRAFORM_LOCKFILE} -> "
                                       f"{TERRAFORM_DEFAULT}", "rewritten", "S3-native state locking needs "
                                       "Terraform 1.10; the lowered copy keeps its state locally"))
    return changes


def _to_terraform_min(docs: dict[str, dict]) -> list[LeftOut]:
    """The copy admits Terraform 1.0 (the offline toolchain's): meta-arguments it does not know go.
    `replace_triggered_by` came with Terraform 1.2; provider 3.39 replaces an EKS cluster whose subnets change
    anyway, so a cluster still goes with its VPC."""
    changes = []
    for type_, name, body in resources_of(docs):
        lifecycle = body.get("lifecycle")
        if isinstance(lifecycle, dict) and lifecycle.pop("replace_triggered_by", None) is not None:
            if not lifecycle:
                body.pop("lifecycle")
            changes.append(LeftOut(f"{type_}.{name}", "argument lifecycle.replace_triggered_by", "left out",
                                   f"Terraform 1.2 added it; the offline copy admits Terraform "
                                   f"{TERRAFORM_DEFAULT.removeprefix('>= ')}"))
    return changes


def _as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]

