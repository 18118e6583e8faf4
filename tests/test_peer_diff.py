"""The CI-sized differential run against the peer simulator (bench/peer_diff.py).

A fixed seed, a few thousand generated scenarios decided by iamlogic and by
iam-simulate (bench/peer, installed by `make test`): a disagreement outside
the adjudicated classes of bench/peer_classes.py fails, printing its minimal
repro, and so does a class where iamlogic allows what the adjudication says
AWS denies. The run is checked not to be vacuous: every decision kind occurs
in numbers, most scenarios agree, and a deliberately wrong iamlogic is caught.
"""

from __future__ import annotations

import copy
import io
import json
import shutil
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))

import peer_classes  # noqa: E402
import peer_diff  # noqa: E402

SEED = 12
SCENARIOS = 4000


def _need_peer():
    if shutil.which("node") is None:
        pytest.fail("node is needed for the differential run against the peer (bench/peer)")
    if not (BENCH / "peer" / "node_modules" / "@cloud-copilot" / "iam-simulate").is_dir():
        pytest.fail("the peer is not installed: run `make bench/peer/node_modules` (make test does)")


@pytest.fixture(scope="module")
def peer():
    _need_peer()
    p = peer_diff.Peer()
    yield p
    p.close()


@pytest.fixture(scope="module")
def ci_run(peer):
    return peer_diff.run(SCENARIOS, SEED, peer=peer)


def _report(result) -> str:
    out = io.StringIO()
    peer_diff.report(result, out)
    return out.getvalue()


def test_every_disagreement_is_adjudicated_and_no_wrong_allow(ci_run):
    """The gate: a new disagreement (or a known iamlogic wrong allow) fails,
    with one minimal repro per class in the message."""
    assert not ci_run["failures"], _report(ci_run)


@pytest.mark.parametrize("cls", [c for c in peer_classes.CLASSES if c.repro], ids=lambda c: c.name)
def test_adjudicated_repro_is_decided_as_aws_does(cls):
    """Each class with a pinned repro (every class adjudicated for the peer,
    i.e. an iamlogic bug) is replayed whatever the sample drew: iamlogic must
    answer as AWS does, per the adjudication."""
    got = peer_diff.iamlogic_decide(cls.repro)
    assert got == cls.aws, (
        f"{cls.name}: iamlogic says {got}, AWS {cls.aws}"
        + (" — IAMLOGIC ALLOWS WHERE AWS DENIES" if got == "allow" else "")
        + f"\n  repro: {json.dumps(cls.repro)}\n  why: {cls.reason}\n  pinned by: {cls.case}")


def test_the_run_is_not_vacuous(ci_run):
    both = ci_run["decided_by_both"]
    assert both >= 0.95 * SCENARIOS, f"the peer refused too many: {ci_run['peer_refused']}"
    for side in ("mix_iamlogic", "mix_peer"):
        mix = ci_run[side]
        for kind in ("allow", "explicit_deny", "implicit_deny"):
            assert mix.get(kind, 0) >= 0.12 * both, f"{side}: too few {kind}: {mix}"
    assert ci_run["agreements"] >= 0.8 * both, _report(ci_run)
    cov = ci_run["coverage"]
    assert set(cov["callers"]) == {"user", "role_session", "role", "federated", "root", "anonymous", "service",
                                   "slr"}, cov
    assert set(cov["layers"]) == {"identity", "resource", "boundary", "session", "scps", "rcps", "vpc_endpoint"}, cov
    for fam in ("String", "Numeric", "Date", "Bool", "Binary", "IpAddress", "Arn", "Null", "...IfExists",
                "ForAnyValue:", "ForAllValues:"):
        assert cov["operators"].get(fam, 0) >= 20, (fam, cov)
    for el in ("NotAction", "NotResource", "NotPrincipal", "variable", "${*}", "${?}", "variable default",
               "arn:*: partition", "2008"):
        assert cov["elements"].get(el, 0) >= 5, (el, cov)


def _item(policies, principal, action, resource, caller, context=None, account="111122223333"):
    c = peer_diff.Caller(**caller)
    ctx = c.context()
    ctx.update(context or {})
    return {"scenario": {"policies": policies,
                         "request": {"principal": principal, "action": action, "resource": resource,
                                     "resource_account": account, "context": ctx, "derive_context": False}},
            "caller": c.to_dict()}


