"""proofs/: the value encodings mirror the kernel's readings exactly, so that
no PASS or PROVEN NEVER rests on two values the proofs confuse, and no FAIL is
lost because a witness's value is rounded on its way back to the kernel.

Each test names the rule it pins (SEMANTICS.md section, User Guide page) and
fails on an encoding that reads a value otherwise than the kernel does."""

from __future__ import annotations

import z3
from hypothesis import example, given, settings
from hypothesis import strategies as st

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


# ---------------------------------------------------------------- ARN readability


def test_an_arn_that_does_not_read_makes_a_negated_clause_false():
    # kernel/conditions.py (SEMANTICS §4): a request value that does not read
    # as an ARN makes the clause false, negated or not. The encoding must say
    # so itself, or a FAIL found there is lost when the kernel replays it.
    st = statement(policy(allow(Condition={"ArnNotLike": {"aws:SourceArn": "arn:aws:sns:*:*:topic"}})))
    ctx = C.SymbolicContext()
    clause = ctx.block(st.condition)
    solver = z3.Solver()
    solver.add(*ctx.realistic(ctx.spelling), ctx.present("aws:SourceArn"), clause,
               z3.Not(ctx.member("aws:SourceArn", C.ValueType.ARN, 0, C.ARN_SHAPE)))
    assert solver.check() == z3.unsat


# ---------------------------------------------------------------- dates and numbers


def on_time(operator, when):
    return allow(Condition={operator: {"aws:CurrentTime": when}})


def test_dates_a_microsecond_apart_are_two_dates():
    # User Guide, condition operators (Date): dates are compared as moments;
    # the kernel reads them to the microsecond (kernel/values.py). Through a
    # float, the two bounds below were one number.
    new = policy(on_time("DateLessThan", "3000-01-01T00:00:00.000001Z"))
    old = policy(on_time("DateLessThan", "3000-01-01T00:00:00Z"))
    assert equivalent(new, old).result == "FAIL"
    check = check_no_new_access(new, old)
    assert check.result == "FAIL"
    assert check.witness["context"]["aws:CurrentTime"] == "3000-01-01T00:00:00Z"
    assert replayed(check, new, old) == ("allow", "implicit_deny")


def test_a_window_shorter_than_a_microsecond_is_empty():
    # No request date lies strictly between two adjacent microseconds.
    window = {"DateGreaterThan": {"aws:CurrentTime": "2030-01-01T00:00:00.000001Z"},
              "DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00.000002Z"}}
    new, old = policy(allow(Condition=window)), policy(allow("s3:PutObject"))
    assert check_no_new_access(new, old).result == "PASS"


def test_a_witness_date_keeps_its_fraction_of_a_second():
    # The only dates allowed lie within one second: a witness truncated to
    # whole seconds is denied when the kernel replays it (a lost FAIL).
    window = {"DateGreaterThan": {"aws:CurrentTime": "2030-01-01T00:00:00.25Z"},
              "DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:01Z"}}
    new, old = policy(allow(Condition=window)), policy(allow("s3:PutObject"))
    check = check_no_new_access(new, old)
    assert check.result == "FAIL"
    assert replayed(check, new, old) == ("allow", "implicit_deny")


def test_a_witness_number_keeps_its_digits():
    # NumericGreaterThan/LessThan compare exact decimals (kernel/values.py):
    # the witness must be one the kernel reads between the two bounds.
    window = {"NumericGreaterThan": {"s3:max-keys": "0.1"}, "NumericLessThan": {"s3:max-keys": "0.1000001"}}
    new, old = policy(allow("s3:ListBucket", Condition=window)), policy(allow("s3:PutObject"))
    check = check_no_new_access(new, old)
    assert check.result == "FAIL"
    assert replayed(check, new, old) == ("allow", "implicit_deny")


def test_a_date_past_the_calendar_once_its_offset_applies_does_not_read():
    # kernel/values.py: a value that does not read is reported, not a crash.
    from iamlogic.kernel.values import parse_date
    assert parse_date("0001-01-01T00:00:00+01:00") is None
    assert parse_date("9999-12-31T23:59:59-01:00") is None
    assert parse_date("9999-12-31T23:59:59+01:00") is not None


# ---------------------------------------------------------------- addresses


def test_a_request_address_given_as_a_network_is_modelled():
    # kernel/conditions.py reads a request's aws:SourceIp given as a CIDR as
    # that network, inside a policy's network only when it lies wholly
    # within it (User Guide, condition operators: IpAddress takes CIDR
    # notation). Every address of 10.0.0.0/8 is in one of the two halves,
    # but the network 10.0.0.0/8 is in neither: the halves allow less.
    whole = policy(allow(Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}))
    halves = policy(allow(Condition={"IpAddress": {"aws:SourceIp": ["10.0.0.0/9", "10.128.0.0/9"]}}))
    check = check_no_new_access(whole, halves)
    assert check.result == "FAIL"
    assert replayed(check, whole, halves) == ("allow", "implicit_deny")
    assert check_no_new_access(halves, whole).result == "PASS"


