"""check-no-new-access --all and equivalent --all: every action class the new
policy newly allows, each with a witness the kernel confirms and the
statements that grant it; the question's one deadline bounds the whole list,
and what is left at the deadline is UNKNOWN, never a partial PASS."""

from __future__ import annotations

import fnmatch
import json

import pytest

from conftest import cli, corpus_records
from iamlogic.kernel.catalogue import CATALOGUE
from iamlogic.proofs import deadline as deadlines
from iamlogic.proofs import questions
from iamlogic.proofs.engine import implies
from iamlogic.proofs.questions import check_no_new_access, equivalent
from iamlogic.scenario import compile_policies, load_policy
from iamlogic.translator import PolicyType


def read_only_access() -> dict:
    (record,) = [r for r in corpus_records("aws_managed_policies.validate.jsonl") if r.get("name") == "ReadOnlyAccess"]
    return record["document_json"]


def older(document: dict, removed: int = 41) -> tuple[dict, list[str]]:
    """The policy with ``removed`` of its Action entries taken out (every
    n-th, deterministic): the shape of an earlier version of it."""
    statement = document["Statement"][0]
    actions = statement["Action"]
    step = len(actions) // removed
    gone = actions[::step][:removed]
    kept = [a for a in actions if a not in gone]
    return {**document, "Statement": [{**statement, "Action": kept}, *document["Statement"][1:]]}, gone


def patterns(document: dict) -> list[str]:
    return [a for st in document["Statement"] if st["Effect"] == "Allow"
            for a in (st["Action"] if isinstance(st["Action"], list) else [st["Action"]])]


def newly_allowed(new: dict, old: dict) -> set[str]:
    """The independent count: the catalogue's actions the new patterns match
    and the old ones do not, plus each action the new policy spells out that
    the catalogue does not know (typed mode's universe holds those too) and
    no old pattern matches. Both are Allow-only on "*" (no condition)."""
    def matched(document):
        return {x.lower() for p in patterns(document) for x in CATALOGUE.expand(p)}

    out = matched(new) - matched(old)
    for p in patterns(new):
        service, _, name = p.partition(":")
        if "*" not in p and "?" not in p and CATALOGUE.action(service, name) is None:
            if not any(fnmatch.fnmatchcase(p.lower(), q.lower()) for q in patterns(old)):
                out.add(p.lower())
    return out


def test_read_only_access_every_new_action_class(tmp_path, capsys):
    new = read_only_access()
    old, gone = older(new)
    assert len(gone) == 41
    (tmp_path / "new.json").write_text(json.dumps(new))
    (tmp_path / "old.json").write_text(json.dumps(old))
    code, out, _ = cli(capsys, "check-no-new-access", "--existing", tmp_path / "old.json", "--new",
                       tmp_path / "new.json", "--all", "--timeout", "120", "-f", "json")
    assert code == 2
    result = json.loads(out)
    assert result["result"] == "FAIL" and "note" not in result  # nothing left undecided
    classes = [[a.lower() for a in w["actions"]] for w in result["witnesses"]]
    listed = [a for c in classes for a in c]
    assert len(listed) == len(set(listed))  # the classes do not overlap
    expected = newly_allowed(new, old)
    assert set(listed) == expected and len(expected) > 41  # some removed entries were wildcards
    # each witness is allowed by the new version and not by the old, by the kernel, and is of its class
    allows_new = compile_policies({"identity": [new]})
    allows_old = compile_policies({"identity": [old]})
    for witness, actions in zip(result["witnesses"], classes):
        request = {k: witness["request"][k] for k in ("principal", "action", "resource", "context")}
        assert witness["request"]["action"].lower() in actions
        assert allows_new.decide(request).decision == "allow"
        assert allows_old.decide(request).decision != "allow"
        assert witness["reasons"] and witness["reasons"][0]["policy"] == "new"
    # without --all: one witness, of one of those classes
    code, out, _ = cli(capsys, "check-no-new-access", "--existing", tmp_path / "old.json", "--new",
                       tmp_path / "new.json", "--timeout", "120", "-f", "json")
    single = json.loads(out)
    assert code == 2 and "witnesses" not in single and single["witness"]["action"].lower() in expected


