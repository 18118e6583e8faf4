"""Privilege escalation on small accounts built in tmp dirs, each pinning an
AWS rule a wrong answer once broke (RCP scope and RCPFullAWSAccess, exit
codes, trusts, target tags, service needs, policy changes, regions). Each
test names the User Guide rule it rests on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from iamlogic.accounts import load_account_data
from iamlogic.accounts.escalation import Goal
from iamlogic.accounts.privesc import Escalation, privesc, privesc_all
from iamlogic.accounts.queries import who_can

from conftest import cli

A = "111111111111"
ADMIN = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def doc(*statements) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action, resource="*", **kw) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **kw}


def deny(action, resource="*", **kw) -> dict:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **kw}


def user(name, inline=(), tags=None, boundary=None, groups=()) -> dict:
    out = {"UserName": name, "Arn": f"arn:aws:iam::{A}:user/{name}", "Path": "/", "GroupList": list(groups),
           "UserPolicyList": [{"PolicyName": f"p{i}", "PolicyDocument": d} for i, d in enumerate(inline)],
           "AttachedManagedPolicies": []}
    if tags:
        out["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
    if boundary:
        out["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": boundary}
    return out


def role(name, trust, inline=(), path="/", profile=False, tags=None) -> dict:
    out = {"RoleName": name, "Arn": f"arn:aws:iam::{A}:role{path}{name}", "Path": path,
           "AssumeRolePolicyDocument": trust, "AttachedManagedPolicies": [],
           "RolePolicyList": [{"PolicyName": f"p{i}", "PolicyDocument": d} for i, d in enumerate(inline)],
           "InstanceProfileList": [{"InstanceProfileName": name, "Arn": f"arn:aws:iam::{A}:instance-profile/{name}"}]
           if profile else []}
    if tags:
        out["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
    return out


def write(folder: Path, users=(), roles=(), groups=(), policies=(), org=None) -> Path:
    (folder / "authorization").mkdir(parents=True)
    (folder / "authorization" / f"{A}.json").write_text(json.dumps(
        {"UserDetailList": list(users), "RoleDetailList": list(roles), "GroupDetailList": list(groups),
         "Policies": list(policies)}))
    if org is not None:
        (folder / "organization.json").write_text(json.dumps(org))
    return folder


def arn(kind: str, name: str) -> str:
    return f"arn:aws:iam::{A}:{kind}/{name}"


def found(folder: Path, start: str, **kw):
    return privesc(load_account_data(folder), start, Goal(**kw))


# ------------------------------------------------------------------ A. RCPs

def _org(rcps: dict | None, root_rcps=(), account_rcps=()) -> dict:
    org = {"id": "o-aaaaaaaaaa", "management_account": "999999999999", "scps": {"Full": ADMIN},
           "root": {"id": "r-1", "name": "Root", "scps": ["Full"], "rcps": list(root_rcps), "children": [
               {"ou": "ou-1", "name": "Prod", "scps": ["Full"], "children": [
                   {"account": A, "name": "a", "scps": ["Full"], "rcps": list(account_rcps)}]}]}}
    if rcps is not None:
        org["rcps"] = rcps
    return org


_KEY_MAKER = [user("u", [doc(allow("iam:CreateAccessKey"))]), user("v", [ADMIN])]
_RCP_FULL = doc({"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"})


def test_an_organization_without_rcps_has_them_disabled(tmp_path):
    """AWS Organizations User Guide, "Resource control policies (RCPs)": RCPs
    are a policy type enabled per organization; with none in the tree no
    RCP level applies (SCPs alone decide)."""
    folder = write(tmp_path, _KEY_MAKER, org=_org(None))
    assert found(folder, arn("user", "u")).found
    allowed = [a for a in who_can(load_account_data(folder), "iam:CreateAccessKey", arn("user", "v")) if a.allowed]
    assert len(allowed) == 2


def test_a_node_listing_no_rcp_holds_rcpfullawsaccess(tmp_path):
    """AWS Organizations User Guide, "Resource control policies (RCPs)":
    RCPFullAWSAccess is attached to the root, every OU and every account and
    cannot be detached — a node that lists none does not allow nothing."""
    folder = write(tmp_path, _KEY_MAKER, org=_org({"RCPFullAWSAccess": _RCP_FULL}, root_rcps=["RCPFullAWSAccess"]))
    data = load_account_data(folder)
    assert found(folder, arn("user", "u")).found
    assert data.organization.implied == ["ou Prod", "account a"]
    assert "RCPFullAWSAccess implied at 2" in data.summary()
    # STS is governed by RCPs: a Deny RCP at the account still denies there.
    deny_sts = doc({"Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole", "Resource": "*"})
    other = write(tmp_path / "sts", [user("u", [ADMIN])],
                  [role("r", doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:root"},
                                  "Action": "sts:AssumeRole"}))],
                  org=_org({"D": deny_sts}, account_rcps=["D"]))
    answers = {a.principal: a for a in who_can(load_account_data(other), "sts:AssumeRole", arn("role", "r"))}
    assert answers[arn("user", "u")].decision.decision == "explicit_deny"


def test_rcps_do_not_govern_iam_or_lambda_requests(tmp_path):
    """AWS Organizations User Guide, "Resource control policies (RCPs)", List
    of AWS services that support RCPs (S3, STS, KMS, SQS, Secrets Manager,
    ECR, OpenSearch Serverless): IAM is not one, so an RCP Deny of every
    action does not stop iam:CreateAccessKey; it does stop kms:Decrypt."""
    everything = doc({"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*",
                      "Condition": {"StringNotEquals": {"aws:PrincipalTag/team": "ops"}}})
    folder = write(tmp_path, _KEY_MAKER + [user("w", [doc(allow("kms:Decrypt"))])],
                   org=_org({"RCPFullAWSAccess": _RCP_FULL, "D": everything},
                            root_rcps=["RCPFullAWSAccess"], account_rcps=["D"]))
    assert found(folder, arn("user", "u")).found
    data = load_account_data(folder)
    kms = {a.principal: a for a in who_can(data, "kms:Decrypt", f"arn:aws:kms:us-east-1:{A}:key/k")}
    assert kms[arn("user", "w")].decision.decision == "explicit_deny"
    iam = {a.principal: a for a in who_can(data, "iam:CreateAccessKey", arn("user", "v"))}
    assert iam[arn("user", "u")].allowed


def test_the_server_and_the_accounts_ask_one_rcp_scope():
    """One list (kernel/rcp_scope.py) for the server and the account readers."""
    from iamlogic.kernel.rcp_scope import rcps_govern
    from iamlogic.service import authz

    assert authz.rcps_govern is rcps_govern
    assert [rcps_govern(a) for a in ("sts:AssumeRole", "S3:GetObject", "iam:CreateAccessKey", "lambda:Invoke")] \
        == [True, True, False, False]


# ------------------------------------------------- B. exit codes and silence

def test_all_reports_the_undecided_step(tmp_path, capsys):
    """A policy that could not be read leaves the step it takes part in
    UNDECIDED (never "does not reach"): u's missing policy may be admin, so
    --all exits 3 as one principal does."""
    folder = write(tmp_path, [dict(user("u", [doc(allow("iam:CreateAccessKey"))]),
                                   AttachedManagedPolicies=[{"PolicyName": "Missing",
                                                             "PolicyArn": f"arn:aws:iam::{A}:policy/Missing"}]),
                              user("v")])
    code, out, _ = cli(capsys, "privesc", "--all", "--account-data", str(folder), "--format", "json")
    assert code == 3
    assert {e["actor"] for e in json.loads(out)["undecided"]} == {arn("user", "u")}


def test_a_principal_left_out_of_the_data_makes_the_answer_undecided(tmp_path, capsys):
    """A user whose permissions boundary is not in the export, a role whose
    trust policy is not JSON, are left out: what they allow is not known
    (IAM User Guide, "Policy evaluation logic": the boundary and the trust
    policy both take part), so a path through them is UNDECIDED, exit 3."""
    bound = write(tmp_path / "b", [user("u", [doc(allow("iam:CreateAccessKey"))]),
                                   user("v", [ADMIN], boundary=f"arn:aws:iam::{A}:policy/Missing")])
    code, out, _ = cli(capsys, "privesc", arn("user", "u"), "--account-data", str(bound))
    assert code == 3 and arn("user", "v") in out and "left out" in out
    trust = write(tmp_path / "t", [user("u", [doc(allow("sts:AssumeRole"))])],
                  [role("T", doc(allow("sts:AssumeRole")), [ADMIN])])
    raw = json.loads((trust / "authorization" / f"{A}.json").read_text())
    raw["RoleDetailList"][0]["AssumeRolePolicyDocument"] = "{not json"
    (trust / "authorization" / f"{A}.json").write_text(json.dumps(raw))
    code, out, _ = cli(capsys, "privesc", arn("user", "u"), "--account-data", str(trust))
    assert code == 3 and arn("role", "T") in out


def test_a_path_past_the_change_limit_is_undecided_not_none(tmp_path, capsys):
    """Joining two groups and dropping the boundary are three changes to one
    user (IAM User Guide: a user's permissions are its groups' policies
    within its boundary); past MAX_CHANGES the search says it stopped."""
    bnd = f"arn:aws:iam::{A}:policy/Bnd"
    policies = [{"PolicyName": "Bnd", "Arn": bnd, "DefaultVersionId": "v1", "PolicyVersionList": [
        {"VersionId": "v1", "IsDefaultVersion": True,
         # the boundary leaves no way to write an Allow of * on * (which would make the groups moot)
         "Document": doc(allow(["iam:AddUserToGroup", "iam:DeleteUserPermissionsBoundary"]))}]}]
    groups = [{"GroupName": g, "Arn": arn("group", g), "Path": "/", "AttachedManagedPolicies": [],
               "GroupPolicyList": [{"PolicyName": "g", "PolicyDocument": d}]}
              for g, d in (("G1", doc(allow("iam:AddUserToGroup"))),
                           ("G2", doc(allow("iam:DeleteUserPermissionsBoundary"), allow("*"))))]
    folder = write(tmp_path, [user("u", [doc(allow("iam:AddUserToGroup", arn("group", "G1")))], boundary=bnd)],
                   groups=groups, policies=policies)
    code, out, _ = cli(capsys, "privesc", arn("user", "u"), "--account-data", str(folder))
    assert code == 3 and "MAX_CHANGES" in out
    # A boundary of iam:*: in G2, u may replace its own policy by an Allow of
    # * on *, which makes both groups moot (no Deny in them): then
    # CreatePolicyVersion of the boundary — found, not stopped at the limit.
    policies[0]["PolicyVersionList"][0]["Document"] = doc(allow("iam:*"))
    wide = write(tmp_path / "wide", [user("u", [doc(allow("iam:AddUserToGroup", arn("group", "G1")))],
                                          boundary=bnd)], groups=groups, policies=policies)
    finding = found(wide, arn("user", "u"))
    assert finding.found and finding.paths[0][-2].method == "CreatePolicyVersion"


# ------------------------------------------------------------- C. trusts

def _assume(principal, **kw) -> dict:
    return doc({"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole", **kw})


def test_a_trust_naming_everyone_with_a_principal_arn_condition(tmp_path):
    """IAM JSON policy elements, Principal: "*" is every principal; the
    aws:PrincipalArn condition (global condition keys) then decides who."""
    folder = write(tmp_path, [user("u", [doc(allow("sts:AssumeRole"))])],
                   [role("T", _assume("*", Condition={"ArnEquals": {"aws:PrincipalArn": arn("user", "u")}}),
                         [ADMIN])])
    assert found(folder, arn("user", "u")).found


def test_an_admin_asking_for_a_role_that_trusts_another_role(tmp_path):
    """IAM User Guide, "Cross-account policy evaluation logic": R of another
    account trusts only role X, so even an admin must become X first."""
    folder = write(tmp_path, [user("alice", [ADMIN])], [role("X", _assume({"AWS": f"arn:aws:iam::{A}:root"}))])
    other = "222222222222"
    r = dict(role("R", _assume({"AWS": arn("role", "X")})), Arn=f"arn:aws:iam::{other}:role/R")
    (folder / "authorization" / f"{other}.json").write_text(json.dumps(
        {"UserDetailList": [], "RoleDetailList": [r], "GroupDetailList": [], "Policies": []}))
    finding = found(folder, arn("user", "alice"), principal=r["Arn"])
    assert finding.found
    assert all(any(e.target == r["Arn"] and e.source.startswith(arn("role", "X")) for e in p) for p in finding.paths)


def test_a_session_arn_names_a_role_with_a_path(tmp_path):
    """IAM User Guide, "IAM identifiers": a role session's ARN is
    arn:aws:sts::ACCOUNT:assumed-role/ROLE-NAME/SESSION, without the role's path."""
    folder = write(tmp_path, [user("u", [doc(allow("sts:AssumeRole"))])],
                   [role("R", _assume({"AWS": arn("user", "u")}), [doc(allow("sts:AssumeRole"))], path="/app/"),
                    role("T", _assume({"AWS": f"arn:aws:sts::{A}:assumed-role/R/s"}), [ADMIN])])
    finding = found(folder, arn("user", "u"))
    assert finding.found
    assert f"arn:aws:sts::{A}:assumed-role/R/s" in [e.target for e in finding.paths[0]]


