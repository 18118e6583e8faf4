"""Policies where they live (iamlogic/sources.py, cfn.py, terraform.py): AWS
CLI outputs, CloudFormation templates, Terraform plans and folders, read as
the policies they hold with the type each place implies, findings located at
the file's own lines, and the proofs run on them directly."""

from __future__ import annotations

import json
import os
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import ROOT, cli
from iamlogic.sources import read_sources
from iamlogic.translator import PolicyType

INPUTS = ROOT / "examples" / "inputs"
APP = INPUTS / "cloudformation" / "app.yaml"
PIPELINE = INPUTS / "cloudformation" / "pipeline.json"
PLAN = INPUTS / "terraform" / "plan.json"


def policies(path, **parameters):
    return {p.name: p for p in read_sources(str(path), 10 ** 7, parameters=parameters).policies}


def line_of(path, text: str, nth: int = 1) -> int:
    """The 1-based line of the nth occurrence of ``text`` in the file."""
    lines = [i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line]
    return lines[nth - 1]


# ---------------------------------------------------------------- CloudFormation


def test_yaml_template_policies_and_types():
    found = policies(APP)
    assert {n: p.policy_type for n, p in found.items()} == {
        "DataKey.KeyPolicy": PolicyType.RESOURCE,
        "AppRole.AssumeRolePolicyDocument": PolicyType.TRUST,
        "AppRole.Policies[0] (ReadData)": PolicyType.IDENTITY,
        "DataBucketPolicy.PolicyDocument": PolicyType.RESOURCE,
        "JobQueuePolicy.PolicyDocument": PolicyType.RESOURCE,
    }


def test_yaml_short_form_intrinsics_resolve_to_stand_ins():
    found = policies(APP)
    role = found["AppRole.Policies[0] (ReadData)"].document
    # !GetAtt DataBucket.Arn: the bucket's name is its BucketName, itself a !Sub of a
    # parameter's Default and the stand-in account; !Join builds the object ARN.
    assert role["Statement"][0]["Resource"] == ["arn:aws:s3:::app-data-dev-123456789012",
                                                "arn:aws:s3:::app-data-dev-123456789012/reports/*"]
    # A queue without QueueName: its logical id is its name.
    assert role["Statement"][1]["Resource"] == "arn:aws:sqs:us-east-1:123456789012:JobQueue"
    # !If IsProd with Stage=dev: the statement is AWS::NoValue, left out.
    assert [s["Sid"] for s in role["Statement"]] == ["ReadReports", "UseQueue", "Logs"]
    assert role["Statement"][2]["Condition"] == {"StringEquals": {"aws:RequestedRegion": "us-east-1"}}
    # Version: 2012-10-17 unquoted in YAML is the text, not a date.
    assert found["DataKey.KeyPolicy"].document["Version"] == "2012-10-17"


def test_a_parameter_value_takes_the_condition_branch():
    role = policies(APP, Stage="prod")["AppRole.Policies[0] (ReadData)"].document
    assert [s["Sid"] for s in role["Statement"]] == ["ReadReports", "UseQueue", "DecryptInProd", "Logs"]
    assert role["Statement"][2]["Resource"] == "arn:aws:kms:us-east-1:123456789012:key/DataKey"
    assert role["Statement"][0]["Resource"][0] == "arn:aws:s3:::app-data-prod-123456789012"


def test_yaml_finding_at_the_templates_line(capsys):
    code, out, err = cli(capsys, "validate", APP)
    assert code == 0  # a WARNING blocks nothing
    line = line_of(APP, "- s3:GetObjekt")
    assert f"{APP}:{line}:21: WARNING INVALID_ACTION at $.Statement[0].Action[0]" in out
    # each policy of the file is named, with its type
    assert f"{APP}: AppRole.AssumeRolePolicyDocument (trust): 0 finding(s)" in out
    assert "1 file(s), 5 policies, 1 finding(s)" in err


