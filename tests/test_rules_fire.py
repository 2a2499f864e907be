"""Every finding code fires. `TRIGGERS` maps a code to the smallest input that makes it fire, run through the
path a user runs (`tfgen validate --format json`, `tfgen.validate` and `tfgen.build` on a Python fleet, the
GitOps path check build and `tfgen check` run, `tfgen check` itself), and each test asserts the code fires
with the severity the registry gives it (a code of two severities has a trigger for each) and that every
code the input fires is registered. Codes with a tests/bad_specs/*.yaml corpus entry are proven there;
tests/test_registry.py holds that every registered code is proven in one place or the other."""

from __future__ import annotations

import copy
import ipaddress
import json
import shutil
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable

import pytest

import tfgen
from tfgen.cli import main
from tfgen.errors import FindingsError
from tfgen.rules import registry
from tests.conftest import ROOT, write_spec

RULES = registry().rules
ADMINS = 'access: {admins: ["arn:aws:iam::123456789012:role/platform-admin"]}'
EDGE = "      us-east-2: {{cidr: 10.11.0.0/16{edge}}}\n"
TWO_REGIONS = "      us-west-2: {cidr: 10.12.0.0/16}\n"
# A valid spec with nothing to report: a hub, one edge, an admin.
SMALL = ("project: demo\nenvironments:\n  dev:\n    account_id: \"123456789012\"\n    " + ADMINS + "\n"
         "    hub: {region: us-east-1, cidr: 10.10.0.0/16}\n    regions:\n      us-east-2: {cidr: 10.11.0.0/16}\n")

Fired = set[tuple[str, str]]  # (code, severity)


def _fired(findings) -> Fired:
    return {(f.code, f.severity.value) for f in findings}


@dataclass(frozen=True)
class Spec:
    """A spec through `tfgen validate SPEC --format json` (with `args`, environment variables `environ`, and
    an allocations file holding `allocations`)."""

    text: str
    args: tuple[str, ...] = ()
    environ: dict[str, str] = field(default_factory=dict)
    allocations: str | None = None
    severity: str = ""

    def fire(self, tmp_path: Path, monkeypatch, capsys) -> Fired:
        for name, value in self.environ.items():
            monkeypatch.setenv(name, value)
        path = write_spec(tmp_path, self.text)
        args = list(self.args)
        if self.allocations is not None:
            record = tmp_path / "fleet.allocations.yaml"
            record.write_text(self.allocations)
            args += ["--allocations", str(record)]
        main(["validate", str(path), "--format", "json", *args])
        report = json.loads(capsys.readouterr().out)
        found = report["fleet"] + [f for fs in report["environments"].values() for f in fs]
        return {(f["code"], f["severity"]) for f in found}


def spec(*, top: str = "", env: str = "", hub: str = "", edge: str = "", regions: str | None = None,
         project: str = "demo", **options) -> Spec:
    """SMALL with lines added at the top (`top`) and in the environment (`env`, indented four spaces),
    keys added to the hub's and the edge's flow mappings (`hub`, `edge`: `, nat: many`), or other regions."""
    text = (f"project: {project}\n{top}environments:\n  dev:\n    account_id: \"123456789012\"\n    {ADMINS}\n{env}"
            f"    hub: {{region: us-east-1, cidr: 10.10.0.0/16{hub}}}\n    regions:\n"
            + (EDGE.format(edge=edge) if regions is None else regions))
    return Spec(text, **options)


@dataclass(frozen=True)
class Python:
    """A fleet built in Python, through `tfgen.validate` (or `tfgen.build`, whose refusals are FindingsError)."""

    make: Callable[[], tfgen.Fleet]
    build: bool = False
    strict: bool = False
    severity: str = ""

    def fire(self, tmp_path: Path, monkeypatch, capsys) -> Fired:
        if not self.build:
            return _validated(self.make, self.strict)
        with pytest.raises(FindingsError) as refused:
            tfgen.build(self.make(), tmp_path / "out")
        assert not (tmp_path / "out").exists(), "a refused build wrote something"
        return _fired(refused.value.findings)


@lru_cache(maxsize=None)
def _validated(make: Callable[[], tfgen.Fleet], strict: bool) -> Fired:
    """What `tfgen.validate` finds on the fleet `make` builds, once per fleet (two codes share the largest)."""
    return _fired(tfgen.validate(make(), strict=strict))


