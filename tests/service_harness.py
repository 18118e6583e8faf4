"""The conformance harness: a real ``iamlogic serve`` process on 127.0.0.1,
port 0, over a temporary database, with boto3 clients and AWS CLI calls
pointed at it.

    from service_harness import Server, ROOT_KEY, ROOT_SECRET, ACCOUNT

    @pytest.fixture(scope="module")
    def server(tmp_path_factory):
        with Server(tmp_path_factory.mktemp("iam")) as s:
            yield s

    iam = server.client("iam")                    # the root user's keys
    iam.create_user(UserName="bob")
    key = iam.create_access_key(UserName="bob")["AccessKey"]
    bob = server.client("iam", key["AccessKeyId"], key["SecretAccessKey"])
    code, out, err = server.aws("iam", "get-user", key=..., secret=...)
    server.decisions()                            # the decision log's lines

One server per test module keeps the suite fast.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import boto3
from botocore.config import Config

ACCOUNT = "123456789012"
ROOT_KEY = "AKIAROOTKEYFORTESTS1"
ROOT_SECRET = "root/secret/for/tests/only/0000000000000"
REGION = "us-east-1"
AWS_CLI = Path(sys.executable).parent / "aws"
# No retries: an error is seen as the server gave it, at once.
_CONFIG = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=5, read_timeout=30)


def iamlogic(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "iamlogic", *args], capture_output=True, text=True, check=check,
                          timeout=120)


class Server:
    def __init__(self, folder: Path, account: str = ACCOUNT, import_folder: Path | None = None,
                 decision_log: bool = True):
        self.folder = Path(folder)
        self.db = self.folder / "iam.db"
        self.log = self.folder / "decisions.jsonl" if decision_log else None
        self.account = account
        self.proc: subprocess.Popen | None = None
        self.url = ""
        if not self.db.exists():
            iamlogic("account", "create", "--db", str(self.db), "--account-id", account,
                     "--access-key-id", ROOT_KEY, "--secret-access-key", ROOT_SECRET)
            if import_folder is not None:
                self.imported = json.loads(iamlogic("account", "import", "--db", str(self.db),
                                                    str(import_folder)).stdout)

    def start(self) -> "Server":
        args = [sys.executable, "-m", "iamlogic", "serve", "--db", str(self.db), "--port", "0"]
        if self.log is not None:
            args += ["--decision-log", str(self.log)]
        self.stderr = open(self.folder / "server.err", "ab")  # noqa: SIM115 - closed in stop
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.stderr, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("listening on http://"):
            self.proc.kill()
            raise RuntimeError(f"server did not start: {line!r} {(self.folder / 'server.err').read_text()[-2000:]}")
        self.url = line.split("listening on ", 1)[1].strip()
        return self

    def stop(self, sig: int = signal.SIGTERM) -> int:
        assert self.proc is not None
        self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=20)
        finally:
            self.stderr.close()
        self.proc = None
        return code

    def __enter__(self) -> "Server":
        return self.start()

    def __exit__(self, *exc) -> None:
        if self.proc is not None:
            self.stop()

    def client(self, service: str = "iam", key: str = ROOT_KEY, secret: str = ROOT_SECRET, token: str | None = None,
               validate: bool = True):
        """A boto3 client; ``validate=False`` sends what botocore would refuse
        to, so the server's own validation answers."""
        config = _CONFIG if validate else _CONFIG.merge(Config(parameter_validation=False))
        return boto3.session.Session().client(service, endpoint_url=self.url, region_name=REGION,
                                              aws_access_key_id=key, aws_secret_access_key=secret,
                                              aws_session_token=token, config=config)

    def aws(self, *args: str, key: str = ROOT_KEY, secret: str = ROOT_SECRET) -> tuple[int, str, str]:
        """The AWS CLI, pointed at the server by AWS_ENDPOINT_URL_IAM / _STS."""
        env = {"PATH": os.environ.get("PATH", ""), "HOME": str(self.folder), "AWS_ACCESS_KEY_ID": key,
               "AWS_SECRET_ACCESS_KEY": secret, "AWS_DEFAULT_REGION": REGION, "AWS_ENDPOINT_URL_IAM": self.url,
               "AWS_ENDPOINT_URL_STS": self.url, "AWS_CONFIG_FILE": os.devnull,
               "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_MAX_ATTEMPTS": "1", "AWS_PAGER": ""}
        done = subprocess.run([str(AWS_CLI), *args], capture_output=True, text=True, env=env, timeout=60)
        return done.returncode, done.stdout, done.stderr

    def decisions(self) -> list[dict]:
        assert self.log is not None
        return [json.loads(line) for line in self.log.read_text().splitlines() if line.strip()]

    def wait_for_decision(self, request_id: str, timeout: float = 5) -> dict:
        end = time.time() + timeout
        while time.time() < end:
            for d in self.decisions():
                if d["request_id"] == request_id:
                    return d
            time.sleep(0.05)
        raise AssertionError(f"no decision logged for {request_id}")


def policy(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action, resource="*", **extra) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action, resource="*", **extra) -> dict:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def error_of(excinfo) -> tuple[str, str, int]:
    """(code, message, HTTP status) of a botocore ClientError."""
    r = excinfo.value.response
    return r["Error"]["Code"], r["Error"]["Message"], r["ResponseMetadata"]["HTTPStatusCode"]