def test_a_named_session_rewrites_its_own_role(tmp_path):
    """IAM User Guide, "Policy evaluation logic": a session's permissions
    are its role's policies at the time of each request, so a policy the
    session puts on its role applies to it."""
    session = f"arn:aws:sts::{A}:assumed-role/R/s"
    folder = write(tmp_path, [], [role("R", _assume({"AWS": session}),
                                       [doc(allow("iam:PutRolePolicy", arn("role", "R")))])])
    assert found(folder, session).found


# --------------------------------------------------------- D. target tags

def test_the_target_s_tags_are_in_each_request_on_it(tmp_path):
    """IAM User Guide, "Controlling access to and for IAM users and roles
    using tags": aws:ResourceTag/KEY of a request on a user or role is that
    principal's tag — an Allow limited to it opens the path, a Deny on it
    closes it."""
    team = {"StringEquals": {"aws:ResourceTag/team": "dev"}}
    opened = write(tmp_path / "allow", [user("u", [doc(allow("iam:CreateAccessKey", Condition=team))]),
                                        user("v", [ADMIN], tags={"team": "dev"})])
    assert found(opened, arn("user", "u")).found
    protected = {"StringEquals": {"aws:ResourceTag/protected": "true"}}
    closed = write(tmp_path / "deny", [user("u", [doc(allow("iam:CreateAccessKey"),
                                                      deny("iam:*", Condition=protected))]),
                                       user("v", [ADMIN], tags={"protected": "true"})])
    assert not found(closed, arn("user", "u")).found


# ------------------------------------------------------- E. service needs

def _pass_and(action, resource, role_name="Svc"):
    return doc(allow("iam:PassRole", arn("role", role_name)), allow(action, resource))


