"""Regenerate tfgen/lifecycle/replacement.json's facts: which arguments force replacement, per resource type.

    python tools/replacement_table.py GIT_DIR --tag v6.58.0 [--types aws_vpc,aws_eks_cluster]

GIT_DIR is a fetched snapshot of lonegunmanb/terraform-provider-aws-index (the `fetch` tool's
/work/.mirror/lonegunmanb+terraform-provider-aws-index/repo): the Go source of hashicorp/terraform-provider-aws at
each release tag, one file per function (`index/internal/service/<service>/func.<name>.goindex`,
`method.<struct>.Schema.goindex`) and a master index of which function builds each resource type. The upstream
repository itself is too large to fetch here. Nothing of the source is kept: only the extracted paths.

For each type of the committed table (or `--types`) it reads the schema code and prints, as JSON, the paths
(dotted through nested blocks, list indexes dropped) that

- force replacement unconditionally: SDKv2 `ForceNew: true`, plugin-framework `xxxplanmodifier.RequiresReplace()`;
- force it only in some cases (`conditional`): `RequiresReplaceIf*` and provider modifiers, `ForceNew: <expr>`,
  `customdiff.ForceNewIf*`/`d.ForceNew(...)` in the resource's CustomizeDiff (followed one helper deep), and a
  framework resource's `ModifyPlan`;

and then, per type, what differs from the committed table (paths added or gone), so a human reviews the removals
and writes the "when" words of new conditionals (the parser finds conditions, it does not explain them). Schema
values built by helpers it could not follow are listed as `unresolved` (tags, timeouts, id and arn are expected).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TABLE = ROOT / "tfgen" / "lifecycle" / "replacement.json"

try:
    from tools.go_reader import Group, body, elements, field, parse, text
except ModuleNotFoundError:  # run as `python tools/replacement_table.py`: tools/ itself is on sys.path
    from go_reader import Group, body, elements, field, parse, text  # type: ignore[no-redef]


_ACRONYMS = ("IOPS", "URI", "IPv6", "IPv4", "IDs", "ARNs", "CIDR", "VPC", "KMS", "ARN", "DNS", "URL", "IAM", "SSE",
             "TTL", "JSON", "MFA", "EBS", "AMI", "SNS", "SQS", "OIDC", "ASN", "IP", "ID", "AZ", "S3")


def snake(constant: str) -> str:
    """`names.AttrVPCID`'s argument name (`vpc_id`): the provider generates these constants from the names."""
    name, parts, i = constant.removeprefix("Attr"), [], 0
    while i < len(name):
        acronym = next((a for a in _ACRONYMS if name.startswith(a, i)
                        and (i + len(a) == len(name) or not name[i + len(a)].islower())), None)
        word = acronym or re.match(r"[A-Z]?[a-z0-9]+|[A-Z]", name[i:]).group(0)
        parts.append(word.lower())
        i += len(word)
    return "_".join(parts)


def argument(value: str) -> str:
    """A path written as a string literal or a `names.Attr...` constant, list indexes dropped."""
    path = value.strip('"`') if value[0] in '"`' else snake(value.split(".", 1)[1])
    return re.sub(r"\.\d+(?=\.|$)", "", path)


# -- the snapshot ----------------------------------------------------------------------------------

# Types whose schema function the master index's create method does not name.
_SCHEMA_FILES = {
    "aws_flow_log": ("ec2", "sdk", "func.resourceFlowLog"),
    "aws_vpc_peering_connection_accepter": ("ec2", "sdk", "func.resourceVPCPeeringConnectionAccepter"),
    "aws_vpc_security_group_egress_rule": ("ec2", "framework", "method.securityGroupRuleResource.Schema"),
    "aws_vpc_security_group_ingress_rule": ("ec2", "framework", "method.securityGroupRuleResource.Schema"),
}


