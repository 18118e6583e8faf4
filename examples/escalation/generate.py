"""Writes this folder: one user per escalation method of accounts/escalation.py, and decoys
(an allow cut by a Deny, a boundary, an SCP, a resource that excludes the target, a condition
the caller cannot meet, a role no service trusts, a trust naming a session). Run from the
repository root: python examples/escalation/generate.py"""
import json
A = "444444444444"
V = "2012-10-17"
def doc(*st): return {"Version": V, "Statement": list(st)}
def allow(action, resource="*", **kw): return dict({"Effect": "Allow", "Action": action, "Resource": resource}, **kw)
def deny(action, resource="*", **kw): return dict({"Effect": "Deny", "Action": action, "Resource": resource}, **kw)
def arn(kind, name): return f"arn:aws:iam::{A}:{kind}/{name}"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
SVC = arn("role", "AdminService")
users, roles, groups, policies = [], [], [], []
def managed(name, document, extra_versions=()):
    versions = [{"Document": document, "VersionId": "v1", "IsDefaultVersion": True}]
    for i, d in enumerate(extra_versions, 2):
        versions.append({"Document": d, "VersionId": f"v{i}", "IsDefaultVersion": False})
    policies.append({"PolicyName": name, "Arn": arn("policy", name), "DefaultVersionId": "v1", "PolicyVersionList": versions})
    return arn("policy", name)
policies.append({"PolicyName": "AdministratorAccess", "Arn": ADMIN, "DefaultVersionId": "v1",
                 "PolicyVersionList": [{"Document": doc(allow("*")), "VersionId": "v1", "IsDefaultVersion": True}]})
# the export holds the AWS managed policies it attaches or a condition names;
# ReadOnlyAccess here is a short stand-in (read-only actions of a few services)
policies.append({"PolicyName": "ReadOnlyAccess", "Arn": "arn:aws:iam::aws:policy/ReadOnlyAccess", "DefaultVersionId": "v1",
                 "PolicyVersionList": [{"Document": doc(allow(["iam:Get*", "iam:List*", "s3:Get*", "s3:List*",
                                                               "ec2:Describe*"])),
                                        "VersionId": "v1", "IsDefaultVersion": True}]})
def inline_list(statements, inline):
    # "main" holds the statements given; `inline` adds more named inline policies
    named = ({"main": doc(*statements)} if statements else {}) | dict(inline or {})
    return [{"PolicyName": n, "PolicyDocument": d} for n, d in named.items()]
def user(name, *statements, attached=(), groups_=(), boundary=None, tags=None, inline=None):
    u = {"UserName": name, "Arn": arn("user", name), "GroupList": list(groups_),
         "UserPolicyList": inline_list(statements, inline),
         "AttachedManagedPolicies": [{"PolicyName": a.rsplit("/", 1)[1], "PolicyArn": a} for a in attached],
         "Tags": [{"Key": k, "Value": v} for k, v in (tags or {}).items()]}
    if boundary: u["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": boundary}
    users.append(u)
def role(name, trust, *statements, attached=(), boundary=None, profile=False, tags=None, inline=None):
    r = {"RoleName": name, "Arn": arn("role", name), "AssumeRolePolicyDocument": trust,
         "RolePolicyList": inline_list(statements, inline),
         "AttachedManagedPolicies": [{"PolicyName": a.rsplit("/", 1)[1], "PolicyArn": a} for a in attached],
         "InstanceProfileList": [{"InstanceProfileName": name, "Arn": f"arn:aws:iam::{A}:instance-profile/{name}"}] if profile else [],
         "Tags": [{"Key": k, "Value": v} for k, v in (tags or {}).items()]}
    if boundary: r["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": boundary}
    roles.append(r)
def group(name, *statements, attached=(), inline=None):
    groups.append({"GroupName": name, "Arn": arn("group", name),
                   "GroupPolicyList": inline_list(statements, inline),
                   "AttachedManagedPolicies": [{"PolicyName": a.rsplit("/", 1)[1], "PolicyArn": a} for a in attached]})
