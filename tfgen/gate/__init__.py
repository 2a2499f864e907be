"""The policy gate: checkov plus tfgen's policies over generated root modules.

`check_output` finds every root module under an output directory, scans them
in one checkov run (framework `terraform_json`) with tfgen's policies
(`tfgen.policies`, the repository's `policies/`) and any user policy
directories, optionally plans each root offline and scans the plan JSON
(framework `terraform_plan`), applies the reviewed suppressions, and returns a
`GateReport` that renders as text, JSON, SARIF or JUnit XML.

checkov runs as a child process, fully offline: platform downloads and the
update check are off, and every HTTP(S) request goes to a closed local port,
so the result is the same with or without a network.

Modules: `results` (what a run finds), `scan` (checkov and tfgen's module
rules, offline), `runner` (checkov as a child process), `catalog` (every check the gate runs, and the
selection of `--check`/`--skip-check`), `waivers` (tfgen's suppressions and the user's tfgen-waivers.toml),
`locate` (file:line of an address), `sources` (the spec line that produced a resource), `formats` (text,
JSON, SARIF, JUnit XML).
"""

from importlib import import_module

# The report formats of `tfgen check`: here, so the command line can offer them without importing the gate.
FORMATS = ("text", "json", "sarif", "junitxml")

# public name -> the module of this package that defines it; imported on first use (PEP 562).
_HOMES = {
    "render_report": "formats", "write_report": "formats",
    "CONFIGURATION_ONLY": "results", "FAILED": "results", "PASSED": "results",
    "SUPPRESSED": "results", "GateReport": "results", "GateResult": "results", "Suppression": "results",
    "check_output": "scan", "find_roots": "scan", "load_suppressions": "waivers", "policy_dir": "scan",
    "run_checkov": "runner", "WAIVERS_FILE": "waivers", "Check": "catalog", "gate_checks": "catalog",
    "render_list": "catalog",
}

__all__ = [
    "PASSED",
    "FAILED",
    "SUPPRESSED",
    "FORMATS",
    "CONFIGURATION_ONLY",
    "Suppression",
    "GateResult",
    "GateReport",
    "policy_dir",
    "find_roots",
    "load_suppressions",
    "check_output",
    "run_checkov",
    "render_report",
    "write_report",
    "WAIVERS_FILE",
    "Check",
    "gate_checks",
    "render_list",
]


def __getattr__(name: str):
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'tfgen.gate' has no attribute {name!r}")
    value = getattr(import_module(f".{home}", __name__), name)
    globals()[name] = value
    return value
