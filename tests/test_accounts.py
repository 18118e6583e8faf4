"""The bundled example organization (examples/organization: a management
account, prod under the Prod OU, sandbox under the Sandbox OU, 22 roles, a
bucket, a key and a public bucket): who-can answers pinned, each with the
SEMANTICS rule that decides it; and malformed exports read with a report of
exactly what was skipped."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from iamlogic.accounts import load_account_data, who_can
from iamlogic.errors import InputError

ORG = Path(__file__).resolve().parent.parent / "examples" / "organization"
MGMT, PROD, SANDBOX = "111111111111", "222222222222", "333333333333"
EU = {"aws:RequestedRegion": "eu-west-1", "aws:SecureTransport": True}


@pytest.fixture(scope="module")
def data():
    return load_account_data(ORG)


def role(account, name):
    return f"any session of role arn:aws:iam::{account}:role/{name}"


def user(account, name):
    return f"arn:aws:iam::{account}:user/{name}"


def decisions(data, action, resource, context=EU) -> dict[str, str]:
    return {a.who: a.decision.decision for a in who_can(data, action, resource, context)}


def test_the_example_is_read_whole(data):
    assert data.skipped == []
    assert data.read == {"managed policies": 8, "groups": 2, "users": 6, "roles": 22, "resource policies": 3}
    assert sorted(data.organization.accounts()) == [MGMT, PROD, SANDBOX]


def test_cross_account_read_through_the_bucket_policy(data):
    got = decisions(data, "s3:GetObject", "arn:aws:s3:::prod-data/analytics/q3.csv")
    # §2: the bucket policy names the sandbox role and its identity policy allows.
    assert got[role(SANDBOX, "Analytics")] == "allow"
    # §2: an administrator of another account the bucket policy does not name.
    assert got[role(SANDBOX, "SandboxAdmin")] == "implicit_deny"
    assert got[user(MGMT, "alice")] == "implicit_deny"
    # §1.5: same account, an identity Allow is enough; AppServer's covers app/* only.
    assert got[role(PROD, "DataScientist")] == "allow"
    assert got[role(PROD, "AppServer")] == "implicit_deny"
    assert sorted(w for w, d in got.items() if d == "allow") == sorted(
        [role(PROD, n) for n in ("AuditReader", "BackupOperator", "DataScientist", "Deployer", "ProdAdmin")]
        + [role(SANDBOX, "Analytics")])


def test_the_bucket_policy_denies_plain_http(data):
    # §1.1: the bucket's TlsOnly Deny matches when aws:SecureTransport is false.
    got = decisions(data, "s3:GetObject", "arn:aws:s3:::prod-data/analytics/q3.csv",
                    {**EU, "aws:SecureTransport": False})
    assert got[role(SANDBOX, "Analytics")] == "explicit_deny"
    assert got[role(PROD, "DataScientist")] == "explicit_deny"


def test_an_rcp_keeps_the_org_s_buckets_from_outsiders(data):
    # §1.2: OrgOnlyS3 on the Prod OU denies callers outside the organization,
    # even the partner role the bucket policy names, and the public bucket's
    # anonymous readers.
    got = decisions(data, "s3:GetObject", "arn:aws:s3:::prod-data/exports/daily.csv")
    assert got["any session of role arn:aws:iam::444455556666:role/partner-ingest"] == "explicit_deny"
    public = decisions(data, "s3:GetObject", "arn:aws:s3:::public-assets/logo.png")
    assert public["an anonymous caller"] == "explicit_deny"
    # §1.4: "*" is enough in the bucket's own account; §2: from another
    # account, the caller's identity policies must allow too.
    assert public[user(PROD, "svc-legacy")] == "allow"
    assert public[role(SANDBOX, "Analytics")] == "implicit_deny"
    assert public[role(SANDBOX, "SandboxAdmin")] == "allow"


def test_an_scp_blocks_the_sandbox_admin_s_administrator_policy(data):
    # §1.3, §1.1: SandboxGuardrails denies IAM writes in the Sandbox OU.
    got = decisions(data, "iam:CreateUser", f"arn:aws:iam::{SANDBOX}:user/new")
    assert got[role(SANDBOX, "SandboxAdmin")] == "explicit_deny"
    prod = decisions(data, "iam:CreateUser", f"arn:aws:iam::{PROD}:user/new")
    assert prod[role(PROD, "ProdAdmin")] == "allow"


def test_the_sandbox_region_lock(data):
    # §1.3: the guardrail denies every action but IAM/STS outside eu-west-1.
    resource = f"arn:aws:ec2:us-east-1:{SANDBOX}:instance/*"
    assert decisions(data, "ec2:RunInstances", resource, {"aws:RequestedRegion": "us-east-1"})[
        role(SANDBOX, "SandboxAdmin")] == "explicit_deny"
    assert decisions(data, "ec2:RunInstances", resource)[role(SANDBOX, "SandboxAdmin")] == "allow"


def test_scps_do_not_apply_to_the_management_account(data):
    # §1.3: DenyLeaveOrganization at the root binds members, not the management account.
    got = decisions(data, "organizations:LeaveOrganization", "*")
    assert got[user(MGMT, "alice")] == "allow"
    assert got[role(PROD, "ProdAdmin")] == "explicit_deny"


def test_a_boundary_caps_the_deployer_s_administrator_policy(data):
    # §1.6: the DeployerBoundary must allow too; it never grants.
    assert decisions(data, "iam:CreateUser", f"arn:aws:iam::{PROD}:user/x")[role(PROD, "Deployer")] \
        == "implicit_deny"
    assert decisions(data, "s3:PutObject", "arn:aws:s3:::prod-data/builds/app.zip")[role(PROD, "Deployer")] == "allow"
    assert decisions(data, "iam:PassRole", f"arn:aws:iam::{PROD}:role/LambdaExec")[role(PROD, "Deployer")] == "allow"
    assert decisions(data, "iam:PassRole", f"arn:aws:iam::{PROD}:role/ProdAdmin")[role(PROD, "Deployer")] \
        == "implicit_deny"


def test_a_trust_policy_that_names_only_the_account(data):
    # §1.4 exception: AuditReader's trust names the management account, which
    # delegates to its own policies: an identity Allow is needed too.
    got = decisions(data, "sts:AssumeRole", f"arn:aws:iam::{PROD}:role/AuditReader")
    assert got[user(MGMT, "bob")] == "allow"  # the Auditors group allows */AuditReader
    assert got[user(MGMT, "alice")] == "allow"  # AdministratorAccess
    assert got[user(MGMT, "carol")] == "implicit_deny"  # may assume Deployer only
    assert got[role(SANDBOX, "SandboxAdmin")] == "implicit_deny"  # another account


def test_a_trust_policy_that_names_the_caller(data):
    # §1.4 exception, §2: Deployer's trust names carol and the CIRunner role
    # (each also has an identity Allow, needed across accounts); bob is not named.
    got = decisions(data, "sts:AssumeRole", f"arn:aws:iam::{PROD}:role/Deployer")
    assert got[user(MGMT, "carol")] == "allow"
    assert got[role(MGMT, "CIRunner")] == "allow"
    assert got[user(MGMT, "bob")] == "implicit_deny"


def test_a_boundary_stops_a_role_chain(data):
    # §1.1: NoRoleHopping denies sts:AssumeRole, although Developer's trust
    # names dev-dana and Experimenter's names Developer.
    assert decisions(data, "sts:AssumeRole", f"arn:aws:iam::{SANDBOX}:role/Developer")[user(SANDBOX, "dev-dana")] \
        == "explicit_deny"
    experimenter = decisions(data, "sts:AssumeRole", f"arn:aws:iam::{SANDBOX}:role/Experimenter")
    assert experimenter[role(SANDBOX, "Developer")] == "explicit_deny"
    assert experimenter[user(SANDBOX, "intern")] == "explicit_deny"


def test_a_key_policy_must_allow_itself(data):
    key = f"arn:aws:kms:eu-west-1:{PROD}:key/prod-data-key"
    decrypt = decisions(data, "kms:Decrypt", key)
    # §1.4 exception: the key policy names AppServer for Decrypt.
    assert decrypt[role(PROD, "AppServer")] == "allow"
    # BackupOperator's identity policy allows kms:Decrypt, the key policy does not.
    assert decrypt[role(PROD, "BackupOperator")] == "implicit_deny"
    # The key policy delegates ScheduleKeyDeletion to the account: identity decides.
    deletion = decisions(data, "kms:ScheduleKeyDeletion", key)
    assert deletion[role(PROD, "KeyAdmin")] == "allow"
    assert deletion[role(PROD, "AppServer")] == "implicit_deny"


def test_an_scp_protects_the_trail(data):
    # §1.3, §1.1: ProtectCloudTrail on the Prod OU denies StopLogging whatever
    # TrailKeeper's cloudtrail:* grants; other trail actions pass every level.
    trail = f"arn:aws:cloudtrail:eu-west-1:{PROD}:trail/org-trail"
    assert decisions(data, "cloudtrail:StopLogging", trail)[role(PROD, "TrailKeeper")] == "explicit_deny"
    assert decisions(data, "cloudtrail:DescribeTrails", trail)[role(PROD, "TrailKeeper")] == "allow"


def test_a_user_s_inline_policy_on_a_prefix(data):
    # §1.5, §3: the Resource legacy/* matches objects under that prefix only.
    got = decisions(data, "s3:PutObject", "arn:aws:s3:::prod-data/legacy/export.csv")
    assert got[user(PROD, "svc-legacy")] == "allow"
    assert decisions(data, "s3:PutObject", "arn:aws:s3:::prod-data/app/x")[user(PROD, "svc-legacy")] \
        == "implicit_deny"


def test_who_can_cli():
    proc = subprocess.run([sys.executable, "-m", "iamlogic", "who-can", "s3:GetObject",
                           "arn:aws:s3:::prod-data/analytics/q3.csv", "--account-data", str(ORG),
                           "--context", json.dumps(EU)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert f"ALLOW: {role(SANDBOX, 'Analytics')}" in proc.stdout
    assert "granted by:" in proc.stdout and "SandboxAdmin" not in proc.stdout
    assert "6 of 30 callers allowed" in proc.stderr
    bad = subprocess.run([sys.executable, "-m", "iamlogic", "who-can", "s3:GetObject", "arn:aws:s3:::x/y",
                          "--account-data", str(ORG), "--context", "[1]"], capture_output=True, text=True)
    assert bad.returncode == 1 and "--context" in bad.stderr and "Traceback" not in bad.stderr


# ---------------------------------------------------------------- malformed exports


def test_a_broken_export_is_read_with_a_report_of_what_was_skipped(tmp_path):
    export = json.loads((ORG / "authorization" / f"{SANDBOX}.json").read_text())
    # A managed policy that is not a policy, a user in an unknown group, a
    # role whose trust policy is not JSON.
    export["Policies"].append({"PolicyName": "Broken", "Arn": f"arn:aws:iam::{SANDBOX}:policy/Broken",
                               "DefaultVersionId": "v1", "PolicyVersionList": [
                                   {"Document": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow"}]},
                                    "VersionId": "v1", "IsDefaultVersion": True}]})
    export["UserDetailList"][0]["GroupList"] = ["NoSuchGroup"]
    export["RoleDetailList"][0]["AssumeRolePolicyDocument"] = "%7B%22Version%22%3A"
    (tmp_path / "authorization").mkdir()
    (tmp_path / "authorization" / "sandbox.json").write_text(json.dumps(export))
    data = load_account_data(tmp_path)
    assert [s.entity for s in data.skipped] == [f"arn:aws:iam::{SANDBOX}:policy/Broken",
                                                f"user arn:aws:iam::{SANDBOX}:user/dev-dana",
                                                f"role arn:aws:iam::{SANDBOX}:role/SandboxAdmin"]
    assert data.skipped[0].why.startswith(f"arn:aws:iam::{SANDBOX}:policy/Broken: MISSING_ACTION")
    assert data.skipped[1].why == "group NoSuchGroup is not in the export (or was skipped)"
    assert data.skipped[2].why.startswith(f"arn:aws:iam::{SANDBOX}:role/SandboxAdmin trust policy: not JSON")
    assert all(s.file.endswith("sandbox.json") for s in data.skipped)
    assert data.summary().endswith("skipped 3")
    # The rest is read: the role with the unreadable trust policy is left out.
    assert data.read["roles"] == 6 and f"arn:aws:iam::{SANDBOX}:role/SandboxAdmin" not in data.principals
    assert data.read["users"] == 2


def test_a_folder_without_exports_is_bad_input(tmp_path):
    with pytest.raises(InputError, match="no authorization"):
        load_account_data(tmp_path)


# ---------------------------------------------------------------- reach


def chains(data, start, context=None) -> dict[str, list[str]]:
    from iamlogic.accounts.reach import reach

    return {c.role: [role for role, _ in c.hops] for c in reach(data, user(MGMT, start) if ":" not in start else start,
                                                               context)}


def arn(account, name):
    return f"arn:aws:iam::{account}:role/{name}"


def test_what_an_administrator_reaches_through_role_chains(data):
    got = chains(data, "alice")
    # §1.4: ProdAdmin's trust names the OrganizationAdmin role; KeyAdmin's
    # names ProdAdmin: two and three hops. Analytics' names the sandbox
    # account, whose administrator (reached through OrganizationAdmin) may.
    assert got[arn(PROD, "KeyAdmin")] == [arn(MGMT, "OrganizationAdmin"), arn(PROD, "ProdAdmin"), arn(PROD, "KeyAdmin")]
    assert got[arn(SANDBOX, "Analytics")] == [arn(MGMT, "OrganizationAdmin"), arn(SANDBOX, "SandboxAdmin"),
                                             arn(SANDBOX, "Analytics")]
    # Trust policies that name only the account: alice's own Allow suffices.
    assert got[arn(PROD, "AuditReader")] == [arn(PROD, "AuditReader")]
    # BreakGlass needs MFA (§4: the key is absent); CIRunner trusts a service only.
    assert arn(MGMT, "BreakGlass") not in got and arn(MGMT, "CIRunner") not in got
    assert len(got) == 11


def test_mfa_opens_the_break_glass_role(data):
    got = chains(data, "alice", {"aws:MultiFactorAuthPresent": True})
    assert got[arn(MGMT, "BreakGlass")] == [arn(MGMT, "BreakGlass")]


def test_a_narrow_identity_policy_reaches_one_role(data):
    assert chains(data, "carol") == {arn(PROD, "Deployer"): [arn(PROD, "Deployer")]}
    # The Auditors group may assume */AuditReader, and every AuditReader trusts the management account.
    assert set(chains(data, "bob")) == {arn(a, "AuditReader") for a in (MGMT, PROD, SANDBOX)}


def test_a_boundary_stops_the_chain_at_its_start(data):
    # NoRoleHopping denies sts:AssumeRole to dev-dana and to the Developer
    # role, though Developer's trust names dev-dana and Experimenter's names Developer.
    assert chains(data, user(SANDBOX, "dev-dana")) == {}
    assert chains(data, arn(SANDBOX, "Developer")) == {}
    # SandboxAdmin has no boundary, but Experimenter trusts Developer only.
    assert arn(SANDBOX, "Experimenter") not in chains(data, arn(SANDBOX, "SandboxAdmin"))


def test_reach_cli():
    proc = subprocess.run([sys.executable, "-m", "iamlogic", "reach", user(MGMT, "alice"), "--account-data", str(ORG),
                           "--to", arn(PROD, "KeyAdmin")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert f"{arn(PROD, 'ProdAdmin')} assumes {arn(PROD, 'KeyAdmin')}: allowed by" in proc.stdout
    assert "trust policy" in proc.stdout
    proc = subprocess.run([sys.executable, "-m", "iamlogic", "reach", user(SANDBOX, "dev-dana"), "--account-data",
                           str(ORG), "--to", arn(SANDBOX, "Developer")], capture_output=True, text=True)
    assert proc.returncode == 2 and "not reachable" in proc.stdout
    proc = subprocess.run([sys.executable, "-m", "iamlogic", "reach", user(MGMT, "nobody"), "--account-data",
                           str(ORG)], capture_output=True, text=True)
    assert proc.returncode == 1 and "no such user or role" in proc.stderr and "Traceback" not in proc.stderr


# ---------------------------------------------------------------- conditional, what-can


def test_conditional_names_the_context_that_would_allow(data):
    # Without aws:RequestedRegion the sandbox's region lock (§1.3; a negated
    # operator matches an absent key, §4) denies Analytics; the proofs find
    # the region that lets it through, and the kernel confirms it.
    answers = {a.who: a for a in who_can(data, "s3:GetObject", "arn:aws:s3:::prod-data/analytics/q3.csv",
                                         conditional=True)}
    analytics = answers[role(SANDBOX, "Analytics")]
    assert analytics.decision.decision == "explicit_deny"
    assert analytics.conditional == {"aws:RequestedRegion": "eu-west-1"}
    # No context helps a caller no policy grants, nor one outside the org (the RCP).
    assert answers[role(SANDBOX, "SandboxAdmin")].conditional is None
    assert answers["any session of role arn:aws:iam::444455556666:role/partner-ingest"].conditional is None
    assert [a.who for a in answers.values() if a.conditional is not None] == [role(SANDBOX, "Analytics")]
    assert all(a.undecided is None for a in answers.values())


def test_conditional_mfa_for_the_break_glass_role(data):
    answers = {a.who: a for a in who_can(data, "sts:AssumeRole", f"arn:aws:iam::{MGMT}:role/BreakGlass",
                                         conditional=True)}
    assert answers[user(MGMT, "alice")].conditional == {"aws:MultiFactorAuthPresent": "true"}
    assert answers[user(MGMT, "bob")].conditional is None


def test_what_a_role_can_do_on_the_known_resources(data):
    from iamlogic.accounts.queries import what_can

    def allowed(principal, context=EU):
        out: dict[str, list[str]] = {}
        for resource, action, _ in what_can(data, principal, context):
            out.setdefault(resource, []).append(action)
        return out

    # The key policy names AppServer for Decrypt only; its S3 grants cover
    # objects under app/, not the bucket itself.
    assert allowed(arn(PROD, "AppServer")) == {f"arn:aws:kms:eu-west-1:{PROD}:key/prod-data-key": ["kms:Decrypt"]}
    # §1.6: the Deployer's boundary leaves IAM only iam:PassRole on LambdaExec.
    deployer = allowed(arn(PROD, "Deployer"))
    assert [(r, a) for r, actions in deployer.items() for a in actions if a.startswith("iam:")] == [
        (arn(PROD, "LambdaExec"), "iam:PassRole")]
    assert "s3:PutBucketPolicy" in deployer["arn:aws:s3:::prod-data"]
    # §1.3: no IAM write on the sandbox's own users and roles for its administrator.
    sandbox_admin = allowed(arn(SANDBOX, "SandboxAdmin"))
    writes = [a for r, actions in sandbox_admin.items() if f":{SANDBOX}:" in r for a in actions
              if a.split(":")[1].startswith(("Create", "Delete", "Put", "Attach"))]
    assert writes == []
    assert "iam:GetRole" in sandbox_admin[arn(SANDBOX, "Developer")]


# ---------------------------------------------------------------- from the AWS CLI's outputs


def _cli_outputs(org: dict, folder: Path) -> None:
    """What the AWS CLI's organizations commands would print for ``org``."""
    ids = {name: f"p-{i:08d}" for i, name in enumerate(sorted({*org["scps"], *org["rcps"]}))}
    folder.mkdir()
    for sub in ("list-organizational-units-for-parent", "list-accounts-for-parent", "list-policies-for-target",
                "describe-policy"):
        (folder / sub).mkdir()
    (folder / "describe-organization.json").write_text(json.dumps(
        {"Organization": {"Id": org["id"], "MasterAccountId": org["management_account"]}}))
    (folder / "list-roots.json").write_text(json.dumps({"Roots": [{"Id": org["root"]["id"], "Name": "Root"}]}))
    for kind, type_ in (("scps", "SERVICE_CONTROL_POLICY"), ("rcps", "RESOURCE_CONTROL_POLICY")):
        for name, document in org[kind].items():
            (folder / "describe-policy" / f"{ids[name]}.json").write_text(json.dumps(
                {"Policy": {"PolicySummary": {"Id": ids[name], "Name": name, "Type": type_},
                            "Content": json.dumps(document)}}))

    def node(n: dict) -> None:
        ident = n.get("id") or n.get("ou") or n.get("account")
        for kind, type_, suffix in (("scps", "SERVICE_CONTROL_POLICY", "scp"), ("rcps", "RESOURCE_CONTROL_POLICY", "rcp")):
            (folder / "list-policies-for-target" / f"{ident}.{suffix}.json").write_text(json.dumps(
                {"Policies": [{"Id": ids[p], "Name": p, "Type": type_} for p in n.get(kind, [])]}))
        if "account" in n:
            return
        children = n.get("children", [])
        (folder / "list-accounts-for-parent" / f"{ident}.json").write_text(json.dumps(
            {"Accounts": [{"Id": c["account"], "Name": c["name"]} for c in children if "account" in c]}))
        (folder / "list-organizational-units-for-parent" / f"{ident}.json").write_text(json.dumps(
            {"OrganizationalUnits": [{"Id": c["ou"], "Name": c["name"]} for c in children if "ou" in c]}))
        for c in children:
            node(c)

    node(org["root"])


