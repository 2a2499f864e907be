"""What the local AWS double (moto) cannot take as tfgen builds it: lowering passes for the sandbox.

The sandbox copies each root with `copy_root(..., passes=sandbox_passes(resolve))`, so the
double's quirks go through the same `tfgen.terraform.lowering.lower` call as the provider's
own lowering, and every change is listed in the same `Lowered.changes` with its reason:

- `leave_out(UNSUPPORTED)`: resource types the double has no API for (left out, and
  whatever refers to them too);
- `writable_buckets()`: moto evaluates a bucket policy's conditions without the
  request's values, so tfgen's TLS-only Deny refuses every object request; the
  policy of a bucket Terraform writes objects to (the bootstrap's registration
  data) is left out;
- `stand_in_associations()`: the double has no State Manager, so each SSM
  association becomes an SSM parameter in its place in the graph (the same
  references, `depends_on` and lifecycle, named after its document so it is
  replaced when the association would be): the apply log shows where Terraform
  runs the bootstrap, e.g. before a removed edge is destroyed; the run itself is
  not proven;
- `resolve_images(resolve)`: an instance whose launch template names a `resolve:ssm:`
  image gets the AMI id itself, read through `resolve` from the double's SSM, and the
  template is left out;
- `work_around(QUIRKS)`: per resource type, arguments set only in the sandbox and the
  attributes whose drift moto invents (`lifecycle.ignore_changes` in the copy);
- `allow_destroy()`: `lifecycle.prevent_destroy` lifted in the copy (the state bucket and lock
  table keep it as built), so the sandbox can tear down what it applied.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Callable

from ..terraform.index import remove_resource, resources_of
from ..terraform.lowering import LeftOut, Pass, leave_out
from ..terraform.references import parse
from ..terraform.roots import documents_root

__all__ = ["Quirk", "QUIRKS", "UNSUPPORTED", "NOT_CHECKED", "STAND_IN_PREFIX", "work_around", "resolve_images",
           "images_to_resolve", "allow_destroy", "writable_buckets", "stand_in_associations", "sandbox_passes"]

_DOUBLE = "the local AWS double (moto)"
_RESOLVE_SSM = "resolve:ssm:"


@dataclass(frozen=True)
class Quirk:
    """What the sandbox sets on every resource of one type, whose drift it ignores, and why."""

    reason: str
    arguments: dict = field(default_factory=dict)  # a value of None unsets the argument
    ignored: tuple[str, ...] = ()

    @property
    def what(self) -> str:
        return "; ".join(filter(None, [
            ", ".join(f"{k} = {json.dumps(v)}" for k, v in self.arguments.items()),
            f"drift of {', '.join(self.ignored)} ignored" if self.ignored else ""]))


QUIRKS: dict[str, Quirk] = {
    "aws_eks_node_group": Quirk("moto gives every node group a default remote_access", ignored=("remote_access",)),
    "aws_vpc_peering_connection_accepter": Quirk(
        "moto shows a cross-region peering's requester tags on its accepter", ignored=("tags",)),
    # moto reports a default transit gateway route table even when it is disabled, and
    # fails (HTTP 500) when the provider disassociates an attachment from it; it also
    # returns no tags for VPC attachments.
    "aws_ec2_transit_gateway_vpc_attachment": Quirk(
        "moto fails to disassociate an attachment from the default route table and returns no attachment tags",
        arguments={"transit_gateway_default_route_table_association": True,
                   "transit_gateway_default_route_table_propagation": True},
        ignored=("transit_gateway_default_route_table_association", "transit_gateway_default_route_table_propagation",
                 "tags", "tags_all"),
    ),
    "aws_ec2_transit_gateway_peering_attachment_accepter": Quirk(
        "moto shows the requester's tags on the accepter", ignored=("tags",)),
    # moto drops the attachment of a static route through a peering attachment, so the
    # provider reads it back as a blackhole route and would replace it on every plan.
    "aws_ec2_transit_gateway_route": Quirk(
        "moto reads a static route through a peering attachment back as a blackhole",
        ignored=("blackhole", "transit_gateway_attachment_id")),
    # moto has no MonitorInstances (HTTP 500 NotImplementedError): detailed monitoring stays off.
    # With `associate_public_ip_address` set, provider 3.x sends the subnet, the flag and the
    # security groups as a network interface; moto reads that interface's "false" as true (a public
    # IP) and drops its security groups. Unset, the provider sends SubnetId and SecurityGroupIds
    # and moto follows the private subnet's map_public_ip_on_launch (false), which verify checks.
    # moto also reports an instance's security groups on its network interface only (verify reads them there).
    "aws_instance": Quirk(
        f"{_DOUBLE} has no MonitorInstances API, mishandles the network-interface form of RunInstances "
        "(the private subnet's default, no public IP, applies) and reports security groups on the network "
        "interface only",
        arguments={"monitoring": False, "associate_public_ip_address": None},
        ignored=("monitoring", "vpc_security_group_ids")),
}

# Resource types the double cannot create or read back.
UNSUPPORTED: dict[str, str] = {
    "aws_eks_addon": f"{_DOUBLE} has no EKS add-on API",
    "aws_eks_access_entry": f"{_DOUBLE} has no EKS access entry API",
    "aws_eks_access_policy_association": f"{_DOUBLE} has no EKS access entry API",
    "aws_eks_pod_identity_association": f"{_DOUBLE} has no EKS Pod Identity API",
    # moto sets the key (ModifyEbsDefaultKmsKeyId) but has no GetEbsDefaultKmsKeyId, which the
    # provider calls after every create and refresh. Encryption by default itself is kept.
    "aws_ebs_default_kms_key": f"{_DOUBLE} cannot read the EBS default KMS key back (no GetEbsDefaultKmsKeyId)",
}
# What the API checks cannot see, because the double has no such API (reported with every run).
NOT_CHECKED = ("EKS access entries and their access policy associations", "EKS add-ons",
               "EKS Pod Identity associations", "the EBS default KMS key",
               "the bootstrap bucket's TLS-only policy (left out: the double would refuse every object in it)",
               "the GitOps bootstrap's run (its SSM association stands in as an SSM parameter: where Terraform runs "
               "it is applied, the run is not; the document, its script and the registration data are checked)")
# The parameter that stands in for an SSM association in the double (`stand_in_associations`).
STAND_IN_PREFIX = "/tfgen-sandbox/association/"


def writable_buckets() -> Pass:
    """A pass that leaves out the policy of every bucket an `aws_s3_object` of the root writes to: moto
    evaluates its TLS-only Deny (`aws:SecureTransport` false) without the request's values, and refuses
    every object request. Buckets nobody writes to (the state bucket) keep theirs."""
    def run(documents: dict[str, dict]) -> list[LeftOut]:
        written = {r.address for type_, _, body in resources_of(documents) if type_ == "aws_s3_object"
                   for r in parse(str(body.get("bucket", ""))).references}
        changes = []
        for type_, name, body in list(resources_of(documents)):
            bucket = {r.address for r in parse(str(body.get("bucket", ""))).references}
            if type_ == "aws_s3_bucket_policy" and bucket & written:
                remove_resource(documents, type_, name)
                changes.append(LeftOut(f"{type_}.{name}", type_, "left out", f"{_DOUBLE} evaluates a bucket policy's "
                                       "conditions without the request's values: its TLS-only Deny would refuse "
                                       "every object Terraform writes to the bucket"))
        return changes
    return run


def stand_in_associations() -> Pass:
    """A pass that puts an `aws_ssm_parameter` where each `aws_ssm_association` is: the double has SSM documents
    and parameters but no State Manager. Same address name, references (document name and version, targets,
    output bucket), `depends_on` and lifecycle; named `STAND_IN_PREFIX` + the document's name, so a new document
    replaces it as it replaces the association (its `name` forces a new one too)."""
    def run(documents: dict[str, dict]) -> list[LeftOut]:
        changes = []
        for document in documents.values():
            associations = (document.get("resource") or {}).pop("aws_ssm_association", None) or {}
            for name, body in associations.items():
                targets = [v for t in body.get("targets") or [] for v in t.get("values") or []]
                named = [body.get("document_version", ""), *targets,
                         (body.get("output_location") or {}).get("s3_bucket_name", "")]
                stand_in = {"name": STAND_IN_PREFIX + str(body.get("name", "")), "type": "String",
                            "value": " ".join(str(v) for v in named if v), "provider": body.get("provider")}
                stand_in.update({k: body[k] for k in ("depends_on", "lifecycle") if k in body})
                document["resource"].setdefault("aws_ssm_parameter", {})[name] = stand_in
                changes.append(LeftOut(f"aws_ssm_association.{name}", f"as aws_ssm_parameter.{name}, in its place "
                                       "in the graph", "rewritten", f"{_DOUBLE} has SSM documents but no State Manager "
                                       "associations (nor a Kubernetes API for the bootstrap to write to)"))
        return changes
    return run


def work_around(quirks: dict[str, Quirk] = QUIRKS) -> Pass:
    """A pass that sets each quirk's arguments and ignores the drift it names, on every resource of its type."""
    def run(documents: dict[str, dict]) -> list[LeftOut]:
        changes = []
        for type_, name, body in resources_of(documents):
            quirk = quirks.get(type_)
            if quirk is None:
                continue
            for key, value in quirk.arguments.items():
                if value is None:
                    body.pop(key, None)
                else:
                    body[key] = value
            if quirk.ignored:
                lifecycle = body.setdefault("lifecycle", {})
                ignored = list(lifecycle.get("ignore_changes", []))
                lifecycle["ignore_changes"] = ignored + [i for i in quirk.ignored if i not in ignored]
            changes.append(LeftOut(f"{type_}.{name}", quirk.what, "sandbox quirk", quirk.reason))
        return changes
    return run