def test_a_service_trust_with_the_confused_deputy_condition(tmp_path):
    """IAM User Guide, "The confused deputy problem": a service assuming a
    role for the owner's account sets aws:SourceAccount to it, so a trust
    limited to that account lets CodeBuild in."""
    codebuild = doc({"Effect": "Allow", "Principal": {"Service": "codebuild.amazonaws.com"},
                     "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"aws:SourceAccount": A}}})
    folder = write(tmp_path, [user("u", [doc(allow("iam:PassRole", arn("role", "Svc")),
                                             allow(["codebuild:CreateProject", "codebuild:StartBuild"]))])],
                   [role("Svc", codebuild, [ADMIN])])
    finding = found(folder, arn("user", "u"))
    assert finding.found and finding.paths[0][0].method == "PassRole+CodeBuild CreateProject+StartBuild"


def test_run_instances_is_asked_on_every_required_resource_type(tmp_path):
    """Service Authorization Reference, Amazon EC2, RunInstances: image,
    instance, network-interface, security-group and subnet are required
    resource types, each authorized: a Deny on image/* stops the launch."""
    ec2 = _assume({"Service": "ec2.amazonaws.com"})
    folder = write(tmp_path, [user("u", [doc(allow("iam:PassRole", arn("role", "Svc")), allow("ec2:RunInstances"),
                                             deny("ec2:RunInstances", "arn:aws:ec2:*::image/*"))])],
                   [role("Svc", ec2, [ADMIN], profile=True)])
    assert not found(folder, arn("user", "u")).found
    open_ = write(tmp_path / "open", [user("u", [_pass_and("ec2:RunInstances", "*")])],
                  [role("Svc", ec2, [ADMIN], profile=True)])
    assert found(open_, arn("user", "u")).found


def test_a_service_linked_role_cannot_be_rewritten(tmp_path):
    """IAM User Guide, "Using service-linked roles": their trust and
    permissions policies cannot be edited (IAM answers UnmodifiableEntity)."""
    slr = dict(role("AWSServiceRoleForX", _assume({"Service": "x.amazonaws.com"}), [ADMIN],
                    path="/aws-service-role/x.amazonaws.com/"))
    folder = write(tmp_path, [user("u", [doc(allow(["iam:UpdateAssumeRolePolicy", "sts:AssumeRole",
                                                    "iam:PutRolePolicy"]))])], [slr])
    assert not found(folder, arn("user", "u")).found


# ------------------------------------------------------ F. policy changes


def _deny_all_but(*actions) -> dict:
    return {"Effect": "Deny", "NotAction": list(actions), "Resource": "*"}


def _managed(name, *versions) -> dict:
    return {"PolicyName": name, "Arn": arn("policy", name), "DefaultVersionId": "v1", "PolicyVersionList": [
        {"VersionId": f"v{i + 1}", "IsDefaultVersion": i == 0, "Document": d} for i, d in enumerate(versions)]}


def _method_of(folder: Path, start: str) -> set[str]:
    finding = found(folder, start)
    return {e.method for p in finding.paths for e in p} if finding.found else set()


def _attached(entry: dict, *names) -> dict:
    return dict(entry, AttachedManagedPolicies=[{"PolicyName": n, "PolicyArn": arn("policy", n)} for n in names])


def test_removing_the_policy_that_holds_the_deny(tmp_path):
    """IAM User Guide, "Policy evaluation logic": an explicit Deny in any
    identity policy wins — until that policy is deleted, detached, or the
    user leaves the group that holds it (IAM API Reference, DeleteUserPolicy,
    DetachUserPolicy, DeleteRolePolicy, DetachRolePolicy, DeleteGroupPolicy,
    DetachGroupPolicy, RemoveUserFromGroup)."""
    cases = {
        "DeleteUserPolicy": ([_attached(user("u", [doc(_deny_all_but("iam:DeleteUserPolicy"))]), "Wide")], [], []),
        "DetachUserPolicy": ([_attached(user("u", [ADMIN]), "Fence")], [], []),
        "DeleteGroupPolicy": ([user("u", [ADMIN], groups=["G"])], [], [
            {"GroupName": "G", "Arn": arn("group", "G"), "Path": "/", "AttachedManagedPolicies": [],
             "GroupPolicyList": [{"PolicyName": "g", "PolicyDocument": doc(_deny_all_but("iam:DeleteGroupPolicy"))}]}]),
        "DetachGroupPolicy": ([user("u", [ADMIN], groups=["G"])], [], [
            {"GroupName": "G", "Arn": arn("group", "G"), "Path": "/", "GroupPolicyList": [],
             "AttachedManagedPolicies": [{"PolicyName": "Fence", "PolicyArn": arn("policy", "Fence")}]}]),
        "RemoveUserFromGroup": ([user("u", [ADMIN], groups=["G"])], [], [
            {"GroupName": "G", "Arn": arn("group", "G"), "Path": "/", "AttachedManagedPolicies": [],
             "GroupPolicyList": [{"PolicyName": "g",
                                  "PolicyDocument": doc(_deny_all_but("iam:RemoveUserFromGroup"))}]}]),
    }
    policies = [_managed("Wide", ADMIN),
                _managed("Fence", doc(_deny_all_but("iam:DetachUserPolicy", "iam:DetachGroupPolicy")))]
    for name, (users, roles, groups) in cases.items():
        folder = write(tmp_path / name, users, roles, groups, policies)
        assert name in _method_of(folder, arn("user", "u")), name
    roles = write(tmp_path / "roles", [user("u", [doc(allow("sts:AssumeRole"))])], [
        _attached(role("R", _assume({"AWS": arn("user", "u")}), [ADMIN]), "Fence2"),
        role("Q", _assume({"AWS": arn("user", "u")}), [ADMIN, doc(_deny_all_but("iam:DeleteRolePolicy"))])],
        policies=[_managed("Fence2", doc(_deny_all_but("iam:DetachRolePolicy")))])
    methods = {e.method for e in privesc_all(load_account_data(roles), Goal()) for p in e.paths for e in p}
    assert {"DetachRolePolicy", "DeleteRolePolicy"} <= methods
    # Decoy: the Deny is in a policy the user may not delete.
    decoy = write(tmp_path / "decoy", [user("u", [ADMIN, doc(_deny_all_but("iam:GetUser"))])])
    assert not found(decoy, arn("user", "u")).found


def test_a_change_to_another_principal_counts_for_one_who_also_becomes_it(tmp_path):
    """The closure's combination rule (kernel/reachability.py): deleting
    V's fencing policy gives V's Allow to a caller only if the caller can
    also act as V (here CreateAccessKey on V), whichever it gets first —
    and no further: the changed V is not even searched for a caller that
    cannot become V."""
    fence = doc(_deny_all_but("iam:GetUser"))
    victim = user("v", [ADMIN, fence])
    deleter = user("x", [doc(allow("iam:DeleteUserPolicy", arn("user", "v")))])
    lone = write(tmp_path / "lone", [victim, deleter])
    data = load_account_data(lone)
    graph = Escalation(data, Goal())
    graph.explore(arn("user", "x"))
    assert not any(n.startswith(arn("user", "v") + "#") for n in graph.expanded)
    assert not privesc(data, arn("user", "x"), Goal()).found
    assert not any(f.start == arn("user", "x") for f in privesc_all(data, Goal()))
    # the change first, the principal later: x assumes R, which may delete it;
    # the principal first, the change later: CreateAccessKey on v directly
    both = write(tmp_path / "both", [victim, user("x", [doc(allow("iam:CreateAccessKey", arn("user", "v")),
                                                            allow("sts:AssumeRole", arn("role", "R")))])],
                 [role("R", _assume({"AWS": arn("user", "x")}), [doc(allow("iam:DeleteUserPolicy",
                                                                             arn("user", "v")))])])
    data = load_account_data(both)
    finding = privesc(data, arn("user", "x"), Goal())
    assert finding.found
    assert {"AssumeRole", "DeleteUserPolicy", "CreateAccessKey"} <= {e.method for e in finding.paths[0]}
    assert any(f.start == arn("user", "x") for f in privesc_all(data, Goal()))
    assert not any(f.start == arn("role", "R") for f in privesc_all(data, Goal()))  # R cannot become v
    later = write(tmp_path / "later", [victim, user("x", [doc(allow("iam:DeleteUserPolicy", arn("user", "v")),
                                                             allow("sts:AssumeRole", arn("role", "R")))])],
                  [role("R", _assume({"AWS": arn("user", "x")}), [doc(allow("iam:CreateAccessKey",
                                                                              arn("user", "v")))])])
    assert privesc(load_account_data(later), arn("user", "x"), Goal()).found


def test_a_change_after_the_caller_s_allow_of_everything_that_moves_no_deny_is_no_step(tmp_path):
    """IAM User Guide, "Policy evaluation logic": with an unconditional
    Allow of * on * among its identity policies, a principal's identity
    layer allows every request, so attaching another Allow, or removing
    one that holds no Deny, decides nothing anew — it is not a step (such
    steps were followed to the change limit and reported UNDECIDED). A
    change that removes a Deny still is one."""
    s3 = _managed("S3Read", doc(allow("lambda:InvokeFunction")))  # an action a method needs: tried
    me = arn("user", "u")
    rights = doc(allow(["iam:PutUserPolicy", "iam:DeleteUserPolicy"], me),
                 allow("iam:AttachUserPolicy", me, Condition={"ArnEquals": {"iam:PolicyARN": arn("policy", "S3Read")}}))
    folder = write(tmp_path / "a", [user("u", [rights, doc(deny("s3:DeleteBucket"))]),
                                    user("elsewhere", [ADMIN])], policies=[s3])
    graph = Escalation(load_account_data(folder), Goal(principal=arn("user", "nobody-reaches")))
    graph.explore(me)
    nodes = graph.expanded
    assert f"{me}#rewrite" in nodes and f"{me}#attach:{arn('policy', 'S3Read')}" in nodes
    assert not any("rewrite" in n and "attach:" in n for n in nodes)  # attach after rewrite: nothing new
    assert f"{me}#remove:user {me} inline p1+rewrite" in nodes  # the Deny's removal is a step
    assert not any("rewrite" in e.source for e in graph.undecided)  # none at the change limit past it
    assert f"{me}#unbound" not in nodes  # it has no boundary: removing one by another's hand is no change


def test_a_new_version_or_same_name_replaces_the_document(tmp_path):
    """IAM API Reference, CreatePolicyVersion (SetAsDefault) and PutUserPolicy
    / PutRolePolicy with an existing PolicyName: the new document replaces
    the old, its Deny goes with it."""
    fence = _managed("Own", doc(allow("*"), _deny_all_but("iam:CreatePolicyVersion")))
    folder = write(tmp_path / "v", [_attached(user("u"), "Own")], policies=[fence])
    assert "CreatePolicyVersion" in _method_of(folder, arn("user", "u"))
    same = write(tmp_path / "n", [user("u", [doc(allow("*"), _deny_all_but("iam:PutUserPolicy"))])])
    assert "PutUserPolicy (same name)" in _method_of(same, arn("user", "u"))
    role_same = write(tmp_path / "r", [user("u", [doc(allow("sts:AssumeRole"))])], [
        role("R", _assume({"AWS": arn("user", "u")}), [doc(allow("*"), _deny_all_but("iam:PutRolePolicy"))])])
    assert "PutRolePolicy (same name)" in _method_of(role_same, arn("user", "u"))


def test_rewriting_the_boundary_policy(tmp_path):
    """IAM User Guide, "Permissions boundaries": the boundary is a managed
    policy; a new default version of it (CreatePolicyVersion) lifts it."""
    bnd = _managed("Bnd", doc(allow("iam:CreatePolicyVersion", arn("policy", "Bnd"))))
    folder = write(tmp_path, [user("u", [ADMIN], boundary=arn("policy", "Bnd"))], policies=[bnd])
    assert "CreatePolicyVersion" in _method_of(folder, arn("user", "u"))


def test_attach_limited_to_a_customer_policy_allowing_everything(tmp_path):
    """Service Authorization Reference, IAM: iam:PolicyARN names the policy
    AttachUserPolicy / AttachRolePolicy attaches; a customer policy allowing
    * on * is as good as AdministratorAccess."""
    only_wide = {"ArnEquals": {"iam:PolicyARN": arn("policy", "Wide")}}
    wide = _managed("Wide", ADMIN)
    folder = write(tmp_path / "u", [user("u", [doc(allow("iam:AttachUserPolicy", arn("user", "u"),
                                                         Condition=only_wide))])], policies=[wide])
    assert "AttachUserPolicy (managed policy)" in _method_of(folder, arn("user", "u"))
    roles = write(tmp_path / "r", [user("u", [doc(allow("sts:AssumeRole"))])], [
        role("R", _assume({"AWS": arn("user", "u")}), [doc(allow("iam:AttachRolePolicy", arn("role", "R"),
                                                                 Condition=only_wide))])], policies=[wide])
    assert "AttachRolePolicy (managed policy)" in _method_of(roles, arn("user", "u"))
    narrow = write(tmp_path / "n", [user("u", [doc(allow("iam:AttachUserPolicy", arn("user", "u"),
                                                         Condition=only_wide))])],
                   policies=[_managed("Wide", doc(allow("s3:*")))])
    assert not found(narrow, arn("user", "u")).found


def test_five_versions_need_delete_policy_version(tmp_path):
    """IAM User Guide, "Versioning IAM policies": a managed policy has at
    most five versions; a sixth needs DeletePolicyVersion (else LimitExceeded)."""
    five = _managed("Own", *([doc(allow("iam:CreatePolicyVersion", arn("policy", "Own")))] * 5))
    folder = write(tmp_path, [_attached(user("u"), "Own")], policies=[five])
    assert not found(folder, arn("user", "u")).found
    may_delete = _managed("Own", *([doc(allow(["iam:CreatePolicyVersion", "iam:DeletePolicyVersion"],
                                              arn("policy", "Own")))] * 5))
    assert found(write(tmp_path / "d", [_attached(user("u"), "Own")], policies=[may_delete]), arn("user", "u")).found


# ---------------------------------------------------------------- G. region

def test_a_region_lock_is_met_in_a_region_the_caller_picks(tmp_path):
    """IAM User Guide, global condition keys, aws:RequestedRegion: the
    region of the endpoint the caller calls — an SCP allowing eu-west-1
    alone lets a caller who calls eu-west-1 through (docs/readings.md A9);
    IAM's requests are in us-east-1, which the lock (exempting iam:*) spares."""
    lock = doc(allow("*"), {"Effect": "Deny", "NotAction": ["iam:*", "sts:*"], "Resource": "*",
                            "Condition": {"StringNotEquals": {"aws:RequestedRegion": "eu-west-1"}}})
    org = _org(None)
    org["scps"]["Lock"] = lock
    org["root"]["children"][0]["children"][0]["scps"] = ["Full", "Lock"]
    folder = write(tmp_path, [user("u", [_pass_and("lambda:*", "*", "L")])],
                   [role("L", _assume({"Service": "lambda.amazonaws.com"}), [ADMIN])], org=org)
    finding = found(folder, arn("user", "u"))
    assert finding.found and finding.region == "eu-west-1"
    fixed = privesc(load_account_data(folder), arn("user", "u"), Goal(), {"aws:RequestedRegion": "us-west-2"})
    assert not fixed.found


# ------------------------------------------------------- H. what admin is

_POWER_USER = doc({"Effect": "Allow", "NotAction": ["iam:*", "organizations:*", "account:*"], "Resource": "*"})


def test_an_allow_of_notaction_or_notresource_is_not_admin(tmp_path):
    """IAM User Guide, "Policy evaluation logic": a request is allowed only
    where the identity policy, the boundary and every SCP level allow it.
    An Allow of NotAction iam:* (PowerUserAccess) leaves IAM out, in any
    layer, and NotResource leaves its resources out: no such principal is
    allowed * on *, however a request for an unnamed action fares."""

    no_iam = _managed("NoIAM", doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}))
    cases = {
        "identity": write(tmp_path / "i", [user("u", [_POWER_USER])]),
        "boundary": write(tmp_path / "b", [user("u", [ADMIN], boundary=arn("policy", "NoIAM"))], policies=[no_iam]),
        # (its own IAM user left out too: else it would write itself * on *)
        "notresource": write(tmp_path / "r", [user("u", [doc({
            "Effect": "Allow", "Action": "*", "NotResource": ["arn:aws:s3:::secret/*", f"arn:aws:iam::{A}:*"]})])]),
        "role": write(tmp_path / "p", [user("u", [doc(allow("sts:AssumeRole"))])],
                      [role("Power", _assume({"AWS": f"arn:aws:iam::{A}:root"}), [_POWER_USER])]),
    }
    org = _org(None)
    org["scps"]["NoIAM"] = doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})
    org["root"]["children"][0]["children"][0]["scps"] = ["NoIAM"]
    cases["scp"] = write(tmp_path / "s", [user("u", [ADMIN])], org=org)
    for name, folder in cases.items():
        assert not found(folder, arn("user", "u")).found, name
    # what one NotAction leaves out, another Allow may cover: then it is admin
    covered = write(tmp_path / "c", [user("u", [_POWER_USER, doc(allow(["iam:*", "organizations:*", "account:*"]))])])
    assert found(covered, arn("user", "u")).found


