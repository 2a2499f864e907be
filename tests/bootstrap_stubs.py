"""Stub curl, aws, kubectl and helm for running the bootstrap script with bash (tests/test_bootstrap_script.py).

`Bench(tmp_path)` writes them: curl and aws go on PATH; kubectl and helm are what
curl "downloads" (kubectl as the file itself, helm inside a tar.gz), so the
script's SHA-256 check runs on real bytes and the pins are their digests. Every
stub appends `{"tool", "args", "stdin"}` to a JSON-lines log; kubectl and helm
keep the cluster in a JSON state file (objects by Kind/namespace/name, releases).
The aws stub serves S3 object versions (`Bench.put`: the registration data, as
Terraform writes it) and Secrets Manager secrets (`Bench.secrets`). kubectl's
apply reads a file or stdin, filters by `--selector` as kubectl does (`k=v`,
`k!=v`, `!k`, `k`) and prints `kind/name` with `--output name`.
`TFGEN_STUB_FAIL=tool:word` makes `tool` exit 1 when `word` is among its
arguments or in its stdin.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import tarfile
from pathlib import Path

from tfgen.bootstrap.script import BootstrapInput, Registration, registration_data
from tfgen.bootstrap.tools import ARCHITECTURES, Artefact, ChartPin, Pins, ToolPin
from tests.stub_launcher import launcher

_COMMON = """
import os, sys
args = sys.argv[1:]
stdin = "" if sys.stdin is None or sys.stdin.isatty() else sys.stdin.read()
with open(os.environ["TFGEN_STUB_LOG"], "a") as log:
    log.write(dumps({"tool": TOOL, "args": args, "stdin": stdin}) + "\\n")
fail = os.environ.get("TFGEN_STUB_FAIL", "")
if fail.startswith(TOOL + ":") and (fail.split(":", 1)[1] in args or fail.split(":", 1)[1] in stdin):
    print(TOOL + ": injected failure", file=sys.stderr)
    sys.exit(1)
