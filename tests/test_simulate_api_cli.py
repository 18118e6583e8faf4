"""simulate / compile as the API and the CLI offer them: answers, errors that
name the field, batch mode, the Policy Simulator's request and response shapes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import iamlogic
from conftest import ROOT

ALLOW_GET = {"Version": "2012-10-17", "Statement": {"Sid": "Get", "Effect": "Allow", "Action": "s3:GetObject",
                                                     "Resource": "arn:aws:s3:::bucket/*"}}
REQUEST = {"principal": "arn:aws:iam::111111111111:user/alice", "action": "s3:GetObject",
           "resource": "arn:aws:s3:::bucket/key", "resource_account": "111111111111"}


def run(*args, stdin: bytes | None = None):
    proc = subprocess.run([sys.executable, "-m", "iamlogic", *map(str, args)], input=stdin, capture_output=True,
                          timeout=120, cwd=ROOT)
    assert b"Traceback" not in proc.stderr, proc.stderr.decode()
    return proc


@pytest.mark.parametrize("scenario, field", [
    ({"policies": {"identity": [ALLOW_GET]}}, "request"),
    ({"request": REQUEST}, "policies"),
    ({"policies": {"identity": [ALLOW_GET]}, "request": {**REQUEST, "action": None}}, "request.action"),
    ({"policies": {"identity": [ALLOW_GET]}, "request": {k: v for k, v in REQUEST.items() if k != "resource"}},
     "request.resource"),
    ({"policies": {"identity": [ALLOW_GET]}, "request": {k: v for k, v in REQUEST.items() if k != "principal"}},
     "request.principal"),
    ({"policies": {"identity": [ALLOW_GET]}, "request": {**REQUEST, "resource": "bucket/key"}}, "request.resource"),
    ({"policies": {"identity": [ALLOW_GET]}, "request": {**REQUEST, "principal": "alice"}}, "request.principal"),
    ({"policies": {"identity": [ALLOW_GET]}, "request": {**REQUEST, "action": "s3:Get*"}}, "request.action"),
    ({"policies": {"identity": [ALLOW_GET]}, "request": {**REQUEST, "resource_account": "12"}},
     "request.resource_account"),
    ({"policies": {"identity": [ALLOW_GET]}, "request": {**REQUEST, "context": {"aws:x": {"a": 1}}}},
     "request.context.aws:x"),
    ({"policies": {"identity": [ALLOW_GET]}, "request": {**REQUEST, "context": {"aws:x": 1.5}}},
     "request.context.aws:x"),
    ({"policies": {"identity": [ALLOW_GET]}, "request": {**REQUEST, "extra": 1}}, "request.extra"),
    ({"policies": {"identities": [ALLOW_GET]}, "request": REQUEST}, "policies.identities"),
    ({"policies": {"scps": [ALLOW_GET]}, "request": REQUEST}, "policies.scps[0]"),
    ({"policies": {"identity": [42]}, "request": REQUEST}, "policies.identity[0]"),
    ({"policies": {"identity": ["no/such/file.json"]}, "request": REQUEST}, "policies.identity[0]"),
    ({"policies": {"scps": [{"name": "", "policies": []}]}, "request": REQUEST}, "policies.scps[0].name"),
])
def test_bad_scenarios_name_the_field(scenario, field):
    with pytest.raises(iamlogic.ScenarioError) as info:
        iamlogic.simulate(scenario)
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}: ")


def test_a_broken_policy_is_a_policy_error_not_a_decision():
    broken = {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:GetObject"}}  # no Resource
    with pytest.raises(iamlogic.PolicyError) as info:
        iamlogic.simulate({"policies": {"identity": [broken]}, "request": REQUEST})
    assert [f.issue_code for f in info.value.findings] == ["MISSING_RESOURCE"]
    assert info.value.name == "policies.identity[0]"


def test_an_unknown_operator_is_evaluated_with_a_warning():
    odd = {"Version": "2012-10-17", "Statement": {"Sid": "Odd", "Effect": "Allow", "Action": "*", "Resource": "*",
                                                  "Condition": {"StringEqualz": {"aws:username": "alice"}}}}
    d = iamlogic.simulate({"policies": {"identity": [odd]}, "request": REQUEST})
    assert d.decision == "implicit_deny"
    [w] = d.warnings
    assert w.statement.sid == "Odd" and "'StringEqualz' is not a condition operator" in w.message
    assert "warning: policies.identity[0] Sid Odd" in d.explain()


def test_compile_once_decide_many():
    engine = iamlogic.compile({"identity": [ALLOW_GET]})
    assert engine.decide(REQUEST).decision == "allow"
    assert engine.decide({**REQUEST, "action": "s3:PutObject"}).blocked_by == "identity"
    assert engine.statement_count == 1


def test_decision_json_shape():
    d = iamlogic.simulate({"policies": {"identity": [ALLOW_GET], "scps": [[]]}, "request": REQUEST})
    body = d.to_dict()
    assert (body["decision"], body["blocked_by"], body["blocked_layers"]) == ("implicit_deny", "scp", ["scp/0"])
    assert body["matched_statements"][0]["sid"] == "Get"


def test_missing_context_keys_include_scp_keys():
    # The Simulator's MissingContextValues, including keys used only in SCPs.
    scp = {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*",
                                                  "Condition": {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}}}
    d = iamlogic.simulate({"policies": {"identity": [ALLOW_GET], "scps": [[scp]]}, "request": REQUEST})
    assert d.missing_context_keys == ("aws:RequestedRegion",)


def test_cli_simulate_text_and_explain():
    proc = run("simulate", "examples/scenarios/scp-blocks-admin.json")
    assert proc.returncode == 0
    assert proc.stdout.decode().startswith("implicit_deny (blocked by scp: scp/1): iam:CreateUser")
    proc = run("simulate", "--explain", "examples/scenarios/scp-blocks-admin.json")
    assert "├─ implicit deny: the SCP level ou-sandbox has no Allow matching iam:CreateUser" in proc.stdout.decode()


def test_cli_simulate_bad_scenario_exit_1(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"policies": {}, "request": {**REQUEST, "action": "nope"}}))
    proc = run("simulate", path)
    assert proc.returncode == 1
    assert proc.stderr.decode().strip() == "iamlogic: request.action: 'nope' is not an action (service:Name, no wildcards)"


def test_cli_simulate_not_json(tmp_path):
    path = tmp_path / "s.json"
    path.write_text("{nope")
    proc = run("simulate", path)
    assert proc.returncode == 1 and b"not JSON" in proc.stderr


def test_cli_batch(tmp_path):
    good = {"policies": {"identity": [ALLOW_GET]}, "request": REQUEST}
    lines = [json.dumps(good), json.dumps({**good, "request": {**REQUEST, "action": "s3:PutObject"}}), "{bad", "",
             json.dumps({"policies": {}, "request": {**REQUEST, "resource": "x"}})]
    path = tmp_path / "batch.jsonl"
    path.write_text("\n".join(lines) + "\n")
    proc = run("simulate", "--batch", path)
    assert proc.returncode == 1
    results = [json.loads(l) for l in proc.stdout.decode().splitlines()]
    assert [r["line"] for r in results] == [1, 2, 3, 4, 5]  # a blank line too has its line
    assert [r.get("decision") for r in results] == ["allow", "implicit_deny", None, None, None]
    assert results[1]["blocked_by"] == "identity"
    assert results[3] == {"line": 4, "blank": True}
    assert results[4]["error"].startswith("request.resource:")


def test_simulator_request_and_response():
    request = {
        "PolicyInputList": [json.dumps(ALLOW_GET)],
        "ActionNames": ["s3:GetObject", "s3:PutObject"],
        "ResourceArns": ["arn:aws:s3:::bucket/key"],
        "CallerArn": "arn:aws:iam::111111111111:user/alice",
        "ContextEntries": [{"ContextKeyName": "aws:SourceIp", "ContextKeyValues": ["203.0.113.7"],
                            "ContextKeyType": "ip"}],
    }
    proc = run("simulate", "-", "--format", "simulator", stdin=json.dumps(request).encode())
    assert proc.returncode == 0, proc.stderr
    body = json.loads(proc.stdout)
    results = body["EvaluationResults"]
    assert [(r["EvalActionName"], r["EvalDecision"]) for r in results] == [
        ("s3:GetObject", "allowed"), ("s3:PutObject", "implicitDeny")]
    assert results[0]["MatchedStatements"][0]["SourcePolicyId"] == "PolicyInputList.1"
    assert results[0]["MatchedStatements"][0]["StartPosition"]["Line"] == 1
    assert body["IsTruncated"] is False


def test_bool_with_a_non_boolean_value_warns_on_every_decision_it_touches():
    odd = {"Version": "2012-10-17", "Statement": {"Sid": "Tls", "Effect": "Allow", "Action": "s3:*", "Resource": "*",
                                                  "Condition": {"Bool": {"aws:SecureTransport": "yes"}}}}
    assert [f.issue_code for f in iamlogic.validate(odd)] == ["INVALID_CONDITION_DATA_TYPE"]
    engine = iamlogic.compile({"identity": [odd]})
    for action in ("s3:GetObject", "s3:PutObject"):
        d = engine.decide({**REQUEST, "action": action, "context": {"aws:SecureTransport": "true"}})
        assert d.decision == "implicit_deny"
        assert [w.statement.sid for w in d.warnings] == ["Tls"]
    # A decision the statement does not touch carries no warning.
    assert engine.decide({**REQUEST, "action": "ec2:RunInstances", "resource": "*"}).warnings == ()


@pytest.mark.parametrize("principal, derived", [
    ("arn:aws:iam::111111111111:user/alice", {"aws:username": "alice", "aws:PrincipalType": "User",
                                              "aws:PrincipalArn": "arn:aws:iam::111111111111:user/alice"}),
    ("arn:aws:sts::111111111111:assumed-role/dev/s1", {"aws:PrincipalType": "AssumedRole",
                                                       "aws:PrincipalArn": "arn:aws:iam::111111111111:role/dev"}),
    ("arn:aws:sts::111111111111:federated-user/carol", {"aws:userid": "111111111111:carol",
                                                        "aws:PrincipalType": "FederatedUser"}),
    ("111111111111", {"aws:userid": "111111111111", "aws:PrincipalType": "Account"}),
    (None, {"aws:userid": "anonymous", "aws:PrincipalType": "Anonymous"}),
    ("s3.amazonaws.com", {"aws:PrincipalServiceName": "s3.amazonaws.com", "aws:PrincipalIsAWSService": "true"}),
])
def test_derived_context_keys(principal, derived):
    # IAM User Guide, global condition keys: what AWS sets for each kind of caller.
    from iamlogic.kernel.principals import read_caller

    context = read_caller(principal).derived_context()
    assert {k: context.get(k) for k in derived} == derived


def test_catalogue_resource_types_for_an_action():
    from iamlogic.kernel.catalogue import CATALOGUE

    types = dict((t, arn) for t, arn, _ in CATALOGUE.resource_types_for("s3:GetObject"))
    assert types["object"] == "arn:${Partition}:s3:::${BucketName}/${ObjectName}"
    assert CATALOGUE.resource_types_for("s3:ListAllMyBuckets") == []


@pytest.mark.parametrize("content, message", [
    (b"[" * 10_000 + b"]" * 10_000, b"nests too deeply"),
    (b"\xff\xfe{", b"not JSON"),
    (b"", b"not JSON"),
    (b"[1, 2]", b"scenario: expected an object"),
])
def test_cli_simulate_bad_input_is_one_line(tmp_path, content, message):
    path = tmp_path / "s.json"
    path.write_bytes(content)
    proc = run("simulate", path)
    assert proc.returncode == 1
    assert message in proc.stderr and proc.stderr.count(b"\n") == 1
