"""Run one terraform command in a sandbox root, under watch: `tfgen.terraform.run`, which the orchestrator shares."""

from ..terraform.run import TerraformResult, run_terraform, terraform_errors  # noqa: F401 (re-export)

__all__ = ["TerraformResult", "run_terraform", "terraform_errors"]
