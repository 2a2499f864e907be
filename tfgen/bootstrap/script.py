"""The bootstrap script: bash that installs Argo CD on the hub and registers the edges.

It runs on the hub's bastion as an SSM Run Command (see `document.py`), as the
instance role; it holds no credential. Steps, each a function that prints
`tfgen-bootstrap: <step>`; an ERR trap makes any failure exit non-zero with
`tfgen-bootstrap: FAILED in step <step>`:

1. `install-kubectl`, `install-helm`, `fetch-chart`: download with curl into a
   temporary directory, `sha256sum --check` against the pin (tools.py), and only
   then make executable (or extract, or hand to helm).
2. `kubeconfig`: `aws eks update-kubeconfig` for the hub into that directory.
3. `namespace`, then `argo-cd`: `helm upgrade --install` of the pinned chart
   archive with the values written by the script, `--wait`. Skipped when the
   deployed release's fingerprint (SHA-256 of chart archive + values, kept in a
   namespace annotation) is unchanged, so a second run changes nothing.
4. `cluster-secrets`: the edges' cluster Secrets, server-side applied.
5. `deregister`: Secrets labelled as tfgen's cluster Secrets that are not in
   this run's set are deleted (an edge removed from the spec).
6. `root-application`: the AppProjects and the root Application, last.

All data (manifests, values, names) is written with quoted heredocs (`<<'TFGEN_DATA'`):
the shell expands nothing in it. It is JSON with `{` and `}` inside strings written
as `\\u007b`/`\\u007d`, so no value can form `${`, `%{` (Terraform) or `{{` (SSM
parameters) either. `TerraformRef("aws_eks_cluster.x.endpoint")` marks a value
Terraform fills in at apply; `for_terraform` escapes everything else.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field

from .errors import BootstrapError
from .manifests import MANAGED_BY_LABEL, MANAGED_LABELS, SECRET_TYPE_LABEL, managed, namespace as namespace_manifest
from .tools import ARCHITECTURES, DEFAULT_PINS, Pins

__all__ = ["TerraformRef", "BootstrapInput", "render_script", "for_terraform", "terraform_refs", "STEPS",
           "MANAGED_STEPS", "FIELD_MANAGER", "RELEASE_ANNOTATION"]

STEPS = ("install-kubectl", "install-helm", "fetch-chart", "kubeconfig", "namespace", "argo-cd",
         "cluster-secrets", "deregister", "root-application")
# The steps of a script for EKS's Argo CD capability (`install_argo_cd=False`).
MANAGED_STEPS = ("install-kubectl", "kubeconfig", "cluster-secrets", "deregister", "root-application")
FIELD_MANAGER = "tfgen-bootstrap"
RELEASE_ANNOTATION = "tfgen.io/argo-cd-release"
_DELIMITER = "TFGEN_DATA"
_EXPRESSION = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z0-9_]+|\[[0-9]+\])+")
_TOKEN = re.compile(r"@@tfgen-ref\((" + _EXPRESSION.pattern + r")\)@@")
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]+$")


class TerraformRef(str):
    """A value Terraform substitutes at apply: `TerraformRef("aws_eks_cluster.edge.endpoint")`.

    It is a string (a token) everywhere in Python, json.dumps included, so it can sit in a
    manifest, in the `config` JSON of a Secret, or in Helm values; `for_terraform` turns the
    token into `${aws_eks_cluster.edge.endpoint}`. Only plain references are accepted (no
    function calls); the value they name must be JSON-string safe (an endpoint, an ARN, base64).
    """

    expression: str

    def __new__(cls, expression: str) -> TerraformRef:
        if not isinstance(expression, str) or not _EXPRESSION.fullmatch(expression):
            raise BootstrapError(f"TerraformRef {expression!r} is not a plain Terraform reference like "
                                 "aws_eks_cluster.edge.endpoint or aws_eks_cluster.edge.certificate_authority[0].data")
        token = super().__new__(cls, f"@@tfgen-ref({expression})@@")
        token.expression = expression
        return token

    def __reduce__(self):
        # copy.deepcopy and pickle rebuild it from its expression, not from the token.
        return (TerraformRef, (self.expression,))


@dataclass(frozen=True, kw_only=True)
class BootstrapInput:
    """What one hub's bootstrap needs."""

    hub_cluster_name: str
    region: str
    namespace: str = "argocd"
    # The argo-cd chart's values the hub's identity needs (`tfgen.gitops.render(...).values`).
    values: dict = field(default_factory=dict)
    # The edges' cluster Secrets (`tfgen.gitops.render(...).secrets`), applied after the chart.
    manifests: list = field(default_factory=list)
    # AppProjects and the root Application (`manifests.environment_projects` + `root_application`), applied last.
    root_manifests: list = field(default_factory=list)
    chart_version: str | None = None
    release: str = "argocd"
    pins: Pins = DEFAULT_PINS
    # False: Argo CD is EKS's capability; the script registers the clusters and the root app only
    # (no helm, no chart, no namespace: the capability owns them).
    install_argo_cd: bool = True


