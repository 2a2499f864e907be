"""VAL444: an SSM document must fit SSM's 64 KB once `terraform apply` fills in its references. tfgen's bootstrap
document no longer grows with the edges (their data is an S3 object); the rule guards what remains, and any
document that carries edges' CA certificates (about 1.5 KB each)."""

from __future__ import annotations

from pathlib import Path

import tfgen
import tfgen.pipeline
from tfgen.checks.ssm import FIX_EDGES, SSM_DOCUMENT_LIMIT, check_ssm_documents, resolved_sizes
from tfgen.errors import Severity
from tfgen.model.regions import REGIONS

REGION_NAMES = ["us-east-1"] + sorted(r for r in REGIONS if r != "us-east-1")


def _spec(tmp_path, edges: int, *, bootstrap: str = "", managed: bool = False) -> str:
    lines = ["project: wide"] + (['aws_provider: ">= 6.25, < 7.0"'] if managed else []) + [
        "environments:", "  dev:", '    account_id: "123456789012"',
        '    access: {admins: ["arn:aws:iam::123456789012:role/admin"]}']
    settings = [bootstrap] if bootstrap else []
    if managed:
        settings += ["argocd: managed", 'identity_center: {instance_arn: "arn:aws:sso:::instance/ssoins-0123456789abcdef"'
                     ', admins: ["a1b2c3d4e5-11111111-2222-3333-4444-555555555555"]}']
    lines += [f"    gitops: {{{', '.join(settings)}}}"] if settings else ["    gitops: {}"]
    lines += ["    hub: {region: us-east-1, cidr: 10.0.0.0/16}", "    regions:"]
    lines += [f"      {r}: {{cidr: 10.{i}.0.0/16}}" for i, r in enumerate(REGION_NAMES[1:edges + 1], 1)]
    (tmp_path / "fleet.yaml").write_text("\n".join(lines) + "\n")
    return str(tmp_path / "fleet.yaml")


def test_references_count_at_their_shortest_and_typical_values():
    ca = "${aws_eks_cluster.a.certificate_authority[0].data}"
    content = f'{{"x": "{ca} ${{aws_eks_cluster.a.endpoint}} ${{aws_iam_role.r.arn}} $${{HOME}}"}}'
    literal = len('{"x": "   ${HOME}"}')
    assert resolved_sizes(content) == (literal + 1300 + 71, literal + 1476 + 80 + 40, 1)


def test_a_hub_with_33_edges_bootstraps_through_the_same_document(tmp_path):
    """Every edge's Secret is registration data in S3: the document at 33 edges is the one at 2, bar names."""
    def document(edges: int) -> str:
        prepared = tfgen.pipeline.prepare(tfgen.load(_spec(tmp_path, edges)))
        assert not [f for f in prepared.findings if f.code == "VAL444"], edges
        (body,) = prepared.documents["dev"]["bootstrap.tf.json"]["resource"]["aws_ssm_document"].values()
        return body["content"]
    assert resolved_sizes(document(33)) == resolved_sizes(document(2))


def _padded(tmp_path, bootstrap: str = "", managed: bool = False):
    """The bootstrap's findings with its document grown past 64 KB (as something added to the script would)."""
    prepared = tfgen.pipeline.prepare(tfgen.load(_spec(tmp_path, 2, bootstrap=bootstrap, managed=managed)))
    (body,) = prepared.documents["dev"]["bootstrap.tf.json"]["resource"]["aws_ssm_document"].values()
    body["content"] += " " * SSM_DOCUMENT_LIMIT
    return [f for f in check_ssm_documents(prepared.fleet, prepared.documents) if f.code == "VAL444"]


def test_a_document_past_the_limit_is_refused_at_the_gitops_line_in_every_mode(tmp_path):
    for managed in (False, True):
        (finding,) = _padded(tmp_path, managed=managed)
        assert (finding.path, finding.severity, finding.origin.line) == ("dev", Severity.ERROR, 6 + managed), managed
        assert "will hold at least" in finding.message and "CA certificates" not in finding.message
        # The fix never sends a managed hub to managed mode, nor anyone to it for a size it would not change.
        assert "argocd: managed" not in finding.hint and "bootstrap: false" in finding.hint, finding.hint
    (finding,) = _padded(tmp_path, bootstrap="bootstrap: true")
    assert finding.origin.line == 6
    prepared = tfgen.pipeline.prepare(tfgen.load(_spec(tmp_path, 2, bootstrap="bootstrap: false")))
    assert "bootstrap.tf.json" not in prepared.documents["dev"]  # no bootstrap, no document


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
    assert size.least > SSM_DOCUMENT_LIMIT and "48 edges' CA certificates among it" in size.message("x")
    assert size.fix == FIX_EDGES and "rebuild the root with this tfgen" in size.fix
    assert [s.severity for s in document_sizes(good)] == [None]
    assert CODE == "VAL444" and "TFGEN_16" not in tfgen_module_rules.RULES
    assert not [r for r, _, _ in tfgen_module_rules.evaluate(big) if r not in tfgen_module_rules.RULES]
