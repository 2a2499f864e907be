"""The pytest plugin (entry point `pytest11: tfgen`): fixtures and options for a platform repository's fleet tests.

Fixtures, each a function the test calls:

- `tfgen_build(spec, **options) -> Path`: `tfgen build` into a temporary OUT, once per spec content and
  options for the session (an allocations record next to the spec is copied, never written);
- `tfgen_plan(root, offline=None) -> Plan`: `terraform plan` of a root, cached by the root's content digest
  for the session and, offline, across runs in pytest's cache directory (`.pytest_cache/`), so a run that
  changed nothing plans nothing (a plan read back has no `seconds` or `lowered`); a real plan (`--tfgen-real`)
  depends on state the root does not hold, so it is kept for the session only; the summary line says how
  many plans ran and how many were read from the cache;
- `tfgen_sandbox(spec, environments=None) -> SandboxReport`: the fleet applied to the local AWS double once
  per session, verified, destroyed at the end; every test using it is marked `tfgen_sandbox` (deselect it
  with `-m "not tfgen_sandbox"`).

Options: `--tfgen-update-inventories` (`assert_inventory` rewrites the files instead of comparing),
`--tfgen-offline` (default: tfgen's offline toolchain) / `--tfgen-real` (plans with the terraform on PATH and
your own credentials and backend).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from .._version import __version__
from ..terraform.plan import Plan, plan_root
from .inventory import RERUN, UPDATING
from .digest import tree_digest

__all__ = ["SANDBOX_MARK", "PlanCache", "pytest_addoption", "pytest_configure", "pytest_collection_modifyitems",
           "pytest_runtest_call", "pytest_terminal_summary", "tfgen_build", "tfgen_plan", "tfgen_sandbox"]

SANDBOX_MARK = "tfgen_sandbox"
"""The mark of every test that uses the `tfgen_sandbox` fixture."""


class PlanCache:
    """Plans by root content: in memory for the session, and as JSON under pytest's cache directory."""

    def __init__(self, directory: Path | Callable[[], Path] | None):
        """`directory`: where plans are stored, or what makes it on first use (pytest's cache directory is
        made only in a session that plans); None: the session's memory only."""
        self._directory = directory
        self.memory: dict[str, Plan] = {}
        self.planned = 0
        self.cached = 0

    @property
    def directory(self) -> Path | None:
        if callable(self._directory):
            self._directory = self._directory()
        return self._directory

    @staticmethod
    def key(root: Path, offline: bool) -> str:
        """The root's content digest, with how it is planned and by which tfgen (its lowering may change)."""
        return hashlib.sha256(f"{tree_digest(root)}:{offline}:{__version__}".encode()).hexdigest()[:32]

    def plan(self, root: Path, *, offline: bool, make: Callable[[], Plan]) -> Plan:
        """The plan of `root`: remembered, or made by `make` (then remembered)."""
        key = self.key(root, offline)
        if key in self.memory:
            self.cached += 1
            return self.memory[key]
        # A real plan depends on state the root's files do not hold, and may carry its secrets: never stored.
        stored = self.directory / f"{key}.json" if self.directory is not None and offline else None
        if stored is not None and stored.is_file():
            plan = Plan(json.loads(stored.read_text()))
            self.cached += 1
        else:
            plan = make()
            self.planned += 1
            if stored is not None:
                stored.write_text(json.dumps(plan.raw))
        self.memory[key] = plan
        return plan


_CACHE = pytest.StashKey[PlanCache]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """`--tfgen-update-inventories`, `--tfgen-offline` / `--tfgen-real`."""
    group = parser.getgroup("tfgen", "tfgen fleet tests")
    group.addoption("--tfgen-update-inventories", action="store_true", default=False,
                    help="write every inventory assert_inventory reads from the plan instead of comparing")
    group.addoption("--tfgen-offline", dest="tfgen_real", action="store_false", default=False,
                    help="plan with tfgen's offline toolchain: dummy credentials, local backend (default)")
    group.addoption("--tfgen-real", dest="tfgen_real", action="store_true",
                    help="plan with the terraform on PATH and your own credentials and backend")


