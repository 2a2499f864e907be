"""The one IAM statement normaliser (tfgen.terraform.statements): every form a policy takes in a root,
in checkov's parsed shapes, and what it cannot read."""

from __future__ import annotations

import json

import pytest

from tfgen.terraform.statements import EVERYONE, statements

ROLE = "arn:aws:iam::111111111111:role/argocd"


@pytest.mark.parametrize("policy", [
    # Statement as a list and as an object; Action and Resource as strings and as lists
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": ROLE}]},
    {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": ["sts:AssumeRole"], "Resource": [ROLE]}},
    # a policy given as a JSON string, as every tfgen root writes it
    json.dumps({"Statement": [{"Effect": "Allow", "Action": ["sts:AssumeRole"], "Resource": ROLE}]}),
    # checkov's shapes: values wrapped in one-element lists
    [{"Statement": [{"Effect": ["Allow"], "Action": [["sts:AssumeRole"]], "Resource": [[ROLE]]}]}],
    [json.dumps({"Statement": {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": [ROLE]}})],
], ids=["list", "object", "json-string", "checkov-object", "checkov-string"])
def test_every_form_of_a_statement_reads_the_same(policy):
    (statement,) = statements(policy)
    assert (statement.effect, statement.actions, statement.resources) == ("Allow", ("sts:AssumeRole",), (ROLE,))
    assert statement.allows("sts:AssumeRole") and not statement.allows("sts:TagSession")
    assert statement.not_actions is None and statement.not_resources is None


@pytest.mark.parametrize("principal,kind,expected", [
    ("*", "AWS", (EVERYONE,)),
    ("*", "Service", (EVERYONE,)),
    ({"AWS": "*"}, "AWS", ("*",)),
    ({"AWS": ROLE}, "AWS", (ROLE,)),
    ({"AWS": [ROLE, "arn:aws:iam::111111111111:root"]}, "AWS", (ROLE, "arn:aws:iam::111111111111:root")),
    ({"AWS": ROLE}, "Service", ()),
    ({"Service": ["pods.eks.amazonaws.com"]}, "Service", ("pods.eks.amazonaws.com",)),
    ({"Federated": "${aws_iam_openid_connect_provider.hub.arn}"}, "Federated",
     ("${aws_iam_openid_connect_provider.hub.arn}",)),
    ([{"CanonicalUser": "abc"}], "CanonicalUser", ("abc",)),
    (None, "AWS", ()),
])
def test_principal_forms(principal, kind, expected):
    (statement,) = statements({"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": principal}]})
    assert statement.principal(kind) == expected


def test_wildcard_actions_allow_what_they_cover():
    (service, everything, deny) = statements({"Statement": [
        {"Effect": "Allow", "Action": "sts:*"}, {"Effect": "Allow", "Action": "*"},
        {"Effect": "Deny", "Action": "sts:AssumeRole"}]})
    assert service.allows("sts:AssumeRole") and not service.allows("eks:DescribeCluster")
    assert everything.allows("eks:DescribeCluster")
    assert not deny.allows("sts:AssumeRole")


def test_not_action_and_conditions_keep_their_presence_and_values():
    (statement,) = statements({"Statement": [{
        "Effect": "Allow", "NotAction": [], "NotResource": "arn:aws:s3:::b", "Sid": "x",
        "Condition": {"StringEquals": {"aws:RequestTag/kubernetes-namespace": "argocd"},
                      "StringLike": {"oidc:sub": ["system:serviceaccount:argocd:*"]},
                      "Bool": {"aws:SecureTransport": False}}}]})
    assert statement.not_actions == () and statement.not_resources == ("arn:aws:s3:::b",) and statement.sid == "x"
    assert statement.condition("StringEquals", "StringLike") == {
        "aws:RequestTag/kubernetes-namespace": ("argocd",), "oidc:sub": ("system:serviceaccount:argocd:*",)}
    assert statement.condition("Bool") == {"aws:SecureTransport": (False,)}


@pytest.mark.parametrize("policy", [
    "${data.aws_iam_policy_document.trust.json}", "not json", "", None, 3, [], {}, {"Version": "2012-10-17"},
    {"Statement": "Allow"}, json.dumps([1, 2]),
], ids=["reference", "text", "empty", "none", "number", "empty-list", "empty-object", "no-statement",
        "statement-string", "json-array"])
def test_what_is_not_a_policy_document_is_none_never_an_error(policy):
    assert statements(policy) is None


def test_statements_that_are_not_objects_are_skipped():
    assert [s.effect for s in statements({"Statement": ["Allow", {"Effect": "Deny"}, None]})] == ["Deny"]