def test_a_customer_policy_of_notaction_is_no_admin_policy_to_attach(tmp_path):
    """The same rule for the customer-policy attach: attaching a policy of
    NotAction iam:* (iam:PolicyARN allows only it) gives no * on *."""
    power = _managed("Power", _POWER_USER)
    attach = doc(allow("iam:AttachUserPolicy", arn("user", "u"),
                       Condition={"ArnEquals": {"iam:PolicyARN": arn("policy", "Power")}}))
    folder = write(tmp_path, [user("u", [attach])], policies=[power])
    assert not found(folder, arn("user", "u")).found


def test_set_default_policy_version_is_for_customer_policies_and_boundaries(tmp_path):
    """IAM API Reference, SetDefaultPolicyVersion: AWS managed policies are
    AWS's (a customer's call fails), so an old version of one is no path;
    a customer policy used as the permissions boundary is one, and making
    a version that allows * its default lifts the boundary (IAM User Guide,
    "Permissions boundaries": the boundary is the policy's default version)."""
    aws_managed = "arn:aws:iam::aws:policy/ReadOnlyAccess"
    ro = {"PolicyName": "ReadOnlyAccess", "Arn": aws_managed, "DefaultVersionId": "v2", "PolicyVersionList": [
        {"VersionId": "v1", "IsDefaultVersion": False, "Document": ADMIN},
        {"VersionId": "v2", "IsDefaultVersion": True, "Document": doc(allow("s3:Get*"))}]}
    folder = write(tmp_path / "a", [dict(user("u", [doc(allow("iam:SetDefaultPolicyVersion"))]),
                                         AttachedManagedPolicies=[{"PolicyName": "ReadOnlyAccess",
                                                                   "PolicyArn": aws_managed}])], policies=[ro])
    assert not found(folder, arn("user", "u")).found
    bound = _managed("B", doc(allow(["s3:*", "iam:SetDefaultPolicyVersion"])), doc(allow("*")))
    folder = write(tmp_path / "b", [user("u", [ADMIN], boundary=arn("policy", "B"))], policies=[bound])
    assert _method_of(folder, arn("user", "u")) >= {"SetDefaultPolicyVersion"}


