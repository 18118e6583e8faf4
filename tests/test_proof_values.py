"""proofs/: the value encodings mirror the kernel's readings exactly, so that
no PASS or PROVEN NEVER rests on two values the proofs confuse, and no FAIL is
lost because a witness's value is rounded on its way back to the kernel.

Each test names the rule it pins (SEMANTICS.md section, User Guide page) and
fails on an encoding that reads a value otherwise than the kernel does."""

from __future__ import annotations

import z3

import iamlogic
from iamlogic.proofs import can_be_allowed, check_no_new_access, equivalent
from iamlogic.proofs import conditions as C
from iamlogic.proofs.matching import Unsupported

V = "2012-10-17"
USER = "arn:aws:iam::111122223333:user/alice"


def policy(*statements, version=V):
    return {"Version": version, "Statement": list(statements)} if version else {"Statement": list(statements)}


def allow(action="s3:GetObject", resource="*", **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def replayed(check, new, old):
    new_d = iamlogic.compile({"identity": [new]}).decide(check.witness)
    old_d = iamlogic.compile({"identity": [old]}).decide(check.witness)
    return new_d.decision, old_d.decision


# ---------------------------------------------------------------- the Version


def test_the_version_decides_whether_a_resource_variable_is_one():
    # User Guide, policy variables: without "Version": "2012-10-17" (or under
    # 2008-10-17) ${aws:username} is literal text; adding the Version grants
    # every user their own folder.
    home = allow(resource="arn:aws:s3:::home/${aws:username}/*")
    for old_version in (None, "2008-10-17"):
        new, old = policy(home), policy(home, version=old_version)
        check = check_no_new_access(new, old)
        assert check.result == "FAIL", old_version
        assert replayed(check, new, old) == ("allow", "implicit_deny")
        assert equivalent(new, old).result == "FAIL"


def test_the_version_decides_whether_a_condition_variable_is_one():
    # Same rule, in a condition value (StringEquals substitutes variables, §5).
    st = allow("s3:ListBucket", "arn:aws:s3:::home",
               Condition={"StringEquals": {"s3:prefix": "${aws:username}"}})
    new, old = policy(st), policy(st, version=None)
    check = check_no_new_access(new, old)
    assert check.result == "FAIL"
    assert replayed(check, new, old) == ("allow", "implicit_deny")


def statement(raw):
    return iamlogic.compile({"identity": [raw]}).layers[0].policies[0][1].statements[0]


def test_condition_blocks_are_not_shared_between_versions():
    # One encoding per block, shared by whatever says the same thing: the
    # same text under 2012-10-17 (a variable) and without a Version (literal,
    # User Guide, policy variables) says two things.
    st = allow("s3:ListBucket", Condition={"StringEquals": {"s3:prefix": "${aws:username}"}})
    with_variable, literal = statement(policy(st)), statement(policy(st, version=None))
    ctx = C.SymbolicContext()
    literal_block = ctx.block(literal.condition)
    try:
        variable_block = ctx.block(with_variable.condition)
    except Unsupported:
        variable_block = None  # not encoded without the variable's value: an UNKNOWN, not the literal's block
    assert variable_block is None or not variable_block.eq(literal_block)
