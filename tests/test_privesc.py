"""Privilege escalation (accounts/escalation.py, accounts/privesc.py, the
``privesc`` command) on examples/escalation/: one user per method that
reaches admin by it, decoys that look exploitable and do not, and a property
test on random small accounts (every path replayed through the kernel, and
gone when a hop's granting statements are)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iamlogic.accounts import load_account_data
from iamlogic.accounts.escalation import METHODS, NOT_MODELLED, Goal
from iamlogic.accounts.privesc import GOAL, Escalation, privesc, privesc_all

from conftest import ROOT, cli

EXAMPLE = ROOT / "examples" / "escalation"
A = "444444444444"


def user(name: str) -> str:
    return f"arn:aws:iam::{A}:user/{name}"


@pytest.fixture(scope="module")
def data():
    return load_account_data(EXAMPLE)


# user → the method its shortest path to admin takes. Each rests on what the
# method does (Rhino Security Labs' catalogue, PMapper's edges) and on the
# rule of the User Guide's policy evaluation logic that lets every need
# through (identity Allow, no Deny, SCP and RCP FullAWSAccess).
ESCALATES = {
    "m-assumerole": "AssumeRole",
    "m-createpolicyversion": "CreatePolicyVersion",
    "m-setdefaultpolicyversion": "SetDefaultPolicyVersion",
    "m-passrole-ec2": "PassRole+RunInstances",
    "m-createaccesskey": "CreateAccessKey",
    "m-createloginprofile": "CreateLoginProfile",
    "m-updateloginprofile": "UpdateLoginProfile",
    "m-attachuserpolicy": "AttachUserPolicy",
    "m-attachgrouppolicy": "AttachGroupPolicy",
    "m-attachrolepolicy": "AttachRolePolicy",
    "m-putuserpolicy": "PutUserPolicy",
    "m-putgrouppolicy": "PutGroupPolicy",
    "m-putrolepolicy": "PutRolePolicy",
    "m-addusertogroup": "AddUserToGroup",
    "m-updateassumerolepolicy": "UpdateAssumeRolePolicy+AssumeRole",
    "m-passrole-lambda-invoke": "PassRole+Lambda CreateFunction+InvokeFunction",
    "m-passrole-lambda-addpermission": "PassRole+Lambda CreateFunction+AddPermission",
    "m-passrole-lambda-eventsource": "PassRole+Lambda CreateFunction+CreateEventSourceMapping",
    "m-lambda-updatefunctioncode": "Lambda UpdateFunctionCode",
    "m-passrole-glue": "PassRole+Glue CreateDevEndpoint",
    "m-glue-updatedevendpoint": "Glue UpdateDevEndpoint",
    "m-passrole-cloudformation": "PassRole+CloudFormation CreateStack",
    "m-passrole-changeset": "PassRole+CloudFormation CreateChangeSet+ExecuteChangeSet",
    "m-passrole-datapipeline": "PassRole+DataPipeline",
    "m-passrole-codestar": "PassRole+CodeStar CreateProject",
    "m-lambda-updatefunctionconfiguration": "Lambda UpdateFunctionConfiguration",
    "m-passrole-sagemaker-notebook": "PassRole+SageMaker CreateNotebookInstance+CreatePresignedNotebookInstanceUrl",
    "m-sagemaker-presignedurl": "SageMaker CreatePresignedNotebookInstanceUrl",
    "m-passrole-sagemaker-training": "PassRole+SageMaker CreateTrainingJob",
    "m-passrole-sagemaker-processing": "PassRole+SageMaker CreateProcessingJob",
    "m-passrole-codebuild": "PassRole+CodeBuild CreateProject+StartBuild",
    "m-passrole-autoscaling": "PassRole+AutoScaling CreateLaunchConfiguration+CreateAutoScalingGroup",
    "m-ssm-sendcommand": "SSM SendCommand",
    "m-ssm-startsession": "SSM StartSession",
    "m-instance-connect": "EC2 Instance Connect SendSSHPublicKey",
    "m-deleteuserpermissionsboundary": "DeleteUserPermissionsBoundary",
    "m-deleterolepermissionsboundary": "DeleteRolePermissionsBoundary",
    "m-putuserpermissionsboundary": "PutUserPermissionsBoundary",
    "m-putrolepermissionsboundary": "PutRolePermissionsBoundary",
    "m-session": "AssumeRole (session name)",
    # the policy that holds a Deny of all else ("fence") is removed or
    # replaced: the User Guide's evaluation logic lets the target's Allow
    # through once no Deny covers the request
    "m-deleteuserpolicy": "DeleteUserPolicy",
    "m-detachuserpolicy": "DetachUserPolicy",
    "m-deletegrouppolicy": "DeleteGroupPolicy",
    "m-detachgrouppolicy": "DetachGroupPolicy",
    "m-removeuserfromgroup": "RemoveUserFromGroup",
    "m-deleterolepolicy": "DeleteRolePolicy",
    "m-detachrolepolicy": "DetachRolePolicy",
    "m-putuserpolicy-samename": "PutUserPolicy (same name)",
    "m-putrolepolicy-samename": "PutRolePolicy (same name)",
    # iam:PolicyARN limits the attach to WideOpen, a customer policy allowing * on *
    "m-attachuserpolicy-customer": "AttachUserPolicy (managed policy)",
    "m-attachrolepolicy-customer": "AttachRolePolicy (managed policy)",
    "m-attachgrouppolicy-customer": "AttachGroupPolicy (managed policy)",
    # iam:PermissionsBoundary limits the new boundary to WideOpen: a boundary
    # allowing * on * leaves the identity policies (AdministratorAccess) whole
    "m-putuserpermissionsboundary-customer": "PutUserPermissionsBoundary (managed policy)",
    "m-putrolepermissionsboundary-customer": "PutRolePermissionsBoundary (managed policy)",
    # its tags are aws:PrincipalTag in its requests (IAM User Guide, "Controlling
    # access to and for IAM users and roles using tags"): tagged team=identity,
    # its Allow of * on * holds; untagged locked, its Deny's condition does not
    # AdminEc2NoProfile trusts EC2 and is in no instance profile: one is made
    # (AddRoleToInstanceProfile with iam:PassRole, IAM API Reference)
    "m-passrole-createinstanceprofile": "PassRole+CreateInstanceProfile+AddRoleToInstanceProfile+RunInstances",
    # Lambda's session of the execution role is named after the function
    # (ROLE/FUNCTION): AdminByFunction trusts LambdaWorker/nightly-report
    "m-passrole-lambda-session": "PassRole+Lambda CreateFunction+InvokeFunction (session name)",
    "m-taguser": "TagUser",
    "m-untaguser": "UntagUser",
    "m-tagrole": "TagRole",
    "m-untagrole": "UntagRole",
}

# decoy → (the method it looks open to, the limit that cuts it, the rule).
# The rules are the User Guide's "Policy evaluation logic" (SEMANTICS.md §1):
# an explicit Deny in any policy wins; a permissions boundary, every SCP
# level of the caller's account and every RCP level of the resource's
# account must each allow; a statement applies only when its Resource
# covers the request's and every condition holds (a key absent from the
# request matches no value; a negated operator holds on an absent key).
DENY, BOUNDARY, SCP, RCP, RESOURCE, CONDITION = "deny", "boundary", "scp", "rcp", "resource", "condition"
LIMITS = (DENY, BOUNDARY, SCP, RCP, RESOURCE, CONDITION)
DECOYS = {
    "d-deny": ("PutUserPolicy", DENY, "an explicit Deny (iam:Put*) overrides the Allow of iam:PutUserPolicy"),
    "d-boundary": ("CreateAccessKey", BOUNDARY, "the permissions boundary (s3:* only) does not allow iam:CreateAccessKey"),
    "d-scp": ("PutUserPolicy", SCP, "the SCP NoIAMForContractors denies iam:* to principals tagged team=contractor"),
    "d-resource": ("CreateAccessKey", RESOURCE, "its CreateAccessKey covers user/dev-* only, not the admin user"),
    "d-condition": ("PassRole+Lambda CreateFunction+InvokeFunction", CONDITION,
                    "its PassRole holds only with iam:PassedToService ec2, and it can only create Lambda functions"),
    "d-mfa": ("PutUserPolicy", CONDITION, "its PutUserPolicy needs aws:MultiFactorAuthPresent, absent from the request"),
    "d-policyarn": ("AttachUserPolicy", CONDITION,
                    "its AttachUserPolicy holds only for iam:PolicyARN ReadOnlyAccess, not AdministratorAccess"),
    "d-untrusted": ("PassRole+Lambda CreateFunction+InvokeFunction", "trust",
                    "AdminNoService's trust policy names no service: Lambda cannot assume the role passed"),
    "d-noprofile": ("PassRole+RunInstances", "trust",
                    "the Admin role trusts no service (and is in no instance profile): RunInstances cannot hand it out"),
    "d-session": ("AssumeRole (session name)", "trust", "AdminSession's trust names the session Plain/ops only, not the user"),
    "d-setdefaultpolicyversion": ("SetDefaultPolicyVersion", "versions",
                                  "the only other version of its policy Helper3 allows s3:GetObject alone"),
    "d-assumerole-rcp": ("AssumeRole", RCP, "the RCP RCPGuardedRoles denies sts:AssumeRole on role/RcpGuarded* "
                                            "to principals not tagged clearance=high (StringNotEquals on an absent key holds)"),
    "d-createpolicyversion-resource": ("CreatePolicyVersion", RESOURCE,
                                       "its CreatePolicyVersion covers policy/Helper-dev-* only, not its own HelperD"),
    "d-setdefaultpolicyversion-deny": ("SetDefaultPolicyVersion", DENY,
                                       "an explicit Deny of iam:SetDefaultPolicyVersion overrides HelperDeny's Allow"),
    "d-passrole-ec2-scp": ("PassRole+RunInstances", SCP, "NoIAMForContractors denies iam:PassRole (iam:*) to team=contractor"),
    "d-createloginprofile-condition": ("CreateLoginProfile", CONDITION,
                                       "its Allow needs aws:PrincipalTag/team=identity; the user has no such tag"),
    "d-updateloginprofile-deny": ("UpdateLoginProfile", DENY, "a Deny of iam:UpdateLoginProfile on user/admin* overrides"),
    "d-attachgrouppolicy-boundary": ("AttachGroupPolicy", BOUNDARY, "its boundary (s3:* only) does not allow iam:AttachGroupPolicy"),
    "d-attachrolepolicy-resource": ("AttachRolePolicy", RESOURCE, "its AttachRolePolicy covers role/dev-* only, not Worker, the role it may assume"),
    "d-putgrouppolicy-scp": ("PutGroupPolicy", SCP, "NoIAMForContractors denies iam:PutGroupPolicy to team=contractor"),
    "d-putrolepolicy-rcp": ("PutRolePolicy", RCP, "it may rewrite RcpGuardedPlain, but the RCP RCPGuardedRoles "
                                                  "denies it sts:AssumeRole on the role"),
    "d-addusertogroup-resource": ("AddUserToGroup", RESOURCE, "its AddUserToGroup covers group/dev-* only, not admins"),
    "d-updateassumerolepolicy-rcp": ("UpdateAssumeRolePolicy+AssumeRole", RCP,
                                     "a trust policy it writes still meets the RCP's Deny of sts:AssumeRole"),
    "d-passrole-lambda-addpermission-boundary": ("PassRole+Lambda CreateFunction+AddPermission", BOUNDARY,
                                                 "its boundary (s3:* only) allows neither iam:PassRole nor lambda:*"),
    "d-passrole-lambda-eventsource-deny": ("PassRole+Lambda CreateFunction+CreateEventSourceMapping", DENY,
                                           "a Deny of lambda:CreateEventSourceMapping overrides its Allow"),
    "d-lambda-updatefunctioncode-boundary": ("Lambda UpdateFunctionCode", BOUNDARY,
                                             "its boundary (s3:* only) does not allow lambda:UpdateFunctionCode"),
    "d-passrole-glue-scp": ("PassRole+Glue CreateDevEndpoint", SCP, "NoIAMForContractors denies iam:PassRole to team=contractor"),
    "d-glue-updatedevendpoint-deny": ("Glue UpdateDevEndpoint", DENY, "a Deny of glue:Update* overrides its Allow"),
    "d-passrole-cloudformation-resource": ("PassRole+CloudFormation CreateStack", RESOURCE,
                                           "its PassRole covers role/Plain only, which trusts no service"),
    "d-passrole-changeset-boundary": ("PassRole+CloudFormation CreateChangeSet+ExecuteChangeSet", BOUNDARY,
                                      "its boundary (s3:* only) does not allow iam:PassRole"),
    "d-passrole-datapipeline-deny": ("PassRole+DataPipeline", DENY, "a Deny of datapipeline:PutPipelineDefinition overrides"),
    "d-passrole-codestar-deny": ("PassRole+CodeStar CreateProject", DENY, "a Deny of iam:PassRole overrides its Allow"),
    "d-lambda-updatefunctionconfiguration-scp": ("Lambda UpdateFunctionConfiguration", SCP,
                                                 "NoRunningCodeForContractors denies lambda:Update* to team=contractor"),
    "d-passrole-sagemaker-notebook-condition": (
        "PassRole+SageMaker CreateNotebookInstance+CreatePresignedNotebookInstanceUrl", CONDITION,
        "its CreatePresignedNotebookInstanceUrl needs aws:PrincipalTag/team=ml; the user has no such tag"),
    "d-sagemaker-presignedurl-boundary": ("SageMaker CreatePresignedNotebookInstanceUrl", BOUNDARY,
                                          "its boundary (s3:* only) does not allow sagemaker:*"),
    "d-passrole-sagemaker-training-resource": ("PassRole+SageMaker CreateTrainingJob", RESOURCE,
                                               "its PassRole covers role/Plain only, which trusts no service"),
    "d-passrole-sagemaker-processing-scp": ("PassRole+SageMaker CreateProcessingJob", SCP,
                                            "NoIAMForContractors denies iam:PassRole to team=contractor"),
    "d-passrole-codebuild-deny": ("PassRole+CodeBuild CreateProject+StartBuild", DENY,
                                  "a Deny of codebuild:StartBuild overrides its Allow"),
    "d-passrole-autoscaling-condition": (
        "PassRole+AutoScaling CreateLaunchConfiguration+CreateAutoScalingGroup", CONDITION,
        "its PassRole needs iam:PassedToService lambda; a launch configuration passes the role to ec2"),
    "d-ssm-sendcommand-scp": ("SSM SendCommand", SCP, "NoRunningCodeForContractors denies ssm:SendCommand to team=contractor"),
    "d-ssm-startsession-deny": ("SSM StartSession", DENY, "a Deny of ssm:StartSession overrides its Allow"),
    "d-instance-connect-boundary": ("EC2 Instance Connect SendSSHPublicKey", BOUNDARY,
                                    "its boundary (s3:* only) does not allow ec2-instance-connect:*"),
    "d-deleteuserpermissionsboundary-resource": ("DeleteUserPermissionsBoundary", RESOURCE,
                                                 "its boundary allows DeleteUserPermissionsBoundary on user/dev-* only"),
    "d-deleterolepermissionsboundary-deny": ("DeleteRolePermissionsBoundary", DENY,
                                             "BoundedAdminDeny denies itself iam:DeleteRolePermissionsBoundary"),
    "d-putuserpermissionsboundary-condition": ("PutUserPermissionsBoundary", CONDITION,
                                               "its boundary allows PutUserPermissionsBoundary only with "
                                               "iam:PermissionsBoundary S3Only, not AdministratorAccess"),
    "d-putrolepermissionsboundary-scp": ("PutRolePermissionsBoundary", SCP,
                                         "BoundedAdminContractor is tagged team=contractor: NoIAMForContractors "
                                         "denies its iam:PutRolePermissionsBoundary"),
    "d-deleteuserpolicy-scp": ("DeleteUserPolicy", SCP, "NoIAMForContractors denies iam:DeleteUserPolicy to "
                                                        "team=contractor: its fence stays"),
    "d-detachuserpolicy-deny": ("DetachUserPolicy", DENY, "an inline Deny of iam:DetachUserPolicy keeps "
                                                          "FenceDetachUser attached"),
    "d-deletegrouppolicy-boundary": ("DeleteGroupPolicy", BOUNDARY, "its boundary (s3:* only) does not allow "
                                                                    "iam:DeleteGroupPolicy"),
    "d-detachgrouppolicy-resource": ("DetachGroupPolicy", RESOURCE, "its iam:DetachGroupPolicy covers group/dev-* "
                                                                    "only, not g-fenced-attached-2"),
    "d-removeuserfromgroup-scp": ("RemoveUserFromGroup", SCP, "NoIAMForContractors denies "
                                                              "iam:RemoveUserFromGroup to team=contractor"),
    "d-deleterolepolicy-deny": ("DeleteRolePolicy", DENY, "a Deny of iam:DeleteRolePolicy overrides its Allow: "
                                                          "FencedInline keeps its fence"),
    "d-detachrolepolicy-boundary": ("DetachRolePolicy", BOUNDARY, "its boundary (s3:* only) allows neither "
                                                                  "iam:DetachRolePolicy nor sts:AssumeRole"),
    "d-putuserpolicy-samename-condition": ("PutUserPolicy (same name)", CONDITION,
                                           "its PutUserPolicy needs aws:PrincipalTag/team=identity; it has no tag"),
    "d-putrolepolicy-samename-rcp": ("PutRolePolicy (same name)", RCP,
                                     "it may replace RcpGuardedDeniedMain's Deny, but RCPGuardedRoles denies it "
                                     "sts:AssumeRole on the role"),
    "d-attachuserpolicy-customer-resource": ("AttachUserPolicy (managed policy)", RESOURCE,
                                             "its AttachUserPolicy covers user/dev-* only, not itself"),
    "d-attachrolepolicy-customer-condition": ("AttachRolePolicy (managed policy)", CONDITION,
                                              "iam:PolicyARN allows attaching S3Only alone, which allows s3:* only"),
    "d-putuserpermissionsboundary-customer-deny": ("PutUserPermissionsBoundary (managed policy)", DENY,
                                                   "a Deny of iam:PutUserPermissionsBoundary overrides the Allow"),
    "d-putrolepermissionsboundary-customer-resource": ("PutRolePermissionsBoundary (managed policy)", RESOURCE,
                                                       "its PutRolePermissionsBoundary covers role/dev-* only, "
                                                       "not BoundedAdminS3, the role it may assume"),
    "d-passrole-createinstanceprofile-deny": ("PassRole+CreateInstanceProfile+AddRoleToInstanceProfile+RunInstances",
                                              DENY, "a Deny of iam:AddRoleToInstanceProfile overrides its Allow"),
    "d-passrole-lambda-session-resource": ("PassRole+Lambda CreateFunction+InvokeFunction (session name)", RESOURCE,
                                           "its CreateFunction covers function:dev-* only, not nightly-report"),
    "d-attachgrouppolicy-customer-resource": ("AttachGroupPolicy (managed policy)", RESOURCE,
                                              "its AttachGroupPolicy covers group/dev-* only, not its own group"),
    "d-taguser-condition": ("TagUser", CONDITION, "its TagUser holds only for aws:TagKeys within [project] "
                                                  "(ForAllValues): the tag team is not"),
    "d-untaguser-deny": ("UntagUser", DENY, "a Deny of iam:UntagUser overrides: the tag locked=true stays"),
    "d-tagrole-resource": ("TagRole", RESOURCE, "its TagRole covers role/dev-* only, not TagGated"),
    "d-untagrole-scp": ("UntagRole", SCP, "NoIAMForContractors denies iam:UntagRole to team=contractor"),
}


def _method_names() -> set[str]:
    # the session-name edge of AssumeRole is a method of its own in the paths
    return {m.name for m in METHODS} | {"AssumeRole (session name)"}


def test_every_method_of_the_table_has_an_example_that_escalates_and_a_decoy():
    """Reads the table: a method added to it without an escalating user
    and a decoy in examples/escalation/ fails here."""
    names = _method_names()
    assert names == set(ESCALATES.values())
    assert names == {method for method, _, _ in DECOYS.values()}
    assert all("Rhino" in k for k in NOT_MODELLED)


def test_every_limit_cuts_several_decoys():
    counts = {limit: sum(1 for _, lim, _ in DECOYS.values() if lim == limit) for limit in LIMITS}
    assert all(n >= 3 for n in counts.values()), counts


def test_each_rhino_method_is_modelled_or_says_why_not():
    """Rhino Security Labs' 28 (its README's numbering): each number is a
    method's source or a NOT_MODELLED entry."""
    import re

    numbers = {int(n) for m in METHODS for n in re.findall(r"Rhino (\d+)", m.source)}
    numbers |= {int(n) for k in NOT_MODELLED for n in re.findall(r"Rhino (\d+)", k)}
    assert numbers == set(range(1, 29))


