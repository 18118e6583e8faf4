"""Readings of AWS that a scenario case cannot show: what a decision says
when the request leaves something the policies test unknown."""

from __future__ import annotations

import iamlogic

ROLE_PATH_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Sid": "OpsRoles", "Effect": "Allow", "Action": "*", "Resource": "*",
     "Condition": {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::111111111111:role/ops/*"}}}]}


def test_a_session_arn_hides_its_roles_path_and_the_decision_says_so():
    # SEMANTICS §7: role ARNs carry their path and aws:PrincipalArn is the
    # role's ARN; an assumed-role session ARN carries no path, so a policy
    # testing aws:PrincipalArn is decided on a guess the decision must name.
    engine = iamlogic.compile({"identity": [ROLE_PATH_POLICY]})
    request = {"principal": "arn:aws:sts::111111111111:assumed-role/Deployer/s", "action": "s3:GetObject",
               "resource": "arn:aws:s3:::b/k", "resource_account": "111111111111"}
    guessed = engine.decide(request)
    assert guessed.decision == "implicit_deny"
    assert any("aws:PrincipalArn is taken as arn:aws:iam::111111111111:role/Deployer" in n for n in guessed.notes)
    given = engine.decide({**request, "context": {"aws:PrincipalArn": "arn:aws:iam::111111111111:role/ops/Deployer"}})
    assert given.decision == "allow"
    assert not any("aws:PrincipalArn" in n for n in given.notes)


def test_no_note_when_no_policy_tests_the_principal_arn():
    engine = iamlogic.compile({"identity": [{"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"}]}]})
    decision = engine.decide({"principal": "arn:aws:sts::111111111111:assumed-role/Deployer/s",
                              "action": "s3:GetObject", "resource": "arn:aws:s3:::b/k",
                              "resource_account": "111111111111"})
    assert decision.decision == "allow" and decision.notes == ()
