"""Every file in examples/ is run by the suite: its findings are pinned here,
and the demo script runs to the end."""

from __future__ import annotations

import doctest
import subprocess
import sys
from pathlib import Path

import pytest

import iamlogic
from conftest import ROOT
from iamlogic import validate

EXAMPLES = ROOT / "examples" / "policies"

# What each example must yield: (issue codes in document order, AWS's answer or None).
EXPECTED = {
    "identity/developer.json": ([], None),
    # Stored by IAM; Access Analyzer's security warning and suggestion (README, "Linting").
    "identity/pass-role.json": (["PASS_ROLE_WITH_STAR_IN_RESOURCE", "REDUNDANT_ACTION"], None),
    "identity/broken.json": (
        ["UNSUPPORTED_SID", "INVALID_EFFECT", "INVALID_ACTION", "UNSUPPORTED_PRINCIPAL", "MISSING_BRACE_IN_VARIABLE",
         "INVALID_ARN_PREFIX", "INVALID_CONDITION_DATA_TYPE", "NULL_WITH_IF_EXISTS"],
        "The policy failed legacy parsing",
    ),
    "resource/bucket-policy.json": ([], None),
    "resource/website-bucket.json": ([], None),
    "trust/ec2-role.json": ([], None),
    "scp/region-guard.json": ([], None),
}