def _lifted(limit: str, folder: Path) -> Path:
    """A copy of the example with one kind of limit lifted: the decoys'
    Deny statements, their boundaries, the contractor tags the SCPs test,
    or the RCP guarding role/RcpGuarded*."""
    out = folder / limit
    shutil.copytree(EXAMPLE, out)
    path = out / "authorization" / f"{A}.json"
    export = json.loads(path.read_text())
    for entry in export["UserDetailList"] + export["RoleDetailList"]:
        name = entry.get("UserName") or entry["RoleName"]
        if limit == DENY and (name.startswith("d-") or name == "BoundedAdminDeny"):
            for key in ("UserPolicyList", "RolePolicyList"):
                for policy in entry.get(key, []):
                    statements = policy["PolicyDocument"]["Statement"]
                    statements[:] = [st for st in statements if st["Effect"] != "Deny"]
                entry[key] = [p for p in entry.get(key, []) if p["PolicyDocument"]["Statement"]]
        if limit == BOUNDARY and name.startswith("d-"):
            entry.pop("PermissionsBoundary", None)
        if limit == SCP:
            entry["Tags"] = [t for t in entry.get("Tags", []) if t != {"Key": "team", "Value": "contractor"}]
    path.write_text(json.dumps(export))
    if limit == RCP:
        org = json.loads((out / "organization.json").read_text())
        org["root"]["children"][0]["rcps"].remove("RCPGuardedRoles")
        (out / "organization.json").write_text(json.dumps(org))
    return out