def test_json_template_resolution():
    found = policies(PIPELINE)
    trust = found["BuildRole.AssumeRolePolicyDocument"].document
    assert trust["Statement"][0]["Principal"] == {"Service": "codebuild.amazonaws.com"}  # ${AWS::URLSuffix}
    build = found["BuildPolicy.PolicyDocument"].document["Statement"]
    assert build[0]["Resource"] == "arn:aws:s3:::example-artifacts/*"  # Fn::Join of a parameter's Default
    assert build[1]["Resource"] == "arn:aws:sns:us-east-1:123456789012:builds"  # Ref of a topic: its ARN
    assert build[1]["Condition"]["StringEquals"]["aws:RequestedRegion"] == "us-east-1"  # Fn::Select of a list
    assert build[2]["Resource"] == "arn:aws:iam::123456789012:role/ci/BuildRole"  # the role's Path
    assert found["Operators.Policies[0] (read-builds)"].policy_type is PolicyType.IDENTITY


def test_json_template_finding_located(tmp_path, capsys):
    template = tmp_path / "t.json"
    text = PIPELINE.read_text().replace('"sns:Publish",\n              "Resource": {"Ref": "BuildTopic"},',
                                        '"sns:Publsh",\n              "Resource": {"Ref": "BuildTopic"},')
    assert text != PIPELINE.read_text()
    template.write_text(text)
    code, out, _ = cli(capsys, "validate", template)
    line = line_of(template, '"sns:Publsh"')
    assert re.search(rf"{re.escape(str(template))}:{line}:\d+: WARNING INVALID_ACTION at \$\.Statement\[1\]\.Action",
                     out), out


def test_unresolvable_intrinsic_is_an_error_at_its_line(tmp_path, capsys):
    template = tmp_path / "t.yaml"
    template.write_text(
        "Resources:\n"
        "  Reader:\n"
        "    Type: AWS::IAM::ManagedPolicy\n"
        "    Properties:\n"
        "      PolicyDocument:\n"
        "        Version: '2012-10-17'\n"
        "        Statement:\n"
        "          - Effect: Allow\n"
        "            Action: s3:GetObject\n"
        "            Resource: !ImportValue shared-bucket-arn\n"
        "  Writer:\n"
        "    Type: AWS::IAM::Policy\n"
        "    Properties:\n"
        "      PolicyName: w\n"
        "      PolicyDocument:\n"
        "        Version: '2012-10-17'\n"
        "        Statement:\n"
        "          - Effect: Allow\n"
        "            Action: s3:PutObject\n"
        "            Resource: !Sub 'arn:aws:s3:::${BucketName}/*'\n")
    code, out, err = cli(capsys, "validate", template)
    assert code == 2
    assert f"{template}:10:23: ERROR UNRESOLVABLE_POLICY" in out and "Fn::ImportValue" in out
    assert f"{template}:20:23: ERROR UNRESOLVABLE_POLICY" in out and "Ref BucketName: no such" in out
    # a proof refuses it, naming the line, never reading the policy without the statement
    code, out, err = cli(capsys, "check-access-not-granted", template, "--actions", "s3:DeleteObject")
    assert code == 1 and "t.yaml:10:23" in err


def test_template_without_the_policy_it_needs(tmp_path, capsys):
    template = tmp_path / "t.json"
    template.write_text(json.dumps({"Resources": {"R": {"Type": "AWS::IAM::Role", "Properties": {}}}}))
    code, out, _ = cli(capsys, "validate", template)
    assert code == 2 and "ERROR UNRESOLVABLE_POLICY" in out and "without its AssumeRolePolicyDocument" in out


# ---------------------------------------------------------------- AWS CLI outputs

CLI_OUTPUTS = {
    "get-policy-version.json": ("PolicyVersion v3", PolicyType.IDENTITY, "lambda:UpdateFunctionCode"),
    "get-role.json": ("Role ci-deployer AssumeRolePolicyDocument", PolicyType.TRUST, "sts:AssumeRoleWithWebIdentity"),
    "get-role-policy.json": ("Role ci-deployer inline policy write-artifacts", PolicyType.IDENTITY, "s3:PutObject"),
    "get-bucket-policy.json": ("Policy", PolicyType.RESOURCE, "s3:GetObject"),
    "get-key-policy.json": ("Policy", PolicyType.RESOURCE, "kms:*"),
    "get-queue-attributes.json": ("Attributes.Policy", PolicyType.RESOURCE, "SQS:SendMessage"),
    "get-topic-attributes.json": ("Attributes.Policy", PolicyType.RESOURCE, "SNS:Publish"),
    "get-user-policy.json": ("User release-bot inline policy tag-releases", PolicyType.IDENTITY, "ecr:PutImage"),
    "get-group-policy.json": ("Group auditors inline policy read-trails", PolicyType.IDENTITY,
                              "cloudtrail:LookupEvents"),
    "lambda-get-policy.json": ("Policy", PolicyType.RESOURCE, "lambda:InvokeFunction"),
    "describe-policy.json": ("DenyLeavingOrganization", PolicyType.SCP, "organizations:LeaveOrganization"),
}