class Snapshot:
    """The index repository at one tag, read with `git show`."""

    def __init__(self, git_dir: Path, tag: str):
        self.git_dir, self.tag = git_dir, tag

    def show(self, path: str) -> str | None:
        ran = subprocess.run(["git", "--git-dir", str(self.git_dir), "show", f"{self.tag}:{path}"],
                             capture_output=True, text=True)
        return ran.stdout if ran.returncode == 0 else None

    def commit(self) -> str:
        return subprocess.run(["git", "--git-dir", str(self.git_dir), "rev-list", "-n1", self.tag],
                              capture_output=True, text=True, check=True).stdout.strip()

    def helper(self, service: str, name: str) -> tuple[str | None, str | None]:
        """The source of a function or var of the service's package (or of the shared sdkv2/tags packages)."""
        shared = {"sdkv2": "index/internal/sdkv2/", "tftags": "index/internal/tags/"}
        package, _, short = name.rpartition(".")
        if package and package not in shared:
            return None, None
        base = shared.get(package, f"index/internal/service/{service}/")
        for kind in ("func", "var"):
            path = f"{base}{kind}.{short}.goindex"
            source = self.show(path)
            if source:
                return source, path
        return None, None

    def locate(self, types) -> dict[str, tuple[str, str, str]]:
        """type -> (service, "sdk" or "framework", the file holding its schema)."""
        master = json.loads(self.show("index/terraform-provider-aws-index.json") or "{}")
        found: dict[str, tuple[str, str, str]] = {}
        for service in master.get("services", []):
            name, base = service["service_name"], f"index/internal/service/{service['service_name']}/"
            for type_, entry in (service.get("aws_framework_resources") or {}).items():
                if type_ in types and entry.get("struct_type"):
                    found[type_] = (name, "framework", f"{base}method.{entry['struct_type']}.Schema.goindex")
            for type_, entry in (service.get("resource_crud_methods") or {}).items():
                if type_ in types and type_ not in found:
                    create = entry.get("create_method", "")
                    function = re.sub(r"(Create|Put)$", "", create)
                    found[type_] = (name, "sdk", f"{base}func.{function}.goindex")
        for type_, (service, kind, name) in _SCHEMA_FILES.items():
            if type_ in types:
                found[type_] = (service, kind, f"index/internal/service/{service}/{name}.goindex")
        return found


# -- one type ---------------------------------------------------------------------------------------

