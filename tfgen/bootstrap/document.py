"""The SSM document that runs the bootstrap script on the bastion (content only; emit writes the resource).

`aws_ssm_document` (document_type Command, schemaVersion 2.2) with one
`aws:runShellScript` step whose lines are the script escaped for Terraform
(`script.for_terraform`): Terraform fills in the TerraformRefs at apply, SSM runs
the lines as one file (its `#!/usr/bin/env bash` line picks bash). Everything in it
is readable by whoever can read the document: it holds no secret.
"""

from __future__ import annotations

from .script import for_terraform

__all__ = ["document_content"]


def document_content(script: str, *, timeout_seconds: int = 1800) -> dict:
    """The document's content for `script` (as `render_script` made it), for Terraform JSON's `content`."""
    return {
        "schemaVersion": "2.2",
        "description": "tfgen: install Argo CD on the hub and register its edges",
        "mainSteps": [{
            "action": "aws:runShellScript",
            "name": "tfgenBootstrap",
            "inputs": {"runCommand": for_terraform(script).splitlines(), "timeoutSeconds": str(timeout_seconds)},
        }],
    }