USER = {"kind": "user", "principal": "arn:aws:iam::111122223333:user/alice", "account": "111122223333",
        "name": "alice", "in_org": False}
ALLOW_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
DENY_GET = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:GetObject",
                                                     "Resource": "arn:aws:s3:::reports/*"}]}


def test_a_wrong_iamlogic_answer_is_caught(peer):
    """A disagreement none of the classes explains fails; so does iamlogic
    allowing inside a class adjudicated for the peer."""
    item = _item({"identity": [ALLOW_ALL, DENY_GET]}, USER["principal"], "s3:GetObject",
                 "arn:aws:s3:::reports/home/alice/notes.txt", USER)
    got = peer_diff.decide_both(peer, item)
    assert got == ("explicit_deny", "explicit_deny")
    wrong = ("allow", got[1])  # an iamlogic that ignored the Deny
    assert peer_classes.classify(item, wrong) is None
    assert peer_classes.judge(None, wrong) == "not adjudicated"
    root = {"kind": "root", "principal": "arn:aws:iam::444455556666:root", "account": "444455556666",
            "in_org": False}
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "444455556666"},
                                                      "Action": "sts:AssumeRole"}]}
    item = _item({"resource": trust}, root["principal"], "sts:AssumeRole", "arn:aws:iam::111122223333:role/x",
                 root)
    cls = peer_classes.classify(item, ("allow", "implicit_deny"))
    assert cls is not None and cls.name == "root-user-assumes-role"
    assert peer_classes.judge(cls, ("allow", "implicit_deny")) == "iamlogic allows where AWS denies"
    assert peer_classes.judge(cls, ("implicit_deny", "implicit_deny")) is None


def test_every_instance_of_a_class_is_judged(peer):
    """A class adjudicated for the peer fails the run on any instance where
    iamlogic allows, even when the class's smallest repro is a deny; a class
    adjudicated for iamlogic does not fail it."""
    anyvalue = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "*", "Resource": "*",
        "Condition": {"ForAnyValue:StringEqualsIfExists": {"aws:TagKeys": "team"}}}]}
    deny_anyvalue = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Deny", "Action": "*", "Resource": "*",
        "Condition": {"ForAnyValue:StringNotEqualsIfExists": {"aws:TagKeys": "team"}}}]}
    small = _item({"identity": [deny_anyvalue]}, USER["principal"], "s3:GetObject",
                  "arn:aws:s3:::reports/home/alice/notes.txt", USER)
    big = _item({"identity": [anyvalue, anyvalue]}, USER["principal"], "s3:GetObject",
                "arn:aws:s3:::reports/home/alice/notes.txt", USER, {"aws:SourceIp": "203.0.113.7"})
    disagreements = [(small, ("explicit_deny", "implicit_deny")), (big, ("allow", "implicit_deny"))]
    classes, memo, _ = peer_diff.cluster(peer, disagreements, max_minimise=0)
    summary, failures = peer_diff.judge_classes(classes, memo)
    name = "ifexists-on-forany-set-operator-with-absent-key"
    assert set(summary) == {name}
    assert summary[name]["answers"] == {"iamlogic": "explicit_deny", "peer": "implicit_deny"}  # the smaller
    assert summary[name]["iamlogic_wrong_allow"] == 1
    assert failures == [f"{peer_diff.WRONG_ALLOW}: {name} (1 of 2)"]
    root = {"kind": "root", "principal": "arn:aws:iam::111122223333:root", "account": "111122223333",
            "in_org": False}
    own = _item({}, root["principal"], "s3:GetObject", "arn:aws:s3:::reports/a", root)
    classes, memo, _ = peer_diff.cluster(peer, [(own, ("allow", "implicit_deny"))], max_minimise=0)
    assert peer_diff.judge_classes(classes, memo)[1] == []