@pytest.mark.parametrize("limit", [DENY, BOUNDARY, SCP, RCP])
def test_lifting_the_limit_opens_each_decoy_by_its_method(tmp_path, limit):
    """The decoy is cut by its limit and nothing else: with it lifted, the
    same user escalates by the method it looked open to."""
    lifted = load_account_data(_lifted(limit, tmp_path))
    for name, (method, lim, why) in sorted(DECOYS.items()):
        if lim != limit:
            continue
        finding = privesc(lifted, user(name), Goal())
        assert finding.found, (name, why)
        assert method in {edge.method for path in finding.paths for edge in path}, name


@pytest.mark.parametrize("name", sorted(ESCALATES))
def test_each_method_s_user_reaches_admin_by_it(data, name):
    finding = privesc(data, user(name), Goal())
    assert finding.found, name
    methods = [edge.method for path in finding.paths for edge in path]
    assert ESCALATES[name] in methods
    # every hop of every path: each need allowed by the kernel (or the goal)
    for path in finding.paths:
        for edge in path:
            assert all(a.allowed for a in edge.answers if a is not None), (edge.method, edge.target)


@pytest.mark.parametrize("name", sorted(DECOYS))
def test_each_decoy_does_not_reach_admin(data, name):
    finding = privesc(data, user(name), Goal())
    assert not finding.found, DECOYS[name][2]
    assert not finding.undecided