def _encode(value) -> str:
    """Deterministic one-line JSON; `{`/`}` inside strings as \\u escapes (no `${`, `%{`, `{{` can form)."""
    if isinstance(value, str):
        return _ascii(value).replace("{", "\\u007b").replace("}", "\\u007d")
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise BootstrapError(f"mapping keys must be strings: {sorted(map(repr, value))[:3]}")
        return "{" + ", ".join(f"{_encode(k)}: {_encode(value[k])}" for k in sorted(value)) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_encode(item) for item in value) + "]"
    if value is None or isinstance(value, (bool, int, float)):
        try:
            return json.dumps(value, allow_nan=False)
        except ValueError:
            raise BootstrapError(f"value {value!r} is not a finite number; JSON has no NaN or infinity") from None
    raise BootstrapError(f"value {value!r} of type {type(value).__name__} cannot be written as JSON")


# What `json.dumps(text, ensure_ascii=True)` calls for a str, without the encoder object it makes per call.
_ascii = json.encoder.encode_basestring_ascii


def _list(manifests: list[dict]) -> str:
    """A v1 List, one manifest per line (kubectl applies a List as its items)."""
    items = ",\n".join(_encode(m) for m in manifests)
    return '{"apiVersion": "v1", "kind": "List", "items": [\n' + items + "\n]}"


def _heredoc(path: str, body: str) -> str:
    lines = body.splitlines()
    if _DELIMITER in lines:
        raise BootstrapError(f"data for {path} contains the line {_DELIMITER}")
    return f"cat > \"${{WORK}}/{path}\" <<'{_DELIMITER}'\n" + "".join(line + "\n" for line in lines) + _DELIMITER


def _check(inp: BootstrapInput) -> list[str]:
    found = []
    for label, value, pattern in (("hub_cluster_name", inp.hub_cluster_name, _NAME), ("region", inp.region, _REGION),
                                  ("namespace", inp.namespace, _NAME), ("release", inp.release, _NAME)):
        if not isinstance(value, str) or not pattern.match(value) or len(value) > 100:
            found.append(f"{label} {value!r} is not valid (a DNS-1123 label; region like us-east-1)")
    if inp.install_argo_cd and inp.chart_version is not None and inp.chart_version != inp.pins.chart.version:
        found.append(f"chart_version {inp.chart_version} has no pin (pinned: {inp.pins.chart.version}); give "
                     "pins=Pins(chart=ChartPin(...)) with the archive's URL and SHA-256 from the chart index")
    for group, manifests in (("manifests", inp.manifests), ("root_manifests", inp.root_manifests)):
        for i, manifest in enumerate(manifests):
            meta = manifest.get("metadata") if isinstance(manifest, dict) else None
            if not isinstance(meta, dict) or not manifest.get("kind") or not meta.get("name"):
                found.append(f"{group}[{i}]: needs kind and metadata.name")
            elif meta.get("namespace") != inp.namespace:
                found.append(f"{group}[{i}] {manifest['kind']}/{meta['name']}: metadata.namespace "
                             f"{meta.get('namespace')!r} is not the GitOps namespace {inp.namespace!r}")
    names = [m["metadata"]["name"] for m in inp.manifests if not found and m.get("kind") == "Secret"]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        found.append(f"manifests: Secret names {duplicates} appear twice; one Secret per edge")
    return found


# The function that runs each step (`kubeconfig` writes it and checks the API is ready).
_MAIN = {"install-kubectl": "install_kubectl", "install-helm": "install_helm", "fetch-chart": "fetch_chart",
         "kubeconfig": "write_kubeconfig", "namespace": "apply_namespace", "argo-cd": "install_argo_cd",
         "cluster-secrets": "register_edges", "deregister": "deregister_edges", "root-application": "apply_root"}


def _cluster_secret_names(manifests: list[dict]) -> list[str]:
    return sorted(m["metadata"]["name"] for m in manifests if m.get("kind") == "Secret"
                  and (m["metadata"].get("labels") or {}).get(SECRET_TYPE_LABEL) == "cluster")


