"""A CloudFormation template's policy for every deployment (iamlogic/deployments.py,
docs/readings.md I7): Fn::If and Fn::FindInMap are read for each value a
deployment can give the conditions and map keys they depend on — a policy
that is wide only under an allowed parameter value or in another region was
PASS, read for the stand-ins' one deployment only."""

from __future__ import annotations

import json

from conftest import cli

HEAD = """\
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Stage:
    Type: String
    AllowedValues: [dev, prod]
    Default: dev
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
Mappings:
  RegionMap:
    us-east-1:
      Roles: "arn:aws:iam::123456789012:role/east-app"
    eu-west-1:
      Roles: {west}
Resources:
  Deployer:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Sid: Read
            Effect: Allow
            Action: s3:GetObject
            Resource: !If [IsProd, {prod}, "arn:aws:s3:::dev-bucket/*"]
          - Sid: Pass
            Effect: Allow
            Action: iam:PassRole
            Resource: !FindInMap [RegionMap, !Ref "AWS::Region", Roles]
"""


def template(tmp_path, name="t.yaml", prod='"arn:aws:s3:::prod-bucket/*"',
             west='"arn:aws:iam::123456789012:role/west-app"', text=HEAD):
    path = tmp_path / name
    path.write_text(text.replace("{prod}", prod).replace("{west}", west))
    return path


def compared(capsys, base, head) -> tuple[int, dict]:
    """check-no-new-access's exit code and each comparison's result, by key."""
    code, out, _ = cli(capsys, "check-no-new-access", "--existing", base, "--new", head, "-f", "json")
    return code, {p["key"]: p["result"] for p in json.loads(out)["policies"]}


def line_of(path, text):
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_validate_reads_the_other_region_of_a_map(tmp_path, capsys):
    """Fn::FindInMap keyed by AWS::Region: every region's entry is a
    deployment's policy (CloudFormation resolves the key in the region the
    stack is created in). A PassRole on "*" in eu-west-1 only is Access
    Analyzer's PASS_ROLE_WITH_STAR_IN_RESOURCE, named with its region, at
    the map entry's line."""
    path = template(tmp_path, west='"*"')
    code, out, _ = cli(capsys, "validate", path)
    line = line_of(path, 'Roles: "*"')
    assert f"{path}:{line}:" in out and "PASS_ROLE_WITH_STAR_IN_RESOURCE" in out
    assert "(when IsProd=false, AWS::Region=eu-west-1; or IsProd=true, AWS::Region=eu-west-1)" in out


def test_validate_reads_both_branches_of_an_if(tmp_path, capsys):
    """Fn::If under a condition an allowed parameter value makes true: that
    deployment's finding is reported, naming the condition's valuation."""
    path = template(tmp_path, prod='"prod-bucket"')
    code, out, _ = cli(capsys, "validate", path)
    assert code == 2  # IAM refuses the prod deployment's policy: an ERROR
    line = line_of(path, "Resource: !If")
    finding = next(s for s in out.splitlines() if "INVALID_ARN_PREFIX" in s)
    assert finding.startswith(f"{path}:{line}:") and "(when IsProd=true" in finding and "IsProd=false" not in finding


def test_widened_under_an_allowed_value_is_new_access(tmp_path, capsys):
    """check-no-new-access between two template versions: the prod branch
    widened to "*" is new access in the prod deployment (it was PASS: the
    stand-ins deploy Stage's Default, dev)."""
    base = template(tmp_path, "base.yaml")
    head = template(tmp_path, "head.yaml", prod='"*"')
    code, results = compared(capsys, base, head)
    assert code == 2
    assert results["Deployer.PolicyDocument [IsProd=true, AWS::Region=us-east-1]"] == "FAIL"
    assert results["Deployer.PolicyDocument [IsProd=false, AWS::Region=us-east-1]"] == "PASS"
    # paired by the same valuation: the dev deployment of the head is not held to the prod one of the base
    assert len(results) == 4


def test_widened_in_another_region_is_new_access(tmp_path, capsys):
    """A map entry of another region widened: new access in that region's deployments."""
    base = template(tmp_path, "base.yaml")
    head = template(tmp_path, "head.yaml", west='"*"')
    code, results = compared(capsys, base, head)
    assert code == 2
    assert results["Deployer.PolicyDocument [IsProd=false, AWS::Region=eu-west-1]"] == "FAIL"
    assert results["Deployer.PolicyDocument [IsProd=false, AWS::Region=us-east-1]"] == "PASS"
    code, out, _ = cli(capsys, "check-no-new-access", "--existing", head, "--new", base)
    assert code == 0  # narrowed: no new access in any deployment


def test_a_parameter_without_allowed_values_is_read_for_each_compared_value(tmp_path, capsys):
    """A parameter with no AllowedValues may be any string: its deployments
    are each value a condition compares it with, and any other."""
    text = HEAD.replace("    AllowedValues: [dev, prod]\n", "")
    base = template(tmp_path, "base.yaml", text=text)
    head = template(tmp_path, "head.yaml", text=text, prod='"*"')
    code, results = compared(capsys, base, head)
    assert code == 2 and results["Deployer.PolicyDocument [IsProd=true, AWS::Region=us-east-1]"] == "FAIL"
    # given on the command line, the parameter is one deployment: the dev one, no new access there
    code, out, _ = cli(capsys, "check-no-new-access", "--existing", base, "--new", head, "--parameter", "Stage=dev")
    assert code == 0


