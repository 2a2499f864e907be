"""`tfgen.__all__` is the public namespace: every name exists and is documented, typed for users' type
checkers, and the modes are str enums that plain strings stand in for."""

import ast
import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest

import tfgen
import tfgen.errors
import tfgen.testing
from tests.conftest import EXAMPLE


def test_all_names_exist_and_have_docstrings():
    for module in (tfgen, tfgen.testing):
        for name in module.__all__:
            assert hasattr(module, name), f"{module.__name__}.{name}"
            obj = getattr(module, name)
            if callable(obj):
                assert obj.__doc__ and obj.__doc__.strip(), f"{module.__name__}.{name} has no docstring"


def test_public_classes_are_not_left_out():
    public = {n for n, v in vars(tfgen).items() if isinstance(v, type) and not n.startswith("_")}
    assert public <= set(tfgen.__all__), sorted(public - set(tfgen.__all__))


def test_python_call_site_is_remembered_for_findings():
    fleet = tfgen.Fleet(project="demo")
    env = fleet.add_environment("dev")
    env.add_hub("us-east-1", cidr="10.10.0.0/16")
    env.add_region("us-easr-2", cidr="10.11.0.0/16")
    findings = tfgen.validate(fleet)
    bad = [f for f in findings if f.code == "VAL131"]
    assert bad and bad[0].origin.file == __file__, findings
    assert "did you mean us-east-2" in bad[0].hint


