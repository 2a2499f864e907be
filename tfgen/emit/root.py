"""The `terraform` block and one aliased `aws` provider per region."""

from __future__ import annotations

from ..derive import naming
from ..derive.tags import standard_tags
from ..derive.context import EnvironmentContext
from .document import Document

__all__ = ["emit_terraform", "emit_providers"]


def emit_terraform(ctx: EnvironmentContext) -> Document:
    fleet = ctx.fleet
    doc = Document()
    block = {
        "required_version": fleet.required_terraform,
        "required_providers": {"aws": {"source": "hashicorp/aws", "version": fleet.aws_provider}},
    }
    state = fleet.state
    if state.backend == "s3":
        # No `encrypt`: it would send SSE-S3 headers; objects take the bucket's default SSE-KMS (see emit/state.py).
        s3 = {"bucket": state.bucket, "key": state.key(ctx.env.name), "region": state.region}
        if state.lock_table:
            s3["dynamodb_table"] = state.lock_table
        else:
            s3["use_lockfile"] = True
        block["backend"] = {"s3": s3}
    doc.terraform(**block)
    return doc


def emit_providers(ctx: EnvironmentContext) -> Document:
    doc = Document()
    for region in ctx.regions:
        settings = {
            "alias": naming.alias(region),
            "region": region,
            "default_tags": {"tags": standard_tags(ctx.fleet.tags, ctx.fleet.project, ctx.env.name)},
        }
        if ctx.env.assume_role:
            settings["assume_role"] = {
                "role_arn": ctx.env.assume_role,
                "session_name": naming.aws_name("tfgen", ctx.fleet.project, ctx.env.name),
            }
        doc.provider("aws", **settings)
    return doc
