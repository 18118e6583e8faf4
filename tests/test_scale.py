"""The Ray engine (iamlogic/scale.py) on a local cluster of 2 CPUs: every
answer is the one the single-process path gives, line for line and in
order — for simulate batches (self-contained lines, named policy sets
defined, redefined, badly redefined and asked across shards, error lines),
proof batches, who-can, what-can and reach — and still so when a worker's
process is killed mid-run (its shard is sent again; no line lost or
repeated)."""

from __future__ import annotations

import io
import json
import os
import signal
import sys
from pathlib import Path

import pytest

from iamlogic.accounts import load_account_data
from iamlogic.accounts.queries import who_can
from iamlogic.accounts.reach import reach
from iamlogic.accounts.shards import parallel_who_can
from iamlogic.batch import BatchCounts, Prover, Simulator, answer_lines, encode, read_lines
from iamlogic.cli import main
from iamlogic.errors import UsageError

import ray  # the test extra installs it: make test runs these too

from iamlogic import scale

ACCOUNT = "111122223333"
ORGANIZATION = Path(__file__).resolve().parent.parent / "examples" / "organization"


@pytest.fixture(scope="module")
def cluster_cpus():
    scale.connect(num_cpus=2)
    yield 2
    ray.shutdown()


def _policies(resource: str, effect: str = "Allow") -> dict:
    return {"identity": [{"Version": "2012-10-17", "Statement": [
        {"Effect": effect, "Action": "s3:GetObject", "Resource": resource}]}]}


def _request(key: str, action: str = "s3:GetObject") -> dict:
    return {"principal": f"arn:aws:iam::{ACCOUNT}:user/alice", "action": action,
            "resource": f"arn:aws:s3:::b/{key}", "resource_account": ACCOUNT}


def _batch() -> list[str]:
    """Lines whose answers depend on what came before them, in other shards:
    a set defined, asked, redefined, redefined badly (the earlier definition
    stays in force), asked again; an undefined name; error lines of every
    kind; self-contained lines."""
    good, other = _policies("arn:aws:s3:::b/*"), _policies("arn:aws:s3:::b/public/*")
    bad = {"identity": [{"Version": "2012-10-17", "Statement": [
        {"Effect": "Maybe", "Action": "s3:GetObject", "Resource": "*"}]}]}
    ask = lambda name, key: json.dumps({"policy_set": name, "request": _request(key)})  # noqa: E731
    lines = [json.dumps({"policy_set": "a", "policies": good}), ask("a", "k1"), ask("a", "public/k"),
             json.dumps({"policy_set": "a", "policies": other}), ask("a", "k2"), ask("a", "public/k"),
             json.dumps({"policy_set": "a", "policies": bad}), ask("a", "k3"), ask("a", "public/k"),
             json.dumps({"policy_set": "b", "policies": bad}), ask("b", "k"), ask("nowhere", "k"),
             "", "not json", "[1]", json.dumps({"policy_set": "a", "policies": good, "request": _request("k")}),
             json.dumps({"policies": good, "request": _request("k"), "extra": 1}),
             json.dumps({"policy_set": "b", "policies": other}), ask("b", "public/k"), ask("b", "k")]
    lines += [json.dumps({"policies": _policies(f"arn:aws:s3:::b/{i % 3}/*"), "request": _request(f"{i % 4}/x")})
              for i in range(12)]
    lines += [ask("a", "k1"), ask("a", "k1"),  # a line's text again, now that "a" means other policies
              ask("a", "public/z"), ask("b", "public/z"), '{"policy_set": "a", "request": ' + "[" * 5000 + "]" * 5000
              + "}", '{"policies": {}, "request": {"action": "s3:GetObject"}']  # the last: cut short
    return lines


def _stream(lines: list[str]) -> io.BytesIO:
    return io.BytesIO(("\n".join(lines)).encode())


def _local(lines: list[str]) -> list[dict]:
    return list(answer_lines(read_lines(_stream(lines)), Simulator().answer_line, BatchCounts()))


def test_simulate_batch_answers_as_one_process_does(cluster_cpus):
    lines = _batch()
    expected = _local(lines)
    # The batch's answers turn on the order: a failed redefinition leaves
    # the one before in force, an undefined name is an error line.
    assert [o.get("decision") for o in expected[1:9]] == [
        "allow", "allow", None, "implicit_deny", "allow", None, "implicit_deny", "allow"]
    assert "not defined" in expected[10]["error"] and "not defined" in expected[11]["error"]
    with scale.Cluster(workers=2) as cluster:
        for per_shard in (1, 2, 3, 7, 1000):  # definitions and their asks in other shards, or the same one
            got = list(cluster.simulate(read_lines(_stream(lines)), per_shard=per_shard))
            assert got == expected, per_shard
            # As --batch writes it: answers kept by line text in each actor,
            # across shards and redefinitions, are still the answers.
            text = "".join(t for t, _ in cluster.simulate_text(read_lines(_stream(lines)), per_shard=per_shard))
            assert text == "".join(encode(out) + "\n" for out in expected), per_shard