def test_passrole_to_ec2_carries_the_associated_resource_arn(tmp_path):
    """IAM User Guide, iam:AssociatedResourceArn: EC2 sets it on the PassRole
    of RunInstances to the instance's ARN (instance/* before the instance
    has an ID), so an Allow of PassRole conditioned on it opens the method;
    one naming another account's instances does not."""
    def folder(path, pattern):
        passrole = allow("iam:PassRole", arn("role", "Svc"), Condition={
            "StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"},
            "ArnLike": {"iam:AssociatedResourceARN": pattern}})
        return write(path, [user("u", [doc(passrole, allow("ec2:RunInstances"))])],
                     [role("Svc", _assume({"Service": "ec2.amazonaws.com"}), [ADMIN], profile=True)])
    assert _method_of(folder(tmp_path / "a", f"arn:aws:ec2:*:{A}:instance/*"), arn("user", "u")) == {
        "PassRole+RunInstances", "allowed the goal"}
    assert not found(folder(tmp_path / "b", "arn:aws:ec2:*:222222222222:instance/*"), arn("user", "u")).found


def test_a_left_out_principal_asked_about_is_undecided(tmp_path, capsys):
    """A user the data leaves out (its boundary is not in the export) is in
    the account all the same: asked about it, or with --all, the answer is
    UNDECIDED (exit 3), never "no such user" nor "no principal reaches"."""
    folder = write(tmp_path, [user("v", [doc(allow("iam:PutUserPolicy", arn("user", "v")))],
                                   boundary=arn("policy", "Missing"))])
    code, out, _ = cli(capsys, "privesc", arn("user", "v"), "--account-data", str(folder))
    assert code == 3 and "left out" in out
    code, out, _ = cli(capsys, "privesc", "--all", "--account-data", str(folder), "--format", "json")
    assert code == 3 and arn("user", "v") in {e["actor"] for e in json.loads(out)["undecided"]}
    # the picture shows the undecided step: it is not the empty graph of "none"
    code, out, _ = cli(capsys, "privesc", arn("user", "v"), "--account-data", str(folder), "--format", "dot")
    assert code == 3 and f'"{arn("user", "v")}" -> "GOAL"' in out and "UNDECIDED: left out" in out


def test_attaching_a_policy_short_of_admin_that_leads_on(tmp_path):
    """Rhino 7 with iam:PolicyARN limited to a customer policy KeyMaker,
    which allows only iam:CreateAccessKey on the admin user: attached, it
    lets the user make the admin's keys (IAM User Guide: a user's
    permissions are all its attached policies) — two steps, not none."""
    keymaker = _managed("KeyMaker", doc(allow("iam:CreateAccessKey", arn("user", "admin"))))
    attach = doc(allow("iam:AttachUserPolicy", arn("user", "u"),
                       Condition={"ArnEquals": {"iam:PolicyARN": arn("policy", "KeyMaker")}}))
    folder = write(tmp_path, [user("u", [attach]), user("admin", [ADMIN])], policies=[keymaker])
    finding = found(folder, arn("user", "u"))
    assert finding.found
    assert [e.method for e in finding.paths[0]][:2] == ["AttachUserPolicy (managed policy)", "CreateAccessKey"]
    # allowed to attach AdministratorAccess too, KeyMaker (no Deny) adds less in the same step: not searched
    anything = doc(allow("iam:AttachUserPolicy", arn("user", "u")))
    graph = Escalation(load_account_data(write(tmp_path / "any", [user("u", [anything]), user("admin", [ADMIN])],
                                               policies=[keymaker])), Goal(principal=arn("user", "nobody")))
    graph.explore(arn("user", "u"))
    assert f"{arn('user', 'u')}#rewrite" in graph.expanded and not any("attach:" in n for n in graph.expanded)
    # a policy with no Allow any method needs is no step
    inert = _managed("KeyMaker", doc(allow("s3:GetObject")))
    assert not found(write(tmp_path / "i", [user("u", [attach]), user("admin", [ADMIN])], policies=[inert]),
                     arn("user", "u")).found


def test_retagging_itself_with_a_value_no_condition_names(tmp_path):
    """IAM User Guide, "Controlling access to and for IAM users and roles
    using tags": the user's tags are aws:PrincipalTag in its requests. A
    Deny for env=prod is escaped by retagging env to any other value (one
    the data names nowhere is tried), where untagging is denied; the
    TagUser request carries aws:RequestTag/env, so a condition on it
    decides."""
    prod = {"StringEquals": {"aws:PrincipalTag/env": "prod"}}
    fence = doc({"Effect": "Deny", "NotAction": "iam:TagUser", "Resource": "*", "Condition": prod},
                deny("iam:UntagUser"))
    folder = write(tmp_path / "open", [user("u", [ADMIN, fence], tags={"env": "prod"})])
    finding = found(folder, arn("user", "u"))
    assert finding.found and finding.paths[0][0].method == "TagUser"
    assert finding.paths[0][0].target.startswith(arn("user", "u") + "#tag:env=")
    request = finding.paths[0][0].answers[0].decision.request
    assert request.context["aws:TagKeys"] == ["env"] and request.context["aws:RequestTag/env"] != "prod"
    # the new value must be prod itself: no escape
    pinned = doc({"Effect": "Deny", "Action": "iam:TagUser", "Resource": "*",
                  "Condition": {"StringNotEquals": {"aws:RequestTag/env": "prod"}}})
    closed = write(tmp_path / "closed", [user("u", [ADMIN, fence, pinned], tags={"env": "prod"})])
    assert not found(closed, arn("user", "u")).found


# ---------------------------------------------- I. keys every request carries

