"""Broken account data fails closed (issue 18, item 10): a limit that cannot
be read — an SCP, an RCP, a boundary, a resource policy, a trust policy, or
an identity policy that may hold a Deny — never widens an answer. Each kind
is broken in turn in a copy of examples/organization, and every question's
allowed callers must be among those of the intact data; the answers the
broken part could change are UNDECIDED with the reason, and the summary
says so."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from iamlogic.accounts import load_account_data, who_can
from iamlogic.accounts.queries import what_can
from iamlogic.accounts.reach import assumption_edges

ORG = Path(__file__).resolve().parent.parent / "examples" / "organization"
MGMT, PROD, SANDBOX = "111111111111", "222222222222", "333333333333"
EU = {"aws:RequestedRegion": "eu-west-1", "aws:SecureTransport": True}
QUESTIONS = [
    ("iam:CreateUser", f"arn:aws:iam::{SANDBOX}:user/x"),
    ("iam:CreateUser", f"arn:aws:iam::{PROD}:user/x"),
    ("s3:GetObject", "arn:aws:s3:::prod-data/analytics/q3.csv"),
    ("s3:PutObject", "arn:aws:s3:::prod-data/analytics/q3.csv"),
    ("s3:GetObject", "arn:aws:s3:::public-assets/index.html"),
    ("kms:Decrypt", f"arn:aws:kms:eu-west-1:{PROD}:key/prod-data-key"),
    ("cloudtrail:StopLogging", f"arn:aws:cloudtrail:eu-west-1:{PROD}:trail/main"),
    ("organizations:LeaveOrganization", "*"),
    ("ec2:TerminateInstances", f"arn:aws:ec2:us-east-1:{SANDBOX}:instance/i-1"),
    ("sts:AssumeRole", f"arn:aws:iam::{MGMT}:role/BreakGlass"),
    ("sts:AssumeRole", f"arn:aws:iam::{PROD}:role/Deployer"),
]


def allowed(data) -> dict[tuple[str, str], set[str]]:
    return {(a, r): {x.who for x in who_can(data, a, r, EU) if x.allowed} for a, r in QUESTIONS}


@pytest.fixture(scope="module")
def intact():
    return allowed(load_account_data(ORG))


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(ORG, folder)
    return folder


def _edit(path: Path, change) -> None:
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc))


def assert_never_wider(data, intact) -> int:
    """Every question's allowed callers are among the intact data's; the
    number of UNDECIDED answers."""
    undecided = 0
    for (action, resource), before in intact.items():
        answers = who_can(data, action, resource, EU)
        now = {a.who for a in answers if a.allowed}
        assert now <= before, (action, resource, now - before)
        for a in answers:
            if a.failed_closed:
                undecided += 1
                assert a.undecided.startswith("not decided: ") and a.to_dict()["decision"] == "undecided"
    return undecided


ORGANIZATION = json.loads((ORG / "organization.json").read_text())


@pytest.mark.parametrize("kind, name", [(k, n) for k in ("scps", "rcps") for n in ORGANIZATION[k]])
@pytest.mark.parametrize("broken", [5, "{", {"Statement": 5}, "missing"])
def test_an_unreadable_or_missing_scp_or_rcp_never_widens(tmp_path, intact, kind, name, broken):
    folder = _copy(tmp_path)
    _edit(folder / "organization.json",
          lambda o: o[kind].pop(name) if broken == "missing" else o[kind].__setitem__(name, broken))
    data = load_account_data(folder)
    assert data.organization.broken and "could not be read (the answers they touch are UNDECIDED)" in data.summary()
    assert assert_never_wider(data, intact) > 0


def test_the_sandbox_guardrails_replaced_by_5(tmp_path, intact):
    # The case the issue found: 0 ALLOWs became 3.
    folder = _copy(tmp_path)
    _edit(folder / "organization.json", lambda o: o["scps"].__setitem__("SandboxGuardrails", 5))
    data = load_account_data(folder)
    answers = who_can(data, "iam:CreateUser", f"arn:aws:iam::{SANDBOX}:user/x", EU)
    assert not any(a.allowed for a in answers)
    undecided = {a.who for a in answers if a.failed_closed}
    assert undecided and all(f":{SANDBOX}:" in who for who in undecided)
    assert all("SCP SandboxGuardrails could not be read" in a.undecided for a in answers if a.failed_closed)
    # An explicit deny still decides: the sandbox cannot leave the organization.
    leave = who_can(data, "organizations:LeaveOrganization", "*", EU)
    assert all(a.decision.decision == "explicit_deny" and not a.failed_closed
               for a in leave if a.principal and f":{SANDBOX}:" in a.principal)


@pytest.mark.parametrize("resource_file", ["prod-data-bucket.json", "prod-data-key.json", "public-assets-bucket.json"])
@pytest.mark.parametrize("broken", ["{", 5, {"Statement": [{"Effect": "Allow"}]}])
def test_an_unreadable_resource_policy_never_widens(tmp_path, intact, resource_file, broken):
    folder = _copy(tmp_path)
    _edit(folder / "resources" / resource_file, lambda d: d.__setitem__("policy", broken))
    data = load_account_data(folder)
    assert data.unreadable and "resource or trust policies that could not be read" in data.summary()
    assert assert_never_wider(data, intact) > 0


def test_an_unreadable_bucket_policy_lets_no_cross_account_caller_in(tmp_path, intact):
    # The case the issue found: without the bucket policy (and so without
    # the bucket's account) callers of other accounts were allowed.
    folder = _copy(tmp_path)
    _edit(folder / "resources" / "prod-data-bucket.json", lambda d: d.__setitem__("policy", "{"))
    data = load_account_data(folder)
    answers = who_can(data, "s3:GetObject", "arn:aws:s3:::prod-data/analytics/q3.csv", EU)
    assert not any(a.allowed for a in answers)
    assert any(a.kind == "anonymous" and a.failed_closed for a in answers)  # who else it names is unknown


def test_an_unreadable_resource_file_makes_every_resource_undecided(tmp_path, intact):
    folder = _copy(tmp_path)
    (folder / "resources" / "prod-data-key.json").write_text("{not json")
    data = load_account_data(folder)
    assert assert_never_wider(data, intact) > 0
    assert all(a.failed_closed or a.decision.decision == "explicit_deny"
               for a in who_can(data, "s3:GetObject", "arn:aws:s3:::public-assets/index.html", EU))


def _export(folder: Path, account: str) -> Path:
    return folder / "authorization" / f"{account}.json"


def test_an_unreadable_trust_policy_never_lets_anyone_assume_the_role(tmp_path, intact):
    folder = _copy(tmp_path)
    _edit(_export(folder, MGMT), lambda e: next(r for r in e["RoleDetailList"] if r["RoleName"] == "BreakGlass")
          .__setitem__("AssumeRolePolicyDocument", "%7B"))
    data = load_account_data(folder)
    assert assert_never_wider(data, intact) > 0
    answers = who_can(data, "sts:AssumeRole", f"arn:aws:iam::{MGMT}:role/BreakGlass", EU)
    assert answers and not any(a.allowed for a in answers)
    assert all("trust policy" in a.undecided for a in answers if a.failed_closed)
    assert not any(role == f"arn:aws:iam::{MGMT}:role/BreakGlass" for _, role in assumption_edges(data, EU))


def test_a_missing_boundary_leaves_the_principal_out_never_unbounded(tmp_path, intact):
    folder = _copy(tmp_path)
    bounded = []

    def drop_boundaries(export):
        for p in export["Policies"]:
            if any(e.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn") == p["Arn"]
                   for e in export["UserDetailList"] + export["RoleDetailList"]):
                p["PolicyVersionList"][0]["Document"] = 5
                bounded.append(p["Arn"])

    for account in (MGMT, PROD, SANDBOX):
        _edit(_export(folder, account), drop_boundaries)
    assert bounded, "the example data has principals with boundaries"
    data = load_account_data(folder)
    assert any("permissions boundary" in s.why for s in data.skipped)
    assert_never_wider(data, intact)


def test_an_unreadable_identity_policy_that_may_deny_never_widens(tmp_path):
    # A Deny in an inline policy: read, it denies; unreadable, the answer is
    # UNDECIDED rather than what the other policies alone allow.
    folder = _copy(tmp_path)
    deny = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}

    def add(export, document):
        for entry in export["RoleDetailList"]:
            entry.setdefault("RolePolicyList", []).append({"PolicyName": "DenyAll", "PolicyDocument": document})

    _edit(_export(folder, PROD), lambda e: add(e, deny))
    denied = allowed(load_account_data(folder))
    _edit(_export(folder, PROD), lambda e: [r["RolePolicyList"][-1].__setitem__("PolicyDocument", 5)
                                           for r in e["RoleDetailList"]])
    data = load_account_data(folder)
    assert sum(1 for p in data.principals.values() if p.incomplete) > 0
    assert "principals with policies that could not be read" in data.summary()
    assert assert_never_wider(data, denied) > 0
    # ...and the same for a group the user is in, and a managed policy attached.
    for change in (lambda e: e["UserDetailList"][0].__setitem__("GroupList", ["NoSuchGroup"]),
                   lambda e: e["UserDetailList"][0].__setitem__("AttachedManagedPolicies",
                                                                [{"PolicyArn": "arn:aws:iam::1:policy/Gone"}])):
        _edit(_export(folder, SANDBOX), change)
        assert any(p.incomplete for p in load_account_data(folder).principals.values() if p.account == SANDBOX)


def test_what_can_and_reach_never_widen(tmp_path):
    before = load_account_data(ORG)
    folder = _copy(tmp_path)
    _edit(folder / "organization.json", lambda o: o["scps"].__setitem__("ProtectCloudTrail", "{"))
    after = load_account_data(folder)
    role = f"arn:aws:iam::{PROD}:role/ProdAdmin"
    undecided: list = []
    now = {(r, a) for r, a, _ in what_can(after, role, EU, undecided)}
    assert now <= {(r, a) for r, a, _ in what_can(before, role, EU)}
    assert undecided and all("ProtectCloudTrail" in why for _, _, why in undecided)
    assert set(assumption_edges(after, EU)) <= set(assumption_edges(before, EU))


def test_the_cli_says_undecided_and_exits_3(tmp_path):
    folder = _copy(tmp_path)
    _edit(folder / "organization.json", lambda o: o["scps"].__setitem__("SandboxGuardrails", 5))
    proc = subprocess.run([sys.executable, "-m", "iamlogic", "who-can", "iam:CreateUser",
                           f"arn:aws:iam::{SANDBOX}:user/x", "--account-data", str(folder)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 3, proc.stderr
    assert "ALLOW:" not in proc.stdout and "UNDECIDED: any session of role" in proc.stdout
    assert "UNDECIDED (a policy they depend on could not be read)" in proc.stderr
    assert "SCPs or RCPs that could not be read" in proc.stderr


def test_organization_from_cli_never_copies_a_content_that_is_not_a_policy(tmp_path):
    from test_input_discipline import _cli_folder

    folder = _cli_folder(tmp_path)
    (folder / "describe-policy" / "p-full.json").write_text(json.dumps({"Policy": {"Content": 5}}))
    target = tmp_path / "org.json"
    proc = subprocess.run([sys.executable, "-m", "iamlogic", "organization-from-cli", str(folder), "-o", str(target)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and "not a policy document" in proc.stderr and not target.exists()


def test_an_account_the_tree_leaves_out_is_not_read_as_outside_every_scp(tmp_path, intact):
    folder = _copy(tmp_path)

    def drop(o):
        sandbox = next(c for c in o["root"]["children"] if c.get("ou") == "ou-ex01-sandbox")
        sandbox["children"] = []

    _edit(folder / "organization.json", drop)
    data = load_account_data(folder)
    assert assert_never_wider(data, intact) > 0
    answers = who_can(data, "iam:CreateUser", f"arn:aws:iam::{SANDBOX}:user/x", EU)
    assert any("not in organization.json" in (a.undecided or "") for a in answers)


@pytest.mark.parametrize("condition", [{"StringEqualz": {"aws:x": "y"}}, {"Bool": {"aws:SecureTransport": "maybe"}},
                                       {"DateLessThan": {"aws:CurrentTime": "notadate"}}])
def test_an_scp_deny_whose_condition_iam_refuses_never_widens(tmp_path, intact, condition):
    # The kernel reads a clause it cannot read as false (a scenario's
    # reading, with a warning): in account data that would drop the Deny
    # silently. IAM refuses such a document, so what an export holds cannot
    # be it: it is unreadable, and the answers it touches are UNDECIDED.
    folder = _copy(tmp_path)
    _edit(folder / "organization.json",
          lambda o: o["scps"]["SandboxGuardrails"]["Statement"][0].__setitem__("Condition", condition))
    data = load_account_data(folder)
    assert data.organization.broken
    answers = who_can(data, "iam:CreateUser", f"arn:aws:iam::{SANDBOX}:user/x", EU)
    assert not any(a.allowed for a in answers) and any(a.failed_closed for a in answers)
    assert assert_never_wider(data, intact) > 0
