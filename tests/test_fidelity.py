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


def _decide(statements, request):
    engine = iamlogic.compile({"identity": [{"Version": "2012-10-17", "Statement": statements}]})
    return engine.decide({"principal": "arn:aws:iam::111111111111:user/alice", "resource_account": "111111111111",
                          **request})


ALLOW_ALL = {"Sid": "All", "Effect": "Allow", "Action": "*", "Resource": "*"}


def test_a_deny_missing_only_by_the_case_of_its_service_is_warned_about():
    # README readings: ARNs are read case-sensitively (no real ARN has upper
    # case in its partition, service or region); the documentation does not
    # say how AWS compares those segments, so a Deny that would apply if AWS
    # folded them carries a warning naming it.
    deny = {"Sid": "Upper", "Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:S3:::b/*"}
    decision = _decide([ALLOW_ALL, deny], {"action": "s3:GetObject", "resource": "arn:aws:s3:::b/k"})
    assert decision.decision == "allow"
    assert [w.statement.sid for w in decision.warnings] == ["Upper"]
    # Another bucket: folding would not match either, so nothing to say.
    other = _decide([ALLOW_ALL, deny], {"action": "s3:GetObject", "resource": "arn:aws:s3:::c/k"})
    assert other.decision == "allow" and other.warnings == ()


def test_several_values_under_an_operator_without_a_set_qualifier_are_warned_about():
    # README readings: the documentation gives no semantics to a multi-valued
    # request key under a plain operator; the clause is not met, and said.
    deny = {"Sid": "NoOwner", "Effect": "Deny", "Action": "*", "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:TagKeys": "owner"}}}
    decision = _decide([ALLOW_ALL, deny], {"action": "s3:PutObject", "resource": "arn:aws:s3:::b/k",
                                           "context": {"aws:TagKeys": ["owner", "cost"]}})
    assert decision.decision == "allow"
    assert any("2 values" in w.message for w in decision.warnings)
    single = _decide([ALLOW_ALL, deny], {"action": "s3:PutObject", "resource": "arn:aws:s3:::b/k",
                                         "context": {"aws:TagKeys": ["cost"]}})
    assert single.decision == "explicit_deny"


def test_an_empty_condition_value_list_is_read_as_matching_none_and_warned_about():
    # README readings: IAM stores "StringNotEquals": {"k": []}; no document
    # says what it means. Read as no value matching, with a warning.
    allow = {"Sid": "Empty", "Effect": "Allow", "Action": "*", "Resource": "*",
             "Condition": {"StringNotEquals": {"aws:PrincipalTag/team": []}}}
    decision = _decide([allow], {"action": "s3:GetObject", "resource": "arn:aws:s3:::b/k",
                                 "context": {"aws:PrincipalTag/team": "red"}})
    assert decision.decision == "allow"
    assert any("has no values" in w.message for w in decision.warnings)


def test_action_names_fold_ascii_case_only():
    # SEMANTICS §3: action names are case-insensitive; they are ASCII, so
    # Unicode folding (U+017F LATIN SMALL LETTER LONG S folds to "s") must
    # not let "s3:Liſt*" allow s3:ListBucket.
    engine = iamlogic.compile({"identity": [{"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:Li\u017ft*", "Resource": "*"},
        {"Effect": "Allow", "Action": "S3:getOBJECT", "Resource": "*"}]}]})
    request = {"principal": "arn:aws:iam::111111111111:user/alice", "resource": "*"}
    assert engine.decide({**request, "action": "s3:ListBucket"}).decision == "implicit_deny"
    assert engine.decide({**request, "action": "s3:GetObject"}).decision == "allow"


def test_context_keys_differing_only_in_case_are_refused():
    # SEMANTICS §4: key names are compared without case; tags are
    # case-sensitive, so {"aws:ResourceTag/Env", "aws:ResourceTag/env"} cannot
    # both be read — one would silently win and a Deny could be lost.
    import pytest
    from iamlogic.errors import ScenarioError
    engine = iamlogic.compile({"identity": [{"Version": "2012-10-17", "Statement": [ALLOW_ALL]}]})
    with pytest.raises(ScenarioError, match="only in case"):
        engine.decide({"principal": "arn:aws:iam::111111111111:role/r", "action": "s3:GetObject",
                       "resource": "arn:aws:s3:::b/k", "resource_account": "111111111111",
                       "context": {"aws:ResourceTag/Env": "prod", "aws:ResourceTag/env": "dev"}})