def test_a_condition_the_caller_cannot_meet_is_found_by_the_proofs_and_replayed(data):
    # d-mfa: with --conditional, the proofs find the context and the kernel
    # replays it (queries._ask): the step is CONDITIONAL, not allowed.
    finding = privesc(data, user("d-mfa"), Goal(), conditional=True)
    assert finding.found and finding.conditional
    step = finding.paths[0][0]
    assert step.status == "conditional"
    assert step.answers[0].conditional == {"aws:MultiFactorAuthPresent": "true"}


def test_a_condition_the_method_fixes_is_not_varied_by_the_proofs(data):
    # d-policyarn: iam:PolicyARN is the policy attached (AdministratorAccess);
    # the proofs vary only the other keys, so no context opens it.
    assert not privesc(data, user("d-policyarn"), Goal(), conditional=True).found


def test_a_boundary_the_principal_may_remove_is_a_two_step_path(data):
    finding = privesc(data, user("m-deleterolepermissionsboundary"), Goal())
    assert [e.method for e in finding.paths[0]] == ["AssumeRole", "DeleteRolePermissionsBoundary",
                                                    "allowed the goal"]
    assert finding.paths[0][1].target == f"arn:aws:iam::{A}:role/BoundedAdmin#unbound"


def test_a_goal_action_and_resource(data):
    goal = Goal("iam:PassRole", f"arn:aws:iam::{A}:role/AdminService")
    # without iam:PassedToService its own PassRole does not hold (StringEquals
    # on an absent key is false): it gets there as AdminService
    finding = privesc(data, user("m-passrole-lambda-invoke"), goal)
    assert [e.method for e in finding.paths[0]] == ["PassRole+Lambda CreateFunction+InvokeFunction",
                                                    "allowed the goal"]
    # with the key in the context, its own identity allows it: no escalation
    finding = privesc(data, user("m-passrole-lambda-invoke"), goal, {"iam:PassedToService": "lambda.amazonaws.com"})
    assert [e.source for e in finding.paths[0]] == [user("m-passrole-lambda-invoke")]
    assert not privesc(data, user("d-resource"), goal).found


