"""Shared fixtures: the example fleet, its built output, real offline plans, one applied sandbox;
and the two test tiers.

The slow tier (`-m slow`) is every test that runs terraform, checkov or the local AWS double, or
fuzzes at length. A test is slow when it uses a fixture in SLOW_FIXTURES (directly or through
another fixture), or carries `@pytest.mark.slow` because it calls plan_root, check_output,
Sandbox, AwsDouble or such a CLI verb itself. A test that is neither and still starts terraform,
checkov or the double fails at once, naming the mark it lacks (`_fast_tier_guard`), so the fast
tier (`-m "not slow"`) cannot quietly grow slow.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import os
import subprocess
from pathlib import Path

import pytest

import tfgen
from tfgen.cli import GC_THRESHOLDS

ROOT = Path(__file__).resolve().parent.parent
# The suite runs tfgen's commands in process through `tfgen.cli.main`: its processes collect garbage as the
# `tfgen` command's does (`tfgen.cli.run`).
gc.set_threshold(*GC_THRESHOLDS)
EXAMPLE = ROOT / "examples" / "multi-region-eks.yaml"
# example spec -> its committed output directory
EXAMPLES = {
    EXAMPLE: ROOT / "out",
    ROOT / "examples" / "mesh.yaml": ROOT / "out" / "mesh",
    ROOT / "examples" / "transit-gateway.yaml": ROOT / "out" / "transit-gateway",
    ROOT / "examples" / "cells.yaml": ROOT / "out" / "cells",
}


# Fixtures that run terraform, checkov or the double: a test using any of them is slow.
SLOW_FIXTURES = frozenset({
    "toolchain", "example_plans", "all_plans",           # terraform plans (conftest)
    "sandbox_development",                               # the one applied sandbox (conftest)
    "example_report", "fixture_report",                  # checkov scans (test_gate.py)
})


# The suite runs on pytest-xdist's workers (pyproject: `-n auto --dist loadgroup`). Fast tests go to whichever
# worker is free; a slow test runs on one worker with the others that share its expensive set-up: the users of
# one of these session fixtures together, any other slow test with its module (its module fixtures apply a
# sandbox or scan with checkov), so no set-up is made twice and no two doubles or scans of one kind compete.
XDIST_GROUPS = {
    "sandbox_development": "sandbox-development",
    "example_plans": "example-plans", "all_plans": "example-plans", "toolchain": "example-plans",
    "example_report": "checkov-reports", "fixture_report": "checkov-reports",
}


# Where the fast tier keeps its temporary directories when the machine has memory for them: the tier writes
# some 20,000 small files and syncs them to disk thousands of times (tfgen's writer), which on a slow disk is
# mostly time spent waiting. The full suite stays on disk: its terraform runs unpack providers of hundreds of MB.
MEMORY = Path("/dev/shm")


def pytest_configure(config):
    """`pytest -m "not slow"` keeps its temporary directories in MEMORY (a tmpfs) when it exists, is writable,
    lets programs run from it (the stub terraform is written into a test's directory) and has 1 GiB free;
    unless a temporary root or `--basetemp` is given. xdist's workers get their directories from this process."""
    if (config.getoption("markexpr") != "not slow" or config.option.basetemp or hasattr(config, "workerinput")
            or "PYTEST_DEBUG_TEMPROOT" in os.environ):
        return
    try:
        stats = os.statvfs(MEMORY)
    except OSError:
        return
    if os.access(MEMORY, os.W_OK) and not stats.f_flag & os.ST_NOEXEC and stats.f_bavail * stats.f_frsize >= 2**30:
        os.environ["PYTEST_DEBUG_TEMPROOT"] = str(MEMORY)


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(items):
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if SLOW_FIXTURES.intersection(fixtures):
            item.add_marker(pytest.mark.slow)
        if item.get_closest_marker("slow") and not item.get_closest_marker("xdist_group"):
            group = next((XDIST_GROUPS[f] for f in fixtures if f in XDIST_GROUPS), item.module.__name__)
            item.add_marker(pytest.mark.xdist_group(group))


@functools.lru_cache(maxsize=1)
def _real_terraform() -> str | None:
    """The terraform binary tfgen would run, found once (a test's TFGEN_TERRAFORM stub is not it)."""
    from tfgen.terraform.toolchain import find_terraform

    try:
        return os.path.realpath(find_terraform())
    except tfgen.TfgenError:
        return None


def _starts_a_slow_tool(args) -> str | None:
    """What slow tool a command line starts: terraform, checkov, the double, or a CLI verb running them."""
    argv = [str(a) for a in ([args] if isinstance(args, (str, os.PathLike)) else args)]
    if argv and os.path.basename(argv[0]) == "setpriv" and "--" in argv:  # how tfgen.terraform.run starts it
        argv = argv[argv.index("--") + 1:]
    terraform = _real_terraform()
    if argv and terraform and os.path.realpath(argv[0]) == terraform:
        return "terraform"
    for module in ("checkov.main", "tfgen.sandbox.moto_boot", "moto.server"):
        if module in argv:
            return module
    if "tfgen.cli" in argv and {"sandbox", "check"} & set(argv):
        return "tfgen " + next(a for a in argv if a in ("sandbox", "check"))
    return None


@contextlib.contextmanager
def _fast_tier_guard(item):
    """While an unmarked test (and any fixture it sets up) runs, starting terraform, checkov or the double fails."""
    original = subprocess.Popen

    class Guarded(original):
        def __init__(self, args, *rest, **kwargs):
            tool = _starts_a_slow_tool(args)
            if tool:
                raise AssertionError(f"{item.nodeid} starts {tool}: mark it @pytest.mark.slow "
                                     "(or use a fixture listed in tests/conftest.py SLOW_FIXTURES)")
            super().__init__(args, *rest, **kwargs)

    subprocess.Popen = Guarded
    try:
        yield
    finally:
        subprocess.Popen = original


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    _real_terraform()  # before any test's environment points TFGEN_TERRAFORM elsewhere
    with contextlib.nullcontext() if item.get_closest_marker("slow") else _fast_tier_guard(item):
        yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    with contextlib.nullcontext() if item.get_closest_marker("slow") else _fast_tier_guard(item):
        yield


@pytest.fixture
def example_fleet() -> tfgen.Fleet:
    return tfgen.load(EXAMPLE)


@pytest.fixture(scope="session")
def example_out(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("out")
    tfgen.build(tfgen.load(EXAMPLE), out)
    return out


@pytest.fixture(scope="session")
def toolchain(tmp_path_factory):
    from tfgen.terraform.toolchain import Toolchain

    return Toolchain(tmp_path_factory.mktemp("toolchain"))


@pytest.fixture(scope="session")
def example_plans(example_out, toolchain, tmp_path_factory):
    """A real `terraform plan` of every environment of the example, planned once."""
    from tfgen.testing import plan_root

    work = tmp_path_factory.mktemp("plans")
    return {
        env: plan_root(example_out / env, workdir=work, toolchain=toolchain)
        for env in ("development", "production")
    }


@pytest.fixture(scope="session")
def all_plans(example_plans, toolchain, tmp_path_factory):
    """(spec, environment) -> real plan, for every example (built afresh, not from out/)."""
    from tfgen.testing import plan_root

    plans = {(EXAMPLE, env): plan for env, plan in example_plans.items()}
    for spec in EXAMPLES:
        if spec == EXAMPLE:
            continue
        out = tmp_path_factory.mktemp("built")
        fleet = tfgen.load(spec)
        if fleet.allocations_file.exists():  # build against a copy: tests never write into examples/
            copy = out.parent / f"{out.name}.allocations.yaml"
            copy.write_bytes(fleet.allocations_file.read_bytes())
            fleet.allocations_file = copy
        tfgen.build(fleet, out)
        for env in fleet.environments.values():
            if fleet.layout_of(env) == "cells":
                continue  # several roots per environment, their links needing applied state: tests/test_cells_runs.py
            plans[spec, env.name] = plan_root(out / env.name, workdir=tmp_path_factory.mktemp("plan"),
                                              toolchain=toolchain)
    return plans


@pytest.fixture(scope="session")
def sandbox_development(tmp_path_factory):
    """The example's development environment applied to the local double once for the whole session.

    Run as `tfgen sandbox` runs it (`Sandbox.run`: init, apply, verify, re-plan; kept), then shared:
    each test that breaks something through boto3 verifies and puts it back. At the end it must
    re-plan with no changes, destroy with nothing left, and leave no process behind.
    Yields (sandbox, report of the run, expectation).
    """
    from tfgen.sandbox import Sandbox

    workdir = tmp_path_factory.mktemp("sandbox-development")
    with Sandbox(tfgen.load(EXAMPLE), spec=str(EXAMPLE), workdir=workdir) as sandbox:
        report = sandbox.run(["development"], keep=True)
        env = report.environment("development")
        assert report.ok, [(p.phase, p.reason, p.details) for p in env.phases if not p.ok]
        yield sandbox, report, sandbox.expectation("development")
        replan = sandbox.replan("development")
        assert replan.ok, ["a test left the applied environment changed", replan.reason, replan.changes]
        destroyed = sandbox.destroy("development")
        assert destroyed.ok, [destroyed.details, [c.format() for c in destroyed.checks if not c.ok]]
    assert processes_using(workdir) == []


def processes_using(path: Path) -> list[str]:
    """Processes (other than this one) whose working directory or an open file lies under `path`."""
    found = []
    prefix = str(path.resolve())
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            links = [os.readlink(f"/proc/{pid}/cwd")]
            links += [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if int(pid) != os.getpid() and any(link.startswith(prefix) for link in links):
            found.append(f"{pid}: {cmdline}")
    return found


# The smallest fleet a sandbox apply needs: a hub and one edge in two regions, two zones, one node
# group, no bastion (provider 3.39 waits a fixed 10 s per instance). The fault tests use it.
MINIMAL_SPEC = """\
project: mini
environments:
  development:
    account_id: "111111111111"
    access: {admins: ["arn:aws:iam::111111111111:role/platform-admin"]}
    bastion: {enabled: false}
    gitops: {bootstrap: false}    # the bootstrap runs on the bastion
    defaults:
      kubernetes_version: "1.35"
      az_count: 2
      node_groups: {workers: {instance_types: [t3.medium], min: 1, max: 1, desired: 1}}
    hub: {region: us-east-1, cidr: 10.10.0.0/16}
    regions:
      us-east-2: {cidr: 10.11.0.0/16}
"""


# A hub and one edge whose VPCs come from a pool: the allocation record's smallest case.
POOL_SPEC = """\
project: demo
environments:
  dev:
    account_id: "123456789012"
    cidr_pool: 10.0.0.0/12
    hub: {region: us-east-1}
    regions:
      us-east-2: {}
"""


def write_spec(tmp_path: Path, text: str, name: str = "fleet.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path
