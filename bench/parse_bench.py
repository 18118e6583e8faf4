"""Parsing + translating 1,000 policies of ~5 KB into the model.

Prints, for the same generated policies in the same run:
- json.loads alone (the floor),
- the Lark grammar alone (policy.lark, LALR; the slow path the fast path avoids),
- read_policy: decode + structure checks + typed model, spans lazy (cold, then warm),
- the cost of asking for positions: one span per policy (the Lark parse it triggers).

Run: make bench   (or .venv/bin/python bench/parse_bench.py [--count N])
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from policies import corpus  # noqa: E402

from iamlogic.grammar import lark_parser, parse_action, parse_resource, parse_template  # noqa: E402
from iamlogic.translator import read_policy  # noqa: E402


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def timed(fn, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    docs = corpus(args.count)
    size = sum(map(len, docs)) / len(docs)
    statements = sum(len(json.loads(d)["Statement"]) for d in docs)
    print(f"machine: {machine()}")
    print(f"input: {len(docs)} generated policies, {size:,.0f} characters each on average, {statements:,} statements")

    lark = lark_parser("policy")
    for cache in (parse_action, parse_resource, parse_template):
        cache.cache_clear()
    cold = timed(lambda: [read_policy(d) for d in docs], 1)[0]
    rows = [
        ("json.loads alone", timed(lambda: [json.loads(d) for d in docs], args.runs)),
        ("Lark LALR grammar alone", timed(lambda: [lark.parse(d) for d in docs], max(1, args.runs // 2))),
        ("read_policy (model, spans lazy), warm", timed(lambda: [read_policy(d) for d in docs], args.runs)),
    ]

    def with_spans():
        for d in docs:
            policy, _ = read_policy(d)
            assert policy.statements[-1].span is not None

    rows.append(("read_policy + one span per policy", timed(with_spans, max(1, args.runs // 2))))

    print(f"{'what':44} {'median':>9} {'min':>9}   per policy")
    for name, times in rows:
        med = statistics.median(times)
        print(f"{name:44} {med:8.3f}s {min(times):8.3f}s   {med / len(docs) * 1e3:.3f} ms")
    print(f"{'read_policy, cold (caches empty)':44} {cold:8.3f}s")
    lark_med = statistics.median(rows[1][1])
    model_med = statistics.median(rows[2][1])
    print(f"read_policy is {lark_med / model_med:.1f}x faster than the Lark grammar alone (same run)")
    print(f"target: 1,000 policies in <= 1 s -> {'met' if model_med * 1000 / len(docs) <= 1.0 else 'NOT met'}")


if __name__ == "__main__":
    main()
