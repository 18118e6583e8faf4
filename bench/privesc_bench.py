"""Privilege escalation at scale, on the generated organization of
bench/accounts_bench.py (bench/organization.py: 50 accounts, 10,000 roles):
the full escalation closure to admin with every method (one process and
two), one principal's ``privesc --to admin``, and peak memory.

Targets (the escalation issue): the full closure ≤ 120 s in one process,
``--jobs 2`` faster, one principal ≤ 2 s, memory ≤ 2 GB.

Run: make bench, or .venv/bin/python bench/privesc_bench.py [--roles N] [--escalation SHARE]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import organization  # noqa: E402
from parse_bench import machine  # noqa: E402

from iamlogic.accounts import load_account_data  # noqa: E402
from iamlogic.accounts.escalation import Goal  # noqa: E402
from iamlogic.accounts.privesc import privesc, privesc_all  # noqa: E402


def add_escalation(folder: Path, share: float, seed: int = 11) -> int:
    """Escalation rights on a ``share`` of the roles (the generated
    organization has none beyond AssumeRole): PassRole with Lambda,
    PutRolePolicy on the account's roles, AttachRolePolicy with AssumeRole
    of one role, CreateAccessKey on the account's users. Returns how many."""
    import json
    import random

    rnd = random.Random(seed)
    added = 0
    for path in sorted((folder / "authorization").glob("*.json")):
        export = json.loads(path.read_text())
        account = path.stem
        names = [r["RoleName"] for r in export["RoleDetailList"]]
        for role in export["RoleDetailList"]:
            if rnd.random() >= share:
                continue
            other = f"arn:aws:iam::{account}:role/{rnd.choice(names)}"
            statement = rnd.choice([
                {"Effect": "Allow", "Action": ["iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction"],
                 "Resource": "*"},
                {"Effect": "Allow", "Action": "iam:PutRolePolicy", "Resource": f"arn:aws:iam::{account}:role/*"},
                {"Effect": "Allow", "Action": ["iam:AttachRolePolicy", "sts:AssumeRole"], "Resource": other},
                {"Effect": "Allow", "Action": "iam:CreateAccessKey", "Resource": f"arn:aws:iam::{account}:user/*"}])
            role["RolePolicyList"].append({"PolicyName": "escalation", "PolicyDocument": {
                "Version": "2012-10-17", "Statement": [statement]}})
            added += 1
        path.write_text(json.dumps(export))
    return added


def _cpu() -> float:
    """CPU seconds of this process and its finished workers: on a shared
    machine wall time varies with the load, CPU time much less."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(label: str, fn):
    started, cpu = time.perf_counter(), _cpu()
    result = fn()
    print(f"{label}: {time.perf_counter() - started:.1f} s ({_cpu() - cpu:.1f} CPU s)")
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--roles", type=int, default=10_000)
    parser.add_argument("--accounts", type=int, default=50)
    parser.add_argument("--escalation", type=float, default=0.0, metavar="SHARE",
                        help="give this share of the roles escalation rights (default none)")
    args = parser.parse_args()
    print(machine())
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "org"
        info = organization.generate(folder, accounts=args.accounts, roles=args.roles,
                                     managed=max(args.roles // 5, args.accounts))
        print(f"generated: {info['accounts']} accounts, {info['roles']} roles, {info['managed']} managed policies")
        if args.escalation:
            print(f"  {add_escalation(folder, args.escalation)} roles given escalation rights")
        data = timed("ingestion", lambda: load_account_data(folder))
        finding = timed(f"privesc {info['user']} --to admin", lambda: privesc(data, info["user"], Goal()))
        print(f"  found: {finding.found}, {len(finding.paths)} shortest paths"
              + (f" of {len(finding.paths[0])} steps" if finding.paths else ""))
        for jobs in (1, 2):
            found = timed(f"full escalation closure to admin, {jobs} process{'es' if jobs > 1 else ''}",
                          lambda: privesc_all(data, Goal(), jobs=jobs, folder=folder, paths=False))
            print(f"  {len(found)} of {len(data.principals)} principals reach admin")
        # one that gets there by escalating, not by its own policies
        for start in sorted(f.start for f in found)[:40]:
            began = time.perf_counter()
            one = privesc(data, start, Goal())
            if len(one.paths[0]) > 1:
                print(f"privesc {start} --to admin: {time.perf_counter() - began:.1f} s")
                print("  " + " -> ".join([start] + [e.target for e in one.paths[0]]))
                break
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak memory: {own:.0f} MB (this process), {workers:.0f} MB (largest worker)")


if __name__ == "__main__":
    main()