class Extraction:
    """What one type's schema says: force_new paths, conditional ones (path -> how), what was not followed."""

    def __init__(self, snapshot: Snapshot, service: str):
        self.snapshot, self.service = snapshot, service
        self.force_new: set[str] = set()
        self.conditional: dict[str, str] = {}
        self.unresolved: list[str] = []
        self.files: set[str] = set()

    def follow(self, name: str) -> str | None:
        source, path = self.snapshot.helper(self.service, name)
        if path:
            self.files.add(path)
        return source

    # SDKv2: map[string]*schema.Schema{...}
    def schema_of(self, value) -> tuple[str, Group] | None:
        """A schema value as ("schema", its literal) or ("map", a schema map), following a helper call."""
        head = text(value)
        if head.startswith(("{", "&schema.Schema{", "schema.Schema{")) and body(value) is not None:
            return "schema", body(value)
        if head.startswith("map[string]*schema.Schema{"):
            return "map", body(value)
        call = re.fullmatch(r"([A-Za-z_][\w.]*)(?:\(\))?", head)
        source = self.follow(call.group(1)) if call else None
        return _returned_schema(parse(source)) if source else None

    def walk(self, schema_map: Group, prefix: str = "") -> None:
        for key, value in elements(schema_map):
            if key is None:
                continue
            name = prefix + self.key(key)
            found = self.schema_of(value)
            if found is None:
                self.unresolved.append(name)
                continue
            kind, literal = found
            if kind == "map":
                self.walk(literal, name + ".")
                continue
            force = field(literal, "ForceNew")
            if force is not None:
                if text(force) == "true":
                    self.force_new.add(name)
                else:
                    self.conditional[name] = f"ForceNew: {text(force)}"
            elem = field(literal, "Elem")
            if elem is not None and not text(elem).startswith(("&schema.Schema{", "schema.Schema{")):
                nested = self.resource_schema(elem)
                if nested is None:
                    self.unresolved.append(name + ".*")
                else:
                    self.walk(nested, name + ".")

    def resource_schema(self, elem) -> Group | None:
        """The schema map of an `Elem: &schema.Resource{Schema: ...}` (inline or from a helper)."""
        if text(elem).startswith(("&schema.Resource{", "schema.Resource{")):
            schema = field(body(elem), "Schema")
            found = self.schema_of(schema) if schema is not None else None
            return found[1] if found and found[0] == "map" else None
        source = self.follow(re.sub(r"\(\)$", "", text(elem)))
        return _first_schema_map(parse(source)) if source else None

    def key(self, key) -> str:
        written = text(key)
        if written[0] in '"`' or written.startswith("names.Attr"):
            return argument(written)
        source = self.follow(written)  # a package constant or var holding the name
        match = re.search(r'=\s*"([^"]+)"', source or "")
        return match.group(1) if match else f"<{written}>"

    def customize_diff(self, source: str) -> None:
        """`ForceNew` calls in the resource function and in the functions its CustomizeDiff names."""
        sources = [source]
        named = re.search(r"CustomizeDiff:\s*(.*?)\n\t\t[A-Z]\w*:", source, re.S)
        for helper in sorted(set(re.findall(r"\b([a-z]\w*(?:Diff|CustomizeDiff|validate)\w*)\b",
                                            named.group(1) if named else ""))):
            found = self.follow(helper)
            if found:
                sources.append(found)
        for text_ in sources:
            for match in re.finditer(r'(customdiff\.ForceNewIf\w*|\.ForceNew)\(\s*("[^"]*"|names\.\w+)', text_):
                path = argument(match.group(2))
                if path not in self.force_new:
                    self.conditional.setdefault(path, f"CustomizeDiff {match.group(1).lstrip('.')}")

    # plugin framework: resp.Schema = schema.Schema{Attributes: ..., Blocks: ...}
    def walk_framework(self, group: Group, prefix: str = "") -> None:
        for key, value in elements(group):
            if key is None:
                continue
            name, literal = prefix + argument(text(key)) if text(key)[0] in '"`' or "names." in text(key) \
                else prefix + f"<{text(key)}>", body(value)
            if literal is None:
                self.unresolved.append(name)
                continue
            modifiers = field(literal, "PlanModifiers")
            found = re.findall(r"[\w.]*RequiresReplace\w*", text(modifiers)) if modifiers is not None else []
            if any(m.endswith("planmodifier.RequiresReplace") for m in found):
                self.force_new.add(name)
            elif found:
                self.conditional[name] = ", ".join(sorted(set(found)))
            nested = field(literal, "NestedObject")
            holder = body(nested) if nested is not None and body(nested) is not None else literal
            for part in ("Attributes", "Blocks"):
                inner = field(holder, part)
                if inner is not None and body(inner) is not None:
                    self.walk_framework(body(inner), name + ".")

    def modify_plan(self, struct: str) -> None:
        path = f"index/internal/service/{self.service}/method.{struct}.ModifyPlan.goindex"
        source = self.snapshot.show(path)
        if not source:
            return
        self.files.add(path)
        for match in re.finditer(r"RequiresReplace\w*\s*=?\s*(?:append\([^,]+,\s*)?(?:path\.Paths\{)?"
                                 r"path\.Root\(([^)]+)\)", source):
            path_ = argument(match.group(1))
            if path_ not in self.force_new:
                self.conditional.setdefault(path_, "ModifyPlan RequiresReplace")


def _returned_schema(tree: Group) -> tuple[str, Group] | None:
    """The first `&schema.Schema{...}` or `map[string]*schema.Schema{...}` literal a helper builds."""
    items = list(tree)
    for i, item in enumerate(items):
        if isinstance(item, Group) and item.kind == "{":
            head = text(items[max(0, i - 6):i])
            signature = i >= 7 and isinstance(items[i - 7], Group) and items[i - 7].kind == "("
            if head.endswith("map[string]*schema.Schema") and not signature:
                return "map", item
            if head.endswith(("&schema.Schema", "schema.Schema")) and not head.endswith("*schema.Schema"):
                return "schema", item
            found = _returned_schema(item)
            if found:
                return found
        elif isinstance(item, Group):
            found = _returned_schema(item)
            if found:
                return found
    return None


def _first_schema_map(tree: Group) -> Group | None:
    for item in tree:
        if isinstance(item, Group):
            if item.kind == "{":
                schema = field(item, "Schema")
                if schema is not None and text(schema).startswith("map[string]*schema.Schema{"):
                    return body(schema)
            found = _first_schema_map(item)
            if found is not None:
                return found
    return None


