"""One test per validation rule: the finding's type, issue code and location.

Each names the rule it pins (SEMANTICS §6 unless said otherwise)."""

from __future__ import annotations

import json

import pytest

from conftest import allow, policy
from iamlogic import FindingType, PolicyError, parse_policy, validate
from iamlogic.translator import aws_error_for

ERROR, WARNING = FindingType.ERROR, FindingType.WARNING


def found(doc, policy_type="identity", catalogue=False, lint=False):
    """(findingType, issueCode, JSON path) of every finding (the grammar's; the
    catalogue's and the linter's too when asked: tests/test_lint_checks.py)."""
    return [(f.finding_type, f.issue_code, f.locations[0].to_dict()["path"])
            for f in validate(doc, policy_type, catalogue=catalogue, lint=lint)]


def test_a_clean_identity_policy_has_no_findings():
    assert found(policy(allow(), allow("ec2:Describe*", "*", Sid="Describe")), catalogue=True) == []


# ---------------------------------------------------------------- document level

def test_missing_version_is_an_error_for_managed_policies():
    # CreatePolicy: "Policy document must be version 2012-10-17 or greater."
    assert found(policy(allow(), version=None)) == [(ERROR, "MISSING_VERSION", "$")]


def test_missing_version_is_a_warning_for_resource_policies():
    # Resource policies accept a document without Version; variables are then literal (§5).
    doc = policy(allow(Principal="*"), version=None)
    assert found(doc, "resource") == [(WARNING, "MISSING_VERSION", "$")]


def test_version_2008_is_obsolete():
    doc = policy(allow(Principal="*"), version="2008-10-17")
    assert found(doc, "resource") == [(WARNING, "OBSOLETE_VERSION", "$.Version")]
    assert found(policy(allow(), version="2008-10-17")) == [(ERROR, "OBSOLETE_VERSION", "$.Version")]


def test_unknown_version_string():
    assert found(policy(allow(), version="2012-10-18")) == [(ERROR, "INVALID_VERSION", "$.Version")]


def test_unknown_top_level_element_points_at_its_key():
    text = '{"Version": "2012-10-17",\n "Extra": 1,\n "Statement": []}'
    findings = validate(text)
    extra = next(f for f in findings if f.issue_code == "INVALID_POLICY_ELEMENT")
    assert (extra.span.line, extra.span.column) == (2, 2)
    assert text[extra.span.start : extra.span.end] == '"Extra"'


def test_missing_statement():
    assert found({"Version": "2012-10-17"}) == [(ERROR, "MISSING_STATEMENT", "$")]


def test_a_number_where_a_statement_belongs():
    assert found({"Version": "2012-10-17", "Statement": 7}) == [(ERROR, "DATA_TYPE_MISMATCH", "$.Statement")]


def test_document_that_is_not_an_object():
    assert found("[1, 2]") == [(ERROR, "DATA_TYPE_MISMATCH", "$")]


def test_duplicate_keys_are_reported_at_the_second_occurrence():
    text = '{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Effect": "Deny",\n"Action": "s3:*", "Resource": "*"}}'
    dup = [f for f in validate(text) if f.issue_code == "DUPLICATE_KEYS"]
    assert len(dup) == 1
    assert dup[0].span.start == text.index('"Effect": "Deny"')


def test_duplicate_keys_in_different_objects_are_fine():
    assert found(policy(allow(), allow("s3:PutObject"))) == []


def test_character_outside_latin1_is_an_error_in_iam_policies():
    doc = policy(allow(Sid="Caf\u00e9"), allow("s3:PutObject", "arn:aws:s3:::b/\u2603"))
    findings = validate(json.dumps(doc, ensure_ascii=False))
    chars = [f for f in findings if f.issue_code == "INVALID_CHARACTER"]
    assert [f.finding_type for f in chars] == [ERROR]  # é (U+00E9) is allowed, ☃ is not
    assert "U+2603" in chars[0].message