def test_to_a_principal(data):
    finding = privesc(data, user("m-createaccesskey"), Goal(principal=user("adminuser")))
    assert finding.found and finding.paths[0][0].method == "CreateAccessKey"
    assert not privesc(data, user("d-resource"), Goal(principal=user("adminuser"))).found


def test_all_matches_one_by_one_and_two_processes_match_one(data):
    every = {f.start for f in privesc_all(data, Goal(), paths=False)}
    expected = {user(n) for n in ESCALATES} | {user("adminuser")} | {
        f"arn:aws:iam::{A}:role/{r}" for r in ("Admin", "AdminService", "AdminNoService", "AdminSession",
                                               "BoundedAdmin", "BoundedAdmin2", "RcpGuardedAdmin", "RcpGuardedClosed",
                                               "AdminEc2NoProfile", "AdminByFunction")} | {
        f"arn:aws:sts::{A}:assumed-role/{s}" for s in ("Plain/ops", "LambdaWorker/nightly-report")}
    assert every == expected
    assert {f.start for f in privesc_all(data, Goal(), jobs=2, folder=EXAMPLE, paths=False)} == every


def test_assume_role_edges_are_reach_s(data):
    """The AssumeRole method decides the same edges as reach (the bundled
    organization: trust policies naming accounts, roles, services)."""
    from iamlogic.accounts.reach import assumption_edges

    org = load_account_data(ROOT / "examples" / "organization")
    graph = Escalation(org, Goal(), whole=True)
    for arn in org.principals:
        graph.expand(arn)
    mine = {(x, y) for (x, y), edges in graph.edges.items() if any(e.method == "AssumeRole" for e in edges)}
    assert mine == set(assumption_edges(org))


def test_cli_exit_codes_and_formats(capsys, tmp_path):
    code, out, _ = cli(capsys, "privesc", user("m-putuserpolicy"), "-d", EXAMPLE)
    assert code == 2 and "PutUserPolicy" in out and "allowed by user" in out
    code, out, _ = cli(capsys, "privesc", user("d-deny"), "-d", EXAMPLE)
    assert code == 0 and "does not reach admin" in out
    code, out, _ = cli(capsys, "privesc", user("m-session"), "-d", EXAMPLE, "--format", "json")
    hops = json.loads(out)["findings"][0]["paths"][0]
    assert code == 2 and hops[0]["gets"] == f"arn:aws:sts::{A}:assumed-role/Plain/ops"
    code, out, _ = cli(capsys, "privesc", user("m-session"), "-d", EXAMPLE, "--format", "dot")
    assert code == 2 and out.startswith("digraph") and '"GOAL" [label="admin"' in out
    code, _, err = cli(capsys, "privesc", user("nobody"), "-d", EXAMPLE)
    assert code == 1 and "no such user or role" in err
    # an SCP that cannot be read: the steps it limits are UNDECIDED (exit 3)
    broken = tmp_path / "broken"
    shutil.copytree(EXAMPLE, broken)
    org = json.loads((broken / "organization.json").read_text())
    org["scps"]["NoIAMForContractors"] = "not json"
    (broken / "organization.json").write_text(json.dumps(org))
    code, out, _ = cli(capsys, "privesc", user("m-putuserpolicy"), "-d", broken)
    assert code == 3 and "UNDECIDED" in out and "NoIAMForContractors" in out


