"""``iamlogic serve`` under load, over loopback, SigV4 verified and a kernel
decision on every call.

1. Builds an account of 2,000 managed policies and 1,000 users, each user
   created and given a policy with CreateUser + AttachUserPolicy from 8
   concurrent clients: the write throughput (pairs/s and calls/s).
2. Authorized reads: 8 client processes call GetUser as IAM users (each with
   an attached policy allowing it, so every call is a real kernel decision
   over the user's policy set) for a fixed time: calls/s, p50, p99.
3. The same reads against two server processes on the same database file
   (4 clients each): how throughput grows with a second process.

The clients are light so that the server is what is measured: each signs
its request once with botocore's SigV4 signer and sends those bytes again
over a kept-alive connection (SigV4 accepts a signature for 15 minutes; the
server verifies it on every call all the same). Run: .venv/bin/python
bench/service_bench.py [--seconds 10] [--decision-log]
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

ACCOUNT = "123456789012"
ROOT_KEY, ROOT_SECRET = "AKIABENCHROOTKEY0001", "bench-root-secret-000000000000000000000"
CLIENTS = 8


def start(db: Path, log: Path | None) -> tuple[subprocess.Popen, str]:
    args = [sys.executable, "-m", "iamlogic", "serve", "--db", str(db), "--port", "0"]
    if log is not None:
        args += ["--decision-log", str(log)]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    return proc, line.split("listening on ", 1)[1].strip()


def signed(url: str, key: str, secret: str, params: dict) -> tuple[bytes, dict]:
    body = "&".join(f"{k}={v}" for k, v in {"Version": "2010-05-08", **params}.items())
    req = AWSRequest("POST", url + "/", data=body.encode(),
                     headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    SigV4Auth(Credentials(key, secret), "iam", "us-east-1").add_auth(req)
    return req.body, dict(req.headers.items())


def call(conn: http.client.HTTPConnection, body: bytes, headers: dict) -> tuple[int, bytes]:
    conn.request("POST", "/", body=body, headers=headers)
    r = conn.getresponse()
    return r.status, r.read()


def connect(url: str) -> http.client.HTTPConnection:
    u = urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    conn.connect()
    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return conn


def write_worker(url: str, jobs: list[dict], out: list, errors: list) -> None:
    conn = connect(url)
    for params in jobs:
        # Writes are signed as they go (a real client's cost is not the point, but each body differs).
        status, data = call(conn, *signed(url, ROOT_KEY, ROOT_SECRET, params))
        (out if status == 200 else errors).append((params["Action"], status, data[:200]))


def run_writes(url: str, batches: list[list[dict]]) -> tuple[float, int, list]:
    out: list = []
    errors: list = []
    threads = [threading.Thread(target=write_worker, args=(url, b, out, errors)) for b in batches]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - t0, len(out), errors


def read_worker(url: str, key: str, secret: str, user: str, seconds: float, queue) -> None:
    conn = connect(url)
    body, headers = signed(url, key, secret, {"Action": "GetUser", "UserName": user})
    latencies = []
    bad = 0
    end = time.perf_counter() + seconds
    while True:
        t = time.perf_counter()
        if t >= end:
            break
        status, _ = call(conn, body, headers)
        latencies.append(time.perf_counter() - t)
        bad += status != 200
    queue.put((latencies, bad))


def run_reads(urls: list[str], keys: list[tuple[str, str, str]], seconds: float) -> dict:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=read_worker, args=(urls[i % len(urls)], *keys[i], seconds, queue))
             for i in range(CLIENTS)]
    for p in procs:
        p.start()
    results = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    latencies = sorted(x for r, _ in results for x in r)
    bad = sum(b for _, b in results)
    return {"calls": len(latencies), "per_second": len(latencies) / seconds, "errors": bad,
            "p50_ms": 1000 * statistics.median(latencies), "p99_ms": 1000 * latencies[int(len(latencies) * 0.99)]}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--policies", type=int, default=2000)
    parser.add_argument("--decision-log", action="store_true", help="also write the decision log (with derivations)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="iamlogic-service-bench-"))
    db = folder / "iam.db"
    log = folder / "decisions.jsonl" if args.decision_log else None
    subprocess.run([sys.executable, "-m", "iamlogic", "account", "create", "--db", str(db), "--account-id", ACCOUNT,
                    "--access-key-id", ROOT_KEY, "--secret-access-key", ROOT_SECRET], check=True,
                   capture_output=True)
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; {CLIENTS} clients; "
          f"decision log {'on' if log else 'off'}")
    proc, url = start(db, log)
    try:
        doc = json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["iam:GetUser", "iam:ListGroupsForUser"], "Resource": "*"},
            {"Effect": "Deny", "Action": "iam:DeleteUser", "Resource": "*",
             "Condition": {"StringNotEquals": {"aws:PrincipalTag/admin": "true"}}}]})
        from urllib.parse import quote
        policies = [{"Action": "CreatePolicy", "PolicyName": f"p{i}", "PolicyDocument": quote(doc, safe="")}
                    for i in range(args.policies)]
        elapsed, done, errors = run_writes(url, [policies[i::CLIENTS] for i in range(CLIENTS)])
        print(f"CreatePolicy: {done:,} in {elapsed:.1f} s = {done / elapsed:,.0f}/s ({len(errors)} errors)")
        pairs = [[{"Action": "CreateUser", "UserName": f"u{i}"},
                  {"Action": "AttachUserPolicy", "UserName": f"u{i}",
                   "PolicyArn": f"arn%3Aaws%3Aiam%3A%3A{ACCOUNT}%3Apolicy%2Fp{i % args.policies}"}]
                 for i in range(args.users)]
        batches = [[job for pair in pairs[i::CLIENTS] for job in pair] for i in range(CLIENTS)]
        elapsed, done, errors = run_writes(url, batches)
        print(f"CreateUser + AttachUserPolicy: {args.users:,} pairs in {elapsed:.1f} s = "
              f"{args.users / elapsed:,.0f} pairs/s ({done / elapsed:,.0f} calls/s, {len(errors)} errors)")
        keys = []
        for i in range(CLIENTS):
            jobs = [{"Action": "CreateAccessKey", "UserName": f"u{i}"}]
            conn = connect(url)
            status, data = call(conn, *signed(url, ROOT_KEY, ROOT_SECRET, jobs[0]))
            text = data.decode()
            key = text.split("<AccessKeyId>")[1].split("<")[0]
            secret = text.split("<SecretAccessKey>")[1].split("<")[0]
            keys.append((key, secret, f"u{i}"))
        run_reads([url], keys, 1.0)  # warm: engines compiled, connections open
        cpu = cpu_seconds(proc.pid)
        one = run_reads([url], keys, args.seconds)
        cpu = cpu_seconds(proc.pid) - cpu
        # The server's own CPU per call: what one core could serve were it the server's alone.
        print(f"GetUser, 1 server process: {one['per_second']:,.0f}/s, p50 {one['p50_ms']:.1f} ms, "
              f"p99 {one['p99_ms']:.1f} ms ({one['calls']:,} calls, {one['errors']} errors); server CPU "
              f"{1000 * cpu / one['calls']:.2f} ms per call = {one['calls'] / cpu:,.0f} calls per CPU-second")
        proc2, url2 = start(db, None)
        try:
            run_reads([url, url2], keys, 1.0)
            two = run_reads([url, url2], keys, args.seconds)
            print(f"GetUser, 2 server processes on one file: {two['per_second']:,.0f}/s, p50 {two['p50_ms']:.1f} ms, "
                  f"p99 {two['p99_ms']:.1f} ms ({two['calls']:,} calls, {two['errors']} errors); "
                  f"{two['per_second'] / one['per_second']:.2f}x one")
        finally:
            proc2.terminate()
            proc2.wait()
    finally:
        proc.terminate()
        proc.wait()


if __name__ == "__main__":
    main()
