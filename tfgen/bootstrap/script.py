"""The bootstrap script: bash that installs Argo CD on the hub and registers the edges.

It runs on the hub's bastion as an SSM Run Command (see `document.py`), as the
instance role; it holds no credential, and its size does not grow with the
fleet: what grows (every edge's cluster Secret, the AppProjects that list the
edges, the root Application) is the *registration data* (`registration_data`),
which Terraform writes to an S3 object, and the script reads the one version of
it that Terraform wrote for this document (`Registration`). Steps, each a
function that prints `tfgen-bootstrap: <step>`; an ERR trap makes any failure
exit non-zero with `tfgen-bootstrap: FAILED in step <step>`:

1. `install-kubectl`, `install-helm`, `fetch-chart`: download with curl into a
   temporary directory, `sha256sum --check` against the pin (tools.py), and only
   then make executable (or extract, or hand to helm).
2. `registration`: the registration data, that object version, from S3.
3. `kubeconfig`: `aws eks update-kubeconfig` for the hub into that directory.
4. `namespace`, then `argo-cd`: `helm upgrade --install` of the pinned chart
   archive with the values written by the script, `--wait`. Skipped when the
   deployed release's fingerprint (SHA-256 of chart archive + values, kept in a
   namespace annotation) is unchanged, so a second run changes nothing.
5. `cluster-secrets`: the data's cluster Secrets, server-side applied
   (`--selector` picks them out of the data).
6. `deregister`: Secrets labelled as tfgen's cluster Secrets that this run did
   not apply are deleted (an edge removed from the spec).
7. `repository`: the private repository's Secret (`repository.py`): self-managed,
   built from the Secrets Manager secret at run time; managed, the data's Secret
   that names the secret. tfgen's repository Secrets not applied are deleted.
8. `root-application`: the AppProjects and the root Application, last.

Data in the script (values, names) is written with quoted heredocs (`encoding.py`):
the shell expands nothing in it, and no value can form `${`, `%{` or `{{`.
`TerraformRef("aws_eks_cluster.x.endpoint")` marks a value Terraform fills in at
apply; `for_terraform` escapes everything else.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

from .encoding import encode, heredoc, json_list
from .errors import BootstrapError
from .manifests import MANAGED_BY_LABEL, MANAGED_LABELS, SECRET_TYPE_LABEL, managed, namespace as namespace_manifest
from .repository import PROGRAM, REPOSITORY, managed_repository_secret, repository_labels
from .tools import ARCHITECTURES, DEFAULT_PINS, Pins

__all__ = ["TerraformRef", "Registration", "RepositoryCredential", "BootstrapInput", "render_script",
           "registration_data", "for_terraform", "terraform_refs", "STEPS", "MANAGED_STEPS", "FIELD_MANAGER",
           "RELEASE_ANNOTATION"]

STEPS = ("install-kubectl", "install-helm", "fetch-chart", "registration", "kubeconfig", "namespace", "argo-cd",
         "cluster-secrets", "deregister", "repository", "root-application")
# The steps of a script for EKS's Argo CD capability (`install_argo_cd=False`).
MANAGED_STEPS = ("install-kubectl", "registration", "kubeconfig", "cluster-secrets", "deregister", "repository",
                 "root-application")
FIELD_MANAGER = "tfgen-bootstrap"
RELEASE_ANNOTATION = "tfgen.io/argo-cd-release"
_EXPRESSION = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z0-9_]+|\[[0-9]+\])+")
_TOKEN = re.compile(r"@@tfgen-ref\((" + _EXPRESSION.pattern + r")\)@@")
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]+$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_KEY = re.compile(r"^[A-Za-z0-9!_.*'()/-]{1,1024}$")
_SECRET_ARN = re.compile(r"^arn:aws[a-z-]*:secretsmanager:([a-z]{2}(?:-[a-z]+)+-[0-9]):[0-9]{12}:secret:"
                         r"[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$")


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
class Registration:
    """The S3 object version the script reads its registration data from: `version` is the object's
    `version_id` (a TerraformRef in a build), so a run reads exactly what Terraform wrote for it."""

    bucket: str
    key: str
    version: str
    region: str


@dataclass(frozen=True, kw_only=True)
class RepositoryCredential:
    """A private GitOps repository's credential by reference: the Secrets Manager secret (`repository.py`)."""

    url: str
    secret_arn: str
    name: str  # the repository Secret's name (`repository_secret_name`)


