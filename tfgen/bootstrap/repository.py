"""A private GitOps repository's credential: named in the spec, read only where it is used.

The spec names an AWS Secrets Manager secret by ARN, in the format EKS's Argo CD
capability reads (EKS user guide, "Configure repository access"): for an
`https://` URL, JSON with `username` and `token`, or a GitHub App's
`githubAppID`, `githubAppInstallationID` and base64 `githubAppPrivateKeySecret`
(`githubAppEnterpriseBaseUrl` for GitHub Enterprise); for an SSH URL, the private
key itself as plain text. So one secret serves both ways of running Argo CD:

- `argocd: managed`: the capability reads the secret itself. The repository
  Secret tfgen applies names it (`secretArn`, `managed_repository_secret`) and
  holds no credential; the capability's role may read that one secret.
- self-managed: Argo CD's repository Secret must hold the credential (argo-cd
  docs, operator-manual/declarative-setup.md, "Repositories"). The bootstrap reads
  the secret at run time into its private work directory (mode 0600, removed at
  the end of the step and again on exit) and `PROGRAM` (python3) writes Argo CD's
  Secret beside it: `username`/`password`, `sshPrivateKey`, or
  `githubAppID`/`githubAppInstallationID`/`githubAppPrivateKey`. The value is
  never printed, never an argument of a command (which `ps` would show), and
  never in the document, the registration object, state or the run's output.
"""

from __future__ import annotations

from .manifests import MANAGED_LABELS, SECRET_TYPE_LABEL

__all__ = ["REPOSITORY", "repository_secret_name", "repository_labels", "managed_repository_secret", "PROGRAM"]

REPOSITORY = "repository"  # the value of SECRET_TYPE_LABEL on Argo CD's repository Secrets


def repository_secret_name(environment: str) -> str:
    """The repository Secret of `environment`'s GitOps repository."""
    return f"{environment}-gitops-repository"


def repository_labels() -> dict[str, str]:
    return {SECRET_TYPE_LABEL: REPOSITORY, **MANAGED_LABELS}


def managed_repository_secret(*, name: str, namespace: str, url: str, secret_arn: str) -> dict:
    """The repository Secret EKS's Argo CD capability reads: the URL and the secret's ARN, no credential."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace, "labels": repository_labels()},
        "type": "Opaque",
        "stringData": {"type": "git", "url": url, "secretArn": secret_arn},
    }


# Run as `python3 - SECRET META OUT`: SECRET holds the SecretString (`aws ... --output text` adds a newline),
# META the repository Secret's name, namespace, labels and URL; OUT gets the Secret. Messages name fields,
# never values.
PROGRAM = r'''
import base64, binascii, json, sys

secret_path, meta_path, out_path = sys.argv[1:4]
meta = json.load(open(meta_path))


def fail(message):
    print("tfgen-bootstrap: repository: the secret " + meta["secret_arn"] + " " + message, file=sys.stderr)
    sys.exit(1)


raw = open(secret_path).read()
if raw.endswith("\n"):
    raw = raw[:-1]
if not raw or raw == "None":
    fail("has no SecretString (a binary secret cannot be read)")
data = dict(type="git", url=meta["url"])
if not meta["url"].startswith("https://"):
    if "PRIVATE KEY-----" not in raw:
        fail("is not an SSH private key in plain text, which the SSH URL needs")
    data["sshPrivateKey"] = raw + "\n"
else:
    try:
        fields = json.loads(raw)
    except ValueError:
        fail("is not JSON; for an https:// URL give JSON with username and token, or a GitHub App's fields")
    if not isinstance(fields, dict):
        fail("is not a JSON object")
    if "githubAppID" in fields:
        for name in ("githubAppInstallationID", "githubAppPrivateKeySecret"):
            if not fields.get(name):
                fail("has githubAppID but no " + name)
        try:
            key = base64.b64decode(str(fields["githubAppPrivateKeySecret"]), validate=True).decode("ascii")
        except (binascii.Error, ValueError):
            fail("has a githubAppPrivateKeySecret that is not the base64 of a PEM key")
        data.update(githubAppID=str(fields["githubAppID"]),
                    githubAppInstallationID=str(fields["githubAppInstallationID"]), githubAppPrivateKey=key)
        if fields.get("githubAppEnterpriseBaseUrl"):
            data["githubAppEnterpriseBaseUrl"] = str(fields["githubAppEnterpriseBaseUrl"])
    elif fields.get("token"):
        data["username"] = str(fields.get("username") or "git")
        data["password"] = str(fields["token"])
    else:
        fail("has neither token (with username) nor githubAppID")
manifest = dict(apiVersion="v1", kind="Secret", type="Opaque", stringData=data,
                metadata=dict(name=meta["name"], namespace=meta["namespace"], labels=meta["labels"]))
with open(out_path, "w") as out:
    json.dump(manifest, out)
'''
