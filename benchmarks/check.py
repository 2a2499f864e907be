"""How much time `tfgen check` adds to checkov's, at 1k, 5k and 20k resources in one root.

    python benchmarks/check.py [--sizes 1000 5000 20000]

Synthetic root: the example's `development` environment (149 resources, every
tfgen policy applies to it) repeated until it holds N resources, each copy's
names suffixed and its references rewritten, so every copy is a whole,
consistent configuration. For each size, one `tfgen check` run: its wall time,
checkov's share (the subprocess, start-up included) and tfgen's overhead (the
rest: finding roots, reading files, locating each result's file and line,
suppressions, the module rules TFGEN_9/10). Targets: overhead under 10 % of
checkov's time, and linear: overhead per resource about constant as N grows
(the growth ratio, per-resource overhead at the largest size over the smallest,
near 1).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import tempfile
import time
from pathlib import Path

import tfgen
from tfgen.gate import check_output

_REF = re.compile(r"\b(aws_[a-z0-9_]+)\.([A-Za-z0-9_-]+)")


def synthetic_root(resources: int, out: Path) -> int:
    """Write a root of about `resources` resources into `out`; the exact count."""
    source = Path(tempfile.mkdtemp(prefix="tfgen-bench-src-"))
    tfgen.build(tfgen.load(Path(__file__).resolve().parent.parent / "examples" / "multi-region-eks.yaml"), source)
    env = source / "development"
    documents = {p.name: json.loads(p.read_text()) for p in sorted(env.glob("*.tf.json"))}
    names = {(t, n) for d in documents.values() for t, items in d.get("resource", {}).items() for n in items}
    per_copy = len(names)
    copies = max(1, round(resources / per_copy))

    def renamed(text: str, suffix: str) -> str:
        return _REF.sub(lambda m: f"{m[1]}.{m[2]}{suffix}" if (m[1], m[2]) in names else m[0], text)

    out.mkdir(parents=True)
    for name, document in documents.items():
        if "resource" not in document and "output" not in document:
            (out / name).write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
            continue
        text = json.dumps(document, sort_keys=True)
        merged: dict = {}
        for i in range(copies):
            copy = json.loads(renamed(text, f"_c{i}"))
            for type_, items in copy.get("resource", {}).items():
                merged.setdefault("resource", {}).setdefault(type_, {}).update(
                    {f"{n}_c{i}": body for n, body in items.items()})
            for n, body in copy.get("output", {}).items():
                merged.setdefault("output", {})[f"{n}_c{i}"] = body
        (out / name).write_text(json.dumps(merged, indent=2, sort_keys=True) + "\n")
    shutil.rmtree(source)
    return copies * per_copy


def measure(resources: int) -> tuple[int, float, float, int]:
    """(resources, checkov seconds, tfgen overhead seconds, results) of one `tfgen check` run."""
    scratch = Path(tempfile.mkdtemp(prefix="tfgen-bench-check-"))
    try:
        count = synthetic_root(resources, scratch / "out" / "bench")
        started = time.perf_counter()
        report = check_output(scratch / "out")
        total = time.perf_counter() - started
        return count, report.checkov_seconds, total - report.checkov_seconds, len(report.results)
    finally:
        shutil.rmtree(scratch)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 20000])
    args = parser.parse_args()

    rows = []
    print(f"{'resources':>9}  {'results':>7}  {'checkov':>9}  {'tfgen overhead':>14}  {'share':>6}  {'overhead/resource':>17}")
    for size in args.sizes:
        count, checkov, overhead, results = measure(size)
        rows.append((count, checkov, overhead))
        print(f"{count:>9}  {results:>7}  {checkov:>8.1f}s  {overhead:>13.2f}s  {overhead / checkov:>6.1%}  "
              f"{overhead / count * 1e6:>14.0f} us", flush=True)
    (small, _, small_s), (large, _, large_s) = rows[0], rows[-1]
    growth = (large_s / large) / (small_s / small)
    worst = max(o / c for _, c, o in rows)
    print(f"growth ratio (overhead per resource, {large} vs {small} resources): {growth:.2f} (1.0 = linear)")
    print(f"target overhead < 10 % of checkov: {'met' if worst < 0.10 else 'MISSED'} (worst {worst:.1%}); "
          f"linear (growth ratio < 1.5): {'met' if growth < 1.5 else 'MISSED'}")


if __name__ == "__main__":
    main()