@pytest.mark.parametrize(
    "policy_type, quota, counts_whitespace",
    [("identity", 6144, False), ("session", 2048, False), ("trust", 2048, False), ("scp", 5120, True), ("rcp", 5120, True)],
)
def test_size_over_quota(policy_type, quota, counts_whitespace):
    # SEMANTICS §6 quotas; IAM does not count white space, Organizations does.
    principal = {"Principal": "*"} if policy_type in ("trust", "rcp") else {}
    resource = {} if policy_type == "trust" else {"Resource": "*"}
    action = "sts:AssumeRole" if policy_type == "trust" else "s3:GetObject"

    def doc(n):
        return json.dumps(policy({"Effect": "Deny" if policy_type == "rcp" else "Allow", "Sid": "A" * n,
                                  "Action": action, **principal, **resource}), indent=4)

    base = len(doc(0)) if counts_whitespace else len("".join(doc(0).split()))
    at_quota, over = doc(quota - base), doc(quota - base + 1)
    assert "POLICY_SIZE_EXCEEDS_QUOTA" not in [f.issue_code for f in validate(at_quota, policy_type)]
    assert "POLICY_SIZE_EXCEEDS_QUOTA" in [f.issue_code for f in validate(over, policy_type)]


def test_managed_policy_size_error_is_aws_limit_exceeded():
    doc = json.dumps(policy(allow(Sid="A" * 7000)))
    assert aws_error_for(validate(doc)).to_dict() == {
        "code": "LimitExceeded", "message": "Cannot exceed quota for PolicySize: 6144"}


# ---------------------------------------------------------------- statements

def test_principal_in_identity_policy():
    assert found(policy(allow(Principal="*"))) == [(ERROR, "UNSUPPORTED_PRINCIPAL", "$.Statement[0].Principal")]
    assert aws_error_for(validate(policy(allow(Principal="*")))).message == "Policy document should not specify a principal."


def test_principal_in_scp():
    assert found(policy(allow(Principal="*")), "scp") == [(ERROR, "SCP_SYNTAX_ERROR_PRINCIPAL", "$.Statement[0].Principal")]


def test_resource_policy_needs_a_principal():
    assert found(policy(allow()), "resource") == [(ERROR, "MISSING_PRINCIPAL", "$.Statement[0]")]


def test_trust_policy_has_no_resource():
    doc = policy({"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole",
                  "Resource": "*"})
    assert found(doc, "trust") == [(ERROR, "INVALID_POLICY_ELEMENT", "$.Statement[0].Resource")]
    assert aws_error_for(validate(doc, "trust")).message == "Has prohibited field Resource"


def test_rcp_principal_must_be_star():
    doc = policy({"Effect": "Deny", "Principal": {"AWS": "111122223333"}, "Action": "s3:*", "Resource": "*"})
    assert (ERROR, "RCP_SYNTAX_ERROR_PRINCIPAL", "$.Statement[0].Principal") in found(doc, "rcp")


def test_partial_wildcard_principal():
    doc = policy(allow(Principal={"AWS": "arn:aws:iam::*:role/admin"}))
    assert found(doc, "resource") == [(ERROR, "UNSUPPORTED_WILDCARD_IN_PRINCIPAL", "$.Statement[0].Principal.AWS")]


def test_unknown_principal_kind():
    doc = policy(allow(Principal={"Aws": "111122223333"}))
    assert found(doc, "resource") == [(ERROR, "INVALID_PRINCIPAL_KEY", "$.Statement[0].Principal.Aws")]


def test_principal_forms_that_are_valid():
    doc = policy(allow(Principal={"AWS": ["111122223333", "arn:aws:iam::111122223333:root",
                                          "arn:aws:sts::111122223333:assumed-role/r/s", "*"],
                                  "Service": "lambda.amazonaws.com", "Federated": "cognito-identity.amazonaws.com"}))
    assert found(doc, "resource") == []


def test_sid_must_be_alphanumeric_in_iam():
    doc = policy(allow(Sid="read-only"))
    assert found(doc) == [(ERROR, "UNSUPPORTED_SID", "$.Statement[0].Sid")]
    assert aws_error_for(validate(doc)).message.startswith("Statement IDs (SID) must be alpha-numeric.")


def test_sid_with_dash_is_only_a_suggestion_in_a_bucket_policy():
    doc = policy(allow(Sid="read-only", Principal="*"))
    assert found(doc, "resource") == [(FindingType.SUGGESTION, "UNSUPPORTED_SID", "$.Statement[0].Sid")]


