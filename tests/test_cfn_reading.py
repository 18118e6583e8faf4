"""How a template's text is read (iamlogic/cfn.py): keys it repeats
(docs/readings.md I8), where findings in YAML scalars are, and proofs'
errors at the template's own lines."""

from __future__ import annotations

from conftest import cli

DUPLICATED = """\
{
  "AWSTemplateFormatVersion": "2010-09-09",
  "Resources": {
    "Admin": {
      "Type": "AWS::IAM::ManagedPolicy",
      "Properties": {"PolicyDocument": {"Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "iam:*", "Resource": "*"}]}}
    },
    "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "a", "BucketName": "b"}},
    "Admin": {
      "Type": "AWS::IAM::ManagedPolicy",
      "Properties": {"PolicyDocument": {"Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}}
    }
  }
}
"""


def test_a_json_template_repeating_a_logical_id_is_read_as_cloudformation_does(tmp_path, capsys):
    """JSON: CloudFormation deploys a template that repeats a key, taking
    the last (aws-cli#2404): a WARNING naming the key and both lines — the
    first Admin, an iam:* policy, was dropped without a word."""
    path = tmp_path / "t.json"
    path.write_text(DUPLICATED)
    code, out, _ = cli(capsys, "validate", path)
    assert code == 0  # warnings block nothing
    assert (f"{path}:10:5: WARNING DUPLICATE_RESOURCE at $: The logical id 'Admin' is defined twice in Resources "
            "(lines 4 and 10)") in out
    assert "WARNING DUPLICATE_KEYS at $: The key 'BucketName' appears more than once in " \
           "$.Resources.Bucket.Properties (line 9, columns" in out


def test_a_key_repeated_in_a_templates_policy_is_an_error_as_in_a_bare_policy(tmp_path, capsys):
    """Inside a policy document a repeated key is what the policy reader
    makes of it in a bare document: ERROR DUPLICATE_KEYS (JSON and YAML),
    and a proof refuses the policy, citing the template's line."""
    path = tmp_path / "t.json"
    path.write_text(DUPLICATED.replace('"Action": "s3:GetObject",', '"Action": "s3:GetObject", "Action": "s3:*",'))
    code, out, _ = cli(capsys, "validate", path)
    assert code == 2 and f"{path}:13:" in out and "ERROR DUPLICATE_KEYS at $.Statement[0].Action" in out
    code, out, err = cli(capsys, "check-access-not-granted", path, "--actions", "iam:PassRole")
    assert code == 2 and f"{path}:13:" in err and "DUPLICATE_KEYS" in err
    yaml_path = tmp_path / "t.yaml"
    yaml_path.write_text(YAML_POLICY.replace("Action: s3:GetObject\n",
                                             "Action: s3:GetObject\n            Action: s3:PutObject\n"))
    code, out, _ = cli(capsys, "validate", yaml_path)
    assert code == 2 and f"{yaml_path}:10:13: ERROR DUPLICATE_KEYS" in out and "(lines 9 and 10)" in out


YAML_POLICY = """\
Resources:
  Reader:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Action: s3:GetObject
            Resource: "*"
"""


def test_a_yaml_template_repeating_a_key_is_refused(tmp_path, capsys):
    """YAML: a mapping's keys are unique (YAML 1.2 §3.2.1.1); the AWS CLI's
    cloudformation package/deploy and cfn-lint (E0000) refuse a template
    that repeats one: unreadable input (exit 1), naming key and lines."""
    path = tmp_path / "t.yaml"
    path.write_text(YAML_POLICY + "  Reader:\n    Type: AWS::S3::Bucket\n")
    code, out, err = cli(capsys, "validate", path)
    assert code == 1 and f"{path}:11:3: the key 'Reader' appears more than once in $.Resources (lines 2 and 11)" \
        in err


def test_a_proofs_error_cites_the_templates_line(tmp_path, capsys):
    """A policy IAM would refuse, met by a proof: its findings at the
    template's lines, not the lines of the document re-serialised."""
    path = tmp_path / "t.yaml"
    path.write_text(YAML_POLICY.replace('Resource: "*"', "Resource: not-an-arn"))
    code, out, err = cli(capsys, "check-no-new-access", "--new", path, "--existing", path)
    assert code == 2 and f"{path}:10:23: INVALID_ARN_PREFIX" in err and "(Reader.PolicyDocument, --new)" in err


BLOCKS = YAML_POLICY.replace("Action: s3:GetObject", "Action: >-\n              s3:GetObjekt") + """\
  Repo:
    Type: AWS::ECR::Repository
    Properties:
      RepositoryPolicyText: |
        {
          "Version": "2012-10-17",
          "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImagez"}
          ]
        }
  Topic:
    Type: AWS::SNS::TopicPolicy
    Properties:
      Topics: [x]
      PolicyDocument: '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": \
"111122223333"}, "Action": "sns:Publishh", "Resource": "*"}]}'
"""