trust_account = doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:root"}, "Action": "sts:AssumeRole"})
services = ["lambda", "ec2", "glue", "cloudformation", "datapipeline", "codestar", "sagemaker", "codebuild"]
role("Admin", trust_account, attached=[ADMIN])
role("AdminService", doc({"Effect": "Allow", "Principal": {"Service": [f"{s}.amazonaws.com" for s in services]},
                          "Action": "sts:AssumeRole"}), attached=[ADMIN], profile=True)
role("AdminNoService", doc({"Effect": "Allow", "Principal": {"AWS": arn("user", "adminuser")}, "Action": "sts:AssumeRole"}),
     attached=[ADMIN])
role("Plain", trust_account, allow("s3:ListAllMyBuckets"))
role("Worker", trust_account, allow("s3:ListAllMyBuckets"))  # no session of it is named anywhere
# roles an RCP of the organization guards (RCPGuardedRoles below)
role("RcpGuardedAdmin", trust_account, attached=[ADMIN])
role("RcpGuardedPlain", trust_account, allow("s3:ListAllMyBuckets"))
role("RcpGuardedClosed", doc({"Effect": "Allow", "Principal": {"AWS": arn("user", "adminuser")}, "Action": "sts:AssumeRole"}),
     attached=[ADMIN])
role("AdminSession", doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:sts::{A}:assumed-role/Plain/ops"},
                          "Action": "sts:AssumeRole"}), attached=[ADMIN])