def test_an_actor_compiles_a_policy_set_once_whatever_the_shards(cluster_cpus):
    # A named set asked, and self-contained lines repeating other policies,
    # over many shards of one actor: each set compiled once there, not once
    # a shard (restoring the named set finds its engine in the actor).
    named, repeated = _policies("arn:aws:s3:::b/*"), _policies("arn:aws:s3:::b/public/*")
    lines = [json.dumps({"policy_set": "a", "policies": named})]
    for i in range(40):
        lines.append(json.dumps({"policy_set": "a", "request": _request(f"k{i}")}))
        lines.append(json.dumps({"policies": repeated, "request": _request(f"public/k{i}")}))
    expected = _local(lines)
    with scale.Cluster(workers=1) as cluster:
        assert list(cluster.simulate(read_lines(_stream(lines)), per_shard=4)) == expected
        assert ray.get(cluster.actors[0].compiled.remote()) == 2


def test_simulate_batch_from_the_command_line(cluster_cpus, tmp_path, capsys):
    path = tmp_path / "batch.jsonl"
    path.write_text("\n".join(_batch()) + "\n")
    runs = []
    for engine in ("local", "ray"):
        with pytest.raises(SystemExit) as done:
            main(["simulate", "--batch", str(path), "--engine", engine])
        out = capsys.readouterr()
        runs.append((done.value.code, out.out, out.err))
    assert runs[0] == runs[1]
    assert runs[0][0] == 1  # the batch has error lines
    assert len(runs[0][1].splitlines()) == len(_batch())


def test_a_worker_killed_mid_run_loses_and_repeats_no_line(cluster_cpus):
    # Distinct policies on every line: each compiled, so a shard takes long
    # enough that the kill lands while the actor is working on one.
    lines = [json.dumps({"policies": _policies(f"arn:aws:s3:::b/{i}/*"), "request": _request(f"{i % 7}/k")})
             for i in range(400)]
    lines[17] = "not json"
    expected = _local(lines)
    # Four shards in flight an actor: the victim has work queued whenever it is killed.
    with scale.Cluster(workers=2, window=8) as cluster:
        victim = cluster.pids()[0]
        answers = cluster.simulate(read_lines(_stream(lines)), per_shard=50)
        got = [next(answers)]
        os.kill(victim, signal.SIGKILL)
        got += list(answers)
        assert cluster.retried >= 1  # the kill did take a shard down with it
    assert [o["line"] for o in got] == list(range(1, 401))
    assert got == expected


def test_proof_batches_answer_as_one_process_does(cluster_cpus):
    narrow = {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:GetObject",
                                                     "Resource": "arn:aws:s3:::b/*"}}
    wide = {**narrow, "Statement": {**narrow["Statement"], "Action": "s3:Get*"}}
    lines = [json.dumps({"new": narrow, "existing": wide}), json.dumps({"new": wide, "existing": narrow}),
             json.dumps({"new": "policy.json", "existing": narrow}),
             json.dumps({"new": narrow, "existing": wide, "policy_type": "nonsense"}), "{",
             json.dumps({"new": narrow, "existing": narrow, "policy_type": "identity"})]
    prover = Prover("check-no-new-access")
    expected = list(answer_lines(read_lines(_stream(lines)), prover.answer_line, BatchCounts()))
    assert [o.get("result") for o in expected] == ["PASS", "FAIL", None, None, None, "PASS"]
    with scale.Cluster(workers=2) as cluster:
        got = list(cluster.prove("check-no-new-access", read_lines(_stream(lines)), per_shard=2))
    # Elapsed times differ from run to run; everything else is the answer.
    strip = lambda out: [{k: v for k, v in o.items() if k != "elapsed_ms"} for o in out]  # noqa: E731
    assert strip(got) == strip(expected)
    assert got[1]["witness"] == expected[1]["witness"]


def test_proof_batches_from_the_command_line(cluster_cpus, tmp_path, capsys):
    narrow = {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:GetObject",
                                                     "Resource": "arn:aws:s3:::b/*"}}
    wide = {**narrow, "Statement": {**narrow["Statement"], "Action": "s3:Get*"}}
    path = tmp_path / "pairs.jsonl"
    path.write_text("\n".join([json.dumps({"new": narrow, "existing": wide}), "[]",
                               json.dumps({"new": wide, "existing": narrow})]) + "\n")
    runs = []
    for engine in ("local", "ray"):
        with pytest.raises(SystemExit) as done:
            main(["check-no-new-access", "--batch", str(path), "--engine", engine])
        out = capsys.readouterr()
        answers = [{k: v for k, v in json.loads(line).items() if k != "elapsed_ms"} for line in out.out.splitlines()]
        runs.append((done.value.code, answers, out.err))
    assert runs[0] == runs[1]
    assert [a.get("result") for a in runs[0][1]] == ["PASS", None, "FAIL"] and runs[0][0] == 1


