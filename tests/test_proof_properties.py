"""proofs/ against the kernel on random policy pairs (hypothesis): every FAIL
witness is a request the kernel allows under the new policy and not under
the old one; every PASS survives 1,000 random requests decided by the kernel.

The universe is small on purpose (a few actions, resources and condition
keys with overlapping patterns), so random requests often land where the
policies differ. Requests respect typed mode: each action only on its own
resource type, single-valued keys with one value."""

from __future__ import annotations

import os
import random

from hypothesis import HealthCheck, given, settings, strategies as st

import iamlogic
from iamlogic.kernel.request import NO_AUTHORIZATION
from iamlogic.proofs import check_no_new_access

ACTION_PATTERNS = ["s3:GetObject", "s3:PutObject", "s3:ListBucket", "s3:DeleteObject", "ec2:StartInstances",
                   "s3:Get*", "s3:*Object", "s3:*", "*", "s3:List*",
                   # IAM stores these; they name no action (SEMANTICS §7)
                   "s3:GetObject,PutObject", "iam: asdf safdsf af "]
RESOURCE_PATTERNS = ["*", "arn:aws:s3:::b/*", "arn:aws:s3:::b/x*", "arn:aws:s3:::b", "arn:aws:s3:::c/*",
                     "arn:aws:s3:::*", "arn:aws:ec2:*:*:instance/*", "arn:aws:s3:::b/?", "arn:aws:s3:::?/*",
                     "arn:*:s3:::b/*"]  # a partition AWS managed policies write as *
