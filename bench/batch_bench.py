"""Batch throughput and memory: `iamlogic simulate --batch` fed through a
pipe (the input is generated as it is read, so no file limits the size).

    python bench/batch_bench.py [--lines N] [--decisions M]

prints lines/s for self-contained lines (every line carries its policies, as
research scripts write them) and for named-policy-set lines, each with and
without --brief, for two mixes of requests: "repeated" (2,310 distinct
requests, asked again and again as a CloudTrail log asks them: answers kept
by line text do most of the work) and "distinct" (no request asked twice:
every line decided afresh). Then it streams M decisions (one line in ten a
request never seen before) and prints the peak memory of that process.
"""

from __future__ import annotations

import argparse
import json
import platform
import os
import subprocess
import sys
import threading
import time

ACCOUNT = "111122223333"
POLICIES = {
    "identity": [{"Version": "2012-10-17", "Statement": [
        {"Sid": "Admin", "Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Sid": "NoIam", "Effect": "Deny", "Action": "iam:*", "Resource": "*",
         "Condition": {"StringNotEquals": {"aws:PrincipalTag/team": "platform"}}}]}],
    "scps": [[{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}],
             [{"Version": "2012-10-17", "Statement": {
                 "Effect": "Deny", "NotAction": ["iam:*", "sts:*"], "Resource": "*",
                 "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1", "eu-central-1"]}}}}]],
}
ACTIONS = ["s3:GetObject", "iam:CreateUser", "ec2:RunInstances", "logs:PutLogEvents", "sqs:SendMessage"]
REGIONS = ["eu-west-1", "us-east-1"]


def _request(i: int, distinct: bool = False) -> dict:
    return {"principal": f"arn:aws:sts::{ACCOUNT}:assumed-role/Admin/s{i % 7}", "action": ACTIONS[i % 5],
            "resource": f"arn:aws:s3:::bucket/k{i if distinct else i % 11}", "resource_account": ACCOUNT,
            "context": {"aws:RequestedRegion": REGIONS[i % 2]}}


def _line(i: int, named: bool, distinct: bool) -> str:
    if named:
        return json.dumps({"policy_set": "p", "request": _request(i, distinct)}) + "\n"
    return json.dumps({"policies": POLICIES, "request": _request(i, distinct)}) + "\n"


def _lines(n: int, named: bool, distinct: bool = False, fresh_every: int = 0):
    """n request lines (after the set's definition when named); with
    ``fresh_every`` k, repeated requests but every k-th one never seen before."""
    if named:
        yield json.dumps({"policy_set": "p", "policies": POLICIES}) + "\n"
    pool = [_line(i, named, False) for i in range(2310)] if not distinct else None
    for i in range(n):
        if distinct or (fresh_every and i % fresh_every == 0):
            yield _line(i, named, True)
        else:
            yield pool[i % 2310]


def _run(n: int, named: bool, brief: bool, distinct: bool = False, fresh_every: int = 0) -> tuple[float, int, int]:
    """Seconds, output lines and the child's peak RSS (KiB) for n lines."""
    args = [sys.executable, "-m", "iamlogic", "simulate", "--batch", "-"] + (["--brief"] if brief else [])
    proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    counted = [0]

    def drain():
        for _ in proc.stdout:
            counted[0] += 1

    reader = threading.Thread(target=drain)
    reader.start()
    started = time.perf_counter()
    batch: list[str] = []
    for line in _lines(n, named, distinct, fresh_every):
        batch.append(line)
        if len(batch) == 2000:
            proc.stdin.write("".join(batch).encode())
            batch.clear()
    proc.stdin.write("".join(batch).encode())
    proc.stdin.close()
    _, _, usage = os.wait4(proc.pid, 0)  # this child's own peak, not the largest of every run
    proc.returncode = 0
    reader.join()
    seconds = time.perf_counter() - started
    return seconds, counted[0], usage.ru_maxrss


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--decisions", type=int, default=10_000_000)
    args = parser.parse_args()
    print(f"batch: {platform.processor() or platform.machine()}, Python {platform.python_version()}")
    for distinct in (False, True):
        for named in (False, True):
            for brief in (False, True):
                # Ten times the lines where most are answered from memory: the
                # process's start (~0.5 s) is then a small part of the figure.
                n = args.lines if distinct else 10 * args.lines
                seconds, out, _ = _run(n, named, brief, distinct)
                kind = "named policy set" if named else "self-contained"
                print(f"  {'distinct' if distinct else 'repeated'} {kind:17} {'--brief' if brief else 'full   '} "
                      f"{n:,} lines: {seconds:.1f} s, {n / seconds:,.0f} lines/s ({out:,} lines out)")
    seconds, out, peak = _run(args.decisions, True, True, fresh_every=10)
    print(f"  streamed {args.decisions:,} decisions (named, --brief, one in ten never seen before) in {seconds:.0f} s "
          f"({args.decisions / seconds:,.0f}/s); {out:,} lines out; peak memory of that process {peak / 1024:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