def test_who_can_and_reach_answer_as_one_process_does(cluster_cpus):
    data = load_account_data(ORGANIZATION)
    resource = "arn:aws:s3:::prod-data/reports/q3.csv"
    expected = [a.to_dict() for a in who_can(data, "s3:GetObject", resource)]
    assert any(a["decision"] == "allow" for a in expected) and any(a["decision"] != "allow" for a in expected)
    alice = "arn:aws:iam::111111111111:user/alice"
    chains = [(c.role, [(r, a.principal) for r, a in c.hops]) for c in reach(data, alice)]
    assert len(chains) > 5
    with scale.Cluster(workers=2) as cluster:
        assert parallel_who_can(data, ORGANIZATION, "s3:GetObject", resource, None, False, 30_000, 1,
                                runner=cluster.run) == expected
        got = reach(data, alice, folder=ORGANIZATION, runner=cluster.run)
    assert [(c.role, [(r, a.principal) for r, a in c.hops]) for c in got] == chains


def test_a_worker_killed_during_who_can_is_replaced(cluster_cpus):
    data = load_account_data(ORGANIZATION)
    resource = "arn:aws:s3:::prod-data/reports/q3.csv"
    expected = parallel_who_can(data, ORGANIZATION, "s3:GetObject", resource, None, False, 30_000, 1,
                                runner=lambda f, shards, progress: [f(s) for s in shards])
    with scale.Cluster(workers=2) as cluster:
        pids = cluster.pids()
        # Killed as soon as the first shard is back: what that actor had
        # still to send back is sent again.
        kill = lambda done, total: done == 1 and os.kill(pids[1], signal.SIGKILL)  # noqa: E731
        got = parallel_who_can(data, ORGANIZATION, "s3:GetObject", resource, None, False, 30_000, 1, kill,
                               runner=cluster.run)
    assert got == expected


@pytest.mark.parametrize("command", [
    ["who-can", "s3:GetObject", "arn:aws:s3:::prod-data/reports/q3.csv", "--all"],
    ["what-can", "arn:aws:iam::333333333333:role/Deployer"],
    ["reach", "arn:aws:iam::111111111111:user/alice"],
])
def test_account_questions_from_the_command_line(cluster_cpus, capsys, command):
    runs = []
    for engine in ("local", "ray"):
        with pytest.raises(SystemExit) as done:
            main([*command, "--account-data", str(ORGANIZATION), "--format", "json", "--engine", engine])
        runs.append((done.value.code, capsys.readouterr().out))
    assert runs[0] == runs[1]
    assert json.loads(runs[0][1])  # something was answered


def test_privesc_all_answers_as_one_process_does(cluster_cpus, capsys):
    # The escalation graph's rounds as shards over the actors: every path of
    # every principal, byte for byte what one process prints.
    folder = ORGANIZATION.parent / "escalation"
    runs = []
    for engine in ("local", "ray"):
        with pytest.raises(SystemExit) as done:
            main(["privesc", "--all", "--account-data", str(folder), "--format", "json", "--engine", engine])
        runs.append((done.value.code, capsys.readouterr().out))
    assert runs[0] == runs[1]
    assert runs[0][0] == 2 and len(json.loads(runs[0][1])["findings"]) > 10  # escalations found


def test_privesc_of_one_principal_is_refused_on_ray(capsys):
    with pytest.raises(SystemExit) as done:
        main(["privesc", "arn:aws:iam::111111111111:user/alice", "--account-data", str(ORGANIZATION),
              "--engine", "ray"])
    assert done.value.code == 1 and "--engine ray is for --all" in capsys.readouterr().err


def test_without_ray_the_error_names_the_extra(tmp_path, capsys, monkeypatch):
    path = tmp_path / "batch.jsonl"
    path.write_text(_batch()[0] + "\n")
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now fails, as where it is not installed
    with pytest.raises(SystemExit) as done:
        main(["simulate", "--batch", str(path), "--engine", "ray"])
    assert done.value.code == 1
    err = capsys.readouterr().err
    assert "pip install 'iamlogic[ray]'" in err and "Traceback" not in err


def test_an_address_where_no_cluster_answers_is_a_clear_error(tmp_path, capsys):
    path = tmp_path / "batch.jsonl"
    path.write_text(_batch()[0] + "\n")
    with pytest.raises(SystemExit) as done:  # port 1 of the loopback: nothing listens there
        main(["simulate", "--batch", str(path), "--engine", "ray", "--address", "127.0.0.1:1"])
    assert done.value.code == 1
    err = capsys.readouterr().err
    assert "--address 127.0.0.1:1: no Ray cluster answers there" in err and "Traceback" not in err


def test_more_workers_than_the_cluster_has_cpus_is_refused(cluster_cpus):
    # An actor holds a CPU: a third on 2 CPUs would wait for one forever.
    with pytest.raises(UsageError, match="3 workers asked, but the Ray cluster has 2 CPUs"):
        scale.Cluster(workers=3)


def test_address_is_refused_without_the_ray_engine(tmp_path, capsys):
    path = tmp_path / "batch.jsonl"
    path.write_text(_batch()[0] + "\n")
    with pytest.raises(SystemExit) as done:
        main(["simulate", "--batch", str(path), "--address", "127.0.0.1:6379"])
    assert done.value.code == 1
    assert "--address is for --engine ray" in capsys.readouterr().err