def extract(snapshot: Snapshot, service: str, kind: str, path: str) -> Extraction | None:
    """One type's paths from its schema file (None when the file is not in the snapshot)."""
    source = snapshot.show(path)
    if source is None:
        return None
    found = Extraction(snapshot, service)
    found.files.add(path)
    tree = parse(source)
    if kind == "framework":
        top = _framework_top(tree)
        for part in top:
            found.walk_framework(part)
        found.modify_plan(re.search(r"method\.(\w+)\.Schema", path).group(1))
        return found
    schema = _resource_schema(found, tree)
    if schema is not None:
        found.walk(schema)
    else:
        found.unresolved.append("<schema>")
    found.customize_diff(source)
    return found


def _resource_schema(found: Extraction, tree: Group) -> Group | None:
    """The `Schema:` (or `SchemaFunc:`) map of the `&schema.Resource{...}` a resource function returns."""
    for item in tree:
        if not isinstance(item, Group):
            continue
        if item.kind == "{":
            for key, value in elements(item):
                if key is None or text(key) not in ("Schema", "SchemaFunc"):
                    continue
                head = text(value)
                if head.startswith("map[string]*schema.Schema{"):
                    return body(value)
                if head.startswith("func()"):
                    returned = _returned_schema(body(value))
                else:
                    source = found.follow(head)
                    returned = _returned_schema(parse(source)) if source else None
                if returned and returned[0] == "map":
                    return returned[1]
        nested = _resource_schema(found, item)
        if nested is not None:
            return nested
    return None


def _framework_top(tree: Group) -> list[Group]:
    """The outermost literal with `Attributes:` or `Blocks:` (the resource's schema)."""
    for item in tree:
        if isinstance(item, Group):
            if item.kind == "{":
                parts = [field(item, "Attributes"), field(item, "Blocks")]
                if any(p is not None for p in parts):
                    return [body(p) for p in parts if p is not None and body(p) is not None]
            found = _framework_top(item)
            if found:
                return found
    return []


# -- the table --------------------------------------------------------------------------------------

_EXPECTED_UNRESOLVED = re.compile(r"^(tags|tags_all|timeouts|id|arn|policy)(\.\*)?$")


def table(snapshot: Snapshot, types: list[str]) -> dict[str, dict]:
    located = snapshot.locate(set(types))
    rows: dict[str, dict] = {}
    for type_ in sorted(types):
        if type_ not in located:
            rows[type_] = {"missing": "not registered at this tag"}
            continue
        found = extract(snapshot, *located[type_])
        if found is None:
            rows[type_] = {"missing": f"no schema source at {located[type_][2]}"}
            continue
        rows[type_] = {"force_new": sorted(found.force_new), "conditional": dict(sorted(found.conditional.items())),
                       "unresolved": sorted(u for u in set(found.unresolved) if not _EXPECTED_UNRESOLVED.match(u)),
                       "index_files": sorted(found.files)}
    return rows


def compare(rows: dict[str, dict], committed: dict[str, dict]) -> list[str]:
    """Per type, the paths added to or gone from the committed table's force_new and conditional sets."""
    lines = []
    for type_, row in sorted(rows.items()):
        old = committed.get(type_, {})
        for part in ("force_new", "conditional"):
            new_paths, old_paths = set(row.get(part, ())), set(old.get(part, ()))
            for path in sorted(new_paths - old_paths):
                lines.append(f"{type_}: {part} + {path}")
            for path in sorted(old_paths - new_paths):
                lines.append(f"{type_}: {part} - {path}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("git_dir", type=Path, help="the index snapshot's git directory")
    parser.add_argument("--tag", required=True, help="the provider release, e.g. v6.58.0")
    parser.add_argument("--types", help="comma-separated types (default: every type of the committed table)")
    args = parser.parse_args(argv)
    committed = json.loads(TABLE.read_text())["types"]
    types = args.types.split(",") if args.types else sorted(committed)
    snapshot = Snapshot(args.git_dir, args.tag)
    rows = table(snapshot, types)
    print(json.dumps({"tag": args.tag, "commit": snapshot.commit(), "types": rows}, indent=1, sort_keys=True))
    changed = compare(rows, committed)
    print(f"{len(changed)} difference(s) from {TABLE.relative_to(ROOT)}:", *changed, sep="\n  ", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