@dataclass(frozen=True)
class Rebuild:
    """A spec built into OUT with `tfgen build`, then built again as `after` (with `allow_destroy`): what refused
    it, or the warnings it passed over."""

    before: str
    after: str
    severity: str = ""
    allow_destroy: tuple[str, ...] = ()
    allow_replace: tuple[str, ...] = ()

    def fire(self, tmp_path: Path, monkeypatch, capsys) -> Fired:
        out = tmp_path / "out"
        assert main(["build", str(write_spec(tmp_path, self.before)), "--out", str(out)]) == 0
        capsys.readouterr()
        try:
            result = tfgen.build(tfgen.load(write_spec(tmp_path, self.after)), out, allow_destroy=self.allow_destroy,
                                 allow_replace=self.allow_replace)
        except FindingsError as refused:
            return _fired(refused.findings)
        return _fired(result.warnings)


@dataclass(frozen=True)
class Emitted:
    """SMALL's emitted documents changed by `tamper`, through the GitOps path check, both as `tfgen check`
    runs it (on the documents alone) and as `tfgen build` does (expecting the model's edges)."""

    tamper: Callable[[dict], None]
    severity: str = ""

    def fire(self, tmp_path: Path, monkeypatch, capsys) -> Fired:
        from tfgen.checks.gitops_output import check_gitops_output, expected_of

        fleet, documents = _small_emitted()
        docs = copy.deepcopy(documents)
        self.tamper(docs)
        in_check = _fired(check_gitops_output("dev", docs))
        in_build = _fired(check_gitops_output("dev", docs, expected=expected_of(fleet.environment("dev"))))
        assert in_check == in_build, (in_check, in_build)
        return in_check


@lru_cache(maxsize=1)
def _small_emitted():
    from tfgen.pipeline import prepare

    prepared = prepare(tfgen.loads(SMALL))
    assert prepared.findings == [], [f.format() for f in prepared.findings]
    return prepared.fleet, prepared.documents["dev"]


@dataclass(frozen=True)
class Steps:
    """SMALL with `edge` added to the edge's flow mapping, against a previous build that gave the edge (and, as
    `edge/<group>`, its node groups) the versions of `previous`, through the version step rule the lifecycle
    stage runs (`tfgen.lifecycle.versions`)."""

    edge: str
    previous: tuple[tuple[str, str], ...]
    addons: tuple[tuple[str, str], ...] = ()
    severity: str = ""

    def fire(self, tmp_path: Path, monkeypatch, capsys) -> Fired:
        from tfgen.lifecycle.versions import check_version_steps

        fleet = tfgen.loads(SMALL.replace("{cidr: 10.11.0.0/16}", "{cidr: 10.11.0.0/16" + self.edge + "}"))
        return _fired(check_version_steps(fleet, {f"dev/us-east-2/{k}": v for k, v in self.previous},
                                          addons={f"dev/us-east-2/{k}": v for k, v in self.addons}))


@dataclass(frozen=True)
class Upgrade:
    """SMALL planned to `to` by `tfgen upgrade`'s planner; with `insight`, its next step checked against a
    recorded EKS insight of that status (the AWS double has no insights API)."""

    to: str
    insight: str = ""
    severity: str = ""

    def fire(self, tmp_path: Path, monkeypatch, capsys) -> Fired:
        from datetime import date

        from tfgen.upgrade import plan_upgrade
        from tfgen.upgrade.insights import check_steps

        fleet = tfgen.loads(SMALL)
        try:
            plan = plan_upgrade(fleet, self.to, today=date(2026, 12, 7))
        except FindingsError as exc:
            return _fired(exc.findings)
        summary = {"id": "a1", "name": "Deprecated APIs removed", "category": "UPGRADE_READINESS",
                   "insightStatus": {"status": self.insight, "reason": "in use"}}

        class Recorded:
            def list_insights(self, **_):
                return {"insights": [summary]}

            def describe_insight(self, **_):
                return {"insight": {"id": "a1", "recommendation": "move clients to the newer API"}}

        report = check_steps(fleet, [plan.environments[0].steps[0]], target=self.to,
                             clients=lambda region, role: Recorded())
        return _fired(report.findings)


@dataclass(frozen=True)
class Gate:
    """A root `tfgen check` scans (slow: checkov): a copy of a tests/policy_fixtures directory, or `files`."""

    fixture: str = ""
    files: dict[str, str] = field(default_factory=dict)
    severity: str = ""

    def write(self, root: Path) -> None:
        if self.fixture:
            shutil.copytree(ROOT / "tests" / "policy_fixtures" / self.fixture, root)
        for name, text in self.files.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(text)