class CountingDeadline(deadlines.Deadline):
    """A deadline that passes after ``budget`` checks (None: never), so a
    timeout lands at the same point of the search every run."""

    def __init__(self, budget: int | None):
        super().__init__(600_000)
        self.budget, self.calls = budget, 0

    def _passed(self) -> bool:
        return self.budget is not None and self.calls >= self.budget

    def check(self) -> None:
        self.calls += 1
        if self._passed():
            raise deadlines.Timeout()

    def expired(self) -> bool:
        return self._passed()

    def solver_ms(self) -> int:
        self.check()
        return 600_000

    def remaining_ms(self) -> int:
        return 0 if self._passed() else 600_000


NEW = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": [
    "s3:GetObject", "s3:PutObject", "iam:GetRole", "sqs:SendMessage", "kms:Decrypt", "sns:Publish"], "Resource": "*"}]}
OLD = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}


def _policies():
    return (load_policy(NEW, PolicyType.IDENTITY, "new", None)[1], load_policy(OLD, PolicyType.IDENTITY, "old", None)[1])


def test_a_timeout_mid_list_leaves_the_rest_unknown(monkeypatch):
    new, old = _policies()
    whole = CountingDeadline(None)
    complete = implies(new, old, whole, every=True)
    assert complete.holds is False and len(complete.counterexamples) == 5 and complete.undecided == 0
    # the deadline passing after some classes are listed (the last budget that still lists any, less one class)
    budget = next(n for n in range(whole.calls, 0, -1)
                  if len(implies(new, old, CountingDeadline(n), every=True).counterexamples) < 4)
    cut = implies(new, old, CountingDeadline(budget), every=True)
    assert cut.holds is False  # what was found is real
    assert 0 < len(cut.counterexamples) < 5 and cut.undecided >= 5 - len(cut.counterexamples)
    assert "did not finish" in cut.why
    # as the question answers it: FAIL with what was found, the rest UNKNOWN in the note
    monkeypatch.setattr(questions, "Deadline", lambda ms: CountingDeadline(budget))
    check = check_no_new_access(NEW, OLD, every=True)
    assert check.result == "FAIL" and 0 < len(check.witnesses) < 5
    assert "UNKNOWN" in check.note and "not searched" in check.note


def test_a_timeout_before_any_class_is_unknown_not_pass(monkeypatch):
    monkeypatch.setattr(questions, "Deadline", lambda ms: CountingDeadline(1))
    check = check_no_new_access(NEW, OLD, every=True)
    assert check.result == "UNKNOWN" and not check.witnesses


def test_equivalent_all_lists_both_directions():
    a = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "iam:GetRole"],
                                                 "Resource": "*"}]}
    b = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "sqs:SendMessage",
                                                                              "kms:Decrypt"], "Resource": "*"}]}
    check = equivalent(a, b, every=True)
    assert check.result == "FAIL"
    by_direction = {}
    for w in check.witnesses:
        by_direction.setdefault(w["direction"], set()).update(x.lower() for x in w["actions"])
    assert by_direction == {"a allows more than b": {"iam:getrole"},
                            "b allows more than a": {"sqs:sendmessage", "kms:decrypt"}}


@pytest.mark.parametrize("every", [False, True])
def test_pass_is_pass_with_or_without_all(every):
    assert check_no_new_access(OLD, NEW, every=every).result == "PASS"


def test_all_agrees_with_the_single_answer_on_the_checknonewaccess_corpus():
    # AWS's samples (aws_checknonewaccess.pairs.jsonl): --all answers as the
    # single question does, and the single witness's action is in a class
    # it lists (the same search, carried on past the first class).
    checked = 0
    for record in corpus_records("aws_checknonewaccess.pairs.jsonl"):
        kind = record["policy_type"] if record["policy_type"] != "unknown" else "identity"
        one = check_no_new_access(record["p1"], record["p2"], kind, timeout_ms=20_000)
        every = check_no_new_access(record["p1"], record["p2"], kind, timeout_ms=20_000, every=True)
        assert every.result == one.result, record["id"]
        if one.result == "FAIL":
            listed = {a.lower() for w in every.witnesses for a in w["actions"]}
            assert every.witnesses and one.witness["action"].lower() in listed, record["id"]
            checked += 1
    assert checked >= 60