@dataclass(frozen=True, kw_only=True)
class BootstrapInput:
    """What one hub's bootstrap needs."""

    hub_cluster_name: str
    region: str
    registration: Registration
    namespace: str = "argocd"
    # The argo-cd chart's values the hub's identity needs (`tfgen.gitops.render(...).values`).
    values: dict = field(default_factory=dict)
    # The edges' cluster Secrets (`tfgen.gitops.render(...).secrets`), applied after the chart.
    manifests: list = field(default_factory=list)
    # AppProjects and the root Application (`manifests.environment_projects` + `root_application`), applied last.
    root_manifests: list = field(default_factory=list)
    repository: RepositoryCredential | None = None
    chart_version: str | None = None
    release: str = "argocd"
    pins: Pins = DEFAULT_PINS
    # False: Argo CD is EKS's capability; the script registers the clusters and the root app only
    # (no helm, no chart, no namespace: the capability owns them).
    install_argo_cd: bool = True


def _check(inp: BootstrapInput) -> list[str]:
    found = []
    for label, value, pattern in (("hub_cluster_name", inp.hub_cluster_name, _NAME), ("region", inp.region, _REGION),
                                  ("namespace", inp.namespace, _NAME), ("release", inp.release, _NAME)):
        if not isinstance(value, str) or not pattern.match(value) or len(value) > 100:
            found.append(f"{label} {value!r} is not valid (a DNS-1123 label; region like us-east-1)")
    where = inp.registration
    for label, value, pattern in (("registration bucket", where.bucket, _BUCKET), ("registration key", where.key, _KEY),
                                  ("registration region", where.region, _REGION)):
        if not isinstance(value, str) or not pattern.match(value):
            found.append(f"{label} {value!r} is not valid")
    if not isinstance(where.version, str) or not where.version or any(c in where.version for c in "'\n\\"):
        found.append(f"registration version {where.version!r} is not an S3 version id")
    if inp.repository is not None:
        if not _SECRET_ARN.match(str(inp.repository.secret_arn)):
            found.append(f"repository secret_arn {inp.repository.secret_arn!r} is not a Secrets Manager secret ARN")
        if not _NAME.match(str(inp.repository.name)):
            found.append(f"repository name {inp.repository.name!r} is not a DNS-1123 label")
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
            elif group == "root_manifests" and SECRET_TYPE_LABEL in (meta.get("labels") or {}):
                found.append(f"{group}[{i}] {manifest['kind']}/{meta['name']}: an Argo CD Secret is not a root "
                             "manifest (cluster Secrets go in manifests, the repository in repository)")
    names = [m["metadata"]["name"] for m in inp.manifests if not found and m.get("kind") == "Secret"]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        found.append(f"manifests: Secret names {duplicates} appear twice; one Secret per edge")
    return found


def _managed_repository(inp: BootstrapInput) -> dict | None:
    """The capability's repository Secret (it reads the credential itself), in the registration data."""
    if inp.repository is None or inp.install_argo_cd:
        return None
    return managed_repository_secret(name=inp.repository.name, namespace=inp.namespace, url=inp.repository.url,
                                     secret_arn=inp.repository.secret_arn)


def registration_data(inp: BootstrapInput) -> str:
    """What the script reads from S3: a v1 List of the cluster Secrets, the capability's repository Secret and
    the root manifests, one per line; byte-identical for equal inputs. Raises BootstrapError naming bad fields."""
    problems = _check(inp)
    if problems:
        raise BootstrapError("bootstrap input: " + "; ".join(problems))
    repository = _managed_repository(inp)
    items = [managed(m) for m in inp.manifests] + ([repository] if repository else [])
    return json_list(items + [managed(m) for m in inp.root_manifests]) + "\n"


