"""The bootstrap script, run with bash against stub curl/aws/kubectl/helm (tests/bootstrap_stubs.py).

The Secrets and values come from the saved development outputs, rendered as
`tfgen gitops` renders them; kubectl and helm are "downloaded" by the curl stub
and verified against their real SHA-256, so the pin check in these runs is real.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import json
import re
from pathlib import Path

import pytest

from bootstrap_stubs import CHART_URL, HELM_URL, KUBECTL_URL, Bench, summary
from tfgen.bootstrap import manifests
from tfgen.bootstrap.document import document_content
from tfgen.bootstrap.errors import BootstrapError
from tfgen.bootstrap.script import (BootstrapInput, RepositoryCredential, TerraformRef, for_terraform,
                                   registration_data, render_script, terraform_refs)
from tfgen.gitops import read_outputs, render

FIXTURE = Path(__file__).parent / "gitops_fixtures" / "development.outputs.json"
REPO = "https://github.com/example-org/fleet-gitops.git"
EAST, WEST = ("multi-region-clusters-development-us-east-2-edge", "multi-region-clusters-development-us-west-2-edge")


@pytest.fixture()
def bench(tmp_path) -> Bench:
    return Bench(tmp_path)


@pytest.fixture()
def rendered():
    return render(read_outputs(FIXTURE))


def _input(bench: Bench, rendered, *, secrets=None, pins=None, repo=True, version="v1") -> BootstrapInput:
    secrets = rendered.secrets if secrets is None else secrets
    servers = [s["stringData"]["server"] for s in secrets]
    root = (manifests.environment_projects("development", namespace="argocd", repo_url=REPO, edge_servers=servers)
            + [manifests.root_application("development", namespace="argocd", repo_url=REPO, revision="main",
                                          path="bootstrap")]) if repo else []
    return BootstrapInput(hub_cluster_name="multi-region-clusters-development-us-east-1-hub", region="us-east-1",
                          values=rendered.values, manifests=secrets, root_manifests=root,
                          registration=bench.registration(version), pins=pins or bench.pins())


def _script(bench: Bench, inp: BootstrapInput) -> str:
    """The script of `inp`, its registration data put where the script reads it (as Terraform writes it)."""
    bench.put(inp)
    return render_script(inp)


def _edge(secret: dict, number: int) -> dict:
    """A copy of an edge's Secret for another edge, `fleet-<number>`, with its own endpoint."""
    edge = copy.deepcopy(secret)
    name = f"fleet-{number:03d}"
    edge["metadata"]["name"] = edge["stringData"]["name"] = edge["metadata"]["labels"]["cluster_name"] = name
    host = edge["stringData"]["server"].split(".", 1)[1]
    edge["stringData"]["server"] = f"https://{number:032X}.{host}"
    return edge


def _mutating(calls: list[dict]) -> list[str]:
    return [summary(c) for c in calls if c["tool"] in ("kubectl", "helm")
            and c["args"][0] in ("apply", "annotate", "delete", "upgrade")]


def test_steps_run_in_order_and_each_tool_is_verified_before_its_first_use(bench, rendered):
    result = bench.run(_script(bench, _input(bench, rendered)))
    assert result.returncode == 0, result.stderr
    steps = re.findall(r"^tfgen-bootstrap: ([a-z-]+)$", result.stdout, re.M)
    assert steps == ["install-kubectl", "install-helm", "fetch-chart", "registration", "kubeconfig", "namespace",
                     "argo-cd", "cluster-secrets", "deregister", "repository", "root-application", "done"]
    # sha256sum --check prints `<file>: OK` for each download, in the step that downloaded it.
    assert re.findall(r"/(kubectl\.download|helm\.tar\.gz|chart\.tgz): OK$", result.stdout, re.M) == [
        "kubectl.download", "helm.tar.gz", "chart.tgz"]
    calls = [summary(c) for c in bench.calls()]
    assert calls.index(f"curl {KUBECTL_URL}") < min(i for i, c in enumerate(calls) if c.startswith("kubectl"))
    assert calls.index(f"curl {HELM_URL}") < min(i for i, c in enumerate(calls) if c.startswith("helm"))
    assert calls.index(f"curl {CHART_URL}") < calls.index("helm upgrade --install")
    assert _mutating(bench.calls()) == [
        "kubectl apply Namespace", "helm upgrade --install", "kubectl annotate namespace",
        "kubectl apply Secret,Secret", "kubectl apply AppProject,AppProject,Application"]


