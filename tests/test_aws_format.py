"""--format aws prints what `aws accessanalyzer` prints: each output checked
against botocore's service model (tests/aws_shapes.py), and pinned to the AWS
CLI's own example outputs where they exist; --format sarif on the proofs
follows the SARIF 2.1.0 schema and locates a FAIL at the granting statement."""

from __future__ import annotations

import json

import pytest

from aws_shapes import output_shape, problems
from conftest import ROOT, allow, cli, policy

# The AWS CLI's validate-policy example (awscli/examples/accessanalyzer/
# validate-policy.rst): a trust policy with "Sid": "", and its answer.
AWS_EXAMPLE = """{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "",
            "Effect": "Allow",
            "Principal": {
                "Federated": "cognito-identity.amazonaws.com"
            },
            "Action": [
                "sts:AssumeRole",
                "sts:TagSession"
            ],
            "Condition": {
                "StringEquals": {
                    "cognito-identity.amazonaws.com:aud": "us-west-2_EXAMPLE"
                }
            }
        }
    ]
}
"""
AWS_EXAMPLE_FINDING = """        {
            "findingDetails": "Add a value to the empty string in the Sid element.",
            "findingType": "SUGGESTION",
            "issueCode": "EMPTY_SID_VALUE",
            "learnMoreLink": "https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-reference-policy-checks.html#access-analyzer-reference-policy-checks-suggestion-empty-sid-value",
            "locations": [
                {
                    "path": [
                        {
                            "value": "Statement"
                        },
                        {
                            "index": 0
                        },
                        {
                            "value": "Sid"
                        }
                    ],
                    "span": {
                        "end": {
                            "column": 21,
                            "line": 5,
                            "offset": 81
                        },
                        "start": {
                            "column": 19,
                            "line": 5,
                            "offset": 79
                        }
                    }
                }
            ]
        }"""


def test_the_validator_catches_what_is_not_the_shape():
    # The validator itself: the old JSON format is not Access Analyzer's.
    shape = output_shape("ValidatePolicy")
    assert problems({"findings": []}, shape) == []
    bad = {"findings": [{"findingType": "ERROR", "issueCode": "X", "message": "m", "locations": [
        {"path": "$.Statement[0]", "span": {"offset": 1}}]}]}
    found = "\n".join(problems(bad, shape))
    for missing in ("'message' is not a member", "requires 'findingDetails'", "requires 'learnMoreLink'",
                    "PathElementList must be a list", "requires 'start'"):
        assert missing in found
    assert problems({"findings": [{"findingDetails": "d", "findingType": "NOTE", "issueCode": "X",
                                   "learnMoreLink": "l", "locations": []}]}, shape)
    assert problems({"result": "UNKNOWN", "message": "m"}, output_shape("CheckNoNewAccess"))
    assert problems({"findings": [{"findingDetails": "d", "findingType": "ERROR", "issueCode": "X",
                                   "learnMoreLink": "l", "locations": [{"path": [{"value": "a", "index": 0}],
                                   "span": {"start": {"line": 1, "column": 0, "offset": 0},
                                            "end": {"line": 1, "column": 0, "offset": 0}}}]}]}, shape)


def test_validate_answers_as_the_aws_cli_example_does(tmp_path, capsys):
    path = tmp_path / "myfile.json"
    path.write_text(AWS_EXAMPLE)
    code, out, _ = cli(capsys, "validate", "--policy-type", "trust", "--format", "aws", path)
    assert code == 0
    assert problems(json.loads(out), output_shape("ValidatePolicy")) == []
    # Byte for byte the AWS CLI's printing of this finding: names, order, indentation, 0-based columns.
    assert AWS_EXAMPLE_FINDING in out


@pytest.mark.parametrize("doc, policy_type", [
    (policy(allow(["iam:PassRole", "s3:GetObject", "s3:GetObject"], "*", Sid="")), "identity"),
    (policy({"Effect": "allow", "Action": "s3:GetObjekt", "Resource": "reports",
             "Condition": {"ForAllValues:StringEquals": {"aws:username": "x"}}}), "identity"),
    (policy({"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "s3:*",
             "Resource": "*", "Condition": {}}), "resource"),
    ("{not json", "identity"),
])
def test_every_validate_output_has_the_service_model_shape(tmp_path, capsys, doc, policy_type):
    path = tmp_path / "p.json"
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc, indent=2))
    code, out, _ = cli(capsys, "validate", "-t", policy_type, "--format", "aws", path)
    answer = json.loads(out)
    assert problems(answer, output_shape("ValidatePolicy")) == []
    assert answer["findings"], "each of these documents has findings"
    assert all(f["learnMoreLink"].startswith("https://docs.aws.amazon.com/IAM/latest/UserGuide/")
               for f in answer["findings"])


