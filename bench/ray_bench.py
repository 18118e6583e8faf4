"""The Ray engine (iamlogic/scale.py) on this machine: simulate-batch
throughput with 1 and 2 workers beside one process, the cost of one shard,
what a 16-node cluster would give, and who-can over the generated
10,000-role organization under Ray against one process (identical answers).

    python bench/ray_bench.py [--lines N] [--nodes K] [--cores-per-node C]

Every Ray run's answers are compared with one process's; a difference stops
the benchmark (exit 1). Target (the research-scale issue): 2 workers at
least 1.6 times one worker on a 2-core machine.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import organization  # noqa: E402
from batch_bench import POLICIES, _request  # noqa: E402
from parse_bench import machine  # noqa: E402

from iamlogic import scale  # noqa: E402
from iamlogic.accounts import load_account_data, who_can  # noqa: E402
from iamlogic.accounts.shards import parallel_who_can  # noqa: E402
from iamlogic.batch import BatchCounts, Simulator, read_lines  # noqa: E402


def _lines(n: int) -> list:
    """Self-contained lines as research scripts write them (the policies on
    every line), with a few policy sets in turn; no request asked twice, so
    every line is decided afresh (a kept answer would hide the work)."""
    sets = [POLICIES, {**POLICIES, "scps": POLICIES["scps"][:1]}, {"identity": POLICIES["identity"]}]
    text = "".join(json.dumps({"policies": sets[i % 3], "request": _request(i, distinct=True)}) + "\n"
                   for i in range(n))
    return list(read_lines(io.BytesIO(text.encode())))


def _cpu_seconds(pid: int) -> float:
    """A process's CPU time so far (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _load() -> str:
    return "load average {:.1f}".format(os.getloadavg()[0]) if hasattr(os, "getloadavg") else "load unknown"


def _spin(_=None) -> None:
    x = 0
    for i in range(5_000_000):
        x += i


def _headroom() -> float:
    """How much two plain CPU-bound processes get done beside one, now: 2.0
    on an idle 2-core machine; what the Ray figures can reach at best."""
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(2) as pool:
        list(pool.map(_spin, range(2)))  # started
        started = time.perf_counter()
        list(pool.map(_spin, range(1)))
        one = time.perf_counter() - started
        started = time.perf_counter()
        list(pool.map(_spin, range(2)))
        two = time.perf_counter() - started
    return 2 * one / two


def _fail(what: str) -> None:
    print(f"DIFFERENT ANSWERS: {what}")
    sys.exit(1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=30_000)
    parser.add_argument("--nodes", type=int, default=16)
    parser.add_argument("--cores-per-node", type=int, default=2)
    args = parser.parse_args()
    print(f"ray: {machine()}; {_load()} (a shared machine: figures move with the load)")
    lines = _lines(args.lines)

    # As simulate --batch runs: the answers written out as output lines.
    started = time.perf_counter()
    expected = "".join(text for text, _ in Simulator().encoded(lines, BatchCounts()))
    one_process = args.lines / (time.perf_counter() - started)
    print(f"  one process (--engine local): {one_process:,.0f} lines/s")

    started = time.perf_counter()
    scale.connect(num_cpus=2)
    print(f"  local Ray runtime started in {time.perf_counter() - started:.1f} s")
    rates, worker_cpu = {}, {}
    for workers in (1, 2):
        with scale.Cluster(workers=workers) as cluster:
            # Warm: the actors started and the policy sets compiled once each
            # (a fixed cost, apart from the rate).
            list(cluster.simulate_text(lines[:300], per_shard=100))
            pids = cluster.pids()
            before = [_cpu_seconds(p) for p in pids]
            started, cpu = time.perf_counter(), time.process_time()
            got = "".join(text for text, _ in cluster.simulate_text(lines))
            seconds, driver_cpu = time.perf_counter() - started, time.process_time() - cpu
            worker_cpu[workers] = sum(_cpu_seconds(p) - b for p, b in zip(pids, before))
            if got != expected:
                _fail(f"simulate --batch, {workers} worker(s)")
            rates[workers] = args.lines / seconds
            print(f"  Ray, {workers} worker{'s' if workers > 1 else ' '}: {rates[workers]:,.0f} lines/s wall clock "
                  f"({scale.LINES_PER_SHARD} lines a shard); the workers' CPU {worker_cpu[workers]:.2f} s "
                  f"({args.lines / worker_cpu[workers]:,.0f} lines per worker CPU-second), the driver's "
                  f"{driver_cpu / args.lines * 1e6:.0f} µs a line; {_load()}")
            if workers == 2:
                driver_per_line = driver_cpu / args.lines
    print(f"  2 workers / 1 worker, wall clock: {rates[2] / rates[1]:.2f}x (target ≥ 1.6x); "
          f"1 worker / one process: {rates[1] / one_process:.2f}x; the machine's headroom now: two plain "
          f"CPU-bound processes do {_headroom():.2f}x the work of one (2.00x when 2 cores are free)")

    # The cost of a shard: many shards of one blank line, one worker.
    with scale.Cluster(workers=1) as cluster:
        blanks = [type(lines[0])(i + 1, "") for i in range(2000)]
        list(cluster.simulate_text(blanks[:50], per_shard=1))
        started = time.perf_counter()
        list(cluster.simulate_text(blanks, per_shard=1))
        per_shard = (time.perf_counter() - started) / len(blanks)
    print(f"  one shard's round trip (scheduling, sending, answering nothing): {per_shard * 1000:.2f} ms")

    # A worker with a core of its own answers at its CPU rate; each shard
    # adds its round trip.
    workers = args.nodes * args.cores_per_node
    shard_seconds = scale.LINES_PER_SHARD * worker_cpu[1] / args.lines
    per_worker = scale.LINES_PER_SHARD / (shard_seconds + per_shard)
    driver_ceiling = 1 / driver_per_line
    cluster_rate = min(workers * per_worker, driver_ceiling)
    bound = ("driver-bound: split the input over several drivers" if cluster_rate == driver_ceiling
             else "worker-bound")
    print(f"  {args.nodes} nodes x {args.cores_per_node} cores = {workers} workers: {workers} x {per_worker:,.0f} "
          f"lines/s = {workers * per_worker:,.0f} lines/s; one driver sends at most {driver_ceiling:,.0f} "
          f"lines/s: about {cluster_rate:,.0f} lines/s ({bound})")

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "org"
        info = organization.generate(folder)
        data = load_account_data(folder)
        started = time.perf_counter()
        alone = [a.to_dict() for a in who_can(data, "s3:GetObject", info["bucket"])]
        local = time.perf_counter() - started
        with scale.Cluster(workers=2) as cluster:
            started = time.perf_counter()
            got = parallel_who_can(data, folder, "s3:GetObject", info["bucket"], None, False, 30_000, 1,
                                   runner=cluster.run)
            on_ray = time.perf_counter() - started
        if got != alone:
            _fail("who-can over the generated organization")
        print(f"  who-can s3:GetObject over {info['roles']:,} roles ({len(alone):,} callers): one process "
              f"{local:.1f} s, Ray 2 workers {on_ray:.1f} s (each worker reads the folder once); answers identical")
    return 0


if __name__ == "__main__":
    sys.exit(main())
