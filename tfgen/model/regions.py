"""AWS regions tfgen knows and their availability zones.

The zones are explicit names so that the output never needs the AWS API at plan
time. Zone letters that most accounts cannot use (us-east-1e, us-west-1a, ...)
are left out; a spec can name its own zones per cluster when its account differs.
"""

from __future__ import annotations

__all__ = ["REGIONS", "is_known_region", "availability_zones", "closest_region"]

# region -> zone letters, in the order tfgen uses them
REGIONS: dict[str, str] = {
    "us-east-1": "abcdf",
    "us-east-2": "abc",
    "us-west-1": "bc",
    "us-west-2": "abcd",
    "ca-central-1": "abd",
    "ca-west-1": "abc",
    "mx-central-1": "abc",
    "sa-east-1": "abc",
    "eu-west-1": "abc",
    "eu-west-2": "abc",
    "eu-west-3": "abc",
    "eu-central-1": "abc",
    "eu-central-2": "abc",
    "eu-north-1": "abc",
    "eu-south-1": "abc",
    "eu-south-2": "abc",
    "il-central-1": "abc",
    "me-south-1": "abc",
    "me-central-1": "abc",
    "af-south-1": "abc",
    "ap-east-1": "abc",
    "ap-east-2": "abc",
    "ap-south-1": "abc",
    "ap-south-2": "abc",
    "ap-northeast-1": "acd",
    "ap-northeast-2": "abcd",
    "ap-northeast-3": "abc",
    "ap-southeast-1": "abc",
    "ap-southeast-2": "abc",
    "ap-southeast-3": "abc",
    "ap-southeast-4": "abc",
    "ap-southeast-5": "abc",
    "ap-southeast-7": "abc",
}


def is_known_region(name: str) -> bool:
    """Whether `name` is an AWS region tfgen has a zone table for."""
    return name in REGIONS


def availability_zones(region: str) -> list[str]:
    """The zone names tfgen uses in `region`, in order."""
    return [f"{region}{letter}" for letter in REGIONS[region]]


def closest_region(name: str) -> str | None:
    """The known region a misspelt `name` most likely meant, for hints."""
    best = min(REGIONS, key=lambda known: (_edits(name, known), known))
    return best if _edits(name, best) <= max(2, len(name) // 4) else None


def _edits(a: str, b: str) -> int:
    """Edit distance counting a swap of two neighbours as one edit (us-esat-2 -> us-east-2)."""
    rows = [list(range(len(b) + 1))]
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            row[j] = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]