@pytest.mark.parametrize("name", sorted(CLI_OUTPUTS))
def test_aws_cli_output_is_the_policy_it_holds(name):
    (found,) = read_sources(str(INPUTS / "aws-cli" / name), 10 ** 7).policies
    label, kind, action = CLI_OUTPUTS[name]
    assert (found.name, found.policy_type) == (label, kind)
    document = found.document if isinstance(found.document, dict) else json.loads(found.document)
    first = document["Statement"][0]
    assert action in ([first["Action"]] if isinstance(first["Action"], str) else first["Action"])


def test_every_cli_example_is_pinned():
    assert sorted(p.name for p in (INPUTS / "aws-cli").glob("*.json")) == sorted(CLI_OUTPUTS)


def test_url_encoded_trust_policy_is_decoded(capsys):
    code, out, _ = cli(capsys, "validate", INPUTS / "aws-cli" / "get-role.json")
    assert code == 0 and "AssumeRolePolicyDocument (trust): 0 finding(s)" in out
    # as an identity policy, its Principal would be an ERROR: the type is the file's
    code, out, _ = cli(capsys, "check-no-public-access", INPUTS / "aws-cli" / "get-role.json",
                       "--resource-type", "AWS::IAM::AssumeRolePolicyDocument")
    assert code == 0, out  # the sub condition confines it to one GitHub organization's repositories


def test_bucket_policy_in_a_string_is_proven_public(capsys):
    code, out, _ = cli(capsys, "check-no-public-access", INPUTS / "aws-cli" / "get-bucket-policy.json",
                       "--resource-type", "AWS::S3::Bucket")
    assert code == 2 and "s3:GetObject" in out


def test_authorization_details_are_every_policy_they_hold():
    path = ROOT / "examples" / "organization" / "authorization" / "111111111111.json"
    export = json.loads(path.read_text())
    found = read_sources(str(path), 10 ** 8).policies
    expected = (sum(len(u.get("UserPolicyList") or []) for u in export.get("UserDetailList", []))
                + sum(len(g.get("GroupPolicyList") or []) for g in export.get("GroupDetailList", []))
                + sum(len(r.get("RolePolicyList") or []) + 1 for r in export.get("RoleDetailList", []))
                + sum(len(p.get("PolicyVersionList") or []) for p in export.get("Policies", []))
                # and each managed policy's version in force, once more under the policy's own key
                + sum(any(v.get("IsDefaultVersion") for v in p.get("PolicyVersionList") or [])
                      for p in export.get("Policies", [])))
    assert len(found) == expected > 0
    trust = [p for p in found if p.name.endswith("AssumeRolePolicyDocument")]
    assert trust and all(p.policy_type is PolicyType.TRUST for p in trust)


# ---------------------------------------------------------------- Terraform


def test_plan_policies_and_unknown_until_apply(capsys):
    found = policies(PLAN)
    assert {n: p.policy_type for n, p in found.items()} == {
        "aws_iam_policy.reader.policy": PolicyType.IDENTITY,
        "aws_iam_role.app.assume_role_policy": PolicyType.TRUST,
        "aws_iam_role.app.inline_policy[0] (write-logs)": PolicyType.IDENTITY,
        "aws_s3_bucket_policy.reports.policy": PolicyType.RESOURCE,
        "aws_kms_key.data.policy": PolicyType.RESOURCE,
        "data.aws_iam_policy_document.queue.json": PolicyType.RESOURCE,
    }
    unknown = found["aws_s3_bucket_policy.reports.policy"]
    assert unknown.document is None and "after apply" in unknown.problem  # never guessed
    code, out, _ = cli(capsys, "validate", PLAN)
    assert code == 0
    # located at the change's "after" (the unknown attribute is absent from it)
    line = line_of(PLAN, '"after": {},')
    assert f"{PLAN}:{line}:18: WARNING UNKNOWN_UNTIL_APPLY" in out


