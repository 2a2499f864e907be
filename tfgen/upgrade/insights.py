"""EKS upgrade insights of the clusters the next step touches: an ERROR insight stops the upgrade (CHG572).

EKS refreshes upgrade insights every 24 hours (`ListInsights`, `DescribeInsight`;
categories `UPGRADE_READINESS` and `MISCONFIGURATION`): deprecated APIs still in
use, kubelets too far behind, add-ons that do not support the next version.
`check_steps` reads them for every cluster of each environment's next step
(boto3, the sandbox extra's), filtered to the version the step moves to, and
returns a report; without boto3 or credentials it says it did not check, never
that the clusters are ready. `clients` (region, environment -> an EKS client) is
how tests give recorded responses (botocore's Stubber).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from ..derive import naming
from ..errors import Finding
from ..model import Fleet
from .aws import Access, EnvironmentSessions, default_connect
from .planner import Step

__all__ = ["Insight", "InsightsReport", "check_steps", "aws_clients"]

CATEGORIES = ("UPGRADE_READINESS", "MISCONFIGURATION")
Clients = Callable[[str, str], Any]  # (region, environment) -> an EKS client


@dataclass(frozen=True)
class Insight:
    """One EKS insight about one cluster."""

    cluster: str  # env/region/cluster
    id: str
    name: str
    category: str
    status: str  # PASSING, WARNING, ERROR, UNKNOWN
    reason: str
    recommendation: str = ""


@dataclass
class InsightsReport:
    """What `--check` read: the clusters checked, those it could not check and why, every insight, and a
    CHG572 finding per ERROR insight."""

    checked: list[str] = field(default_factory=list)
    unchecked: list[tuple[str, str]] = field(default_factory=list)
    insights: list[Insight] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    def format(self) -> str:
        lines = []
        if self.checked:
            lines.append(f"upgrade insights of {len(self.checked)} cluster(s): " + ", ".join(self.checked))
        for i in self.insights:
            lines.append(f"  {i.cluster}: {i.status} {i.name} ({i.category})" + (f": {i.reason}" if i.reason else ""))
        for cluster, why in self.unchecked:
            lines.append(f"  {cluster}: NOT CHECKED: {why}")
        if not self.checked and self.unchecked:
            lines.append("tfgen upgrade --check did not check upgrade readiness; check the insights in the EKS "
                         "console or with `aws eks list-insights` before applying")
        return "\n".join(lines)


def aws_clients() -> Clients | None:
    """EKS clients from the default credential chain (assuming an environment's `assume_role` where it has
    one, once per role: `tfgen.upgrade.aws`), or None when boto3 is missing or finds no credentials."""
    connect = default_connect()
    if connect is None:
        return None
    sessions = EnvironmentSessions(connect)
    return lambda region, role: sessions.client(role or "", Access(role, "tfgen-upgrade-check"), "eks", region)


def _insights(client, name: str, version: str) -> list[dict]:
    summaries, token = [], None
    while True:
        args: dict[str, Any] = {"clusterName": name,
                                "filter": {"categories": list(CATEGORIES), "kubernetesVersions": [version]}}
        if token:
            args["nextToken"] = token
        page = client.list_insights(**args)
        summaries += page.get("insights", [])
        token = page.get("nextToken")
        if not token:
            return summaries


def check_steps(fleet: Fleet, steps: list[Step], *, target: str, clients: Clients | None = None) -> InsightsReport:
    """The insights of every cluster of `steps` (one per environment: its next), for the version each step
    moves to; `clients` defaults to `aws_clients()` (None: nothing is checked, and the report says so)."""
    report = InsightsReport()
    clients = clients if clients is not None else aws_clients()
    for step in steps:
        env = fleet.environment(step.environment)
        version = step.after
        for path in step.clusters:
            region, _, name = path.partition("/")
            where = f"{env.name}/{path}"
            if clients is None:
                report.unchecked.append((where, "no AWS credentials (or boto3 missing: pip install "
                                                "'tfgen-fleet[sandbox]')"))
                continue
            eks_name = naming.eks_cluster_name(fleet.project, env.name, region, name)
            try:
                client = clients(region, env.assume_role)
                summaries = _insights(client, eks_name, version)
                for summary in summaries:
                    status = (summary.get("insightStatus") or {}).get("status", "UNKNOWN")
                    reason = (summary.get("insightStatus") or {}).get("reason", "")
                    recommendation = ""
                    if status == "ERROR":
                        detail = client.describe_insight(clusterName=eks_name, id=summary["id"]).get("insight", {})
                        recommendation = detail.get("recommendation", "")
                    report.insights.append(Insight(where, summary.get("id", ""), summary.get("name", ""),
                                                   summary.get("category", ""), status, reason, recommendation))
            except Exception as exc:  # botocore's errors: the cluster is reported unchecked, never ready
                report.unchecked.append((where, f"{type(exc).__name__}: {exc}"))
                continue
            report.checked.append(where)
    for insight in report.insights:
        if insight.status == "ERROR":
            report.findings.append(Finding(
                "CHG572", f"EKS upgrade insight {insight.name!r} is ERROR for Kubernetes {target} on "
                f"{insight.cluster}: {insight.reason}",
                insight.recommendation or f"resolve it (aws eks describe-insight --id {insight.id}), wait for "
                "the insight to refresh (every 24 h), then run tfgen upgrade --check again", path=insight.cluster))
    return report
