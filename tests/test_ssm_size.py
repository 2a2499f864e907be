"""VAL444: the GitOps bootstrap's SSM document must fit SSM's 64 KB once `terraform apply` fills in its
references (each edge's CA certificate is about 1.5 KB of it)."""

from __future__ import annotations

import pytest
from pathlib import Path

import tfgen
import tfgen.pipeline
from tfgen.checks.ssm import SSM_DOCUMENT_LIMIT, check_ssm_documents, resolved_sizes
from tfgen.errors import Severity
from tfgen.model.regions import REGIONS

REGION_NAMES = ["us-east-1"] + sorted(r for r in REGIONS if r != "us-east-1")


def _spec(tmp_path, edges: int, *, bootstrap: str = "") -> str:
    lines = ["project: wide", "environments:", "  dev:", '    account_id: "123456789012"',
             '    access: {admins: ["arn:aws:iam::123456789012:role/admin"]}']
    lines += [f"    gitops: {{{bootstrap}}}"] if bootstrap else []
    lines += ["    hub: {region: us-east-1, cidr: 10.0.0.0/16}", "    regions:"]
    lines += [f"      {r}: {{cidr: 10.{i}.0.0/16}}" for i, r in enumerate(REGION_NAMES[1:edges + 1], 1)]
    (tmp_path / "fleet.yaml").write_text("\n".join(lines) + "\n")
    return str(tmp_path / "fleet.yaml")


def test_references_count_at_their_shortest_and_typical_values():
    ca = "${aws_eks_cluster.a.certificate_authority[0].data}"
    content = f'{{"x": "{ca} ${{aws_eks_cluster.a.endpoint}} ${{aws_iam_role.r.arn}} $${{HOME}}"}}'
    literal = len('{"x": "   ${HOME}"}')
    assert resolved_sizes(content) == (literal + 1300 + 71, literal + 1476 + 80 + 40, 1)


def test_a_hub_with_32_edges_cannot_bootstrap_through_ssm(tmp_path):
    findings = [f for f in tfgen.validate(tfgen.load(_spec(tmp_path, 32))) if f.code == "VAL444"]
    assert [(f.path, f.severity, f.origin.line) for f in findings] == [("dev", Severity.ERROR, 3)]
    assert "registers 32 edge(s)" in findings[0].message and "at least" in findings[0].message
    assert "argocd: managed" in findings[0].hint and "bootstrap: false" in findings[0].hint
    with pytest.raises(tfgen.FindingsError):  # nothing is written
        tfgen.build(tfgen.load(_spec(tmp_path, 32)), tmp_path / "out")


def test_the_finding_names_the_bootstrap_line_and_goes_with_bootstrap_false(tmp_path):
    found = [f for f in tfgen.validate(tfgen.load(_spec(tmp_path, 32, bootstrap="bootstrap: true")))
             if f.code == "VAL444"]
    assert [f.origin.line for f in found] == [6]
    assert not [f for f in tfgen.validate(tfgen.load(_spec(tmp_path, 32, bootstrap="bootstrap: false")))
                if f.code == "VAL444"]


def test_a_hub_with_few_edges_fits_and_the_example_does(tmp_path):
    assert not [f for f in tfgen.validate(tfgen.load(_spec(tmp_path, 8))) if f.code == "VAL444"]
    prepared = tfgen.pipeline.prepare(tfgen.load(Path(__file__).resolve().parent.parent / "examples" / "multi-region-eks.yaml"))
    assert check_ssm_documents(prepared.fleet, prepared.documents) == []


def test_between_the_bounds_it_is_a_warning(tmp_path):
    """Shortest values fit, typical ones do not: apply is likely, not certain, to fail."""
    prepared = tfgen.pipeline.prepare(tfgen.load(_spec(tmp_path, 8)))
    (document,) = [d for d in prepared.documents["dev"].values() if "aws_ssm_document" in d.get("resource", {})]
    (body,) = document["resource"]["aws_ssm_document"].values()
    least, typical, _ = resolved_sizes(body["content"])
    body["content"] += " " * (SSM_DOCUMENT_LIMIT - (least + typical) // 2)
    (finding,) = check_ssm_documents(prepared.fleet, prepared.documents)
    assert finding.severity is Severity.WARNING and "is likely to fail" in finding.message


def test_tfgen_check_measures_with_the_rule_build_runs():
    """VAL444 is one rule: `tfgen check` (tfgen.gate.scan) asks `document_sizes` of each root's index, as
    build does; the policy fixture past the limit is an error there, the good one fits."""
    from tfgen.checks.ssm import CODE, document_sizes
    from tfgen.policies import tfgen_module_rules
    from tfgen.terraform.roots import read_root

    fixtures = Path(__file__).resolve().parent / "policy_fixtures"
    big, good = read_root(fixtures / "ssm_document_too_large"), read_root(fixtures / "good")
    (size,) = document_sizes(big)
    assert (size.address, size.file, size.severity, size.edges) == (
        "aws_ssm_document.bootstrap", "main.tf.json", Severity.ERROR, 48)
    assert size.least > SSM_DOCUMENT_LIMIT and "registers 48 edge(s)" in size.message("x")
    assert [s.severity for s in document_sizes(good)] == [None]
    assert CODE == "VAL444" and "TFGEN_16" not in tfgen_module_rules.RULES
    assert not [r for r, _, _ in tfgen_module_rules.evaluate(big) if r not in tfgen_module_rules.RULES]