bound_role = managed("RoleBoundary", doc(allow(["iam:DeleteRolePermissionsBoundary", "sts:GetCallerIdentity"])))
role("BoundedAdmin", trust_account, attached=[ADMIN], boundary=bound_role)
put_role_bound = managed("PutRoleBoundary", doc(allow(["iam:PutRolePermissionsBoundary"])))
role("BoundedAdmin2", trust_account, attached=[ADMIN], boundary=put_role_bound)
user("adminuser", attached=[ADMIN])
group("admins", attached=[ADMIN])
# one principal per method
user("m-assumerole", allow("sts:AssumeRole", arn("role", "Admin")))
helper = managed("Helper", doc(allow("iam:CreatePolicyVersion", arn("policy", "Helper"))))
user("m-createpolicyversion", attached=[helper])
helper2 = managed("Helper2", doc(allow("iam:SetDefaultPolicyVersion", arn("policy", "Helper2"))), [doc(allow("*"))])
user("m-setdefaultpolicyversion", attached=[helper2])
user("m-createaccesskey", allow("iam:CreateAccessKey", arn("user", "adminuser")))
user("m-createloginprofile", allow("iam:CreateLoginProfile", arn("user", "adminuser")))
user("m-updateloginprofile", allow("iam:UpdateLoginProfile", arn("user", "adminuser")))
user("m-attachuserpolicy", allow("iam:AttachUserPolicy", arn("user", "m-attachuserpolicy")))
group("g-attach", allow("iam:AttachGroupPolicy", arn("group", "g-attach")))
user("m-attachgrouppolicy", groups_=["g-attach"])
user("m-attachrolepolicy", allow(["iam:AttachRolePolicy", "sts:AssumeRole"], arn("role", "Plain")))
user("m-putuserpolicy", allow("iam:PutUserPolicy", arn("user", "m-putuserpolicy")))
group("g-put", allow("iam:PutGroupPolicy", arn("group", "g-put")))
user("m-putgrouppolicy", groups_=["g-put"])
user("m-putrolepolicy", allow(["iam:PutRolePolicy", "sts:AssumeRole"], arn("role", "Plain")))
user("m-addusertogroup", allow("iam:AddUserToGroup", arn("group", "admins")))
user("m-updateassumerolepolicy", allow(["iam:UpdateAssumeRolePolicy", "sts:AssumeRole"], arn("role", "AdminNoService")))
def passrole(service): return allow("iam:PassRole", SVC, Condition={"StringEquals": {"iam:PassedToService": f"{service}.amazonaws.com"}})
user("m-passrole-ec2", passrole("ec2"), allow("ec2:RunInstances"))
user("m-passrole-lambda-invoke", passrole("lambda"), allow(["lambda:CreateFunction", "lambda:InvokeFunction"]))
user("m-passrole-lambda-addpermission", passrole("lambda"), allow(["lambda:CreateFunction", "lambda:AddPermission"]))
user("m-passrole-lambda-eventsource", passrole("lambda"), allow(["lambda:CreateFunction", "lambda:CreateEventSourceMapping"]))
user("m-lambda-updatefunctioncode", allow("lambda:UpdateFunctionCode"))
user("m-passrole-glue", passrole("glue"), allow("glue:CreateDevEndpoint"))
user("m-glue-updatedevendpoint", allow("glue:UpdateDevEndpoint"))
user("m-passrole-cloudformation", passrole("cloudformation"), allow("cloudformation:CreateStack"))
user("m-passrole-changeset", passrole("cloudformation"), allow(["cloudformation:CreateChangeSet", "cloudformation:ExecuteChangeSet"]))
user("m-passrole-datapipeline", passrole("datapipeline"), allow(["datapipeline:CreatePipeline", "datapipeline:PutPipelineDefinition"]))
user("m-passrole-codestar", passrole("codestar"), allow("codestar:CreateProject"))
user("m-lambda-updatefunctionconfiguration", allow("lambda:UpdateFunctionConfiguration"))
user("m-passrole-sagemaker-notebook", passrole("sagemaker"), allow(["sagemaker:CreateNotebookInstance", "sagemaker:CreatePresignedNotebookInstanceUrl"]))
user("m-sagemaker-presignedurl", allow("sagemaker:CreatePresignedNotebookInstanceUrl"))
user("m-passrole-sagemaker-training", passrole("sagemaker"), allow("sagemaker:CreateTrainingJob"))
user("m-passrole-sagemaker-processing", passrole("sagemaker"), allow("sagemaker:CreateProcessingJob"))
user("m-passrole-codebuild", passrole("codebuild"), allow(["codebuild:CreateProject", "codebuild:StartBuild"]))
user("m-passrole-autoscaling", passrole("ec2"), allow(["autoscaling:CreateLaunchConfiguration", "autoscaling:CreateAutoScalingGroup"]))
user("m-ssm-sendcommand", allow("ssm:SendCommand"))
user("m-ssm-startsession", allow("ssm:StartSession"))
user("m-instance-connect", allow("ec2-instance-connect:SendSSHPublicKey"))
ub = managed("UserBoundary", doc(allow(["iam:DeleteUserPermissionsBoundary", "iam:PutUserPermissionsBoundary", "s3:GetObject"])))
user("m-deleteuserpermissionsboundary", attached=[ADMIN], boundary=ub)
user("m-deleterolepermissionsboundary", allow("sts:AssumeRole", arn("role", "BoundedAdmin")))
ub2 = managed("PutBoundary", doc(allow(["iam:PutUserPermissionsBoundary", "s3:GetObject"])))
user("m-putuserpermissionsboundary", attached=[ADMIN], boundary=ub2)
user("m-putrolepermissionsboundary", allow("sts:AssumeRole", arn("role", "BoundedAdmin2")))
user("m-session", allow("sts:AssumeRole", [arn("role", "Plain"), arn("role", "AdminSession")]))
# Removing or replacing a policy that holds a Deny: a "fence" denies every
# action but the one that removes it, so the principal is not admin until
# the fence is gone (IAM API Reference: DeleteUserPolicy, DetachUserPolicy,
# DeleteGroupPolicy, DetachGroupPolicy, RemoveUserFromGroup,
# DeleteRolePolicy, DetachRolePolicy; PutUserPolicy / PutRolePolicy with an
# existing PolicyName replace that document).
def fence(*actions): return doc({"Effect": "Deny", "NotAction": list(actions), "Resource": "*"})
user("m-deleteuserpolicy", attached=[ADMIN], inline={"fence": fence("iam:DeleteUserPolicy")})
fence_user = managed("FenceDetachUser", fence("iam:DetachUserPolicy"))
user("m-detachuserpolicy", attached=[ADMIN, fence_user])
group("g-fenced-inline", inline={"fence": fence("iam:DeleteGroupPolicy")})
user("m-deletegrouppolicy", attached=[ADMIN], groups_=["g-fenced-inline"])
fence_group = managed("FenceDetachGroup", fence("iam:DetachGroupPolicy"))
group("g-fenced-attached", attached=[fence_group])
user("m-detachgrouppolicy", attached=[ADMIN], groups_=["g-fenced-attached"])
group("g-fenced-member", inline={"fence": fence("iam:RemoveUserFromGroup")})
user("m-removeuserfromgroup", attached=[ADMIN], groups_=["g-fenced-member"])
# a role that denies itself everything: fenced by an inline policy, by a
# managed one, or its only inline policy "main" is the Deny
role("FencedInline", trust_account, attached=[ADMIN], inline={"fence": doc(deny("*"))})
user("m-deleterolepolicy", allow(["iam:DeleteRolePolicy", "sts:AssumeRole"], arn("role", "FencedInline")))
deny_all = managed("DenyAll", doc(deny("*")))
role("FencedAttached", trust_account, attached=[ADMIN, deny_all])
user("m-detachrolepolicy", allow(["iam:DetachRolePolicy", "sts:AssumeRole"], arn("role", "FencedAttached")))
user("m-putuserpolicy-samename", allow("iam:PutUserPolicy", arn("user", "m-putuserpolicy-samename")),
     {"Effect": "Deny", "NotAction": "iam:PutUserPolicy", "Resource": "*"})