def test_empty_sids_may_repeat():
    # Corpus valid-49: two statements with "Sid": "" are accepted by AWS.
    assert found(policy(allow(Sid=""), allow(Sid=""))) == []


def test_effect_is_case_sensitive():
    assert found(policy(allow(Effect="allow"))) == [(ERROR, "INVALID_EFFECT", "$.Statement[0].Effect")]


def test_action_and_not_action_together():
    doc = policy(allow(NotAction="s3:PutObject"))
    assert found(doc) == [(ERROR, "UNSUPPORTED_ELEMENT_COMBINATION", "$.Statement[0].NotAction")]


def test_action_without_service():
    assert found(policy(allow("GetObject"))) == [(ERROR, "INVALID_ACTION", "$.Statement[0].Action")]


def test_action_with_variable():
    assert found(policy(allow("s3:${aws:username}"))) == [
        (ERROR, "VARIABLE_UNSUPPORTED_IN_ELEMENT", "$.Statement[0].Action")]


def test_a_number_where_an_action_belongs():
    text = '{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": ["s3:GetObject", 42], "Resource": "*"}}'
    [f] = validate(text)
    assert (f.issue_code, f.locations[0].to_dict()["path"]) == ("DATA_TYPE_MISMATCH", "$.Statement.Action[1]")
    assert text[f.span.start : f.span.end] == "42"


def test_missing_resource_is_an_error_in_identity_policies_only():
    st = {"Effect": "Allow", "Action": "s3:GetObject"}
    assert found(policy(st)) == [(ERROR, "MISSING_RESOURCE", "$.Statement[0]")]
    assert found(policy({**st, "Principal": "*"}), "resource") == [(WARNING, "MISSING_RESOURCE", "$.Statement[0]")]


def test_arn_checks():
    assert found(policy(allow(resource="bucket"))) == [(ERROR, "INVALID_ARN_PREFIX", "$.Statement[0].Resource")]
    assert found(policy(allow(resource="arn:aws-xx:s3:::b"))) == [(ERROR, "INVALID_PARTITION", "$.Statement[0].Resource")]
    assert found(policy(allow(resource="arn:aws:s3*:::b"))) == [(ERROR, "INVALID_SERVICE", "$.Statement[0].Resource")]
    assert found(policy(allow(resource="arn:aws:iam::111122223333:bucket"))) == [
        (ERROR, "INVALID_ARN_RESOURCE", "$.Statement[0].Resource")]
    assert found(policy(allow(resource="arn:aws:s3::b"))) == [(ERROR, "MISSING_ARN_FIELD", "$.Statement[0].Resource")]


def test_short_arn_that_expands_past_colons_is_valid():
    # SEMANTICS §3: "arn:aws:s3:*" matches everything in S3 (a * ending a segment
    # expands past colons). IAM's recorded answers reject 5 parts, not 4.
    assert found(policy(allow(resource="arn:aws:s3:*"))) == []
    p = parse_policy(policy(allow(resource=["arn:aws:s3:*", "arn:aws:s3:::*"])))
    assert [r.arn_parts for r in p.statements[0].resource] == [("aws", "s3", "*"), ("aws", "s3", "", "")]


def test_short_arn_without_wildcard_matches_nothing():
    # Corpus valid-9: AWS accepts "arn:aws:fdsasf"; it can match no real ARN.
    assert found(policy(allow(resource="arn:aws:fdsasf"))) == [(WARNING, "MISSING_ARN_FIELD", "$.Statement[0].Resource")]


def test_variable_outside_resource_part():
    doc = policy(allow(resource="arn:aws:iam::${aws:PrincipalAccount}:user/x"))
    assert found(doc) == [(ERROR, "VARIABLE_UNSUPPORTED_IN_ELEMENT", "$.Statement[0].Resource")]


