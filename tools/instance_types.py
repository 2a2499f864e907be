"""Regenerate tfgen's table of EC2 instance types from botocore's EC2 service model.

Usage::

    python tools/instance_types.py [--model PATH]

botocore (installed with boto3, moto and checkov) ships the EC2 API's model,
`botocore/data/ec2/<api version>/service-2.json(.gz)`; its `InstanceType` shape
lists every instance type the API knows. This writes them, by family, to
`tfgen/checks/instance_types.json`, with the botocore version they come from.
Run it after upgrading botocore to learn the types AWS added since; the node
group and bastion rule (VAL194) reads the table.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from pathlib import Path

TABLE = Path(__file__).resolve().parent.parent / "tfgen" / "checks" / "instance_types.json"


def default_model() -> tuple[Path, str]:
    """The newest EC2 service model of the installed botocore, and botocore's version."""
    import botocore

    versions = sorted((Path(botocore.__file__).parent / "data" / "ec2").iterdir())
    newest = versions[-1]
    model = next(p for p in (newest / "service-2.json.gz", newest / "service-2.json") if p.exists())
    return model, f"botocore {botocore.__version__}, EC2 API {newest.name}"


def read_model(path: Path) -> list[str]:
    """The `InstanceType` enum of an EC2 service model (plain or gzipped JSON)."""
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return list(json.loads(data)["shapes"]["InstanceType"]["enum"])


def table(types: list[str], source: str) -> dict:
    """The table: `{"source": ..., "families": {family: [size, ...]}}`, families sorted, sizes as the model
    lists them (smallest first)."""
    families: dict[str, list[str]] = {}
    for name in types:
        family, _, size = name.partition(".")
        if size and size not in families.setdefault(family, []):
            families[family].append(size)
    return {"source": source, "families": dict(sorted(families.items()))}


def render(data: dict) -> str:
    lines = ["{", f'  "source": {json.dumps(data["source"])},', '  "families": {']
    items = list(data["families"].items())
    for i, (family, sizes) in enumerate(items):
        lines.append(f"    {json.dumps(family)}: {json.dumps(sizes)}" + ("," if i < len(items) - 1 else ""))
    return "\n".join(lines + ["  }", "}"]) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, help="an EC2 service-2.json(.gz) (default: the installed botocore's)")
    parser.add_argument("--output", type=Path, default=TABLE, help=f"default: {TABLE}")
    args = parser.parse_args(argv)
    model, source = (args.model, f"EC2 service model {args.model.name}") if args.model else default_model()
    data = table(read_model(model), source)
    args.output.write_text(render(data))
    count = sum(len(sizes) for sizes in data["families"].values())
    print(f"wrote {count} instance types in {len(data['families'])} families ({source}) to {args.output}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
