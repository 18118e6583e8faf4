"""The public API from many threads at once (README "Limits"): every
question kind, typed and untyped, kernel decisions and who-can (with its
proofs), asked by 8 threads for a few seconds, each answer equal to the one
asked alone. Z3's context is not thread-safe: without the proofs' lock
(proofs/serial.py) two threads crash the process inside Z3
(Z3_model_dec_ref, Z3_inc_ref) — so the threads run in a subprocess, and a
crash fails this test instead of killing pytest."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = r'''
import json, random, sys, threading, time
from pathlib import Path
from iamlogic.proofs import (can_be_allowed, check_access_not_granted, check_no_new_access,
                             check_no_public_access, equivalent)
from iamlogic.scenario import compile_policies
from iamlogic.accounts import load_account_data, who_can

old = {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}}
new = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "s3:Get*", "Resource": "arn:aws:s3:::b/*",
     "Condition": {"StringEquals": {"aws:PrincipalTag/team": "red"}, "IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}},
    {"Effect": "Deny", "Action": "s3:GetObjectAcl", "Resource": "*",
     "Condition": {"NumericGreaterThan": {"s3:max-keys": "5"}}}]}
home = {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:GetObject",
                                                "Resource": "arn:aws:s3:::b/home/${aws:username}/*"}}
bucket = Path("examples/policies/resource/website-bucket.json")
sandbox = Path("examples/questions/sandbox-admin-iam.json")
data = load_account_data("examples/organization")
engine = compile_policies({"identity": ["examples/policies/identity/developer.json"]})
alice = {"principal": "arn:aws:iam::111122223333:user/alice", "action": "s3:GetObject",
         "resource": "arn:aws:s3:::team-data/home/alice/notes.txt", "resource_account": "111122223333"}

def check(c):
    out = c.to_dict()
    del out["elapsed_ms"]
    return json.dumps(out, sort_keys=True, default=str)

QUESTIONS = {}
for typed in (True, False):
    t = "typed" if typed else "untyped"
    QUESTIONS[f"cnna {t}"] = lambda typed=typed: check(check_no_new_access(new, old, typed=typed))
    QUESTIONS[f"cnna pass {t}"] = lambda typed=typed: check(check_no_new_access(old, new, typed=typed))
    QUESTIONS[f"cnna variables {t}"] = lambda typed=typed: check(check_no_new_access(home, old, typed=typed))
    QUESTIONS[f"equivalent {t}"] = lambda typed=typed: check(equivalent(new, old, typed=typed))
    QUESTIONS[f"not granted {t}"] = lambda typed=typed: check(check_access_not_granted(new, actions=["s3:GetObjectAcl"], typed=typed))
    QUESTIONS[f"public {t}"] = lambda typed=typed: check(check_no_public_access(bucket, "AWS::S3::Bucket", typed=typed))
    QUESTIONS[f"can be allowed {t}"] = lambda typed=typed: check(can_be_allowed(sandbox, typed=typed))
    QUESTIONS[f"can be allowed new policy set {t}"] = lambda typed=typed: check(can_be_allowed(
        {"policies": {"identity": [new]}, "request": {"action": "s3:GetObject"}}, typed=typed))
QUESTIONS["decide"] = lambda: json.dumps([engine.decide(alice).decision,
                                          engine.decide({**alice, "action": "iam:CreateUser"}).decision])
QUESTIONS["who-can conditional"] = lambda: json.dumps(
    [a.to_dict() for a in who_can(data, "s3:GetObject", "arn:aws:s3:::prod-data/analytics/q3.csv", {}, conditional=True)],
    sort_keys=True, default=str)

alone = {name: ask() for name, ask in QUESTIONS.items()}
wrong, asked, errors = [], [0], []
stop = time.monotonic() + float(sys.argv[1])

def worker(seed):
    rnd = random.Random(seed)
    names = sorted(QUESTIONS)
    try:
        while time.monotonic() < stop:
            name = rnd.choice(names)
            answer = QUESTIONS[name]()
            asked[0] += 1
            if answer != alone[name]:
                wrong.append((name, answer))
    except Exception as e:
        errors.append(repr(e))

threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(f"asked {asked[0]} wrong {len(wrong)} errors {len(errors)}")
for name, answer in wrong[:3]:
    print("WRONG", name, answer[:300], "ALONE", alone[name][:300])
for e in errors[:3]:
    print("ERROR", e)
sys.exit(1 if wrong or errors else 0)
'''


def test_eight_threads_get_the_answers_one_thread_gets():
    out = subprocess.run([sys.executable, "-c", SCRIPT, "4"], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert out.returncode == 0, f"exit {out.returncode}\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}"
    assert " wrong 0 errors 0" in out.stdout
    asked = int(out.stdout.split()[1])
    assert asked > 8, out.stdout  # every thread got answers