@dataclass(frozen=True)
class Waivers:
    """A tfgen-waivers.toml beside a copy of tests/policy_fixtures/peering_routes_on_one_side (slow: checkov lists
    its checks to know the waived ids), `tfgen check` choosing TFGEN_10 only; `today` as TFGEN_TODAY."""

    waiver: str
    today: str = "2026-12-07"
    severity: str = ""

    def fire(self, tmp_path: Path, monkeypatch, capsys) -> Fired:
        from tfgen.gate import FAILED, check_output

        monkeypatch.setenv("TFGEN_TODAY", self.today)
        shutil.copytree(ROOT / "tests" / "policy_fixtures" / "peering_routes_on_one_side", tmp_path / "out" / "root")
        (tmp_path / "out" / "tfgen-waivers.toml").write_text("[[waiver]]\n" + self.waiver)
        report = check_output(tmp_path / "out", checks=["TFGEN_10"])
        return {(r.check_id, "error") for r in report.of(FAILED)}


# -- Python fleets ------------------------------------------------------------------------------------


def _fleet(**environment) -> tfgen.Fleet:
    """SMALL in Python: the environment's options given, then a hub and an edge."""
    fleet = tfgen.Fleet(project="demo")
    env = fleet.add_environment("dev", account_id="123456789012", **environment)
    env.add_hub("us-east-1", cidr="10.10.0.0/16")
    env.add_region("us-east-2", cidr="10.11.0.0/16")
    return fleet


def _changed(change: Callable[[tfgen.Fleet], object]) -> Callable[[], tfgen.Fleet]:
    def make() -> tfgen.Fleet:
        fleet = _fleet()
        change(fleet)
        return fleet
    return make


def _no_hub() -> tfgen.Fleet:
    fleet = tfgen.Fleet(project="demo")
    fleet.add_environment("dev", account_id="123456789012").add_region("us-east-2", cidr="10.11.0.0/16")
    return fleet


def _apart(count: int) -> tfgen.Fleet:
    """`count` VPCs on one block and no hub, so nothing is peered: every overlap is between VPCs apart."""
    fleet = tfgen.Fleet(project="demo")
    env = fleet.add_environment("dev", account_id="123456789012")
    for i in range(count):
        env.add_cluster("us-east-2", f"c{i}", cidr="10.11.0.0/16")
    return fleet


def _crowd(count: int) -> tfgen.Fleet:
    """A hub and `count` edges on the hub's block: every pair overlaps along a peering or at the hub."""
    fleet = tfgen.Fleet(project="demo")
    env = fleet.add_environment("dev", account_id="123456789012")
    env.add_hub("us-east-1", cidr="10.10.0.0/16")
    for i in range(count):
        env.add_cluster("us-east-2", f"c{i}", cidr="10.10.0.0/16")
    return fleet


def _spokes(count: int) -> tfgen.Fleet:
    """A hub peered with `count` edges, disjoint, GitOps off (its path check is not what this is about)."""
    fleet = tfgen.Fleet(project="demo")
    env = fleet.add_environment("dev", account_id="123456789012", gitops=tfgen.GitOps(enabled=False))
    env.add_hub("us-east-1", cidr="10.0.0.0/16")
    for i in range(count):
        env.add_cluster("us-east-2", f"c{i}", cidr=f"10.{i + 1}.0.0/16")
    return fleet


def _managed(count: int) -> tfgen.Fleet:
    """A hub with EKS's Argo CD capability and `count` edges (transit gateway: no peering quota in the way)."""
    fleet = tfgen.Fleet(project="demo", aws_provider=">= 6.25, < 7.0")
    center = tfgen.IdentityCenter(instance_arn="arn:aws:sso:::instance/ssoins-0123456789abcdef",
                                  admins=["a1b2c3d4e5-11111111-2222-3333-4444-555555555555"])
    env = fleet.add_environment("dev", account_id="123456789012", connectivity="transit-gateway",
                                gitops=tfgen.GitOps(argocd="managed", identity_center=center))
    env.add_hub("us-east-1", cidr="10.0.0.0/16")
    for i in range(count):
        env.add_cluster("us-east-2", f"c{i}", cidr=f"10.{i + 1}.0.0/16")
    return fleet