def pytest_configure(config: pytest.Config) -> None:
    """Register the sandbox mark and the plan cache (under pytest's cache directory when there is one)."""
    config.addinivalue_line("markers", f"{SANDBOX_MARK}: applies a fleet to the local AWS double (slow)")
    cache = getattr(config, "cache", None)
    config.stash[_CACHE] = PlanCache((lambda: cache.mkdir("tfgen-plans")) if cache is not None else None)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that uses `tfgen_sandbox`, so `-m "not tfgen_sandbox"` leaves it out."""
    for item in items:
        if "tfgen_sandbox" in getattr(item, "fixturenames", ()):
            item.add_marker(SANDBOX_MARK)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """While a test runs, inventories know whether to update and the command that updates this test's."""
    updating = UPDATING.set(bool(item.config.getoption("tfgen_update_inventories")))
    rerun = RERUN.set(f"pytest --tfgen-update-inventories '{item.nodeid}'")
    try:
        yield
    finally:
        UPDATING.reset(updating)
        RERUN.reset(rerun)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """One line: how many `terraform plan` runs the session made and how many plans came from the cache."""
    cache = config.stash.get(_CACHE, None)
    if cache is not None and (cache.planned or cache.cached):
        terminalreporter.write_line(f"tfgen: {cache.planned} terraform plan run(s), {cache.cached} plan(s) "
                                    "read from the cache")


@pytest.fixture(scope="session")
def tfgen_build(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """`tfgen_build(spec, **options) -> Path`: the spec built into a temporary OUT, once per content and options."""
    from ..pipeline import build as build_fleet
    from ..spec import load

    built: dict[str, Path] = {}

    def build(spec: str | Path, **options: Any) -> Path:
        spec = Path(spec)
        key = f"{hashlib.sha256(spec.read_bytes()).hexdigest()}:{sorted(options.items())!r}"
        if key not in built:
            out = tmp_path_factory.mktemp("tfgen-out")
            fleet = load(spec)
            if fleet.allocations_file is not None:  # the record is the repository's: build against a copy
                record = out.parent / f"{out.name}.allocations.yaml"
                original = Path(fleet.allocations_file)
                if original.is_file():
                    record.write_bytes(original.read_bytes())
                fleet.allocations_file = record
            build_fleet(fleet, out, **options)
            built[key] = out
        return built[key]

    return build


@pytest.fixture(scope="session")
def tfgen_plan(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Plan]:
    """`tfgen_plan(root, offline=None) -> Plan`: a root planned once per content (see the module docstring)."""
    cache = request.config.stash[_CACHE]
    real = bool(request.config.getoption("tfgen_real"))
    toolchains: list[Any] = []

    def plan(root: str | Path, offline: bool | None = None) -> Plan:
        root = Path(root)
        use_offline = not real if offline is None else offline

        def make() -> Plan:
            if use_offline and not toolchains:
                from ..terraform.toolchain import Toolchain

                toolchains.append(Toolchain(tmp_path_factory.mktemp("tfgen-toolchain")))
            return plan_root(root, workdir=tmp_path_factory.mktemp("tfgen-plan"), offline=use_offline,
                             toolchain=toolchains[0] if use_offline else None)

        return cache.plan(root, offline=use_offline, make=make)

    return plan


@pytest.fixture(scope="session")
def tfgen_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Any]]:
    """`tfgen_sandbox(spec, environments=None) -> SandboxReport`: applied on the local double once per session
    and verified (a failed apply or verification fails the test); destroyed when the session ends."""
    from ..sandbox import Sandbox
    from ..spec import load

    running: dict[str, tuple[Sandbox, Any]] = {}

    def sandbox(spec: str | Path, environments: list[str] | None = None) -> Any:
        key = f"{hashlib.sha256(Path(spec).read_bytes()).hexdigest()}:{environments}"
        if key not in running:
            fleet = load(spec)
            box = Sandbox(fleet, spec=str(spec), workdir=tmp_path_factory.mktemp("tfgen-sandbox")).start()
            try:
                report = box.run(environments, keep=True)
            except BaseException:
                box.stop()  # the double is this session's process: never left behind
                raise
            running[key] = (box, report)
            if not report.ok:
                raise AssertionError(f"the sandbox of {spec} failed:\n{_format(report)}")
        return running[key][1]

    yield sandbox
    problems = []
    for box, report in running.values():
        try:
            for environment in report.environments:
                destroyed = box.destroy(environment.name)
                if not destroyed.ok:
                    problems.append(f"{environment.name}: destroy left {destroyed.details}")
        finally:
            box.stop()
    assert not problems, problems


def _format(report: Any) -> str:
    from ..sandbox import format_report

    return str(format_report(report))


