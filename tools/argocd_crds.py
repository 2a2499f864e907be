"""Rewrite tfgen/bootstrap/schemas/argocd-<version>.json from Argo CD's CRDs.

Usage::

    python tools/argocd_crds.py PATH --version 3.4.4

PATH is Argo CD's `manifests/crds/` directory (or its `manifests/install.yaml`)
at the tag `v<version>` of github.com/argoproj/argo-cd. The committed file keeps,
for Application, ApplicationSet and AppProject, the `openAPIV3Schema` of the
served storage version with every `description` and the `status` removed (what
validation needs), sorted keys, one line per kind. Older `argocd-*.json` files are removed, so
exactly one version is committed and `tfgen.bootstrap.validate` reads it.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import yaml

KINDS = ("Application", "ApplicationSet", "AppProject")
SCHEMAS = Path(__file__).resolve().parent.parent / "tfgen" / "bootstrap" / "schemas"


def read_crds(path: Path) -> list[dict]:
    """Every CustomResourceDefinition document under `path` (a directory of YAML files or one file)."""
    files = sorted(path.glob("*.yaml")) if path.is_dir() else [path]
    if not files:
        raise SystemExit(f"{path}: no YAML files; give Argo CD's manifests/crds/ or manifests/install.yaml")
    # Argo CD's CRDs are large: libyaml's loader when PyYAML has it (the same documents, several times faster)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return [doc for file in files for doc in yaml.load_all(file.read_text(), Loader=loader)
            if isinstance(doc, dict) and doc.get("kind") == "CustomResourceDefinition"]


def strip_descriptions(node):
    """`node` without `description` keys anywhere (a property named `description` stays)."""
    if isinstance(node, dict):
        result = {}
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                result[key] = {name: strip_descriptions(sub) for name, sub in value.items()}
            elif key != "description":
                result[key] = strip_descriptions(value)
        return result
    if isinstance(node, list):
        return [strip_descriptions(item) for item in node]
    return node


def schemas(crds: list[dict]) -> dict:
    """`{kind: {"apiVersion": group/version, "schema": trimmed openAPIV3Schema}}` for KINDS."""
    found = {}
    for crd in crds:
        spec = crd.get("spec") or {}
        kind = (spec.get("names") or {}).get("kind")
        if kind not in KINDS:
            continue
        versions = [v for v in spec.get("versions", []) if v.get("served") and v.get("storage")]
        if len(versions) != 1:
            raise SystemExit(f"CRD {crd['metadata']['name']}: expected one served storage version, "
                             f"found {len(versions)}")
        schema = strip_descriptions(versions[0]["schema"]["openAPIV3Schema"])
        # Nothing tfgen writes carries a status (the API server ignores it): not worth a third of the file.
        schema.get("properties", {}).pop("status", None)
        found[kind] = {"apiVersion": f"{spec['group']}/{versions[0]['name']}", "schema": schema}
    missing = sorted(set(KINDS) - set(found))
    if missing:
        raise SystemExit(f"no CRD for {', '.join(missing)}; is this Argo CD's manifests/crds/?")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path, help="Argo CD's manifests/crds/ or manifests/install.yaml")
    parser.add_argument("--version", required=True, help="the Argo CD tag the path was read at, e.g. 3.4.4")
    parser.add_argument("--output-dir", type=Path, default=SCHEMAS)
    args = parser.parse_args(argv)
    version = args.version.removeprefix("v")
    if not re.fullmatch(r"\d+\.\d+\.\d+", version):
        raise SystemExit(f"--version {args.version!r} is not an Argo CD release like 3.4.4")
    document = {"source": f"github.com/argoproj/argo-cd v{version} manifests/crds/ (tools/argocd_crds.py)",
                "argocd_version": version, "kinds": schemas(read_crds(args.path))}
    args.output_dir.mkdir(parents=True, exist_ok=True)
    target = args.output_dir / f"argocd-{version}.json"
    for old in args.output_dir.glob("argocd-*.json"):
        if old != target:
            old.unlink()
    # One line per kind: small, and a regeneration's diff still says which kind changed.
    kinds = document.pop("kinds")
    lines = [json.dumps(document, sort_keys=True)[:-1] + ', "kinds": {']
    lines += [f"{json.dumps(kind)}: {json.dumps(kinds[kind], sort_keys=True)}" + ("," if i < len(kinds) - 1 else "")
              for i, kind in enumerate(sorted(kinds))]
    target.write_text("\n".join(lines) + "\n}}\n")
    print(f"wrote {target} ({target.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
