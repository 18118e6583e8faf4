"""Every document of corpora/aws_policy_validation.validate.jsonl, against the
answer AWS's CreatePolicy gave for it (recorded, oracle ``aws_recorded``).

Each record pins one IAM rule: the classification (valid/invalid), and for an
invalid document the exact MalformedPolicyDocument message — which also pins
the order in which IAM reports errors (translator/findings.py, AwsStage)."""

from __future__ import annotations

import pytest

from conftest import CORPORA, corpus_records
from iamlogic import FindingType, validate
from iamlogic.translator import aws_error_for

FILE = "aws_policy_validation.validate.jsonl"


def _records():
    path = CORPORA / FILE
    if not path.is_file():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"{path} absent"))]
    return [pytest.param(r, id=r["id"]) for r in corpus_records(FILE)]


@pytest.mark.parametrize("record", _records())
def test_classified_as_aws_did(record):
    # CreatePolicy's answer is the grammar's: the catalogue checks (an action
    # that does not exist, as in valid-6) are Access Analyzer's errors, which
    # IAM itself does not enforce.
    findings = validate(record["document"], "identity", record["id"], catalogue=False)
    errors = [f for f in findings if f.finding_type is FindingType.ERROR]
    if record["expect"] == "valid":
        assert errors == [], f"AWS accepted this document; we report {[(f.issue_code, f.message) for f in errors]}"
    else:
        assert errors, "AWS rejected this document; we found no error"


@pytest.mark.parametrize("record", [r for r in _records() if r.values[0] is None or r.values[0]["expect"] == "invalid"])
def test_aws_error_message_matches(record):
    expected = record["aws_error"]
    got = aws_error_for(validate(record["document"], "identity", record["id"]))
    assert got is not None
    assert (got.code, got.message) == (expected["code"], expected["message"])


def test_corpus_is_the_one_described():
    # Guards the two tests above against silently running on a truncated file.
    records = corpus_records(FILE)
    assert len(records) == 82
    assert sum(r["expect"] == "invalid" for r in records) == 56