def test_a_wrong_iamlogic_fails_the_run(peer, monkeypatch):
    """The whole pipeline, with an iamlogic that ignores explicit denies in
    identity policies: the run must fail, not absorb it into a class."""
    real = peer_diff.iamlogic_decide

    def ignores_identity_denies(scn):
        answer = real(scn)
        if answer == "explicit_deny" and scn["policies"].get("identity"):
            stripped = copy.deepcopy(scn)
            for doc in stripped["policies"]["identity"]:
                sts = doc["Statement"] if isinstance(doc["Statement"], list) else [doc["Statement"]]
                doc["Statement"] = [s for s in sts if s.get("Effect") != "Deny"] or [
                    {"Effect": "Allow", "Action": "none:none", "Resource": "*"}]
            return real(stripped)
        return answer

    monkeypatch.setattr(peer_diff, "iamlogic_decide", ignores_identity_denies)
    result = peer_diff.run(300, SEED + 1, peer=peer, minimise_budget=80)
    assert any(f.startswith("not adjudicated") for f in result["failures"]), _report(result)


def test_the_minimiser_reaches_the_cause(peer):
    """Noise around a known disagreement (the root user of its own account,
    allowed with no policy at all; the peer denies) is rewritten away."""
    root = {"kind": "root", "principal": "arn:aws:iam::111122223333:root", "account": "111122223333",
            "in_org": True}
    noise = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        {"Effect": "Allow", "Principal": {"AWS": "444455556666"}, "Action": "s3:PutObject", "Resource": "*"}]}
    item = _item({"resource": noise, "scps": [[peer_diff.FULL_ACCESS]]}, root["principal"], "s3:GetObject",
                 "arn:aws:s3:::reports/home/alice/notes.txt", root, {"aws:SourceIp": "203.0.113.7"})
    answers = peer_diff.decide_both(peer, item)
    assert answers == ("allow", "implicit_deny")
    mini, _ = peer_diff.minimise(peer, copy.deepcopy(item), answers)
    assert mini["scenario"]["policies"] == {}
    assert "aws:SourceIp" not in mini["scenario"]["request"]["context"]
    assert peer_classes.classify(mini, answers).name == "root-user-full-access-own-account"


def test_the_classes_are_adjudicated_with_evidence():
    names = [c.name for c in peer_classes.CLASSES]
    assert len(names) == len(set(names))
    for c in peer_classes.CLASSES:
        assert c.right in ("iamlogic", "peer"), c.name
        assert "docs.aws.amazon.com" in c.reason or ".html" in c.reason or "SEMANTICS" in c.reason, c.name
        assert c.case.startswith("tests/cases/"), c.name
        assert c.confidence in ("high", "medium", "low"), c.name


def test_both_sides_see_the_same_context():
    """The peer derives no key from the caller: the generator gives both
    sides the same complete context (iamlogic with derive_context false)."""
    import random

    rng = random.Random(SEED)
    for _ in range(200):
        item = peer_diff.generate(rng)
        req = item["scenario"]["request"]
        sim = peer_diff.to_peer(item["scenario"])
        assert req["derive_context"] is False
        assert set(sim["request"]["contextVariables"]) == set(req["context"])
        caller = peer_diff.Caller.from_dict(item["caller"])
        for key, value in caller.context().items():
            assert req["context"][key] == value
        if caller.kind == "role_session":
            # a role session's aws:PrincipalArn is its role ARN, path included
            assert req["context"]["aws:PrincipalArn"] == caller.role_arn
        json.dumps(sim)


@pytest.mark.parametrize("cls", peer_classes.CLASSES, ids=lambda c: c.name)
def test_every_class_names_a_test_that_exists(cls):
    # A class's adjudication is pinned by a named test of the suite: each
    # "tests/cases/FILE.json: NAME" is a case of that file, each
    # "tests/FILE.py::TEST" a test function there, each other path a file.
    root = BENCH.parent
    for ref in cls.case.split("; "):
        path, sep, name = ref.partition(": ")
        path = path.split(" (")[0]
        if "::" in path:
            path, name = path.split("::")
            assert f"def {name}(" in (root / path).read_text(), ref
        elif sep:
            cases = json.loads((root / path).read_text())["cases"]
            assert name in [c["name"] for c in cases], ref
        else:
            assert (root / path).is_file(), ref