@dataclass(frozen=True)
class Padded:
    """SMALL's emitted bootstrap document grown (as something added to its script would) past 64 KB at its
    references' shortest values (`certain`), or only at their typical ones, through VAL444 as build runs it."""

    certain: bool
    severity: str = ""

    def fire(self, tmp_path: Path, monkeypatch, capsys) -> Fired:
        from tfgen.checks.ssm import SSM_DOCUMENT_LIMIT, check_ssm_documents, resolved_sizes

        fleet, documents = _small_emitted()
        docs = copy.deepcopy(documents)
        (body,) = docs["bootstrap.tf.json"]["resource"]["aws_ssm_document"].values()
        least, typical, _ = resolved_sizes(body["content"])
        body["content"] += " " * (SSM_DOCUMENT_LIMIT + 1 - (least if self.certain else (least + typical) // 2))
        return _fired(check_ssm_documents(fleet, {"dev": docs}))


def _transit_crowd() -> tfgen.Fleet:
    """5,001 /24 VPCs on one region's transit gateway and one on another's: over the attachment quota
    (5,000) and, through the gateways, over the hard limit of routes per route table (1,000)."""
    fleet = tfgen.Fleet(project="demo")
    env = fleet.add_environment("dev", account_id="123456789012", connectivity="transit-gateway",
                                gitops=tfgen.GitOps(enabled=False))
    blocks = (ipaddress.ip_network(((10 << 24) + (i << 8), 24)) for i in range(1 << 16))
    where = {"": tfgen.Origin(__file__)}  # one origin for all, rather than each call site looked up
    add = env.add_hub
    for region, count in (("us-east-1", 5001), ("us-west-2", 1)):
        for i in range(count):
            block = next(blocks)
            subnets = [str(s) for s in block.subnets(new_prefix=28)]
            add(region, name=f"c{i}", cidr=str(block), az_count=1, private_subnets=[subnets[0]],
                public_subnets=[subnets[1]], where=where)
            add = env.add_cluster
    return fleet


def _pooled() -> tfgen.Fleet:
    return tfgen.loads(SMALL.replace("    hub:", "    cidr_pool: 10.0.0.0/12\n    hub:")
                       .replace("us-east-2: {cidr: 10.11.0.0/16}", "us-east-2: {}"))


def _with_edges(count: int) -> str:
    """A hub in us-east-1 and an edge in each of the next `count` regions tfgen knows."""
    from tfgen.model.regions import REGIONS

    regions = sorted(r for r in REGIONS if r != "us-east-1")[:count]
    return spec(regions="".join(f"      {r}: {{cidr: 10.{i}.0.0/16}}\n" for i, r in enumerate(regions, 20))).text


# -- emitted documents, broken one step of the GitOps path at a time ----------------------------------------


def _drop(docs: dict, type_: str, name: Callable[[str], bool]) -> None:
    for document in docs.values():
        items = document.get("resource", {}).get(type_)
        for key in [k for k in items or {} if name(k)]:
            del items[key]


def _resource(docs: dict, type_: str, name: str) -> dict:
    return next(d["resource"][type_][name] for d in docs.values() if name in d.get("resource", {}).get(type_, {}))


def _edit_policy(docs: dict, type_: str, name: str, key: str, change: Callable[[dict], None]) -> None:
    body = _resource(docs, type_, name)
    policy = json.loads(body[key])
    change(policy["Statement"][0])
    body[key] = json.dumps(policy)


TAMPERS: dict[str, Callable[[dict], None]] = {
    "NET300": lambda docs: docs["outputs.tf.json"]["output"].pop("gitops"),
    "NET301": lambda docs: _drop(docs, "aws_eks_pod_identity_association", lambda name: True),
    "NET302": lambda docs: _drop(docs, "aws_route", lambda name: name.endswith("__to__us_east_1_hub")),
    "NET303": lambda docs: _drop(docs, "aws_vpc_security_group_ingress_rule", lambda name: name.endswith("__hub_cidr")),
    "NET304": lambda docs: _resource(docs, "aws_eks_cluster", "us_east_2_edge")["vpc_config"].update(
        endpoint_public_access=True),
    "NET305": lambda docs: _edit_policy(docs, "aws_iam_role", "us_east_2_edge_deployer", "assume_role_policy",
                                        lambda s: s.update(Principal={"AWS": "arn:aws:iam::111111111111:role/x"})),
    "NET306": lambda docs: _drop(docs, "aws_eks_access_entry", lambda name: "argocd_deployer" in name),
    "NET307": lambda docs: _edit_policy(docs, "aws_iam_role_policy", "us_east_1_hub_argocd", "policy",
                                        lambda s: s.update(Resource=[])),
    "VAL454": lambda docs: _resource(docs, "aws_ssm_association", "us_east_1_hub_bootstrap").update(
        depends_on=[]),
    "VAL455": lambda docs: _resource(docs, "aws_ssm_document", "us_east_1_hub_bootstrap").pop("lifecycle"),
}

# -- the policy gate's roots ------------------------------------------------------------------------------

_UNKNOWN_ARGUMENT = json.dumps({
    "terraform": {"required_providers": {"aws": {"source": "hashicorp/aws", "version": ">= 5.100, < 7.0"}}},
    "provider": {"aws": [{"alias": "us_east_1", "region": "us-east-1",
                          "default_tags": {"tags": {"Project": "p", "Environment": "e", "ManagedBy": "tfgen"}}}]},
    "resource": {"aws_vpc": {"main": {"provider": "aws.us_east_1", "cidr_block": "10.0.0.0/16",
                                      "enable_classiclink": True}}},
}, indent=2)

# -- the table ------------------------------------------------------------------------------------------

TRIGGERS: dict[str, tuple] = {
    # the spec's shape
    "SPEC003": (spec(top="~: 1\n"),),
    "SPEC006": (Spec("project: demo\n# " + "x" * (2 * 1024 * 1024) + "\n"),),
    "SPEC010": (spec(regions="      us-east-2: [10.11.0.0/16]\n"),),
    "SPEC014": (Spec("project: demo\nenvironments: {}\n"),),
    "SPEC015": (spec(regions="      us-east-1: {clusters: {hub: {cidr: 10.12.0.0/16}}}\n"),),
    # the fleet's values
    "VAL100": (Python(_changed(lambda fleet: setattr(fleet.environment("dev"), "vpc_prefix", "16"))),),
    "VAL101": (spec(project="Demo_Fleet"),),
    "VAL102": (spec(top='tags: {"aws:team": platform}\n'),),
    "VAL103": (spec(top="aws_provider: latest\n"),),
    "VAL104": (Python(lambda: tfgen.Fleet(project="demo")),),
    "VAL111": (spec(top="state: {backend: gcs}\n"),),
    "VAL117": (spec(top="state: {backend: local, bucket: demo-tfstate}\n"),),
    "VAL122": (Python(_no_hub),),
    "VAL123": (Python(_changed(lambda fleet: fleet.environment("dev").add_hub("us-west-2", cidr="10.12.0.0/16"))),),
    "VAL124": (spec(regions=""),),
    "VAL126": (spec(env="    assume_role: arn:aws:iam::123456789012:user/deployer\n"),),
    "VAL127": (spec(env="    cidr_pool: 10.0.0.0/012\n"),),
    "VAL130": (spec(env="    assume_role: arn:aws:iam::210987654321:role/deployer\n"),),
    "VAL132": (spec(regions="      us-east-2: {cidr: 10.11.0.0/16}\n      us_east_2: {cidr: 10.12.0.0/16}\n"),),
    "VAL134": (spec(env="    vpc_prefix: 30\n"),),
    "VAL137": (Rebuild(SMALL, "layout: cells\n" + SMALL),),
    "VAL141": (spec(regions="      us-east-2: {clusters: {Edge: {cidr: 10.11.0.0/16}}}\n"),),
    "VAL142": (Python(_changed(lambda fleet: setattr(fleet.environment("dev").region("us-east-2").cluster("edge"),
                                                     "role", "spoke"))),),
    "VAL143": (spec(edge=", kubernetes_version: latest"),),
    "VAL144": (spec(edge=", node_groups: {}"),),
    "VAL153": (spec(edge=", node_groups: {w: {instance_types: []}}"),),
    "VAL154": (spec(edge=", node_groups: {w: {capacity_type: RESERVED}}"),),
    "VAL155": (spec(edge=", node_groups: {w: {disk_size: 10}}"),),
    "VAL166": (spec(edge=", availability_zones: [us-east-2a, us-east-2a]"),),
    "VAL169": (spec(edge=", availability_zones: [us-east-2a], private_subnets: [10.11.0.0/020]"),),
    "VAL171": (spec(edge=", availability_zones: [us-east-2a], private_subnets: [10.11.0.0/29]"),),
    "VAL175": (spec(regions="      us-east-2: {cidr: 10.11.0.0/24, availability_zones: [us-east-2a], private_subnets: "
                    "[10.11.0.0/26], public_subnets: [10.11.0.64/28], node_groups: {w: {min: 1, max: 3, desired: 1}}}\n"),),
    "VAL177": (spec(edge=", az_count: 2, availability_zones: [us-east-2a]"),),
    "VAL181": (spec(regions="      us-east-2: {clusters: {edge: {cidr: 10.11.0.0/16}, Edge: {cidr: 10.12.0.0/16}}}\n"),),
    "VAL191": (spec(top='aws_provider: ">= 5.100"\n'),),
    "VAL192": (spec(top='aws_provider: ">= 6.26, < 7.0"\n'),),
    "VAL193": (spec(top='state: {backend: s3, bucket: demo-tfstate, region: us-east-1}\nterraform_version: ">= 1.5"\n'),),
    # what runs on the clusters
    "VAL400": (spec(environ={"TFGEN_TODAY": "tomorrow"}),),
    "VAL402": (spec(edge=', kubernetes_version: "1.31", support: extended', environ={"TFGEN_TODAY": "2026-05-01"}),),
    "VAL403": (spec(edge=', kubernetes_version: "1.31"', environ={"TFGEN_TODAY": "2026-05-01"}),),
    "VAL404": (spec(edge=', kubernetes_version: "1.35"', environ={"TFGEN_TODAY": "2027-02-01"}),),
    "VAL405": (spec(edge=", support: premium"),),
    "VAL406": (spec(edge=", node_groups: {w: {ami_type: AL2_x86_64}}"),),
    "VAL413": (spec(edge=", access: {entries: [{principal: 'arn:aws:iam::123456789012:role/ops', "
                    "policy: AmazonEKSClusterAdmin}]}"),),
    "VAL414": (spec(edge=", access: {entries: [{principal: 'arn:aws:iam::123456789012:role/ops', "
                    "policy: AmazonEKSEditPolicy, namespaces: [Team_A]}]}"),),
    "VAL415": (spec(edge=", access: {authentication_mode: CONFIG_MAP}"),),
    "VAL416": (spec(edge=", access: {entries: [{principal: 'arn:aws:iam::123456789012:role/ops', "
                    "policy: AmazonEKSClusterAdminPolicy, namespaces: [team-a]}]}"),),
    "VAL417": (Spec(SMALL.replace(f"    {ADMINS}\n", "")),),
    "VAL421": (spec(edge=", addons: {vpc_cni: {}}"),),
    "VAL422": (spec(edge=', addons: {vpc-cni: {version: "1.19.2"}}'),),
    "VAL423": (spec(edge=', kubernetes_version: "1.36"'),),
    "VAL424": (spec(edge=", addons: {kube-proxy: {version: v1.36.1-eksbuild.1}}"),),
    "VAL431": (spec(env="    identity: oidc\n"),),
    "VAL432": (spec(env="    gitops: {namespace: Argo_CD}\n"),),
    "VAL433": (spec(env="    gitops: {service_accounts: [Argo_Server]}\n"),),
    "VAL437": (spec(env="    gitops: {identity_center: {instance_arn: 'arn:aws:sso:::instance/ssoins-0123456789abcdef', "
                    "region: us-east-1, admins: [0123456789-01234567-89ab-cdef-0123-456789abcdef]}}\n"),),
    "VAL439": (spec(env='    gitops: {chart_version: "9.9.9"}\n', severity="error"),
               spec(env='    gitops: {argocd: none, chart_version: "9.9.9"}\n', severity="warning")),
    "VAL440": (spec(env="    gitops: {repo: {url: 'github.com/org/fleet'}}\n", severity="error"),
               spec(env="    gitops: {argocd: none, repo: {url: 'https://github.com/org/fleet.git'}}\n",
                    severity="warning")),
    "VAL441": (spec(env="    bastion: {instance_type: t3-micro}\n"),),
    "VAL194": (spec(env="    bastion: {instance_type: t3.mikro}\n", severity="error"),
               spec(env="    bastion: {instance_type: t9.micro}\n", severity="warning")),
    "VAL442": (spec(env="    bastion: {ami: ubuntu}\n"),),
    "VAL444": (Padded(certain=True, severity="error"), Padded(certain=False, severity="warning")),
    "VAL450": (Python(lambda: _managed(100)),),
    "VAL451": (spec(env="    gitops: {repo: {url: 'https://ci:hunter2hunter2@github.com/org/fleet.git'}}\n"),),
    "VAL452": (spec(env="    gitops: {repo: {url: 'https://github.com/org/fleet.git', "
                    "secret_arn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:fleet'}}\n", severity="error"),
               spec(env="    gitops: {argocd: none, repo: {url: 'https://github.com/org/fleet.git', secret_arn: "
                    "'arn:aws:secretsmanager:us-east-1:123456789012:secret:fleet-AbCdEf'}}\n", severity="warning")),
    "VAL453": (spec(env="    gitops: {sharding: random}\n", severity="error"),
               spec(env="    gitops: {controller_replicas: 5}\n", severity="warning")),
    # upgrades EKS accepts
    "CHG530": (Steps(', kubernetes_version: "1.36"', (("edge", "1.34"),)),),
    "CHG531": (Steps(', kubernetes_version: "1.34"', (("edge", "1.35"),)),),
    "CHG532": (Steps(', node_groups: {w: {version: "1.34"}}', (("edge", "1.35"),)),),
    "CHG533": (Steps(', addons: {vpc-cni: {version: v1.21.1-eksbuild.1}}', (("edge", "1.35"),),
                     (("edge/vpc-cni", "v1.19.2-eksbuild.5"),)),),
    "VAL466": (spec(env="    rollout: {waves: [[us-east-2]], bake: 8d}\n"),),
    "CHG570": (Upgrade("1.37"),),
    "CHG571": (Upgrade("1.34"),),
    "CHG572": (Upgrade("1.36", insight="ERROR"),),
    # the network
    "NET201": (spec(env="    cidr_pool: 10.0.0.0/20\n", regions="      us-east-2: {}\n"),),
    "NET203": (spec(regions="      us-east-2: {cidr: 100.64.0.0/16}\n"),),
    "NET204": (Python(_pooled, build=True),),
    "NET205": (spec(env="    cidr_pool: 10.0.0.0/12\n", regions="      us-east-2: {}\n",
                    allocations="dev:\n  us-east-2/edge: 10.10.0.0/16\n"),),
    "NET206": (spec(env="    cidr_pool: 10.0.0.0/12\n", regions="      us-east-2: {}\n",
                    allocations="dev:\n  us-east-2/edge: 10.0.0.1/16\n"),),
    "NET207": (spec(env="    cidr_pool: 10.0.0.0/12\n", regions="      us-east-2: {}\n",
                    allocations="dev:\n  us-east-2/edge: 10.0.0.0/16\n  us-east-2/edge: 10.1.0.0/16\n"),),
    "NET208": (spec(env="    cidr_pool: 10.0.0.0/12\n", regions="      us-east-2: {}\n",
                    allocations="dev:\n  us-east-2/edge: 10.20.0.0/16\n"),),
    "NET212": (Python(lambda: _apart(2), severity="warning"), Python(lambda: _apart(2), strict=True, severity="error")),
    "NET214": (Python(lambda: _crowd(20), severity="error"), Python(lambda: _apart(21), severity="warning")),
    "NET231": (Python(lambda: _spokes(126)),),
    "NET232": (Python(lambda: _spokes(51)),),
    "NET233": (Python(_transit_crowd),),
    "NET234": (Python(lambda: _spokes(50)),),
    "NET235": (Python(_transit_crowd),),
    # the GitOps path, on emitted documents
    **{code: (Emitted(tamper),) for code, tamper in TAMPERS.items()},
    # living with a fleet: a build against the previous one
    # an edge without node groups or the GitOps bootstrap: its cluster is replaced destroy-first, which may be allowed
    "CHG500": (Rebuild(spec(env="    gitops: {bootstrap: false}\n", edge=", node_groups: {}").text,
                       spec(env="    gitops: {bootstrap: false}\n", edge=", node_groups: {}").text.replace(
                           "10.11.0.0/16", "10.12.0.0/16")),),
    "CHG501": (Rebuild(spec(regions=EDGE.format(edge="") + TWO_REGIONS).text, SMALL),),
    "CHG502": (Rebuild(SMALL + SMALL.split("environments:\n")[1].replace("  dev:", "  qa:"), SMALL),),
    "CHG503": (Rebuild("layout: cells\n" + spec(regions=EDGE.format(edge="") + TWO_REGIONS).text,
                       "layout: cells\n" + SMALL),),
    "CHG504": (Rebuild(spec(edge=", protect: true").text,
                       spec(edge=", protect: true").text.replace("10.11.0.0/16", "10.12.0.0/16")),),
    "CHG506": (Rebuild(SMALL, SMALL.replace("10.11.0.0/16", "10.12.0.0/16"), allow_replace=("dev/us-east-2/edge",)),),
    "CHG505": (Rebuild(SMALL, SMALL, severity="warning", allow_destroy=("dev/us-west-2",)),),
    "CHG510": (Spec("layout: cells\n" + SMALL + "  dev--us-east-1:\n    layout: environment\n    account_id: "
                    "\"123456789012\"\n    " + ADMINS + "\n    hub: {region: us-east-1, cidr: 10.20.0.0/16}\n"
                    "    regions:\n      us-east-2: {cidr: 10.21.0.0/16}\n"),),
    # the policy gate
    "CKV_TFGEN_1": (Gate("missing_tags"),),
    "CKV_TFGEN_2": (Gate("resource_without_tags"),),
    "CKV_TFGEN_3": (Gate("no_provider_alias"),),
    "CKV_TFGEN_4": (Gate("ssh_open_to_world"),),
    "CKV_TFGEN_5": (Gate("public_eks_endpoint"),),
    "CKV2_TFGEN_6": (Gate("peering_without_accepter"),),
    "CKV2_TFGEN_7": (Gate("peering_without_routes"),),
    "CKV_TFGEN_8": (Gate("secret_in_user_data"),),
    "TFGEN_9": (Gate("secret_in_output"),),
    "TFGEN_10": (Gate("peering_routes_on_one_side"),),
    "CKV_TFGEN_11": (Gate("iam_wildcard_policy"),),
    "CKV_TFGEN_12": (Gate("secret_in_default_tags"),),
    "CKV_TFGEN_13": (Gate("instance_with_imdsv1"),),
    "TFGEN_14": (Gate("bastion_with_inline_ingress"),),
    "CKV_TFGEN_15": (Gate("wildcard_access_entry"),),
    "TFGEN_READ": (Gate(files={"main.tf.json": "{\"resource\": "}),),
    "TFGEN_SCHEMA": (Gate(files={"main.tf.json": _UNKNOWN_ARGUMENT}),),
    "TFGEN_17": (Waivers('check = "TFGEN_10"\nresource = "aws_vpc_peering_connection.*"\nreason = "r"\n'
                         "expires = 2026-12-06\n"),),
    "TFGEN_18": (Waivers('check = "TFGEN_10"\nresource = "aws_vpc_peering_connection.other"\nreason = "r"\n'),),
    "TFGEN_19": (Waivers('check = "TFGEN_10"\nresource = "aws_vpc_peering_connection.*"\n'),),
}

CASES = [(code, i, trigger) for code, triggers in TRIGGERS.items() for i, trigger in enumerate(triggers)]
FAST = [case for case in CASES if not isinstance(case[2], (Gate, Waivers))]
WAIVERS = [case for case in CASES if isinstance(case[2], Waivers)]
GATE = [case for case in CASES if isinstance(case[2], Gate)]


def _expected(code: str, trigger) -> str:
    severities = [s.value for s in RULES[code].severities]
    if len(severities) == 1:
        assert trigger.severity in ("", severities[0]), f"{code} is registered as {severities[0]} only"
        return severities[0]
    assert trigger.severity in severities, f"{code} fires at {' and '.join(severities)}: say which this input gives"
    return trigger.severity


def test_a_code_of_two_severities_has_a_trigger_for_each():
    for code, rule in RULES.items():
        if len(rule.severities) == 2:
            given = {_expected(code, t) for t in TRIGGERS.get(code, ())}
            assert given == {s.value for s in rule.severities}, f"{code}: triggers give only {sorted(given)}"


def _on_one_worker(cases: list) -> list:
    """The cases whose triggers validate one fleet run on one xdist worker, where `_validated` validates it once."""
    def fleet(trigger) -> tuple | None:
        return (trigger.make, trigger.strict) if isinstance(trigger, Python) and not trigger.build else None

    shared = Counter(fleet(trigger) for _, _, trigger in cases)
    return [pytest.param(code, index, trigger, id=f"{code}-{index}",
                         marks=[pytest.mark.xdist_group(f"fleet-{trigger.make.__name__}")]
                         if fleet(trigger) and shared[fleet(trigger)] > 1 else [])
            for code, index, trigger in cases]


@pytest.mark.parametrize("code, index, trigger", _on_one_worker(FAST))
def test_the_trigger_fires_its_code_with_the_registered_severity(tmp_path, monkeypatch, capsys, code, index, trigger):
    fired = trigger.fire(tmp_path, monkeypatch, capsys)
    assert {c for c, _ in fired} <= set(RULES), f"unregistered codes fired: {sorted({c for c, _ in fired} - set(RULES))}"
    assert (code, _expected(code, trigger)) in fired, f"{code} did not fire as {_expected(code, trigger)}: {sorted(fired)}"


@pytest.fixture(scope="module")
def gate_report(tmp_path_factory):
    from tfgen.gate import check_output

    out = tmp_path_factory.mktemp("gate")
    for code, index, trigger in GATE:
        trigger.write(out / f"{code.lower()}_{index}")
    return check_output(out)


@pytest.mark.slow
@pytest.mark.parametrize("code, index, trigger", GATE, ids=[f"{c}-{i}" for c, i, _ in GATE])
def test_tfgen_check_fails_the_trigger_root_with_its_code(gate_report, code, index, trigger):
    from tfgen.gate import FAILED

    assert _expected(code, trigger) == "error"  # a failure fails the gate
    failed = {r.check_id for r in gate_report.of(FAILED, f"{code.lower()}_{index}")}
    assert code in failed, f"{code} did not fail its root: {sorted(failed)}"
    assert {c for c in failed if c.startswith(("TFGEN_", "CKV_TFGEN_", "CKV2_TFGEN_", "NET"))} <= set(RULES)


@pytest.mark.slow
@pytest.mark.parametrize("code, index, trigger", WAIVERS, ids=[f"{c}-{i}" for c, i, _ in WAIVERS])
def test_tfgen_check_fails_the_waivers_file_with_its_code(tmp_path, monkeypatch, capsys, code, index, trigger):
    fired = trigger.fire(tmp_path, monkeypatch, capsys)
    assert {c for c, _ in fired} <= set(RULES), f"unregistered codes fired: {sorted({c for c, _ in fired} - set(RULES))}"
    assert (code, _expected(code, trigger)) in fired, f"{code} did not fire: {sorted(fired)}"
