"""The CI slice of the adversarial soundness harness (bench/soundness.py):
random questions aimed at where proofs go wrong; every PASS / PROVEN NEVER
attacked with concrete requests the kernel decides, every FAIL witness
replayed; an UNKNOWN from an internal error or an exception is a defect too.
The slice is checked not to be vacuous (every question kind answered, PASSes
attacked with many requests) and to catch a proof that is wrong on purpose."""

from __future__ import annotations

import random
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))

import soundness  # noqa: E402

SEED = 13
QUESTIONS = 60
SAMPLES = 200


def test_no_false_pass_or_proven_never_on_the_slice():
    tally = soundness.run(QUESTIONS, SAMPLES, SEED)
    assert not tally.wrong, "\n".join(str(w) for w in tally.wrong)
    kinds = {kind for kind, _, _ in tally.counts}
    assert kinds == set(soundness.KINDS)
    passes = sum(n for (_, _, result), n in tally.counts.items() if result == "PASS")
    assert passes >= QUESTIONS // 5 and tally.requests >= passes * SAMPLES // 4


def test_the_attacker_catches_a_wrong_pass():
    # A PASS that is wrong by construction: the new policy grants a Bedrock
    # model whose id holds ':' and an action the catalogue does not list.
    model = "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-5-sonnet-20240620-v1:0"
    new = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "bedrock:InvokeModel", "Resource": model},
        {"Effect": "Allow", "Action": "s3:NewAction2030", "Resource": "*"}]}
    old = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
    for typed in (True, False):
        question = soundness.Question("no-new-access", typed, {"new": new, "old": old})
        problem, tried = soundness.attack(question, 300, random.Random(1))
        assert problem is not None and tried > 0