# ---------------------------------------------------------------- property

_ACTIONS = ["iam:PutUserPolicy", "iam:CreateAccessKey", "iam:AttachRolePolicy", "sts:AssumeRole", "iam:PassRole",
            "lambda:CreateFunction", "lambda:InvokeFunction", "iam:UpdateAssumeRolePolicy",
            "iam:DeleteRolePermissionsBoundary", "iam:*", "s3:GetObject"]
_ACCOUNT = "555555555555"
_NAMES = ["u0", "u1", "r0", "r1", "r2"]


def _arn(name: str) -> str:
    return f"arn:aws:iam::{_ACCOUNT}:{'user' if name[0] == 'u' else 'role'}/{name}"


_statement = st.builds(lambda effect, action, res: {"Effect": effect, "Action": action,
                                                      "Resource": res},
                       st.sampled_from(["Allow", "Allow", "Allow", "Deny"]), st.sampled_from(_ACTIONS),
                       st.sampled_from(["*"] + [_arn(n) for n in _NAMES]))
_trust = st.sampled_from([{"AWS": f"arn:aws:iam::{_ACCOUNT}:root"}, {"AWS": _arn("u0")}, {"AWS": _arn("r0")},
                          {"Service": "lambda.amazonaws.com"}, {"Service": ["ec2.amazonaws.com", "glue.amazonaws.com"]},
                          "*"])
_account = st.fixed_dictionaries({
    n: st.fixed_dictionaries({"statements": st.lists(_statement, min_size=1, max_size=3),
                              "admin": st.booleans(), "trust": _trust})
    for n in _NAMES})


def _write(folder: Path, account: dict) -> None:
    admin = "arn:aws:iam::aws:policy/AdministratorAccess"
    entries = {"UserDetailList": [], "RoleDetailList": [], "GroupDetailList": [], "Policies": [
        {"PolicyName": "AdministratorAccess", "Arn": admin, "DefaultVersionId": "v1", "PolicyVersionList": [
            {"VersionId": "v1", "IsDefaultVersion": True, "Document": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "*", "Resource": "*"}]}}]}]}
    for name, spec in account.items():
        doc = {"Version": "2012-10-17", "Statement": spec["statements"]}
        attached = [{"PolicyName": "AdministratorAccess", "PolicyArn": admin}] if spec["admin"] and name in (
            "r2",) else []
        if name[0] == "u":
            entries["UserDetailList"].append({"UserName": name, "Arn": _arn(name), "GroupList": [],
                                              "UserPolicyList": [{"PolicyName": "p", "PolicyDocument": doc}],
                                              "AttachedManagedPolicies": []})
        else:
            entries["RoleDetailList"].append({
                "RoleName": name, "Arn": _arn(name), "RolePolicyList": [{"PolicyName": "p", "PolicyDocument": doc}],
                "AttachedManagedPolicies": attached, "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17", "Statement": [
                        {"Effect": "Allow", "Principal": spec["trust"], "Action": "sts:AssumeRole"}]}})
    (folder / "authorization").mkdir(parents=True, exist_ok=True)
    (folder / "authorization" / f"{_ACCOUNT}.json").write_text(json.dumps(entries))


