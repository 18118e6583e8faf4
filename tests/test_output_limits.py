"""Time and memory on small inputs, and large inputs echoed (robustness issue,
items 7 and 8): a document with a million findings lists MAX_FINDINGS and
counts the rest in one FINDINGS_LEFT_OUT finding, never silently; every
format is written per input as produced; every cross product an input can
ask for is bounded by a clear error naming its fields and sizes; and a
message quotes at most a short prefix of any value it echoes, while still
naming the field."""

from __future__ import annotations

import io
import json

import pytest

from iamlogic.errors import IamlogicError, PolicyError, ScenarioError
from iamlogic.report import FileResult
from iamlogic.simulator import MAX_REQUESTS
from iamlogic.translator import FindingType, PolicyType, aws_error_for
from iamlogic.validation import parse_policy, validate

from conftest import cli

# What the cap lists per document (translator/findings.py).
MAX_FINDINGS = 100
FINDINGS_LEFT_OUT = "FINDINGS_LEFT_OUT"

# A message that quotes a value: the value's QUOTE_CHARS-character prefix,
# its length, and the words around it — never the value.
SHORT = 400
HUGE = 900_000




def empty_statements(n: int) -> str:
    # Each {} is three findings: no Effect, no Action, no Resource (SEMANTICS §6:
    # a statement needs all three; the IAM User Guide, "IAM JSON policy element
    # reference", marks Effect, Action/NotAction and Resource/NotResource required).
    return '{"Version": "2012-10-17", "Statement": [' + ", ".join(["{}"] * n) + "]}"


# ---------------------------------------------------------------- the findings cap


def test_a_document_lists_at_most_max_findings_and_counts_every_other_one():
    from iamlogic.translator.findings import MAX_FINDINGS as cap, finding_count

    assert cap == MAX_FINDINGS
    findings = validate(empty_statements(300))
    assert len(findings) == MAX_FINDINGS + 1
    left = findings[-1]
    assert left.issue_code == FINDINGS_LEFT_OUT and left.finding_type is FindingType.ERROR
    # Nothing silently dropped: the listed ones and the counted ones are all 900.
    assert finding_count(findings) == 900
    counted = {code: n for _, code, n in left.left_out}
    listed = [f.issue_code for f in findings[:-1]]
    for code in ("MISSING_EFFECT", "MISSING_ACTION", "MISSING_RESOURCE"):
        assert listed.count(code) + counted[code] == 300
    assert "800 more findings are not listed" in left.message
    assert left.to_dict()["leftOut"][0]["count"] == counted[left.left_out[0][1]]
    # The listed ones are the first in document order.
    assert [f.locations[0].path for f in findings[:3]] == [("Statement", 0)] * 3


def test_a_blocking_error_past_the_cap_still_blocks_and_still_decides_what_aws_answers(capsys, tmp_path):
    # 150 statements with an action name IAM stores but that names no action
    # (a WARNING each), then one whose Effect is neither Allow nor Deny: the
    # ERROR is past the cap, and it is the error IAM returns (an invalid
    # Effect fails legacy parsing, an earlier stage than anything else here).
    warn = {"Effect": "Allow", "Action": "s3:Get Object", "Resource": "*"}
    doc = {"Version": "2012-10-17", "Statement": [warn] * 150 + [{"Effect": "Maybe", "Action": "s3:GetObject",
                                                                   "Resource": "*"}]}
    text = json.dumps(doc)
    # An AWS managed policy: no size quota, whose error would come first.
    findings = validate(text, policy_type="aws_managed", catalogue=False)
    assert len(findings) == MAX_FINDINGS + 1
    assert all(f.finding_type is FindingType.WARNING for f in findings[:-1])
    left = findings[-1]
    assert left.finding_type is FindingType.ERROR  # the most severe of those it stands for
    assert ("ERROR", "INVALID_EFFECT") in {(str(t), c) for t, c, _ in left.left_out}
    aws = aws_error_for(findings)
    assert aws is not None and aws == left.aws_error
    with pytest.raises(PolicyError) as info:
        parse_policy(text, policy_type="aws_managed")
    assert "(and 150 more)" in str(info.value)
    path = tmp_path / "p.json"
    path.write_text(text)
    code, out, err = cli(capsys, "validate", "--no-catalogue", "-t", "aws_managed", path)
    assert code == 2
    assert out.count("\n") == MAX_FINDINGS + 2  # the listed, the left-out one, AWS's answer
    assert f"AWS would answer {aws.code}: {aws.message}" in out
    # 150 warnings, the error, and 149 REDUNDANT_STATEMENT suggestions (the statements repeat).
    assert "1 file(s), 300 finding(s), 1 with blocking findings" in err


