"""examples/gitops/: every manifest validates, every kustomization's paths exist, the ApplicationSets fit tfgen's Secrets."""

from __future__ import annotations

import fnmatch
from pathlib import Path

import pytest
import yaml

from tfgen.bootstrap import manifests
from tfgen.bootstrap.validate import problems
from tfgen.gitops import read_outputs, render

ROOT = Path(__file__).resolve().parent.parent
REPO = ROOT / "examples" / "gitops"
FIXTURE = ROOT / "tests" / "gitops_fixtures" / "development.outputs.json"
YAML_FILES = sorted(p.relative_to(REPO).as_posix() for p in REPO.rglob("*.yaml"))


def _documents(relative: str) -> list[dict]:
    return [d for d in yaml.safe_load_all((REPO / relative).read_text()) if d is not None]


def _kustomizations() -> dict[str, dict]:
    return {rel: _documents(rel)[0] for rel in YAML_FILES if rel.endswith("kustomization.yaml")}


def _patches() -> set[str]:
    return {(Path(rel).parent / p["path"]).as_posix() for rel, k in _kustomizations().items()
            for p in k.get("patches", [])}


def _appsets() -> dict[str, dict]:
    return {d["metadata"]["name"]: d for rel in YAML_FILES if rel.startswith("bootstrap/") for d in _documents(rel)}


def _tfgen_secrets() -> list[dict]:
    # tfgen's cluster Secrets as `tfgen gitops` renders them, with the role label the bootstrap's Secrets carry.
    secrets = render(read_outputs(FIXTURE)).secrets
    for secret in secrets:
        secret["metadata"]["labels"][manifests.ROLE_LABEL] = "edge"
    return secrets


def test_the_example_repo_has_manifests():
    assert {"bootstrap/workloads.yaml", "bootstrap/addons.yaml", "apps/example/overlays/default/kustomization.yaml",
            "addons/aws-ebs-csi-driver/storageclass.yaml"} <= set(YAML_FILES)


@pytest.mark.parametrize("relative", [r for r in YAML_FILES if not r.endswith("kustomization.yaml")])
def test_every_manifest_validates(relative):
    if relative in _patches():
        # A strategic-merge patch is partial: it must name an object of a known kind, nothing more.
        (patch,) = _documents(relative)
        assert patch["kind"] and patch["metadata"]["name"], f"{relative}: a patch needs kind and metadata.name"
        return
    documents = _documents(relative)
    assert documents, f"{relative} holds no manifest"
    assert [p for d in documents for p in problems(d)] == [], relative


@pytest.mark.parametrize("relative", sorted(_kustomizations()))
def test_every_kustomization_names_existing_paths_and_uses_every_file(relative):
    kustomization = _kustomizations()[relative]
    here = (REPO / relative).parent
    assert (kustomization["apiVersion"], kustomization["kind"]) == ("kustomize.config.k8s.io/v1beta1", "Kustomization")
    for resource in kustomization.get("resources", []):
        target = here / resource
        assert target.is_file() or (target / "kustomization.yaml").is_file(), f"{relative}: resource {resource} missing"
    for patch in kustomization.get("patches", []):
        assert (here / patch["path"]).is_file(), f"{relative}: patch {patch['path']} missing"
    used = set(kustomization.get("resources", [])) | {p["path"] for p in kustomization.get("patches", [])}
    files = {p.name for p in here.iterdir() if p.is_file() and p.name != "kustomization.yaml"}
    assert files <= used, f"{relative}: {sorted(files - used)} are not in the kustomization"


def _overlay_dirs(appset: dict) -> tuple[set[str], str]:
    """The overlay directories the workloads ApplicationSet's git generator finds, and its template path."""
    (merge,) = (g["merge"] for g in appset["spec"]["generators"])
    git = merge["generators"][1]["matrix"]["generators"][0]["git"]
    include = [d["path"] for d in git["directories"] if not d.get("exclude")]
    exclude = [d["path"] for d in git["directories"] if d.get("exclude")]
    dirs = {p.relative_to(REPO).as_posix() for p in REPO.rglob("*") if p.is_dir()}
    # Argo CD's `*` matches one path segment.
    found = {d for d in dirs if d not in exclude
             and any(fnmatch.fnmatch(d, p) and d.count("/") == p.count("/") for p in include)}
    return found, appset["spec"]["template"]["spec"]["source"]["path"]


@pytest.mark.parametrize("region,overlay", [("us-east-2", "default"), ("us-west-2", "us-west-2"),
                                            ("ap-southeast-7", "default")])
def test_each_region_gets_its_overlay_or_the_default(region, overlay):
    """What the merge generator yields for an edge: its region's directory if the git generator finds one."""
    appset = _appsets()["example"]
    found, template = _overlay_dirs(appset)
    (merge,) = (g["merge"] for g in appset["spec"]["generators"])
    default = merge["generators"][0]["clusters"]["values"]["overlay"]
    chosen = Path(template.replace("{{.values.overlay}}", default)).name
    for directory in found:
        if Path(directory).name == region:
            chosen = Path(directory).name
    assert chosen == overlay
    path = template.replace("{{.values.overlay}}", chosen)
    assert (REPO / path / "kustomization.yaml").is_file(), f"{path} has no kustomization.yaml"


def test_the_application_sets_select_labels_tfgen_secrets_carry():
    secrets = _tfgen_secrets()
    labels = set().union(*(s["metadata"]["labels"] for s in secrets))

    def selectors(node):
        if isinstance(node, dict):
            if "clusters" in node:
                yield node["clusters"]["selector"]["matchLabels"]
            for value in node.values():
                yield from selectors(value)
        elif isinstance(node, list):
            for item in node:
                yield from selectors(item)

    for name, appset in _appsets().items():
        for match in selectors(appset["spec"]["generators"]):
            assert set(match) <= labels, f"ApplicationSet {name} selects on {sorted(set(match) - labels)}"
            assert match[manifests.ROLE_LABEL] == "edge", f"ApplicationSet {name} must select edges only"
        # The project is the one the bootstrap makes for the Secret's environment.
        assert appset["spec"]["template"]["spec"]["project"] == "{{.metadata.labels.environment}}"
        assert appset["spec"]["template"]["metadata"]["finalizers"] == [manifests.RESOURCES_FINALIZER]
    environments = {s["metadata"]["labels"]["environment"] for s in secrets}
    projects = {p["metadata"]["name"] for e in environments for p in manifests.environment_projects(
        e, namespace="argocd", repo_url="https://example.test/r.git", edge_servers=["https://e.example"])}
    assert environments <= projects


def test_each_addon_generator_is_keyed_on_its_enable_label_and_has_a_directory():
    appset = _appsets()["addons"]
    for generator in appset["spec"]["generators"]:
        addon = generator["clusters"]["values"]["addon"]
        assert generator["clusters"]["selector"]["matchLabels"]["enable_" + addon.replace("-", "_")] == "true"
        assert (REPO / "addons" / addon / "kustomization.yaml").is_file(), f"addons/{addon} missing"


def test_the_ebs_storage_class_is_encrypted_gp3():
    (storage_class,) = _documents("addons/aws-ebs-csi-driver/storageclass.yaml")
    assert storage_class["provisioner"] == "ebs.csi.aws.com"
    assert storage_class["parameters"]["type"] == "gp3" and storage_class["parameters"]["encrypted"] == "true"
    assert storage_class["volumeBindingMode"] == "WaitForFirstConsumer"