def test_validate_of_several_policies_is_one_json_array(tmp_path, capsys):
    """Several policies (two files here; a template, an export, a folder the
    same) are one JSON document — an array of {"file", "policy", "response"},
    each response exactly ValidatePolicy's — so json.loads and jq read it;
    it was one document per policy, back to back, which neither reads."""
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps(policy(allow())))
    b.write_text(json.dumps(policy(allow(Sid=""))))
    _, out, _ = cli(capsys, "validate", "--format", "aws", a, b)
    answer = json.loads(out)
    assert [(e["file"], len(e["response"]["findings"])) for e in answer] == [(str(a), 0), (str(b), 1)]
    for e in answer:
        assert set(e) == {"file", "policy", "response"}
        assert problems(e["response"], output_shape("ValidatePolicy")) == []
    _, out, _ = cli(capsys, "validate", "--format", "aws", b)  # one policy: exactly AWS's own shape
    assert list(json.loads(out)) == ["findings"]


TEMPLATE = """Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: 2012-10-17
        Statement:
          - Effect: Allow
            Principal: {AWS: "arn:aws:iam::111122223333:root"}
            Action: sts:AssumeRole
      Policies:
        - PolicyName: p
          PolicyDocument:
            Version: 2012-10-17
            Statement:
              - Effect: Allow
                Action: [ACTIONS]
                Resource: "*"
"""


def test_proofs_over_a_template_are_one_json_array(tmp_path, capsys):
    """check-no-new-access between two versions of a template, and
    check-access-not-granted over a template: one array, an element per
    policy, each response exactly CheckNoNewAccess's / CheckAccessNotGranted's
    (botocore's shapes); the worst result decides the exit code."""
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    old.write_text(TEMPLATE.replace("ACTIONS", "s3:GetObject"))
    new.write_text(TEMPLATE.replace("ACTIONS", "s3:GetObject, s3:PutObject"))
    code, out, _ = cli(capsys, "check-no-new-access", "--existing", old, "--new", new, "--format", "aws")
    answer = json.loads(out)
    assert code == 2
    assert [(e["new"], e["response"]["result"]) for e in answer] == [
        ("Role.AssumeRolePolicyDocument", "PASS"), ("Role.Policies[0] (p)", "FAIL")]
    assert all(problems(e["response"], output_shape("CheckNoNewAccess")) == [] for e in answer)
    code, out, _ = cli(capsys, "check-access-not-granted", new, "-a", "s3:PutObject", "--format", "aws")
    answer = json.loads(out)
    assert code == 2 and [e["response"]["result"] for e in answer] == ["PASS", "FAIL"]
    assert all(problems(e["response"], output_shape("CheckAccessNotGranted")) == [] for e in answer)


EXAMPLES = ROOT / "examples"


@pytest.mark.parametrize("args, operation, result", [
    (["check-no-new-access", "--existing", EXAMPLES / "refactor/before.json",
      "--new", EXAMPLES / "refactor/after-widened.json"], "CheckNoNewAccess", "FAIL"),
    (["check-no-new-access", "--existing", EXAMPLES / "refactor/before.json",
      "--new", EXAMPLES / "refactor/after-safe.json"], "CheckNoNewAccess", "PASS"),
    (["check-access-not-granted", EXAMPLES / "refactor/before.json", "--actions", "s3:GetObject"],
     "CheckAccessNotGranted", "FAIL"),
    (["check-access-not-granted", EXAMPLES / "refactor/before.json", "--actions", "s3:DeleteBucket"],
     "CheckAccessNotGranted", "PASS"),
    (["check-no-public-access", EXAMPLES / "policies/resource/website-bucket.json", "--resource-type",
      "AWS::S3::Bucket"], "CheckNoPublicAccess", "FAIL"),
    (["check-no-public-access", EXAMPLES / "policies/resource/bucket-policy.json", "--resource-type",
      "AWS::S3::Bucket"], "CheckNoPublicAccess", "PASS"),
])
def test_proofs_answer_in_the_service_model_shape(capsys, args, operation, result):
    code, out, _ = cli(capsys, *args, "--format", "aws")
    answer = json.loads(out)
    assert problems(answer, output_shape(operation)) == []
    assert answer["result"] == result and code == (2 if result == "FAIL" else 0)
    assert list(answer)[:2] == ["result", "message"]  # the CLI's member order
    if result == "FAIL":
        assert answer["reasons"] and all(r["statementIndex"] == 0 for r in answer["reasons"])


