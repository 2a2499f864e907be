"""Apply a fleet to a local AWS double, verify it through the API, prove idempotence, tear it down.

    from tfgen.sandbox import Sandbox

    with Sandbox(tfgen.load("fleet.yaml")) as sandbox:
        report = sandbox.run(["development"])
    assert report.ok

One job per module: `double` runs moto's server (an account per environment), `quirks` holds the
double's lowering passes, `prepare` makes the scratch copies of the roots through them, `workspace`
is where the orchestrator runs them, `phases` says what each root goes through (for the orchestrator,
`tfgen.orchestrate`, which schedules them), `expectation` says what the model should have created,
`verify` (one module per subject) checks it through boto3, `inventory` lists what exists, `report`
joins each environment's roots' phases and formats results, `runner` is the `Sandbox` that ties them.
"""

from .double import AwsDouble, DoubleStopped
from .expectation import Expectation, expect_environment
from .inventory import RegionInventory, take_inventory
from .phases import PHASES
from .report import EnvironmentReport, Lowering, PhaseResult, SandboxReport, format_phase, format_report
from .runner import Sandbox
from .verify import CHECKS, Check, check_nothing_left, verify_environment

__all__ = [
    "Sandbox",
    "PHASES",
    "AwsDouble",
    "DoubleStopped",
    "Expectation",
    "expect_environment",
    "Check",
    "CHECKS",
    "verify_environment",
    "check_nothing_left",
    "RegionInventory",
    "take_inventory",
    "PhaseResult",
    "Lowering",
    "EnvironmentReport",
    "SandboxReport",
    "format_phase",
    "format_report",
]
