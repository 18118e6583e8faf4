"""The proofs: agreement with the external corpora and time per check.

Prints, on this machine:
- CheckNoNewAccess samples (../shared/corpora): agreement, median / p99 per check;
- quacky mutation pairs: agreement with the recorded relation, median / p99
  per direction (documents read as the type they are written as; see
  tests/test_proof_corpora.py for the readings);
- awspolicyequivalence "equivalent" pairs: how many are proven (the others
  are documents AWS rejects);
- equivalence of a 200-statement policy with a semantically refactored copy;
- can-be-allowed with a fixed caller and action on the generated accounts
  (bench/account.py, 557 and 6,460 statements);
- check-no-public-access on bucket policies with Principal "*" and seeded
  random conditions on the keys an outsider chooses or the policy fixes, and
  on GitHub trust policies.

Run: make bench
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

import account  # noqa: E402
from parse_bench import machine  # noqa: E402

from iamlogic.errors import IamlogicError  # noqa: E402
from iamlogic.proofs import check_no_new_access, check_no_public_access, equivalent  # noqa: E402
from iamlogic.proofs.stack import Open, can_be_allowed  # noqa: E402
from iamlogic.scenario import compile_policies  # noqa: E402

CORPORA = HERE.parent.parent / "shared" / "corpora"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def records(name: str) -> list[dict]:
    path = CORPORA / name
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.is_file() else []


def cnna() -> None:
    rows = records("aws_checknonewaccess.pairs.jsonl")
    if not rows:
        print("CheckNoNewAccess samples: corpus absent")
        return
    check_no_new_access(rows[0]["p1"], rows[0]["p2"], rows[0]["policy_type"])  # load the catalogue once
    times, agree, unknown = [], 0, 0
    for r in rows:
        check = check_no_new_access(r["p1"], r["p2"], r["policy_type"])
        times.append(check.elapsed_ms)
        agree += check.result == ("PASS" if r["p1_le_p2"] else "FAIL")
        unknown += check.result == "UNKNOWN"
    print(f"CheckNoNewAccess samples: {agree}/{len(rows)} agree, {unknown} UNKNOWN, "
          f"median {statistics.median(times):.0f} ms, p99 {percentile(times, 0.99):.0f} ms, "
          f"max {max(times):.0f} ms")


def quacky() -> None:
    from test_proof_corpora import RELATION, documents_type

    rows = records("quacky.pairs.jsonl")
    if not rows:
        print("quacky pairs: corpus absent")
        return
    times, agree, rejected = [], 0, 0
    for r in rows:
        try:
            checks = [check_no_new_access(x, y, documents_type(r)) for x, y in ((r["p1"], r["p2"]), (r["p2"], r["p1"]))]
        except IamlogicError:
            rejected += 1
            continue
        times += [c.elapsed_ms for c in checks]
        agree += RELATION[(checks[0].result == "PASS", checks[1].result == "PASS")] == r["relation"]
    print(f"quacky pairs: {agree}/{len(rows)} agree ({rejected} rejected as AWS would), "
          f"median {statistics.median(times):.0f} ms, p99 {percentile(times, 0.99):.0f} ms per direction")


def awspolicyequivalence() -> None:
    from test_proof_corpora import documents_type

    rows = [r for r in records("awspolicyequivalence.pairs.jsonl") if r["relation"] == "equivalent"]
    proven = rejected = 0
    for r in rows:
        try:
            proven += equivalent(r["p1"], r["p2"], documents_type(r)).result == "PASS"
        except IamlogicError:
            rejected += 1
    print(f"awspolicyequivalence equivalent pairs: {proven} proven, {rejected} rejected as AWS would "
          f"(of {len(rows)})")


ACTIONS = [f"{s}:{a}" for s, names in account.SERVICES.items() for a in names]


def refactor_pair(rnd: random.Random, statements: int = 200) -> tuple[dict, dict]:
    """A policy and a copy refactored semantically: statements with two
    actions split in two, actions re-cased, lists reordered, and each
    "s3:Get*" written out as the actions it stands for."""
    from iamlogic.kernel.catalogue import CATALOGUE

    original, refactored = [], []
    gets = sorted(CATALOGUE.expand("s3:Get*"))
    for i in range(statements):
        actions = rnd.sample(ACTIONS, 2)
        resource = f"arn:aws:s3:::bucket-{i}/*" if rnd.random() < 0.7 else f"arn:aws:dynamodb:*:*:table/t-{i}"
        st = {"Effect": "Allow", "Action": actions, "Resource": [resource]}
        if i % 10 == 0:
            st = {"Effect": "Allow", "Action": "s3:Get*", "Resource": [resource]}
            refactored.append({"Effect": "Allow", "Action": list(reversed(gets)), "Resource": [resource]})
        else:
            refactored += [{"Effect": "Allow", "Action": a.upper(), "Resource": [resource]} for a in actions]
        original.append(st)
    rnd.shuffle(refactored)
    return ({"Version": "2012-10-17", "Statement": original}, {"Version": "2012-10-17", "Statement": refactored})


def refactor() -> None:
    a, b = refactor_pair(random.Random(3))
    times = []
    for _ in range(3):
        check = equivalent(a, b)
        times.append(check.elapsed_ms)
    print(f"equivalence, 200 statements vs a semantically refactored copy ({len(b['Statement'])} statements): "
          f"{check.result}, median of 3 {statistics.median(times):.0f} ms")


def stack() -> None:
    # Asked twice of one compiled policy set: the first time encodes each
    # statement's condition block and resource patterns; a script asking many
    # questions of one engine pays that once (the second figure).
    for size in (557, 6460):
        engine = compile_policies(account.policies(size))
        for label in ("first ask", "asked again"):
            times, answers = [], {}
            for r in account.requests(20):
                question = Open([r["principal"]], r["action"], None, r.get("resource_account"))
                started = time.perf_counter()
                result = can_be_allowed(engine, question, 30_000)
                times.append((time.perf_counter() - started) * 1000)
                key = {True: "allowed", False: "never"}.get(result.holds, "unknown")
                answers[key] = answers.get(key, 0) + 1
            print(f"can-be-allowed, {size} statements, fixed caller and action, resource and context free, "
                  f"{label}: median {statistics.median(times):.1f} ms, p90 {percentile(times, 0.9):.0f} ms, "
                  f"max {max(times):.0f} ms over 20 questions {answers}")


# Condition clauses a public-access question meets: on keys an outsider
# chooses, and values a policy fixes.
PUBLIC_CLAUSES = [
    ("StringEquals", "aws:PrincipalType", "AssumedRole"), ("ArnLike", "aws:PrincipalArn", "arn:aws:iam::*:role/*"),
    ("IpAddress", "aws:SourceIp", "::/0"), ("NotIpAddress", "aws:SourceIp", "198.51.100.0/24"),
    ("StringLike", "aws:PrincipalOrgID", "o-*"), ("StringLike", "aws:SourceVpce", "vpce-*"),
    ("Null", "aws:SourceVpce", "false"), ("StringEquals", "aws:PrincipalAccount", "999999999999"),
    ("StringEquals", "aws:PrincipalOrgID", "o-abc1234567"), ("StringEquals", "aws:SourceVpce", "vpce-0abc1234"),
    ("IpAddress", "aws:SourceIp", "203.0.113.0/24"), ("StringLike", "aws:Referer", "https://example.com/*"),
    ("Bool", "aws:SecureTransport", "true"), ("StringLike", "aws:userid", "AROAEXAMPLEID:*"),
    ("StringEquals", "aws:SourceAccount", "444455556666"),
]


def public() -> None:
    rnd = random.Random(7)
    policies = []
    for _ in range(40):
        condition: dict = {}
        for op, key, value in rnd.sample(PUBLIC_CLAUSES, rnd.randint(1, 3)):
            condition.setdefault(op, {})[key] = value
        policies.append(("AWS::S3::Bucket", {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::site/*",
             "Condition": condition}]}))
    provider = "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"
    for sub in (None, "repo:octo-org/*", "repo:*"):
        condition = {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}}
        if sub:
            condition["StringLike"] = {"token.actions.githubusercontent.com:sub": sub}
        policies.append(("AWS::IAM::AssumeRolePolicyDocument", {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Federated": provider}, "Action": "sts:AssumeRoleWithWebIdentity",
             "Condition": condition}]}))
    times, answers = [], {}
    for resource_type, policy in policies:
        started = time.perf_counter()
        result = check_no_public_access(policy, resource_type).result
        times.append((time.perf_counter() - started) * 1000)
        answers[result] = answers.get(result, 0) + 1
    print(f"check-no-public-access, {len(policies)} policies: median {statistics.median(times):.1f} ms, "
          f"p90 {percentile(times, 0.9):.0f} ms, max {max(times):.0f} ms {answers}")


def main() -> None:
    print(machine())
    cnna()
    quacky()
    awspolicyequivalence()
    refactor()
    stack()
    public()


if __name__ == "__main__":
    main()
