"""The EKS Kubernetes version calendar.

EKS gives each Kubernetes minor 14 months of standard support, then 12 months
of extended support (billed per cluster hour); after that it creates no new
clusters of that version and upgrades existing ones. A cluster's
`upgrade_policy` says what happens when standard support ends: `STANDARD`
upgrades it then, `EXTENDED` keeps it (and bills it) until extended support
ends. Dates from the EKS user guide (kubernetes-versions), as of 2026-11-28;
1.37 is not confirmed on EKS yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

__all__ = ["EksVersion", "EKS_VERSIONS", "TABLE_DATE", "newest", "lookup"]


@dataclass(frozen=True)
class EksVersion:
    """One Kubernetes minor on EKS: when it came and when its support ends."""

    version: str
    released: date
    standard_end: date
    extended_end: date

    def phase(self, today: date) -> str:
        """`standard`, `extended` or `ended` on `today`."""
        if today <= self.standard_end:
            return "standard"
        return "extended" if today <= self.extended_end else "ended"


def _v(version: str, released: str, standard_end: str, extended_end: str) -> EksVersion:
    return EksVersion(version, date.fromisoformat(released), date.fromisoformat(standard_end),
                      date.fromisoformat(extended_end))


EKS_VERSIONS: dict[str, EksVersion] = {v.version: v for v in (
    _v("1.29", "2024-01-23", "2025-03-23", "2026-03-23"),
    _v("1.30", "2024-05-23", "2025-07-23", "2026-07-23"),
    _v("1.31", "2024-09-26", "2025-11-26", "2026-11-26"),
    _v("1.32", "2025-01-23", "2026-03-23", "2027-03-23"),
    _v("1.33", "2025-05-29", "2026-07-29", "2027-07-29"),
    _v("1.34", "2025-10-02", "2026-12-02", "2027-12-02"),
    _v("1.35", "2026-01-27", "2027-03-27", "2028-03-27"),
    _v("1.36", "2026-06-02", "2027-08-02", "2028-08-02"),
)}
TABLE_DATE = date(2026, 11, 28)


def lookup(version: str) -> EksVersion | None:
    """The calendar entry of `version` ("1.35"), or None when EKS does not offer it."""
    return EKS_VERSIONS.get(version)


def newest(today: date) -> EksVersion:
    """The newest version in standard support on `today` (the newest known when all have ended)."""
    current = [v for v in EKS_VERSIONS.values() if v.released <= today and v.phase(today) == "standard"]
    ordered = sorted(current or EKS_VERSIONS.values(), key=lambda v: tuple(int(p) for p in v.version.split(".")))
    return ordered[-1]