role("DeniedMain", trust_account, deny("*"))
user("m-putrolepolicy-samename", allow(["iam:PutRolePolicy", "sts:AssumeRole"], arn("role", "DeniedMain")))
# Attach*Policy where iam:PolicyARN allows only a customer managed policy,
# one that allows * on *
wide = managed("WideOpen", doc(allow("*")))
only = lambda policy: {"ArnEquals": {"iam:PolicyARN": policy}}  # noqa: E731
user("m-attachuserpolicy-customer", allow("iam:AttachUserPolicy", arn("user", "m-attachuserpolicy-customer"),
                                          Condition=only(wide)))
user("m-attachrolepolicy-customer", allow("iam:AttachRolePolicy", arn("role", "Worker"), Condition=only(wide)),
     allow("sts:AssumeRole", arn("role", "Worker")))
group("g-attach-wide", allow("iam:AttachGroupPolicy", arn("group", "g-attach-wide"), Condition=only(wide)))
user("m-attachgrouppolicy-customer", groups_=["g-attach-wide"])
# Put*PermissionsBoundary where iam:PermissionsBoundary allows only WideOpen:
# a boundary allowing * on * bounds nothing
ub5 = managed("PutWideBoundary", doc(allow("iam:PutUserPermissionsBoundary",
                                           Condition={"ArnEquals": {"iam:PermissionsBoundary": wide}}),
                                     allow("s3:GetObject")))
user("m-putuserpermissionsboundary-customer", attached=[ADMIN], boundary=ub5)
role("BoundedAdminS3", trust_account, attached=[ADMIN], boundary=arn("policy", "S3Only"))  # S3Only: below
user("m-putrolepermissionsboundary-customer",
     allow("iam:PutRolePermissionsBoundary", arn("role", "BoundedAdminS3"),
           Condition={"ArnEquals": {"iam:PermissionsBoundary": wide}}),
     allow("sts:AssumeRole", arn("role", "BoundedAdminS3")))