def test_changed_conditions_pair_by_parameter_values(tmp_path, capsys):
    """Conditions whose definition changed: each head deployment is held to
    every base deployment the same parameter values give; one no base
    deployment can have (a value the base did not allow) is UNKNOWN with
    why — never PASS."""
    base = template(tmp_path, "base.yaml")
    text = HEAD.replace("[dev, prod]", "[dev, prod, test]").replace("!Equals [!Ref Stage, prod]",
                                                                     "!Equals [!Ref Stage, test]")
    head = template(tmp_path, "head.yaml", text=text)
    code, out, _ = cli(capsys, "check-no-new-access", "--existing", base, "--new", head, "-f", "json")
    policies = json.loads(out)["policies"]
    unknown = [p for p in policies if p["result"] == "UNKNOWN"]
    assert unknown and all("no deployment of the existing version" in p["note"] for p in unknown)
    # head's IsProd=false includes Stage=prod: held to the base's prod deployment, whose bucket it does not grant
    assert code == 2 and {p["result"] for p in policies if "vs existing [IsProd=true" in p["key"]} == {"FAIL"}


def test_more_deployments_than_are_read_is_unknown(tmp_path, capsys):
    """Over deployments.MAX_VARIANTS deployments, the answer is UNKNOWN naming the
    conditions (validate: a WARNING; a proof: exit 3), never a PASS on one."""
    names = [f"P{i}" for i in range(7)]  # 2**7 = 128 deployments
    text = ("Parameters:\n" + "".join(f"  {n}:\n    Type: String\n    Default: a\n" for n in names)
            + "Conditions:\n" + "".join(f"  C{n}: !Equals [!Ref {n}, b]\n" for n in names)
            + "Resources:\n  P:\n    Type: AWS::IAM::ManagedPolicy\n    Properties:\n      PolicyDocument:\n"
            + "        Version: '2012-10-17'\n        Statement:\n"
            + "".join(f"          - !If [C{n}, {{Effect: Allow, Action: s3:GetObject, Resource: '*'}}, "
                      "!Ref AWS::NoValue]\n" for n in names)
            + "          - {Effect: Allow, Action: s3:ListBucket, Resource: '*'}\n")
    path = tmp_path / "many.yaml"
    path.write_text(text)
    code, out, _ = cli(capsys, "validate", path)
    assert "TOO_MANY_DEPLOYMENTS" in out and "CP0, CP1" in out and "UNKNOWN" in out
    code, out, err = cli(capsys, "check-no-new-access", "--existing", path, "--new", path)
    assert code == 3 and "UNKNOWN" in out + err


def test_a_bucket_public_in_one_deployment_is_public(tmp_path, capsys):
    """check-no-public-access on a template: a Principal "*" under the prod
    branch makes the prod deployment's bucket public (FAIL); it was PASS,
    read for the Default's deployment only."""
    path = tmp_path / "bucket.yaml"
    path.write_text(HEAD.split("Mappings:")[0] + """\
Resources:
  BucketPolicy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: b
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: !If [IsProd, "*", {AWS: "arn:aws:iam::123456789012:root"}]
            Action: s3:GetObject
            Resource: arn:aws:s3:::b/*
""")
    code, out, _ = cli(capsys, "check-no-public-access", path, "--resource-type", "AWS::S3::Bucket", "-f", "json")
    results = {p["key"]: p["result"] for p in json.loads(out)["policies"]}
    assert code == 2 and results == {"BucketPolicy.PolicyDocument [IsProd=true]": "FAIL",
                                     "BucketPolicy.PolicyDocument [IsProd=false]": "PASS"}


CONDITIONAL = """\
Parameters:
  Env:
    Type: String
    AllowedValues: [prod, dev]
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  IsDev: !Equals [!Ref Env, dev]
Resources:
  Reader:
    Type: AWS::IAM::ManagedPolicy
{condition}    Properties:
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Action: s3:GetObject
            Resource: "*"
"""


def test_a_resource_that_exists_in_more_deployments_is_not_compared_as_if_it_always_had(tmp_path, capsys):
    """CloudFormation User Guide, Conditions: a resource with a Condition is
    created only where it holds (readings I9). A policy that existed only
    when IsProd and now exists in every deployment grants, in dev, what dev
    never had: it was PASS (the same document both sides). Narrower (a
    condition added) is still a comparison of the documents; the same
    condition both sides too."""
    def version(name, condition):
        return template(tmp_path, name, text=CONDITIONAL.replace("{condition}", condition))

    only_prod = version("base.yaml", "    Condition: IsProd\n")
    always = version("head.yaml", "")
    only_dev = version("dev.yaml", "    Condition: IsDev\n")
    code, results = compared(capsys, only_prod, always)
    assert (code, results) == (3, {"Reader.PolicyDocument": "UNKNOWN"})
    assert compared(capsys, only_prod, only_dev)[0] == 3
    for base, head in ((always, only_prod), (only_prod, only_prod)):
        code, out, _ = cli(capsys, "check-no-new-access", "--existing", base, "--new", head, "-f", "json")
        assert (code, json.loads(out)["result"]) == (0, "PASS")
