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
    import difflib

    match = difflib.get_close_matches(name, list(REGIONS), n=1, cutoff=0.6)
    return match[0] if match else None
