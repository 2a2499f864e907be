"""`tfgen plan|apply|destroy` over the graph of roots, and the same graph for CI.

graph (the roots and what each needs, read from OUT's manifest; order and
selection), terraform (one command per root and phase, what its output says),
workspace (in the root with the user's credentials, or on an offline copy),
run (the scheduler: dependency order, parallelism, failures, Ctrl-C), report
(progress lines, the table, JSON), atlantis and actions (CI configs).
"""

from .graph import RootGraph, UsageError, read_graph
from .report import RunReport, format_phase, format_report
from .run import Approval, Orchestrator
from .workspace import InPlace, Offline, Workspace

__all__ = ["RootGraph", "UsageError", "read_graph", "RunReport", "format_phase", "format_report", "Approval",
           "Orchestrator", "InPlace", "Offline", "Workspace"]