def test_every_example_is_pinned():
    assert sorted(str(p.relative_to(EXAMPLES)) for p in EXAMPLES.rglob("*.json")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example(name):
    from iamlogic.translator import aws_error_for

    path = EXAMPLES / name
    findings = validate(path.read_bytes(), policy_type=name.split("/")[0], name=str(path))
    codes, aws_message = EXPECTED[name]
    assert [f.issue_code for f in findings] == codes
    aws = aws_error_for(findings)
    assert (aws.message if aws else None) == aws_message


SCENARIOS = ROOT / "examples" / "scenarios"
EXPECTED_SCENARIOS = {
    "scp-blocks-admin.json": ("implicit_deny", "scp", ["Admin", "FullAWSAccess", "FullAWSAccess"]),
    "partner-reads-report.json": ("allow", None, ["ReadReports", "PartnerReadsReports"]),
}


def test_every_scenario_is_pinned():
    assert sorted(p.name for p in SCENARIOS.glob("*.json")) == sorted(EXPECTED_SCENARIOS)


@pytest.mark.parametrize("name", sorted(EXPECTED_SCENARIOS))
def test_example_scenario(name):
    decision = iamlogic.simulate(SCENARIOS / name)
    expected, blocked_by, sids = EXPECTED_SCENARIOS[name]
    assert (decision.decision, decision.blocked_by) == (expected, blocked_by)
    assert sorted(r.sid for r in decision.matched_statements) == sorted(sids)


def test_example_refactors():
    from iamlogic.proofs import check_no_new_access, equivalent

    folder = ROOT / "examples" / "refactor"
    assert sorted(p.name for p in folder.glob("*.json")) == ["after-safe.json", "after-widened.json", "before.json"]
    before = (folder / "before.json").read_text()
    assert equivalent(before, (folder / "after-safe.json").read_text()).result == "PASS"
    widened = check_no_new_access((folder / "after-widened.json").read_text(), before)
    assert widened.result == "FAIL" and widened.witness["action"].startswith("s3:GetObject")


def test_example_home_folders():
    # SEMANTICS §5: ${aws:username} is each caller's own name, so the home
    # folders are inside the share whatever the names; the share is not
    # inside the folders (a user reads outside its own).
    from iamlogic.proofs import check_no_new_access

    folder = ROOT / "examples" / "variables"
    assert sorted(p.name for p in folder.glob("*.json")) == ["home-folders.json", "whole-share.json"]
    home, share = (folder / "home-folders.json").read_text(), (folder / "whole-share.json").read_text()
    assert check_no_new_access(home, share).result == "PASS"
    widened = check_no_new_access(share, home)
    assert widened.result == "FAIL"
    name = widened.witness["context"]["aws:username"]
    assert not widened.witness["resource"].startswith(f"arn:aws:s3:::team-share/home/{name}/")


QUESTIONS = ROOT / "examples" / "questions"
# can-be-allowed: (result, the forbidding layers or the witness's action).
EXPECTED_QUESTIONS = {
    "sandbox-admin-iam.json": ("PASS", ["scp/1"]),
    "sandbox-admin-terminate.json": ("FAIL", "ec2:TerminateInstances"),
}


@pytest.mark.parametrize("name", sorted(EXPECTED_QUESTIONS))
def test_example_question(name):
    from iamlogic.proofs import can_be_allowed

    assert sorted(p.name for p in QUESTIONS.glob("*.json")) == sorted(EXPECTED_QUESTIONS)
    check = can_be_allowed(QUESTIONS / name)
    result, detail = EXPECTED_QUESTIONS[name]
    assert check.result == result
    if result == "PASS":
        assert [r["layer"] for r in check.reasons] == detail
    else:
        assert check.witness["action"] == detail
        # SEMANTICS §1.3: the sandbox's region guard denies other regions.
        assert check.witness["context"]["aws:RequestedRegion"] in ("eu-west-1", "eu-central-1")


def test_demo_script_runs_every_example():
    iamlogic_cmd = Path(sys.executable).parent / "iamlogic"
    proc = subprocess.run(["bash", ROOT / "examples" / "demo.sh", iamlogic_cmd], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("== iamlogic validate") == len(EXPECTED)
    assert proc.stdout.count("== iamlogic simulate --explain") == len(EXPECTED_SCENARIOS)
    assert "implicit deny: the SCP level ou-sandbox has no Allow matching iam:CreateUser" in proc.stdout
    assert "PASS\n   exit 0: 0 means proven equivalent" in proc.stdout
    assert "FAIL\n  witness: s3:GetObject" in proc.stdout
    assert "exit 2: blocking findings (this example is broken on purpose)" in proc.stdout
    assert "PROVEN NEVER\n  forbidden by: the SCP level ou-sandbox" in proc.stdout
    assert "FAIL\n  witness: s3:GetObject on arn:aws:s3:::www-assets/" in proc.stdout
    assert "PASS\n   exit 0: 0 means proven, whatever each user's name" in proc.stdout
    assert 'arn:aws:s3:::team-share/a with {"aws:username": "witness"}' in proc.stdout
    # one escalation path: attach AdministratorAccess to a role, then assume it
    assert "FOUND: arn:aws:iam::444444444444:user/m-attachrolepolicy reaches admin" in proc.stdout
    assert "exit 2: 2 found" in proc.stdout


def test_package_docstring_examples():
    result = doctest.testmod(iamlogic, verbose=False)
    assert result.attempted >= 3 and result.failed == 0


def test_readme_api_examples(monkeypatch):
    # The README's Python API section is a doctest, run from the repository root.
    monkeypatch.chdir(ROOT)
    result = doctest.testfile(str(ROOT / "README.md"), module_relative=False, verbose=False,
                              optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 8 and result.failed == 0


def _console_examples() -> list[tuple[str, str]]:
    """(command, shown output) for every `$ iamlogic ...` line of the README's
    console blocks."""
    readme = (ROOT / "README.md").read_text()
    out = []
    for block in readme.split("```console\n")[1:]:
        lines = block.split("```")[0].splitlines()
        for i, line in enumerate(lines):
            if line.startswith("$ iamlogic "):
                shown = []
                for following in lines[i + 1:]:
                    if following.startswith("$ "):
                        break
                    shown.append(following)
                out.append((line[2:], "\n".join(shown) + "\n"))
    return out


@pytest.mark.parametrize("command, shown", _console_examples())
def test_readme_console_example_is_real_output(command, shown):
    import shlex

    args = shlex.split(command)
    proc = subprocess.run([Path(sys.executable).parent / args[0], *args[1:]], cwd=ROOT, capture_output=True,
                          text=True)
    assert proc.returncode in (0, 2), proc.stderr
    assert proc.stdout == shown


def test_readme_has_console_examples():
    assert len(_console_examples()) >= 2