@pytest.mark.parametrize("text, code", [
    ("arn:aws:s3:::b/${aws:username", "MISSING_BRACE_IN_VARIABLE"),
    ("arn:aws:s3:::b/${}", "EMPTY_VARIABLE"),
    ("arn:aws:s3:::b/${aws: username}", "UNSUPPORTED_SPACE_IN_VARIABLE"),
    ("arn:aws:s3:::b/${aws:username, none}", "MISSING_QUOTE_IN_VARIABLE"),
    ("arn:aws:s3:::b/${aws:user#name}", "UNSUPPORTED_SYMBOL_IN_VARIABLE"),
])
def test_malformed_variables(text, code):
    # Access Analyzer's variable checks (missing brace, empty, space, quote, symbol).
    assert found(policy(allow(resource=text))) == [(ERROR, code, "$.Statement[0].Resource")]


def test_variables_under_2008_are_literal():
    # SEMANTICS §5: under 2008-10-17 the text is literal.
    doc = policy(allow(resource="arn:aws:s3:::b/${aws:username}/*", Principal="*"), version="2008-10-17")
    codes = found(doc, "resource")
    assert (WARNING, "VARIABLE_UNSUPPORTED_IN_VERSION", "$.Statement[0].Resource") in codes
    p = parse_policy(doc, "resource", blocking=())
    assert p.statements[0].resource[0].resource == ("b/${aws:username}/*",)


def test_variables_are_parsed_under_2012():
    p = parse_policy(policy(allow(resource="arn:aws:s3:::b/${aws:username}/${aws:PrincipalTag/team, 'none'}${*}")))
    from iamlogic.translator import Escape, Variable
    assert p.statements[0].resource[0].resource == (
        "b/", Variable("aws:username", None), "/", Variable("aws:PrincipalTag/team", "none"), Escape("*"))


# ---------------------------------------------------------------- conditions

def cond(block):
    return policy(allow(Condition=block))


def test_unknown_operator_is_an_error():
    assert found(cond({"StringEqualz": {"aws:username": "x"}})) == [
        (ERROR, "INVALID_CONDITION_OPERATOR", '$.Statement[0].Condition.StringEqualz')]


def test_unknown_operator_with_empty_block_is_a_warning():
    # Corpus valid-19: AWS accepts {"a": {}}.
    assert found(cond({"a": {}})) == [(WARNING, "INVALID_CONDITION_OPERATOR", "$.Statement[0].Condition.a")]


def test_null_with_if_exists():
    assert found(cond({"NullIfExists": {"aws:TokenIssueTime": "true"}})) == [
        (ERROR, "NULL_WITH_IF_EXISTS", "$.Statement[0].Condition.NullIfExists")]


@pytest.mark.parametrize("operator, value", [
    ("Bool", "yes"), ("NumericLessThan", "ten"), ("DateGreaterThan", "tomorrow"),
    ("IpAddress", "10.0.0.300/8"), ("BinaryEquals", "not base64!"), ("ArnLike", "arn:aws:s3"),
])
def test_value_that_does_not_read_as_its_operator_type(operator, value):
    # SEMANTICS §4: a value that does not parse for its operator is reported.
    assert found(cond({operator: {"aws:SomeKey": value}})) == [
        (ERROR, "INVALID_CONDITION_DATA_TYPE", f"$.Statement[0].Condition.{operator}[\"aws:SomeKey\"]")]


@pytest.mark.parametrize("operator, value", [
    ("Bool", True), ("Bool", "FALSE"), ("NumericLessThan", 10), ("NumericEquals", "-1.5"),
    ("DateGreaterThan", "2026-01-01T00:00:00Z"), ("DateLessThan", 1767225600), ("DateEquals", "2026-01-01"),
    ("IpAddress", "2001:db8::/32"), ("IpAddress", "203.0.113.7"), ("BinaryEquals", "QmluYXJ5"),
    ("ArnLike", "arn:aws:sns:*:111122223333:*"),
])
def test_values_that_read(operator, value):
    assert found(cond({operator: {"aws:SomeKey": value}})) == []


def test_condition_numbers_keep_their_text():
    # No float rounding: 1.10 stays "1.10" (MEASURED.md: the engine rounds floats).
    p = parse_policy('{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*",'
                     ' "Condition": {"NumericLessThan": {"s3:max-keys": 0.1000000000000000055511151231257827}}}}')
    value = p.statements[0].condition[0].values[0]
    assert (value.text, value.json_type) == ("0.1000000000000000055511151231257827", "number")


