"""Deciding requests: latency per request (warm), compile time, and the peer
simulator iam-simulate measured side by side on the same scenarios.

For the generated account (bench/account.py) at 557 and 6,460 statements
(and 6,460 with half the statements conditional), prints:
- compile time (median of 3),
- p50 / p99 per request over 2,000 requests, after one warm pass,
- iam-simulate's p50 / p99 on a sample of the same requests (Node, after a
  warm-up), the ratio of the medians, and how many answers agree.

Run: make bench   (the peer is installed from npm into bench/peer/)
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import account  # noqa: E402
from parse_bench import machine  # noqa: E402

import iamlogic  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def ours(policies: dict, requests: list[dict]) -> tuple[float, list[float], list[str]]:
    compile_times = []
    for _ in range(3):
        start = time.perf_counter()
        engine = iamlogic.compile(policies)
        compile_times.append(time.perf_counter() - start)
    for r in requests:  # warm: plans, regexes, Datalog outcomes
        engine.decide(r)
    latencies, decisions = [], []
    for r in requests:
        start = time.perf_counter_ns()
        d = engine.decide(r)
        latencies.append((time.perf_counter_ns() - start) / 1000)
        decisions.append(d.decision)
    return statistics.median(compile_times), latencies, decisions


def peer(policies: dict, requests: list[dict]) -> dict | None:
    node = shutil.which("node")
    script = HERE / "peer" / "iam_simulate_bench.mjs"
    if node is None or not (HERE / "peer" / "node_modules" / "@cloud-copilot" / "iam-simulate").is_dir():
        return None
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump({"policies": policies, "requests": requests}, f)
    try:
        out = subprocess.run([node, str(script), f.name], capture_output=True, text=True, timeout=1800)
    finally:
        Path(f.name).unlink()
    if out.returncode != 0:
        print(f"  iam-simulate failed: {out.stderr.strip()[:300]}")
        return None
    return json.loads(out.stdout)


CORPUS = HERE.parent.parent / "shared" / "corpora" / "aws_managed_policies.validate.jsonl"


def first_requests(count: int = 200, actions: int = 60) -> None:
    """The first request of each new action against many AWS managed policies
    attached to one role, against the p99 of warm requests on the same set:
    a first request builds that action's plan (and, for the second action,
    the action index), so it must stay within 10x the warm p99."""
    if not CORPUS.is_file():
        print(f"\nfirst requests: skipped ({CORPUS} is absent)")
        return
    documents = []
    with CORPUS.open() as f:
        for line in f:
            record = json.loads(line)
            if record.get("document_json") is not None:
                documents.append(record["document_json"])
            if len(documents) == count:
                break
    compiled, skipped = [], 0
    for doc in documents:
        try:
            iamlogic.compile({"identity": [doc]})
            compiled.append(doc)
        except Exception:  # reported below, by count
            skipped += 1
    start = time.perf_counter()
    engine = iamlogic.compile({"identity": compiled})
    compile_s = time.perf_counter() - start
    names = []
    for doc in compiled:
        statements = doc["Statement"] if isinstance(doc["Statement"], list) else [doc["Statement"]]
        for st in statements:
            for a in st.get("Action", []) if isinstance(st.get("Action"), list) else [st.get("Action")]:
                if isinstance(a, str) and ":" in a and "*" not in a and "?" not in a and a.lower() not in names:
                    names.append(a.lower())
    names = names[:actions]
    role = "arn:aws:sts::111111111111:assumed-role/Managed/s"

    def ask(action: str) -> float:
        t = time.perf_counter_ns()
        engine.decide({"principal": role, "action": action, "resource": "*"})
        return (time.perf_counter_ns() - t) / 1000

    first = [ask(a) for a in names]
    warm = [ask(a) for _ in range(20) for a in names]
    p50, p99 = percentile(warm, 0.5), percentile(warm, 0.99)
    print(f"\n{len(compiled)} AWS managed policies on one role ({engine.statement_count:,} statements; "
          f"{skipped} not compiled), compile {compile_s * 1000:.0f} ms")
    later = first[2:]
    print(f"  the very first request (the process loads the Datalog rules): {first[0]:,.0f} us; "
          f"the second action's, which builds the action index: {first[1]:,.0f} us")
    print(f"  first request of each of {len(later)} more actions: median {statistics.median(later):,.0f} us, "
          f"max {max(later):,.0f} us;  warm p50 {p50:.1f} us, p99 {p99:.1f} us")
    print(f"  slowest first request after the index / warm p99: {max(later) / p99:,.1f}x (target <= 10x); "
          f"with the index: {max(first[1:]) / p99:,.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--peer-requests", type=int, default=200)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    first_requests()
    configs = [("557 statements", 557, 0.3), ("6,460 statements", 6460, 0.3),
               ("6,460 statements, half conditional", 6460, 0.5)]
    for label, size, share in configs:
        policies = account.policies(size, condition_share=share)
        requests = account.requests(args.requests)
        compile_s, lat, decisions = ours(policies, requests)
        print(f"\n{label} ({account.statement_count(policies):,}; {len(requests):,} requests)")
        print(f"  compile: {compile_s * 1000:.0f} ms")
        p50, p99 = percentile(lat, 0.5), percentile(lat, 0.99)
        print(f"  iamlogic:     p50 {p50:7.1f} us   p99 {p99:7.1f} us   "
              f"(targets: p50 <= 20, p99 <= 100)")
        sample = requests[: args.peer_requests]
        if not sample:
            continue
        result = peer(policies, sample)
        if result is None:
            print("  iam-simulate: not installed (make bench installs it into bench/peer with npm)")
            continue
        valid = [i for i, d in enumerate(result["decisions"]) if d != "error"]
        peer_lat = [result["latencies_us"][i] for i in valid]
        agree = sum(result["decisions"][i] == decisions[i] for i in valid)
        pp50, pp99 = percentile(peer_lat, 0.5), percentile(peer_lat, 0.99)
        ours_sample = [lat[i] for i in valid]
        print(f"  iam-simulate: p50 {pp50:7.1f} us   p99 {pp99:7.1f} us   on {len(valid)} requests it accepts "
              f"({len(sample) - len(valid)} rejected by its validation)")
        print(f"  same requests: iamlogic p50 {percentile(ours_sample, 0.5):.1f} us -> "
              f"{pp50 / percentile(ours_sample, 0.5):,.0f}x faster; answers agree on {agree}/{len(valid)}")


if __name__ == "__main__":
    main()