def test_findings_in_yaml_scalars_are_at_their_own_line(tmp_path, capsys):
    """JSON text in a `|` block or a quoted scalar is located at its very
    characters; a `>` block's value at its text, not at the indicator's
    line (all were at the scalar's start)."""
    path = tmp_path / "t.yaml"
    path.write_text(BLOCKS)
    code, out, _ = cli(capsys, "validate", path)
    lines = path.read_text().splitlines()
    for needle in ('"ecr:BatchGetImagez"', '"sns:Publishh"', "s3:GetObjekt"):
        line = next(i for i, text in enumerate(lines) if needle in text)
        column = lines[line].index(needle) + 1
        assert f"{path}:{line + 1}:{column}: WARNING INVALID_ACTION at $.Statement[0].Action" in out, needle


PUBLIC_BUCKET = """\
Resources:
  SiteBucket:
    Type: AWS::S3::Bucket
{name}  SitePolicy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref SiteBucket
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: "*"
            Action: s3:GetObject
            Resource: !Sub "${SiteBucket.Arn}/*"
"""


def test_a_bucket_named_by_cloudformation_is_a_bucket_a_proof_can_reach(tmp_path, capsys):
    """Amazon S3 User Guide, "Bucket naming rules": lowercase only. A bucket
    without BucketName gets a generated (lowercase) name, one named
    "${AWS::StackName}-site" exists only for a lowercase stack name: the
    stand-ins were "SiteBucket" and "StackName-site", which name no bucket
    in typed mode, so a policy open to everyone was PASS in
    check-no-public-access (and a widening in check-no-new-access)."""
    for name in ("", '    Properties:\n      BucketName: !Sub "${AWS::StackName}-site"\n'):
        path = tmp_path / "t.yaml"
        path.write_text(PUBLIC_BUCKET.replace("{name}", name))
        code, out, _ = cli(capsys, "check-no-public-access", path, "--resource-type", "AWS::S3::Bucket")
        assert code == 2 and "FAIL" in out, out


ATTACHING = """\
Resources:
  AppRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - {Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}
{extra}"""


def test_attached_managed_policies_and_boundaries_are_never_silent(tmp_path, capsys):
    """IAM User Guide, "Managed policies and inline policies" and "Permissions
    boundaries": ManagedPolicyArns grants what the attached policy allows, and
    a boundary caps the role. Neither is in the template: attaching
    AdministratorAccess and dropping the boundary passed as no change. Now
    each is a policy not read — the same ARN in both versions is no change,
    one attached only in the new version or a boundary only in the existing
    one is UNKNOWN (readings I10)."""
    def version(name, extra):
        path = tmp_path / name
        path.write_text(ATTACHING.replace("{extra}", extra))
        return path

    bounded = version("base.yaml", "      PermissionsBoundary: arn:aws:iam::123456789012:policy/Boundary\n")
    admin = version("head.yaml", "      ManagedPolicyArns: [arn:aws:iam::aws:policy/AdministratorAccess]\n")
    code, out, _ = cli(capsys, "check-no-new-access", "--existing", bounded, "--new", admin)
    assert code == 3 and "AdministratorAccess is attached" in out and "boundary removed" in out, out
    code, out, _ = cli(capsys, "check-no-new-access", "--existing", admin, "--new", admin)
    assert code == 0, out
    code, out, _ = cli(capsys, "validate", admin)
    assert "POLICY_NOT_READ" in out and "AdministratorAccess" in out


READERS = """\
Resources:
  {id}:
    Type: AWS::IAM::Policy
    Properties:
      PolicyName: readers
      Roles: [{roles}]
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - {{Effect: Allow, Action: "s3:*", Resource: "*"}}
"""


def test_a_policy_given_to_other_principals_is_new_access_for_them(tmp_path, capsys):
    """IAM User Guide, "Policies and permissions": an identity policy grants
    to the principals it is attached to. The same document under another
    logical id (a one-policy template was paired whatever its key), or
    attached to a role it was not (Roles), grants that role what it never
    had: both were PASS (readings I11). Attached to fewer is no new access."""
    def version(name, ident, roles):
        path = tmp_path / name
        path.write_text(READERS.format(id=ident, roles=roles))
        return path

    dev = version("dev.yaml", "DevReaders", "dev-reader")
    renamed = version("renamed.yaml", "ProdAdmins", "prod-intern")
    widened = version("widened.yaml", "DevReaders", "dev-reader, prod-intern")
    for head in (renamed, widened):
        code, out, _ = cli(capsys, "check-no-new-access", "--existing", dev, "--new", head)
        assert code == 2, out
    code, out, _ = cli(capsys, "check-no-new-access", "--existing", widened, "--new", dev)
    assert code == 0, out


def test_a_yaml_merge_key_is_refused_in_words(tmp_path, capsys):
    """CloudFormation reads YAML without hash merges (AWS News Blog, YAML for
    CloudFormation): a template with `<<:` is refused at its line, exit 1 — it
    was an internal error (ConstructorError)."""
    path = tmp_path / "t.yaml"
    path.write_text("base: &b\n  Type: AWS::IAM::Role\nResources:\n  R:\n    <<: *b\n    Properties: {}\n")
    code, _, err = cli(capsys, "validate", path)
    assert code == 1 and "t.yaml:5:5: a YAML merge key" in err and "internal error" not in err


