"""The pin table: every artefact the bootstrap script downloads, by version, URL and SHA-256.

The script verifies each download against its pin before it makes it executable
or hands it to a tool, so nothing unpinned runs on the bastion. A pin names
where its digest was read; when a version moves, its digest moves with it (read
it from the project's published `.sha256` file and one independent copy).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["Artefact", "ToolPin", "ChartPin", "Pins", "KUBECTL", "HELM", "ARGO_CD_CHART", "DEFAULT_PINS",
           "ARCHITECTURES"]

# `uname -m` on the bastion -> the name release artefacts use.
ARCHITECTURES = {"x86_64": "amd64", "aarch64": "arm64"}
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Artefact:
    """One download: its URL and the SHA-256 of its bytes."""

    url: str
    sha256: str

    def __post_init__(self) -> None:
        if not self.url.startswith("https://"):
            raise ValueError(f"artefact URL {self.url!r} is not https://; pin a release URL")
        if not _SHA256.match(self.sha256):
            raise ValueError(f"artefact {self.url}: sha256 {self.sha256!r} is not 64 lowercase hex digits")


@dataclass(frozen=True)
class ToolPin:
    """A command-line tool: version, one artefact per architecture, and where the executable sits in it."""

    name: str
    version: str
    artefacts: dict[str, Artefact]
    source: str
    # Path of the executable inside a .tar.gz artefact with `{arch}`; empty: the artefact is the executable.
    member: str = ""

    def __post_init__(self) -> None:
        unknown = sorted(set(self.artefacts) - set(ARCHITECTURES.values()))
        if unknown or not self.artefacts:
            raise ValueError(f"{self.name} {self.version}: architectures {unknown or 'none'}; "
                             f"use {sorted(ARCHITECTURES.values())}")


@dataclass(frozen=True)
class ChartPin:
    """A Helm chart archive: name, version, the Argo CD version it ships, its URL and SHA-256."""

    name: str
    version: str
    app_version: str
    artefact: Artefact
    source: str
    # The Helm repository the archive is published in (the script downloads the archive itself, by URL).
    repository: str = "https://argoproj.github.io/argo-helm"


@dataclass(frozen=True)
class Pins:
    """What one bootstrap downloads: kubectl, helm and the argo-cd chart."""

    kubectl: ToolPin = field(default_factory=lambda: KUBECTL)
    helm: ToolPin = field(default_factory=lambda: HELM)
    chart: ChartPin = field(default_factory=lambda: ARGO_CD_CHART)


def _kubectl(version: str, sums: dict[str, str]) -> dict[str, Artefact]:
    return {arch: Artefact(f"https://dl.k8s.io/release/v{version}/bin/linux/{arch}/kubectl", digest)
            for arch, digest in sums.items()}


def _helm(version: str, sums: dict[str, str]) -> dict[str, Artefact]:
    return {arch: Artefact(f"https://get.helm.sh/helm-v{version}-linux-{arch}.tar.gz", digest)
            for arch, digest in sums.items()}


# kubectl within one minor of tfgen's default Kubernetes version (1.35; kubectl's skew policy is +-1).
KUBECTL = ToolPin(
    name="kubectl", version="1.35.2",
    artefacts=_kubectl("1.35.2", {
        "amd64": "924eb50779153f20cb668117d141440b95df2f325a64452d78dff9469145e277",
        "arm64": "cd859449f54ad2cb05b491c490c13bb836cdd0886ae013c0aed3dd67ff747467",
    }),
    source="cashapp/hermit-packages kubectl.hcl (f0517fd, 2026-08-22), the same digests in several public "
           "Dockerfiles/Makefiles; upstream: dl.k8s.io/release/v1.35.2/bin/linux/<arch>/kubectl.sha256",
)

# Helm 4 (Helm 3 gets security fixes only until 2026-11); the release Argo CD itself builds with.
HELM = ToolPin(
    name="helm", version="4.2.4",
    artefacts=_helm("4.2.4", {
        "amd64": "c306b46f719b0a4da32d0f78ee21bf90ce8d602f15b22ab753f0674d1670a7f3",
        "arm64": "564de2191b881e9f71b5606b25345821ea1682f06ab90499d3ab22b530176da1",
    }),
    member="linux-{arch}/helm",
    source="argoproj/argo-cd hack/installers/checksums/helm-v4.2.4-linux-<arch>.tar.gz.sha256 (37ee009, "
           "2026-08-22) and cashapp/hermit-packages helm.hcl (f0517fd); upstream: get.helm.sh/<file>.sha256sum",
)

# argo-helm's argo-cd chart 10.1.1 = Argo CD v3.4.4, its digest from the chart repository's index.
ARGO_CD_CHART = ChartPin(
    name="argo-cd", version="10.1.1", app_version="v3.4.4",
    artefact=Artefact("https://github.com/argoproj/argo-helm/releases/download/argo-cd-10.1.1/argo-cd-10.1.1.tgz",
                      "a677dfa6ca7e9f9a71fe9bf54ea86a9011d5c7db8e137c5171e78c4493af20e5"),
    source="argoproj/argo-helm gh-pages index.yaml entries.argo-cd[version=10.1.1].digest (c77d0b1, "
           "2026-07-02); Chart.yaml on main af0a931: version 10.1.1, appVersion v3.4.4",
)

DEFAULT_PINS = Pins()