@pytest.mark.parametrize("output", ["text", "json", "sarif"])
def test_every_format_lists_the_capped_findings_of_a_huge_document(capsys, tmp_path, output):
    path = tmp_path / "big.json"
    path.write_text(empty_statements(2000))
    code, out, _ = cli(capsys, "validate", "-f", output, path)
    assert code == 2
    if output == "text":
        assert out.count("\n") == MAX_FINDINGS + 2
        assert "FINDINGS_LEFT_OUT" in out and "5,900 more findings" in out
    elif output == "json":
        (result,) = json.loads(out)
        assert len(result["findings"]) == MAX_FINDINGS + 1
        assert result["findings"][-1]["issueCode"] == FINDINGS_LEFT_OUT
    else:
        results = json.loads(out)["runs"][0]["results"]
        assert len(results) == MAX_FINDINGS + 1 and results[-1]["level"] == "error"


# ---------------------------------------------------------------- written as produced


@pytest.mark.parametrize("kind", ["text", "json", "sarif"])
def test_each_input_is_written_as_soon_as_it_is_found(kind):
    from iamlogic.report import JsonReport, SarifReport, TextReport

    a = FileResult("a.json", PolicyType.IDENTITY, validate(empty_statements(1)))
    b = FileResult("b.json", PolicyType.IDENTITY, validate('{"Version": "2012-10-17"}'))
    out = io.StringIO()
    blocking = frozenset({FindingType.ERROR})
    report = {"text": lambda: TextReport(out), "json": lambda: JsonReport(out, blocking),
              "sarif": lambda: SarifReport(out, "0")}[kind]()
    report.write(a)
    first = out.getvalue()
    assert "MISSING_EFFECT" in first  # out before the second input is even given
    report.write(b)
    report.close()
    if kind == "json":
        assert out.getvalue() == json.dumps([a.to_dict(blocking), b.to_dict(blocking)], indent=2) + "\n"
    elif kind == "sarif":
        log = json.loads(out.getvalue())
        assert [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in log["runs"][0]["results"]] \
            == ["a.json"] * len(a.findings) + ["b.json"] * len(b.findings)
        assert {r["id"] for r in log["runs"][0]["tool"]["driver"]["rules"]} == \
            {f.issue_code for f in a.findings + b.findings}


def test_the_simulator_decides_one_request_at_a_time(monkeypatch):
    from iamlogic.kernel.engine import Engine
    from iamlogic.scenario import decisions_of

    calls = []
    decide = Engine.decide
    monkeypatch.setattr(Engine, "decide", lambda self, r: calls.append(r) or decide(self, r))
    policy = json.dumps({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*",
                                                                 "Resource": "*"}})
    request = {"PolicyInputList": [policy], "ActionNames": ["s3:GetObject", "s3:PutObject"],
               "ResourceArns": ["arn:aws:s3:::b/1", "arn:aws:s3:::b/2"]}
    decisions = decisions_of(request)
    assert calls == []
    assert next(decisions).decision == "allow" and len(calls) == 1
    assert [d.decision for d in decisions] == ["allow"] * 3 and len(calls) == 4


def test_the_simulator_output_is_the_response_it_always_was(capsys, tmp_path):
    from iamlogic.scenario import simulate_one
    from iamlogic.simulator import response

    policy = json.dumps({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:Get*",
                                                                 "Resource": "*"}})
    request = {"PolicyInputList": [policy], "ActionNames": ["s3:GetObject", "s3:PutObject"],
               "ResourceArns": ["arn:aws:s3:::b/1"]}
    path = tmp_path / "r.json"
    path.write_text(json.dumps(request))
    code, out, _ = cli(capsys, "simulate", "-f", "simulator", path)
    assert code == 0 and out == json.dumps(response(simulate_one(request)), indent=2) + "\n"
    code, out, _ = cli(capsys, "simulate", "-f", "json", path)
    assert code == 0 and out == json.dumps([d.to_dict() for d in simulate_one(request)], indent=2) + "\n"
    assert [r["decision"] for r in json.loads(out)] == ["allow", "implicit_deny"]