def test_policies_of_more_resource_types_are_read_and_the_rest_named(tmp_path, capsys):
    """CloudFormation resource reference: AWS::KMS::ReplicaKey's KeyPolicy is
    a key policy like AWS::KMS::Key's, and an AWS::Lambda::Permission is a
    grant of the function's policy. A template of only such resources was
    "holding no policy" (exit 0), and a public replica key PASSed
    check-no-public-access. Now the key policy is read, and a grant whose
    shape is not read is a POLICY_NOT_READ warning by name."""
    path = tmp_path / "t.yaml"
    path.write_text("""\
Resources:
  Replica:
    Type: AWS::KMS::ReplicaKey
    Properties:
      PrimaryKeyArn: arn:aws:kms:us-east-1:123456789012:key/mrk-1
      KeyPolicy:
        Version: "2012-10-17"
        Statement:
          - {Effect: Allow, Principal: "*", Action: "kms:Decrypt", Resource: "*"}
  Open:
    Type: AWS::Lambda::Permission
    Properties: {Action: "lambda:InvokeFunction", FunctionName: fn, Principal: "*"}
""")
    code, out, _ = cli(capsys, "check-no-public-access", path, "--resource-type", "AWS::KMS::Key")
    assert code == 2, out
    code, out, _ = cli(capsys, "validate", path)
    assert "Open" in out and "POLICY_NOT_READ" in out and "AWS::Lambda::Permission" in out


def test_a_plans_key_policies_and_attachments_are_never_silent(tmp_path, capsys):
    """Terraform AWS provider: aws_kms_key_policy holds a key policy;
    aws_iam_role_policy_attachment and aws_lambda_permission grant what is
    outside any document. They were read as nothing, and check-no-public-access
    --resource-type AWS::KMS::Key then checked the plan's one identity policy
    instead (exit 2, MISSING_PRINCIPAL) — the public key unseen."""
    import json as _json

    change = lambda kind, name, after: {"address": f"{kind}.{name}", "type": kind, "change": {"after": after}}
    plan = {"format_version": "1.2", "resource_changes": [
        change("aws_kms_key_policy", "k", {"key_id": "k", "policy": _json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"}]})}),
        change("aws_iam_role_policy_attachment", "a", {"role": "app",
                                                       "policy_arn": "arn:aws:iam::aws:policy/AdministratorAccess"})]}
    path = tmp_path / "plan.json"
    path.write_text(_json.dumps(plan))
    code, out, _ = cli(capsys, "check-no-public-access", path, "--resource-type", "AWS::KMS::Key")
    assert code == 2 and "kms:Decrypt" in out, out
    code, out, _ = cli(capsys, "validate", path)
    assert "POLICY_NOT_READ" in out and "AdministratorAccess" in out


def test_an_ssm_parameter_has_no_value_in_the_template(tmp_path, capsys):
    """CloudFormation User Guide, "SSM parameter types": the Default of an
    AWS::SSM::Parameter::Value<String> parameter is the name of a Parameter
    Store entry, whose value is read at deployment. It was read as the value
    (a policy on bucket "app-data" where the bucket is whatever the entry
    holds); now it is a parameter without a value (readings I1)."""
    path = tmp_path / "t.yaml"
    path.write_text("""\
Parameters:
  DataBucket:
    Type: AWS::SSM::Parameter::Value<String>
    Default: app-data
Resources:
  P:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - {Effect: Allow, Action: "s3:GetObject", Resource: !Sub "arn:aws:s3:::${DataBucket}/*"}
""")
    code, out, _ = cli(capsys, "validate", path)
    assert code != 0 and "Parameter Store" in out, out
    code, out, _ = cli(capsys, "validate", path, "--parameter", "DataBucket=real-bucket")
    assert code == 0, out


def test_grants_not_read_that_differ_late_are_not_the_same(tmp_path, capsys):
    """A grant that is not read is "no change" only when both versions hold
    the very same one (sources.same_unread compares what each holds). What
    it holds was cut at 500 characters, so two Lambda permissions differing
    after that were PASS; the whole value now decides (readings I10)."""
    def version(name, tail):
        path = tmp_path / name
        path.write_text("Resources:\n  Open:\n    Type: AWS::Lambda::Permission\n    Properties:\n"
                        "      Action: lambda:InvokeFunction\n      FunctionName: fn\n"
                        f"      SourceArn: arn:aws:s3:::{'a' * 600}{tail}\n      Principal: s3.amazonaws.com\n")
        return path

    base, head = version("base.yaml", "1"), version("head.yaml", "2")
    assert cli(capsys, "check-no-new-access", "--existing", base, "--new", head)[0] == 3
    assert cli(capsys, "check-no-new-access", "--existing", base, "--new", base)[0] == 0