CONDITIONS = [
    {"StringEquals": {"aws:PrincipalTag/team": ["red", "green"]}},
    {"StringNotEquals": {"aws:PrincipalTag/team": "blue"}},
    {"StringEqualsIgnoreCase": {"aws:PrincipalTag/team": "Red"}},
    {"StringLike": {"s3:prefix": "home/*"}},
    {"StringLikeIfExists": {"s3:prefix": "a*"}},
    {"Null": {"s3:prefix": "true"}},
    {"NumericLessThan": {"s3:max-keys": "10"}},
    {"NumericGreaterThanEquals": {"s3:max-keys": "5"}},
    {"Bool": {"aws:SecureTransport": "true"}},
    {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
    {"NotIpAddress": {"aws:SourceIp": "10.1.0.0/16"}},
    {"ForAnyValue:StringEquals": {"aws:TagKeys": ["a", "b"]}},
    {"ForAllValues:StringLike": {"aws:TagKeys": ["a*"]}},
    # Policy values the kernel cannot read: the clause is false when the key
    # is there, and a missing key still decides (IfExists, negated).
    {"NumericLessThanIfExists": {"s3:max-keys": "many"}},
    {"DateNotEquals": {"aws:CurrentTime": "someday"}},
]

# Requests: each action with resources of its own type (typed mode).
OBJECTS = ["arn:aws:s3:::b/x1", "arn:aws:s3:::b/y", "arn:aws:s3:::c/z", "arn:aws:s3:::b/1", "arn:aws:s3:::d/x"]
BUCKETS = ["arn:aws:s3:::b", "arn:aws:s3:::c", "arn:aws:s3:::d"]
INSTANCES = ["arn:aws:ec2:us-east-1:111122223333:instance/i-1", "arn:aws:ec2:eu-west-1:444455556666:instance/i-2"]
REQUEST_ACTIONS = {"s3:GetObject": OBJECTS, "s3:PutObject": OBJECTS, "s3:DeleteObject": OBJECTS,
                   "s3:GetObjectAcl": OBJECTS, "s3:ListBucket": BUCKETS, "s3:GetBucketPolicy": BUCKETS,
                   "ec2:StartInstances": INSTANCES}
CONTEXT_VALUES = {
    "aws:PrincipalTag/team": ["red", "blue", "RED", "green", "Red"],
    "s3:prefix": ["home/a", "a", "ab", "", "b"],
    "s3:max-keys": ["4", "5", "10", "20"],
    "aws:SecureTransport": ["true", "false"],
    "aws:SourceIp": ["10.1.2.3", "10.2.0.1", "192.168.0.1"],
    "aws:TagKeys": [["a"], ["c"], ["a", "c"], ["ab", "a"], ["b"]],
}
REQUESTS = 1_000


@st.composite
def statements(draw):
    effect = draw(st.sampled_from(["Allow", "Allow", "Allow", "Deny"]))
    actions = draw(st.lists(st.sampled_from(ACTION_PATTERNS), min_size=1, max_size=2, unique=True))
    resources = draw(st.lists(st.sampled_from(RESOURCE_PATTERNS), min_size=1, max_size=2, unique=True))
    out = {"Effect": effect}
    out["NotAction" if draw(st.integers(0, 9)) == 0 else "Action"] = actions
    out["NotResource" if draw(st.integers(0, 9)) == 0 else "Resource"] = resources
    clauses = draw(st.lists(st.sampled_from(CONDITIONS), max_size=2))
    condition: dict = {}
    for clause in clauses:
        for op, body in clause.items():
            condition.setdefault(op, {}).update(body)
    if condition:
        out["Condition"] = condition
    return out


policies = st.lists(statements(), min_size=1, max_size=3).map(
    lambda sts: {"Version": "2012-10-17", "Statement": sts})


def random_request(rng: random.Random) -> dict:
    action = rng.choice(sorted(REQUEST_ACTIONS))
    context = {k: rng.choice(v) for k, v in CONTEXT_VALUES.items() if rng.random() < 0.6}
    return {"principal": "arn:aws:iam::111122223333:user/witness", "action": action,
            "resource": rng.choice(REQUEST_ACTIONS[action]), "resource_account": "111122223333",
            "context": context, "derive_context": False}


@settings(max_examples=int(os.environ.get("IAMLOGIC_PROOF_EXAMPLES", "40")), deadline=None,
          derandomize=not os.environ.get("IAMLOGIC_RANDOM_EXAMPLES"), suppress_health_check=[HealthCheck.too_slow])
@given(new=policies, old=policies, seed=st.integers(0, 2**32 - 1))
def test_fail_witnesses_are_confirmed_and_pass_survives_random_requests(new, old, seed):
    check = check_no_new_access(new, old, timeout_ms=60_000)
    assert check.result in ("PASS", "FAIL"), check.note
    new_engine = iamlogic.compile({"identity": [new]})
    old_engine = iamlogic.compile({"identity": [old]})
    if check.result == "FAIL":
        assert new_engine.decide(check.witness).decision == "allow"
        assert old_engine.decide(check.witness).decision != "allow"
        return
    rng = random.Random(seed)
    for _ in range(REQUESTS):
        request = random_request(rng)
        if new_engine.decide(request).decision == "allow":
            assert old_engine.decide(request).decision == "allow", (request, new, old)


@settings(max_examples=int(os.environ.get("IAMLOGIC_PROOF_EXAMPLES", "40")), deadline=None,
          derandomize=not os.environ.get("IAMLOGIC_RANDOM_EXAMPLES"), suppress_health_check=[HealthCheck.too_slow])
@given(identity=policies, boundary=st.none() | policies, scp=st.none() | policies, seed=st.integers(0, 2**32 - 1))
def test_can_be_allowed_against_the_kernel(identity, boundary, scp, seed):
    # The whole stack: a witness is allowed by the kernel (can_be_allowed
    # replays it, and so does this test); PROVEN NEVER survives 1,000 random
    # requests of the same caller.
    policies_ = {"identity": [identity]}
    if boundary is not None:
        policies_["boundary"] = [boundary]
    if scp is not None:
        policies_["scps"] = [[{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*",
                                                                        "Resource": "*"}]}], [scp]]
    rng = random.Random(seed)
    check = allowed_or_never(policies_, {"resource_account": "111122223333"},
                             (random_request(rng) for _ in range(REQUESTS)))
    if check.result == "PASS":
        assert check.reasons  # the layers that forbid it, or "no path grants it"