def test_an_allow_notresource_with_an_unresolved_variable_is_warned_about():
    # SEMANTICS §5/§7: the entry matches nothing, so NotResource excludes
    # nothing; the User Guide also says an unresolved variable "might cause the
    # entire statement to be invalid" — the decision says so.
    allow = {"Sid": "NotSecret", "Effect": "Allow", "Action": "*",
             "NotResource": "arn:aws:s3:::secret/${aws:PrincipalTag/team}/*"}
    decision = _decide([allow], {"action": "s3:GetObject", "resource": "arn:aws:s3:::secret/finance/x"})
    assert decision.decision == "allow"
    assert [w.statement.sid for w in decision.warnings] == ["NotSecret"]
    tagged = _decide([allow], {"action": "s3:GetObject", "resource": "arn:aws:s3:::secret/finance/x",
                               "context": {"aws:PrincipalTag/team": "finance"}})
    assert tagged.decision == "implicit_deny" and tagged.warnings == ()


def test_a_bool_value_with_a_variable_is_substituted_and_warned_about():
    # docs/readings.md row 14: substituted (the Boolean operators' page), and
    # said, since the policy-variables page names only String and ARN.
    allow = {"Sid": "SameTls", "Effect": "Allow", "Action": "*", "Resource": "*",
             "Condition": {"Bool": {"aws:SecureTransport": "${aws:PrincipalTag/tls}"}}}
    decision = _decide([allow], {"action": "s3:GetObject", "resource": "arn:aws:s3:::b/k",
                                 "context": {"aws:SecureTransport": "true", "aws:PrincipalTag/tls": "true"}})
    assert decision.decision == "allow"
    assert any("substituted" in w.message for w in decision.warnings)


def test_ignore_case_compares_one_character_with_one():
    # docs/readings.md (StringEqualsIgnoreCase): "exact matching, ignoring
    # case" (User Guide, condition operators), character by character under
    # Unicode simple case folding, as Java's equalsIgnoreCase and Go's
    # strings.EqualFold compare: a character never equals two.
    def decision(policy_value, request_value):
        st = {"Effect": "Allow", "Action": "*", "Resource": "*",
              "Condition": {"StringEqualsIgnoreCase": {"aws:PrincipalTag/team": policy_value}}}
        return _decide([st], {"action": "s3:GetObject", "resource": "arn:aws:s3:::b/k",
                              "context": {"aws:PrincipalTag/team": request_value}}).decision
    for policy_value, request_value in [("ﬁn", "fin"), ("straße", "STRASSE"), ("straße", "strasse"), ("İ", "i"),
                                        ("ı", "I")]:
        assert decision(policy_value, request_value) == "implicit_deny", (policy_value, request_value)
    for policy_value, request_value in [("STRAẞE", "straße"), ("ΣΊΣΥΦΟΣ", "σίσυφος"), ("ς", "Σ"), ("\u212a", "k"),
                                        ("𐐀", "𐐨"), ("ǅ", "ǆ"), ("Red", "RED")]:
        assert decision(policy_value, request_value) == "allow", (policy_value, request_value)


def test_ignore_case_warns_where_a_java_style_reading_decides_otherwise():
    # docs/readings.md row 27: where Java's equalsIgnoreCase (UTF-16 unit by
    # unit, through upper then lower case) would decide otherwise — the
    # dotless ı and İ equal i there, a character past U+FFFF equals only
    # itself — the decision says so: a Deny it would apply is not silently lost.
    def decide(effect, policy_value, request_value):
        statements = [{"Effect": effect, "Action": "*", "Resource": "*",
                       "Condition": {"StringEqualsIgnoreCase": {"aws:PrincipalTag/team": policy_value}}}]
        if effect == "Deny":
            statements.append({"Effect": "Allow", "Action": "*", "Resource": "*"})
        return _decide(statements, {"action": "s3:GetObject", "resource": "arn:aws:s3:::b/k",
                                    "context": {"aws:PrincipalTag/team": request_value}})
    for effect, policy_value, request_value in [("Deny", "admin", "ADMİN"), ("Deny", "admin", "admın"),
                                                ("Allow", "𐐨", "𐐀")]:
        decision = decide(effect, policy_value, request_value)
        assert decision.decision == "allow"
        assert any("simple case folding" in w.message for w in decision.warnings), request_value
    for effect, policy_value, request_value in [("Allow", "Red", "RED"), ("Allow", "straße", "STRAẞE"),
                                                ("Allow", "σ", "ς"), ("Deny", "admin", "ADMIN")]:
        assert not any("simple case folding" in w.message for w in decide(effect, policy_value, request_value).warnings)