def render_script(inp: BootstrapInput) -> str:
    """The bash script for `inp`, byte-identical for equal inputs; raises BootstrapError naming bad fields."""
    problems = _check(inp)
    if problems:
        raise BootstrapError("bootstrap input: " + "; ".join(problems))
    q = shlex.quote
    pins = inp.pins
    selector = f"{MANAGED_BY_LABEL}={MANAGED_LABELS[MANAGED_BY_LABEL]},{SECRET_TYPE_LABEL}=cluster"
    apply = (f'"${{KUBECTL}}" apply --server-side --field-manager={FIELD_MANAGER} --force-conflicts '
             "--filename - <")
    arch_cases = []
    for uname, arch in sorted(ARCHITECTURES.items()):
        kubectl, helm = pins.kubectl.artefacts.get(arch), pins.helm.artefacts.get(arch)
        if kubectl and helm:
            arch_cases.append(f"  {uname})\n    ARCH={arch}\n"
                              f"    KUBECTL_URL={q(kubectl.url)}\n    KUBECTL_SHA256={kubectl.sha256}\n"
                              f"    HELM_URL={q(helm.url)}\n    HELM_SHA256={helm.sha256}\n    ;;")
    member = pins.helm.member.replace("{arch}", "${ARCH}")
    secrets = [managed(m) for m in inp.manifests]
    parts = [
        "#!/usr/bin/env bash",
        f"# tfgen bootstrap: Argo CD on the hub {inp.hub_cluster_name} ({inp.region}), its edges registered.",
        "# Generated by tfgen (tfgen.bootstrap); runs as the bastion's instance role and holds no credential.",
        f"# kubectl {pins.kubectl.version}, helm {pins.helm.version}, chart {pins.chart.name} {pins.chart.version} "
        f"(Argo CD {pins.chart.app_version}), each checked against its SHA-256 before use.",
        "set -Eeuo pipefail",
        "umask 077",
        "export LC_ALL=C",
        "TFGEN_STEP=prepare",
        # Subshells inherit the trap (set -E): only the main shell reports, once.
        "trap 'tfgen_status=$?; if (( BASH_SUBSHELL == 0 )); then echo \"tfgen-bootstrap: FAILED in step "
        "${TFGEN_STEP} (exit ${tfgen_status})\" >&2; fi; exit \"${tfgen_status}\"' ERR",
        "",
        "step() {\n  TFGEN_STEP=\"$1\"\n  echo \"tfgen-bootstrap: $1\"\n}",
        "",
        "verify() {\n  printf '%s  %s\\n' \"$2\" \"$1\" | sha256sum --check --strict -\n}",
        "",
        "download() {\n  curl --fail --silent --show-error --location --proto '=https' --retry 3 "
        "--output \"$2\" \"$1\"\n}",
        "",
        f"HUB_CLUSTER={q(inp.hub_cluster_name)}",
        f"HUB_REGION={q(inp.region)}",
        f"NAMESPACE={q(inp.namespace)}",
        f"RELEASE={q(inp.release)}",
        f"CHART_URL={q(pins.chart.artefact.url)}",
        f"CHART_SHA256={pins.chart.artefact.sha256}",
        "case \"$(uname -m)\" in\n" + "\n".join(arch_cases) + "\n  *)\n"
        "    echo \"tfgen-bootstrap: FAILED in step prepare: no pinned kubectl/helm for $(uname -m)\" >&2\n"
        "    exit 1\n    ;;\nesac",
        "WORK=\"$(mktemp -d \"${TMPDIR:-/tmp}/tfgen-bootstrap.XXXXXX\")\"",
        "trap 'rm -rf -- \"${WORK}\"' EXIT",
        "mkdir \"${WORK}/bin\"",
        "KUBECTL=\"${WORK}/bin/kubectl\"",
        "HELM=\"${WORK}/bin/helm\"",
        "export KUBECONFIG=\"${WORK}/kubeconfig\"",
        "",
        "install_kubectl() {\n  step install-kubectl\n  download \"${KUBECTL_URL}\" \"${WORK}/kubectl.download\"\n"
        "  verify \"${WORK}/kubectl.download\" \"${KUBECTL_SHA256}\"\n"
        "  mv \"${WORK}/kubectl.download\" \"${KUBECTL}\"\n  chmod 0755 \"${KUBECTL}\"\n}",
        "",
        "install_helm() {\n  step install-helm\n  download \"${HELM_URL}\" \"${WORK}/helm.tar.gz\"\n"
        "  verify \"${WORK}/helm.tar.gz\" \"${HELM_SHA256}\"\n"
        f"  tar -xzf \"${{WORK}}/helm.tar.gz\" -C \"${{WORK}}\" \"{member}\"\n"
        f"  mv \"${{WORK}}/{member}\" \"${{HELM}}\"\n  chmod 0755 \"${{HELM}}\"\n}}",
        "",
        "fetch_chart() {\n  step fetch-chart\n  download \"${CHART_URL}\" \"${WORK}/chart.tgz\"\n"
        "  verify \"${WORK}/chart.tgz\" \"${CHART_SHA256}\"\n}",
        "",
        "write_kubeconfig() {\n  step kubeconfig\n"
        "  aws eks update-kubeconfig --region \"${HUB_REGION}\" --name \"${HUB_CLUSTER}\" --kubeconfig \"${KUBECONFIG}\"\n"
        "  \"${KUBECTL}\" get --raw=/readyz --request-timeout=30s\n}",
        "",
        "apply_namespace() {\n  step namespace\n  " + _heredoc("namespace.json", _list([namespace_manifest(inp.namespace)]))
        + f"\n  {apply} \"${{WORK}}/namespace.json\"\n}}",
        "",
        "install_argo_cd() {\n  step argo-cd\n  " + _heredoc("values.json", _encode(inp.values)) + "\n"
        "  local fingerprint deployed current\n"
        "  fingerprint=\"$(cat \"${WORK}/chart.tgz\" \"${WORK}/values.json\" | sha256sum | cut -c1-64)\"\n"
        "  deployed=\"$(\"${HELM}\" list --namespace \"${NAMESPACE}\" --deployed --filter \"^${RELEASE}\\$\" --short)\"\n"
        f"  current=\"$(\"${{KUBECTL}}\" get namespace \"${{NAMESPACE}}\" "
        f"--output 'jsonpath={{.metadata.annotations.{RELEASE_ANNOTATION.replace('.', chr(92) + '.')}}}')\"\n"
        "  if [[ \"${deployed}\" == \"${RELEASE}\" && \"${current}\" == \"${fingerprint}\" ]]; then\n"
        "    echo \"tfgen-bootstrap: argo-cd: release ${RELEASE} is up to date\"\n    return 0\n  fi\n"
        "  \"${HELM}\" upgrade --install \"${RELEASE}\" \"${WORK}/chart.tgz\" --namespace \"${NAMESPACE}\" "
        "--values \"${WORK}/values.json\" --wait --timeout 15m0s\n"
        f"  \"${{KUBECTL}}\" annotate namespace \"${{NAMESPACE}}\" --overwrite \"{RELEASE_ANNOTATION}=${{fingerprint}}\"\n}}",
        "",
        "register_edges() {\n  step cluster-secrets\n"
        + (f"  {_heredoc('secrets.json', _list(secrets))}\n  {apply} \"${{WORK}}/secrets.json\"\n" if secrets
           else "  echo \"tfgen-bootstrap: cluster-secrets: no edges to register\"\n") + "}",
        "",
        "deregister_edges() {\n  step deregister\n  "
        + _heredoc("secrets.names", "\n".join(_cluster_secret_names(secrets))) + "\n"
        "  local present name\n"
        f"  present=\"$(\"${{KUBECTL}}\" get secrets --namespace \"${{NAMESPACE}}\" --selector {q(selector)} "
        "--output name)\"\n"
        "  while IFS= read -r name; do\n    name=\"${name#secret/}\"\n    [[ -n \"${name}\" ]] || continue\n"
        "    if ! grep --quiet --fixed-strings --line-regexp -e \"${name}\" \"${WORK}/secrets.names\"; then\n"
        "      echo \"tfgen-bootstrap: deregister: ${name} is no longer in the spec\"\n"
        "      \"${KUBECTL}\" delete secret --namespace \"${NAMESPACE}\" --ignore-not-found \"${name}\"\n"
        "    fi\n  done <<< \"${present}\"\n}",
        "",
        "apply_root() {\n  step root-application\n"
        + (f"  {_heredoc('root.json', _list([managed(m) for m in inp.root_manifests]))}\n"
           f"  {apply} \"${{WORK}}/root.json\"\n" if inp.root_manifests
           else "  echo \"tfgen-bootstrap: root-application: no GitOps repo given\"\n") + "}",
        "",
        "\n".join(_MAIN[step] for step in (STEPS if inp.install_argo_cd else MANAGED_STEPS))
        + "\nTFGEN_STEP=done\necho \"tfgen-bootstrap: done\"",
    ]
    unused = {f"{_MAIN[step]}() {{" for step in STEPS if step not in (STEPS if inp.install_argo_cd else MANAGED_STEPS)}
    script = "\n".join(p for p in parts if not any(p.startswith(u) for u in unused)) + "\n"
    if "{{" in script:
        raise BootstrapError("the script contains `{{`, which SSM would read as a document parameter")
    return script


def for_terraform(script: str) -> str:
    """`script` as a Terraform string: every `${`/`%{` escaped (`$${`, `%%{`), TerraformRefs as `${expr}`."""
    escaped = script.replace("${", "$${").replace("%{", "%%{")
    return _TOKEN.sub(lambda match: "${" + match.group(1) + "}", escaped)


def terraform_refs(script: str) -> list[str]:
    """The Terraform expressions the script's TerraformRefs name, sorted (what the document depends on)."""
    return sorted(set(_TOKEN.findall(script)))
