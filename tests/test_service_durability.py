"""What a response acknowledged survives a restart and a ``kill -9``
(service/store.py: one SQLite transaction per mutating call, WAL), and the
file stays sound (``PRAGMA integrity_check`` is ``ok``)."""

from __future__ import annotations

import signal
import sqlite3
import threading
import time

import botocore.exceptions
import botocore.parsers
import pytest
from service_harness import Server, allow, policy


def all_users(iam) -> set[str]:
    return {u["UserName"] for page in iam.get_paginator("list_users").paginate() for u in page["Users"]}


def integrity(db) -> str:
    with sqlite3.connect(db) as conn:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("durable")


def test_a_restart_keeps_everything(folder):
    server = Server(folder).start()
    iam = server.client()
    iam.create_user(UserName="before-restart", Tags=[{"Key": "k", "Value": "v"}])
    arn = iam.create_policy(PolicyName="kept", PolicyDocument=policy(allow("s3:*")))["Policy"]["Arn"]
    iam.attach_user_policy(UserName="before-restart", PolicyArn=arn)
    assert server.stop(signal.SIGTERM) == 0          # a clean stop
    server.start()
    try:
        iam = server.client()
        assert iam.get_user(UserName="before-restart")["User"]["Tags"] == [{"Key": "k", "Value": "v"}]
        assert iam.list_attached_user_policies(UserName="before-restart")["AttachedPolicies"][0]["PolicyArn"] == arn
    finally:
        server.stop()
    assert integrity(server.db) == "ok"


def test_kill_9_during_eight_writers_loses_no_acknowledged_write(folder):
    server = Server(folder).start()
    acknowledged: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def writer(n: int) -> None:
        iam = server.client()
        i = 0
        while not stop.is_set():
            name = f"w{n}-{i}"
            try:
                iam.create_user(UserName=name)
            except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError,
                    botocore.parsers.ResponseParserError):
                return                                  # the server is gone: this write was not acknowledged
            with lock:
                acknowledged.append(name)
            i += 1

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    deadline = time.time() + 20
    while len(acknowledged) < 80 and time.time() < deadline:
        time.sleep(0.05)
    server.proc.send_signal(signal.SIGKILL)            # mid-write: requests are in flight
    server.proc.wait(timeout=10)
    server.proc = None
    server.stderr.close()
    stop.set()
    for t in threads:
        t.join(timeout=30)
    assert len(acknowledged) >= 80
    assert integrity(server.db) == "ok"
    server.start()
    try:
        missing = set(acknowledged) - all_users(server.client())
        assert not missing, f"{len(missing)} acknowledged users lost, e.g. {sorted(missing)[:3]}"
    finally:
        server.stop()
    assert integrity(server.db) == "ok"
