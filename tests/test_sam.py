"""SAM templates (iamlogic/sam.py): a function's or state machine's
Policies are the identity policies of the role SAM creates for it, its
AssumeRolePolicyDocument that role's trust policy — a SAM template was
"holding no policy" (exit 0). What SAM expands from outside the template
(a managed policy, a policy template) is reported by name as not read."""

from __future__ import annotations

import json

from conftest import cli

SAM = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  Api:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}]
      Policies:
        - AWSLambdaBasicExecutionRole
        - S3ReadPolicy:
            BucketName: reports
        - Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Action: iam:PassRole
              Resource: "*"
        - Effect: Allow
          Action: s3:GetObjekt
          Resource: "*"
  Flow:
    Type: AWS::Serverless::StateMachine
    Properties:
      Policies: arn:aws:iam::aws:policy/AdministratorAccess
"""


def line_of(path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def write(tmp_path, text=SAM, name="sam.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_sam_function_policies_are_read(tmp_path, capsys):
    """SAM (AWS::Serverless::Function, Policies): an inline document and a
    lone statement are identity policies, validated at the template's lines;
    a managed policy and a policy template are WARNINGs POLICY_NOT_READ, by name."""
    path = write(tmp_path)
    code, out, err = cli(capsys, "validate", path)
    assert code == 0 and "6 policies" in err
    assert f"{path}: Api.AssumeRolePolicyDocument (trust): 0 finding(s)" in out
    assert f"{path}:{line_of(path, 'iam:PassRole') + 1}:25: SECURITY_WARNING PASS_ROLE_WITH_STAR_IN_RESOURCE" in out
    assert f"{path}:{line_of(path, 's3:GetObjekt')}:19: WARNING INVALID_ACTION at $.Statement[0].Action" in out
    assert f"{path}:{line_of(path, '- AWSLambdaBasicExecutionRole')}:11: WARNING POLICY_NOT_READ" in out
    assert "the managed policy AWSLambdaBasicExecutionRole is not read" in out
    assert "the SAM policy template S3ReadPolicy is not read" in out
    assert "Flow.Policies (the managed policy arn:aws:iam::aws:policy/AdministratorAccess)" in out


def test_a_managed_policy_added_to_a_sam_function_is_undecided(tmp_path, capsys):
    """Between two versions, the same managed policy or policy template is
    the same grant (PASS); one the head adds is not known: UNKNOWN (exit 3),
    never PASS. An inline entry inserted before it does not shift pairing."""
    base = write(tmp_path, name="base.yaml")
    code, out, _ = cli(capsys, "check-no-new-access", "--existing", base, "--new", base)
    assert code == 0
    head = write(tmp_path, SAM.replace("- AWSLambdaBasicExecutionRole",
                                       "- AWSLambdaBasicExecutionRole\n        - AmazonS3FullAccess"), "head.yaml")
    code, out, _ = cli(capsys, "check-no-new-access", "--existing", base, "--new", head, "-f", "json")
    results = {p["key"]: p["result"] for p in json.loads(out)["policies"]}
    assert code == 3
    assert results["Api.Policies the managed policy AmazonS3FullAccess"] == "UNKNOWN"
    assert len(results) == 7 and all(v == "PASS" for k, v in results.items() if "AmazonS3FullAccess" not in k)