def test_a_proof_on_a_value_unknown_until_apply_is_unknown(tmp_path, capsys):
    plan = json.loads(PLAN.read_text())
    plan["resource_changes"] = [c for c in plan["resource_changes"] if c["address"] == "aws_s3_bucket_policy.reports"]
    plan.pop("planned_values"), plan.pop("prior_state")
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    code, _, err = cli(capsys, "check-no-public-access", path, "--resource-type", "AWS::S3::Bucket")
    assert code == 3 and "UNKNOWN" in err and "after apply" in err


def test_plan_kms_key_open_to_anyone_is_public(tmp_path, capsys):
    plan = json.loads(PLAN.read_text())
    plan["resource_changes"] = [c for c in plan["resource_changes"] if c["address"] == "aws_kms_key.data"]
    plan.pop("planned_values"), plan.pop("prior_state")
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    code, out, _ = cli(capsys, "check-no-public-access", path, "--resource-type", "AWS::KMS::Key")
    assert code == 2 and re.search(r"witness: kms:(Decrypt|Encrypt)", out)


# ---------------------------------------------------------------- folders


def test_folder_is_read_recursively(tmp_path, capsys):
    code, out, err = cli(capsys, "validate", INPUTS)
    named = {line.split(": ")[0] for line in out.splitlines() if "finding(s)" in line}
    assert named == {str(p) for p in INPUTS.rglob("*") if p.is_file()}
    # 11 CLI outputs, 3 templates (5 + 5 + 4), a plan of 6
    assert "15 file(s), 31 policies" in err
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "notes.json").write_text('{"Name": "not a policy"}')
    (tmp_path / "sub" / "p.json").write_text(json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}))
    code, out, err = cli(capsys, "validate", tmp_path)
    assert code == 0 and f"{tmp_path / 'sub' / 'notes.json'}: skipped" in err  # said, never dropped in silence
    assert "1 file(s), 0 finding(s)" in err


# ---------------------------------------------------------------- two versions of a template


def widened(tmp_path):
    base = tmp_path / "base.yaml"
    base.write_text(APP.read_text())
    head = tmp_path / "head.yaml"
    text = APP.read_text().replace("                  - s3:ListBucket\n",
                                   "                  - s3:ListBucket\n                  - s3:PutObject\n")
    text += ("  AuditRole:\n    Type: AWS::IAM::Role\n    Properties:\n      AssumeRolePolicyDocument:\n"
             "        Version: '2012-10-17'\n        Statement:\n          - Effect: Allow\n"
             "            Principal: {AWS: !Sub 'arn:aws:iam::${AWS::AccountId}:root'}\n"
             "            Action: sts:AssumeRole\n")
    head.write_text(text)
    return base, head


def test_check_no_new_access_between_two_template_versions(tmp_path, capsys):
    base, head = widened(tmp_path)
    code, out, _ = cli(capsys, "check-no-new-access", "--existing", base, "--new", head, "-f", "json")
    assert code == 2
    result = json.loads(out)
    by_key = {p["key"]: p for p in result["policies"]}
    # AppRole's policy has a Fn::If on IsProd: each deployment (Stage dev, prod) is compared with itself
    assert {k: p["result"] for k, p in by_key.items()} == {
        "DataKey.KeyPolicy": "PASS", "AppRole.AssumeRolePolicyDocument": "PASS",
        "AppRole.Policies[0] [IsProd=false]": "FAIL", "AppRole.Policies[0] [IsProd=true]": "FAIL",
        "DataBucketPolicy.PolicyDocument": "PASS", "JobQueuePolicy.PolicyDocument": "PASS",
        "AuditRole.AssumeRolePolicyDocument": "FAIL"}  # a new role's trust policy: new access from nothing
    read = by_key["AppRole.Policies[0] [IsProd=false]"]
    assert read["witness"]["action"] == "s3:PutObject"
    line = line_of(head, "- Sid: ReadReports")
    assert read["reasons"][0]["at"] == f"{head}:{line}:17"  # the granting statement, in the template
    assert by_key["AuditRole.AssumeRolePolicyDocument"]["policy_type"] == "trust"
    # unchanged templates: PASS
    code, out, _ = cli(capsys, "check-no-new-access", "--existing", base, "--new", base)
    assert code == 0 and out.splitlines()[-1] == "PASS: 6 policies compared, 6 PASS"