def test_operator_name_is_read_into_its_parts():
    p = parse_policy(cond({"ForAnyValue:StringLikeIfExists": {"aws:TagKeys": ["a*", "b"]}}))
    op = p.statements[0].condition[0].operator
    assert (op.qualifier, op.base, op.if_exists) == ("ForAnyValue", "StringLike", True)


def test_condition_value_object_is_a_type_error():
    assert found(cond({"StringEquals": {"aws:username": {"x": 1}}})) == [
        (ERROR, "DATA_TYPE_MISMATCH", '$.Statement[0].Condition.StringEquals["aws:username"]')]


def test_variable_in_numeric_operator_is_compared_as_written():
    codes = found(cond({"NumericEquals": {"aws:MultiFactorAuthAge": "${aws:username}"}}))
    assert (WARNING, "INVALID_VARIABLE_FOR_OPERATOR", '$.Statement[0].Condition.NumericEquals["aws:MultiFactorAuthAge"]') in codes


# ---------------------------------------------------------------- the API

def test_parse_policy_raises_policy_error_with_every_finding():
    with pytest.raises(PolicyError) as info:
        parse_policy(policy(allow(Effect="allow"), allow("GetObject")))
    assert [f.issue_code for f in info.value.findings] == ["INVALID_EFFECT", "INVALID_ACTION"]
    assert str(info.value).startswith("<policy>:")


def test_model_keeps_paths_and_spans():
    text = json.dumps(policy(allow(), allow(["s3:PutObject", "S3:DeleteObject"], "*")), indent=2)
    p = parse_policy(text)
    action = p.statements[1].action[1]
    assert (action.json_path, action.service, action.name) == ("$.Statement[1].Action[1]", "s3", "DeleteObject")
    assert text[action.span.start : action.span.end] == '"S3:DeleteObject"'
    assert text.splitlines()[action.span.line - 1].strip() == '"S3:DeleteObject"'


# ---------------------------------------------------------------- the service catalogue

def test_catalogue_action_checks():
    # Access Analyzer: "Invalid action" / "Invalid service in action". IAM
    # itself accepts them (corpus valid-6, -27; AWS's own managed policies name
    # the retired codestar: and evidently: services), so they never block:
    # WARNINGs, no AWS error.
    doc = policy(allow(["s3:GetObjekt", "s3:Get*", "s3:Zap*", "nosuchservice:Get", "S3:getobject"], "*"))
    assert found(doc, catalogue=True) == [
        (WARNING, "INVALID_ACTION", "$.Statement[0].Action[0]"),
        (WARNING, "INVALID_ACTION", "$.Statement[0].Action[2]"),
        (WARNING, "INVALID_SERVICE_IN_ACTION", "$.Statement[0].Action[3]"),
    ]
    assert aws_error_for(validate(doc)) is None


def test_catalogue_condition_key_checks():
    doc = cond({"StringEquals": {"aws:SourceIPAddress": "x", "s3:nope": "x", "s3:prefix": "home/",
                                 "aws:ResourceTag/team": "red", "token.actions.githubusercontent.com:sub": "repo:a/b"}})
    assert found(doc, catalogue=True) == [
        (WARNING, "INVALID_GLOBAL_CONDITION_KEY", '$.Statement[0].Condition.StringEquals["aws:SourceIPAddress"]'),
        (WARNING, "INVALID_SERVICE_CONDITION_KEY", '$.Statement[0].Condition.StringEquals["s3:nope"]'),
    ]


def test_catalogue_template_keys_match_any_tag_key():
    # The catalogue writes some keys as a template with <key>
    # (s3:ExistingObjectTag/<key>, s3:RequestObjectTag/<key>): the segment is
    # any tag key, as ${TagKey} is elsewhere. AWS managed policies use them
    # (AWSCodeDeployRoleForLambda: s3:ExistingObjectTag/UseWithCodeDeploy).
    doc = cond({"StringEquals": {"s3:ExistingObjectTag/UseWithCodeDeploy": "true",
                                 "s3:RequestObjectTag/team": "red"}})
    assert found(doc, catalogue=True) == []
    assert found(cond({"StringEquals": {"s3:ExistingObjectTag": "x"}}), catalogue=True) == [
        (WARNING, "INVALID_SERVICE_CONDITION_KEY", '$.Statement[0].Condition.StringEquals["s3:ExistingObjectTag"]')]