def allowed_or_never(policies_: dict, question: dict, requests):
    """can-be-allowed on a policy set (the witness user asking, the context
    not derived), checked against the kernel: a witness the kernel allows,
    or PROVEN NEVER that none of ``requests`` refutes."""
    from iamlogic.proofs import can_be_allowed

    question = {"principal": "arn:aws:iam::111122223333:user/witness", "derive_context": False, **question}
    check = can_be_allowed({"policies": policies_, "request": question}, timeout_ms=60_000)
    assert check.result in ("PASS", "FAIL"), check.note
    engine = iamlogic.compile(policies_)
    if check.result == "FAIL":
        assert engine.decide(check.witness).decision == "allow"
    else:
        for request in requests:
            assert engine.decide(request).decision != "allow", (request, policies_)
    return check


@settings(max_examples=int(os.environ.get("IAMLOGIC_PROOF_EXAMPLES", "40")) // 2, deadline=None,
          derandomize=not os.environ.get("IAMLOGIC_RANDOM_EXAMPLES"), suppress_health_check=[HealthCheck.too_slow])
@given(new=policies, old=policies)
def test_untyped_mode_reads_more_requests_than_typed(new, old):
    # Untyped requests (any action and resource strings) include the typed
    # ones: new access typed is new access untyped, and no new access
    # untyped is none typed. Each untyped witness is confirmed by the kernel.
    from iamlogic.proofs import check_no_new_access

    typed = check_no_new_access(new, old)
    untyped = check_no_new_access(new, old, typed=False)
    assert "UNKNOWN" not in (typed.result, untyped.result), (typed.note, untyped.note)
    assert untyped.mode == "untyped" and typed.mode == "typed"
    if typed.result == "FAIL":
        assert untyped.result == "FAIL"
    if untyped.result == "FAIL":
        assert iamlogic.compile({"identity": [new]}).decide(untyped.witness).decision == "allow"
        assert iamlogic.compile({"identity": [old]}).decide(untyped.witness).decision != "allow"


# Statements whose meaning depends on the caller: its name in a Resource and
# in a condition value, its tag. One engine asked about several callers in
# turn keeps what one caller's question encoded for the next.
CALLER_RESOURCES = ["arn:aws:s3:::b/${aws:username}/*", "arn:aws:s3:::b/a/*", "arn:aws:s3:::b/*", "*"]
CALLER_CONDITIONS = [
    {"StringEquals": {"aws:username": "a"}},
    {"StringLike": {"s3:prefix": "home/${aws:username}/*"}},
    {"StringEquals": {"aws:PrincipalTag/team": "red"}},
    {"Bool": {"aws:SecureTransport": "true"}},
]
CALLERS = ["arn:aws:iam::111122223333:user/a", "arn:aws:iam::111122223333:user/b",
           "arn:aws:sts::111122223333:assumed-role/r/s"]


@st.composite
def caller_statements(draw):
    out = {"Effect": draw(st.sampled_from(["Allow", "Allow", "Deny"])),
           "Action": draw(st.sampled_from(["s3:GetObject", "s3:*"])),
           "Resource": draw(st.lists(st.sampled_from(CALLER_RESOURCES), min_size=1, max_size=2, unique=True))}
    clause = draw(st.none() | st.sampled_from(CALLER_CONDITIONS))
    if clause is not None:
        out["Condition"] = clause
    return out


@settings(max_examples=int(os.environ.get("IAMLOGIC_PROOF_EXAMPLES", "40")), deadline=None,
          derandomize=not os.environ.get("IAMLOGIC_RANDOM_EXAMPLES"), suppress_health_check=[HealthCheck.too_slow])
