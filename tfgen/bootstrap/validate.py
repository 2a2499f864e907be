"""Validation of the manifests the bootstrap applies and the starter GitOps repo holds.

Core kinds (Secret, Namespace, Deployment, StorageClass, ...) are checked against
the Kubernetes schemas `kubernetes-validate` bundles, in strict mode (unknown
fields are errors, as `kubectl apply`'s default server-side field validation
makes them), for tfgen's default Kubernetes version. Argo CD's kinds
(Application, ApplicationSet, AppProject) are checked against the
`openAPIV3Schema` of Argo CD's CRDs committed in `schemas/argocd-<version>.json`
(`tools/argocd_crds.py` rewrites it), made strict the same way. Every problem
is `Kind/name: json.path: message`; all are collected.

`kubernetes-validate` is a test-time dependency (`tfgen-fleet[test]`): it is imported
only when a core kind is validated.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

from ..model.parts import DEFAULT_KUBERNETES_VERSION
from .errors import BootstrapError, ManifestError

__all__ = ["ARGOCD_KINDS", "argocd_schemas", "problems", "validate_manifests"]

ARGOCD_KINDS = ("Application", "ApplicationSet", "AppProject")
SCHEMAS = Path(__file__).parent / "schemas"
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


@functools.lru_cache(maxsize=1)
def argocd_schemas() -> dict:
    """The committed Argo CD CRD schemas: {"argocd_version", "source", "kinds": {kind: {apiVersion, schema}}}."""
    files = sorted(SCHEMAS.glob("argocd-*.json"))
    if len(files) != 1:
        raise BootstrapError(f"{SCHEMAS}: expected one argocd-<version>.json, found {len(files)}; "
                             "run tools/argocd_crds.py on Argo CD's manifests/crds/")
    document = json.loads(files[0].read_text())
    for schema in document["kinds"].values():
        _strict(schema["schema"])
    return document


def _strict(node) -> None:
    """Close every object schema that lists its properties (Kubernetes prunes, strict apply rejects)."""
    if isinstance(node, dict):
        if ("properties" in node and "additionalProperties" not in node
                and not node.get("x-kubernetes-preserve-unknown-fields")):
            node["additionalProperties"] = False
        for value in node.values():
            _strict(value)
    elif isinstance(node, list):
        for item in node:
            _strict(item)


def _path(parts) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(root)"


def _who(manifest) -> str:
    if not isinstance(manifest, dict):
        return "(not a mapping)"
    name = (manifest.get("metadata") or {}).get("name") if isinstance(manifest.get("metadata"), dict) else None
    return f"{manifest.get('kind') or '(no kind)'}/{name or '(no name)'}"


def _metadata(manifest: dict) -> list[str]:
    """What the schemas leave to the API server: the name's format, labels and annotations as strings."""
    meta = manifest.get("metadata")
    if not isinstance(meta, dict):
        return ["metadata: is missing or not a mapping"]
    found = []
    name = meta.get("name")
    if not isinstance(name, str) or len(name) > 253 or not _DNS1123_SUBDOMAIN.match(name):
        found.append(f"metadata.name: {name!r} is not a DNS-1123 name")
    for key in ("labels", "annotations"):
        value = meta.get(key, {})
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            found.append(f"metadata.{key}: must be a mapping of strings")
    return found


def _argocd(manifest: dict) -> list[str]:
    import jsonschema

    document = argocd_schemas()
    entry = document["kinds"][manifest["kind"]]
    if manifest.get("apiVersion") != entry["apiVersion"]:
        return [f"apiVersion: {manifest.get('apiVersion')!r} is not {entry['apiVersion']} "
                f"(Argo CD {document['argocd_version']})"]
    validator = jsonschema.Draft7Validator(entry["schema"])
    found = [f"{_path(error.absolute_path)}: {error.message}"
             for error in sorted(validator.iter_errors(manifest), key=lambda e: list(map(str, e.absolute_path)))]
    return found


def _core(manifest: dict, kubernetes_version: str) -> list[str]:
    try:
        import kubernetes_validate
    except ImportError:
        raise BootstrapError("validating core Kubernetes kinds needs kubernetes-validate: "
                             "pip install 'tfgen-fleet[test]'") from None
    try:
        kubernetes_validate.validate(manifest, kubernetes_version, strict=True)
    except kubernetes_validate.SchemaNotFoundError:
        return [f"kind: unknown kind {manifest.get('kind')!r} with apiVersion {manifest.get('apiVersion')!r} "
                f"(no schema in Kubernetes {kubernetes_version} nor in Argo CD "
                f"{argocd_schemas()['argocd_version']}'s CRDs)"]
    except kubernetes_validate.ValidationError as error:
        return [f"{_path(error.absolute_path)}: {error.message}"]
    return []


def problems(manifest, *, kubernetes_version: str = DEFAULT_KUBERNETES_VERSION) -> list[str]:
    """What is wrong with one manifest (empty: nothing), each `Kind/name: path: message`."""
    who = _who(manifest)
    if not isinstance(manifest, dict):
        return [f"{who}: a manifest must be a mapping"]
    missing = [key for key in ("apiVersion", "kind") if not isinstance(manifest.get(key), str)]
    if missing:
        return [f"{who}: {key}: is missing" for key in missing]
    if manifest["kind"] in ARGOCD_KINDS:
        found = _argocd(manifest)
    else:
        found = _core(manifest, kubernetes_version)
    if not any(problem.startswith("kind:") for problem in found):
        found += [p for p in _metadata(manifest) if p not in found]
    return [f"{who}: {problem}" for problem in found]


def validate_manifests(manifests: list, *, kubernetes_version: str = DEFAULT_KUBERNETES_VERSION,
                       where: str = "") -> None:
    """Raise ManifestError listing every problem of every manifest (`where` prefixes each, e.g. a file)."""
    found = [f"{where}{problem}" for manifest in manifests
             for problem in problems(manifest, kubernetes_version=kubernetes_version)]
    if found:
        raise ManifestError(found)