def test_catalogue_type_checks():
    doc = cond({"StringEquals": {"aws:SourceIp": "203.0.113.7", "aws:TagKeys": "team"},
                "ForAllValues:StringEquals": {"aws:PrincipalTag/team": "red"},
                "ForAnyValue:StringLike": {"aws:TagKeys": "t*"},
                "ArnLike": {"aws:SourceArn": "arn:aws:sns:*:111122223333:*"},
                "StringLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/x"}})
    assert found(doc, catalogue=True) == [
        (WARNING, "TYPE_MISMATCH", '$.Statement[0].Condition.StringEquals["aws:SourceIp"]'),
        (WARNING, "MISSING_QUALIFIER", '$.Statement[0].Condition.StringEquals["aws:TagKeys"]'),
        (FindingType.SECURITY_WARNING, "FORALLVALUES_WITH_SINGLE_VALUED_KEY",
         '$.Statement[0].Condition["ForAllValues:StringEquals"]["aws:PrincipalTag/team"]'),
    ]


def test_catalogue_checks_can_be_turned_off():
    assert found(policy(allow("s3:GetObjekt"))) == []
    assert found(policy(allow("s3:GetObjekt")), catalogue=True) != []


def test_unknown_actions_still_parse_and_evaluate():
    # parse_policy is the grammar's: the kernel can still evaluate the policy.
    p = parse_policy(policy(allow("fsx:ListBucket", "*")))
    assert p.statements[0].action[0].name == "ListBucket"


# ---------------------------------------------------------------- documents IAM stores (issue 12)
#
# Whatever IAM stores, the kernel decides: such a document gets findings, but
# none that blocks and no AWS error.

def _blocking(doc, policy_type="identity"):
    findings = validate(doc, policy_type)
    return [(f.issue_code, f.message) for f in findings if f.finding_type is ERROR or f.aws_error is not None]


def _decide(statements, action, resource="*", account="111122223333"):
    from iamlogic import compile
    engine = compile({"identity": [json.dumps(policy(*statements)).encode()]})
    return engine.decide({"principal": f"arn:aws:iam::{account}:user/u", "action": action,
                          "resource": resource}).decision


@pytest.mark.parametrize("text", ["iam: asdf safdsf af ", "s3:GetObject,PutObject", "s3:", "s3:Get Object*",
                                  "s3:Get${aws.username}"])
def test_action_entries_naming_no_action_are_stored(text):
    # Recorded: CreatePolicy accepted "Action": "iam: asdf safdsf af "
    # (localstack tests/aws/services/iam/test_iam_policies.py, valid-1); after
    # its one colon IAM keeps any text (SEMANTICS §7).
    doc = policy(allow(text, "*"))
    assert _blocking(doc) == []
    assert [f.finding_type for f in validate(doc)] == [WARNING]
    [pattern] = parse_policy(doc).statements[0].action
    assert (pattern.text, pattern.names_action) == (text, False)
    assert pattern.service == text.split(":")[0].lower()  # never None: None is "*"


def test_a_deny_of_an_action_naming_nothing_denies_nothing():
    # "s3:GetObject,PutObject" is one entry, not two actions (SEMANTICS §7).
    statements = (allow("s3:*", "*"), {"Effect": "Deny", "Action": "s3:GetObject,PutObject", "Resource": "*"})
    assert _decide(statements, "s3:GetObject") == "allow"
    assert _decide(statements, "s3:PutObject") == "allow"


def test_not_action_of_an_action_naming_nothing_covers_every_action():
    statements = ({"Effect": "Allow", "NotAction": ["iam: asdf safdsf af ", "s3:"], "Resource": "*"},)
    assert _decide(statements, "iam:CreateUser") == "allow"
    assert _decide(statements, "s3:GetObject") == "allow"


def test_an_allow_of_actions_naming_nothing_allows_nothing():
    statements = (allow(["iam: asdf safdsf af ", "s3:", "s3:*,", "iam:ChangePaßword"], "*"),)
    assert _decide(statements, "s3:GetObject") == "implicit_deny"
    assert _decide(statements, "iam:ChangePassword") == "implicit_deny"  # ß is no "ss"


