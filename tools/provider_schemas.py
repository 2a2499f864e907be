"""Regenerate tfgen/providers/schemas/aws-<version>.json: the argument schemas tfgen checks its output against.

Why: tfgen's output targets hashicorp/aws 6.x and the last 5.x, but the only provider binary that runs offline
is 3.39 (TOOLCHAIN.md). So:

- 3.39.0 comes from the real binary, `terraform providers schema -json`
  (ground truth), through the offline toolchain (`tfgen-fleet[toolchain]`);
- 5.100.0 and 6.25.0 are read from the code cdktf generated from those
  providers' schemas, shipped on PyPI as `cdktf-cdktf-provider-aws` 20.1.0 and
  21.22.1. Per resource, `lib/<name>/index.js` lists every argument in
  `synthesizeHclAttributes()` with the converter that writes it, which says
  attribute or block, max-one or repeated, and the attribute's type;
  `index.d.ts` says which arguments are optional; the TypeScript in the
  sourcemap has a `// name - computed, optional, required` comment per
  argument, used as a cross-check.

What cdktf's code does not carry: computed-only attributes (they are not arguments, so the 3.39 file drops them
too), `max_items` of repeated blocks (null), descriptions. `min_items` is 1 for a block the config interface
requires, else null. The provider's `alias` is a meta-argument and is dropped.

Every file has one format::

    {"provider_version": "6.25.0", "source": "...", "provider": BLOCK,
     "resources": {"aws_vpc": BLOCK, ...}}
    BLOCK = {"attributes": {name: {"type": TYPE, "required": bool, "optional": bool}},
             "blocks": {name: {"nesting": "single"|"list"|"set", "max_items": n|null,
                               "min_items": n|null, "block": BLOCK}}}

TYPE is Terraform's JSON type notation ("string", ["set", "string"], ["list",
["object", {...}]]).

The extraction is validated against the real 3.39 schema: every (resource type, argument path) present both
there and in the 5.100.0 extraction is compared (attribute or block, nesting, max-one, attribute type); the
differences that remain must be real provider changes, listed with a reason in `PROVIDER_CHANGES` below.
tests/test_schema.py repeats the comparison on the committed files.

Usage (about a minute: 115 MB download, 1.1 GB unpacked in the work dir; the output is deterministic)::

    .venv/bin/python tools/provider_schemas.py              # regenerate all three, print validation
    .venv/bin/python tools/provider_schemas.py --work /tmp/schema-work   # reuse downloads
    .venv/bin/python tools/provider_schemas.py --validate   # only compare the committed files

To cover another resource type, add it to `RESOURCE_TYPES` and regenerate.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SCHEMAS = REPO / "tfgen" / "providers" / "schemas"
sys.path.insert(0, str(REPO))

# The one list: resource types tfgen emits (or emits after today's work), kept in every file.
RESOURCE_TYPES = (
    "aws_vpc", "aws_subnet", "aws_route_table", "aws_route_table_association", "aws_route",
    "aws_internet_gateway", "aws_nat_gateway", "aws_eip",
    "aws_default_security_group", "aws_security_group", "aws_security_group_rule",
    "aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule",
    "aws_flow_log", "aws_cloudwatch_log_group", "aws_kms_key", "aws_kms_alias",
    "aws_iam_role", "aws_iam_role_policy", "aws_iam_role_policy_attachment",
    "aws_iam_instance_profile", "aws_iam_openid_connect_provider",
    "aws_eks_cluster", "aws_eks_node_group", "aws_eks_addon", "aws_eks_access_entry",
    "aws_eks_access_policy_association", "aws_eks_pod_identity_association",
    "aws_vpc_peering_connection", "aws_vpc_peering_connection_accepter",
    "aws_ec2_transit_gateway", "aws_ec2_transit_gateway_route_table",
    "aws_ec2_transit_gateway_vpc_attachment", "aws_ec2_transit_gateway_route_table_association",
    "aws_ec2_transit_gateway_route_table_propagation", "aws_ec2_transit_gateway_route",
    "aws_ec2_transit_gateway_peering_attachment", "aws_ec2_transit_gateway_peering_attachment_accepter",
    "aws_instance", "aws_launch_template", "aws_ebs_encryption_by_default", "aws_ebs_default_kms_key",
    "aws_vpc_endpoint",
    "aws_s3_bucket", "aws_s3_bucket_versioning", "aws_s3_bucket_server_side_encryption_configuration",
    "aws_s3_bucket_public_access_block", "aws_s3_bucket_policy", "aws_s3_bucket_ownership_controls",
    "aws_s3_bucket_lifecycle_configuration", "aws_dynamodb_table",
    "aws_ssm_document", "aws_ssm_association", "aws_eks_capability",
    "aws_s3_object", "aws_s3_bucket_object",  # the bootstrap's registration data (3.x: aws_s3_bucket_object)
)

# Provider version -> the cdktf-cdktf-provider-aws release generated from it.
CDKTF_RELEASES = {"5.100.0": "20.1.0", "6.25.0": "21.22.1"}

# Where the real 3.39 schema and the 5.100 extraction legitimately differ: the provider changed
# between May 2021 and May 2025. Keys are `type.path: what differs`; the validation fails on any
# difference not listed here (an extractor bug until explained).
PROVIDER_CHANGES = {
    'aws_iam_openid_connect_provider.client_id_list: attribute ["list", "string"] -> attribute ["set", "string"]':
        "client_id_list became a set after 3.39 (order-insensitive)",
    "aws_route_table.route: attribute": "inline routes lost instance_id (5.0) and gained core_network_arn (4.x)",
    "aws_s3_bucket.logging: block set repeated -> block list max-one":
        "4.0 split S3 bucket settings into their own resources; the inline logging became a max-one list",
    "provider.assume_role: block list max-one -> block list repeated":
        "5.x allows several assume_role blocks (IAM role chaining, terraform-provider-aws#39255)",
    'provider.skip_metadata_api_check: attribute "bool" -> attribute "string"':
        '5.0 made skip_metadata_api_check a string ("true", "false" or empty for the environment default)',
}

# Required in 3.39, optional in 5.100: the provider relaxed them (IPAM-allocated CIDRs, launch templates,
# private NAT gateways, name_prefix, region from the environment, OIDC without thumbprints in 5.81, ...).
# An extractor that lost `?` markers would show the reverse direction, which the validation rejects.
RELAXED_SINCE_339 = (
    "aws_dynamodb_table.attribute", "aws_dynamodb_table.hash_key", "aws_dynamodb_table.ttl.attribute_name",
    "aws_eks_node_group.node_group_name", "aws_flow_log.traffic_type",
    "aws_iam_openid_connect_provider.thumbprint_list",
    "aws_instance.ami", "aws_instance.instance_type", "aws_nat_gateway.allocation_id",
    "aws_s3_bucket.object_lock_configuration.object_lock_enabled", "aws_subnet.cidr_block", "aws_vpc.cidr_block",
    "aws_vpc_endpoint.service_name", "provider.region",
)

# cdktf writes every provider block as a repeated list (providers have no output references), so the
# provider's max-one blocks are not in its code. These have been max-one since 3.38 (the real 3.39
# schema says so) and still are; others stay unknown (null).
PROVIDER_MAX_ONE = ("default_tags", "ignore_tags")

_SCALARS = {
    "cdktf.stringToHclTerraform": "string",
    "cdktf.numberToHclTerraform": "number",
    "cdktf.booleanToHclTerraform": "bool",
    "cdktf.anyToHclTerraform": "dynamic",
}
_ENTRY = re.compile(
    r'(?P<name>\w+): \{\s*value: (?P<value>.*?),\s*isBlock: (?P<block>true|false),'
    r'\s*type: "(?P<kind>\w+)",\s*storageClassType: "(?P<storage>\w+)",\s*\}',
    re.S,
)
_CONVERTER_FN = re.compile(r"function (\w+ToHclTerraform)\(struct\) \{(.*?)\n\}", re.S)
_ATTRS = re.compile(r"const attrs = \{(.*?)\n\s*\};", re.S)
_SOURCE = re.compile(r"\((?:this\._(\w+)(?:\.internalValue)?|struct\.(\w+))\)$")
_GUARD = re.compile(r"^struct\.\w+ === undefined \? null : ")
_INTERFACE = re.compile(r"export interface (\w+)(?: extends [\w.]+)? \{(.*?)\n\}", re.S)
_FIELD = re.compile(r"readonly (\w+)(\??):")
_DECLARED_FN = re.compile(r"export declare function (\w+ToHclTerraform)\(struct\??: ([\w.| ]+)\)")
_CONSTRUCTOR = re.compile(r"constructor\(scope: Construct, id: string, config\??: (\w+)\)")
_COMMENT = re.compile(r"// (\w+) - computed: (true|false), optional: (true|false), required: (true|false)")


class ExtractionError(Exception):
    """The generated code has a shape this extractor does not know; extend `_converter`."""


# --------------------------------------------------------------------------- 3.39: the real binary

def _normalise_real_block(block: dict) -> dict:
    attributes = {}
    for name, attr in sorted(block.get("attributes", {}).items()):
        required, optional = bool(attr.get("required")), bool(attr.get("optional"))
        if required or optional:  # computed-only attributes are results, not arguments
            attributes[name] = {"type": attr["type"], "required": required, "optional": optional}
    blocks = {}
    for name, nested in sorted(block.get("block_types", {}).items()):
        blocks[name] = {
            "nesting": nested["nesting_mode"],
            "max_items": nested.get("max_items"),
            "min_items": nested.get("min_items"),
            "block": _normalise_real_block(nested["block"]),
        }
    return {"attributes": attributes, "blocks": blocks}


def real_schema(work: Path) -> dict:
    """The 3.39.0 schema from `terraform providers schema -json` on the offline toolchain."""
    from tfgen.terraform.toolchain import PROVIDER_VERSION, Toolchain

    toolchain = Toolchain(work / "terraform")
    root = work / "terraform" / "root"
    root.mkdir(parents=True, exist_ok=True)
    (root / "main.tf.json").write_text(json.dumps(
        {"terraform": {"required_providers": {"aws": {"source": "hashicorp/aws", "version": PROVIDER_VERSION}}}}))
    env = {**os.environ, **toolchain.env}
    subprocess.run([toolchain.terraform, "init", "-no-color"], cwd=root, env=env, check=True, capture_output=True)
    out = subprocess.run([toolchain.terraform, "providers", "schema", "-json"],
                         cwd=root, env=env, check=True, capture_output=True)
    schemas = json.loads(out.stdout)["provider_schemas"]["registry.terraform.io/hashicorp/aws"]
    resources = schemas["resource_schemas"]
    return {
        "provider_version": PROVIDER_VERSION,
        "source": f"terraform providers schema -json, terraform-provider-aws_{PROVIDER_VERSION}_linux_amd64.zip",
        "provider": _normalise_real_block(schemas["provider"]["block"]),
        "resources": {t: _normalise_real_block(resources[t]["block"]) for t in RESOURCE_TYPES if t in resources},
    }


# --------------------------------------------------------------------------- 5.x / 6.x: cdktf's code

def unpack_cdktf(release: str, work: Path) -> Path:
    """Download the cdktf-cdktf-provider-aws wheel and unpack its npm package; returns `package/`."""
    target = work / f"cdktf-{release}"
    package = target / "package"
    if package.is_dir():
        return package
    wheels = work / "wheels"
    wheel = next(iter(wheels.glob(f"cdktf_cdktf_provider_aws-{release}-*.whl")), None)
    if wheel is None:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                        f"cdktf-cdktf-provider-aws=={release}", "-d", str(wheels)], check=True)
        wheel = next(wheels.glob(f"cdktf_cdktf_provider_aws-{release}-*.whl"))
    target.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel) as archive:
        member = next(n for n in archive.namelist() if n.endswith(".jsii.tgz"))
        tgz = target / Path(member).name
        tgz.write_bytes(archive.read(member))
    with tarfile.open(tgz) as archive:
        if hasattr(tarfile, "data_filter"):  # Python >= 3.11.4: refuse paths outside target
            archive.extractall(target, filter="data")
        else:
            archive.extractall(target)
    tgz.unlink()
    return package


def provider_version_of(package: Path) -> str:
    """The hashicorp/aws version a cdktf package was generated from (package.json)."""
    meta = json.loads((package / "package.json").read_text())
    return meta["cdktf"]["provider"]["version"]


class _Module:
    """One generated resource module: its converter functions and TypeScript interfaces."""

    def __init__(self, directory: Path):
        js = (directory / "index.js").read_text()
        code, _, sourcemap = js.partition("//# sourceMappingURL=data:application/json;base64,")
        self.functions = {m.group(1): m.group(2) for m in _CONVERTER_FN.finditer(code)}
        synth = code.split("synthesizeHclAttributes() {", 1)
        if len(synth) != 2:
            raise ExtractionError(f"{directory}: no synthesizeHclAttributes()")
        self.top = _ATTRS.search(synth[1]).group(1)
        self.config_field = dict(re.findall(r"this\._(\w+) = config\.(\w+);", code))
        dts = (directory / "index.d.ts").read_text()
        self.interfaces = {m.group(1): dict((f, q == "?") for f, q in _FIELD.findall(m.group(2)))
                           for m in _INTERFACE.finditer(dts)}
        # `struct?: XOutputReference | X` or `struct?: X | cdktf.IResolvable`: X is the interface.
        self.struct_of = {fn: next(t for t in types.split(" | ") if t in self.interfaces)
                          for fn, types in _DECLARED_FN.findall(dts)}
        constructor = _CONSTRUCTOR.search(dts)
        if constructor is None:
            raise ExtractionError(f"{directory}: no construct constructor in index.d.ts")
        self.config = constructor.group(1)
        self.comments = self._comments(sourcemap)
        self.cross_checked = 0

    @staticmethod
    def _comments(sourcemap: str) -> dict[str, dict[str, tuple[bool, bool, bool]]]:
        """`{class: {snake name: (computed, optional, required)}}` from the TypeScript source."""
        if not sourcemap:
            return {}
        source = json.loads(base64.b64decode(sourcemap.strip()))["sourcesContent"][0]
        found: dict[str, dict[str, tuple[bool, bool, bool]]] = {}
        for part in re.split(r"\nexport class ", source)[1:]:
            name = part.split(" ", 1)[0]
            found[name] = {m.group(1): tuple(v == "true" for v in m.group(2, 3, 4)) for m in _COMMENT.finditer(part)}
        return found

    def block(self, attrs_source: str, interface: str, comment_class: str | None, path: str,
              mismatches: list[str]) -> dict:
        """A normalised BLOCK from one `const attrs = {...}` body."""
        optional_of = self.interfaces.get(interface)
        if optional_of is None:
            raise ExtractionError(f"{path}: interface {interface} not found in index.d.ts")
        comments = self.comments.get(comment_class or "", {})
        attributes, blocks = {}, {}
        for entry in _ENTRY.finditer(attrs_source):
            name = entry.group("name")
            value = _GUARD.sub("", entry.group("value").strip())
            source = _SOURCE.search(value)
            if source is None:
                raise ExtractionError(f"{path}.{name}: cannot read the source field of {value!r}")
            # A resource's argument is `this._x`, set from `config.y` (cdktf renames some: self,
            # get_password_data); a nested block's is `struct.y`.
            field = self.config_field.get(source.group(1), source.group(1)) if source.group(1) else source.group(2)
            if field not in optional_of and f"{field}Attribute" in optional_of:
                field = f"{field}Attribute"
            if field not in optional_of:
                raise ExtractionError(f"{path}.{name}: field {field} not in interface {interface}")
            optional = optional_of[field]
            converter = value[: source.start()]
            kind = self._converter(converter, entry.group("kind"), entry.group("block") == "true", f"{path}.{name}",
                                   mismatches)
            if name in comments:
                self.cross_checked += 1
                computed, c_optional, c_required = comments[name]
                if c_required == optional or (not c_required and not c_optional):
                    mismatches.append(f"{path}.{name}: index.d.ts optional={optional}, "
                                      f"source comment optional={c_optional} required={c_required}")
            if kind[0] == "attribute":
                attributes[name] = {"type": kind[1], "required": not optional, "optional": optional}
            else:
                _, nesting, max_items, struct_fn = kind
                struct = self.struct_of[struct_fn]
                body = _ATTRS.search(self.functions[struct_fn]).group(1)
                blocks[name] = {
                    "nesting": nesting,
                    "max_items": max_items,
                    "min_items": None if optional else 1,
                    "block": self.block(body, struct, f"{struct}OutputReference", f"{path}.{name}", mismatches),
                }
        return {"attributes": dict(sorted(attributes.items())), "blocks": dict(sorted(blocks.items()))}

    def _object_type(self, struct_fn: str, path: str, mismatches: list[str]) -> list:
        body = _ATTRS.search(self.functions[struct_fn]).group(1)
        inner = self.block(body, self.struct_of[struct_fn], None, path, mismatches)
        if inner["blocks"]:
            raise ExtractionError(f"{path}: an object attribute with nested blocks")
        return ["object", {n: a["type"] for n, a in inner["attributes"].items()}]

    def _converter(self, converter: str, kind: str, is_block: bool, path: str, mismatches: list[str]) -> tuple:
        """('attribute', TYPE) or ('block', nesting, max_items, struct converter) for one converter call."""
        if converter in _SCALARS:
            return ("attribute", _SCALARS[converter])
        collection = re.fullmatch(r"cdktf\.listMapperHcl\((.+), (true|false)\)", converter)
        if collection:
            element, repeated_block = collection.group(1), collection.group(2) == "true"
            if kind not in ("list", "set"):
                raise ExtractionError(f"{path}: listMapperHcl with type {kind}")
            if element in _SCALARS:
                return ("attribute", [kind, _SCALARS[element]])
            if element not in self.functions:
                nested = self._converter(element, "list", False, path, mismatches)
                if nested[0] != "attribute":
                    raise ExtractionError(f"{path}: list of {element}")
                return ("attribute", [kind, nested[1]])
            if repeated_block:
                return ("block", kind, None, element)
            return ("attribute", [kind, self._object_type(element, path, mismatches)])
        mapping = re.fullmatch(r"cdktf\.hashMapperHcl\((.+)\)", converter)
        if mapping:
            element = mapping.group(1)
            if element in _SCALARS:
                return ("attribute", ["map", _SCALARS[element]])
            if element in self.functions:
                return ("attribute", ["map", self._object_type(element, path, mismatches)])
            raise ExtractionError(f"{path}: map of {element}")
        if converter in self.functions:
            if not is_block:
                return ("attribute", self._object_type(converter, path, mismatches))
            if kind == "struct":
                return ("block", "single", None, converter)
            return ("block", kind, 1, converter)
        raise ExtractionError(f"{path}: unknown converter {converter!r} (type {kind})")


def _module_dir(package: Path, type_: str) -> Path | None:
    directory = package / "lib" / type_.removeprefix("aws_").replace("_", "-")
    if not (directory / "index.js").is_file():
        return None
    if f'tfResourceType = "{type_}"' not in (directory / "index.js").read_text():
        raise ExtractionError(f"{directory} is not the module of {type_}")
    return directory


def cdktf_schema(package: Path, release: str) -> tuple[dict, list[str], int]:
    """The normalised schema of one unpacked cdktf package, the cross-check mismatches, arguments cross-checked."""
    mismatches: list[str] = []
    checked = 0
    version = provider_version_of(package)
    resources = {}
    for type_ in RESOURCE_TYPES:
        directory = _module_dir(package, type_)
        if directory is None:
            continue
        module = _Module(directory)
        main_class = module.config.removesuffix("Config")
        resources[type_] = module.block(module.top, module.config, main_class, type_, mismatches)
        checked += module.cross_checked
    provider_module = _Module(package / "lib" / "provider")
    provider = provider_module.block(provider_module.top, provider_module.config, "AwsProvider", "provider", mismatches)
    checked += provider_module.cross_checked
    provider["attributes"].pop("alias", None)
    for name in PROVIDER_MAX_ONE:
        provider["blocks"][name]["max_items"] = 1  # a meta-argument, not part of the provider's schema
    schema = {
        "provider_version": version,
        "source": f"cdktf-cdktf-provider-aws {release} (PyPI), generated from hashicorp/aws {version}",
        "provider": provider,
        "resources": resources,
    }
    return schema, mismatches, checked


# --------------------------------------------------------------------------- validation

def explain(disagreement: str) -> str | None:
    """The recorded provider change behind one disagreement (keys match by prefix), or None."""
    return next((why for key, why in PROVIDER_CHANGES.items() if disagreement.startswith(key)), None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--work", type=Path, help="download/unpack directory (default: a fresh temp dir)")
    parser.add_argument("--out", type=Path, default=SCHEMAS, help=f"where to write (default {SCHEMAS})")
    parser.add_argument("--validate", action="store_true", help="only validate the committed files")
    args = parser.parse_args(argv)
    from tfgen.providers.schema import compare_schemas

    if not args.validate:
        work = args.work or Path(tempfile.mkdtemp(prefix="tfgen-schemas-"))
        work.mkdir(parents=True, exist_ok=True)
        schemas = [real_schema(work)]
        for expected, release in CDKTF_RELEASES.items():
            package = unpack_cdktf(release, work)
            version = provider_version_of(package)
            if version != expected:
                raise SystemExit(f"cdktf-cdktf-provider-aws {release} targets {version}, not {expected}")
            schema, mismatches, checked = cdktf_schema(package, release)
            for line in mismatches:
                print(f"cross-check {version}: {line}")
            print(f"{version}: {len(schema['resources'])} resource types; required/optional of {checked} arguments "
                  f"cross-checked against the source comments, {len(mismatches)} disagree")
            schemas.append(schema)
        args.out.mkdir(parents=True, exist_ok=True)
        for schema in schemas:
            path = args.out / f"aws-{schema['provider_version']}.json"
            path.write_text(json.dumps(schema, sort_keys=True, separators=(",", ":")) + "\n")
            print(f"wrote {path} ({path.stat().st_size // 1024} KiB, {len(schema['resources'])} resource types)")
    real = json.loads((args.out / "aws-3.39.0.json").read_text())
    extracted = json.loads((args.out / "aws-5.100.0.json").read_text())
    result = compare_schemas(real, extracted)
    unexplained = [d for d in result.disagreements if explain(d) is None]
    print(f"validation: {result.agreed}/{result.compared} argument paths agree "
          f"({100 * result.agreed / result.compared:.1f}%) between the real 3.39.0 schema and the 5.100.0 extraction")
    for item in result.disagreements:
        print(f"  {item[:110]}{'...' if len(item) > 110 else ''}\n      {explain(item) or 'UNEXPLAINED'}")
    relaxed = [r.split(":")[0] for r in result.required_changed if r.endswith("required -> optional")]
    unexplained += [r for r in result.required_changed
                    if not r.endswith("required -> optional") or r.split(":")[0] not in RELAXED_SINCE_339]
    print(f"required/optional: {result.compared - len(result.required_changed)}/{result.compared} agree; "
          f"{len(relaxed)} required in 3.39 are optional in 5.100 (RELAXED_SINCE_339), "
          f"{len(result.required_changed) - len(relaxed)} the other way")
    print(f"{len(result.only_reference)} 3.39 arguments are gone in 5.100 (EC2-Classic, removed endpoints, ...)")
    print("".join(f"UNEXPLAINED: {item}\n" for item in unexplained), end="")
    latest = json.loads((args.out / "aws-6.25.0.json").read_text())["resources"]
    missing = [t for t in RESOURCE_TYPES if t not in latest]
    if missing:
        print(f"6.25.0 lacks listed resource types: {', '.join(missing)}")
    return 1 if unexplained or missing else 0


if __name__ == "__main__":
    raise SystemExit(main())