def opt(name):
    for i, arg in enumerate(args):
        if arg == name:
            return args[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None
def read_state():
    return load(os.environ["TFGEN_STUB_STATE"])
def write_state(state):
    dump(state, os.environ["TFGEN_STUB_STATE"])
def selected(labels, selector):
    for term in (selector or "").split(","):
        if not term:
            continue
        if term.startswith("!"):
            ok = term[1:] not in labels
        elif "!=" in term:
            key, value = term.split("!=", 1)
            ok = labels.get(key) != value
        elif "=" in term:
            key, value = term.split("=", 1)
            ok = labels.get(key) == value
        else:
            ok = term in labels
        if not ok:
            return False
    return True
"""

CURL = """
urls = load(os.environ["TFGEN_STUB_URLS"])
if args[-1] not in urls:
    print("curl: (22) The requested URL returned error: 404", file=sys.stderr)
    sys.exit(22)
with open(urls[args[-1]], "rb") as source, open(opt("--output"), "wb") as target:
    target.write(source.read())
"""

AWS = """
if args[:2] == ["eks", "update-kubeconfig"]:
    open(opt("--kubeconfig"), "w").write("apiVersion: v1\\nkind: Config\\n# " + opt("--name") + "\\n")
elif args[:2] == ["s3api", "get-object"]:
    objects = load(os.environ["TFGEN_STUB_OBJECTS"])
    key = "/".join((opt("--bucket"), opt("--key"), opt("--version-id")))
    if key not in objects:
        print("An error occurred (NoSuchKey) when calling the GetObject operation", file=sys.stderr)
        sys.exit(254)
    open(args[-1], "w").write(open(objects[key]).read())
    print(dumps({"VersionId": opt("--version-id")}))
elif args[:2] == ["secretsmanager", "get-secret-value"]:
    secrets = load(os.environ["TFGEN_STUB_SECRETS"])
    if opt("--secret-id") not in secrets:
        print("An error occurred (ResourceNotFoundException)", file=sys.stderr)
        sys.exit(254)
    assert opt("--query") == "SecretString" and opt("--output") == "text", args
    print(secrets[opt("--secret-id")])
else:
    print("aws stub: unexpected " + " ".join(args), file=sys.stderr)
    sys.exit(2)
"""

KUBECTL = """
state = read_state()
objects = state.setdefault("objects", {})
namespace = opt("--namespace") or ""
def key(kind, ns, name):
    return kind + "/" + ns + "/" + name
if args[0] == "apply":
    assert "--server-side" in args and opt("--filename"), args
    document = loads(stdin if opt("--filename") == "-" else open(opt("--filename")).read())
    items = [i for i in (document["items"] if document["kind"] == "List" else [document])
             if selected(i["metadata"].get("labels", {}), opt("--selector"))]
    if not items:
        print("error: no objects passed to apply", file=sys.stderr)
        sys.exit(1)
    with open(os.environ["TFGEN_STUB_LOG"]) as log:
        lines = log.read().splitlines()
    lines[-1] = dumps(dict(loads(lines[-1]), kinds=[i["kind"] for i in items]))
    with open(os.environ["TFGEN_STUB_LOG"], "w") as log:
        log.write("\\n".join(lines) + "\\n")
    for item in items:
        meta = item["metadata"]
        if opt("--output") == "name":
            print(item["kind"].lower() + "/" + meta["name"])
        old = objects.get(key(item["kind"], meta.get("namespace", ""), meta["name"]), {})
        annotations = dict(old.get("metadata", {}).get("annotations", {}))
        annotations.update(meta.get("annotations", {}))
        stored = loads(dumps(item))
        if annotations:
            stored["metadata"]["annotations"] = annotations
        objects[key(item["kind"], meta.get("namespace", ""), meta["name"])] = stored
elif args[:2] == ["get", "namespace"]:
    ns = objects.get(key("Namespace", "", args[2]))
    if ns is None:
        print("Error from server (NotFound)", file=sys.stderr)
        sys.exit(1)
    print(ns["metadata"].get("annotations", {}).get("tfgen.io/argo-cd-release", ""), end="")
elif args[:2] == ["annotate", "namespace"]:
    name, value = args[-1].split("=", 1)
    objects[key("Namespace", "", args[2])]["metadata"].setdefault("annotations", {})[name] = value
elif args[:2] == ["get", "secrets"]:
    for k, item in sorted(objects.items()):
        labels = item["metadata"].get("labels", {})
        if k.startswith("Secret/" + namespace + "/") and selected(labels, opt("--selector")):
            print("secret/" + item["metadata"]["name"])
elif args[:2] == ["delete", "secret"]:
    objects.pop(key("Secret", namespace, args[-1]), None)
elif args[0] == "get" and args[1].startswith("--raw"):
    print("ok")
else:
    print("kubectl stub: unexpected " + " ".join(args), file=sys.stderr)
    sys.exit(2)
write_state(state)
"""

HELM = """
state = read_state()
releases = state.setdefault("releases", {})
if args[0] == "list":
    for name in sorted(releases):
        if releases[name]["namespace"] == opt("--namespace"):
            print(name)
elif args[:2] == ["upgrade", "--install"]:
    import hashlib
    assert "--wait" in args, args
    release = releases.setdefault(args[2], {"revision": 0})
    release.update(namespace=opt("--namespace"), revision=release["revision"] + 1,
                   chart_sha256=hashlib.sha256(open(args[3], "rb").read()).hexdigest(),
                   values=load(opt("--values")))
else:
    print("helm stub: unexpected " + " ".join(args), file=sys.stderr)
    sys.exit(2)
write_state(state)
"""

KUBECTL_URL = "https://dl.example.test/kubectl"
HELM_URL = "https://dl.example.test/helm.tar.gz"
CHART_URL = "https://charts.example.test/argo-cd-10.1.1.tgz"
BUCKET, KEY = "demo-development-bootstrap-111111111111", "registration/demo-development-us-east-1-hub.json"
# The pins are for this machine's architecture, as the script picks by `uname -m`.
ARCH = ARCHITECTURES[os.uname().machine]


def _stub(tool: str, body: str, directory: Path) -> bytes:
    return launcher(directory / f"{tool}.code", (_COMMON.replace("TOOL", repr(tool)) + body, f"<{tool} stub>"))


def _tarball(member: str, content: bytes) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo(member)
        info.size, info.mode, info.mtime = len(content), 0o644, 0
        tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


class Bench:
    """A directory with the stubs, the downloadable payloads, the log and the state."""

    def __init__(self, root: Path):
        self.root = root
        self.bin = root / "bin"
        self.bin.mkdir()
        payloads, code = root / "payloads", root / "code"
        payloads.mkdir()
        code.mkdir()
        for tool, body in (("curl", CURL), ("aws", AWS)):
            (self.bin / tool).write_bytes(_stub(tool, body, code))
            (self.bin / tool).chmod(0o755)
        self.payload = {
            KUBECTL_URL: _stub("kubectl", KUBECTL, code),
            HELM_URL: _tarball(f"linux-{ARCH}/helm", _stub("helm", HELM, code)),
            CHART_URL: b"argo-cd chart archive stand-in\n",
        }
        urls = {}
        for i, (url, content) in enumerate(sorted(self.payload.items())):
            path = payloads / f"payload-{i}"
            path.write_bytes(content)
            urls[url] = str(path)
        (root / "urls.json").write_text(json.dumps(urls))
        self.log = root / "log.jsonl"
        self.state = root / "state.json"
        self.state.write_text("{}")
        self.tmp = root / "tmp"
        self.tmp.mkdir()
        self.objects_file, self.secrets_file = root / "objects.json", root / "secrets.json"
        self.objects_file.write_text("{}")
        self.secrets: dict[str, str] = {}

    def sha256(self, url: str) -> str:
        return hashlib.sha256(self.payload[url]).hexdigest()

    def pins(self, *, kubectl: str | None = None, helm: str | None = None, chart: str | None = None) -> Pins:
        """Pins of the stub payloads (an argument replaces that pin's digest)."""
        return Pins(
            kubectl=ToolPin(name="kubectl", version="1.35.2", source="test",
                            artefacts={ARCH: Artefact(KUBECTL_URL, kubectl or self.sha256(KUBECTL_URL))}),
            helm=ToolPin(name="helm", version="4.2.4", source="test", member="linux-{arch}/helm",
                         artefacts={ARCH: Artefact(HELM_URL, helm or self.sha256(HELM_URL))}),
            chart=ChartPin(name="argo-cd", version="10.1.1", app_version="v3.4.4", source="test",
                           artefact=Artefact(CHART_URL, chart or self.sha256(CHART_URL))),
        )

    def registration(self, version: str = "v1") -> Registration:
        """Where a script made for this bench reads its registration data (`put` writes it there)."""
        return Registration(bucket=BUCKET, key=KEY, version=version, region="us-east-1")

    def put(self, inp: BootstrapInput) -> None:
        """Write `inp`'s registration data as the S3 object version its script reads, as Terraform would."""
        where = inp.registration
        path = self.root / "objects" / f"{len(list(self.root.glob('objects/*')))}.json"
        path.parent.mkdir(exist_ok=True)
        path.write_text(registration_data(inp))
        objects = json.loads(self.objects_file.read_text())
        objects["/".join((where.bucket, where.key, where.version))] = str(path)
        self.objects_file.write_text(json.dumps(objects))

    def run(self, script: str, *, fail: str = "") -> subprocess.CompletedProcess:
        """Run `script` with bash, the stubs first on PATH; the log is emptied first."""
        self.log.write_text("")
        self.secrets_file.write_text(json.dumps(self.secrets))
        path = self.root / "bootstrap.sh"
        path.write_text(script)
        env = {"PATH": f"{self.bin}:/usr/bin:/bin", "TMPDIR": str(self.tmp), "HOME": str(self.root),
               "TFGEN_STUB_LOG": str(self.log), "TFGEN_STUB_STATE": str(self.state),
               "TFGEN_STUB_URLS": str(self.root / "urls.json"), "TFGEN_STUB_FAIL": fail,
               "TFGEN_STUB_OBJECTS": str(self.objects_file), "TFGEN_STUB_SECRETS": str(self.secrets_file)}
        return subprocess.run(["bash", str(path)], env=env, capture_output=True, text=True, timeout=120,
                              stdin=subprocess.DEVNULL, cwd=self.root)

    def calls(self) -> list[dict]:
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def objects(self) -> dict:
        return json.loads(self.state.read_text()).get("objects", {})

    def releases(self) -> dict:
        return json.loads(self.state.read_text()).get("releases", {})


def summary(call: dict) -> str:
    """`tool verb [kind...]`: what a call did, for order assertions."""
    args = call["args"]
    if call["tool"] == "curl":
        return f"curl {args[-1]}"
    if call["tool"] == "kubectl" and args[0] == "apply":
        return "kubectl apply " + ",".join(call.get("kinds") or [])
    return " ".join([call["tool"], *args[:2]])
