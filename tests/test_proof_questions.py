"""check-access-not-granted, check-no-public-access and can-be-allowed:
each answer pinned, each witness replayed through the kernel here too."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import iamlogic
from iamlogic.errors import ScenarioError
from iamlogic.proofs import can_be_allowed, check_access_not_granted, check_no_public_access

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
V = "2012-10-17"


def policy(*statements):
    return {"Version": V, "Statement": list(statements)}


def allow(action, resource="*", **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action, resource="*", **extra):
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


READER = policy(allow(["s3:Get*", "s3:List*"]), deny("s3:GetObject", "arn:aws:s3:::vault/*"))


# ---------------------------------------------------------------- check-access-not-granted


def test_an_action_the_policy_never_allows_passes():
    assert check_access_not_granted(READER, actions=["s3:PutObject", "iam:*"]).result == "PASS"


def test_an_allowed_action_fails_with_a_witness_the_kernel_allows():
    check = check_access_not_granted(READER, actions=["s3:GetObject"])
    assert check.result == "FAIL" and check.witness["action"] == "s3:GetObject"
    assert not check.witness["resource"].startswith("arn:aws:s3:::vault/")
    assert iamlogic.compile({"identity": [READER]}).decide(check.witness).decision == "allow"
    assert [r["statement_index"] for r in check.reasons] == [0]


def test_the_granting_statements_are_named_whatever_form_the_policy_comes_in(tmp_path):
    # A policy given as a file (or a parsed Policy) is named by its path: the
    # reasons once kept only those named "policy" and came out empty.
    path = tmp_path / "reader.json"
    path.write_text(json.dumps(READER))
    check = check_access_not_granted(path, actions=["s3:GetObject"])
    assert check.result == "FAIL"
    assert [(r["policy"], r["statement_index"]) for r in check.reasons] == [(str(path), 0)]


def test_the_deny_makes_the_sensitive_resource_not_granted():
    # SEMANTICS §1.1: the Deny on vault/* wins over the Allow on s3:Get*.
    assert check_access_not_granted(READER, actions=["s3:GetObject"],
                                    resources=["arn:aws:s3:::vault/*"]).result == "PASS"
    # ...but s3:GetObjectTagging on the vault is not denied.
    check = check_access_not_granted(READER, resources=["arn:aws:s3:::vault/*"])
    assert check.result == "FAIL" and check.witness["action"] != "s3:GetObject"
    assert check.witness["resource"].startswith("arn:aws:s3:::vault/")


def test_a_resource_policy_is_checked_for_every_caller():
    bucket = policy(allow("s3:PutObject", "arn:aws:s3:::drop/*", Principal={"AWS": "444455556666"}))
    check = check_access_not_granted(bucket, actions=["s3:PutObject"], policy_type="resource")
    assert check.result == "FAIL" and check.witness["principal"].split(":")[4] == "444455556666"


def test_the_access_must_be_named():
    with pytest.raises(ScenarioError):
        check_access_not_granted(READER)


# ---------------------------------------------------------------- check-no-public-access


def public(condition=None, principal="*", action="s3:GetObject"):
    st = allow(action, "arn:aws:s3:::site/*", Principal=principal)
    if condition:
        st["Condition"] = condition
    return policy(st)


@pytest.mark.parametrize("condition,principal,expected", [
    (None, "*", "FAIL"),                                                      # anyone at all
    (None, {"AWS": "*"}, "FAIL"),                                             # every AWS account
    (None, {"AWS": "arn:aws:iam::111122223333:root"}, "PASS"),               # one named account
    ({"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}, "*", "PASS"),      # only the organization
    ({"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c"}}, "*", "PASS"),       # only through our endpoint
    ({"StringEquals": {"aws:PrincipalAccount": "111122223333"}}, "*", "PASS"),
    ({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, "*", "PASS"),             # a private range
    ({"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}, "*", "FAIL"),              # every address
    ({"StringLike": {"aws:Referer": "https://example.com/*"}}, "*", "FAIL"),  # the caller sends it
    ({"Bool": {"aws:SecureTransport": "true"}}, "*", "FAIL"),                 # any caller can use TLS
    # An outsider may have an organization of its own (any id but ours), or
    # none: the key absent, a plain operator is false (§4) — and an
    # …IfExists one is true: public either way.
    ({"StringLike": {"aws:PrincipalOrgID": "*"}}, "*", "FAIL"),
    ({"StringLikeIfExists": {"aws:PrincipalOrgID": "o-abc123"}}, "*", "FAIL"),
])
def test_public_access_reads_the_conditions_an_outsider_cannot_meet(condition, principal, expected):
    check = check_no_public_access(public(condition, principal), "AWS::S3::Bucket")
    assert check.result == expected, check.to_dict()
    if expected == "FAIL":
        w = check.witness
        assert w["principal"] is None or w["principal"].split(":")[4] != "111122223333"
        engine = iamlogic.compile({"identity": [policy(allow("*"))], "resource": public(condition, principal)})
        assert engine.decide(w).decision == "allow"


def test_a_key_policy_restricted_to_the_calling_account_is_not_public():
    key = policy(allow("kms:Decrypt", "*", Principal={"AWS": "*"},
                       Condition={"StringEquals": {"kms:CallerAccount": "111122223333"}}))
    assert check_no_public_access(key, "AWS::KMS::Key").result == "PASS"


def test_an_unknown_resource_type_is_bad_input():
    with pytest.raises(ScenarioError, match="AWS::EC2::Instance"):
        check_no_public_access(public(), "AWS::EC2::Instance")


# ---------------------------------------------------------------- can-be-allowed

ADMIN = "arn:aws:sts::111122223333:assumed-role/Admin/jane"
FULL = policy(allow("*"))
REGION_GUARD = policy({"Effect": "Deny", "NotAction": ["iam:*", "sts:*"], "Resource": "*",
                       "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1", "eu-central-1"]}}})


def stack(request, **policies):
    return {"policies": {"identity": [FULL], "scps": [[FULL], [FULL, REGION_GUARD]], **policies},
            "request": request}


def test_allowed_somewhere_with_a_witness_the_kernel_allows():
    scenario = stack({"principal": ADMIN, "action": "ec2:TerminateInstances",
                      "resource": "arn:aws:ec2:*:111122223333:instance/*"})
    check = can_be_allowed(scenario)
    assert check.result == "FAIL"
    # SEMANTICS §1.3: the region guard denies every region but the two.
    assert check.witness["context"]["aws:RequestedRegion"] in ("eu-west-1", "eu-central-1")
    assert iamlogic.simulate({"policies": scenario["policies"], "request": check.witness}).decision == "allow"


def test_a_fixed_context_can_make_it_never_and_names_the_level():
    scenario = stack({"principal": ADMIN, "action": "ec2:TerminateInstances", "resource": "*",
                      "context": {"aws:RequestedRegion": "us-east-1"}})
    check = can_be_allowed(scenario)
    assert check.result == "PASS"
    assert [r["layer"] for r in check.reasons] == ["scp/1"]


def test_an_scp_level_without_an_allow_forbids_everything():
    # SEMANTICS §1.3: every level must allow; a level of Denies alone allows nothing.
    scenario = {"policies": {"identity": [FULL], "scps": [[FULL], [REGION_GUARD]]},
                "request": {"principal": ADMIN, "action": "s3:*"}}
    check = can_be_allowed(scenario)
    assert check.result == "PASS" and [r["layer"] for r in check.reasons] == ["scp/1"]


def test_a_boundary_caps_what_the_identity_policy_grants():
    scenario = {"policies": {"identity": [FULL], "boundary": [policy(allow("s3:*"))]},
                "request": {"principal": ADMIN, "action": "iam:CreateUser"}}
    check = can_be_allowed(scenario)
    assert check.result == "PASS" and [r["layer"] for r in check.reasons] == ["boundary"]
    scenario["request"]["action"] = "s3:Delete*"
    assert can_be_allowed(scenario).result == "FAIL"


def test_a_resource_pattern_and_any_caller_through_a_bucket_policy():
    # Cross-account (SEMANTICS §2): the partner's session needs both sides;
    # with no identity policy of its own here, only the bucket's own
    # account's root user (full access in its account, SEMANTICS §1) gets it.
    bucket = policy(allow("s3:GetObject", "arn:aws:s3:::prod-reports/*",
                          Principal={"AWS": "arn:aws:iam::444455556666:role/partner"}))
    scenario = {"policies": {"resource": bucket},
                "request": {"action": "s3:GetObject", "resource": "arn:aws:s3:::prod-*",
                            "resource_account": "111122223333"}}
    check = can_be_allowed(scenario)
    assert check.result == "FAIL" and check.witness["principal"] == "arn:aws:iam::111122223333:root"
    scenario["policies"]["identity"] = [FULL]
    check = can_be_allowed(scenario)
    assert check.result == "FAIL"
    assert check.witness["principal"].split(":")[4] == "444455556666"
    assert check.witness["resource"].startswith("arn:aws:s3:::prod-reports/")
    assert iamlogic.simulate({"policies": scenario["policies"], "request": check.witness}).decision == "allow"


def test_a_timeout_is_unknown():
    scenario = stack({"principal": ADMIN})
    check = can_be_allowed(scenario, timeout_ms=1)
    assert check.result == "UNKNOWN" and "did not finish" in check.note


def run(*args):
    return subprocess.run([sys.executable, "-m", "iamlogic", *map(str, args)], capture_output=True, text=True)


def test_cli(tmp_path):
    scenario = tmp_path / "q.json"
    scenario.write_text(json.dumps(stack({"principal": ADMIN, "action": "iam:CreateUser"},
                                         boundary=[policy(allow("s3:*"))])))
    proc = run("can-be-allowed", scenario)
    assert proc.returncode == 0 and proc.stdout.startswith("PROVEN NEVER")
    assert "forbidden by: the permissions boundary" in proc.stdout
    bucket = tmp_path / "bucket.json"
    bucket.write_text(json.dumps(public()))
    proc = run("check-no-public-access", bucket, "--resource-type", "AWS::S3::Bucket", "--format", "json")
    assert proc.returncode == 2 and json.loads(proc.stdout)["witness"]["principal"] is None
    reader = tmp_path / "reader.json"
    reader.write_text(json.dumps(READER))
    assert run("check-access-not-granted", reader, "--actions", "s3:PutObject").returncode == 0
    assert run("check-access-not-granted", reader, "-a", "s3:GetObject").returncode == 2
    proc = run("check-access-not-granted", reader)
    assert proc.returncode == 1 and "give --actions" in proc.stderr


# ---------------------------------------------------------------- untyped mode
# Typed mode reads actions from the service catalogue, each on its resource
# types' ARN formats (as IAM Access Analyzer does); untyped mode lets both be
# any string. Every untyped witness is still replayed through the kernel.


def test_an_action_outside_the_catalogue_is_new_access_only_untyped():
    from iamlogic.proofs import check_no_new_access

    # A pattern naming only actions the catalogue lacks: typed mode's
    # universe holds none of them (an action a policy spells out would be in
    # it: tests/test_proof_universe.py).
    existing = policy(allow("s3:*"))
    new = policy(allow(["s3:*", "made-up:Do*"]))
    typed = check_no_new_access(new, existing)
    assert (typed.result, typed.mode) == ("PASS", "typed")
    untyped = check_no_new_access(new, existing, typed=False)
    assert (untyped.result, untyped.mode) == ("FAIL", "untyped")
    assert untyped.witness["action"].lower().startswith("made-up:")
    assert iamlogic.simulate({"policies": {"identity": [new]}, "request": untyped.witness}).decision == "allow"
    assert iamlogic.simulate({"policies": {"identity": [existing]}, "request": untyped.witness}).decision != "allow"


def test_a_resource_outside_the_formats_is_new_access_only_untyped():
    from iamlogic.proofs import equivalent

    # Every iam:GetRole resource of the catalogue is a role ARN, in some
    # partition: this covers them all, "*" covers strings besides.
    objects = policy(allow("iam:GetRole", "arn:*:iam::*:role/*"))
    anything = policy(allow("iam:GetRole", "*"))
    assert equivalent(objects, anything).result == "PASS"
    check = equivalent(objects, anything, typed=False)
    assert check.result == "FAIL"
    assert [w["direction"] for w in check.witnesses] == ["b allows more than a"]
    assert check.witness["action"] == "iam:GetRole"
    assert ":role/" not in check.witness["resource"]


def test_a_key_that_must_allow_itself_is_never_allowed_typed_but_a_free_string_is():
    # SEMANTICS §1.4: a KMS key policy must itself allow; typed, every
    # resource of kms:Decrypt is a key; untyped, "a" is not a key ARN.
    scenario = {"policies": {"identity": [policy(allow("kms:Decrypt"))]},
                "request": {"principal": "arn:aws:iam::111122223333:user/u", "action": "kms:Decrypt",
                            "resource_account": "111122223333"}}
    assert can_be_allowed(scenario).result == "PASS"
    check = can_be_allowed(scenario, typed=False)
    assert (check.result, check.mode) == ("FAIL", "untyped")
    assert ":key/" not in check.witness["resource"]
    assert iamlogic.simulate({"policies": scenario["policies"], "request": check.witness}).decision == "allow"


def test_cli_untyped(tmp_path):
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_text(json.dumps(policy(allow("s3:*"))))
    new.write_text(json.dumps(policy(allow(["s3:*", "made-up:Do*"]))))
    assert run("check-no-new-access", "--existing", old, "--new", new).returncode == 0
    proc = run("check-no-new-access", "--existing", old, "--new", new, "--untyped", "--format", "json")
    assert proc.returncode == 2 and json.loads(proc.stdout)["mode"] == "untyped"


def test_a_deny_on_one_arn_leaves_the_longer_arns_it_starts():
    # Found by the property test: the search pruned every resource that
    # passed through "arn:aws:s3:::b" (the SCP's Deny) as if the Deny were
    # certain to match, though "arn:aws:s3:::b/x" leaves it. SEMANTICS §3: a
    # Resource without wildcards matches that ARN only.
    scp = policy(allow("s3:GetObject", "arn:aws:s3:::*"), deny("s3:GetObject", "arn:aws:s3:::b"))
    scenario = {"policies": {"identity": [policy(allow("s3:GetObject", "arn:aws:s3:::b/*"))],
                             "scps": [[FULL], [scp]]},
                "request": {"principal": "arn:aws:iam::111122223333:user/u", "action": "s3:GetObject",
                            "resource_account": "111122223333"}}
    check = can_be_allowed(scenario)
    assert check.result == "FAIL" and check.witness["resource"].startswith("arn:aws:s3:::b/")


def test_two_notresource_allows_alike_stay_notresource():
    # Found by the property test: two Allows with the same NotResource (one
    # conditional) were merged into one term that lost its negation, and the
    # witness named a resource inside the excluded patterns (the kernel's
    # replay caught it: UNKNOWN). SEMANTICS §3: NotResource matches every
    # resource but those listed.
    excluded = ["arn:aws:s3:::b/*", "arn:aws:s3:::b/x*"]
    identity = policy({"Effect": "Allow", "Action": "s3:GetObject", "NotResource": excluded},
                      {"Effect": "Allow", "Action": "s3:GetObject", "NotResource": excluded,
                       "Condition": {"StringEquals": {"aws:PrincipalTag/team": ["red", "green"]}}})
    scenario = {"policies": {"identity": [identity]},
                "request": {"principal": "arn:aws:iam::111122223333:user/u", "action": "s3:GetObject",
                            "resource_account": "111122223333", "derive_context": False}}
    check = can_be_allowed(scenario)
    assert check.result == "FAIL", check.note
    assert not check.witness["resource"].startswith("arn:aws:s3:::b/")


def test_untyped_actions_hold_every_character_a_request_may():
    # kernel/request.py accepts "_" and "." in action names; the untyped
    # action classes once did not, and missed the new access below.
    from iamlogic.proofs import check_no_new_access

    check = check_no_new_access(policy(allow("my.svc:Do_Thing")), policy(allow("s3:*")), typed=False)
    assert check.result == "FAIL" and check.witness["action"] == "my.svc:Do_Thing"


def test_every_key_a_caller_identity_sets_marks_a_statement_as_the_callers_own():
    # stack.py shares a statement's encoding between callers unless its
    # conditions read a key the caller's identity sets: every key
    # Caller.derived_context gives, for every kind of caller, must be one.
    from iamlogic.kernel.principals import read_caller
    from iamlogic.proofs.stack import _CALLER_DEPENDENT_KEYS

    callers = [None, "arn:aws:iam::111122223333:user/u", "arn:aws:sts::111122223333:assumed-role/r/s",
               "arn:aws:sts::111122223333:federated-user/f", "arn:aws:iam::111122223333:root",
               "s3.amazonaws.com", "111122223333"]
    derived = {k.lower() for c in callers for k in read_caller(c).derived_context()}
    assert "aws:username" in derived and "aws:userid" in derived
    assert derived <= _CALLER_DEPENDENT_KEYS


def test_set_operators_over_the_whole_stack_model_several_values():
    # SEMANTICS §4 (ForAnyValue / ForAllValues): a request with TagKeys
    # ["a", "c"] has the key "a" (the Allow holds) and a key other than "a"
    # (the Deny's ForAllValues fails), so it is allowed. With one value
    # modelled per key, this was a false PROVEN NEVER.
    tagged = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
              "Condition": {"ForAnyValue:StringEquals": {"aws:TagKeys": "a"}}}
    only_a = {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "*",
              "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": "a"}}}
    scenario = {"policies": {"identity": [{"Version": "2012-10-17", "Statement": [tagged, only_a]}]},
                "request": {"principal": "arn:aws:iam::111122223333:user/u", "action": "s3:GetObject"}}
    check = can_be_allowed(scenario)
    assert check.result == "FAIL"
    keys = check.witness["context"]["aws:TagKeys"]
    assert "a" in keys and any(k != "a" for k in keys)
    engine = iamlogic.compile(scenario["policies"])
    assert engine.decide(check.witness).decision == "allow"
