"""The linter's checks (translator/lint_checks.py): Access Analyzer's
security warnings, general warnings and suggestions that the document
decides, each pinned to the IAM User Guide's "IAM policy validation check
reference" (its issue code, finding type and findingDetails wording), and
iamlogic's own few. None blocks: IAM stores all of these documents."""

from __future__ import annotations

import json

import pytest

from conftest import allow, cli, policy
from iamlogic import validate
from iamlogic.access_analyzer_codes import CODES
from iamlogic.translator import FindingType

SW, W, S = FindingType.SECURITY_WARNING, FindingType.WARNING, FindingType.SUGGESTION
ROLE = "arn:aws:iam::111122223333:role/app"


def lint(doc, policy_type="identity"):
    """(type, code, path) of the linter's findings: the grammar's and the catalogue's left out."""
    grammar = {(f.issue_code, f.locations[0].to_dict()["path"])
               for f in validate(doc, policy_type, catalogue=False, lint=False)}
    return [(f.finding_type, f.issue_code, f.locations[0].to_dict()["path"])
            for f in validate(doc, policy_type, catalogue=False)
            if (f.issue_code, f.locations[0].to_dict()["path"]) not in grammar]


@pytest.mark.parametrize("statement, expected", [
    # "Security Warning – Pass role with star in resource" and its five relatives.
    (allow("iam:PassRole", "*"), (SW, "PASS_ROLE_WITH_STAR_IN_RESOURCE", "$.Statement[0].Resource")),
    (allow(["s3:GetObject", "iam:passrole"], ["arn:aws:iam::111122223333:role/*"]),
     (SW, "PASS_ROLE_WITH_STAR_IN_RESOURCE", "$.Statement[0].Resource[0]")),
    (allow("iam:*", "*"), (SW, "PASS_ROLE_WITH_STAR_IN_ACTION_AND_RESOURCE", "$.Statement[0].Resource")),
    ({"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"},
     (SW, "PASS_ROLE_WITH_STAR_IN_RESOURCE_AND_NOT_ACTION", "$.Statement[0].Resource")),
    ({"Effect": "Allow", "Action": "iam:PassRole", "NotResource": ROLE},
     (SW, "PASS_ROLE_WITH_NOT_RESOURCE", "$.Statement[0].NotResource")),
    ({"Effect": "Allow", "Action": "iam:Pass*", "NotResource": ROLE},
     (SW, "PASS_ROLE_WITH_STAR_IN_ACTION_AND_NOT_RESOURCE", "$.Statement[0].NotResource")),
    ({"Effect": "Allow", "NotAction": "s3:*", "NotResource": ROLE},
     (SW, "PASS_ROLE_WITH_NOT_ACTION_AND_NOT_RESOURCE", "$.Statement[0].NotResource")),
    # "General Warning – Create SLR with star in resource" (and in action).
    (allow("iam:CreateServiceLinkedRole", "*"), (W, "CREATE_SLR_WITH_STAR_IN_RESOURCE", "$.Statement[0].Resource")),
    (allow("iam:Create*", "*"), (W, "CREATE_SLR_WITH_STAR_IN_ACTION_AND_RESOURCE", "$.Statement[0].Resource")),
    # Suggestions.
    (allow(["s3:GetObject", "s3:getobject"]), (S, "REDUNDANT_ACTION", "$.Statement[0].Action[1]")),
    (allow(["s3:GetObject", "s3:Get*"]), (S, "REDUNDANT_ACTION", "$.Statement[0].Action[0]")),
    (allow("s3:GetObject", ["arn:aws:s3:::b/*", "arn:aws:s3:::b/key"]),
     (S, "REDUNDANT_RESOURCE", "$.Statement[0].Resource[1]")),
    (allow(Sid=""), (S, "EMPTY_SID_VALUE", "$.Statement[0].Sid")),
    (allow(Condition={}), (S, "EMPTY_OBJECT_CONDITION", "$.Statement[0].Condition")),
    (allow(Condition={"ForAllValues:Null": {"aws:TagKeys": "true"}}),
     (S, "NULL_WITH_QUALIFIER", '$.Statement[0].Condition["ForAllValues:Null"]["aws:TagKeys"]')),
    (allow(Condition={"StringEquals": {"aws:PrincipalTag/team": "dev*"}}),
     (W, "WILDCARD_WITHOUT_LIKE_OPERATOR", '$.Statement[0].Condition.StringEquals["aws:PrincipalTag/team"]')),
    (allow(Condition={"ArnEquals": {"aws:ARN": "arn:aws:iam::111122223333:user/a"}}),
     (W, "DEPRECATED_GLOBAL_CONDITION_KEY", '$.Statement[0].Condition.ArnEquals["aws:ARN"]')),
    (allow(Condition={"IpAddress": {"aws:SourceIp": "203.0.113.7/24"}}),
     (S, "IMPROVE_IP_RANGE", '$.Statement[0].Condition.IpAddress["aws:SourceIp"]')),
    (allow(Condition={"IpAddress": {"aws:SourceIp": ["10.1.0.0/16", "192.168.0.0/24"]}}),
     (W, "PRIVATE_IP_ADDRESS", '$.Statement[0].Condition.IpAddress["aws:SourceIp"]')),
    (allow(Condition={"IpAddress": {"aws:SourceIp": ["10.1.0.0/16", "203.0.113.0/24"]}}),
     (S, "PRIVATE_IP_ADDRESS_SUBSET", '$.Statement[0].Condition.IpAddress["aws:SourceIp"]')),
    (allow(Condition={"NotIpAddress": {"aws:SourceIp": "172.16.0.0/12"}}),
     (W, "PRIVATE_NOT_IP_ADDRESS", '$.Statement[0].Condition.NotIpAddress["aws:SourceIp"]')),
    (allow(Condition={"NumericLessThan": {"s3:max-keys": [5, 10]}}),
     (S, "REDUNDANT_CONDITION_VALUE_NUM", '$.Statement[0].Condition.NumericLessThan["s3:max-keys"]')),
    (allow("s3:GetObject", "arn:aws:S3:::b/*"), (W, "INVALID_ARN_SERVICE_CASE", "$.Statement[0].Resource")),
    (allow(Condition={"StringEquals": {"username": "alice"}}),
     (W, "INVALID_CONDITION_KEY_FORMAT", "$.Statement[0].Condition.StringEquals.username")),
    # iamlogic's own.
    ({"Effect": "Allow", "NotAction": "iam:*", "Resource": "arn:aws:s3:::b/*"},
     (W, "ALLOW_WITH_NOT_ACTION", "$.Statement[0].NotAction")),
    (allow("kms:*", "*"), (W, "OVERLY_PERMISSIVE_WILDCARD", "$.Statement[0].Action")),
    (allow("*", "*"), (W, "OVERLY_PERMISSIVE_WILDCARD", "$.Statement[0].Action")),
    (allow("iam:PassRole", "arn:aws:iam::*:*"), (SW, "PASS_ROLE_WITH_STAR_IN_RESOURCE", "$.Statement[0].Resource")),
])
def test_each_check(statement, expected):
    assert expected in lint(policy(statement))


