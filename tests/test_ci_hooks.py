"""The pre-commit hook (.pre-commit-hooks.yaml) and the GitHub Action
(action.yml, ci/iamlogic-action.sh) run as pre-commit and GitHub would run
them, on a temporary git repository: a change that widens a policy fails
(exit 2, the new access named and in the SARIF log at the granting
statement), one that narrows it passes."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys

import pytest
import yaml

from conftest import ROOT, allow, policy

IAMLOGIC = [sys.executable, "-m", "iamlogic"]
ENV = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
       "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_SYSTEM": os.devnull}
BUCKET = "arn:aws:s3:::reports-bucket"
BEFORE = policy(allow(["s3:GetObject", "s3:ListBucket"], [BUCKET, f"{BUCKET}/*"], Sid="Reports"))
WIDER = policy(allow(["s3:GetObject", "s3:ListBucket", "s3:PutObject"], [BUCKET, f"{BUCKET}/*"], Sid="Reports"))
NARROWER = policy(allow("s3:GetObject", f"{BUCKET}/*", Sid="Reports"))


def git(repo, *args) -> str:
    proc = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, env=ENV, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


@pytest.fixture
def repo(tmp_path):
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    (path / "policies").mkdir()
    (path / "policies" / "reports.json").write_text(json.dumps(BEFORE, indent=2) + "\n")
    (path / "package.json").write_text('{"name": "not-a-policy"}\n')
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "the policy as it is")
    return path


def hook(hook_id: str) -> dict:
    [entry] = [h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text()) if h["id"] == hook_id]
    return entry


def run_hook(repo, hook_id: str) -> subprocess.CompletedProcess:
    """As pre-commit runs a hook: its entry, then the staged files of its types."""
    entry = hook(hook_id)
    assert entry["language"] == "python" and set(entry["types_or"]) <= {"json", "yaml"}
    argv = shlex.split(entry["entry"])
    assert argv[0] == "iamlogic"
    suffixes = {"json": (".json",), "yaml": (".yaml", ".yml")}
    kept = tuple(x for t in entry["types_or"] for x in suffixes[t])
    staged = [f for f in git(repo, "diff", "--cached", "--name-only").splitlines() if f.endswith(kept)]
    return subprocess.run(IAMLOGIC + argv[1:] + staged, cwd=repo, capture_output=True, text=True, env=ENV,
                          timeout=300)


def change(repo, document) -> None:
    (repo / "policies" / "reports.json").write_text(json.dumps(document, indent=2) + "\n")
    (repo / "package.json").write_text('{"name": "still-not-a-policy"}\n')
    git(repo, "add", "-A")


def test_the_hook_fails_a_widening_commit(repo):
    change(repo, WIDER)
    proc = run_hook(repo, "iamlogic-check-changes")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "policies/reports.json: NEW ACCESS compared to HEAD: s3:PutObject on" in proc.stdout
    assert "package.json: skipped" in proc.stdout


def test_the_hook_passes_a_narrowing_commit(repo):
    change(repo, NARROWER)
    proc = run_hook(repo, "iamlogic-check-changes")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "policies/reports.json: no new access compared to HEAD" in proc.stdout


def test_a_renamed_policy_is_compared_with_what_it_was(repo):
    git(repo, "mv", "policies/reports.json", "policies/reports-v2.json")
    (repo / "policies" / "reports-v2.json").write_text(json.dumps(WIDER, indent=2) + "\n")
    git(repo, "add", "-A")
    proc = run_hook(repo, "iamlogic-check-changes")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "policies/reports-v2.json: NEW ACCESS compared to HEAD: s3:PutObject" in proc.stdout


def test_the_hook_fails_a_broken_policy(repo):
    broken = json.loads(json.dumps(NARROWER))
    broken["Statement"][0]["Effect"] = "allow"
    change(repo, broken)
    proc = run_hook(repo, "iamlogic-check-changes")
    assert proc.returncode == 2 and "INVALID_EFFECT" in proc.stdout


TEMPLATE = """AWSTemplateFormatVersion: "2010-09-09"
Resources:
  ReportsRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {Service: lambda.amazonaws.com}
            Action: sts:AssumeRole
      Policies:
        - PolicyName: reports
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Sid: Reports
                Effect: Allow
                Action: [%s]
                Resource: !Sub "arn:${AWS::Partition}:s3:::reports-bucket/*"
"""


def test_the_hook_checks_each_policy_of_a_changed_template(repo):
    # A CloudFormation template in YAML: its role's inline policy widened
    # (s3:PutObject added) fails, named by its place in the template; the
    # trust policy, unchanged, passes. Before, a template was skipped as
    # "not a policy document" and a widening went through.
    path = repo / "stack.yaml"
    path.write_text(TEMPLATE % "s3:GetObject")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "the stack")
    path.write_text(TEMPLATE % "s3:GetObject, s3:PutObject")
    git(repo, "add", "-A")
    proc = run_hook(repo, "iamlogic-check-changes")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "stack.yaml: ReportsRole.Policies[0]" in proc.stdout and "NEW ACCESS compared to HEAD: s3:PutObject" \
        in proc.stdout
    assert "AssumeRolePolicyDocument: no new access compared to HEAD" in proc.stdout
    path.write_text(TEMPLATE % "s3:GetObject")
    git(repo, "add", "-A")
    proc = run_hook(repo, "iamlogic-check-changes")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_a_policy_added_to_a_changed_template_is_new_access(repo):
    # A second policy appended to a committed template (a new key) allows
    # what the base version of the file did not: compared with a policy that
    # allows nothing, it fails. Before, it was "validated only" and passed.
    path = repo / "stack.yaml"
    path.write_text(TEMPLATE % "s3:GetObject")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "the stack")
    path.write_text(TEMPLATE % "s3:GetObject" + """  Admin:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - {Effect: Allow, Action: "iam:*", Resource: "*"}
