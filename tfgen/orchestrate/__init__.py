"""`tfgen plan|apply|destroy` over the graph of roots, the sandbox's phases, and the same graph for CI.

graph (the roots and what each needs, read from OUT's manifest; order and
selection), phases (what each root goes through: terraform commands or a call,
and what each phase waits for), terraform (one command's arguments, what its
output says), workspace (in the root with the user's credentials, or on an
offline copy), run (the one scheduler: dependency order, parallelism, failures,
Ctrl-C), report (progress lines, the table, JSON), atlantis and actions (CI
configs).
"""

from .graph import RootGraph, UsageError, read_graph
from .phases import Phase, command_phases
from .report import PhaseResult, RootResult, RunReport, format_phase, format_report
from .run import Approval, Orchestrator, on_signals
from .terraform import Counts
from .workspace import InPlace, Offline, Workspace

__all__ = ["RootGraph", "UsageError", "read_graph", "Phase", "command_phases", "PhaseResult", "RootResult",
           "RunReport", "format_phase", "format_report", "Approval", "Orchestrator", "on_signals", "Counts",
           "InPlace", "Offline", "Workspace"]
