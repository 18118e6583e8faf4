"""The kernel against the plain reference evaluator (tests/reference_evaluator.py)
on random policy sets and requests: every layer, principal kind, wildcard,
NotAction/NotResource/NotPrincipal, policy variables and conditions the
generator knows. 1,000 policy sets × 10 requests = 10,000 requests; 0
disagreements allowed."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings, strategies as st

import iamlogic
import reference_evaluator as ref

CALLERS = [
    "arn:aws:iam::111111111111:user/alice", "arn:aws:iam::111111111111:user/bob",
    "arn:aws:sts::111111111111:assumed-role/dev/s1", "arn:aws:iam::111111111111:role/dev",
    "arn:aws:sts::111111111111:federated-user/carol", "arn:aws:iam::111111111111:root",
    "arn:aws:iam::222222222222:user/dana", "arn:aws:sts::222222222222:assumed-role/ops/s2",
    None, "s3.amazonaws.com",
    # A role with a path (ops/deployer): its session ARN carries no path.
    "arn:aws:iam::111111111111:role/ops/deployer", "arn:aws:sts::111111111111:assumed-role/deployer/s3",
    "arn:aws:sts::111111111111:assumed-role/AWSServiceRoleForSupport/x",
]
ACTIONS = ["s3:GetObject", "s3:PutObject", "ec2:RunInstances", "iam:PassRole", "sts:AssumeRole", "kms:Decrypt",
           "sts:GetCallerIdentity"]
RESOURCES = [
    "arn:aws:s3:::bucket/key", "arn:aws:s3:::bucket/home/alice/x", "arn:aws:s3:::other/key", "arn:aws:s3:::bucket",
    "arn:aws:iam::111111111111:role/target", "arn:aws:kms:us-east-1:111111111111:key/k1",
    "arn:aws:kms:us-east-1:222222222222:key/k2", "arn:aws:ec2:us-east-1:111111111111:instance/i-1", "*",
    # a partition * ending its segment runs past colons (§3): other services' ARNs can match
    "arn:aws:sqs:us-east-1:111111111111:s3:::bucket/key",
]
ACTION_PATTERNS = ["s3:*", "s3:Get*", "S3:getobject", "*", "iam:Pass*", "sts:AssumeRole", "kms:*", "ec2:Run?nstances",
                   "s3:PutObjec?", "ec2:*", "sts:GetCallerIdentity", "sts:*",
                   # IAM stores these; they name no action (SEMANTICS §7).
                   "iam: asdf safdsf af ", "s3:GetObject,PutObject", "s3:"]
RESOURCE_PATTERNS = [
    "*", "arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/home/${aws:username}/*", "arn:aws:s3:*",
    "arn:aws:iam::111111111111:role/*", "arn:aws:kms:*:111111111111:key/*", "arn:aws:ec2:us-*-1:*:instance/*",
    "arn:aws:s3:::b?cket/*", "arn:aws:s3:::bucket", "arn:aws:s3:::${aws:PrincipalTag/team, 'bucket'}/*",
    "arn:aws:kms:us-east-1:*:key/*", "arn:aws:s3:::bucket/${*}",
    "arn:*:s3:::bucket/*", "arn:*:iam::111111111111:role/*",  # partitions AWS managed policies spell as *
]
CONDITIONS = [
    {"StringEquals": {"aws:RequestedRegion": ["eu-west-1", "eu-central-1"]}},
    {"StringNotEquals": {"aws:RequestedRegion": "us-east-1"}},
    {"StringEqualsIfExists": {"aws:RequestedRegion": "eu-west-1"}},
    {"StringLike": {"aws:PrincipalTag/team": "r*"}},
    {"StringEquals": {"aws:PrincipalTag/team": "${aws:username}"}},
    {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
    {"Null": {"aws:PrincipalTag/team": "true"}},
    {"ForAnyValue:StringEquals": {"aws:TagKeys": ["owner", "team"]}},
    {"ForAllValues:StringLike": {"aws:TagKeys": ["o*", "team"]}},
    {"StringEquals": {"aws:TagKeys": "owner"}},
    {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}},
    {"NotIpAddress": {"aws:SourceIp": ["203.0.113.0/25", "2001:db8::/32"]}},
    {"StringEquals": {"aws:PrincipalAccount": "111111111111"}},
    {"StringEqualsIgnoreCase": {"aws:PrincipalTag/team": "RED"}},
    {"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}},
    {"NumericGreaterThanEqualsIfExists": {"aws:MultiFactorAuthAge": ["30", "60"]}},
    {"NumericEquals": {"aws:MultiFactorAuthAge": "ten"}},
    {"DateGreaterThan": {"aws:CurrentTime": "2026-01-01T00:00:00Z"}},
    {"DateLessThanEquals": {"aws:CurrentTime": "1767225600"}},
    {"ArnLike": {"aws:SourceArn": "arn:aws:sns:*:111111111111:*"}},
    {"ArnNotEquals": {"aws:SourceArn": "arn:aws:sns:us-east-1:111111111111:alerts"}},
    {"ArnEquals": {"aws:SourceArn": "arn:aws:sns:us-east-1:${aws:PrincipalAccount}:alerts"}},
    {"Bool": {"aws:SecureTransport": "maybe"}},
    {"ForAnyValue:NumericLessThan": {"aws:MultiFactorAuthAge": "100"}},
    # A variable's value and ${*} are literal text, never wildcards (§7).
    {"StringLike": {"aws:PrincipalTag/team": "${aws:RequestTag/x}"}},
    {"StringNotLike": {"aws:PrincipalTag/team": ["${aws:RequestTag/x}", "b*"]}},
    {"StringLike": {"aws:PrincipalTag/team": "r${*}"}},
    {"ArnLike": {"aws:SourceArn": "arn:aws:sns:us-east-1:111111111111:${aws:RequestTag/x}"}},
]
PRINCIPALS = [
    "*", {"AWS": "*"}, {"AWS": "111111111111"}, {"AWS": "arn:aws:iam::111111111111:root"},
    {"AWS": "arn:aws:iam::111111111111:user/alice"}, {"AWS": "arn:aws:iam::111111111111:role/dev"},
    {"AWS": "arn:aws:sts::111111111111:assumed-role/dev/s1"}, {"AWS": "222222222222"},
    {"AWS": "arn:aws:sts::111111111111:federated-user/carol"}, {"Service": "s3.amazonaws.com"},
    {"AWS": ["arn:aws:iam::222222222222:user/dana", "111111111111"]},
    {}, {"AWS": []}, {"Service": []},  # empty maps name no one
    {"AWS": "arn:aws:iam::111111111111:role/ops/deployer"},
    {"AWS": "arn:aws:iam::111111111111:role/aws-service-role/support.amazonaws.com/AWSServiceRoleForSupport"},
]
NOT_PRINCIPALS = [
    {"AWS": "arn:aws:iam::111111111111:user/alice"},
    {"AWS": ["arn:aws:iam::111111111111:user/alice", "111111111111"]},
    {"AWS": ["arn:aws:iam::111111111111:role/dev", "arn:aws:sts::111111111111:assumed-role/dev/s1",
             "arn:aws:iam::111111111111:root"]},
    "*", {"AWS": "*"},
    {"AWS": ["arn:aws:iam::111111111111:role/ops/deployer", "arn:aws:sts::111111111111:assumed-role/deployer/s3",
             "111111111111"]},
]


def one_or_list(elements):
    return st.lists(st.sampled_from(elements), min_size=1, max_size=2, unique=True).map(
        lambda xs: xs[0] if len(xs) == 1 else xs)


@st.composite
def statement(draw, principal: bool, rcp: bool = False, resource_optional: bool = False):
    s = {"Effect": draw(st.sampled_from(["Allow", "Allow", "Allow", "Deny"]))}
    if draw(st.integers(0, 9)) < 8:
        s["Action"] = draw(one_or_list(ACTION_PATTERNS))
    else:
        s["NotAction"] = draw(one_or_list(ACTION_PATTERNS))
    r = draw(st.integers(0, 9))
    if r < 8:
        s["Resource"] = draw(one_or_list(RESOURCE_PATTERNS))
    elif r == 8:
        s["NotResource"] = draw(one_or_list(RESOURCE_PATTERNS))
    elif not resource_optional:
        s["Resource"] = "*"  # only a resource policy may omit it (e.g. a trust policy)
    if rcp:
        s["Principal"] = "*"  # the only Principal an RCP may have
    elif principal:
        if draw(st.integers(0, 9)) < 8:
            s["Principal"] = draw(st.sampled_from(PRINCIPALS))
        else:
            s["NotPrincipal"] = draw(st.sampled_from(NOT_PRINCIPALS))
    if draw(st.booleans()):
        condition: dict = {}
        for c in draw(st.lists(st.sampled_from(CONDITIONS), min_size=1, max_size=2)):
            for op, block in c.items():
                condition.setdefault(op, {}).update(block)
        s["Condition"] = condition
    return s


def policy(principal=False, version=st.sampled_from(["2012-10-17", "2012-10-17", "2008-10-17"]), rcp=False,
           resource_optional=False):
    return st.builds(lambda v, sts: {"Version": v, "Statement": sts}, version,
                     st.lists(statement(principal, rcp, resource_optional), min_size=1, max_size=3))


def sometimes(strategy, percent: int):
    """None, or a draw of ``strategy`` about ``percent`` % of the time."""
    return st.integers(0, 99).flatmap(lambda n: strategy if n < percent else st.none())


FULL = {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}
RCP_FULL = {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}}


def level(policy_strategy, full):
    """An organization level: usually the allow-all policy AWS attaches, plus
    a few generated ones (sometimes nothing at all)."""
    return st.tuples(st.integers(0, 9), st.lists(policy_strategy, max_size=2)).map(
        lambda t: ([full] if t[0] < 7 else []) + t[1])


def resource_policy():
    """A generated resource policy, usually with a broad Allow for one named
    principal, so that cross-account and resource-only grants are common."""
    broad = st.sampled_from(PRINCIPALS).map(
        lambda p: {"Effect": "Allow", "Principal": p, "Action": "*", "Resource": "*"})
    return st.tuples(policy(principal=True, resource_optional=True), st.integers(0, 9), broad).map(
        lambda t: {**t[0], "Statement": t[0]["Statement"] + ([t[2]] if t[1] < 7 else [])})


policy_sets = st.fixed_dictionaries({
    "identity": st.lists(policy(version=st.just("2012-10-17")), max_size=3),
    "resource": sometimes(resource_policy(), 60),
    "boundary": sometimes(st.lists(policy(version=st.just("2012-10-17")), min_size=1, max_size=1), 25),
    "session": sometimes(policy(version=st.just("2012-10-17")), 25),
    "scps": sometimes(st.lists(level(policy(version=st.just("2012-10-17")), FULL), min_size=1, max_size=3), 30),
    "rcps": sometimes(st.lists(level(policy(principal=True, version=st.just("2012-10-17"), rcp=True), RCP_FULL),
                               min_size=1, max_size=2), 20),
    "vpc_endpoint": sometimes(st.lists(policy(principal=True), min_size=1, max_size=1), 15),
})

contexts = st.fixed_dictionaries({}, optional={
    "aws:RequestedRegion": st.sampled_from(["eu-west-1", "us-east-1"]),
    "aws:PrincipalTag/team": st.sampled_from(["red", "blue", "alice", "bucket", "r*", "*"]),
    "aws:RequestTag/x": st.sampled_from(["*", "r*", "red", "alerts", "al?rts", "*rts"]),
    "aws:TagKeys": st.lists(st.sampled_from(["owner", "team", "cost"]), max_size=3, unique=True),
    "aws:MultiFactorAuthPresent": st.booleans(),
    "aws:SourceIp": st.sampled_from(["203.0.113.7", "203.0.113.200", "198.51.100.1", "2001:db8::1", "bad-ip"]),
    "aws:MultiFactorAuthAge": st.sampled_from(["30", "60", "7200", "abc", ["30", "7200"], []]),
    "aws:CurrentTime": st.sampled_from(["2025-06-01T00:00:00Z", "2026-06-01T00:00:00Z", "2026-01-01T00:00:00Z"]),
    "aws:SourceArn": st.sampled_from(["arn:aws:sns:us-east-1:111111111111:alerts", "arn:aws:sns:eu-west-1:222222222222:x",
                                      "arn:aws:sqs:us-east-1:111111111111:q", "not-an-arn"]),
    "aws:SecureTransport": st.booleans(),
})

requests = st.fixed_dictionaries({
    "principal": st.sampled_from(CALLERS),
    "action": st.sampled_from(ACTIONS),
    "resource": st.sampled_from(RESOURCES),
    "resource_account": st.sampled_from([None, None, "111111111111", "222222222222"]),
    "context": contexts,
})

SETS = int(os.environ.get("IAMLOGIC_DIFFERENTIAL_SETS", "1000"))


@settings(max_examples=SETS, deadline=None, derandomize=not os.environ.get("IAMLOGIC_RANDOM_EXAMPLES"),
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(policy_sets, st.lists(requests, min_size=10, max_size=10))
def test_kernel_agrees_with_the_reference(policies, reqs):
    policies = {k: v for k, v in policies.items() if v is not None}
    engine = iamlogic.compile(policies)
    for request in reqs:
        expected, deny_layers = ref.decide({"policies": policies, "request": request})
        got = engine.decide(request)
        assert got.decision == expected, (request, got.explain())
        # The compiled plan (the decision) and the per-statement matcher (the
        # proof) must see the same signature.
        assert got.trace().signature == got.signature, request
        if expected == "explicit_deny":
            assert set(got.outcome.explicit_denies) == deny_layers
        if expected == "allow":
            assert got.blocked_by is None
        else:
            assert got.blocked_by is not None