""")
    git(repo, "add", "-A")
    proc = run_hook(repo, "iamlogic-check-changes")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "stack.yaml: Admin.PolicyDocument: NEW ACCESS compared to HEAD: iam:" in proc.stdout


def test_a_template_that_no_longer_parses_is_not_let_through(repo):
    path = repo / "stack.yaml"
    path.write_text(TEMPLATE % "s3:GetObject")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "the stack")
    path.write_text((TEMPLATE % "s3:GetObject").replace("    Type: AWS::IAM::Role", "   Type: AWS::IAM::Role"))
    git(repo, "add", "-A")
    proc = run_hook(repo, "iamlogic-check-changes")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "stack.yaml: " in proc.stdout and "skipped" not in proc.stdout


def action_step() -> tuple[dict, dict]:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    [step] = [s for s in action["runs"]["steps"] if "iamlogic-action.sh" in s.get("run", "")]
    [upload] = [s for s in action["runs"]["steps"] if s.get("uses", "").startswith("github/codeql-action/upload-sarif")]
    assert upload["with"]["sarif_file"] == "${{ inputs.sarif }}"
    return action, step


def run_action(repo, base: str, tmp_path) -> tuple[subprocess.CompletedProcess, dict | None]:
    """The action's script as its step runs it: the inputs in the step's environment."""
    action, step = action_step()
    sarif = tmp_path / "iamlogic.sarif"
    inputs = {"base": base, "paths": "", "policy-type": "auto", "sarif": str(sarif)}
    assert set(inputs) <= set(action["inputs"])
    env = {**ENV, "IAMLOGIC": shlex.join(IAMLOGIC)}
    for name, value in step["env"].items():
        key = value.removeprefix("${{ inputs.").removesuffix(" }}")
        env[name] = inputs[key]
    proc = subprocess.run(["bash", str(ROOT / "ci" / "iamlogic-action.sh")], cwd=repo, capture_output=True,
                          text=True, env=env, timeout=300)
    return proc, json.loads(sarif.read_text()) if sarif.is_file() else None


def test_the_action_fails_a_widening_push_and_uploads_where(repo, tmp_path):
    jsonschema = pytest.importorskip("jsonschema")
    base = git(repo, "rev-parse", "HEAD")
    change(repo, WIDER)
    git(repo, "commit", "-q", "-m", "widen")
    proc, log = run_action(repo, base, tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "NEW ACCESS" in proc.stdout
    schema = ROOT / ".cache" / "sarif-2.1.0.json"
    if not schema.is_file():
        pytest.fail(f"{schema} is missing: `make test` fetches it (npm registry)")
    jsonschema.validate(log, json.loads(schema.read_text()))
    [result] = [r for r in log["runs"][0]["results"] if r["ruleId"] == "check-no-new-access"]
    where = result["locations"][0]["physicalLocation"]
    assert where["artifactLocation"]["uri"] == "policies/reports.json"
    assert where["region"]["startLine"] == 4  # the statement that grants it
    assert "s3:PutObject" in result["message"]["text"]


def test_the_action_passes_a_narrowing_push(repo, tmp_path):
    base = git(repo, "rev-parse", "HEAD")
    change(repo, NARROWER)
    git(repo, "commit", "-q", "-m", "narrow")
    proc, log = run_action(repo, base, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert [r for r in log["runs"][0]["results"] if r["ruleId"] == "check-no-new-access"] == []


def test_the_hook_checks_every_deployment_of_a_template(repo):
    # A template's Fn::If widened only under an allowed parameter value (the
    # prod branch to "*"): new access in the prod deployment fails the hook,
    # named by its condition valuation (docs/readings.md I7). Before, the
    # hook read the Default's deployment only and let it through.
    from test_cfn_deployments import HEAD

    path = repo / "stack.yaml"
    text = HEAD.replace("{west}", '"arn:aws:iam::123456789012:role/west-app"')
    path.write_text(text.replace("{prod}", '"arn:aws:s3:::prod-bucket/*"'))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "the stack")
    path.write_text(text.replace("{prod}", '"*"'))
    git(repo, "add", "-A")
    proc = run_hook(repo, "iamlogic-check-changes")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert ("stack.yaml: Deployer.PolicyDocument [IsProd=true, AWS::Region=us-east-1]: NEW ACCESS compared to "
            "HEAD: s3:GetObject") in proc.stdout
    assert "[IsProd=false, AWS::Region=us-east-1]: no new access compared to HEAD" in proc.stdout