def test_keys_every_request_carries_are_in_the_requests(tmp_path):
    """IAM User Guide, AWS global condition context keys: aws:CurrentTime,
    aws:EpochTime, aws:SecureTransport and aws:ViaAWSService are "always
    included in the request context" (docs/readings.md A12): a Deny after a
    date, or of calls not made by a service, applies; an Allow for HTTPS
    holds. They were absent, so the Deny was skipped (a wrong escalation)."""
    expired = deny("*", Condition={"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}})
    epoch = deny("*", Condition={"NumericGreaterThan": {"aws:EpochTime": "1577836800"}})
    direct = deny("*", Condition={"Bool": {"aws:ViaAWSService": "false"}})
    https = allow("*", Condition={"Bool": {"aws:SecureTransport": "true"}})
    folder = write(tmp_path, [user("expired", [ADMIN, doc(expired)]), user("epoch", [ADMIN, doc(epoch)]),
                              user("direct", [ADMIN, doc(direct)]), user("https", [doc(https)])])
    data = load_account_data(folder)
    for name in ("expired", "epoch", "direct"):
        assert not privesc(data, arn("user", name), Goal()).found, name
    assert privesc(data, arn("user", "https"), Goal()).found


def test_aws_userid_is_the_export_s_unique_id(tmp_path):
    """IAM User Guide, aws:userid: a user's unique ID (AIDA…), a role
    session's ROLEID:SESSION — from the export's UserId / RoleId: a Deny on
    the user's ID applies, one on another's does not."""
    fenced = dict(user("u", [ADMIN, doc(deny("*", Condition={"StringLike": {"aws:userid": "AIDAFENCED*"}}))]),
                  UserId="AIDAFENCEDEXAMPLE")
    free = dict(user("v", [ADMIN, doc(deny("*", Condition={"StringLike": {"aws:userid": "AIDAFENCED*"}}))]),
                UserId="AIDAFREEEXAMPLE")
    data = load_account_data(write(tmp_path, [fenced, free]))
    assert not privesc(data, arn("user", "u"), Goal()).found
    assert privesc(data, arn("user", "v"), Goal()).found



def test_aws_userid_a_policy_tests_but_the_export_lacks_is_undecided(tmp_path):
    """Without UserId in the export, aws:userid is not absent from the
    request but unknown: a Deny on it may apply or not, so the principal's
    answers through that policy are UNDECIDED (never "reaches", never "does
    not reach"); a user whose policies do not test it is decided as before,
    and who-can says UNDECIDED too."""
    from iamlogic.accounts.queries import who_can

    fence = doc(deny("*", Condition={"StringLike": {"aws:userid": "AIDAFENCED*"}}))
    data = load_account_data(write(tmp_path, [user("u", [ADMIN, fence]), user("w", [ADMIN])]))
    finding = privesc(data, arn("user", "u"), Goal())
    assert not finding.found and finding.undecided
    assert "aws:userid" in finding.undecided[0].why
    assert privesc(data, arn("user", "w"), Goal()).found
    answers = {a.principal: a for a in who_can(data, "s3:GetObject", "arn:aws:s3:::b/k")}
    assert answers[arn("user", "u")].failed_closed and answers[arn("user", "w")].allowed


def test_a_role_s_path_is_in_its_principal_arn(tmp_path):
    """IAM User Guide, aws:PrincipalArn: for a role session it is the role's
    ARN, path included (the session ARN drops the path): an SCP denying
    role/restricted/* cuts the role /restricted/R."""
    scp = doc(deny("*", Condition={"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/restricted/*"}}))
    org = {"id": "o-x", "management_account": "999999999999", "scps": {"Full": doc(allow("*")), "NoRestricted": scp},
           "root": {"id": "r", "name": "Root", "scps": ["Full"],
                    "children": [{"account": A, "name": "a", "scps": ["Full", "NoRestricted"]}]}}
    folder = write(tmp_path, roles=[role("R", _assume({"AWS": arn("user", "x")}), [ADMIN], path="/restricted/"),
                                    role("Q", _assume({"AWS": arn("user", "x")}), [ADMIN])], org=org)
    data = load_account_data(folder)
    assert not privesc(data, f"arn:aws:iam::{A}:role/restricted/R", Goal()).found
    assert privesc(data, arn("role", "Q"), Goal()).found


def test_an_allow_of_everything_in_one_region_is_not_admin(tmp_path):
    """IAM's requests are in us-east-1 (docs/readings.md A9): Allow * with
    aws:RequestedRegion eu-west-1 allows no IAM action, so it is not * on *."""
    only = allow("*", Condition={"StringEquals": {"aws:RequestedRegion": "eu-west-1"}})
    folder = write(tmp_path, [user("u", [doc(only)])])
    assert not found(folder, arn("user", "u")).found


def test_tag_values_a_tag_request_names_and_keys_in_any_case(tmp_path):
    """A TagUser allowed only for aws:RequestTag/team = identity, where the
    Allow of * tests aws:PrincipalTag/team StringLike iden*: the value the
    Tag request's condition names is tried. A user's tag keys are not case
    sensitive (IAM User Guide, "Rules for tagging in IAM"): retagging Team
    as team replaces it (it was a refused request context, exit 1)."""
    tag = allow("iam:TagUser", arn("user", "u"), Condition={"StringEquals": {"aws:RequestTag/team": "identity"}})
    gated = allow("*", Condition={"StringLike": {"aws:PrincipalTag/team": "iden*"}})
    assert found(write(tmp_path / "a", [user("u", [doc(tag, gated)])]), arn("user", "u")).found
    fenced = {"Effect": "Deny", "NotAction": "iam:TagUser", "Resource": "*",
              "Condition": {"StringEquals": {"aws:PrincipalTag/team": "contractor"}}}
    retag = allow("iam:TagUser", arn("user", "u"))
    case = write(tmp_path / "b", [user("u", [ADMIN, doc(fenced, retag)], tags={"Team": "contractor"})])
    finding = found(case, arn("user", "u"))
    assert finding.found and finding.paths[0][0].method == "TagUser"


def test_attaching_an_aws_managed_policy_the_data_does_not_hold_is_undecided(tmp_path):
    """Every account has the AWS managed policies; an export holds only
    those attached. An attach allowed of one it does not hold (named by
    iam:PolicyARN, or any but AdministratorAccess) may lead on (IAMFullAccess,
    then PutUserPolicy): UNDECIDED with the reason, not "does not reach"."""
    named = allow("iam:AttachUserPolicy", arn("user", "u"),
                  Condition={"ArnEquals": {"iam:PolicyARN": "arn:aws:iam::aws:policy/IAMFullAccess"}})
    folder = write(tmp_path / "named", [user("u", [doc(named)])])
    finding = found(folder, arn("user", "u"))
    assert not finding.found and any("IAMFullAccess" in (e.why or "") for e in finding.undecided)
    others = allow("iam:AttachUserPolicy", arn("user", "u"),
                   Condition={"ArnNotEquals": {"iam:PolicyARN": "arn:aws:iam::aws:policy/AdministratorAccess"}})
    finding = found(write(tmp_path / "others", [user("u", [doc(others)])]), arn("user", "u"))
    assert not finding.found and any("an AWS managed policy" in (e.why or "") for e in finding.undecided)
    # no attach allowed at all: no undecided step
    assert not found(write(tmp_path / "none", [user("u", [doc(allow("s3:*"))])]), arn("user", "u")).undecided


def test_no_iam_request_on_another_account_s_principal_is_tried(tmp_path):
    """IAM has no resource-based policies (a role's trust policy governs
    sts: actions only), so an IAM request on another account's principal is
    denied whatever the caller's own policies allow: the search does not
    ask it (the kernel's answer is checked to be that denial), and a role of
    the other account that trusts the caller is reached by AssumeRole alone."""
    other = "222222222222"
    mine = user("u", [doc(allow(["iam:PutRolePolicy", "iam:AttachRolePolicy", "sts:AssumeRole"]))])
    theirs = {"RoleName": "T", "Arn": f"arn:aws:iam::{other}:role/T", "Path": "/", "AttachedManagedPolicies": [],
              "RolePolicyList": [], "InstanceProfileList": [],
              "AssumeRolePolicyDocument": _assume({"AWS": arn("user", "u")})}
    folder = write(tmp_path, [mine])
    (folder / "authorization" / f"{other}.json").write_text(json.dumps(
        {"UserDetailList": [], "GroupDetailList": [], "Policies": [], "RoleDetailList": [theirs]}))
    data = load_account_data(folder)
    graph = Escalation(data, Goal(principal=arn("user", "nobody")))
    actor = graph.actor(arn("user", "u"))
    assert not graph.decide(actor, "iam:PutRolePolicy", theirs["Arn"]).allowed  # the kernel's own answer
    methods = {(e.method, e.target) for e in graph.expand(arn("user", "u"))}
    assert ("AssumeRole", theirs["Arn"]) in methods
    assert not any(t.startswith(("change:" + theirs["Arn"], theirs["Arn"] + "#")) for _, t in methods)


# ------------------------------------------- J. changes that stack on another

def test_two_changes_to_another_principal_before_becoming_it(tmp_path):
    """R holds AdministratorAccess-like Allow, a Deny-everything managed
    policy, and a Deny of everything while tagged locked=true. A user who
    may untag R, detach the policy and assume R becomes R unfenced only
    with both changes made (the policy evaluation logic: any applicable
    explicit Deny wins); with one of the two rights it does not."""
    fence = _managed("DenyAll", doc(deny("*")))
    lock = deny("*", Condition={"StringEquals": {"aws:PrincipalTag/locked": "true"}})
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:root"}, "Action": "sts:AssumeRole"}]}
    target = _attached(role("R", trust, [ADMIN, doc(lock)], tags={"locked": "true"}), "DenyAll")
    both = user("u", [doc(allow(["iam:UntagRole", "iam:DetachRolePolicy", "sts:AssumeRole"], arn("role", "R")))])
    finding = found(write(tmp_path / "both", [both], [target], policies=[fence]), arn("user", "u"))
    assert finding.found
    assert {"UntagRole", "DetachRolePolicy"} <= {e.method for p in finding.paths for e in p}
    for only in ("iam:UntagRole", "iam:DetachRolePolicy"):  # decoy: one change leaves a Deny
        one = user("u", [doc(allow([only, "sts:AssumeRole"], arn("role", "R")))])
        assert not found(write(tmp_path / only[4:], [one], [target], policies=[fence]), arn("user", "u")).found


def test_a_changed_role_s_session_that_a_trust_names(tmp_path):
    """A trust policy naming the session arn:aws:sts::A:assumed-role/Plain/ops:
    the session is Plain's, and holds a change made to Plain at once (a
    role's policies are read at each request). Deleting Plain's inline
    Deny of sts:AssumeRole lets the session assume the admin role; without
    the right to delete it, the Deny stands."""
    trust_acct = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:root"}, "Action": "sts:AssumeRole"}]}
    session = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:sts::{A}:assumed-role/Plain/ops"},
         "Action": "sts:AssumeRole"}]}
    plain = role("Plain", trust_acct, [doc(allow("sts:AssumeRole")), doc(deny("sts:AssumeRole"))])
    boss = role("Boss", session, [ADMIN])
    can = user("u", [doc(allow(["sts:AssumeRole", "iam:DeleteRolePolicy"], arn("role", "Plain")))])
    finding = found(write(tmp_path / "can", [can], [plain, boss]), arn("user", "u"))
    assert finding.found
    assert any(e.method == "DeleteRolePolicy" for p in finding.paths for e in p)
    cannot = user("u", [doc(allow("sts:AssumeRole", arn("role", "Plain")))])
    assert not found(write(tmp_path / "cannot", [cannot], [plain, boss]), arn("user", "u")).found