@given(sts=st.lists(caller_statements(), min_size=1, max_size=4), order=st.permutations(CALLERS))
def test_one_engine_asked_about_callers_in_turn_answers_as_a_fresh_one(sts, order):
    from iamlogic.proofs.stack import Open, can_be_allowed
    from iamlogic.scenario import compile_policies

    policies_ = {"identity": [{"Version": "2012-10-17", "Statement": sts}]}
    shared = compile_policies(policies_)
    for principal in order:
        question = Open([principal], "s3:GetObject", None, "111122223333")
        kept = can_be_allowed(shared, question)
        alone = can_be_allowed(compile_policies(policies_), Open([principal], "s3:GetObject", None, "111122223333"))
        assert kept.holds is not None and kept.holds == alone.holds, (principal, sts)
        if kept.holds:
            found = kept.counterexample
            request = {"principal": principal, "action": found.action, "resource": found.resource,
                       "resource_account": "111122223333",
                       "context": {k: v for k, v in found.context.items() if v != []}}
            assert shared.decide(request).decision == "allow", (request, sts)


# Set operators only, over one multi-valued key: the whole-stack search must
# model as many values as the clauses need (a request holding several keys).
SET_CONDITIONS = [
    {"ForAnyValue:StringEquals": {"aws:TagKeys": "a"}},
    {"ForAnyValue:StringEquals": {"aws:TagKeys": ["b", "c"]}},
    {"ForAllValues:StringEquals": {"aws:TagKeys": "a"}},
    {"ForAllValues:StringLike": {"aws:TagKeys": ["a*", "b"]}},
    {"ForAnyValue:StringNotEquals": {"aws:TagKeys": "a"}},
    {"ForAllValues:StringNotLike": {"aws:TagKeys": "c*"}},
]
TAG_KEY_LISTS = [["a"], ["b"], ["c"], ["a", "c"], ["a", "b"], ["ab", "c"], ["b", "c", "a"], ["x"], ["a", "x", "b"]]


@st.composite
def conditional_statements(draw, conditions: list[dict], action: str):
    """An Allow or a Deny of ``action`` on every resource under one or two
    of ``conditions``."""
    out = {"Effect": draw(st.sampled_from(["Allow", "Allow", "Deny"])), "Action": action, "Resource": "*"}
    condition: dict = {}
    for clause in draw(st.lists(st.sampled_from(conditions), min_size=1, max_size=2)):
        for op, body in clause.items():
            condition.setdefault(op, {}).update(body)
    out["Condition"] = condition
    return out


def set_statements():
    return conditional_statements(SET_CONDITIONS, "s3:GetObject")


@settings(max_examples=int(os.environ.get("IAMLOGIC_PROOF_EXAMPLES", "40")), deadline=None,
          derandomize=not os.environ.get("IAMLOGIC_RANDOM_EXAMPLES"), suppress_health_check=[HealthCheck.too_slow])
@given(sts=st.lists(set_statements(), min_size=1, max_size=4))
def test_can_be_allowed_with_set_operators_against_the_kernel(sts):
    requests = [{"principal": "arn:aws:iam::111122223333:user/witness", "action": "s3:GetObject",
                 "resource": "arn:aws:s3:::b/x", "derive_context": False,
                 "context": {} if keys is None else {"aws:TagKeys": keys}} for keys in TAG_KEY_LISTS + [None]]
    allowed_or_never({"identity": [{"Version": "2012-10-17", "Statement": sts}]}, {"action": "s3:GetObject"},
                     requests)


NOTHING = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}


@settings(max_examples=int(os.environ.get("IAMLOGIC_PROOF_EXAMPLES", "40")), deadline=None,
          derandomize=not os.environ.get("IAMLOGIC_RANDOM_EXAMPLES"), suppress_health_check=[HealthCheck.too_slow])