# ---------------------------------------------------------------- the one-policy questions on many


def test_check_access_not_granted_on_each_policy_of_a_template(capsys):
    code, out, _ = cli(capsys, "check-access-not-granted", APP, "--actions", "sqs:*", "-f", "json")
    result = json.loads(out)
    assert code == 2 and result["result"] == "FAIL"
    by_key = {p["key"]: p for p in result["policies"]}
    assert by_key["AppRole.Policies[0] [IsProd=false]"]["result"] == "FAIL"
    assert by_key["AppRole.Policies[0] [IsProd=true]"]["result"] == "FAIL"
    assert by_key["JobQueuePolicy.PolicyDocument"]["result"] == "FAIL"
    # the trust policy is asked as a trust policy (no Resource element): PASS, not an error
    assert by_key["AppRole.AssumeRolePolicyDocument"]["result"] == "PASS"
    assert by_key["AppRole.AssumeRolePolicyDocument"]["policy_type"] == "trust"
    line = line_of(APP, "- Sid: UseQueue")
    assert by_key["AppRole.Policies[0] [IsProd=true]"]["reasons"][0]["at"] == f"{APP}:{line}:17"


def test_trust_policy_check_access_not_granted(tmp_path, capsys):
    # A trust policy has no Resource element (SEMANTICS §1.4): the question's
    # own scope must not add one — it was refused as an invalid policy.
    trust = tmp_path / "trust.json"
    trust.write_text(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))
    code, out, err = cli(capsys, "check-access-not-granted", trust, "-t", "trust", "--actions", "sts:AssumeRole")
    assert code == 2 and "witness: sts:AssumeRole" in out, err
    code, out, err = cli(capsys, "check-access-not-granted", trust, "-t", "trust", "--actions", "sts:TagSession")
    assert code == 0 and out.startswith("PASS"), err


def test_check_no_public_access_on_the_policies_of_a_resource_type(capsys):
    code, out, _ = cli(capsys, "check-no-public-access", APP, "--resource-type", "AWS::SQS::Queue")
    assert code == 0 and out.startswith("PASS")  # only the queue's policy: SNS from one topic of the account
    code, out, _ = cli(capsys, "check-no-public-access", PLAN, "--resource-type", "AWS::KMS::Key")
    assert code == 2 and "granted by: policy Sid Use" in out  # the plan's unknown bucket policy is not asked
    code, _, err = cli(capsys, "check-no-public-access", PLAN, "--resource-type", "AWS::S3::Bucket")
    assert code == 3 and "after apply" in err
    code, _, err = cli(capsys, "check-no-public-access", APP, "--resource-type", "AWS::SecretsManager::Secret")
    assert code == 1 and "holds no policy of a AWS::SecretsManager::Secret" in err


def test_resource_types_the_places_imply():
    found = {p.name: p.resource_type for p in read_sources(str(APP), 10 ** 7).policies}
    assert found == {"DataKey.KeyPolicy": "AWS::KMS::Key",
                     "AppRole.AssumeRolePolicyDocument": "AWS::IAM::AssumeRolePolicyDocument",
                     "AppRole.Policies[0] (ReadData)": None, "DataBucketPolicy.PolicyDocument": "AWS::S3::Bucket",
                     "JobQueuePolicy.PolicyDocument": "AWS::SQS::Queue"}
    topic, = read_sources(str(INPUTS / "aws-cli" / "get-topic-attributes.json"), 10 ** 7).policies
    queue, = read_sources(str(INPUTS / "aws-cli" / "get-queue-attributes.json"), 10 ** 7).policies
    assert (topic.resource_type, queue.resource_type) == ("AWS::SNS::Topic", "AWS::SQS::Queue")


