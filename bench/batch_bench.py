"""Batch throughput and memory: `iamlogic simulate --batch` fed through a
pipe (the input is generated as it is read, so no file limits the size).

    python bench/batch_bench.py [--lines N] [--decisions M]

prints lines/s for self-contained lines (every line carries its policies, as
research scripts write them) and for named-policy-set lines, each with and
without --brief, and the peak memory of the process while it streams M
decisions.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
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


def _request(i: int) -> dict:
    return {"principal": f"arn:aws:sts::{ACCOUNT}:assumed-role/Admin/s{i % 7}", "action": ACTIONS[i % 5],
            "resource": f"arn:aws:s3:::bucket/k{i % 11}", "resource_account": ACCOUNT,
            "context": {"aws:RequestedRegion": REGIONS[i % 2]}}


def _lines(n: int, named: bool):
    if named:
        yield json.dumps({"policy_set": "p", "policies": POLICIES}) + "\n"
        for i in range(n):
            yield json.dumps({"policy_set": "p", "request": _request(i)}) + "\n"
    else:
        for i in range(n):
            yield json.dumps({"policies": POLICIES, "request": _request(i)}) + "\n"


def _run(n: int, named: bool, brief: bool) -> tuple[float, int, int]:
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
    for line in _lines(n, named):
        batch.append(line)
        if len(batch) == 2000:
            proc.stdin.write("".join(batch).encode())
            batch.clear()
    proc.stdin.write("".join(batch).encode())
    proc.stdin.close()
    proc.wait()
    reader.join()
    seconds = time.perf_counter() - started
    return seconds, counted[0], resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--decisions", type=int, default=1_000_000)
    args = parser.parse_args()
    print(f"batch: {platform.processor() or platform.machine()}, Python {platform.python_version()}")
    for named in (False, True):
        for brief in (False, True):
            seconds, out, _ = _run(args.lines, named, brief)
            kind = "named policy set" if named else "self-contained"
            print(f"  {kind:17} {'--brief' if brief else 'full   '}  {args.lines} lines: {seconds:.1f} s, "
                  f"{args.lines / seconds:,.0f} lines/s ({out} lines out)")
    seconds, out, peak = _run(args.decisions, True, True)
    print(f"  streamed {args.decisions:,} decisions (named, --brief) in {seconds:.0f} s; {out:,} lines out; "
          f"peak memory of any run {peak / 1024:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