# The function that runs each step (`kubeconfig` writes it and checks the API is ready).
_MAIN = {"install-kubectl": "install_kubectl", "install-helm": "install_helm", "fetch-chart": "fetch_chart",
         "registration": "fetch_registration", "kubeconfig": "write_kubeconfig", "namespace": "apply_namespace",
         "argo-cd": "install_argo_cd", "cluster-secrets": "register_edges", "deregister": "deregister_edges",
         "repository": "apply_repository", "root-application": "apply_root"}


def _repository_step(inp: BootstrapInput, apply: str) -> str:
    q = shlex.quote
    lines = ["apply_repository() {", "  step repository", "  : > \"${WORK}/repository.applied\""]
    credential = inp.repository
    if credential is not None and inp.install_argo_cd:
        region = _SECRET_ARN.match(credential.secret_arn).group(1)
        meta = {"name": credential.name, "namespace": inp.namespace, "labels": repository_labels(),
                "url": credential.url, "secret_arn": credential.secret_arn}
        lines += [
            "  if ! command -v python3 >/dev/null; then",
            "    echo \"tfgen-bootstrap: repository: python3 is needed to read the repository's credential\" >&2",
            "    false",
            "  fi",
            "  " + heredoc("repository.meta.json", encode(meta)),
            "  " + heredoc("repository.py", PROGRAM.strip("\n")),
            f"  aws secretsmanager get-secret-value --region {q(region)} --secret-id {q(credential.secret_arn)} "
            "--query SecretString --output text > \"${WORK}/repository.secret\"",
            "  python3 \"${WORK}/repository.py\" \"${WORK}/repository.secret\" \"${WORK}/repository.meta.json\" "
            "\"${WORK}/repository.json\"",
            "  rm -f -- \"${WORK}/repository.secret\"",
            f"  {apply} --output name --filename \"${{WORK}}/repository.json\" | cut -d ' ' -f 1 "
            "> \"${WORK}/repository.applied\"",
            "  rm -f -- \"${WORK}/repository.json\"",
        ]
    elif _managed_repository(inp) is not None:
        lines.append(f"  {apply} --selector {q(SECRET_TYPE_LABEL + '=' + REPOSITORY)} --output name "
                     "--filename \"${WORK}/registration.json\" | cut -d ' ' -f 1 > \"${WORK}/repository.applied\"")
    lines += [f"  prune {REPOSITORY} \"${{WORK}}/repository.applied\"", "}"]
    return "\n".join(lines)