def test_folder_reads_broken_policies_and_says_what_it_cannot(tmp_path, capsys):
    (tmp_path / "broken.json").write_text('{"Statement": [')  # a policy with a syntax error: validated
    (tmp_path / "bad.yaml").write_text("a: [1\n")  # not YAML: an error naming its line
    (tmp_path / "bucket.yaml").write_text("Resources:\n  B:\n    Type: AWS::S3::Bucket\n")
    code, out, err = cli(capsys, "validate", tmp_path)
    assert code == 1
    assert "broken.json:1:16: ERROR JSON_SYNTAX_ERROR" in out
    assert f"{tmp_path / 'bad.yaml'}:2:1: not YAML" in err
    assert f"{tmp_path / 'bucket.yaml'}: skipped: a CloudFormation template whose resources hold no policy" in err
    # given by name, a template without policies is said, and blocks nothing
    code, out, err = cli(capsys, "validate", tmp_path / "bucket.yaml")
    assert code == 0 and "skipped" in err


def test_a_scenario_names_a_cli_output_as_its_policy(tmp_path, capsys):
    (tmp_path / "deployer.json").write_text((INPUTS / "aws-cli" / "get-policy-version.json").read_text())
    (tmp_path / "s.json").write_text(json.dumps({"policies": {"identity": ["deployer.json"]}, "request": {
        "principal": "arn:aws:iam::111122223333:user/u", "action": "iam:PassRole",
        "resource": "arn:aws:iam::111122223333:role/r"}}))
    code, out, err = cli(capsys, "simulate", tmp_path / "s.json")
    assert code == 0 and out.startswith("allow: iam:PassRole"), err  # read as its Document, not a bogus policy
    (tmp_path / "deployer.json").write_text(PIPELINE.read_text())
    code, out, err = cli(capsys, "simulate", tmp_path / "s.json")
    assert code == 1 and "holds 4 policies" in err


def test_yaml_findings_on_a_key_and_inside_an_intrinsic(tmp_path, capsys):
    template = tmp_path / "k.yaml"
    template.write_text(
        "Resources:\n  P:\n    Type: AWS::IAM::ManagedPolicy\n    Properties:\n      PolicyDocument:\n"
        "        Version: \"2012-10-17\"\n        Statement:\n          - Effect: Allow\n"
        "            Action: s3:GetObject\n"
        "            Resource: !Sub \"bucket-${AWS::Region}\"\n"  # line 10: the resolved value is not an ARN
        "            Condition:\n              IpAddress:\n"
        "                aws:SourceIpp: 10.0.0.0/8\n")  # line 13: the key is the finding's place
    code, out, _ = cli(capsys, "validate", template, "-f", "sarif")
    results = json.loads(out)["runs"][0]["results"]
    places = {r["ruleId"]: (r["locations"][0]["physicalLocation"]["region"]["startLine"],
                            r["locations"][0]["physicalLocation"]["region"]["startColumn"]) for r in results}
    assert places == {"INVALID_ARN_PREFIX": (10, 23), "INVALID_GLOBAL_CONDITION_KEY": (13, 17)}
    assert results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == str(template)