def test_untagging_a_key_a_condition_spells_in_another_case(tmp_path):
    """The user's tag is ``LOCKED``; the Deny tests aws:PrincipalTag/locked.
    Tag keys are not case sensitive: untagging LOCKED lifts the Deny."""
    lock = {"Effect": "Deny", "NotAction": "iam:UntagUser", "Resource": "*",
            "Condition": {"StringEquals": {"aws:PrincipalTag/locked": "true"}}}
    case = write(tmp_path / "a", [user("u", [ADMIN, doc(lock, allow("iam:UntagUser", arn("user", "u")))],
                                       tags={"LOCKED": "true"})])
    finding = found(case, arn("user", "u"))
    assert finding.found and finding.paths[0][0].method == "UntagUser"


def test_a_tag_value_a_condition_gives_as_a_policy_variable(tmp_path):
    """An Allow of * for aws:PrincipalTag/owner = ${aws:username} (IAM User
    Guide, policy variables: resolved from the request, here the user's
    own): a user who may tag itself sets owner to its own name. A decoy who
    may tag only other users does not get there."""
    gated = allow("*", Condition={"StringEquals": {"aws:PrincipalTag/owner": "${aws:username}"}})
    case = write(tmp_path / "a", [user("u", [doc(allow("iam:TagUser", arn("user", "u")), gated)],
                                       tags={"owner": "someoneelse"})])
    finding = found(case, arn("user", "u"))
    assert finding.found and finding.paths[0][0].target == arn("user", "u") + "#tag:owner=u"
    decoy = write(tmp_path / "b", [user("u", [doc(allow("iam:TagUser", arn("user", "v")), gated)]), user("v")])
    assert not found(decoy, arn("user", "u")).found


def test_putting_a_boundary_short_of_admin_that_leads_on(tmp_path):
    """The user holds AdministratorAccess-like Allow under a boundary that
    allows only PutUserPermissionsBoundary of IAMOnly (iam:PermissionsBoundary)
    and s3:*. Putting IAMOnly (Allow iam:*) as its boundary lets it delete
    the boundary next: admin in two steps (a permissions boundary limits,
    and is replaced whole by the one put). The decoy's IAMOnly allows only
    iam:Get*: nothing leads on."""
    def case(folder, iam_only):
        bound = _managed("Bnd", doc(allow("iam:PutUserPermissionsBoundary", Condition={
            "ArnEquals": {"iam:PermissionsBoundary": arn("policy", "IAMOnly")}}), allow("s3:*")))
        return write(folder, [user("u", [ADMIN], boundary=arn("policy", "Bnd"))],
                     policies=[bound, _managed("IAMOnly", doc(allow(iam_only)))])
    finding = found(case(tmp_path / "a", "iam:*"), arn("user", "u"))
    assert finding.found
    assert {p[0].method for p in finding.paths} == {"PutUserPermissionsBoundary (managed policy)"}
    assert finding.paths[0][0].target == arn("user", "u") + "#bound:" + arn("policy", "IAMOnly")
    assert all(len(p) == 3 and p[1].method.startswith(("DeleteUserPermissionsBoundary", "CreatePolicyVersion"))
               for p in finding.paths)  # then lifts the boundary IAMOnly's iam:* allows
    assert not found(case(tmp_path / "b", "iam:Get*"), arn("user", "u")).found


# ------------------------------------ K. the IAM keys of a request on an entity

def test_iam_permissions_boundary_and_policy_arn_are_in_entity_requests(tmp_path):
    """Service Authorization Reference, IAM: PutUserPolicy, DeleteUserPolicy,
    Attach/Detach…Policy carry iam:PermissionsBoundary (the entity's
    boundary) and Attach/Detach iam:PolicyARN (the policy). A Deny on
    either key applies; an Allow on it holds (the User Guide's delegation
    example: attach allowed only on users bounded by B)."""
    bound = _managed("B", ADMIN)
    fence = _managed("DenyAll", doc(_deny_all_but("iam:DetachUserPolicy"), deny(
        "iam:DetachUserPolicy", Condition={"ArnEquals": {"iam:PolicyARN": arn("policy", "DenyAll")}})))
    kept = write(tmp_path / "detach", [_attached(user("u", [ADMIN, doc(allow("iam:DetachUserPolicy"))]),
                                                 "DenyAll")], policies=[fence])
    assert not found(kept, arn("user", "u")).found  # the detach of DenyAll carries its ARN: denied
    guarded = deny("iam:PutUserPolicy", Condition={"ArnEquals": {"iam:PermissionsBoundary": arn("policy", "B")}})
    put = write(tmp_path / "put", [user("u", [doc(allow("iam:PutUserPolicy", arn("user", "u")), guarded)],
                                        boundary=arn("policy", "B"))], policies=[bound])
    assert not found(put, arn("user", "u")).found
    delegated = allow("iam:AttachUserPolicy", arn("user", "u"),
                      Condition={"ArnEquals": {"iam:PermissionsBoundary": arn("policy", "B")}})
    attach = write(tmp_path / "attach", [user("u", [doc(delegated)], boundary=arn("policy", "B"))],
                   policies=[bound])
    assert found(attach, arn("user", "u")).found
    unbounded = write(tmp_path / "unbounded", [user("u", [doc(delegated)])], policies=[bound])
    assert not found(unbounded, arn("user", "u")).found  # no boundary B: the Allow's key is absent