def _without(account: dict, refs: list[dict]) -> dict:
    """The account with the statements ``refs`` name removed (inline ones
    by index, a trust statement by removing the trust, the admin policy by
    detaching it)."""
    out = json.loads(json.dumps(account))
    drop: dict[str, set[int]] = {}
    for ref in refs:
        policy = ref["policy"]
        for name in _NAMES:
            if policy.endswith(f"{_arn(name)} inline p"):
                drop.setdefault(name, set()).add(ref["statement_index"])
            elif policy == f"{_arn(name)} trust policy":
                out[name]["trust"] = {"Service": "nothing.amazonaws.com"}
            elif policy == "arn:aws:iam::aws:policy/AdministratorAccess":
                out[name]["admin"] = False
    for name, indexes in drop.items():
        out[name]["statements"] = [s for i, s in enumerate(out[name]["statements"]) if i not in indexes] or [
            {"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}]
    return out


def _edges_of(folder: Path, source: str) -> set[tuple[str, str, str]]:
    graph = Escalation(load_account_data(folder), Goal())
    return {(e.source, e.method, e.target) for e in graph.expand(source)}


@settings(max_examples=30, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(_account)
def test_every_path_replays_and_needs_its_granting_statements(tmp_path_factory, account):
    folder = tmp_path_factory.mktemp("acct")
    _write(folder, account)
    data = load_account_data(folder)
    for start in (_arn("u0"), _arn("u1")):
        finding = privesc(data, start, Goal())
        for path in finding.paths:
            fresh = Escalation(data, Goal())
            for edge in path:
                if not edge.answers:
                    continue  # a combination: its parts are hops of the path
                # replayed: the same request, asked of a fresh engine, allowed
                for answer in edge.answers:
                    request = answer.decision.request
                    actor = fresh.actor(edge.source)
                    rewritten = edge.method.startswith("UpdateAssumeRolePolicy") and request.action == "sts:AssumeRole"
                    again = fresh.decide(actor, request.action, request.resource, dict(request.context),
                                         resource_policy=fresh.trust_naming(actor) if rewritten else None,
                                         conditional=False)
                    assert again.allowed, (edge.method, request.action)
                refs = [r.to_dict() for a in edge.answers for r in a.decision.matched_statements
                        if r.layer in ("identity", "resource")]
                if not refs or any("caller writes" in r["policy"] for r in refs):
                    continue  # granted by the change an earlier hop made
                cut = folder.parent / f"{folder.name}-cut"
                shutil.rmtree(cut, ignore_errors=True)
                _write(cut, _without(account, refs))
                assert (edge.source, edge.method, edge.target) not in _edges_of(cut, edge.source), refs



# The search does not ask the kernel about every principal for every method:
# Python filters the targets first (accounts/privesc.Escalation._targets) —
# no identity Allow that may cover the action, a permissions boundary with no
# Allow that can cover an IAM action, an IAM action on another account's
# principal (IAM has no resource-based policies), a Resource no Allow of the
# caller may cover. Each filter must drop only what the kernel denies: asked
# of every principal of the kind, the kernel must allow nothing more.
_OTHER = "666666666666"
_BOUNDARIES = {
    "none": None,
    "not-iam": [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}],
    "iam-users": [{"Effect": "Allow", "Action": ["iam:*", "sts:AssumeRole"], "Resource": f"arn:aws:iam::{_ACCOUNT}:user/*"}],
    "roles-only": [{"Effect": "Allow", "Action": ["iam:*Role*", "sts:*", "lambda:*"], "Resource": "*"}],
}
_wide_statement = st.builds(
    lambda effect, action, res: {"Effect": effect, "Action": action, "Resource": res},
    st.sampled_from(["Allow", "Allow", "Allow", "Deny"]), st.sampled_from(_ACTIONS),
    st.sampled_from(["*", "arn:aws:iam::*:role/*", f"arn:aws:iam::{_OTHER}:role/x0", f"arn:aws:iam::*:user/u?"]
                    + [_arn(n) for n in _NAMES]))
_bounded_account = st.fixed_dictionaries({
    n: st.fixed_dictionaries({"statements": st.lists(_wide_statement, min_size=1, max_size=3),
                              "admin": st.booleans(), "trust": _trust,
                              "boundary": st.sampled_from(sorted(_BOUNDARIES))})
    for n in _NAMES})


def _write_bounded(folder: Path, account: dict) -> None:
    """``_write``, with each principal's boundary, and a role x0 of another
    account that trusts the first account."""
    _write(folder, account)
    path = folder / "authorization" / f"{_ACCOUNT}.json"
    entries = json.loads(path.read_text())
    for name, body in _BOUNDARIES.items():
        if body is not None:
            arn = f"arn:aws:iam::{_ACCOUNT}:policy/{name}"
            entries["Policies"].append({"PolicyName": name, "Arn": arn, "DefaultVersionId": "v1", "PolicyVersionList": [
                {"VersionId": "v1", "IsDefaultVersion": True,
                 "Document": {"Version": "2012-10-17", "Statement": body}}]})
    for entry in entries["UserDetailList"] + entries["RoleDetailList"]:
        name = entry.get("UserName") or entry["RoleName"]
        if _BOUNDARIES[account[name]["boundary"]] is not None:
            entry["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy",
                                            "PermissionsBoundaryArn": f"arn:aws:iam::{_ACCOUNT}:policy/"
                                                                      f"{account[name]['boundary']}"}
    path.write_text(json.dumps(entries))
    other = {"UserDetailList": [], "GroupDetailList": [], "Policies": [], "RoleDetailList": [{
        "RoleName": "x0", "Arn": f"arn:aws:iam::{_OTHER}:role/x0", "RolePolicyList": [
            {"PolicyName": "p", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "*", "Resource": "*"}]}}],
        "AttachedManagedPolicies": [], "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{_ACCOUNT}:root"}, "Action": "sts:AssumeRole"}]}}]}
    (folder / "authorization" / f"{_OTHER}.json").write_text(json.dumps(other))


class _Unfiltered(Escalation):
    """The search with the target filters off: every method's first need is
    asked of every candidate principal (its service trusting it, in an
    instance profile, … as the method needs)."""

    def _targets(self, actor, identity, method):
        if method.name == "AssumeRole":
            return super()._targets(actor, identity, method)  # a trust naming the caller: not a filter
        return self._candidates(method)

    def _may_trust_service(self, role, service):
        return True