def test_a_witness_address_is_one_address_where_one_will_do():
    new = policy(allow(Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}))
    check = check_no_new_access(new, policy(allow("s3:PutObject")))
    assert check.result == "FAIL" and "/" not in check.witness["context"]["aws:SourceIp"]


# ---------------------------------------------------------------- case


def team(operator, value):
    return allow(Condition={operator: {"aws:PrincipalTag/team": value}})


def test_a_case_variant_beyond_the_basic_plane_is_found():
    # docs/readings.md (StringEqualsIgnoreCase): "𐐀" (U+10400) folds to
    # "𐐨"; the search must try it, or an IgnoreCase Allow seems no wider
    # than the one string.
    new, old = policy(team("StringEqualsIgnoreCase", "𐐨")), policy(team("StringEquals", "𐐨"))
    check = check_no_new_access(new, old)
    assert check.result == "FAIL" and check.witness["context"]["aws:PrincipalTag/team"] == "𐐀"
    assert replayed(check, new, old) == ("allow", "implicit_deny")


def test_ignore_case_never_matches_one_character_with_two():
    # Same reading: "ﬁn" is not "fin", so the IgnoreCase Allow on "ﬁn" adds
    # nothing to one on "fin" — and neither does "straße" to "strasse".
    for wide, narrow in [("ﬁn", "fin"), ("straße", "strasse")]:
        new = policy(team("StringEqualsIgnoreCase", wide))
        old = policy(team("StringEqualsIgnoreCase", narrow))
        check = check_no_new_access(new, old)
        assert check.result == "FAIL", wide
        assert replayed(check, new, old) == ("allow", "implicit_deny")


# Characters whose case classes are here whole (so that a string built
# from them has all its case variants here too).
CASED = ["a", "A", "k", "K", "\u212a", "s", "S", "ſ", "ß", "ẞ", "σ", "ς", "Σ", "i", "I", "İ", "ı", "ﬁ", "f", "F",
         "𐐀", "𐐨", "ǅ", "ǆ", "Ǆ", "µ", "μ", "Μ", "-"]


@given(policy_value=st.text(st.sampled_from(CASED), min_size=1, max_size=4),
       request_value=st.text(st.sampled_from(CASED), min_size=1, max_size=4))
@example(policy_value="𐐨", request_value="𐐨")
@example(policy_value="ﬁ", request_value="FI")
@example(policy_value="ẞ", request_value="ß")
@settings(max_examples=40, deadline=None, derandomize=True)
def test_proofs_and_kernel_read_ignore_case_alike(policy_value, request_value):
    # The IgnoreCase reading is one definition (kernel/values.py fold_case)
    # read by the kernel and the automata: the proofs' answers agree with the
    # kernel's decisions on every string.
    folded = policy(team("StringEqualsIgnoreCase", policy_value))
    exact = policy(team("StringEquals", request_value))
    engine = iamlogic.compile({"identity": [folded]})

    def allows(value):
        return engine.decide({"principal": USER, "action": "s3:GetObject", "resource": "arn:aws:s3:::b/k",
                              "context": {"aws:PrincipalTag/team": value}}).decision == "allow"
    # Everything the exact Allow allows, the folded one does, iff the kernel
    # allows the one string through the folded one.
    inside = check_no_new_access(exact, folded)
    assert inside.result == ("PASS" if allows(request_value) else "FAIL")
    # The folded Allow adds to the exact one unless its one string is the only
    # spelling: any other the kernel allows is a FAIL, and a FAIL's witness
    # is one the kernel allows and the exact Allow does not.
    outside = check_no_new_access(folded, exact)
    if outside.result == "FAIL":
        assert replayed(outside, folded, exact) == ("allow", "implicit_deny")
    else:
        assert outside.result == "PASS"
        others = {policy_value[:i] + c + policy_value[i + 1:] for i in range(len(policy_value)) for c in CASED}
        assert not any(allows(o) for o in others - {request_value})
        assert allows(request_value)


# ---------------------------------------------------------------- escapes and substituted wildcards


def test_an_escaped_star_is_one_literal_star():
    # SEMANTICS §7, User Guide policy variables ("special characters"):
    # ${*} in StringLike is the character "*", not a wildcard.
    escaped = policy(allow("s3:ListBucket", Condition={"StringLike": {"s3:prefix": "home/${*}"}}))
    literal = policy(allow("s3:ListBucket", Condition={"StringEquals": {"s3:prefix": "home/*"}}))
    wild = policy(allow("s3:ListBucket", Condition={"StringLike": {"s3:prefix": "home/*"}}))
    assert equivalent(escaped, literal).result == "PASS"
    assert check_no_new_access(escaped, wild).result == "PASS"
    check = check_no_new_access(wild, escaped)
    assert check.result == "FAIL"
    assert replayed(check, wild, escaped) == ("allow", "implicit_deny")


