"""The one reference grammar (tfgen.terraform.references), driven by tests/reference_corpus.yaml,
and hostile text that must never make it raise."""

from __future__ import annotations

import random

import pytest
import yaml

from tfgen.terraform.references import parse, parse_expression, provider_alias, references, rewrite
from tests.conftest import ROOT

CORPUS = yaml.safe_load((ROOT / "tests" / "reference_corpus.yaml").read_text())


def _shown(reference) -> str:
    return f"{reference.kind} {reference.address} {reference.path_text}".rstrip()


@pytest.mark.parametrize("case", CORPUS, ids=[c["text"][:60] or "empty" for c in CORPUS])
def test_the_grammar_reads_each_corpus_string(case):
    template = parse(case["text"])
    assert [_shown(r) for r in template.references] == [r.rstrip() for r in case["refs"]], case["text"]
    for reference in template.references:  # every reference is where it says it is written
        assert case["text"][reference.start:reference.end] == reference.text, (case["text"], reference)
    assert template.malformed == case.get("malformed", False), case["text"]
    if "literal" in case:
        assert template.literal == case["literal"], case["text"]
    if "functions" in case:
        assert list(template.functions) == case["functions"], case["text"]
    if "sole" in case:
        sole = template.sole_reference
        assert (sole.address + sole.path_text if sole else None) == case["sole"], case["text"]


@pytest.mark.parametrize("case", CORPUS, ids=[c["text"][:60] or "empty" for c in CORPUS])
def test_rewriting_changes_the_references_and_nothing_else(case):
    text = case["text"]
    assert rewrite(text, lambda r: r.text) == text
    assert rewrite(text, lambda r: None) == text
    marked = rewrite(text, lambda r: f"<{len(r.text)}>")
    found = parse(text).references
    assert len(marked) == len(text) + sum(len(f"<{len(r.text)}>") - len(r.text) for r in found), text
    for reference in found:
        assert f"<{len(reference.text)}>" in marked


def test_references_of_a_document_walk_values_and_keys_in_order():
    body = {"vpc_id": "${aws_vpc.hub.id}", "tags": {"${var.key}": "x"},
            "subnet_ids": ["${aws_subnet.a.id}", "$${aws_subnet.escaped.id}", 3, None]}
    assert [r.address for r in references(body)] == ["aws_vpc.hub", "var.key", "aws_subnet.a"]


def test_depends_on_entries_are_bare_expressions_not_templates():
    assert [(r.kind, r.address) for r in parse_expression("aws_vpc.hub")] == [("resource", "aws_vpc.hub")]
    assert [(r.kind, r.address) for r in parse_expression("data.aws_x.y")] == [("data", "data.aws_x.y")]
    assert [(r.kind, r.address) for r in parse_expression("module.m")] == [("module", "module.m")]
    assert parse("aws_vpc.hub").references == ()  # as a template, the same text is plain text
    assert rewrite("aws_vpc.hub", lambda r: "aws_vpc.other", expression=True) == "aws_vpc.other"


@pytest.mark.parametrize("value,expected", [
    ("aws.us_east_1", ("aws", "us_east_1")), ("aws.eu-west-1", ("aws", "eu-west-1")), ("google.x", ("google", "x")),
    ("aws", None), ("aws.", None), (" aws.x", None), ("aws. x", None), ("aws.x.y", None), ("${aws.x}", None),
    (["aws.x"], None), (None, None)])
def test_a_provider_meta_argument_names_a_provider_and_an_alias(value, expected):
    assert provider_alias(value) == expected


_FRAGMENTS = ["${", "$${", "%{", "%%{", "}", "{", '"', "\\", "aws_vpc.hub", ".id", "[0]", "[*]", "[", "]", "(",
              ")", "data.", "var.", "for ", " in ", ":", "=>", "~", "*", ".", "0", " ", "$", "%", "\n", "é", "::",
              "jsonencode(", "each.key", "-", "#"]


def test_hostile_text_never_raises_and_every_reference_is_where_it_is_written():
    rng = random.Random(21)
    for _ in range(4000):
        text = "".join(rng.choice(_FRAGMENTS) for _ in range(rng.randint(0, 24)))
        template = parse(text)
        for reference in template.references:
            assert text[reference.start:reference.end] == reference.text, (text, reference)
        assert rewrite(text, lambda r: r.text) == text, text
        parse_expression(text)
        provider_alias(text)
