"""Mutations of valid policies — deleted keys, swapped types, random bytes —
never make the API raise anything but the project's own error type."""

from __future__ import annotations

import json
import random

from hypothesis import HealthCheck, given, settings, strategies as st

from iamlogic import IamlogicError, PolicyError, PolicyType, parse_policy, validate

SEEDS = [
    {"Version": "2012-10-17", "Statement": [
        {"Sid": "Read", "Effect": "Allow", "Action": ["s3:GetObject", "s3:List*"],
         "Resource": ["arn:aws:s3:::b/${aws:username}/*", "arn:aws:s3:::b"],
         "Condition": {"IpAddress": {"aws:SourceIp": ["203.0.113.0/24"]},
                       "ForAnyValue:StringLike": {"aws:TagKeys": ["team*"]}}},
        {"Effect": "Deny", "NotAction": "iam:*", "NotResource": "*",
         "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2026-01-01T00:00:00Z"}, "Bool": {"aws:SecureTransport": False}}}]},
    {"Version": "2012-10-17", "Id": "bucket", "Statement": {
        "Effect": "Allow", "Principal": {"AWS": ["111122223333", "arn:aws:iam::111122223333:role/r"], "Service": "s3.amazonaws.com"},
        "Action": "s3:PutObject", "Resource": "arn:aws:s3:::b/*",
        "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}, "NumericLessThan": {"s3:max-keys": 10}}}},
]

REPLACEMENTS = [None, True, 0, -1.5, "", "*", [], {}, [[]], [{}], {"a": {}}, "${", "arn:", 10**30]


def mutate(doc, rnd: random.Random, steps: int):
    doc = json.loads(json.dumps(doc))
    for _ in range(steps):
        # Walk to a random container inside the document.
        node, parent, key = doc, None, None
        while isinstance(node, (dict, list)) and node and rnd.random() < 0.7:
            parent = node
            key = rnd.choice(list(node)) if isinstance(node, dict) else rnd.randrange(len(node))
            node = node[key]
        if parent is None:
            continue
        move = rnd.randrange(3)
        if move == 0:
            del parent[key]
        elif move == 1:
            parent[key] = rnd.choice(REPLACEMENTS)
        elif isinstance(parent, dict):
            parent[rnd.choice(["Extra", "Effect", "Condition", "NotPrincipal", "version"])] = node
    return doc


def check(document, policy_type):
    assert isinstance(validate(document, policy_type), list)  # with the catalogue and lint checks too
    grammar_findings = validate(document, policy_type, catalogue=False, lint=False)
    try:
        parse_policy(document, policy_type)
    except PolicyError as e:
        assert e.findings == grammar_findings
    except IamlogicError:
        pass


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32), st.integers(1, 5), st.sampled_from(list(PolicyType)), st.sampled_from([0, 1]))
def test_structural_mutations(seed, steps, policy_type, which):
    check(mutate(SEEDS[which], random.Random(seed), steps), policy_type)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=40), st.integers(0, 10**6), st.sampled_from([0, 1]))
def test_random_bytes_spliced_into_the_text(noise, where, which):
    data = json.dumps(SEEDS[which]).encode()
    i = where % (len(data) + 1)
    check(data[:i] + noise + data[i:], "identity")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_alone(data):
    check(data, "resource")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_random_text_alone(text):
    check(text, "identity")


def test_non_json_python_values_are_findings_not_crashes():
    for odd in ({"Version": {1, 2}}, {"Statement": float("nan")}, 42, None, object()):
        check(odd, "identity")
