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
rules, offline), `locate` (file:line of an address), `formats` (text, JSON, SARIF, JUnit XML).
"""

from .formats import render_report, write_report
from .results import (
    CONFIGURATION_ONLY,
    FAILED,
    FORMATS,
    PASSED,
    SUPPRESSED,
    GateReport,
    GateResult,
    Suppression,
)
from .scan import check_output, find_roots, load_suppressions, policy_dir, run_checkov

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
]
