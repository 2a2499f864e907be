"""What the bootstrap applies validates against Kubernetes 1.35 and Argo CD's CRDs; broken manifests are named."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tfgen.bootstrap import manifests
from tfgen.bootstrap.errors import ManifestError
from tfgen.bootstrap.validate import argocd_schemas, problems, validate_manifests
from tfgen.gitops import read_outputs, render

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "gitops_fixtures" / "development.outputs.json"
REPO = "https://github.com/example-org/fleet-gitops.git"


@pytest.fixture()
def documents() -> list[dict]:
    secrets = render(read_outputs(FIXTURE)).secrets
    servers = [s["stringData"]["server"] for s in secrets]
    return ([manifests.managed(s) for s in secrets] + [manifests.namespace("argocd")]
            + manifests.environment_projects("development", namespace="argocd", repo_url=REPO, edge_servers=servers)
            + [manifests.root_application("development", namespace="argocd", repo_url=REPO, revision="main",
                                          path="bootstrap")])


def test_what_the_bootstrap_applies_validates(documents):
    assert [(d["kind"], problems(d)) for d in documents] == [
        ("Secret", []), ("Secret", []), ("Namespace", []), ("AppProject", []), ("AppProject", []),
        ("Application", [])]
    validate_manifests(documents)


def test_the_projects_confine_the_environment(documents):
    edges, bootstrap = (d for d in documents if d["kind"] == "AppProject")
    servers = sorted(d["stringData"]["server"] for d in documents if d["kind"] == "Secret")
    assert edges["spec"]["destinations"] == [{"namespace": "*", "server": s} for s in servers]
    assert edges["spec"]["sourceRepos"] == [REPO]
    assert bootstrap["spec"]["destinations"] == [{"namespace": "argocd", "server": manifests.IN_CLUSTER}]
    assert bootstrap["spec"]["clusterResourceWhitelist"] == []
    assert {r["kind"] for r in bootstrap["spec"]["namespaceResourceWhitelist"]} == {"Application", "ApplicationSet"}
    root = documents[-1]
    assert root["spec"]["project"] == bootstrap["metadata"]["name"]
    assert root["metadata"]["finalizers"] == [manifests.RESOURCES_FINALIZER]
    assert root["spec"]["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}


def test_a_wrong_field_type_is_named_with_its_path(documents):
    root = copy.deepcopy(documents[-1])
    root["spec"]["syncPolicy"]["automated"]["prune"] = "yes"
    root["spec"]["destination"]["sever"] = "https://x"
    assert problems(root) == [
        "Application/development-root: spec.destination: Additional properties are not allowed "
        "('sever' was unexpected)",
        "Application/development-root: spec.syncPolicy.automated.prune: 'yes' is not of type 'boolean'"]


def test_a_broken_core_manifest_is_named_with_its_path(documents):
    secret = copy.deepcopy(documents[0])
    secret["stringData"]["server"] = 443
    name = secret["metadata"]["name"]
    assert problems(secret) == [f"Secret/{name}: stringData.server: 443 is not of type 'string', 'null'"]
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "argocd", "lables": {}}}
    assert problems(namespace) == [
        "Namespace/argocd: metadata: Additional properties are not allowed ('lables' was unexpected)"]


def test_an_unknown_kind_and_a_wrong_api_version_are_named():
    assert problems({"apiVersion": "v1", "kind": "Sekret", "metadata": {"name": "x"}}) == [
        "Sekret/x: kind: unknown kind 'Sekret' with apiVersion 'v1' (no schema in Kubernetes 1.35 nor in "
        "Argo CD 3.4.4's CRDs)"]
    assert problems({"apiVersion": "argoproj.io/v1", "kind": "AppProject", "metadata": {"name": "p"},
                     "spec": {}}) == [
        "AppProject/p: apiVersion: 'argoproj.io/v1' is not argoproj.io/v1alpha1 (Argo CD 3.4.4)"]
    assert problems({"kind": "Secret"}) == ["Secret/(no name): apiVersion: is missing"]


def test_validate_manifests_collects_every_problem(documents):
    broken = copy.deepcopy(documents)
    broken[2]["metadata"]["name"] = "Not_A_Name"
    broken[-1]["spec"].pop("destination")
    with pytest.raises(ManifestError) as error:
        validate_manifests(broken, where="bootstrap: ")
    assert len(error.value.problems) == 2
    assert all(p.startswith("bootstrap: ") for p in error.value.problems)
    assert "'destination' is a required property" in str(error.value)


def test_the_committed_crd_schemas_are_what_the_tool_writes(tmp_path):
    # Rebuilt from the committed file's own schemas: the tool's output format is stable and names its source.
    schemas = argocd_schemas()
    assert schemas["argocd_version"] == "3.4.4"
    assert sorted(schemas["kinds"]) == ["AppProject", "Application", "ApplicationSet"]
    crds = tmp_path / "crds"
    crds.mkdir()
    committed = json.loads(next((ROOT / "tfgen" / "bootstrap" / "schemas").glob("argocd-*.json")).read_text())
    for kind, entry in committed["kinds"].items():
        group, version = entry["apiVersion"].split("/")
        crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
               "metadata": {"name": f"{kind.lower()}s.{group}"},
               "spec": {"group": group, "names": {"kind": kind},
                        "versions": [{"name": version, "served": True, "storage": True,
                                      "schema": {"openAPIV3Schema": entry["schema"]}}]}}
        (crds / f"{kind.lower()}.yaml").write_text(json.dumps(crd))
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "argocd_crds.py"), str(crds), "--version", "3.4.4",
                             "--output-dir", str(out)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert (out / "argocd-3.4.4.json").read_text() == next(
        (ROOT / "tfgen" / "bootstrap" / "schemas").glob("argocd-*.json")).read_text()


def test_kubernetes_validate_is_imported_only_when_validating():
    code = ("import sys, tfgen.bootstrap; assert 'kubernetes_validate' not in sys.modules; "
            "tfgen.bootstrap.problems({'apiVersion': 'v1', 'kind': 'Namespace', 'metadata': {'name': 'a'}}); "
            "assert 'kubernetes_validate' in sys.modules")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr
