"""Typed mode catches typos (iamlogic/typos.py): an action, condition key or
resource service the catalogue does not know is a warning on every command
that takes one — never a silent PASS or a silent list of callers — and
--untyped silences it. The answer itself is unchanged (the catalogue may
lag AWS: an unknown action is still one a request can name)."""

from __future__ import annotations

import json

import pytest

from conftest import ROOT, cli

ORG = ROOT / "examples" / "organization"
POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}


@pytest.fixture
def policy_file(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(json.dumps(POLICY))
    return path


def test_check_access_not_granted_warns_about_a_typo(policy_file, capsys):
    code, out, err = cli(capsys, "check-access-not-granted", policy_file, "--actions", "s3:GetObjekt")
    assert code == 0 and out.startswith("PASS")  # nothing grants an action that does not exist ...
    assert "warning: 's3:GetObjekt' is not an action of s3" in err  # ... which is said
    assert "did you mean s3:GetObject" in err
    code, out, err = cli(capsys, "check-access-not-granted", policy_file, "--actions", "s3:GetObjekt", "--untyped")
    assert "warning" not in err
    code, out, err = cli(capsys, "check-access-not-granted", policy_file, "--actions", "s3:GetObject")
    assert code == 2 and "warning" not in err  # a real action: no warning


def test_unknown_service_in_actions_and_resources(policy_file, capsys):
    code, _, err = cli(capsys, "check-access-not-granted", policy_file, "--actions", "s4:GetObject",
                       "--resources", "arn:aws:s4:::bucket/*")
    assert "warning: 's4:GetObject': the service 's4' is not in" in err
    assert "warning: 'arn:aws:s4:::bucket/*': the service 's4' is not in" in err
    code, _, err = cli(capsys, "check-access-not-granted", policy_file, "--actions", "s3:Get*Objekt")
    assert "matches no action of s3" in err


def test_who_can_warns_about_action_and_key(capsys):
    code, out, err = cli(capsys, "who-can", "s3:GetObjekt", "arn:aws:s3:::prod-data/x", "-d", ORG,
                         "-c", '{"aws:SourceIpp": "203.0.113.9"}')
    assert code == 0 and "callers allowed" in err
    assert "warning: 's3:GetObjekt' is not an action of s3" in err
    assert "warning: 'aws:SourceIpp' is not a global condition key (did you mean aws:SourceIp" in err
    code, out, err = cli(capsys, "who-can", "s3:GetObjekt", "arn:aws:s3:::prod-data/x", "-d", ORG, "--untyped")
    assert "warning" not in err


def test_simulate_and_can_be_allowed_warn(tmp_path, capsys):
    scenario = tmp_path / "s.json"
    scenario.write_text(json.dumps({"policies": {"identity": [POLICY]}, "request": {
        "principal": "arn:aws:iam::111122223333:user/u", "action": "s3:GetObjekt", "resource": "arn:aws:s3:::b/k",
        "context": {"s3:prefx": "a"}}}))
    code, out, err = cli(capsys, "simulate", scenario)
    assert code == 0 and out.startswith("implicit_deny")
    assert "'s3:GetObjekt' is not an action of s3" in err and "'s3:prefx' is not a condition key of s3" in err
    assert "warning" not in cli(capsys, "simulate", scenario, "--untyped")[2]
    code, out, err = cli(capsys, "can-be-allowed", scenario)
    assert "'s3:GetObjekt' is not an action of s3" in err
    assert "warning" not in cli(capsys, "can-be-allowed", scenario, "--untyped")[2]


def test_validate_reports_it_and_untyped_silences(policy_file, capsys):
    policy_file.write_text(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObjekt", "Resource": "*"}]}))
    code, out, _ = cli(capsys, "validate", policy_file)
    assert "WARNING INVALID_ACTION" in out
    code, out, _ = cli(capsys, "validate", policy_file, "--untyped")
    assert "INVALID_ACTION" not in out


def test_a_resource_of_no_resource_type_warns(policy_file, capsys):
    # arn:aws:dynamodb:…:tabl/x: dynamodb is a service, but none of its
    # resource types (table/${TableName}, ...) has that format
    code, _, err = cli(capsys, "check-access-not-granted", policy_file,
                       "--resources", "arn:aws:dynamodb:us-east-1:111122223333:tabl/orders")
    assert "has the format of no resource type of dynamodb" in err
    code, _, err = cli(capsys, "check-access-not-granted", policy_file,
                       "--resources", "arn:aws:dynamodb:us-east-1:111122223333:table/orders")
    assert "warning" not in err
    code, _, err = cli(capsys, "who-can", "iam:GetRole", "arn:aws:iam::111111111111:rol/Admin", "-d", ORG)
    assert "has the format of no resource type of iam" in err


def test_typos_inside_the_policies_a_proof_reads_warn(tmp_path, capsys):
    """Typed mode covers the documents a proof reads, not only its options:
    an action, a condition key, a resource service the catalogue does not
    know is a warning naming file:line (validate's catalogue checks), the
    answer and its exit code unchanged, --untyped silent."""
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_text(json.dumps(POLICY))
    new.write_text(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:GetObjekt"], "Resource": ["*", "arn:aws:s4:::b/k"],
         "Condition": {"StringEquals": {"aws:SourceIpp": "x"}}}]}, indent=1))
    code, out, err = cli(capsys, "check-no-new-access", "--existing", old, "--new", new)
    assert f"warning: {new}:" in err and "INVALID_ACTION: The action 's3:GetObjekt' does not exist." in err
    assert "INVALID_GLOBAL_CONDITION_KEY" in err and "the service 's4' is not in" in err
    untyped = cli(capsys, "check-no-new-access", "--existing", old, "--new", new, "--untyped")
    assert "warning" not in untyped[2] and untyped[0] == code
    for args in (["check-access-not-granted", new, "-a", "s3:DeleteBucket"],
                 ["equivalent", old, new],
                 ["check-no-public-access", new, "-r", "AWS::S3::Bucket"]):
        _, _, err = cli(capsys, *args)
        assert "'s3:GetObjekt' does not exist" in err, args


def test_typos_inside_a_scenarios_policies_warn(tmp_path, capsys):
    """can-be-allowed reads the scenario's own policies: a typo in one is a
    warning naming the scenario and the policy's place, the answer unchanged."""
    scenario = tmp_path / "s.json"
    scenario.write_text(json.dumps({
        "policies": {"identity": [{"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObjekt", "Resource": "*"}]}]},
        "request": {"principal": "arn:aws:iam::111122223333:user/a", "action": "s3:GetObject",
                    "resource": "arn:aws:s3:::b/k"}}))
    code, out, err = cli(capsys, "can-be-allowed", scenario)
    assert code == 0 and out.startswith("PROVEN NEVER")
    assert (f"warning: {scenario}: policies.identity[0] at $.Statement[0].Action: INVALID_ACTION: "
            "The action 's3:GetObjekt' does not exist.") in err
    assert "warning" not in cli(capsys, "can-be-allowed", scenario, "--untyped")[2]
