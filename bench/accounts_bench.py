"""Account data at scale: a generated organization (bench/organization.py:
50 accounts, 10,000 roles, 2,000 managed policies) — ingestion, who-can for
one action and resource over every principal, the full role-assumption
closure (one process and two), and peak memory.

Targets (the accounts issue): ingestion ≤ 30 s, who-can ≤ 5 s, the full
closure ≤ 60 s, memory ≤ 2 GB.

Run: make bench
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import organization  # noqa: E402
from parse_bench import machine  # noqa: E402

from iamlogic.accounts import load_account_data, who_can  # noqa: E402
from iamlogic.accounts.reach import reach_all  # noqa: E402


def timed(label: str, fn):
    started = time.perf_counter()
    result = fn()
    print(f"{label}: {time.perf_counter() - started:.1f} s")
    return result


def main() -> None:
    print(machine())
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "org"
        info = organization.generate(folder)
        print(f"generated: {info['accounts']} accounts, {info['roles']} roles, {info['managed']} managed policies")
        data = timed("ingestion", lambda: load_account_data(folder))
        print(f"  {data.summary()}")
        answers = timed(f"who-can s3:GetObject {info['bucket']} over every principal",
                        lambda: who_can(data, "s3:GetObject", info["bucket"]))
        print(f"  {sum(a.allowed for a in answers)} of {len(answers)} callers allowed")
        for jobs in (1, 2):
            closure = timed(f"full role-assumption closure, {jobs} process{'es' if jobs > 1 else ''}",
                            lambda: reach_all(data, jobs=jobs, folder=folder))
            print(f"  {sum(len(v) for v in closure.values())} (principal, reachable role) pairs, "
                  f"{len(closure)} principals reach some role")
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak memory: {own:.0f} MB (this process), {workers:.0f} MB (largest worker)")


if __name__ == "__main__":
    main()
