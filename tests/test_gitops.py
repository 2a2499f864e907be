"""`tfgen gitops`: Argo CD cluster Secrets from an environment's outputs.

Saved outputs (a realistic `terraform output -json` of the example's
development environment) here; the sandbox's real outputs in test_sandbox.py.
"""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path

import pytest
import yaml

from tfgen.cli import main
from tfgen.gitops import LiveCluster, OutputsError, check_secret, render, validate_secret

FIXTURE = Path(__file__).parent / "gitops_fixtures" / "development.outputs.json"
EDGES = ("multi-region-clusters-development-us-east-2-edge", "multi-region-clusters-development-us-west-2-edge")


@pytest.fixture()
def outputs() -> dict:
    return json.loads(FIXTURE.read_text())


def _write(tmp_path: Path, outputs: dict) -> Path:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs))
    return path


def test_yaml_has_one_valid_secret_per_edge(capsys):
    assert main(["gitops", "out/development", "--outputs", str(FIXTURE)]) == 0
    documents = list(yaml.safe_load_all(capsys.readouterr().out))
    assert [d["metadata"]["name"] for d in documents] == list(EDGES)
    raw = json.loads(FIXTURE.read_text())
    for doc in documents:
        key = "cluster_" + doc["metadata"]["labels"]["region"].replace("-", "_") + "_edge"
        cluster = raw[key]["value"]
        assert (doc["apiVersion"], doc["kind"]) == ("v1", "Secret")
        assert doc["metadata"]["namespace"] == "argocd"
        assert doc["metadata"]["labels"] == {
            "argocd.argoproj.io/secret-type": "cluster", "tfgen.io/role": "edge", "environment": "development",
            "region": cluster["region"], "cluster_name": cluster["cluster_name"],
            "kubernetes_version": "1.35", "enable_aws_ebs_csi_driver": "true"}
        assert doc["metadata"]["annotations"] == {
            "aws_region": cluster["region"], "aws_account_id": "111111111111", "aws_vpc_id": cluster["vpc_id"],
            "aws_cluster_name": cluster["cluster_name"],
            "aws_ebs_csi_driver_iam_role_arn": cluster["ebs_csi_role_arn"]}
        data = doc["stringData"]
        assert data["name"] == cluster["cluster_name"] and data["server"] == cluster["cluster_endpoint"]
        config = json.loads(data["config"])
        assert config == {"awsAuthConfig": {"clusterName": cluster["cluster_name"],
                                            "roleARN": cluster["deployer_role_arn"]},
                          "tlsClientConfig": {"caData": cluster["certificate_authority"]}}
        assert base64.b64decode(config["tlsClientConfig"]["caData"]).startswith(b"-----BEGIN CERTIFICATE-----")
        assert validate_secret(doc) == []


def test_pod_identity_values_set_aws_region_on_the_three_components(tmp_path, capsys):
    values_file = tmp_path / "values.yaml"
    out = tmp_path / "secrets.json"
    assert main(["gitops", "x", "--outputs", str(FIXTURE), "--format", "json", "--output", str(out),
                 "--values", str(values_file)]) == 0
    assert capsys.readouterr().out == ""
    rendered = json.loads(out.read_text())
    assert len(rendered["secrets"]) == 2
    region = [{"name": "AWS_REGION", "value": "us-east-1"}]
    # an output without the controller's fields (made before tfgen set them): one replica, legacy sharding
    expected = {"controller": {"env": region, "replicas": 1}, "server": {"env": region},
                "applicationSet": {"extraEnv": region},
                "configs": {"params": {"controller.sharding.algorithm": "legacy"}}}
    assert rendered["values"] == expected
    assert yaml.safe_load(values_file.read_text()) == expected


def test_irsa_values_annotate_the_three_service_accounts(outputs):
    outputs["gitops"]["value"]["identity"] = "irsa"
    arn = outputs["gitops"]["value"]["management_role_arn"]
    values = render(read_outputs_dict(outputs)).values
    assert set(values) == {"controller", "server", "applicationSet", "configs"}
    for name in ("controller", "server", "applicationSet"):
        assert values[name]["serviceAccount"]["annotations"] == {"eks.amazonaws.com/role-arn": arn}, name
        assert "env" not in values[name] and "extraEnv" not in values[name], name