def test_the_proofs_read_actions_naming_nothing_as_the_kernel_does():
    # Read as a case-folded glob, "ChangePaßword" would be "changepassword".
    from iamlogic.proofs.questions import check_access_not_granted, equivalent
    odd = policy(allow(["iam:ChangePaßword", "s3:GetObject,PutObject"], "*"))
    nothing = policy(allow("iam: asdf safdsf af ", "*"))
    assert equivalent(json.dumps(odd), json.dumps(nothing), typed=False).result == "PASS"
    assert check_access_not_granted(json.dumps(odd), actions=["iam:ChangePassword"], typed=False).result == "PASS"


def test_a_vendor_that_is_no_name_is_still_refused():
    # Recorded (corpus invalid-13): "a a:ListBucket" → "Vendor a a is not valid".
    assert aws_error_for(validate(policy(allow("a a:ListBucket")))).message == "Vendor a a is not valid"
    assert aws_error_for(validate(policy(allow("s3:${aws:username}")))).message == \
        "Actions/Condition can contain only one colon."


@pytest.mark.parametrize("resource", ["arn:*:iam::*:role/aws-service-role/x", "arn:aws*:s3:::b", "arn:aws-?n:s3:::b"])
def test_wildcard_partitions_that_match_a_partition_are_stored(resource):
    # 45 AWS managed policies write arn:*: (AWSSSMForSAPServiceLinkedRolePolicy,
    # FSxDeleteServiceLinkedRoleAccess, ...), and AWS stores them.
    assert _blocking(policy(allow(resource=resource))) == []


def test_the_kernel_decides_a_wildcard_partition():
    statements = (allow("iam:GetRole", "arn:*:iam::*:role/ops"),)
    assert _decide(statements, "iam:GetRole", "arn:aws:iam::111122223333:role/ops") == "allow"
    assert _decide(statements, "iam:GetRole", "arn:aws-cn:iam::111122223333:role/ops") == "allow"
    assert _decide(statements, "iam:GetRole", "arn:aws:iam::111122223333:role/dev") == "implicit_deny"


def test_a_partition_pattern_matching_no_partition_is_refused():
    # Recorded (corpus invalid-25): arn:error:s3::: → Partition "error" is not valid.
    assert aws_error_for(validate(policy(allow(resource="arn:x*:s3:::b")))).message == \
        'Partition "x*" is not valid for resource "arn:x*:s3:::b".'


def test_aws_managed_policies_are_not_held_to_the_size_quota():
    # SEMANTICS §7; the managed-policy corpus holds 47 documents over 6,144.
    big = policy(*[allow(f"s3:GetObject{i}", f"arn:aws:s3:::bucket-{i:04}/*") for i in range(120)])
    assert "POLICY_SIZE_EXCEEDS_QUOTA" in [f.issue_code for f in validate(big, "identity")]
    assert _blocking(big, "aws_managed") == []
    from iamlogic.translator import read_policy
    model, findings = read_policy(json.dumps(big), aws_managed=True)
    assert findings == [] and model.policy_type == "identity"
    assert parse_policy(big, "aws_managed").policy_type == "identity"


# ---------------------------------------------------------------- IAM's acceptance rules, recorded answers
#
# Each rule below is read off recorded CreatePolicy answers beyond the corpus
# file (localstack tests/aws/services/iam/test_iam_policies.snapshot.json,
# recorded February 2026; boto/boto3#1154), pinned with documents of our own.

def test_an_empty_statement_list_is_refused():
    # Recorded: {"Version": "2012-10-17", "Statement": []} → "Syntax errors in policy."
    doc = {"Version": "2012-10-17", "Statement": []}
    assert found(doc) == [(ERROR, "EMPTY_STATEMENT", "$.Statement")]
    assert aws_error_for(validate(doc)).message == "Syntax errors in policy."
    assert found(doc, "resource") == [(WARNING, "EMPTY_STATEMENT", "$.Statement"),]