def test_the_aws_cli_examples_messages(capsys):
    # aws-cli's check-no-new-access example: a new action on the same statement.
    _, out, _ = cli(capsys, "check-no-new-access", "--existing", EXAMPLES / "refactor/before.json",
                    "--new", EXAMPLES / "refactor/after-widened.json", "--format", "aws")
    answer = json.loads(out)
    assert answer["message"] == "The modified permissions grant new access compared to your existing policy."
    assert answer["reasons"] == [{"description": "New access in the statement with sid: Reports.",
                                  "statementIndex": 0, "statementId": "Reports"}]
    _, out, _ = cli(capsys, "check-access-not-granted", EXAMPLES / "refactor/before.json",
                    "--actions", "s3:DeleteBucket", "--format", "aws")
    assert json.loads(out) == {"result": "PASS", "message": "The policy document does not grant access to "
                                                            "perform the listed actions."}


def test_an_undecided_proof_is_never_printed_as_a_pass(tmp_path, capsys):
    from iamlogic.check_formats import write_check
    from iamlogic.proofs.questions import Check

    code = write_check(Check("UNKNOWN", note="the proof did not finish within 1000 ms"), "aws",
                       "check-no-new-access", {})
    out, err = capsys.readouterr()
    assert code == 3 and out == "" and "UNKNOWN: the proof did not finish" in err


def test_aws_format_is_for_access_analyzers_questions(capsys):
    code, out, err = cli(capsys, "equivalent", EXAMPLES / "refactor/before.json",
                         EXAMPLES / "refactor/after-safe.json", "--format", "aws")
    assert code == 1 and out == "" and "Access Analyzer has no equivalent check" in err


@pytest.mark.parametrize("args, file, line", [
    (["check-no-new-access", "--existing", EXAMPLES / "refactor/before.json",
      "--new", EXAMPLES / "refactor/after-widened.json"], EXAMPLES / "refactor/after-widened.json", 4),
    (["check-no-public-access", EXAMPLES / "policies/resource/website-bucket.json", "--resource-type",
      "AWS::S3::Bucket"], EXAMPLES / "policies/resource/website-bucket.json", 4),
    (["equivalent", EXAMPLES / "refactor/before.json", EXAMPLES / "refactor/after-widened.json"],
     EXAMPLES / "refactor/after-widened.json", 4),
])
def test_proof_sarif_locates_the_granting_statement(capsys, args, file, line):
    jsonschema = pytest.importorskip("jsonschema")
    schema = ROOT / ".cache" / "sarif-2.1.0.json"
    if not schema.is_file():
        pytest.fail(f"{schema} is missing: `make test` fetches it (npm registry)")
    code, out, _ = cli(capsys, *args, "--format", "sarif")
    log = json.loads(out)
    jsonschema.validate(log, json.loads(schema.read_text()))
    assert code == 2
    [result] = log["runs"][0]["results"]
    where = result["locations"][0]["physicalLocation"]
    assert where["artifactLocation"]["uri"] == str(file)
    assert where["region"]["startLine"] == line
    text = file.read_text()
    region = where["region"]
    assert text[region["charOffset"]:region["charOffset"] + region["charLength"]].lstrip().startswith("{")


def test_a_passing_proof_is_an_empty_sarif_log(capsys):
    code, out, _ = cli(capsys, "check-no-new-access", "--existing", EXAMPLES / "refactor/before.json",
                       "--new", EXAMPLES / "refactor/after-safe.json", "--format", "sarif")
    assert code == 0 and json.loads(out)["runs"][0]["results"] == []


def test_simulate_answers_in_the_simulators_shape(tmp_path, capsys):
    # SimulateCustomPolicy's response, checked against botocore's iam model.
    request = {"PolicyInputList": [json.dumps(policy(allow()))], "ActionNames": ["s3:GetObject", "s3:PutObject"],
               "ResourceArns": ["arn:aws:s3:::bucket/key"], "CallerArn": "arn:aws:iam::111111111111:user/alice"}
    path = tmp_path / "request.json"
    path.write_text(json.dumps(request))
    code, out, _ = cli(capsys, "simulate", path, "--format", "simulator")
    answer = json.loads(out)
    assert code == 0 and [r["EvalDecision"] for r in answer["EvaluationResults"]] == ["allowed", "implicitDeny"]
    assert problems(answer, output_shape("SimulateCustomPolicy", "iam"), service="iam") == []


def test_can_be_allowed_sarif_names_the_scenario(capsys):
    jsonschema = pytest.importorskip("jsonschema")
    schema = ROOT / ".cache" / "sarif-2.1.0.json"
    if not schema.is_file():
        pytest.fail(f"{schema} is missing: `make test` fetches it (npm registry)")
    scenario = EXAMPLES / "questions" / "sandbox-admin-terminate.json"
    code, out, _ = cli(capsys, "can-be-allowed", scenario, "--format", "sarif")
    log = json.loads(out)
    jsonschema.validate(log, json.loads(schema.read_text()))
    results = log["runs"][0]["results"]
    assert code == 2 and results
    assert {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results} == {str(scenario)}
    assert all("policies." in r["message"]["text"] for r in results)  # which policy of the scenario grants it