def test_an_escaped_star_in_an_arn_is_one_literal_star():
    topic = "arn:aws:sns:us-east-1:111122223333:"
    escaped = policy(allow(Condition={"ArnLike": {"aws:SourceArn": topic + "${*}"}}))
    wild = policy(allow(Condition={"ArnLike": {"aws:SourceArn": topic + "*"}}))
    assert check_no_new_access(escaped, wild).result == "PASS"
    check = check_no_new_access(wild, escaped)
    assert check.result == "FAIL"
    assert replayed(check, wild, escaped) == ("allow", "implicit_deny")


def test_a_wildcard_in_a_variables_value_is_literal():
    # SEMANTICS §7: a tag value "*" substituted into StringLike matches the
    # text "*" only; the proofs decide it (it was an UNKNOWN).
    identity = policy(allow("s3:ListBucket", Condition={"StringLike": {"s3:prefix": "${aws:PrincipalTag/dept}/x"}}))
    scenario = {"policies": {"identity": [identity]},
                "request": {"principal": USER, "action": "s3:ListBucket", "resource": "arn:aws:s3:::home",
                            "context": {"aws:PrincipalTag/dept": "*"}}}
    check = can_be_allowed(scenario)
    assert check.result == "FAIL" and check.witness["context"]["s3:prefix"] == "*/x"
    assert iamlogic.simulate({"policies": scenario["policies"], "request": check.witness}).decision == "allow"
    scenario["request"]["context"]["s3:prefix"] = "a/x"
    assert can_be_allowed(scenario).result == "PASS"


def test_an_escaped_star_in_a_resource_is_one_literal_star():
    escaped = policy(allow(resource="arn:aws:s3:::home/${*}"))
    wild = policy(allow(resource="arn:aws:s3:::home/*"))
    assert check_no_new_access(escaped, wild).result == "PASS"
    check = check_no_new_access(wild, escaped)
    assert check.result == "FAIL"
    assert replayed(check, wild, escaped) == ("allow", "implicit_deny")


def test_a_wildcard_in_a_resource_variables_value_is_literal():
    identity = policy(allow(resource="arn:aws:s3:::b/${aws:PrincipalTag/dept}/*"))
    request = {"principal": USER, "action": "s3:GetObject", "context": {"aws:PrincipalTag/dept": "*"}}
    scenario = {"policies": {"identity": [identity]}, "request": {**request, "resource": "arn:aws:s3:::b/x/*"}}
    assert can_be_allowed(scenario).result == "PASS"
    scenario["request"]["resource"] = "arn:aws:s3:::b/*"
    check = can_be_allowed(scenario)
    assert check.result == "FAIL" and check.witness["resource"].startswith("arn:aws:s3:::b/*/")
    assert iamlogic.simulate({"policies": scenario["policies"], "request": check.witness}).decision == "allow"


def test_set_operator_values_are_counted_per_meaning():
    # conditions.py: a key gets one modelled value per distinct set-operator
    # clause on it. The same text with and without the Version is two clauses
    # (a variable, literal text), and needs two values.
    from iamlogic.proofs.engine import _set_elements
    st = allow(Condition={"ForAnyValue:StringEquals": {"aws:TagKeys": "${aws:username}"}})
    with_variable, literal = (iamlogic.compile({"identity": [p]}).layers[0].policies[0][1]
                              for p in (policy(st), policy(st, version=None)))
    assert _set_elements(with_variable, literal) == {"aws:tagkeys": 2}


def test_a_key_read_as_a_date_and_as_text_is_unknown_with_its_reason_not_an_internal_error():
    # Each reading of a key has its own value in the encoding (sound for
    # PASS); a witness needs one value both readings agree on. The found
    # values differed, and the replay's disagreement read as an internal error.
    new = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*",
         "Condition": {"DateGreaterThan": {"aws:SourceArn": "2020-01-03T00:00:00Z"}}},
        {"Effect": "Allow", "Action": "*", "Resource": "arn:aws:iam::*:user/?/*//b/*",
         "Condition": {"ForAllValues:StringNotLike": {"aws:SourceArn": ["/ab*a*/ba", "b??*?bb*****/"]}}}]}
    old = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:abba*bb", "Resource": "*"}]}
    check = check_no_new_access(new, old)
    assert check.result in ("FAIL", "UNKNOWN")
    assert "internal error" not in (check.note or "")
    if check.result == "UNKNOWN":
        assert "aws:sourcearn is compared as" in check.note.lower()