def resolve_images(resolve: Callable[[str, str], str]) -> Pass:
    """A pass for instances whose launch template's image is a `resolve:ssm:` parameter: the instance
    gets the AMI id `resolve(region, parameter)` returns (moto ships AWS's public AMI parameters but
    does not resolve `resolve:ssm:` in RunInstances), and the template is left out: moto copies the
    template's own tags into its data, so provider 3.x would plan a new template version after every
    apply (Terraform 1.0's ignore_changes does not hide it)."""
    def run(documents: dict[str, dict]) -> list[LeftOut]:
        root = documents_root(documents)
        changes, used = [], set()
        for type_, name, body in resources_of(documents):
            if type_ != "aws_instance" or not isinstance(body.get("launch_template"), dict):
                continue
            template = _template(body["launch_template"].get("id"))
            image = str(root.body(template).get("image_id", "")) if template else ""
            if not image.startswith(_RESOLVE_SSM):
                continue
            parameter = image[len(_RESOLVE_SSM):]
            value = resolve(root.region_of(root.resources[f"aws_instance.{name}"]) or "", parameter)
            del body["launch_template"]
            body["ami"] = value
            used.add(template)
            changes.append(LeftOut(f"aws_instance.{name}", f"ami = {value} ({parameter} in the double's SSM)",
                                   "rewritten", f"{_DOUBLE} does not resolve resolve:ssm: image ids"))
        for template in sorted(used):
            remove_resource(documents, *template.split(".", 1))
            changes.append(LeftOut(template, "aws_launch_template", "left out",
                                   f"{_DOUBLE} copies a launch template's own tags into its data, so every "
                                   "plan would want a new version"))
        return changes
    return run