def test_the_organization_converts_from_the_cli_outputs(tmp_path, data):
    org = json.loads((ORG / "organization.json").read_text())
    _cli_outputs(org, tmp_path / "cli")
    target = tmp_path / "data" / "organization.json"
    target.parent.mkdir()
    proc = subprocess.run([sys.executable, "-m", "iamlogic", "organization-from-cli", str(tmp_path / "cli"),
                           "-o", str(target)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    converted = json.loads(target.read_text())
    assert converted["scps"] == org["scps"] and converted["rcps"] == org["rcps"]
    assert (converted["id"], converted["management_account"]) == (org["id"], org["management_account"])
    # The same tree, hence the same levels for every account.
    (tmp_path / "data" / "authorization").mkdir()
    for path in (ORG / "authorization").glob("*.json"):
        (tmp_path / "data" / "authorization" / path.name).write_text(path.read_text())
    again = load_account_data(tmp_path / "data")
    for account in (MGMT, PROD, SANDBOX):
        for kind in ("scps", "rcps"):
            mine, theirs = again.organization.levels(account, kind), data.organization.levels(account, kind)
            assert (mine is None) == (theirs is None)
            if mine is not None:
                assert [(l["name"], [p.statements for p in l["policies"]]) for l in mine] == \
                       [(l["name"], [p.statements for p in l["policies"]]) for l in theirs]


def test_a_missing_cli_output_names_the_file(tmp_path):
    org = json.loads((ORG / "organization.json").read_text())
    _cli_outputs(org, tmp_path / "cli")
    (tmp_path / "cli" / "list-accounts-for-parent" / "ou-ex01-prod.json").unlink()
    target = tmp_path / "organization.json"
    proc = subprocess.run([sys.executable, "-m", "iamlogic", "organization-from-cli", str(tmp_path / "cli"),
                           "-o", str(target)], capture_output=True, text=True)
    assert proc.returncode == 1 and "list-accounts-for-parent/ou-ex01-prod.json: missing" in proc.stderr
    assert not target.exists() and "Traceback" not in proc.stderr


# ---------------------------------------------------------------- reach at scale: the same edges, faster


def _edges_asking_everyone(data):
    out = set()
    for role in (p for p in data.principals.values() if p.kind == "role"):
        out |= {(a.principal, role.arn) for a in who_can(data, "sts:AssumeRole", role.arn) if a.allowed
                and a.principal is not None and a.principal != role.arn}
    return out


def test_trust_candidates_lose_no_edge_of_the_example(data):
    # reach asks the kernel only about the callers a trust policy can grant
    # (named, or of a named account with an identity Allow that can cover the
    # role): the same edges as asking every principal about every role.
    from iamlogic.accounts.reach import assumption_edges

    assert set(assumption_edges(data)) == _edges_asking_everyone(data)


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    sys.path.insert(0, str(ORG.parent.parent / "bench"))
    import organization

    folder = tmp_path_factory.mktemp("generated")
    organization.generate(folder, accounts=4, roles=120, managed=40, seed=3)
    return folder, load_account_data(folder)


def test_trust_candidates_lose_no_edge_of_a_generated_organization(generated):
    from iamlogic.accounts.reach import assumption_edges

    _, data = generated
    edges = set(assumption_edges(data))
    assert edges == _edges_asking_everyone(data)
    assert len(edges) > 20  # the generated trusts do grant


def test_shards_in_worker_processes_find_the_same_closure(generated):
    from iamlogic.accounts.reach import reach_all
    from iamlogic.accounts.shards import edge_shards

    folder, data = generated
    assert len(edge_shards(data, folder, None, per_shard=50)) == 3  # 120 roles
    assert reach_all(data, jobs=2, folder=folder) == reach_all(data)


def test_who_can_in_worker_processes_gives_the_same_answers(generated):
    from iamlogic.accounts.shards import parallel_who_can

    folder, data = generated
    resource = "arn:aws:s3:::bucket-7/data.csv"
    serial = [a.to_dict() for a in who_can(data, "s3:GetObject", resource)]
    parallel = parallel_who_can(data, folder, "s3:GetObject", resource, None, False, 30_000, jobs=2)
    key = lambda a: (a["who"], a["decision"])  # noqa: E731
    assert sorted(map(key, parallel)) == sorted(map(key, serial))
    # The account the bucket policy names is one of the data's (its principals
    # are asked one by one): every principal, and an anonymous caller.
    assert len(serial) == len(data.principals) + 1 and serial[-1]["kind"] == "anonymous"


def test_another_version_of_a_managed_policy_can_be_asked_for():
    # The example's DeployerBoundary keeps a v1 that allowed everything: read
    # instead of the default v2, the boundary no longer stops iam:CreateUser.
    boundary = f"arn:aws:iam::{PROD}:policy/DeployerBoundary"
    rolled_back = load_account_data(ORG, {boundary: "v1"})
    assert decisions(rolled_back, "iam:CreateUser", f"arn:aws:iam::{PROD}:user/x")[role(PROD, "Deployer")] == "allow"
    # A version the export does not hold: the policy is skipped, and the
    # role whose boundary it is is left out rather than read without it.
    missing = load_account_data(ORG, {boundary: "v9"})
    assert [(s.entity, s.why) for s in missing.skipped] == [
        (boundary, "version v9 (asked for) is not in the export"),
        (f"role arn:aws:iam::{PROD}:role/Deployer",
         f"permissions boundary {boundary} is not in the export (or was skipped)")]
    assert arn(PROD, "Deployer") not in missing.principals