def test_a_second_change_acts_on_what_the_first_made(tmp_path):
    """A user's next step acts on the user as its changes left it: a group it
    joined (even an empty one) is one whose policy it may put; a policy it
    attached (one that allows nothing a method needs) is one it may give a
    new version; a group's policy joined is one whose stored version it may
    make default. Decoys: the same rights without the first step's."""
    g = {"GroupName": "G", "Arn": arn("group", "G"), "Path": "/", "GroupPolicyList": [],
         "AttachedManagedPolicies": []}
    join = allow("iam:AddUserToGroup", arn("group", "G"))
    put = write(tmp_path / "put", [user("u", [doc(join, allow("iam:PutGroupPolicy", arn("group", "G")))])],
                groups=[g])
    assert [e.method for e in found(put, arn("user", "u")).paths[0]][:2] == ["AddUserToGroup", "PutGroupPolicy"]
    alone = write(tmp_path / "alone", [user("u", [doc(allow("iam:PutGroupPolicy", arn("group", "G")))])],
                  groups=[g])
    assert not found(alone, arn("user", "u")).found
    plain = _managed("GP", doc(allow("s3:ListBucket")), doc(allow("*")))
    held = dict(g, AttachedManagedPolicies=[{"PolicyName": "GP", "PolicyArn": arn("policy", "GP")}])
    default = write(tmp_path / "default", [user("u", [doc(join, allow("iam:SetDefaultPolicyVersion",
                                                                        arn("policy", "GP")))])],
                    groups=[held], policies=[plain])
    assert found(default, arn("user", "u")).found  # the joined group's policy versioned (additions first)
    attach = allow("iam:AttachUserPolicy", arn("user", "u"), Condition={"ArnEquals": {"iam:PolicyARN": arn("policy", "GP")}})
    version = write(tmp_path / "version", [user("u", [doc(attach, allow("iam:CreatePolicyVersion",
                                                                        arn("policy", "GP")))])],
                    policies=[_managed("GP", doc(allow("s3:ListBucket")))])
    assert [e.method for e in found(version, arn("user", "u")).paths[0]][:2] == [
        "AttachUserPolicy (managed policy)", "CreatePolicyVersion"]
    no_attach = write(tmp_path / "no-attach", [user("u", [doc(allow("iam:CreatePolicyVersion", arn("policy", "GP")))])],
                      policies=[_managed("GP", doc(allow("s3:ListBucket")))])
    assert not found(no_attach, arn("user", "u")).found


def test_a_tag_key_only_a_resource_names_through_a_variable(tmp_path):
    """CreateAccessKey allowed on user/${aws:PrincipalTag/buddy}: the user
    who may tag itself sets buddy to the admin user's name (the variable is
    the request's own tag), then makes a key for that user. The tag values
    tried are those that make the Resource an ARN of the data. Decoy: the
    same rights, no right to tag."""
    keys = allow("iam:CreateAccessKey", f"arn:aws:iam::{A}:user/${{aws:PrincipalTag/buddy}}")
    case = write(tmp_path / "a", [user("u", [doc(allow("iam:TagUser", arn("user", "u")), keys)]),
                                  user("boss", [ADMIN])])
    finding = found(case, arn("user", "u"))
    assert finding.found and finding.paths[0][0].target == arn("user", "u") + "#tag:buddy=boss"
    decoy = write(tmp_path / "b", [user("u", [doc(keys)]), user("boss", [ADMIN])])
    assert not found(decoy, arn("user", "u")).found


def test_a_rewritten_trust_gives_the_sessions_another_trust_names(tmp_path):
    """UpdateAssumeRolePolicy on R1 (which trusts only EC2) names the
    caller, who then picks the session name: R1/alice, which the admin
    role R2's trust names, is got. Decoy: no right to rewrite R1's trust."""
    ec2 = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    alice = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:sts::{A}:assumed-role/R1/alice"},
         "Action": "sts:AssumeRole"}]}
    roles = [role("R1", ec2), role("R2", alice, [ADMIN])]
    can = user("u", [doc(allow(["sts:AssumeRole", "iam:UpdateAssumeRolePolicy"], arn("role", "R1")))])
    finding = found(write(tmp_path / "a", [can], roles), arn("user", "u"))
    assert finding.found and finding.paths[0][0].target == f"arn:aws:sts::{A}:assumed-role/R1/alice"
    cannot = user("u", [doc(allow("sts:AssumeRole", arn("role", "R1")))])
    assert not found(write(tmp_path / "b", [cannot], roles), arn("user", "u")).found


def test_a_resource_the_caller_creates_takes_a_name_its_grant_allows(tmp_path):
    """PassRole with lambda:CreateFunction and InvokeFunction granted only on
    function:dev-*: the function's name is the caller's choice, so one named
    dev-… is created and invoked. Decoy: Invoke granted on prod-* only (the
    two needs must name the same function)."""
    lam = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    fn = f"arn:aws:lambda:*:{A}:function:"
    both = user("u", [doc(allow("iam:PassRole", arn("role", "R")),
                          allow(["lambda:CreateFunction", "lambda:InvokeFunction"], fn + "dev-*"))])
    finding = found(write(tmp_path / "a", [both], [role("R", lam, [ADMIN])]), arn("user", "u"))
    assert finding.found and "dev-" in finding.paths[0][0].answers[1].decision.request.resource
    split = user("u", [doc(allow("iam:PassRole", arn("role", "R")), allow("lambda:CreateFunction", fn + "dev-*"),
                           allow("lambda:InvokeFunction", fn + "prod-*"))])
    assert not found(write(tmp_path / "b", [split], [role("R", lam, [ADMIN])]), arn("user", "u")).found


def test_a_password_set_gives_a_console_session_without_mfa(tmp_path):
    """CreateLoginProfile/UpdateLoginProfile yield the user's console
    session: temporary credentials, whose requests carry
    aws:MultiFactorAuthPresent false without the user's MFA device (IAM
    User Guide, AWS global condition context keys: the key is absent only
    for long-term access keys). A Deny on MFA false applies to the console
    session and not to an access key's requests; an Allow on it the other
    way round."""
    deny_no_mfa = deny("*", Condition={"Bool": {"aws:MultiFactorAuthPresent": "false"}})
    only_no_mfa = allow("*", Condition={"Bool": {"aws:MultiFactorAuthPresent": "false"}})
    for right, target_policies, reaches in [
            ("iam:CreateLoginProfile", [ADMIN, doc(deny_no_mfa)], False),
            ("iam:UpdateLoginProfile", [ADMIN, doc(deny_no_mfa)], False),
            ("iam:CreateAccessKey", [ADMIN, doc(deny_no_mfa)], True),
            ("iam:CreateLoginProfile", [doc(only_no_mfa)], True),
            ("iam:CreateAccessKey", [doc(only_no_mfa)], False)]:
        case = write(tmp_path / f"{right[4:]}-{reaches}", [user("u", [doc(allow(right, arn("user", "t")))]),
                                                           user("t", target_policies)])
        finding = found(case, arn("user", "u"))
        assert finding.found is reaches, (right, reaches)
        if reaches and "LoginProfile" in right:
            assert finding.paths[0][0].target == arn("user", "t") + "#console"


def test_an_external_id_the_trust_names_is_given_by_the_caller(tmp_path):
    """sts:ExternalId is a value the caller puts in its own AssumeRole
    request (IAM User Guide, "Access to AWS accounts owned by third
    parties"); the trust names it, so the caller can give it, as it gives a
    session name. Decoy: the trust also denies the caller's account."""
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:root"}, "Action": "sts:AssumeRole",
         "Condition": {"StringEquals": {"sts:ExternalId": "s3cr3t"}}}]}
    caller = user("u", [doc(allow("sts:AssumeRole"))])
    finding = found(write(tmp_path / "a", [caller], [role("R", trust, [ADMIN])]), arn("user", "u"))
    assert finding.found
    assert finding.paths[0][0].answers[0].decision.request.context["sts:ExternalId"] == "s3cr3t"
    fenced = dict(trust, Statement=trust["Statement"] + [
        {"Effect": "Deny", "Principal": {"AWS": arn("user", "u")}, "Action": "sts:AssumeRole"}])
    assert not found(write(tmp_path / "b", [caller], [role("R", fenced, [ADMIN])]), arn("user", "u")).found