# a role EC2 may assume, in no instance profile: the caller makes one
role("AdminEc2NoProfile", doc({"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                               "Action": "sts:AssumeRole"}), attached=[ADMIN])
PROFILE = f"arn:aws:iam::{A}:instance-profile/*"
user("m-passrole-createinstanceprofile", allow("iam:PassRole", arn("role", "AdminEc2NoProfile")),
     allow(["iam:CreateInstanceProfile", "iam:AddRoleToInstanceProfile"], PROFILE), allow("ec2:RunInstances"))
# Lambda runs a function as the session ROLE/FUNCTION-NAME: AdminByFunction
# trusts the session LambdaWorker/nightly-report
role("LambdaWorker", doc({"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                          "Action": "sts:AssumeRole"}), allow("logs:CreateLogGroup"))
role("AdminByFunction", doc({"Effect": "Allow", "Principal": {
    "AWS": f"arn:aws:sts::{A}:assumed-role/LambdaWorker/nightly-report"}, "Action": "sts:AssumeRole"}), attached=[ADMIN])
user("m-passrole-lambda-session", allow("iam:PassRole", arn("role", "LambdaWorker")),
     allow(["lambda:CreateFunction", "lambda:InvokeFunction"]))
# Tag/Untag User/Role: a principal's tags are aws:PrincipalTag in its own
# requests — tagging meets an Allow's condition, untagging escapes a Deny's
IDENTITY = {"StringEquals": {"aws:PrincipalTag/team": "identity"}}
LOCKED = {"StringEquals": {"aws:PrincipalTag/locked": "true"}}
user("m-taguser", allow("iam:TagUser", arn("user", "m-taguser")), allow("*", Condition=IDENTITY))
locked_fence = managed("LockedFence", doc({"Effect": "Deny", "NotAction": "iam:UntagUser", "Resource": "*",
                                            "Condition": LOCKED}))
user("m-untaguser", attached=[ADMIN, locked_fence], tags={"locked": "true"})
role("TagGated", trust_account, allow("*", Condition=IDENTITY))
user("m-tagrole", allow(["iam:TagRole", "sts:AssumeRole"], arn("role", "TagGated")))
role("LockedRole", trust_account, deny("*", Condition=LOCKED), attached=[ADMIN], tags={"locked": "true"})
user("m-untagrole", allow(["iam:UntagRole", "sts:AssumeRole"], arn("role", "LockedRole")))
# decoys
user("d-deny", allow("iam:PutUserPolicy", arn("user", "d-deny")), deny("iam:Put*"))
nb = managed("S3Only", doc(allow("s3:*")))
user("d-boundary", allow("iam:CreateAccessKey", arn("user", "adminuser")), boundary=nb)
user("d-scp", allow("iam:PutUserPolicy", arn("user", "d-scp")), tags={"team": "contractor"})
user("d-resource", allow("iam:CreateAccessKey", arn("user", "dev-*")))
user("d-condition", passrole("ec2"), allow(["lambda:CreateFunction", "lambda:InvokeFunction"]))
user("d-mfa", allow("iam:PutUserPolicy", arn("user", "d-mfa"), Condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}}))
user("d-policyarn", allow("iam:AttachUserPolicy", arn("user", "d-policyarn"),
                          Condition={"ArnEquals": {"iam:PolicyARN": "arn:aws:iam::aws:policy/ReadOnlyAccess"}}))
user("d-untrusted", allow("iam:PassRole", arn("role", "AdminNoService")), allow(["lambda:CreateFunction", "lambda:InvokeFunction"]))
user("d-noprofile", allow("iam:PassRole", arn("role", "Admin")), allow("ec2:RunInstances"))
helper3 = managed("Helper3", doc(allow("iam:SetDefaultPolicyVersion", arn("policy", "Helper3"))),
                  [doc(allow("s3:GetObject"))])
user("d-setdefaultpolicyversion", attached=[helper3])
user("d-session", allow("sts:AssumeRole", arn("role", "AdminSession")))
# one decoy per method (a name d-METHOD-LIMIT): it holds the Allow the
# method needs, and one limit cuts it — a Deny, its boundary, an SCP, the
# RCP, a Resource that excludes the target, a condition it cannot meet.
CONTRACTOR = {"team": "contractor"}  # the SCPs below deny these principals
user("d-assumerole-rcp", allow("sts:AssumeRole", arn("role", "RcpGuardedAdmin")))
d_cpv = managed("HelperD", doc(allow("iam:CreatePolicyVersion", arn("policy", "Helper-dev-*"))))
user("d-createpolicyversion-resource", attached=[d_cpv])
d_sdv = managed("HelperDeny", doc(allow("iam:SetDefaultPolicyVersion", arn("policy", "HelperDeny"))), [doc(allow("*"))])
user("d-setdefaultpolicyversion-deny", deny("iam:SetDefaultPolicyVersion"), attached=[d_sdv])
user("d-passrole-ec2-scp", passrole("ec2"), allow("ec2:RunInstances"), tags=CONTRACTOR)
user("d-createloginprofile-condition", allow("iam:CreateLoginProfile", arn("user", "adminuser"),
                                            Condition={"StringEquals": {"aws:PrincipalTag/team": "identity"}}))
user("d-updateloginprofile-deny", allow("iam:UpdateLoginProfile", arn("user", "adminuser")),
     deny("iam:UpdateLoginProfile", arn("user", "admin*")))
group("g-attach-bounded", allow("iam:AttachGroupPolicy", arn("group", "g-attach-bounded")))
user("d-attachgrouppolicy-boundary", groups_=["g-attach-bounded"], boundary=nb)
user("d-attachrolepolicy-resource", allow("iam:AttachRolePolicy", arn("role", "dev-*")),
     allow("sts:AssumeRole", arn("role", "Worker")))
group("g-put-contractors", allow("iam:PutGroupPolicy", arn("group", "g-put-contractors")))
user("d-putgrouppolicy-scp", groups_=["g-put-contractors"], tags=CONTRACTOR)
user("d-putrolepolicy-rcp", allow(["iam:PutRolePolicy", "sts:AssumeRole"], arn("role", "RcpGuardedPlain")))
user("d-addusertogroup-resource", allow("iam:AddUserToGroup", arn("group", "dev-*")))
user("d-updateassumerolepolicy-rcp", allow(["iam:UpdateAssumeRolePolicy", "sts:AssumeRole"],
                                          arn("role", "RcpGuardedClosed")))
user("d-passrole-lambda-addpermission-boundary", passrole("lambda"),
     allow(["lambda:CreateFunction", "lambda:AddPermission"]), boundary=nb)
user("d-passrole-lambda-eventsource-deny", passrole("lambda"),
     allow(["lambda:CreateFunction", "lambda:CreateEventSourceMapping"]), deny("lambda:CreateEventSourceMapping"))
user("d-lambda-updatefunctioncode-boundary", allow("lambda:UpdateFunctionCode"), boundary=nb)
user("d-passrole-glue-scp", passrole("glue"), allow("glue:CreateDevEndpoint"), tags=CONTRACTOR)
user("d-glue-updatedevendpoint-deny", allow("glue:UpdateDevEndpoint"), deny("glue:Update*"))
user("d-passrole-cloudformation-resource", allow("iam:PassRole", arn("role", "Plain")),
     allow("cloudformation:CreateStack"))
user("d-passrole-changeset-boundary", passrole("cloudformation"),
     allow(["cloudformation:CreateChangeSet", "cloudformation:ExecuteChangeSet"]), boundary=nb)
user("d-passrole-datapipeline-deny", passrole("datapipeline"),
     allow(["datapipeline:CreatePipeline", "datapipeline:PutPipelineDefinition"]), deny("datapipeline:PutPipelineDefinition"))
user("d-passrole-codestar-deny", passrole("codestar"), allow("codestar:CreateProject"), deny("iam:PassRole"))
user("d-lambda-updatefunctionconfiguration-scp", allow("lambda:UpdateFunctionConfiguration"), tags=CONTRACTOR)
user("d-passrole-sagemaker-notebook-condition", passrole("sagemaker"), allow("sagemaker:CreateNotebookInstance"),
     allow("sagemaker:CreatePresignedNotebookInstanceUrl", Condition={"StringEquals": {"aws:PrincipalTag/team": "ml"}}))
user("d-sagemaker-presignedurl-boundary", allow("sagemaker:CreatePresignedNotebookInstanceUrl"), boundary=nb)
user("d-passrole-sagemaker-training-resource", allow("iam:PassRole", arn("role", "Plain")),
     allow("sagemaker:CreateTrainingJob"))
user("d-passrole-sagemaker-processing-scp", passrole("sagemaker"), allow("sagemaker:CreateProcessingJob"),
     tags=CONTRACTOR)
user("d-passrole-codebuild-deny", passrole("codebuild"), allow(["codebuild:CreateProject", "codebuild:StartBuild"]),
     deny("codebuild:StartBuild"))
user("d-passrole-autoscaling-condition", passrole("lambda"),
     allow(["autoscaling:CreateLaunchConfiguration", "autoscaling:CreateAutoScalingGroup"]))
user("d-ssm-sendcommand-scp", allow("ssm:SendCommand"), tags=CONTRACTOR)
user("d-ssm-startsession-deny", allow("ssm:StartSession"), deny("ssm:StartSession"))
user("d-instance-connect-boundary", allow("ec2-instance-connect:SendSSHPublicKey"), boundary=nb)
ub3 = managed("DevUserBoundary", doc(allow("iam:DeleteUserPermissionsBoundary", arn("user", "dev-*")),
                                     allow("s3:GetObject")))
user("d-deleteuserpermissionsboundary-resource", attached=[ADMIN], boundary=ub3)
role("BoundedAdminDeny", trust_account, deny("iam:DeleteRolePermissionsBoundary"), attached=[ADMIN], boundary=bound_role)
user("d-deleterolepermissionsboundary-deny", allow("sts:AssumeRole", arn("role", "BoundedAdminDeny")))
ub4 = managed("PutS3OnlyBoundary", doc(allow("iam:PutUserPermissionsBoundary", Condition={
    "ArnEquals": {"iam:PermissionsBoundary": arn("policy", "S3Only")}}), allow("s3:GetObject")))
user("d-putuserpermissionsboundary-condition", attached=[ADMIN], boundary=ub4)
user("d-deleteuserpolicy-scp", attached=[ADMIN], inline={"fence": fence("iam:DeleteUserPolicy")}, tags=CONTRACTOR)
user("d-detachuserpolicy-deny", deny("iam:DetachUserPolicy"), attached=[ADMIN, fence_user])
group("g-fenced-inline-2", inline={"fence": fence("iam:DeleteGroupPolicy")})
user("d-deletegrouppolicy-boundary", attached=[ADMIN], groups_=["g-fenced-inline-2"], boundary=nb)
# its DetachGroupPolicy covers group/dev-* only; with the fence gone it
# could assume Admin (a boundary narrowing DetachGroupPolicy would make it
# no admin by itself: no * on *)
group("g-fenced-attached-2", attached=[fence_group])
user("d-detachgrouppolicy-resource", allow("iam:DetachGroupPolicy", arn("group", "dev-*")),
     allow("sts:AssumeRole", arn("role", "Admin")), groups_=["g-fenced-attached-2"])
group("g-fenced-member-2", inline={"fence": fence("iam:RemoveUserFromGroup")})
user("d-removeuserfromgroup-scp", attached=[ADMIN], groups_=["g-fenced-member-2"], tags=CONTRACTOR)
user("d-deleterolepolicy-deny", allow(["iam:DeleteRolePolicy", "sts:AssumeRole"], arn("role", "FencedInline")),
     deny("iam:DeleteRolePolicy"))
user("d-detachrolepolicy-boundary", allow(["iam:DetachRolePolicy", "sts:AssumeRole"], arn("role", "FencedAttached")),
     boundary=nb)
user("d-putuserpolicy-samename-condition",
     allow("iam:PutUserPolicy", arn("user", "d-putuserpolicy-samename-condition"),
           Condition={"StringEquals": {"aws:PrincipalTag/team": "identity"}}),
     {"Effect": "Deny", "NotAction": "iam:PutUserPolicy", "Resource": "*"})
role("RcpGuardedDeniedMain", trust_account, deny("*"))
user("d-putrolepolicy-samename-rcp", allow(["iam:PutRolePolicy", "sts:AssumeRole"], arn("role", "RcpGuardedDeniedMain")))
user("d-attachuserpolicy-customer-resource", allow("iam:AttachUserPolicy", arn("user", "dev-*"), Condition=only(wide)))
user("d-attachrolepolicy-customer-condition",
     allow("iam:AttachRolePolicy", arn("role", "Worker"), Condition=only(arn("policy", "S3Only"))),
     allow("sts:AssumeRole", arn("role", "Worker")))
user("d-putuserpermissionsboundary-customer-deny", deny("iam:PutUserPermissionsBoundary"), attached=[ADMIN],
     boundary=ub5)
user("d-putrolepermissionsboundary-customer-resource",
     allow("iam:PutRolePermissionsBoundary", arn("role", "dev-*"),
           Condition={"ArnEquals": {"iam:PermissionsBoundary": wide}}),
     allow("sts:AssumeRole", arn("role", "BoundedAdminS3")))
role("BoundedAdminContractor", trust_account, attached=[ADMIN], boundary=put_role_bound, tags=CONTRACTOR)
user("d-putrolepermissionsboundary-scp", allow("sts:AssumeRole", arn("role", "BoundedAdminContractor")))
user("d-passrole-createinstanceprofile-deny", allow("iam:PassRole", arn("role", "AdminEc2NoProfile")),
     allow(["iam:CreateInstanceProfile", "iam:AddRoleToInstanceProfile"], PROFILE), allow("ec2:RunInstances"),
     deny("iam:AddRoleToInstanceProfile"))
user("d-passrole-lambda-session-resource", allow("iam:PassRole", arn("role", "LambdaWorker")),
     allow(["lambda:CreateFunction", "lambda:InvokeFunction"], f"arn:aws:lambda:*:{A}:function:dev-*"))
group("g-attach-wide-2", allow("iam:AttachGroupPolicy", arn("group", "dev-*"), Condition=only(wide)))
user("d-attachgrouppolicy-customer-resource", groups_=["g-attach-wide-2"])
user("d-taguser-condition", allow("iam:TagUser", arn("user", "d-taguser-condition"),
                                 Condition={"ForAllValues:StringEquals": {"aws:TagKeys": ["project"]}}),
     allow("*", Condition=IDENTITY))
user("d-untaguser-deny", deny("iam:UntagUser"), attached=[ADMIN, locked_fence], tags={"locked": "true"})
user("d-tagrole-resource", allow("iam:TagRole", arn("role", "dev-*")), allow("sts:AssumeRole", arn("role", "TagGated")))
user("d-untagrole-scp", allow(["iam:UntagRole", "sts:AssumeRole"], arn("role", "LockedRole")), tags=CONTRACTOR)
json.dump({"UserDetailList": users, "GroupDetailList": groups, "RoleDetailList": roles, "Policies": policies},
          open(f"examples/escalation/authorization/{A}.json", "w"), indent=1)
full = doc(allow("*"))
org = {"id": "o-escalation", "management_account": "999999999999",
       "scps": {"FullAWSAccess": full,
                "NoIAMForContractors": doc(deny("iam:*", Condition={"StringEquals": {"aws:PrincipalTag/team": "contractor"}})),
                "NoRunningCodeForContractors": doc(deny(
                    ["lambda:Update*", "ssm:SendCommand", "ssm:StartSession", "ec2-instance-connect:*",
                     "sagemaker:CreatePresigned*", "glue:UpdateDevEndpoint"],
                    Condition={"StringEquals": {"aws:PrincipalTag/team": "contractor"}}))},
       "rcps": {"RCPFullAWSAccess": doc({"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}),
                # only principals tagged clearance=high may assume these roles
                "RCPGuardedRoles": doc({"Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole",
                                        "Resource": "arn:aws:iam::*:role/RcpGuarded*",
                                        "Condition": {"StringNotEquals": {"aws:PrincipalTag/clearance": "high"}}})},
       "root": {"id": "r-esc", "name": "Root", "scps": ["FullAWSAccess"], "rcps": ["RCPFullAWSAccess"],
                "children": [{"account": A, "name": "escalation",
                              "scps": ["FullAWSAccess", "NoIAMForContractors", "NoRunningCodeForContractors"],
                              "rcps": ["RCPFullAWSAccess", "RCPGuardedRoles"]}]}}
json.dump(org, open("examples/escalation/organization.json", "w"), indent=1)
