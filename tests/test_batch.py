"""Batches (iamlogic/batch.py): every input line gets exactly one output line,
in order, whatever the input's size or bytes; named policy sets; the
repeated-policies fast path reads exactly what a whole parse reads."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

import iamlogic
from iamlogic.batch import MAX_LINE_BYTES, Line, Simulator, answers, parse
from iamlogic.errors import IamlogicError

ACCOUNT = "111122223333"
IDENTITY = {"Version": "2012-10-17", "Statement": [
    {"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"},
    {"Sid": "NoSecret", "Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::b/secret/*"}]}


def _request(key: str) -> dict:
    return {"principal": f"arn:aws:iam::{ACCOUNT}:user/alice", "action": "s3:GetObject",
            "resource": f"arn:aws:s3:::b/{key}", "resource_account": ACCOUNT}


def _run(path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "iamlogic", *args, str(path)], capture_output=True, text=True,
                          timeout=600)


def test_a_file_larger_than_any_buffer_gets_one_line_out_per_line_in(tmp_path):
    # 50 MB: large policies repeated on every line (as research batches write
    # them), one line over the per-line cap, one not UTF-8, a blank one, and
    # a last line cut short. Before streaming, the input was refused whole
    # (or, earlier, cut at 4 MiB with every later line lost).
    big = {"Version": "2012-10-17", "Statement": IDENTITY["Statement"] + [
        {"Sid": f"Filler{i}", "Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::filler-{i}/*"}
        for i in range(260)]}
    path = tmp_path / "big.jsonl"
    expected: dict[int, str] = {}
    number = 0
    with path.open("wb") as f:
        while f.tell() < 50 * 1024 * 1024:
            number += 1
            if number == 1000:
                f.write(b'{"policies": "' + b"x" * (MAX_LINE_BYTES + 10) + b'"}\n')
                expected[number] = "error"
            elif number == 1500:
                f.write(b'{"policies": "\xff"}\n')
                expected[number] = "error"
            elif number == 2000:
                f.write(b"\n")
                expected[number] = "blank"
            else:
                key = "secret/k" if number % 3 == 0 else f"k{number}"
                f.write(json.dumps({"policies": {"identity": [big]}, "request": _request(key)}).encode() + b"\n")
                expected[number] = "explicit_deny" if number % 3 == 0 else "allow"
        number += 1
        f.write(b'{"policies": {"identity": [')
        expected[number] = "cut"
    done = _run(path, "simulate", "--batch", "--brief")
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert [o["line"] for o in out] == list(range(1, number + 1))
    for o in out:
        want = expected[o["line"]]
        if want == "error":
            assert "error" in o
        elif want == "blank":
            assert o == {"line": o["line"], "blank": True}
        elif want == "cut":
            assert "cut short" in o["error"]
        else:
            assert o["decision"] == want, o
    assert "longer than the" in out[999]["error"] and "not UTF-8" in out[1499]["error"]
    assert f"{number} lines in, {number} lines out" in done.stderr
    assert done.returncode == 1  # some lines could not be answered


def test_named_policy_sets_are_defined_once_and_asked_by_name():
    lines = [
        {"policy_set": "dev", "policies": {"identity": [IDENTITY]}},
        {"policy_set": "dev", "request": _request("a")},
        {"policy_set": "dev", "request": _request("secret/a")},
        {"policy_set": "prod", "request": _request("a")},  # not defined (yet)
        {"policy_set": "prod", "policies": {"identity": []}},
        {"policy_set": "prod", "request": _request("a")},
        {"policy_set": "dev", "policies": {"identity": [IDENTITY]}, "request": _request("a")},
    ]
    out = list(answers(lines))
    assert [o["line"] for o in out] == list(range(1, 8))
    assert out[0] == {"line": 1, "policy_set": "dev", "defined": True}
    assert (out[1]["decision"], out[2]["decision"]) == ("allow", "explicit_deny")
    assert "not defined on an earlier line" in out[3]["error"]
    assert out[5]["decision"] == "implicit_deny"
    assert "either defines the set" in out[6]["error"]


def test_decide_many_streams_decisions_and_names_a_bad_request():
    engine = iamlogic.compile({"identity": [IDENTITY]})
    requests = (_request(f"secret/{i}" if i % 2 else str(i)) for i in range(1000))
    decisions = [d.decision for d in engine.decide_many(requests)]
    assert decisions == ["explicit_deny" if i % 2 else "allow" for i in range(1000)]
    with pytest.raises(iamlogic.ScenarioError) as e:
        list(engine.decide_many([_request("a"), {**_request("b"), "action": "s3:Get*"}]))
    assert e.value.field == "requests[1].action"


def test_proof_batches_answer_each_line(tmp_path):
    narrow = {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:GetObject",
                                                     "Resource": "arn:aws:s3:::b/*"}}
    wide = {**narrow, "Statement": {**narrow["Statement"], "Action": "s3:Get*"}}
    path = tmp_path / "pairs.jsonl"
    path.write_text("\n".join([json.dumps({"new": narrow, "existing": wide}),
                               json.dumps({"new": wide, "existing": narrow}),
                               json.dumps({"new": "policy.json", "existing": narrow})]) + "\n")
    done = _run(path, "check-no-new-access", "--batch")
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert [o.get("result") for o in out] == ["PASS", "FAIL", None]
    assert out[1]["witness"]["action"].lower().startswith("s3:get")
    assert "expected a policy object" in out[2]["error"]  # a string is never read as a path here
    assert done.returncode == 1
    scenario = json.loads(Path("examples/questions/sandbox-admin-iam.json").read_text())
    out = list(answers([scenario, {**scenario, "request": {"action": "ec2:RunInstances"}}], "can-be-allowed"))
    assert [o["result"] for o in out] == ["PASS", "FAIL"]


# The fast path for repeated policies: whatever the line, the answer is the
# one a whole parse of that line gives (or both are errors).
POLICIES = [{"identity": [IDENTITY]}, {"identity": [{**IDENTITY, "Statement": IDENTITY["Statement"][:1]}]}]
TAILS = ['}', ' }', '}}', '', '} x', ', "request": {}}', ', "name": "n"}', '}\n', ']']


@st.composite
def tricky_lines(draw):
    policies = draw(st.sampled_from(POLICIES))
    request = _request(draw(st.sampled_from(["a", "secret/a", "request", '"request": 1'])))
    if draw(st.booleans()):
        request["context"] = {"request": draw(st.sampled_from(["request", '"request": {}}', "x"]))}
    head = json.dumps({"policies": policies})[:-1] + ', "request": '
    body = json.dumps(request)
    if draw(st.integers(0, 3)) == 0:
        body = body[:-1] + ', "request": ' + json.dumps(_request("secret/b")) + "}"
    return head + body + draw(st.sampled_from(TAILS))


def _whole(text: str):
    try:
        return Simulator().answer(parse(Line(1, text)))
    except IamlogicError:
        return "error"


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.lists(tricky_lines(), min_size=1, max_size=6))
def test_the_repeated_policies_path_reads_what_a_whole_parse_reads(texts):
    simulator = Simulator()
    for text in texts:
        try:
            fast = simulator.answer_line(Line(1, text))
        except IamlogicError:
            fast = "error"
        assert fast == _whole(text), text


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.lists(st.binary(max_size=40), max_size=12))
def test_every_line_of_any_bytes_gets_one_answer(chunks):
    import io

    from iamlogic.batch import BatchCounts, simulate_stream

    data = b"\n".join(chunks)
    out = io.StringIO()
    counts = BatchCounts()
    simulate_stream(io.BytesIO(data), out, counts)
    lines = out.getvalue().splitlines()
    expected = data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)
    assert len(lines) == expected == counts.lines_in == counts.lines_out
    assert [json.loads(x)["line"] for x in lines] == list(range(1, expected + 1))


def test_the_engines_kept_are_bounded_by_their_policies_text_too(monkeypatch):
    # 256 engines of 4 MiB lines each would hold tens of GB (an engine takes
    # some 25 bytes per byte of its policies): the cache is bounded by the
    # text it holds, and every line is still decided.
    import iamlogic.batch as batch_module

    monkeypatch.setattr(batch_module, "RECENT_TEXT_CHARS", 20_000)
    simulator = Simulator(brief=True)
    for i in range(40):
        policy = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::b{i}-{j}/*"} for j in range(40)]}
        line = json.dumps({"policies": {"identity": [policy]}, "request": _request("a")}) + " " * i
        out = simulator.answer_line(Line(i + 1, line))
        assert out["decision"] == "implicit_deny"  # bucket b, not b{i}-{j}
        assert simulator.recent.chars <= 20_000 + len(line) and simulator.prefixes.chars <= 20_000 + len(line)
    assert len(simulator.recent) < 40


def _encoded_without_memo(texts: list[str], brief: bool) -> list[str]:
    from iamlogic.batch import BatchCounts, answer_lines, encode

    simulator = Simulator(brief=brief)
    lines = [Line(n, t) for n, t in enumerate(texts, 1)]
    return [encode(out) + "\n" for out in answer_lines(lines, simulator.answer_line, BatchCounts())]


def _encoded(texts: list[str], brief: bool, simulator: Simulator | None = None) -> list[str]:
    from iamlogic.batch import BatchCounts

    simulator = simulator or Simulator(brief=brief)
    return [text for text, _ in simulator.encoded((Line(n, t) for n, t in enumerate(texts, 1)), BatchCounts())]


def _set(name: str, statement: dict) -> str:
    return json.dumps({"policy_set": name, "policies": {"identity": [{"Version": "2012-10-17",
                                                                      "Statement": statement}]}})


ALLOW_B = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}
DENY_B = {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}


def test_a_kept_answer_is_forgotten_when_its_policy_set_is_defined_again():
    # The same request text asked of "p" before and after "p" is redefined:
    # the name now means other policies, so the kept answer must not be reused.
    ask = json.dumps({"policy_set": "p", "request": _request("k")})
    texts = [_set("p", ALLOW_B), ask, ask, _set("p", DENY_B), ask, _set("q", ALLOW_B), ask]
    decisions = [json.loads(t).get("decision") for t in _encoded(texts, brief=True)]
    assert decisions == [None, "allow", "allow", None, "explicit_deny", None, "explicit_deny"]


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.lists(st.sampled_from(range(9)), min_size=1, max_size=14), st.booleans())
def test_kept_answers_are_the_answers_a_fresh_reading_gives(picks, brief):
    # Lines drawn from a small pool, so texts repeat: with and without the
    # kept answers, the output is byte for byte the same (line numbers too).
    pool = [_set("p", ALLOW_B), _set("p", DENY_B),
            json.dumps({"policy_set": "p", "request": _request("k")}),
            json.dumps({"policy_set": "p", "request": _request("secret/k")}),
            json.dumps({"policy_set": "missing", "request": _request("k")}),
            json.dumps({"policies": {"identity": [IDENTITY]}, "request": _request("a")}),
            json.dumps({"policies": {"identity": [IDENTITY]}, "request": _request("secret/a")}),
            json.dumps({"request": _request("a"), "policy_set": "p"}),  # a named request, keys in another order
            "not json"]
    texts = [pool[i] for i in picks]
    assert _encoded(texts, brief) == _encoded_without_memo(texts, brief)


def test_the_kept_answers_are_bounded_by_count_and_by_text(monkeypatch):
    import iamlogic.batch as batch_module

    monkeypatch.setattr(batch_module, "ANSWERS_KEPT", 50)
    monkeypatch.setattr(batch_module, "ANSWER_TEXT_CHARS", 6_000)
    simulator = Simulator(brief=True)
    texts = [json.dumps({"policies": {"identity": [IDENTITY]}, "request": _request(f"k{i}")}) for i in range(200)]
    out = _encoded(texts, brief=True, simulator=simulator)
    assert len(out) == 200 and all(json.loads(t)["decision"] == "allow" for t in out)
    kept = simulator.scenario_answers
    assert 0 < len(kept) <= 50 and kept.chars <= 6_000


def test_a_part_of_a_batch_restored_with_other_definitions_forgets_kept_answers():
    # A Ray actor answers parts of a batch out of order: after a part where
    # "p" allowed, it may get a later part in which "p" was redefined
    # elsewhere (Simulator.start_from). The kept answer for the same line
    # text must not outlive the definition it was decided under.
    ask = json.dumps({"policy_set": "p", "request": _request("k")})
    allow = {"identity": [{"Version": "2012-10-17", "Statement": ALLOW_B}]}
    deny = {"identity": [{"Version": "2012-10-17", "Statement": DENY_B}]}
    simulator = Simulator(brief=True)
    assert [json.loads(t).get("decision") for t in _encoded([_set("p", ALLOW_B), ask], True, simulator)] == [
        None, "allow"]
    simulator.start_from({"p": [allow]})  # the same definition: what was kept still holds
    assert len(simulator.named_answers) == 1
    simulator.start_from({"p": [allow, deny]})
    assert json.loads(_encoded([ask], True, simulator)[0])["decision"] == "explicit_deny"


def _file_line(path: str, key: str = "k") -> str:
    return json.dumps({"policies": {"identity": [path]}, "request": _request(key)})


def _write_policy(path: Path, statement: dict, pad: int = 0) -> None:
    path.write_text(json.dumps({"Version": "2012-10-17", "Statement": statement}) + " " * pad)


def test_a_policy_file_changed_during_a_batch_is_read_again(tmp_path):
    # A self-contained line names its policy by path: every line is answered
    # from the file as it is when the line is read — as `simulate` on that
    # line alone would answer — never from the text an earlier line read.
    # Before, the engine (and then the kept answer) of the first reading stayed.
    policy = tmp_path / "p.json"
    _write_policy(policy, ALLOW_B)
    simulator = Simulator(base_dir=tmp_path, brief=True)
    line = _file_line("p.json")
    assert json.loads(_encoded([line], True, simulator)[0])["decision"] == "allow"
    _write_policy(policy, DENY_B, pad=1)
    assert json.loads(_encoded([line, _file_line("p.json", "other")], True, simulator)[0])["decision"] == \
        "explicit_deny"


def test_the_same_relative_path_in_another_folder_is_another_policy(tmp_path, monkeypatch):
    # A worker kept across batches (a Ray actor, or one Simulator) that
    # answers a batch from another working folder reads that folder's file.
    for name, statement in (("a", ALLOW_B), ("b", DENY_B)):
        (tmp_path / name).mkdir()
        _write_policy(tmp_path / name / "p.json", statement)
    simulator = Simulator(brief=True, root=None)
    decisions = []
    for name in ("a", "b"):
        monkeypatch.chdir(tmp_path / name)
        decisions.append(json.loads(_encoded([_file_line("p.json")], True, simulator)[0])["decision"])
    assert decisions == ["allow", "explicit_deny"]


def test_long_request_values_are_not_kept_by_the_matchers(monkeypatch):
    # A policy variable in a Resource and a condition, substituted with a
    # distinct 100 KB tag value on every line: each glob built from it is
    # used once. Before, the matchers' caches (and the re module's) kept
    # every one of them: memory grew with the batch (~1.9 GB for 200 lines of 500 KB).
    import gc
    import tracemalloc

    import iamlogic.batch as batch_module

    monkeypatch.setattr(batch_module, "ANSWER_TEXT_CHARS", 1_000)  # the kept answers: the last line's only
    statement = [{"Effect": "Allow", "Action": "s3:GetObject",
                  "Resource": "arn:aws:s3:::b/${aws:PrincipalTag/team}/*"},
                 {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "*",
                  "Condition": {"StringNotLike": {"s3:prefix": "${aws:PrincipalTag/team}*"},
                                "StringEquals": {"aws:ResourceTag/x": "y"}}}]
    policies = {"identity": [{"Version": "2012-10-17", "Statement": statement}]}
    simulator = Simulator(brief=True)

    def line(i: int) -> str:
        request = {**_request("k"), "context": {"aws:PrincipalTag/team": f"{i:06d}" + "t" * 100_000,
                                               "s3:prefix": "p" * 100_000, "aws:ResourceTag/x": "y" * 50_000}}
        return json.dumps({"policies": policies, "request": request})

    _encoded([line(0)], True, simulator)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    out = _encoded([line(i) for i in range(1, 31)], True, simulator)
    gc.collect()
    grown = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert [json.loads(t)["decision"] for t in out] == ["implicit_deny"] * 30  # the resource is b/k, not b/<team>/…
    assert grown < 2_000_000, grown  # 30 lines of 250 KB values: kept, they were 54 MB


def test_a_line_of_white_space_json_does_not_know_is_not_blank():
    from iamlogic.batch import BatchCounts, answer_lines

    lines = [Line(1, " \t\r"), Line(2, "\u00a0"), Line(3, "\u3000 ")]
    out = list(answer_lines(lines, Simulator().answer_line, BatchCounts()))
    assert out[0] == {"line": 1, "blank": True}
    assert all("not JSON" in o["error"] for o in out[1:])


def test_an_option_the_question_does_not_take_is_refused_not_ignored():
    """answers() passes options to the question it runs: simulate takes only
    ``brief``; a proof option given to it would change nothing, so it is a
    TypeError rather than an answer as if it had been honoured."""
    with pytest.raises(TypeError, match="timeout_ms"):
        answers(['{"request": {"action": "s3:GetObject"}}'], timeout_ms=5)
    with pytest.raises(TypeError):
        list(answers([], "can-be-allowed", brief=True))