# ---------------------------------------------------------------- cross products


def test_actions_times_resources_past_the_bound_is_an_error_naming_both_fields(capsys, tmp_path):
    n = 3000
    request = {"PolicyInputList": [json.dumps({"Version": "2012-10-17", "Statement": []})],
               "ActionNames": ["s3:GetObject"] * n, "ResourceArns": ["arn:aws:s3:::b/k"] * n}
    assert n * n > MAX_REQUESTS
    path = tmp_path / "r.json"
    path.write_text(json.dumps(request))
    code, out, err = cli(capsys, "simulate", "-f", "simulator", path)
    assert code == 1 and out == ""
    assert "ActionNames: 3,000 ActionNames × 3,000 ResourceArns make" in err
    assert f"9,000,000 requests, more than the {MAX_REQUESTS:,}" in err


def test_action_patterns_times_the_catalogue_past_the_bound_is_an_error(capsys):
    from iamlogic.cli import MAX_ACTION_ROWS

    code, out, err = cli(capsys, "actions", *["*"] * 5)
    assert code == 1 and out == ""
    assert "PATTERN...: 5 patterns match" in err and f"more than the {MAX_ACTION_ROWS:,}" in err
    code, out, _ = cli(capsys, "actions", "*")
    assert code == 0 and out.count("\n") <= MAX_ACTION_ROWS


# ---------------------------------------------------------------- large inputs quoted


def assert_short(message: str, *names: str) -> None:
    assert len(message) < SHORT, message[:SHORT]
    for name in names:
        assert name in message, message


def test_a_finding_quotes_a_huge_value_by_a_short_prefix():
    huge = 300_000  # three of them in one document, under its 1,048,576 characters
    action = "s3:" + "A" * huge
    findings = validate(json.dumps({"Version": "2012-10-17", "Statement": {
        "Effect": "Allow", "Action": action, "Resource": "*", "Condition": {"StringEquals": {"s3:" + "K" * huge: "v"}},
        "X" * huge: 1}}), policy_type="aws_managed")
    assert {f.issue_code for f in findings} >= {"INVALID_ACTION", "INVALID_POLICY_ELEMENT"}
    for f in findings:
        assert_short(f.message)
        assert_short(f.to_dict()["locations"][0]["path"], "$.Statement")
    assert any(f"{huge + 3} characters" in f.message for f in findings if f.issue_code == "INVALID_ACTION")


@pytest.mark.parametrize("raw, field", [
    ({"policies": {}, "request": {"principal": None, "action": "s3:GetObject", "resource": "*"}, "N" * HUGE: 1},
     "NNNN"),
    ({"policies": {"P" * HUGE: []}, "request": {"principal": None, "action": "s3:GetObject", "resource": "*"}},
     "policies.PPPP"),
    ({"policies": {}, "request": {"principal": None, "action": "s3:GetObject", "resource": "*", "F" * HUGE: 1}},
     "request.FFFF"),
    ({"policies": {}, "request": {"principal": None, "action": "s3:GetObject", "resource": "*",
                                  "context": {"Key" * HUGE: "a", "KEY" * HUGE: "b"}}}, "request.context.KEY"),
    ({"policies": {}, "request": {"principal": None, "action": "s3:" + "Get" * HUGE, "resource": "*"}},
     "request.action"),
    ({"policies": {}, "request": {"principal": "arn:aws:iam::1:" + "u" * HUGE, "action": "s3:GetObject",
                                  "resource": "*"}}, "request.principal"),
    ({"policies": {}, "request": {"principal": None, "action": "s3:GetObject", "resource": "*",
                                  "context": {"aws:CurrentTime": 10 ** 70 * 7}, "derive_context": "x" * HUGE}},
     "request.context.aws:CurrentTime"),
    ({"PolicyInputList": [], "ActionNames": [], "W" * HUGE: 1}, "WWWW"),
    ({"PolicyInputList": [], "ActionNames": [], "ContextEntries": [
        {"ContextKeyName": "k", "ContextKeyValues": [], "ContextKeyType": "t" * HUGE}]},
     "ContextEntries[0].ContextKeyType"),
])
def test_a_reader_error_quotes_a_huge_value_and_still_names_the_field(raw, field):
    from iamlogic.scenario import simulate_one

    with pytest.raises(IamlogicError) as info:
        simulate_one(raw)
    assert_short(str(info.value), field)
    if isinstance(info.value, ScenarioError):
        assert info.value.field.startswith(field)  # the whole field, for programs