def test_the_controller_is_sharded_as_the_outputs_say(outputs):
    outputs["gitops"]["value"].update(controller_replicas=4, sharding="consistent-hashing")
    values = render(read_outputs_dict(outputs)).values
    assert (values["controller"]["replicas"], values["configs"]["params"]) == (
        4, {"controller.sharding.algorithm": "consistent-hashing"})
    outputs["gitops"]["value"].update(controller_replicas=0, sharding="random")
    with pytest.raises(OutputsError) as error:
        render(read_outputs_dict(outputs))
    assert "field controller_replicas 0 is not a number of replicas" in str(error.value)
    assert "field sharding 'random' is not one of legacy, round-robin, consistent-hashing" in str(error.value)


def read_outputs_dict(outputs: dict) -> dict:
    return {name: item["value"] for name, item in outputs.items()}


@pytest.mark.parametrize("field", ["deployer_role_arn", "cluster_endpoint", "certificate_authority", "vpc_id"])
def test_missing_field_is_exit_1_naming_output_and_field(tmp_path, outputs, capsys, field):
    del outputs["cluster_us_west_2_edge"]["value"][field]
    assert main(["gitops", "x", "--outputs", str(_write(tmp_path, outputs))]) == 1
    err = capsys.readouterr().err
    assert "output cluster_us_west_2_edge" in err and field in err, err
    assert "Traceback" not in err