@pytest.mark.parametrize("effect, message", [
    ("allow", "The policy failed legacy parsing"), ("DENY", "The policy failed legacy parsing"),
    ("Permit", "Syntax errors in policy."), ("", "Syntax errors in policy."),
])
def test_an_effect_is_a_legacy_error_only_when_it_differs_in_case(effect, message):
    # Recorded: "denY", "allow", "aLLow" → legacy parsing (corpus invalid-63,
    # -69, -70); "invalid" → "Syntax errors in policy."
    assert aws_error_for(validate(policy(allow(Effect=effect)))).message == message


@pytest.mark.parametrize("resource, message", [
    ("arn:aws:s3:eu-west-1::reports", "Resource arn:aws:s3:eu-west-1::reports can not contain region information."),
    ("arn:aws:s3:us-west-2:111122223333:reports/2026/*",
     "Resource arn:aws:s3:us-west-2:111122223333:reports/2026/* can not contain region information."),
    ("arn:aws:iam:eu-west-1::role/x", "IAM resource arn:aws:iam:eu-west-1::role/x cannot contain region information."),
    # The region is refused before the path is read (recorded: iam:us-east-1 with
    # the path "example_bucket" gets the region message).
    ("arn:aws:iam:eu-west-1::reports", "IAM resource arn:aws:iam:eu-west-1::reports cannot contain region information."),
    ("arn:aws:route53:eu-west-1::hostedzone/Z1",
     "Resource arn:aws:route53:eu-west-1::hostedzone/Z1 can not contain region information."),
    ("arn:aws:route53::111122223333:hostedzone/Z1",
     "Resource arn:aws:route53::111122223333:hostedzone/Z1 cannot contain an account id."),
])
def test_regions_in_global_service_arns_are_refused(resource, message):
    doc = policy(allow(resource=resource))
    assert aws_error_for(validate(doc)).message == message
    without = resource.replace(":eu-west-1:", "::").replace(":us-west-2:", "::").replace("53::111122223333:", "53:::")
    if not without.endswith("::reports") or "s3" in without:
        assert _blocking(policy(allow(resource=without))) == []


@pytest.mark.parametrize("resource", [
    "arn:aws:s3:us-west-2:111122223333:accesspoint/reports",           # recorded valid-50
    "arn:aws:s3:us-west-2:111122223333:accesspoint/reports/object/*",
    "arn:aws:s3:*:*:access-grants/default",                              # AWS managed policies
    "arn:aws:s3:us-east-1:111122223333:job/42", "arn:aws:s3:us-east-1:111122223333:storage-lens/x",
    "arn:aws:ec2:us-east-1::volume/v",                                   # recorded valid-13
    "arn:aws:invalid-service:us-east-1::b",                              # recorded valid-15
])
def test_regions_where_iam_stores_them(resource):
    assert _blocking(policy(allow(resource=resource))) == []


@pytest.mark.parametrize("value", ["01T", "2016", "2016-03", "2016-123", "2016-W05-3", "T10:00Z",
                                   "2016-12-13T10:30,5Z", "2016-12-13T10:30:00+0530", "-292275054", "+1700000000"])
def test_dates_iam_legacy_parser_reads_are_stored(value):
    # Recorded: "01T" and the epoch "-292275054" are accepted (IAM's legacy
    # parser: 64-bit epoch seconds or Joda-Time's ISO dateTimeParser,
    # translator/dates.py). The ones this tool cannot read are warnings.
    doc = cond({"DateGreaterThan": {"aws:CurrentTime": value}})
    assert _blocking(doc) == []


@pytest.mark.parametrize("value", ["234-13", "9223372036854775808", "2015-02-29", "2016-12-13T24:00:00Z",
                                   "2016-12-13T10:00:00+1", "2016-12-13T10:00:00.1234567890Z", "2016-W54",
                                   "next monday", ""])
def test_dates_iam_legacy_parser_refuses(value):
    # Recorded: "234-13" (month 13) and "9223372036854775808" (past a 64-bit
    # epoch) → "The policy failed legacy parsing", as "sdfdsf", a one-digit
    # zone hour and ten fraction digits (corpus invalid-64, -73, -74).
    doc = cond({"DateGreaterThan": {"aws:CurrentTime": value}})
    assert aws_error_for(validate(doc)).message == "The policy failed legacy parsing"