@settings(max_examples=25, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(_bounded_account)
def test_the_target_filters_drop_only_what_the_kernel_denies(tmp_path_factory, account):
    folder = tmp_path_factory.mktemp("bounded")
    _write_bounded(folder, account)
    data = load_account_data(folder)
    for source in [_arn(n) for n in _NAMES]:
        filtered = {(e.method, e.target, e.status) for e in Escalation(data, Goal(), whole=True).expand(source)}
        asked = {(e.method, e.target, e.status) for e in _Unfiltered(data, Goal(), whole=True).expand(source)}
        assert filtered == asked, (source, sorted(asked - filtered), sorted(filtered - asked))


def test_the_paths_drawn_as_svg(capsys):
    import shutil as which

    if which.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed (.ci/run installs it with apt-get): --format svg cannot draw")
    code, out, _ = cli(capsys, "privesc", user("m-attachrolepolicy"), "-d", EXAMPLE, "--format", "svg")
    assert code == 2 and "<svg" in out and "AttachRolePolicy" in out


# ---------------------------------------------------------------- what the lab showed


def test_what_can_lists_the_rights_on_a_managed_policy(data):
    """A user who may create a new version of its own managed policy: the
    policy is a resource what-can asks about (it reported nothing before)."""
    from iamlogic.accounts.queries import what_can

    rows = {(r, a) for r, a, _ in what_can(data, user("m-createpolicyversion"))}
    assert (f"arn:aws:iam::{A}:policy/Helper", "iam:CreatePolicyVersion") in rows
    groups = {(r, a) for r, a, _ in what_can(data, user("m-addusertogroup"))}
    assert (f"arn:aws:iam::{A}:group/admins", "iam:AddUserToGroup") in groups


def test_what_can_over_every_resource_lists_the_account_s_policies(tmp_path):
    """An Allow of iam:CreatePolicyVersion on Resource "*" covers every
    customer managed policy (Resource "*" matches every ARN): what-can lists
    each one the export holds (the lab's user got "0 actions allowed on 0
    resources"); an AWS managed policy the export names but does not hold
    is reported as skipped, not dropped."""
    from iamlogic.accounts.queries import what_can

    account = "555555555555"
    doc = lambda action: {"Version": "2012-10-17", "Statement": [  # noqa: E731
        {"Effect": "Allow", "Action": action, "Resource": "*"}]}
    policies = [{"PolicyName": n, "Arn": f"arn:aws:iam::{account}:policy/{n}", "DefaultVersionId": "v1",
                 "PolicyVersionList": [{"Document": doc("s3:GetObject"), "VersionId": "v1", "IsDefaultVersion": True}]}
                for n in ("Ops", "Audit")]
    users = [{"UserName": name, "Arn": f"arn:aws:iam::{account}:user/{name}", "GroupList": [],
              "UserPolicyList": [{"PolicyName": "main", "PolicyDocument": doc("iam:CreatePolicyVersion")}],
              "AttachedManagedPolicies": attached}
             for name, attached in (("cpv", []), ("cpv-partial", [
                 {"PolicyName": "ReadOnlyAccess", "PolicyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}]))]
    (tmp_path / "authorization").mkdir()
    (tmp_path / "authorization" / f"{account}.json").write_text(json.dumps(
        {"UserDetailList": users, "GroupDetailList": [], "RoleDetailList": [], "Policies": policies}))
    data = load_account_data(tmp_path)
    assert any("ReadOnlyAccess" in s.why for s in data.skipped)
    held = {(f"arn:aws:iam::{account}:policy/{n}", "iam:CreatePolicyVersion") for n in ("Ops", "Audit")}
    rows = {(r, a) for r, a, _ in what_can(data, f"arn:aws:iam::{account}:user/cpv")}
    assert held <= rows
    # a policy not read could hold a Deny: the same rights are UNDECIDED, not allowed, not dropped
    undecided: list = []
    rows = {(r, a) for r, a, _ in what_can(data, f"arn:aws:iam::{account}:user/cpv-partial", undecided=undecided)}
    assert not held & rows and held <= {(r, a) for r, a, _ in undecided}


def test_who_can_names_a_session_a_trust_policy_names(data):
    """AdminSession's trust names the session Plain/ops: who-can answers for
    that session (the role's policies, its ARN), not only for 'any session'."""
    from iamlogic.accounts import who_can

    answers = {a.who: a for a in who_can(data, "sts:AssumeRole", f"arn:aws:iam::{A}:role/AdminSession")}
    session = f"session arn:aws:sts::{A}:assumed-role/Plain/ops of role arn:aws:iam::{A}:role/Plain"
    assert answers[session].allowed
    assert not answers[f"any session of role arn:aws:iam::{A}:role/Plain"].allowed


def test_cli_all_lists_every_principal_that_reaches_admin(capsys):
    code, out, err = cli(capsys, "privesc", "--all", "-d", EXAMPLE, "--format", "json")
    found = {f["principal"] for f in json.loads(out)["findings"]}
    assert code == 2 and user("m-putuserpolicy") in found and user("d-deny") not in found
    assert "reaching admin" in err
    code, _, err = cli(capsys, "privesc", "-d", EXAMPLE)
    assert code == 1 and "give a PRINCIPAL_ARN or --all" in err


def test_reach_follows_a_session_a_trust_policy_names(data):
    """AdminSession trusts the session Plain/ops alone: reach gets there
    through that session (AssumeRole of Plain with sts:RoleSessionName ops),
    and not from a user who may only assume AdminSession itself."""
    from iamlogic.accounts.reach import reach

    chains = {c.role: [r for r, _ in c.hops] for c in reach(data, user("m-session"))}
    session = f"arn:aws:sts::{A}:assumed-role/Plain/ops"
    assert chains[f"arn:aws:iam::{A}:role/AdminSession"] == [session, f"arn:aws:iam::{A}:role/AdminSession"]
    assert f"arn:aws:iam::{A}:role/AdminSession" not in {c.role for c in reach(data, user("d-session"))}


def test_a_slice_of_the_bench_organization(tmp_path):
    """bench/organization.py at CI size: two processes find what one does,
    and every principal reach takes to a role allowed `*` on `*` is found
    (the AssumeRole method decides reach's edges)."""
    import sys

    sys.path.insert(0, str(ROOT / "bench"))
    import organization
    from iamlogic.accounts.reach import reach_all

    organization.generate(tmp_path / "org", accounts=5, roles=300, managed=60, seed=2)  # seed 2: 7 reach an admin
    org = load_account_data(tmp_path / "org")
    one = {f.start for f in privesc_all(org, Goal(), paths=False)}
    assert one == {f.start for f in privesc_all(org, Goal(), jobs=2, folder=tmp_path / "org", paths=False)}
    graph = Escalation(org, Goal())
    admins = {arn for arn in org.principals if graph.at_goal(graph.actor(arn)) is not None}
    assert admins and admins <= one
    by_reach = {x for x, roles in reach_all(org).items() if roles & admins}
    assert by_reach and by_reach <= one


def test_a_goal_the_kernel_cannot_ask_is_a_usage_error(capsys):
    code, _, err = cli(capsys, "privesc", user("m-putuserpolicy"), "-d", EXAMPLE, "--goal", "s3GetObject")
    assert code == 1 and "--goal" in err and "is not an action" in err