@pytest.mark.parametrize("field,value,message", [
    ("cluster_endpoint", "http://plain.example", "not the EKS endpoint of a cluster in us-east-2"),
    # Argo CD would send the hub's signed EKS tokens to any of these.
    ("cluster_endpoint", "https://evil.example", "not the EKS endpoint"),
    ("cluster_endpoint", "https://0F1E2D3C4B5A69788796A5B4C3D2E1F0.gr7.us-east-2.eks.amazonaws.com.evil.example",
     "not the EKS endpoint"),
    ("cluster_endpoint", "https://0F1E2D3C4B5A69788796A5B4C3D2E1F0.gr7.us-east-2.eks.amazonaws.com@evil.example",
     "not the EKS endpoint"),
    ("cluster_endpoint", "https://0F1E2D3C4B5A69788796A5B4C3D2E1F0.gr7.us-east-2.eks.amazonaws.com:8443/x",
     "not the EKS endpoint"),
    ("cluster_endpoint", "https://0F1E2D3C4B5A69788796A5B4C3D2E1F0.gr7.eu-west-1.eks.amazonaws.com",
     "not the EKS endpoint of a cluster in us-east-2"),
    ("certificate_authority", "not base64!", "certificate_authority is not base64"),
    ("certificate_authority", base64.b64encode(b"hello").decode(), "not of PEM certificates"),
    ("certificate_authority", base64.b64encode(b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
     .decode(), "not a DER certificate"),
    ("cluster_name", "Not_A_DNS_Name", "not a DNS-1123 name"),
    ("cluster_name", "edge\n", "not a DNS-1123 name"),
    ("deployer_role_arn", "", "deployer_role_arn is missing or empty"),
    ("deployer_role_arn", "arn:", "not the ARN of an IAM role in the environment's account 111111111111"),
    ("deployer_role_arn", "arn:aws:iam::999999999999:role/x", "account 111111111111"),
    ("deployer_role_arn", "arn:aws:iam::111111111111:role/x\n", "not the ARN of an IAM role"),
    ("account_id", "11111111111", "not a 12-digit AWS account id"),
    ("vpc_id", ["vpc-1"], "field vpc_id is an array, not a string"),
])
def test_bad_values_are_exit_1_with_the_reason(tmp_path, outputs, capsys, field, value, message):
    outputs["cluster_us_east_2_edge"]["value"][field] = value
    assert main(["gitops", "x", "--outputs", str(_write(tmp_path, outputs))]) == 1
    err = capsys.readouterr().err
    assert "output cluster_us_east_2_edge" in err and message in err, err


def test_no_gitops_output_is_exit_1(tmp_path, outputs, capsys):
    del outputs["gitops"]
    assert main(["gitops", "x", "--outputs", str(_write(tmp_path, outputs))]) == 1
    assert "output gitops is missing" in capsys.readouterr().err


def test_plain_value_mapping_is_accepted(outputs):
    rendered = render(read_outputs_dict(outputs))
    assert [s["metadata"]["name"] for s in rendered.secrets] == list(EDGES)


def test_usage_errors_are_exit_2_without_traceback(tmp_path, capsys, monkeypatch):
    assert main(["gitops", str(tmp_path / "nope")]) == 2
    assert "is not a directory" in capsys.readouterr().err
    assert main(["gitops", "x", "--outputs", str(tmp_path / "missing.json")]) == 2
    assert "cannot read outputs file" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert main(["gitops", "x", "--outputs", str(bad)]) == 2
    assert "is not valid JSON" in capsys.readouterr().err
    latin = tmp_path / "latin.json"
    latin.write_bytes(b'{"gitops": "\xe9"}')
    assert main(["gitops", "x", "--outputs", str(latin)]) == 2
    assert "is not UTF-8" in capsys.readouterr().err
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 10_000 + "]" * 10_000)
    assert main(["gitops", "x", "--outputs", str(deep)]) == 2
    assert "deeper than" in capsys.readouterr().err
    big = tmp_path / "big.json"
    with big.open("wb") as handle:
        handle.truncate(9 * 1024 * 1024)
    assert main(["gitops", "x", "--outputs", str(big)]) == 2
    assert "larger than" in capsys.readouterr().err
    monkeypatch.setenv("TFGEN_TERRAFORM", str(tmp_path / "no-terraform"))
    assert main(["gitops", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "terraform is not on PATH" in err and "Traceback" not in err


def test_gitops_runs_terraform_output_in_the_root(tmp_path, capsys, monkeypatch):
    """`tfgen gitops OUT/ENV` reads `terraform output -json` in an initialised root (the stub prints no outputs:
    the root is not applied)."""
    from tests.orchestrate_stub import stub_terraform

    monkeypatch.setenv("STUB_DIR", str(tmp_path))
    monkeypatch.setenv("TFGEN_TERRAFORM", str(stub_terraform(tmp_path)))
    root = tmp_path / "development"
    (root / ".terraform").mkdir(parents=True)
    assert main(["gitops", str(root)]) == 2
    assert "is not applied (its state holds no outputs)" in capsys.readouterr().err
    (ran,) = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines() if '"start"' in line]
    assert (ran["argv"], ran["cwd"]) == (["output", "-json", "-no-color"], str(root))


def test_render_does_not_change_its_input(outputs):
    values = read_outputs_dict(outputs)
    before = copy.deepcopy(values)
    render(values)
    assert values == before


def test_validate_secret_names_every_problem():
    problems = validate_secret({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x", "labels": {}},
                                "stringData": {"name": "x", "server": "https://x", "config": "{}"}})
    assert "metadata.namespace is missing" in problems
    assert any("secret-type" in p for p in problems)
    assert "config awsAuthConfig.roleARN is missing or empty" in problems
    with pytest.raises(OutputsError):
        render({"gitops": {}})


def test_a_secret_matches_its_cluster_only_with_its_endpoint_ca_and_role(outputs):
    """The one check of a Secret against its cluster as EKS and IAM describe it (the sandbox checks `tfgen
    gitops`'s Secrets and the bootstrap's with it): every difference is named."""
    values = read_outputs_dict(outputs)
    cluster = values["cluster_us_east_2_edge"]
    secret = next(s for s in render(values).secrets if s["stringData"]["name"] == cluster["cluster_name"])
    live = LiveCluster(endpoint=cluster["cluster_endpoint"], ca_data=cluster["certificate_authority"],
                       role_arn=cluster["deployer_role_arn"])
    assert check_secret(secret, live) == (True, f"server {live.endpoint}; roleARN {live.role_arn}")
    other = values["cluster_us_west_2_edge"]
    ok, detail = check_secret(secret, LiveCluster(endpoint=other["cluster_endpoint"], ca_data="Zm9v",
                                                  role_arn=other["deployer_role_arn"]))
    assert not ok
    assert f"!= endpoint {other['cluster_endpoint']}" in detail and f"!= deployer role {other['deployer_role_arn']}" \
        in detail and "caData is not the cluster's CA" in detail, detail
    arn = f"arn:aws:eks:us-east-2:111111111111:cluster/{cluster['cluster_name']}"
    by_arn = {"stringData": {"name": cluster["cluster_name"], "server": arn}}  # EKS's Argo CD capability
    assert check_secret(by_arn, LiveCluster(arn=arn)) == (True, f"server {arn}")
    assert check_secret(by_arn, LiveCluster(arn=arn + "x"))[0] is False


def test_two_edges_with_one_name_is_an_error_naming_both(tmp_path, outputs, capsys):
    name = outputs["cluster_us_east_2_edge"]["value"]["cluster_name"]
    outputs["cluster_us_west_2_edge"]["value"]["cluster_name"] = name
    assert main(["gitops", "x", "--outputs", str(_write(tmp_path, outputs))]) == 1
    err = capsys.readouterr().err
    assert "outputs cluster_us_east_2_edge and cluster_us_west_2_edge" in err and name in err, err


def test_a_cluster_output_that_is_not_an_object_is_an_error(tmp_path, outputs, capsys):
    outputs["cluster_us_west_2_edge"]["value"] = "multi-region-clusters-development-us-west-2-edge"
    assert main(["gitops", "x", "--outputs", str(_write(tmp_path, outputs))]) == 1
    assert "output cluster_us_west_2_edge is a string, not an object of cluster fields" in capsys.readouterr().err


def test_every_problem_is_reported_at_once(tmp_path, outputs, capsys):
    outputs["cluster_us_east_2_edge"]["value"]["cluster_endpoint"] = "https://evil.example"
    outputs["cluster_us_west_2_edge"]["value"]["deployer_role_arn"] = "arn:"
    assert main(["gitops", "x", "--outputs", str(_write(tmp_path, outputs))]) == 1
    err = capsys.readouterr().err
    assert "output cluster_us_east_2_edge: field cluster_endpoint" in err, err
    assert "output cluster_us_west_2_edge: field deployer_role_arn" in err, err


def test_management_role_in_another_account_is_an_error(tmp_path, outputs, capsys):
    outputs["gitops"]["value"]["management_role_arn"] = "arn:aws:iam::999999999999:role/argocd"
    assert main(["gitops", "x", "--outputs", str(_write(tmp_path, outputs))]) == 1
    assert "output gitops: field management_role_arn" in capsys.readouterr().err


def test_a_link_or_fifo_as_outputs_file_is_refused_without_blocking(tmp_path, capsys):
    import os

    link = tmp_path / "zero.json"
    link.symlink_to("/dev/zero")
    assert main(["gitops", "x", "--outputs", str(link)]) == 2
    assert "is a symbolic link" in capsys.readouterr().err
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    assert main(["gitops", "x", "--outputs", str(fifo)]) == 2
    assert "is a FIFO" in capsys.readouterr().err


def test_every_field_gitops_reads_is_one_emit_writes():
    """Through the contract: the fields gitops reads are written by emit for the example's edges
    (the committed output, which `tfgen build --check` keeps current)."""
    from tfgen.derive.outputs import CLUSTER, GITOPS, GITOPS_OUTPUT, cluster_output, fields
    from tfgen.gitops import CLUSTER_READ, GITOPS_READ
    from tfgen.terraform.roots import read_root

    assert set(CLUSTER_READ) <= set(fields(CLUSTER)) and set(GITOPS_READ) <= set(fields(GITOPS_OUTPUT))
    root = read_root(Path(__file__).parent.parent / "out" / "development")
    written = {name: block.body for name, block in root.outputs.items()}
    assert set(GITOPS_READ) <= set(written[GITOPS]["value"]), written[GITOPS]
    edge = cluster_output("us_east_2_edge")
    assert set(CLUSTER_READ) <= set(written[edge]["value"]), written[edge]


def test_random_mutations_of_the_outputs_end_in_exit_0_1_or_2(tmp_path, capsys):
    """Fuzz: a valid outputs document with random values replaced, keys dropped or bytes flipped,
    through the CLI in-process: an exit status, never an exception."""
    import random
    import time

    rng = random.Random(14)
    base = json.loads(FIXTURE.read_text())
    junk = [None, 0, -1, 1e308, True, "", "x" * 300, "https://evil.example", "arn:", "a\nb", [], {}, [[[]]],
            {"value": {}}, "\udcff", "LS0t"]
    deadline, statuses = time.monotonic() + 1.5, set()
    while time.monotonic() < deadline:
        outputs = copy.deepcopy(base)
        for _ in range(rng.randint(1, 4)):
            name = rng.choice(sorted(outputs))
            holder = outputs[name]["value"] if isinstance(outputs[name], dict) and isinstance(
                outputs[name].get("value"), dict) else outputs
            key = rng.choice(sorted(holder) or [name])
            if rng.random() < 0.2:
                holder.pop(key, None)
            else:
                holder[key] = rng.choice(junk)
        text = json.dumps(outputs).encode("utf-8", errors="surrogateescape")
        if rng.random() < 0.2:
            position = rng.randrange(len(text))
            text = text[:position] + bytes([rng.randrange(256)]) + text[position + 1:]
        path = tmp_path / "o.json"
        path.write_bytes(text)
        status = main(["gitops", "x", "--outputs", str(path)])
        err = capsys.readouterr().err
        assert status in (0, 1, 2) and "Traceback" not in err, (status, err)
        statuses.add(status)
    assert {1, 2} <= statuses