def _template(value) -> str | None:
    """The launch template an instance's `launch_template.id` names (`${aws_launch_template.x.id}`)."""
    reference = parse(value).sole_reference if isinstance(value, str) else None
    if reference and reference.kind == "resource" and reference.type == "aws_launch_template" \
            and reference.path == ("id",):
        return reference.address
    return None


def images_to_resolve(documents: dict[str, dict]) -> set[tuple[str, str]]:
    """(region, parameter) of every image `resolve_images` would ask for in a root (its documents untouched)."""
    asked: set[tuple[str, str]] = set()

    def record(region: str, parameter: str) -> str:
        asked.add((region, parameter))
        return "ami-00000000000000000"

    resolve_images(record)(copy.deepcopy(documents))
    return asked


def allow_destroy() -> Pass:
    """A pass that lifts `prevent_destroy` on every resource of the copy, listing each one."""
    def run(documents: dict[str, dict]) -> list[LeftOut]:
        changes = []
        for type_, name, body in resources_of(documents):
            lifecycle = body.get("lifecycle") or {}
            if lifecycle.pop("prevent_destroy", False):
                if not lifecycle:
                    body.pop("lifecycle", None)
                changes.append(LeftOut(f"{type_}.{name}", "prevent_destroy lifted", "sandbox quirk",
                                       "the sandbox destroys what it applied; the built root keeps it"))
        return changes
    return run


def sandbox_passes(resolve: Callable[[str, str], str]) -> tuple[Pass, ...]:
    """The double's passes, in order; `resolve(region, parameter)` reads an SSM parameter from the double."""
    return (leave_out(UNSUPPORTED), writable_buckets(), stand_in_associations(), resolve_images(resolve),
            work_around(QUIRKS), allow_destroy())