@given(policy=policies)
def test_the_two_symbolic_procedures_agree_on_whether_a_policy_allows_anything(policy):
    # proofs/engine.py (one policy against another) and proofs/stack.py (the
    # whole policy set) are written separately: on one identity policy, "is
    # it new access against a policy allowing nothing" and "can anything be
    # allowed" are the same question.
    from iamlogic.proofs import can_be_allowed

    new_access = check_no_new_access(policy, NOTHING)
    scenario = {"policies": {"identity": [policy]},
                "request": {"principal": "arn:aws:iam::111122223333:user/witness",
                            "resource_account": "111122223333", "derive_context": False}}
    allowed = can_be_allowed(scenario, timeout_ms=60_000)
    assert {new_access.result, allowed.result} <= {"PASS", "FAIL"}, (new_access.note, allowed.note)
    # A signed-in user may always call the actions no policy controls
    # (SEMANTICS §7): with a policy allowing nothing, those are the only
    # witnesses the whole stack may give.
    assert allowed.result == "FAIL", (policy, allowed.note)
    if new_access.result == "PASS":
        assert allowed.witness["action"].lower() in NO_AUTHORIZATION, (policy, allowed.witness)


# Set operators on values the kernel may not read (numbers, dates, booleans,
# addresses) over one multi-valued key: the kernel reads the request's values
# in order and stops, false, at the first it cannot read.
TYPED_SET_CONDITIONS = [
    {"ForAnyValue:NumericLessThan": {"test:values": "5"}},
    {"ForAllValues:NumericLessThan": {"test:values": "5"}},
    {"ForAnyValue:NumericGreaterThanEquals": {"test:values": "5"}},
    {"ForAllValues:NumericNotEquals": {"test:values": ["3", "7"]}},
    {"ForAnyValue:NumericEqualsIfExists": {"test:values": "7"}},
    {"ForAnyValue:IpAddress": {"test:ips": "10.0.0.0/8"}},
    {"ForAllValues:NotIpAddress": {"test:ips": "10.1.0.0/16"}},
    {"ForAnyValue:Bool": {"test:flags": "true"}},
    {"ForAllValues:Bool": {"test:flags": "false"}},
]
TYPED_SET_VALUES = {
    "test:values": [["4"], ["5"], ["3", "9"], ["x"], ["x", "4"], ["4", "x"], ["7", "5"], "4", ["1", "2", "3"]],
    "test:ips": [["10.1.2.3"], ["10.2.0.1", "192.168.0.1"], ["bad", "10.2.0.1"], "10.9.9.9", ["192.168.1.1"]],
    "test:flags": [["true"], ["false"], ["true", "false"], ["maybe"], ["false", "maybe"], "true"],
}


typed_set_policies = st.lists(conditional_statements(TYPED_SET_CONDITIONS, "s3:ListBucket"), min_size=1,
                              max_size=3).map(
    lambda sts: {"Version": "2012-10-17", "Statement": sts})


def typed_set_request(rng: random.Random) -> dict:
    context = {k: rng.choice(v) for k, v in TYPED_SET_VALUES.items() if rng.random() < 0.7}
    return {"principal": "arn:aws:iam::111122223333:user/witness", "action": "s3:ListBucket",
            "resource": "arn:aws:s3:::b", "resource_account": "111122223333", "context": context,
            "derive_context": False}


@settings(max_examples=int(os.environ.get("IAMLOGIC_PROOF_EXAMPLES", "40")), deadline=None,
          derandomize=not os.environ.get("IAMLOGIC_RANDOM_EXAMPLES"), suppress_health_check=[HealthCheck.too_slow])
@given(new=typed_set_policies, old=typed_set_policies, seed=st.integers(0, 2**32 - 1))
def test_set_operators_on_unreadable_values_against_the_kernel(new, old, seed):
    requests = [typed_set_request(random.Random(seed + i)) for i in range(300)]
    allowed_or_never({"identity": [new]}, {"action": "s3:ListBucket", "resource_account": "111122223333"}, requests)
    check = check_no_new_access(new, old)
    assert check.result in ("PASS", "FAIL"), check.note  # a FAIL's witness was replayed by the kernel
    if check.result == "PASS":
        new_engine, old_engine = iamlogic.compile({"identity": [new]}), iamlogic.compile({"identity": [old]})
        for request in requests:
            if new_engine.decide(request).decision == "allow":
                assert old_engine.decide(request).decision == "allow", (request, new, old)