def test_a_finding_inside_json_in_a_string_is_at_its_characters(tmp_path, capsys):
    inner = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObjekt", "Resource": "arn:aws:s3:::b/\u00e9t\u00e9/*"}]}
    path = tmp_path / "get-bucket-policy.json"
    path.write_text(json.dumps({"Policy": json.dumps(inner)}))  # escaped quotes and a \u00e9 before it
    text = path.read_text()
    code, out, _ = cli(capsys, "validate", path)
    column = text.index('\\"s3:GetObjekt') + 1  # the escaped quote that opens the value
    assert f"{path}:1:{column}: WARNING INVALID_ACTION at $.Statement[0].Action" in out
    # URL-encoded text is not the file's characters: the string itself is the place
    (found,) = read_sources(str(INPUTS / "aws-cli" / "get-role.json"), 10 ** 7).policies
    assert found.span(("Statement", 0, "Action")) == found.positions.span(("Role", "AssumeRolePolicyDocument"))


# Any text a Sid or a Resource may hold (escapes, non-ASCII, astral characters).
@settings(max_examples=60, deadline=None, derandomize=not os.environ.get("IAMLOGIC_RANDOM_EXAMPLES"))
@given(sid=st.text(max_size=12), resource=st.text(max_size=12), ascii_only=st.booleans())
def test_positions_in_json_in_a_string_are_its_characters(sid, resource, ascii_only):
    # Whatever the escapes, the file's characters at a value's span decode
    # (as a JSON string's contents) to the value's own JSON text.
    inner = {"Version": "2012-10-17", "Statement": [{"Sid": sid, "Effect": "Allow", "Principal": "*",
                                                     "Action": "s3:GetObject", "Resource": resource}]}
    text = json.dumps({"Policy": json.dumps(inner, ensure_ascii=ascii_only)}, ensure_ascii=ascii_only)
    from iamlogic.sources import policies_in

    (found,), _ = policies_in(text.encode("utf-8"), "p.json")
    for key, value in (("Sid", sid), ("Resource", resource)):
        span = found.span(("Statement", 0, key))
        assert span is not None
        assert json.loads('"' + text[span.start:span.end] + '"') == json.dumps(value, ensure_ascii=ascii_only)


def test_validate_examples_folder(capsys):
    # The case: `iamlogic validate examples/` said "is a directory".
    examples = ROOT / "examples"
    code, out, err = cli(capsys, "validate", examples)
    assert code == 2  # examples/policies/identity/broken.json is broken on purpose
    for path in (examples / "policies").rglob("*.json"):  # each named, findings or not (bare: --policy-type's)
        assert f"\n{path} (identity): " in "\n" + out, path
    for path in (examples / "scenarios").glob("*.json"):
        assert f"{path}: skipped" in err  # a scenario holds no policy iamlogic reads as one file
    # the organization's authorization exports: every role's trust policy, each named
    assert "AssumeRolePolicyDocument (trust): 0 finding(s)" in out


def test_a_plan_larger_than_one_policy_may_be_is_read(tmp_path, capsys):
    # A bare policy is held to its 4 MB cap; a plan (or an export) of many
    # resources is not one document, and is read whole.
    plan = json.loads(PLAN.read_text())
    plan["configuration"]["padding"] = "x" * (5 * 1024 * 1024)
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    code, out, err = cli(capsys, "validate", path)
    assert code == 0 and "6 policies" in err
    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps({"Version": "2012-10-17", "Statement": [], "Id": "x" * (5 * 1024 * 1024)}))
    code, out, err = cli(capsys, "check-access-not-granted", bare, "--actions", "s3:GetObject")
    assert code == 1 and "more than the" in err


def _authorization_details(default: str) -> dict:
    versions = {"v1": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
                "v2": {"Effect": "Allow", "Action": "*", "Resource": "*"}}
    return {"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": [], "Policies": [{
        "PolicyName": "P", "Arn": "arn:aws:iam::111122223333:policy/P", "DefaultVersionId": default,
        "PolicyVersionList": [{"VersionId": vid, "IsDefaultVersion": vid == default,
                               "Document": {"Version": "2012-10-17", "Statement": [statement]}}
                              for vid, statement in versions.items()]}]}


def test_a_default_version_moved_to_a_wider_one_is_new_access(capsys, tmp_path):
    # Only a managed policy's default version is in force (User Guide,
    # "Versioning IAM policies"): the same two versions with the default
    # moved from v1 (s3:GetObject) to v2 ("*") grant new access. Paired by
    # version id alone, every pair was equal and the answer PASS.
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_text(json.dumps(_authorization_details("v1")))
    new.write_text(json.dumps(_authorization_details("v2")))
    code, out, _ = cli(capsys, "check-no-new-access", "--existing", str(old), "--new", str(new))
    assert code == 2 and "policy/P in force" in out, out
    code, out, _ = cli(capsys, "check-no-new-access", "--existing", str(new), "--new", str(old))
    assert code == 0, out  # moved back to the narrower version: nothing new
