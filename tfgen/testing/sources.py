"""What a fleet assertion reads: the roots of a model, of a built output, or of one plan, as one index each.

The model is rendered (what `tfgen build` would write), an output directory is read as `tfgen check` reads it,
and a plan's configuration is turned back into Terraform JSON (a literal where the plan holds one, a
`${reference}` where it holds a reference), so every assertion asks the same questions of all three.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping, Union

from ..model import Fleet
from ..terraform.index import Root
from ..terraform.plan import Plan
from ..terraform.roots import documents_root, read_root, root_directories

__all__ = ["Source", "roots_of"]

Source = Union[Fleet, Plan, str, Path]
"""A fleet (the model), a built output directory or one root of it, or a `Plan`."""


def roots_of(source: Source) -> dict[str, Root]:
    """`{root name: index}` of a fleet, an output directory (or one root), or a plan (named `plan`)."""
    if isinstance(source, Fleet):
        return _rendered(source)
    if isinstance(source, Plan):
        return {"plan": documents_root({"plan.tf.json": plan_documents(source)})}
    out = Path(source)
    if not out.is_dir():
        raise AssertionError(f"{out} is not a directory; give the OUT of a `tfgen build` (or a root in it)")
    roots = {}
    for directory in root_directories(out):
        name = directory.relative_to(out).as_posix()
        roots[name if name != "." else out.resolve().name] = read_root(directory)
    if not roots:
        raise AssertionError(f"{out} holds no *.tf.json root module; run `tfgen build SPEC --out {out}` first")
    return roots


def _rendered(fleet: Fleet) -> dict[str, Root]:
    from ..pipeline import render

    files, _ = render(fleet)
    grouped: dict[str, dict[str, Any]] = {}
    for name, data in files.items():
        directory, _, file = name.rpartition("/")
        if file.endswith(".tf.json"):
            grouped.setdefault(directory, {})[file] = json.loads(data)
    return {name: documents_root(documents) for name, documents in sorted(grouped.items())}


def plan_documents(plan: Plan) -> dict[str, Any]:
    """The Terraform JSON a plan was made from: its configuration's resources, providers and outputs."""
    configuration = plan.raw.get("configuration", {})
    module = configuration.get("root_module", {})
    resources: dict[str, dict[str, Any]] = {}
    for conf in module.get("resources", []):
        if conf.get("mode") != "managed":
            continue
        body = _expressions(conf.get("expressions", {}))
        key = conf.get("provider_config_key", "")
        if "." in key:
            body["provider"] = key
        resources.setdefault(conf["type"], {})[conf["name"]] = body
    providers: dict[str, list[dict[str, Any]]] = {}
    for key, conf in configuration.get("provider_config", {}).items():
        body = _expressions(conf.get("expressions", {}))
        if conf.get("alias"):
            body["alias"] = conf["alias"]
        providers.setdefault(conf.get("name", key.split(".")[0]), []).append(body)
    outputs = {name: {"value": _expression(conf.get("expression", {}))}
               for name, conf in module.get("outputs", {}).items()}
    return {"resource": resources, "provider": providers, "output": outputs}


def _expressions(expressions: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _expression(value) for name, value in expressions.items()}


def _expression(value: Any) -> Any:
    if isinstance(value, list):  # a nested block, as a list of bodies
        return [_expressions(v) if isinstance(v, dict) else v for v in value]
    if not isinstance(value, dict):
        return value
    if "constant_value" in value:
        return value["constant_value"]
    if "references" in value:
        # every reference of the expression, as interpolations: what it refers to is all a reader asks of it
        return " ".join("${" + reference + "}" for reference in value["references"]) or None
    return _expressions(value)
