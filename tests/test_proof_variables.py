"""proofs/variables.py: policy variables whose keys a question leaves free.

SEMANTICS §5: ``${key}`` in a Resource is the request's value of the key; an
absent key (no default) makes the entry match nothing. A proof must hold for
every value; a witness names the value in its context (and is replayed by
the kernel). What the bounds cannot prove and the values tried do not
refute is UNKNOWN, naming the keys."""

from __future__ import annotations

import os
import random

from hypothesis import HealthCheck, given, settings, strategies as st

import iamlogic
from iamlogic.proofs import can_be_allowed, check_no_new_access

HOME = "arn:aws:s3:::b/${aws:username}/*"


def policy(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(resource, **extra):
    return {"Effect": "Allow", "Action": "s3:GetObject", "Resource": resource, **extra}


def deny(resource):
    return {"Effect": "Deny", "Action": "s3:*", "Resource": resource}


def decisions(request, *policies):
    return [iamlogic.compile({"identity": [p]}).decide(request).decision for p in policies]


def test_narrowing_a_bucket_to_each_users_home_folder_is_no_new_access():
    # §5: whatever the user's name, b/<name>/x is inside b/*.
    check = check_no_new_access(policy(allow(HOME)), policy(allow("arn:aws:s3:::b/*")))
    assert check.result == "PASS"


def test_widening_a_home_folder_to_the_bucket_is_new_access_for_a_named_user():
    new, old = policy(allow("arn:aws:s3:::b/*")), policy(allow(HOME))
    check = check_no_new_access(new, old)
    assert check.result == "FAIL"
    name = check.witness["context"]["aws:username"]
    # The witness is a user of that name, reading outside its own folder.
    assert check.witness["principal"].endswith(f":user/{name}")
    assert not check.witness["resource"].startswith(f"arn:aws:s3:::b/{name}/")
    assert decisions(check.witness, new, old) == ["allow", "implicit_deny"]


def test_a_deny_on_one_users_folder_is_found_by_the_name_it_spells():
    # The existing policy denies alice her folder; the new one does not: new
    # access for alice alone (a value the patterns spell, not a fresh one).
    new, old = policy(allow(HOME)), policy(allow(HOME), deny("arn:aws:s3:::b/alice/*"))
    check = check_no_new_access(new, old)
    assert check.result == "FAIL" and check.witness["context"]["aws:username"] == "alice"
    assert decisions(check.witness, new, old) == ["allow", "explicit_deny"]
    assert check_no_new_access(old, new).result == "PASS"


def test_a_tag_in_the_resource_is_read_for_every_value():
    tagged = policy(allow("arn:aws:s3:::b/${aws:PrincipalTag/team}/*"))
    assert check_no_new_access(tagged, policy(allow("arn:aws:s3:::b/*"))).result == "PASS"
    check = check_no_new_access(policy(allow("arn:aws:s3:::b/*")), tagged)
    assert check.result == "FAIL" and "aws:PrincipalTag/team" in check.witness["context"]


def test_what_neither_bound_nor_value_decides_is_unknown_naming_the_key():
    # Allow b/* but deny everything outside the caller's folder: the same as
    # the home-folder policy, which no bound shows and no value refutes.
    fenced = policy(allow("arn:aws:s3:::b/*"), {"Effect": "Deny", "Action": "s3:*", "NotResource": HOME})
    check = check_no_new_access(fenced, policy(allow(HOME)))
    assert check.result == "UNKNOWN" and "aws:username" in check.note and "no proof" in check.note


def test_a_variable_in_a_condition_value_is_refuted_by_a_value_or_unknown():
    prefixed = policy(allow("arn:aws:s3:::b/*", Condition={"StringLike": {"s3:prefix": "${aws:PrincipalTag/team}/*"}}))
    check = check_no_new_access(policy(allow("arn:aws:s3:::b/*")), prefixed)
    assert check.result == "FAIL"
    assert decisions(check.witness, policy(allow("arn:aws:s3:::b/*")), prefixed) == ["allow", "implicit_deny"]
    assert check_no_new_access(prefixed, policy(allow("arn:aws:s3:::b/*"))).result == "UNKNOWN"


def scenario(statements, principal="arn:aws:sts::111122223333:assumed-role/r/s"):
    return {"policies": {"identity": [policy(*statements)]},
            "request": {"principal": principal, "action": "s3:GetObject"}}


def test_can_be_allowed_with_a_tag_the_question_leaves_free():
    team_folder = allow("arn:aws:s3:::b/${aws:PrincipalTag/team}/*")
    check = can_be_allowed(scenario([team_folder]))
    assert check.result == "FAIL" and "aws:PrincipalTag/team" in check.witness["context"]
    # Whatever the tag, the Deny on the whole bucket wins: proven never.
    assert can_be_allowed(scenario([team_folder, deny("arn:aws:s3:::b/*")])).result == "PASS"


def test_a_role_session_has_no_user_name_so_no_home_folder():
    # §5 and the User Guide's aws:username: set for IAM users only; the
    # session's derived context leaves it absent, so the entry matches nothing.
    assert can_be_allowed(scenario([allow(HOME)])).result == "PASS"
    check = can_be_allowed(scenario([allow(HOME)], principal="arn:aws:iam::111122223333:user/bob"))
    assert check.result == "FAIL" and check.witness["resource"].startswith("arn:aws:s3:::b/bob/")


# Random pairs over a small universe of folders and a tag variable: every
# FAIL is replayed by the kernel (the check does it, and so does this test);
# every PASS survives random requests with random tag values, absent too.
FOLDERS = ["arn:aws:s3:::b/${aws:PrincipalTag/team}/*", "arn:aws:s3:::b/red/*", "arn:aws:s3:::b/*",
           "arn:aws:s3:::b/${aws:PrincipalTag/team}/x", "arn:aws:s3:::b/r*"]
TEAMS = ["red", "blue", "r", "", "x/y", None]
OBJECTS = ["arn:aws:s3:::b/red/x", "arn:aws:s3:::b/blue/x", "arn:aws:s3:::b/r/x", "arn:aws:s3:::b/x/y/x",
           "arn:aws:s3:::b//x", "arn:aws:s3:::b/red/y"]


@st.composite
def folder_statements(draw):
    out = {"Effect": draw(st.sampled_from(["Allow", "Allow", "Deny"])), "Action": "s3:GetObject"}
    out["NotResource" if draw(st.integers(0, 5)) == 0 else "Resource"] = draw(
        st.lists(st.sampled_from(FOLDERS), min_size=1, max_size=2, unique=True))
    return out


folder_policies = st.lists(folder_statements(), min_size=1, max_size=3).map(lambda sts: policy(*sts))


@settings(max_examples=int(os.environ.get("IAMLOGIC_PROOF_EXAMPLES", "40")), deadline=None,
          derandomize=not os.environ.get("IAMLOGIC_RANDOM_EXAMPLES"), suppress_health_check=[HealthCheck.too_slow])
@given(new=folder_policies, old=folder_policies, seed=st.integers(0, 2**32 - 1))
def test_free_variables_never_give_a_wrong_answer(new, old, seed):
    check = check_no_new_access(new, old)
    if check.result == "FAIL":
        assert decisions(check.witness, new, old)[0] == "allow"
        assert decisions(check.witness, new, old)[1] != "allow"
    if check.result != "PASS":
        return
    rng = random.Random(seed)
    for _ in range(300):
        team = rng.choice(TEAMS)
        request = {"principal": "arn:aws:iam::111122223333:user/witness", "action": "s3:GetObject",
                   "resource": rng.choice(OBJECTS), "derive_context": False,
                   "context": {} if team is None else {"aws:PrincipalTag/team": team}}
        if decisions(request, new)[0] == "allow":
            assert decisions(request, old)[0] == "allow", (request, new, old)
