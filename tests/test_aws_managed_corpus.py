"""The AWS managed policies of corpora/aws_managed_policies.validate.jsonl,
exactly as AWS stores them (oracle ``aws_stored``): AWS accepts every one.

So for each: ``validate`` reports nothing that blocks and no AWS error (read
as ``aws_managed``: an identity policy without the customer-managed size
quota, SEMANTICS §7), and the kernel compiles it as an identity policy and
decides requests on it — among them some whose answer follows from the
document alone (an unconditional Allow of a literal action on a resource its
Resource names, with no Deny beside it, allows that request; an
unconditional Deny of one denies it; an action no statement can name is an
implicit deny)."""

from __future__ import annotations

import re
from functools import lru_cache

import pytest

from conftest import CORPORA, corpus_records
from iamlogic import FindingType, compile, parse_policy, validate
from iamlogic.translator import aws_error_for

FILE = "aws_managed_policies.validate.jsonl"
CALLER_ACCOUNT = "111122223333"
NO_SUCH_ACTION = "iamlogicnosuchservice:NoSuchAction"


@lru_cache(maxsize=1)
def _records() -> list[dict]:
    return corpus_records(FILE)


def _require_corpus():
    if not (CORPORA / FILE).is_file():
        pytest.skip(f"external corpus {CORPORA / FILE} is absent (set IAMLOGIC_CORPORA to its folder)")


def test_corpus_is_the_one_described():
    _require_corpus()
    records = _records()
    assert len(records) == 1035
    assert all(r["expect"] == "valid" and r["aws_managed"] for r in records)


def test_no_managed_policy_gets_a_blocking_finding_or_an_aws_error():
    _require_corpus()
    blocked = {}
    for r in _records():
        findings = validate(r["document"], "aws_managed", r["id"])
        bad = [(f.issue_code, f.message) for f in findings
               if f.finding_type is FindingType.ERROR or f.aws_error is not None]
        if bad or aws_error_for(findings) is not None:
            blocked[r["id"]] = bad
    assert blocked == {}, f"{len(blocked)} documents AWS stores would be refused: {list(blocked.items())[:5]}"


def test_the_size_quota_is_the_customer_managed_one():
    # Read as a customer-managed identity policy, the largest AWS managed
    # policies are over the 6,144-character quota (as IAM would refuse them
    # from a customer); read as AWS managed, none is.
    _require_corpus()
    over = [r["id"] for r in _records()
            if any(f.issue_code == "POLICY_SIZE_EXCEEDS_QUOTA" for f in validate(r["document"], "identity", catalogue=False))]
    assert len(over) > 10
    assert not any(f.issue_code == "POLICY_SIZE_EXCEEDS_QUOTA"
                   for r in _records() if r["id"] in over
                   for f in validate(r["document"], "aws_managed", catalogue=False))


# ---------------------------------------------------------------- the kernel

_ACCOUNT_ARN = re.compile(r"arn:aws:[a-z0-9\-]+:[a-z0-9\-]*:(\d{12}):.*")
# Each wildcard of a pattern, replaced by text it matches: partition, region
# and account by real ones, anything else by "x".
_FILL = {1: "aws", 3: "us-east-1", 4: CALLER_ACCOUNT}


def _literal_action(st) -> str | None:
    for p in st.action or ():
        if p.service is not None and p.names_action and "*" not in p.text and "?" not in p.text:
            return p.text
    return None


def _instance(pattern: str) -> str | None:
    """A resource ARN the Resource entry ``pattern`` matches (None for one
    with a policy variable, or too short to name a resource)."""
    if "${" in pattern:
        return None
    parts = pattern.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    out = []
    for i, part in enumerate(parts):
        if "*" in part or "?" in part:
            if i in _FILL and part.strip("*?") == "":
                part = _FILL[i]
            elif i in _FILL:
                return None
            else:
                part = part.replace("*", "x").replace("?", "x")
        out.append(part)
    return ":".join(out)


def _literal_resource(st) -> str | None:
    for r in st.resource or ():
        if not r.is_any and (instance := _instance(r.text)) is not None:
            return instance
    return None


def _caller_for(resource: str) -> str:
    """A user of the resource's own account (else of CALLER_ACCOUNT): the
    question is then the identity policy's alone (SEMANTICS §1)."""
    m = _ACCOUNT_ARN.fullmatch(resource)
    return f"arn:aws:iam::{m.group(1) if m else CALLER_ACCOUNT}:user/probe"


def _names_every_service(policy) -> bool:
    """Whether some statement could apply to an action of any service."""
    for st in policy.statements:
        if st.not_action is not None:
            return True
        if any(p.service is None or "*" in p.service or "?" in p.service for p in st.action or ()):
            return True
    return False


def test_the_kernel_decides_every_managed_policy():
    _require_corpus()
    literal_allows = literal_denies = unrelated = 0
    wrong = []
    for r in _records():
        policy = parse_policy(r["document"], "aws_managed", r["id"])
        engine = compile({"identity": [r["document"].encode("utf-8")]})  # bytes: a document, not a path
        has_deny = any(st.effect.value == "Deny" for st in policy.statements)
        for st in policy.statements:
            action, resource = _literal_action(st), _literal_resource(st)
            if action is None:
                continue
            target = resource or "*"
            decision = engine.decide({"principal": _caller_for(target), "action": action, "resource": target})
            got = decision.decision
            if resource is None or st.condition or st.not_resource is not None:
                continue  # decided; what it should be depends on more than the document
            if st.effect.value == "Allow" and not has_deny and decision.must_allow_itself:
                # A KMS key or a role's trust policy must allow too (the
                # kernel names it): no resource policy here, so no allow.
                assert got == "implicit_deny", (r["id"], action, resource, got)
            elif st.effect.value == "Allow" and not has_deny:
                literal_allows += 1
                if got != "allow":
                    wrong.append((r["id"], action, resource, got, "allow"))
            elif st.effect.value == "Deny":
                literal_denies += 1
                if got != "explicit_deny":
                    wrong.append((r["id"], action, resource, got, "explicit_deny"))
        got = engine.decide({"principal": f"arn:aws:iam::{CALLER_ACCOUNT}:user/probe", "action": NO_SUCH_ACTION,
                             "resource": "*"}).decision
        if not _names_every_service(policy):
            unrelated += 1
            if got != "implicit_deny":
                wrong.append((r["id"], NO_SUCH_ACTION, "*", got, "implicit_deny"))
    assert wrong == [], f"{len(wrong)} wrong decisions, e.g. {wrong[:5]}"
    # The assertions above must have bitten: guard against a vacuous pass.
    assert literal_allows > 1000 and unrelated > 1000 and literal_denies >= 1, (literal_allows, unrelated, literal_denies)