def test_the_cli_quotes_a_huge_pattern_it_cannot_match(capsys):
    code, _, err = cli(capsys, "actions", "s3:" + "Q" * 100_000)
    assert code == 2
    assert_short(err, "no action in", "100003 characters")


def test_account_data_quotes_a_principal_it_does_not_hold():
    from conftest import ROOT
    from iamlogic.accounts import load_account_data

    data = load_account_data(ROOT / "examples" / "organization")
    with pytest.raises(IamlogicError) as info:
        data.principal("arn:aws:iam::111111111111:user/" + "z" * HUGE)
    assert_short(str(info.value), "arn:aws:iam::111111111111:user/zzz", "no such user or role")


def test_the_quote_helper_is_a_prefix_and_a_length():
    from iamlogic.errors import QUOTE_CHARS, quote  # one helper, where every layer can reach it

    assert quote("x" * 1000) == repr("x" * QUOTE_CHARS) + "… (1000 characters)"
    assert quote("short") == "'short'"


def test_a_batch_keeps_a_bounded_number_of_policy_sets_and_still_decides_every_line(capsys, tmp_path, monkeypatch):
    import iamlogic.batch as batch_module

    monkeypatch.setattr(batch_module, "RECENT_ENGINES", 2)
    compiled = []
    compile_policies = batch_module.compile_policies
    monkeypatch.setattr(batch_module, "compile_policies", lambda *a: compiled.append(1) or compile_policies(*a))
    lines = []
    for i in [0, 1, 2, 0, 3, 3]:  # policy set i allows s3:GetObject on bucket-i only
        policies = {"identity": [{"Version": "2012-10-17", "Statement": {
            "Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::bucket-{i}/*"}}]}
        for bucket in (i, i + 1):
            lines.append(json.dumps({"policies": policies, "request": {
                "principal": "arn:aws:iam::111111111111:user/alice", "action": "s3:GetObject",
                # Every line's own key: no line repeats another's text (whose answer is kept).
                "resource": f"arn:aws:s3:::bucket-{bucket}/k{len(lines)}"}}))
    path = tmp_path / "batch.jsonl"
    path.write_text("\n".join(lines) + "\n")
    code, out, _ = cli(capsys, "simulate", "--batch", path)
    assert code == 0
    assert [json.loads(line)["decision"] for line in out.splitlines()] == ["allow", "implicit_deny"] * 6
    # Sets 0, 1, 2 fill the cache and push 0 out, so 0 is compiled again; 3 is reused.
    assert len(compiled) == 5


def test_the_iam_answer_quotes_a_resource_longer_than_any_arn():
    # IAM's own message echoes the Resource ("Resource X must be in ARN
    # format"): whole up to 2,048 characters, the longest ARN IAM takes.
    findings = validate(json.dumps({"Version": "2012-10-17", "Statement": {
        "Effect": "Allow", "Action": "s3:GetObject", "Resource": "x" * HUGE}}), policy_type="aws_managed")
    aws = aws_error_for(findings)
    assert aws is not None and aws.code == "MalformedPolicyDocument"
    assert_short(aws.message, "must be in ARN format", f"{HUGE} characters")
    short = aws_error_for(validate(json.dumps({"Version": "2012-10-17", "Statement": {
        "Effect": "Allow", "Action": "s3:GetObject", "Resource": "x" * 100}})))
    assert short.message == f'Resource {"x" * 100} must be in ARN format or "*".'


def test_a_decision_warning_quotes_a_huge_condition_operator():
    # An operator name is input too: a 100,000-character one was written
    # whole (twice) in the warning of every decision it touched.
    import iamlogic

    operator = "K" * 100_000
    policy = {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
                                                     "Condition": {operator: {"aws:username": "a"}}}}
    decision = iamlogic.simulate({"policies": {"identity": [policy]}, "request": {
        "principal": "arn:aws:iam::111122223333:user/a", "action": "s3:GetObject", "resource": "arn:aws:s3:::b/k"}})
    assert decision.warnings
    for warning in decision.warnings:
        assert_short(warning.message, "KKKK", "100000 characters")