def render_script(inp: BootstrapInput) -> str:
    """The bash script for `inp`, byte-identical for equal inputs; raises BootstrapError naming bad fields."""
    problems = _check(inp)
    if problems:
        raise BootstrapError("bootstrap input: " + "; ".join(problems))
    q = shlex.quote
    pins, where = inp.pins, inp.registration
    managed_by = f"{MANAGED_BY_LABEL}={MANAGED_LABELS[MANAGED_BY_LABEL]}"
    apply = f'"${{KUBECTL}}" apply --server-side --field-manager={FIELD_MANAGER} --force-conflicts'
    arch_cases = []
    for uname, arch in sorted(ARCHITECTURES.items()):
        kubectl, helm = pins.kubectl.artefacts.get(arch), pins.helm.artefacts.get(arch)
        if kubectl and helm:
            arch_cases.append(f"  {uname})\n    ARCH={arch}\n"
                              f"    KUBECTL_URL={q(kubectl.url)}\n    KUBECTL_SHA256={kubectl.sha256}\n"
                              f"    HELM_URL={q(helm.url)}\n    HELM_SHA256={helm.sha256}\n    ;;")
    member = pins.helm.member.replace("{arch}", "${ARCH}")
    steps = STEPS if inp.install_argo_cd else MANAGED_STEPS
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
        # prune TYPE APPLIED: delete tfgen's Secrets of that Argo CD type not named in file APPLIED.
        "prune() {\n  local present name\n"
        f"  present=\"$(\"${{KUBECTL}}\" get secrets --namespace \"${{NAMESPACE}}\" --selector "
        f"\"{managed_by},{SECRET_TYPE_LABEL}=$1\" --output name)\"\n"
        "  while IFS= read -r name; do\n    [[ -n \"${name}\" ]] || continue\n"
        "    if ! grep --quiet --fixed-strings --line-regexp -e \"${name}\" \"$2\"; then\n"
        "      echo \"tfgen-bootstrap: ${TFGEN_STEP}: ${name#secret/} is no longer in the spec\"\n"
        "      \"${KUBECTL}\" delete secret --namespace \"${NAMESPACE}\" --ignore-not-found \"${name#secret/}\"\n"
        "    fi\n  done <<< \"${present}\"\n}",
        "",
        f"HUB_CLUSTER={q(inp.hub_cluster_name)}",
        f"HUB_REGION={q(inp.region)}",
        f"NAMESPACE={q(inp.namespace)}",
        f"RELEASE={q(inp.release)}",
        f"CHART_URL={q(pins.chart.artefact.url)}",
        f"CHART_SHA256={pins.chart.artefact.sha256}",
        f"REGISTRATION_BUCKET={q(where.bucket)}",
        f"REGISTRATION_KEY={q(where.key)}",
        f"REGISTRATION_VERSION='{where.version}'",
        f"REGISTRATION_REGION={q(where.region)}",
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
        "fetch_registration() {\n  step registration\n"
        "  aws s3api get-object --region \"${REGISTRATION_REGION}\" --bucket \"${REGISTRATION_BUCKET}\" "
        "--key \"${REGISTRATION_KEY}\" --version-id \"${REGISTRATION_VERSION}\" \"${WORK}/registration.json\" "
        ">/dev/null\n}",
        "",
        "write_kubeconfig() {\n  step kubeconfig\n"
        "  aws eks update-kubeconfig --region \"${HUB_REGION}\" --name \"${HUB_CLUSTER}\" --kubeconfig \"${KUBECONFIG}\"\n"
        "  \"${KUBECTL}\" get --raw=/readyz --request-timeout=30s\n}",
        "",
        "apply_namespace() {\n  step namespace\n  " + heredoc("namespace.json", json_list([namespace_manifest(inp.namespace)]))
        + f"\n  {apply} --filename - < \"${{WORK}}/namespace.json\"\n}}",
        "",
        "install_argo_cd() {\n  step argo-cd\n  " + heredoc("values.json", encode(inp.values)) + "\n"
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
        + (f"  {apply} --selector {q(SECRET_TYPE_LABEL + '=cluster')} --output name "
           "--filename \"${WORK}/registration.json\" | cut -d ' ' -f 1 > \"${WORK}/clusters.applied\"\n"
           "  echo \"tfgen-bootstrap: cluster-secrets: $(wc -l < \"${WORK}/clusters.applied\") applied\"\n"
           if inp.manifests else
           "  : > \"${WORK}/clusters.applied\"\n  echo \"tfgen-bootstrap: cluster-secrets: no edges to register\"\n")
        + "}",
        "",
        "deregister_edges() {\n  step deregister\n  prune cluster \"${WORK}/clusters.applied\"\n}",
        "",
        _repository_step(inp, apply),
        "",
        "apply_root() {\n  step root-application\n"
        + (f"  {apply} --selector {q('!' + SECRET_TYPE_LABEL)} --filename \"${{WORK}}/registration.json\"\n"
           if inp.root_manifests else "  echo \"tfgen-bootstrap: root-application: no GitOps repo given\"\n") + "}",
        "",
        "\n".join(_MAIN[step] for step in steps) + "\nTFGEN_STEP=done\necho \"tfgen-bootstrap: done\"",
    ]
    unused = {f"{_MAIN[step]}() {{" for step in STEPS if step not in steps}
    script = "\n".join(p for p in parts if not any(p.startswith(u) for u in unused)) + "\n"
    if "{{" in script:
        raise BootstrapError("the script contains `{{`, which SSM would read as a document parameter")
    return script


def for_terraform(text: str) -> str:
    """`text` as a Terraform string: every `${`/`%{` escaped (`$${`, `%%{`), TerraformRefs as `${expr}`."""
    escaped = text.replace("${", "$${").replace("%{", "%%{")
    return _TOKEN.sub(lambda match: "${" + match.group(1) + "}", escaped)


def terraform_refs(text: str) -> list[str]:
    """The Terraform expressions the text's TerraformRefs name, sorted (what the document depends on)."""
    return sorted(set(_TOKEN.findall(text)))
