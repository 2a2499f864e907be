"""Running checkov as a child process, offline and without credentials: the scans, and the list of its checks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from ..errors import PolicyError
from .results import _CHECKOV_TIMEOUT, _NO_NETWORK

__all__ = ["run_checkov", "checkov_checks"]


# Credentials never reach checkov: `--policies` directories are Python that it runs.
_SECRET_PREFIXES = ("AWS_", "ACTIONS_", "GITLAB_", "GITHUB_TOKEN", "GH_TOKEN", "CI_JOB_", "CI_REGISTRY_",
                    "AZURE_", "ARM_", "GOOGLE_", "VAULT_", "TF_TOKEN_", "TFE_", "BC_", "PRISMA_", "CKV_", "CHECKOV_")
_SECRET_SUFFIXES = ("_TOKEN", "_SECRET", "_PASSWORD", "_CREDENTIALS", "_API_KEY", "_ACCESS_KEY", "_PRIVATE_KEY")


def _credential(name: str) -> bool:
    upper = name.upper()
    return upper.startswith(_SECRET_PREFIXES) or upper.endswith(_SECRET_SUFFIXES)


def _checkov_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not _credential(k) and k.lower() not in ("http_proxy", "https_proxy", "all_proxy", "no_proxy")}
    env.update({
        "BC_SKIP_MAPPING": "TRUE",
        "CKV_SKIP_PACKAGE_UPDATE_CHECK": "TRUE",
        "CHECKOV_EXPERIMENTAL_TERRAFORM_MANAGED_MODULES": "FALSE",
        "HTTP_PROXY": _NO_NETWORK,
        "HTTPS_PROXY": _NO_NETWORK,
        "http_proxy": _NO_NETWORK,
        "https_proxy": _NO_NETWORK,
        "NO_PROXY": "",
        "PYTHONWARNINGS": "ignore",
        "LOG_LEVEL": "ERROR",
    })
    return env


def _require_checkov() -> None:
    try:
        import checkov  # noqa: F401
    except ImportError:
        raise PolicyError("checkov is not installed; install tfgen-fleet[policy]") from None


def run_checkov(targets: list[Path], *, framework: str, policies: list[Path],
                skip: tuple[str, ...] = (), only: tuple[str, ...] = ()) -> list[dict]:
    """checkov's JSON reports for `targets` (directories, or plan files for terraform_plan)."""
    _require_checkov()
    # `--directory=DIR` (not `-d DIR`): checkov then reads no .checkov.yaml from the scanned
    # directory, and the clean working and home directories hold none either, so no stray
    # config file can skip checks behind the gate's back.
    flag = "--file" if framework == "terraform_plan" else "--directory"
    command = [sys.executable, "-m", "checkov.main", "--framework", framework, "--skip-download",
               "--output", "json", "--compact"]
    command += [f"{flag}={Path(target).resolve()}" for target in targets]
    command += [f"--external-checks-dir={Path(directory).resolve()}" for directory in policies]
    if only:
        command += ["--check", ",".join(only)]
    if skip:
        command += ["--skip-check", ",".join(skip)]
    with tempfile.TemporaryDirectory(prefix="tfgen-checkov-") as clean:
        env = _checkov_env()
        env.update({"HOME": clean, "XDG_CACHE_HOME": clean, "XDG_CONFIG_HOME": clean})
        try:
            done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=clean,
                                  timeout=_CHECKOV_TIMEOUT, check=False)
        except subprocess.TimeoutExpired:
            raise PolicyError(f"checkov did not finish in {_CHECKOV_TIMEOUT} s; scan fewer roots at once") from None
    if done.returncode not in (0, 1):
        raise PolicyError(f"checkov failed (exit {done.returncode}): {_tail(done.stderr)}")
    reports = _json_documents(done.stdout)
    if not reports:
        raise PolicyError(f"checkov printed no JSON report: {_tail(done.stderr or done.stdout)}")
    return [r for r in reports if "results" in r or "summary" in r]


def _json_documents(text: str) -> list[dict]:
    """checkov prints one JSON document per scanned directory, back to back."""
    decoder, found, position = json.JSONDecoder(), [], 0
    text = text.strip()
    while position < len(text):
        try:
            document, position = decoder.raw_decode(text, position)
        except ValueError:
            break
        found.extend(document if isinstance(document, list) else [document])
        while position < len(text) and text[position].isspace():
            position += 1
    return found


def _tail(text: str, lines: int = 8) -> str:
    return "\n".join(text.strip().splitlines()[-lines:]) or "no output"



# Asked in a child process, as a scan is: the policy directories are Python that checkov imports.
_LIST = """
import inspect, json, sys
from checkov.common.checks_infra.registry import get_graph_checks_registry
from checkov.terraform.checks.data.registry import data_registry
from checkov.terraform.checks.module.registry import module_registry
from checkov.terraform.checks.provider.registry import provider_registry
from checkov.terraform.checks.resource.registry import resource_registry
for directory in sys.argv[1:]:
    resource_registry.load_external_checks(directory)
graph = get_graph_checks_registry("terraform")
graph.load_checks()
for directory in sys.argv[1:]:
    graph.load_external_checks(directory)
found = {}
for registry in (resource_registry, data_registry, provider_registry, module_registry):
    for _, check in registry.all_checks():
        found.setdefault(check.id, [check.name, inspect.getfile(check.__class__)])
for check in graph.checks:
    found.setdefault(check.id, [check.name, check.check_path or ""])
json.dump(found, sys.stdout)
"""


def checkov_checks(policies: list[Path]) -> dict[str, tuple[str, str]]:
    """`{check id: (title, file that defines it)}` of every check checkov runs on Terraform with `policies`."""
    _require_checkov()
    with tempfile.TemporaryDirectory(prefix="tfgen-checkov-") as clean:
        env = _checkov_env()
        env.update({"HOME": clean, "XDG_CACHE_HOME": clean, "XDG_CONFIG_HOME": clean})
        try:
            done = subprocess.run([sys.executable, "-c", _LIST, *(str(Path(p).resolve()) for p in policies)],
                                  capture_output=True, text=True, env=env, cwd=clean, timeout=_CHECKOV_TIMEOUT,
                                  check=False)
        except subprocess.TimeoutExpired:
            raise PolicyError(f"checkov did not list its checks in {_CHECKOV_TIMEOUT} s") from None
    try:
        found = json.loads(done.stdout)
    except ValueError:
        raise PolicyError(f"checkov could not list its checks (exit {done.returncode}): {_tail(done.stderr)}; "
                          "fix the policy directory it names") from None
    return {check: (title, path) for check, (title, path) in found.items()}