def test_the_messages_are_access_analyzers():
    # findingDetails, verbatim from the check reference.
    [f] = [f for f in validate(policy(allow("iam:PassRole", "*"))) if f.issue_code.startswith("PASS_ROLE")]
    assert f.message == ("Using the iam:PassRole action with wildcards (*) in the resource can be overly permissive "
                         "because it allows iam:PassRole permissions on multiple resources. We recommend that you "
                         "specify resource ARNs or add the iam:PassedToService condition key to your statement.")
    [f] = [f for f in validate(policy(allow(["s3:GetObject", "s3:GetObject"])))]
    assert f.message == ("The 1 action(s) are redundant because they provide similar permissions. Update the policy "
                         "to remove the redundant action such as: s3:GetObject.")


@pytest.mark.parametrize("statement", [
    allow("iam:PassRole", ROLE),  # a named role
    allow("iam:PassRole", "*", Condition={"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}),
    allow("iam:PassRole", "arn:aws:s3:::b/*"),  # no role can be named by an S3 ARN
    {"Effect": "Deny", "Action": "iam:PassRole", "Resource": "*"},  # a Deny grants nothing
    {"Effect": "Allow", "NotAction": "iam:*", "Resource": "arn:aws:s3:::b/*"},  # NotAction excludes PassRole
    allow(["s3:GetObject", "s3:PutObject"]),
    allow("iam:PassRole", "arn:aws:iam::111122223333:role/service-role/*"),  # the service roles only
    allow("s3:GetObject", Condition={"IpAddress": {"aws:SourceIp": "2001:DB8::/32"}}),  # no host bits, any case
    allow(["s3:Get*", "s3:G*"]),  # two wildcards: inclusion not decided, nothing said
    allow("s3:GetObject", ["arn:aws:s3:::b/a", "arn:aws:s3:::b/b"]),
    allow("s3:*", "*", Condition={"Bool": {"aws:SecureTransport": "true"}}),  # a condition narrows it
])
def test_no_finding_where_none_is_due(statement):
    assert [code for _, code, _ in lint(policy(statement)) if code != "ALLOW_WITH_NOT_ACTION"] == []


def test_not_principal_and_empty_principal_in_resource_policies():
    doc = policy({"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "s3:*",
                  "Resource": "arn:aws:s3:::b/*"}, {"Effect": "Allow", "Principal": {}, "Action": "s3:GetObject",
                                                    "Resource": "arn:aws:s3:::b/*"},
                 {"Effect": "Allow", "Principal": {"AWS": []}, "Action": "s3:PutObject", "Resource": "arn:aws:s3:::b/*"})
    assert lint(doc, "resource") == [(SW, "ALLOW_WITH_NOT_PRINCIPAL", "$.Statement[0].NotPrincipal"),
                                     (S, "EMPTY_OBJECT_PRINCIPAL", "$.Statement[1].Principal"),
                                     (S, "EMPTY_ARRAY_PRINCIPAL", "$.Statement[2].Principal")]


def test_principals_without_a_source():
    github = {"Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity", "Principal": {
        "Federated": "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"},
        "Condition": {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}}}
    assert lint(policy(github), "trust") == [(SW, "MISSING_GITHUB_REPO_CONDITION_KEY",
                                              "$.Statement[0].Principal.Federated")]
    github["Condition"]["StringLike"] = {"token.actions.githubusercontent.com:sub": "repo:octo/app:*"}
    assert lint(policy(github), "trust") == []
    queue = {"Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage",
             "Resource": "arn:aws:sqs:us-east-1:111122223333:q"}
    assert lint(policy(queue), "resource") == [(SW, "RESTRICT_ACCESS_TO_SERVICE_PRINCIPAL",
                                                "$.Statement[0].Principal.Service")]
    queue["Condition"] = {"ArnEquals": {"aws:SourceArn": "arn:aws:sns:us-east-1:111122223333:t"}}
    assert lint(policy(queue), "resource") == []


def test_arn_equals_reads_wildcards():
    # ArnEquals matches as ArnLike does (IAM User Guide, ARN condition operators): no warning.
    assert lint(policy(allow(Condition={"ArnEquals": {"aws:SourceArn": "arn:aws:sns:*:111122223333:t"}}))) == []


def test_redundant_statement_is_the_later_of_two_identical():
    doc = policy(allow(Sid="A"), allow("S3:GETOBJECT", Sid="B"), allow("s3:PutObject", Sid="C"))
    assert lint(doc) == [(S, "REDUNDANT_STATEMENT", "$.Statement[1]")]


def test_a_statement_of_thousands_of_actions_is_linted_fast():
    import time

    actions = [f"s3:Get{i}" for i in range(5000)] + ["s3:Get*"]
    start = time.perf_counter()
    found = lint(policy(allow(actions)))
    assert (S, "REDUNDANT_ACTION", "$.Statement[0].Action[0]") in found
    assert time.perf_counter() - start < 5  # one pass per wildcard entry, not 25 million comparisons


def test_lint_findings_never_block(tmp_path, capsys):
    # AWS's own managed policies pass iam:PassRole on "*": a warning, exit 0 unless asked to block on it.
    path = tmp_path / "p.json"
    path.write_text(json.dumps(policy(allow(["iam:PassRole", "s3:GetObject", "s3:GetObject"], "*"))))
    code, out, _ = cli(capsys, "validate", path)
    assert code == 0 and "PASS_ROLE_WITH_STAR_IN_RESOURCE" in out and "REDUNDANT_ACTION" in out
    code, _, _ = cli(capsys, "validate", path, "--treat-as-blocking", "ERROR,SECURITY_WARNING")
    assert code == 2


def test_the_codes_are_access_analyzers_where_it_has_one():
    # An Access Analyzer code the linter emits has the finding type Access Analyzer gives it —
    # but for those Access Analyzer calls ERROR and IAM stores, which are WARNINGs here.
    for doc, code in [(policy(allow("iam:PassRole", "*")), "PASS_ROLE_WITH_STAR_IN_RESOURCE"),
                      (policy(allow("iam:CreateServiceLinkedRole", "*")), "CREATE_SLR_WITH_STAR_IN_RESOURCE"),
                      (policy(allow(["s3:GetObject", "s3:GetObject"])), "REDUNDANT_ACTION"),
                      (policy(allow(Sid="")), "EMPTY_SID_VALUE")]:
        [f] = [f for f in validate(doc) if f.issue_code == code]
        assert str(f.finding_type) == CODES[code][0]
    [f] = [f for f in validate(policy(allow(Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})))]
    assert (f.issue_code, CODES[f.issue_code][0], f.finding_type) == ("PRIVATE_IP_ADDRESS", "ERROR", W)


def test_the_table_of_codes_says_what_the_code_does():
    # docs/access-analyzer-checks.md: one row per Access Analyzer code; a "done" code is one iamlogic emits.
    import re
    from pathlib import Path

    from conftest import ROOT

    table = (ROOT / "docs" / "access-analyzer-checks.md").read_text()
    rows = dict(re.findall(r"^\| \[([A-Z_]+)\]\([^)]*\) \| [^|]+ \| ([^|]+) \|", table, re.M))
    assert set(rows) == set(CODES)
    source = "".join(p.read_text() for folder in ("translator", "grammar", "iamlogic")
                     for p in (ROOT / folder).rglob("*.py") if p.name != "access_analyzer_codes.py")
    for code, status in rows.items():
        status = status.strip()
        if status == "done":
            assert f'"{code}"' in source, code
        elif status.startswith("done as "):
            assert f'"{status.removeprefix("done as ")}"' in source, code
        else:
            assert status == "not done", (code, status)
            assert f'"{code}"' not in source, f"{code} is emitted: mark it done"