def test_one_secret_per_edge_with_its_server_and_deployer_role(bench, rendered):
    assert bench.run(_script(bench, _input(bench, rendered))).returncode == 0
    outputs = read_outputs(FIXTURE)
    secrets = {k: v for k, v in bench.objects().items() if k.startswith("Secret/")}
    assert sorted(secrets) == [f"Secret/argocd/{EAST}", f"Secret/argocd/{WEST}"]
    for key in ("cluster_us_east_2_edge", "cluster_us_west_2_edge"):
        cluster = outputs[key]
        secret = secrets[f"Secret/argocd/{cluster['cluster_name']}"]
        assert secret["stringData"]["server"] == cluster["cluster_endpoint"]
        assert json.loads(secret["stringData"]["config"])["awsAuthConfig"] == {
            "clusterName": cluster["cluster_name"], "roleARN": cluster["deployer_role_arn"]}
        assert secret["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "tfgen"
    release = bench.releases()["argocd"]
    assert (release["namespace"], release["chart_sha256"]) == ("argocd", bench.sha256(CHART_URL))
    assert release["values"] == rendered.values


def test_a_second_run_changes_nothing(bench, rendered):
    script = _script(bench, _input(bench, rendered))
    assert bench.run(script).returncode == 0
    first_calls, first_state = bench.calls(), bench.state.read_text()
    second = bench.run(script)
    assert second.returncode == 0, second.stderr
    assert "tfgen-bootstrap: argo-cd: release argocd is up to date" in second.stdout
    assert bench.state.read_text() == first_state
    assert bench.releases()["argocd"]["revision"] == 1
    skipped = ("helm upgrade --install", "kubectl annotate namespace")
    assert [summary(c) for c in bench.calls()] == [summary(c) for c in first_calls if summary(c) not in skipped]


def test_changed_values_upgrade_the_release(bench, rendered):
    assert bench.run(_script(bench, _input(bench, rendered))).returncode == 0
    rendered.values["server"]["env"].append({"name": "EXTRA", "value": "1"})
    assert bench.run(_script(bench, _input(bench, rendered))).returncode == 0
    assert bench.releases()["argocd"]["revision"] == 2
    assert bench.releases()["argocd"]["values"]["server"]["env"][-1] == {"name": "EXTRA", "value": "1"}


def test_an_edge_removed_from_the_spec_is_deregistered_and_nothing_else(bench, rendered):
    assert bench.run(_script(bench, _input(bench, rendered))).returncode == 0
    state = json.loads(bench.state.read_text())
    state["objects"]["Secret/argocd/by-hand"] = {"kind": "Secret", "metadata": {
        "name": "by-hand", "namespace": "argocd", "labels": {"argocd.argoproj.io/secret-type": "cluster"}}}
    bench.state.write_text(json.dumps(state))
    east_only = [s for s in rendered.secrets if s["metadata"]["name"] == EAST]
    result = bench.run(_script(bench, _input(bench, rendered, secrets=east_only)))
    assert result.returncode == 0, result.stderr
    assert f"tfgen-bootstrap: deregister: {WEST} is no longer in the spec" in result.stdout
    deletes = [c["args"] for c in bench.calls() if c["args"][:2] == ["delete", "secret"]]
    assert deletes == [["delete", "secret", "--namespace", "argocd", "--ignore-not-found", WEST]]
    assert sorted(k for k in bench.objects() if k.startswith("Secret/")) == [
        "Secret/argocd/by-hand", f"Secret/argocd/{EAST}"]
    project = bench.objects()["AppProject/argocd/development"]
    assert [d["server"] for d in project["spec"]["destinations"]] == [east_only[0]["stringData"]["server"]]


@pytest.mark.parametrize("tool,step", [("kubectl", "install-kubectl"), ("helm", "install-helm"),
                                       ("chart", "fetch-chart")])
def test_a_pin_mismatch_stops_before_the_download_is_used(bench, rendered, tool, step):
    result = bench.run(_script(bench, _input(bench, rendered, pins=bench.pins(**{tool: "0" * 64}))))
    assert result.returncode != 0
    assert f"tfgen-bootstrap: FAILED in step {step} (exit 1)" in result.stderr
    assert "FAILED" in result.stdout and "FAILED in step" not in result.stdout  # sha256sum's own line
    used = {c["tool"] for c in bench.calls()}
    assert used <= {"curl"}, f"{used - {'curl'}} ran after a pin mismatch"
    assert bench.objects() == {} and bench.releases() == {}


@pytest.mark.parametrize("fail,step", [
    ("curl:" + KUBECTL_URL, "install-kubectl"), ("curl:" + HELM_URL, "install-helm"), ("curl:" + CHART_URL,
                                                                                      "fetch-chart"),
    ("aws:update-kubeconfig", "kubeconfig"), ("kubectl:--raw=/readyz", "kubeconfig"),
    ("kubectl:Namespace", "namespace"), ("helm:list", "argo-cd"), ("helm:upgrade", "argo-cd"),
    ("kubectl:annotate", "argo-cd"), ("kubectl:argocd.argoproj.io/secret-type=cluster", "cluster-secrets"),
    ("kubectl:secrets", "deregister"), ("aws:get-object", "registration"),
    ("kubectl:app.kubernetes.io/managed-by=tfgen,argocd.argoproj.io/secret-type=repository", "repository"),
    ("kubectl:!argocd.argoproj.io/secret-type", "root-application"),
])
def test_a_failing_step_exits_non_zero_naming_it(bench, rendered, fail, step):
    result = bench.run(_script(bench, _input(bench, rendered)), fail=fail)
    assert result.returncode != 0
    assert re.findall(r"tfgen-bootstrap: FAILED in step ([a-z-]+)", result.stderr) == [step]
    assert "tfgen-bootstrap: done" not in result.stdout


def test_a_failing_delete_is_reported_as_deregister(bench, rendered):
    assert bench.run(_script(bench, _input(bench, rendered))).returncode == 0
    east_only = [s for s in rendered.secrets if s["metadata"]["name"] == EAST]
    result = bench.run(_script(bench, _input(bench, rendered, secrets=east_only)), fail="kubectl:delete")
    assert result.returncode != 0 and "FAILED in step deregister" in result.stderr


def test_no_value_reaches_the_shell(bench, rendered, tmp_path):
    marker = tmp_path / "pwned"
    hostile = f"$(touch {marker}) `touch {marker}` ' \" ${{HOME}} %{{x}} {{{{ssm:p}}}} \\\nTFGEN_DATA\n$HOME"
    secrets = copy.deepcopy(rendered.secrets)
    secrets[0]["metadata"]["annotations"]["note"] = hostile
    rendered.values["server"]["env"].append({"name": "NOTE", "value": hostile})
    inp = _input(bench, rendered, secrets=secrets)
    script = _script(bench, inp)
    # In the data, braces are \u escapes: neither SSM (`{{`) nor Terraform (`${`, `%{`) can see a sequence.
    for text in (script, registration_data(inp)):
        assert "{{" not in text and "${HOME}" not in text and "%{x}" not in text
    result = bench.run(script)
    assert result.returncode == 0, result.stderr
    assert not marker.exists()
    assert bench.objects()[f"Secret/argocd/{EAST}"]["metadata"]["annotations"]["note"] == hostile
    assert bench.releases()["argocd"]["values"]["server"]["env"][-1]["value"] == hostile


def test_the_script_and_its_data_are_deterministic(bench, rendered):
    first, data = render_script(_input(bench, rendered)), registration_data(_input(bench, rendered))
    reordered = copy.deepcopy(rendered)
    reordered.values = dict(reversed(list(reordered.values.items())))
    reordered.secrets[0]["metadata"]["labels"] = dict(reversed(list(reordered.secrets[0]["metadata"]["labels"].items())))
    assert (render_script(_input(bench, reordered)), registration_data(_input(bench, reordered))) == (first, data)
    assert render_script(_input(bench, rendered, repo=False)) != first


def test_the_script_does_not_grow_with_the_edges(bench, rendered):
    """Every edge's Secret is registration data; the script names the one version of it to read."""
    many = [_edge(rendered.secrets[0], i) for i in range(40)]
    few, lots = _input(bench, rendered), _input(bench, rendered, secrets=many)
    assert render_script(lots) == render_script(few)
    assert len(registration_data(lots)) > 10 * len(registration_data(few))


def test_bad_input_is_named(bench, rendered):
    secrets = copy.deepcopy(rendered.secrets)
    secrets[1]["metadata"]["namespace"] = "default"
    with pytest.raises(BootstrapError) as error:
        render_script(BootstrapInput(hub_cluster_name="Hub_1", region="us-east-1", manifests=secrets,
                                     chart_version="9.9.9", pins=bench.pins(),
                                     registration=dataclasses.replace(bench.registration(), version="v'1")))
    message = str(error.value)
    assert "hub_cluster_name 'Hub_1'" in message
    assert "chart_version 9.9.9 has no pin (pinned: 10.1.1)" in message
    assert f"manifests[1] Secret/{WEST}: metadata.namespace 'default' is not the GitOps namespace 'argocd'" in message
    assert "registration version \"v'1\" is not an S3 version id" in message


def _terraform(text: str, values: dict) -> str:
    """What Terraform makes of a template string: `$${`/`%%{` unescaped, `${ref}` substituted."""
    def one(match):
        if match.group(0) in ("$${", "%%{"):
            return match.group(0)[1:]
        return values[match.group(1)]
    assert "%{" not in re.sub(r"%%\{", "", text), "an unescaped template directive"
    return re.sub(r"\$\$\{|%%\{|\$\{([^}]*)\}", one, text)


def test_terraform_refs_are_interpolated_and_everything_else_escaped(bench, rendered):
    """The edges' values are references in the registration data; the script names the object's version."""
    refs = {"aws_eks_cluster.edge.endpoint": rendered.secrets[0]["stringData"]["server"],
            "aws_iam_role.deployer.arn": json.loads(rendered.secrets[0]["stringData"]["config"])["awsAuthConfig"]
            ["roleARN"], "aws_s3_object.data.version_id": "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY"}
    templated = copy.deepcopy(rendered.secrets)
    templated[0]["stringData"]["server"] = TerraformRef("aws_eks_cluster.edge.endpoint")
    config = json.loads(templated[0]["stringData"]["config"])
    config["awsAuthConfig"]["roleARN"] = TerraformRef("aws_iam_role.deployer.arn")
    templated[0]["stringData"]["config"] = json.dumps(config, sort_keys=True)
    inp = dataclasses.replace(_input(bench, rendered, secrets=templated), registration=dataclasses.replace(
        bench.registration(), version=TerraformRef("aws_s3_object.data.version_id")))
    script, data = render_script(inp), registration_data(inp)
    assert (terraform_refs(script), terraform_refs(data)) == (["aws_s3_object.data.version_id"],
                                                              ["aws_eks_cluster.edge.endpoint", "aws_iam_role.deployer.arn"])
    text = for_terraform(script)
    assert sorted(set(re.findall(r"(?<!\$)\$\{([^}]*)\}", text))) == ["aws_s3_object.data.version_id"]
    assert '"$${WORK}/chart.tgz"' in text
    # Terraform's result is the script and the data rendered with the values themselves.
    plain = _input(bench, rendered, version=refs["aws_s3_object.data.version_id"])
    assert _terraform(text, refs) == render_script(plain)
    assert _terraform(for_terraform(data), refs) == registration_data(plain)
    lines = document_content(script)["mainSteps"][0]["inputs"]["runCommand"]
    assert "\n".join(lines) + "\n" == text


@pytest.mark.parametrize("expression", ['file("/etc/passwd")', "aws_x.y}${local.z", "var", ""])
def test_a_terraform_ref_is_a_plain_reference(expression):
    with pytest.raises(BootstrapError, match="is not a plain Terraform reference"):
        TerraformRef(expression)


# -- a private repository: the credential read at run time, never written down ----------------------------

SECRET_ARN = "arn:aws:secretsmanager:us-east-1:111111111111:secret:fleet-gitops-AbCdEf"
TOKEN = "tok-" + "7f3a9c" * 6  # what the stub's Secrets Manager holds; must appear only in the cluster's Secret
KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ" + "Q" * 40 + "\n-----END OPENSSH PRIVATE KEY-----"


def _private(bench: Bench, rendered, url: str = REPO) -> BootstrapInput:
    inp = _input(bench, rendered)
    return dataclasses.replace(inp, repository=RepositoryCredential(url=url, secret_arn=SECRET_ARN,
                                                                    name="development-gitops-repository"))


def _everything_but_the_cluster(bench: Bench, result) -> str:
    """All a run leaves that is not the cluster's own state: its output, the tools' log, the work directory."""
    leftovers = "".join(p.read_text(errors="replace") for p in bench.tmp.rglob("*") if p.is_file())
    return result.stdout + result.stderr + bench.log.read_text() + leftovers


@pytest.mark.parametrize("kind", ["token", "github-app", "ssh"])
def test_a_private_repositorys_secret_becomes_argo_cds_repository_secret_and_nothing_else(bench, rendered, kind):
    url = {"ssh": "git@github.com:example-org/fleet-gitops.git"}.get(kind, REPO)
    value = {"token": json.dumps({"username": "fleet-bot", "token": TOKEN}),
             "github-app": json.dumps({"githubAppID": "123456", "githubAppInstallationID": "7890",
                                       "githubAppPrivateKeySecret": base64.b64encode(KEY.encode()).decode()}),
             "ssh": KEY}[kind]
    bench.secrets[SECRET_ARN] = value
    inp = _private(bench, rendered, url)
    script = _script(bench, inp)
    assert value not in script and value not in registration_data(inp)
    result = bench.run(script)
    assert result.returncode == 0, result.stderr
    data = bench.objects()["Secret/argocd/development-gitops-repository"]
    assert data["metadata"]["labels"] == {"argocd.argoproj.io/secret-type": "repository",
                                          "app.kubernetes.io/managed-by": "tfgen"}
    wanted = {"token": {"username": "fleet-bot", "password": TOKEN},
              "github-app": {"githubAppID": "123456", "githubAppInstallationID": "7890", "githubAppPrivateKey": KEY},
              "ssh": {"sshPrivateKey": KEY + "\n"}}[kind]
    assert data["stringData"] == {"type": "git", "url": url, **wanted}
    # The secret was read into the work directory only, and that is gone; no output or argument names it.
    secret_parts = [TOKEN] if kind == "token" else [KEY.splitlines()[1]]
    assert not any(part in _everything_but_the_cluster(bench, result) for part in secret_parts)
    assert list(bench.tmp.iterdir()) == []
    (read,) = [c for c in bench.calls() if c["args"][:1] == ["secretsmanager"]]
    assert read["args"][read["args"].index("--secret-id") + 1] == SECRET_ARN


def test_a_secret_in_the_wrong_shape_fails_the_repository_step_without_showing_it(bench, rendered):
    bench.secrets[SECRET_ARN] = json.dumps({"user": "fleet-bot", "password": TOKEN})
    result = bench.run(_script(bench, _private(bench, rendered)))
    assert result.returncode != 0
    assert re.findall(r"tfgen-bootstrap: FAILED in step ([a-z-]+)", result.stderr) == ["repository"]
    assert f"the secret {SECRET_ARN} has neither token (with username) nor githubAppID" in result.stderr
    assert TOKEN not in _everything_but_the_cluster(bench, result) and list(bench.tmp.iterdir()) == []


def test_a_repository_credential_removed_from_the_spec_is_deleted(bench, rendered):
    bench.secrets[SECRET_ARN] = json.dumps({"username": "fleet-bot", "token": TOKEN})
    assert bench.run(_script(bench, _private(bench, rendered))).returncode == 0
    assert "Secret/argocd/development-gitops-repository" in bench.objects()
    result = bench.run(_script(bench, _input(bench, rendered, version="v2")))
    assert result.returncode == 0, result.stderr
    assert "tfgen-bootstrap: repository: development-gitops-repository is no longer in the spec" in result.stdout
    assert "Secret/argocd/development-gitops-repository" not in bench.objects()


# -- at fleet scale -----------------------------------------------------------------------------------------


def test_five_hundred_edges_register_and_one_removed_is_deregistered(bench, rendered):
    """The script that registers 500 edges is the one that registers 2; the data grows, and the second run
    applies the 499 that remain, deletes the one removed, and touches nothing else."""
    edges = [_edge(rendered.secrets[0], i) for i in range(500)]
    inp = _input(bench, rendered, secrets=edges)
    assert render_script(inp) == render_script(_input(bench, rendered))
    result = bench.run(_script(bench, inp))
    assert result.returncode == 0, result.stderr
    assert "tfgen-bootstrap: cluster-secrets: 500 applied" in result.stdout
    secrets = {k: v for k, v in bench.objects().items() if k.startswith("Secret/")}
    assert len(secrets) == 500
    assert secrets["Secret/argocd/fleet-123"]["stringData"]["server"] == edges[123]["stringData"]["server"]
    project = bench.objects()["AppProject/argocd/development"]
    assert len(project["spec"]["destinations"]) == 500
    result = bench.run(_script(bench, _input(bench, rendered, secrets=edges[:123] + edges[124:], version="v2")))
    assert result.returncode == 0, result.stderr
    assert re.findall(r"deregister: (\S+) is no longer in the spec", result.stdout) == ["fleet-123"]
    assert [c["args"][-1] for c in bench.calls() if c["args"][:2] == ["delete", "secret"]] == ["fleet-123"]
    assert len([k for k in bench.objects() if k.startswith("Secret/")]) == 499