def test_import_tfgen_exposes_no_submodules():
    """`tfgen.<name>` is a public name or an AttributeError, never a submodule imported on the side (Python
    itself binds a submodule to its package once something imports it: `import tfgen.pipeline` to use one)."""
    script = ("import tfgen\n"
              "for name in ('pipeline', 'checks', 'cli', 'gate', 'sandbox', 'beside'):\n"
              "    try:\n"
              "        getattr(tfgen, name)\n"
              "        print(name)\n"
              "    except AttributeError:\n"
              "        pass\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout == "", f"submodules as attributes of a fresh tfgen: {result.stdout.split()}"
    assert sorted(dir(tfgen)) == sorted(tfgen.__all__)


def test_the_type_checkers_view_is_the_runtime_one():
    """The names `tfgen/__init__.py` imports for type checkers are its public names, from the same modules."""
    tree = ast.parse(Path(tfgen.__file__).read_text())
    block = next(n for n in tree.body if isinstance(n, ast.If) and ast.unparse(n.test) == "TYPE_CHECKING")
    seen = {alias.name: node.module for node in block.body for alias in node.names
            if alias.asname == alias.name}  # `X as X`: re-exported under mypy --strict
    assert seen == tfgen._HOMES


@pytest.mark.parametrize("enum, spelled", [
    ("Connectivity", ["hub-and-spoke", "mesh", "transit-gateway"]),
    ("Layout", ["environment", "cells"]),
    ("Identity", ["pod-identity", "irsa"]),
    ("ArgoCD", ["self-managed", "managed", "none"]),
    ("Nat", ["single", "per_az"]),
])
def test_each_mode_is_a_str_enum_spelled_as_in_a_spec(enum, spelled):
    members = list(getattr(tfgen, enum))
    assert members == spelled  # each member == its spelling
    assert all(isinstance(m, str) and f"{m}" == m.value for m in members)


def _fleet(connectivity, identity, nat, argocd):
    fleet = tfgen.Fleet(project="demo")
    env = fleet.add_environment("dev", account_id="123456789012", connectivity=connectivity, identity=identity,
                                gitops=tfgen.GitOps(argocd=argocd))
    env.add_hub("us-east-1", cidr="10.10.0.0/16", nat=nat)
    env.add_region("us-east-2", cidr="10.11.0.0/16")
    env.add_region("eu-west-1", cidr="10.12.0.0/16", nat=nat)
    return fleet


def test_a_fleet_built_with_enum_members_or_plain_strings_emits_the_same_bytes():
    members, _ = tfgen.render(_fleet(tfgen.Connectivity.MESH, tfgen.Identity.IRSA, tfgen.Nat.PER_AZ,
                                     tfgen.ArgoCD.SELF_MANAGED))
    strings, _ = tfgen.render(_fleet("mesh", "irsa", "per_az", "self-managed"))
    assert members == strings
    loaded = tfgen.loads(EXAMPLE.read_text(), filename="fleet.yaml")  # a spec's modes are plain strings
    assert loaded.environment("development").connectivity == tfgen.Connectivity.HUB_AND_SPOKE


def test_a_mode_that_is_no_member_is_a_finding_not_an_exception():
    fleet = _fleet("star", "irsa", "per_az", "self-managed")
    codes = [f.code for f in tfgen.validate(fleet) if "star" in f.message]
    assert codes != [], [f.format() for f in tfgen.validate(fleet)]


def test_add_link_and_require_reach_return_the_exported_types():
    env = tfgen.Fleet(project="demo").add_environment("dev")
    assert isinstance(env.add_link("us-east-1/hub", "us-east-2/edge"), tfgen.Link)
    assert isinstance(env.require_reach("us-east-2/edge", "us-east-1/hub"), tfgen.Reach)


@pytest.mark.parametrize("method", ["add_hub", "add_region"])
def test_the_cluster_keys_are_explicit_keywords_with_add_cluster_defaults(method):
    cluster_keys = {name: p.default for name, p in inspect.signature(tfgen.Environment.add_cluster).parameters.items()
                    if p.kind is p.KEYWORD_ONLY and name != "role"}
    params = inspect.signature(getattr(tfgen.Environment, method)).parameters
    assert not any(p.kind is p.VAR_KEYWORD for p in params.values()), f"{method} takes **options"
    keys = {name: p.default for name, p in params.items() if p.kind is p.KEYWORD_ONLY and name != "name"}
    assert keys == cluster_keys


def test_an_unknown_cluster_key_is_a_type_error_naming_it():
    env = tfgen.Fleet(project="demo").add_environment("dev")
    with pytest.raises(TypeError, match="'nat_mode'"):
        env.add_region("us-east-2", nat_mode="single")
    assert env.regions == {}


def _classes(root: Path) -> dict[str, tuple[str, list[str]]]:
    """Every class of the package: name -> (module, names of its bases)."""
    found: dict[str, tuple[str, list[str]]] = {}
    for path in sorted(root.rglob("*.py")):
        module = ".".join(path.relative_to(root).with_suffix("").parts)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                bases = [b.id if isinstance(b, ast.Name) else b.attr for b in node.bases
                         if isinstance(b, (ast.Name, ast.Attribute))]
                found.setdefault(node.name, (module, bases))
    return found


def test_the_error_hierarchy_drawn_in_errors_is_the_real_one():
    """errors.py's docstring draws every subclass of TfgenError anywhere in tfgen, under its real parent."""
    classes = _classes(Path(tfgen.__file__).parent)
    real: dict[str, str] = {}
    frontier = ["TfgenError"]
    while frontier:
        parent = frontier.pop()
        for name, (_, bases) in classes.items():
            if parent in bases and name not in real:
                real[name] = parent
                frontier.append(name)
    drawn: dict[str, str] = {}
    stack: list[tuple[int, str]] = []
    for line in tfgen.errors.__doc__.split("::", 1)[1].split("\n\n", 2)[1].splitlines():
        match = re.match(r"(\s*(?:[│ ]   )*(?:[├└]── )?)(\w+)", line)
        depth, name = len(match[1]), match[2]
        while stack and stack[-1][0] >= depth:
            stack.pop()
        if stack:
            drawn[name] = stack[-1][1]
        stack.append((depth, name))
    assert drawn == real


def test_the_package_says_it_is_typed():
    """PEP 561: an installed tfgen carries py.typed, so users' type checkers read its annotations."""
    import tomllib
    root = Path(tfgen.__file__).parent
    package_data = tomllib.loads((root.parent / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    assert (root / "py.typed").is_file() and "py.typed" in package_data["tfgen"]
