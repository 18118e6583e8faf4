"""can-be-allowed with the principal left open quantifies over every caller
the kernel tells apart (proofs/callers.py): whenever the kernel allows a
concrete caller of any kind — the root user of an account (full access in
its own account, SEMANTICS §1 opening), an IAM user, a role session, a
service-linked role (SCPs and RCPs do not apply to it, §1.2–1.3), a
GetFederationToken session, an anonymous caller, an AWS service, a
web-identity caller — the open question may not say PROVEN NEVER, and each
witness it gives is one the kernel allows."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings, strategies as st

import iamlogic
from iamlogic.proofs import can_be_allowed

A, B = "111122223333", "444455556666"
ROLE = f"arn:aws:iam::{A}:role/named"
REQUESTS = [("s3:GetObject", "arn:aws:s3:::b/k"), ("sqs:SendMessage", f"arn:aws:sqs:us-east-1:{A}:q")]

# One concrete caller of every kind, in the resource's account and another.
CONCRETE = [
    f"arn:aws:iam::{A}:root", f"arn:aws:iam::{B}:root",
    f"arn:aws:iam::{A}:user/alice", f"arn:aws:iam::{B}:user/bob",
    f"arn:aws:sts::{A}:assumed-role/app/s1", ROLE, f"arn:aws:sts::{B}:assumed-role/app/s2",
    f"arn:aws:iam::{A}:role/aws-service-role/ssm.amazonaws.com/AWSServiceRoleForSSM",
    f"arn:aws:sts::{B}:assumed-role/AWSServiceRoleForSupport/s3",
    f"arn:aws:sts::{A}:federated-user/fed",
    None, "s3.amazonaws.com", "lambda.amazonaws.com",
    f"arn:aws:iam::{A}:oidc-provider/token.example.com",
]


def policy(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


CONDITIONS = [None,
              {"StringEquals": {"aws:PrincipalType": "User"}},
              {"StringNotEquals": {"aws:PrincipalType": "AssumedRole"}},
              {"Bool": {"aws:PrincipalIsAWSService": "true"}},
              {"StringLike": {"aws:PrincipalArn": f"arn:aws:iam::{A}:role/nam*"}},
              {"StringEquals": {"aws:PrincipalAccount": B}}]
PRINCIPALS = ["*", {"AWS": A}, {"AWS": B}, {"AWS": f"arn:aws:iam::{B}:root"}, {"AWS": ROLE},
              {"Service": "s3.amazonaws.com"}, {"Federated": f"arn:aws:iam::{A}:oidc-provider/token.example.com"},
              {"AWS": f"arn:aws:iam::{B}:user/bob"}]


@st.composite
def statement(draw, with_principal: bool):
    out = {"Effect": draw(st.sampled_from(["Allow", "Allow", "Deny"])),
           "Action": draw(st.sampled_from(["s3:GetObject", "s3:*", "sqs:SendMessage", "*"])), "Resource": "*"}
    if with_principal:
        out["NotPrincipal" if draw(st.integers(0, 5)) == 0 else "Principal"] = draw(st.sampled_from(PRINCIPALS))
    condition = draw(st.sampled_from(CONDITIONS))
    if condition:
        out["Condition"] = condition
    return out


@st.composite
def scenarios(draw):
    policies: dict = {}
    if draw(st.booleans()):
        policies["identity"] = [policy(*draw(st.lists(statement(False), min_size=1, max_size=2)))]
    if draw(st.booleans()):
        policies["resource"] = policy(*draw(st.lists(statement(True), min_size=1, max_size=2)))
    if draw(st.integers(0, 3)) == 0:
        policies["boundary"] = policy(draw(statement(False)))
    if draw(st.integers(0, 3)) == 0:
        policies["session"] = policy(draw(statement(False)))
    if draw(st.booleans()):
        level = [policy({"Effect": "Allow", "Action": "*", "Resource": "*"})]
        if draw(st.booleans()):
            level.append(policy(draw(statement(False))))
        policies["scps"] = [level]
    if not policies:
        policies["identity"] = [policy(draw(statement(False)))]
    action, resource = draw(st.sampled_from(REQUESTS))
    return policies, action, resource


@given(scenarios())
@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
def test_an_open_principal_is_never_proven_never_when_a_caller_of_some_kind_is_allowed(scenario):
    policies, action, resource = scenario
    engine = iamlogic.compile(policies)
    allowed = [p for p in CONCRETE
               if engine.decide({"principal": p, "action": action, "resource": resource,
                                 "resource_account": A}).decision == "allow"]
    check = can_be_allowed({"policies": policies,
                            "request": {"action": action, "resource": resource, "resource_account": A}})
    assert not (check.note or "").startswith("internal error"), check.note
    if allowed:
        assert check.result == "FAIL", (allowed, check.result, check.note)
    if check.result == "FAIL":
        assert engine.decide(check.witness).decision == "allow"


def test_the_root_user_is_allowed_in_its_own_account_without_an_identity_allow():
    # SEMANTICS §1 opening: the root user has full access in its own account.
    policies = {"identity": [policy({"Effect": "Allow", "Action": "ec2:DescribeInstances", "Resource": "*"})]}
    check = can_be_allowed({"policies": policies, "request": {"action": "s3:GetObject", "resource": "arn:aws:s3:::b/k",
                                                              "resource_account": A}})
    assert check.result == "FAIL" and check.witness["principal"] == f"arn:aws:iam::{A}:root"


def test_a_service_linked_role_passes_an_scp_deny():
    # SEMANTICS §1.3: SCPs do not apply to service-linked roles.
    policies = {"identity": [policy({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})],
                "scps": [[policy({"Effect": "Allow", "Action": "*", "Resource": "*"}),
                          policy({"Effect": "Deny", "Action": "s3:*", "Resource": "*"})]]}
    check = can_be_allowed({"policies": policies, "request": {"action": "s3:GetObject", "resource": "arn:aws:s3:::b/k",
                                                              "resource_account": A}})
    assert check.result == "FAIL" and "/aws-service-role/" in check.witness["principal"]
    assert iamlogic.compile(policies).decide(check.witness).decision == "allow"


ROOT_AND_FEDERATED_DENIED = [[policy({"Effect": "Allow", "Action": "*", "Resource": "*"},
                                     {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {
                                         "StringEquals": {"aws:PrincipalType": ["Account", "FederatedUser"]}}})]]


def test_callers_are_told_apart_by_every_pattern_on_their_identity_keys():
    # Allowed for the roles "x…" but "x" itself: one instance of each
    # pattern ("role/x") is denied; the caller "role/xa" is not. Likewise
    # for user names. (The root user and federated sessions are kept out
    # by the SCP, so that the callers the conditions name must decide.)
    cases = [
        ({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/x*"}},
         {"StringLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/x"}}),
        ({"StringLike": {"aws:username": "adm*"}}, {"StringEquals": {"aws:username": "adm"}}),
        ({"StringEqualsIgnoreCase": {"aws:PrincipalArn": f"arn:aws:iam::{A}:user/Ops"}},
         {"StringEquals": {"aws:PrincipalArn": f"arn:aws:iam::{A}:user/Ops"}}),
    ]
    for allowing, denying in cases:
        policies = {"identity": [policy({"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": allowing},
                                        {"Effect": "Deny", "Action": "s3:*", "Resource": "*", "Condition": denying})],
                    "scps": ROOT_AND_FEDERATED_DENIED}
        check = can_be_allowed({"policies": policies, "request": {
            "action": "s3:GetObject", "resource": "arn:aws:s3:::b/k", "resource_account": A}})
        assert check.result == "FAIL", (allowing, check.result, check.note)
        assert iamlogic.compile(policies).decide(check.witness).decision == "allow"
