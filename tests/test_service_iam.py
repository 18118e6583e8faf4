"""IAM over HTTP: a real ``iamlogic serve`` process driven by boto3 and the
AWS CLI (tests/service_harness.py). Success and error paths of the IAM
operations with AWS's codes, statuses and messages (IAM API Reference,
Common Errors and each operation's Errors), pagination, tags, and every
call authorized by the kernel: users denied until a policy allows, a group
Deny winning, a permissions boundary and an SCP capping (SEMANTICS §1)."""

from __future__ import annotations

import json
from pathlib import Path

import botocore.exceptions
import pytest
import requests
from service_harness import ACCOUNT, Server, allow, deny, error_of, policy

ROOT = Path(__file__).resolve().parent.parent
ClientError = botocore.exceptions.ClientError


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with Server(tmp_path_factory.mktemp("iam"), import_folder=ROOT / "examples" / "organization") as s:
        yield s


@pytest.fixture(scope="module")
def iam(server):
    return server.client("iam")


def user_with_key(server, iam, name: str):
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return server.client("iam", key["AccessKeyId"], key["SecretAccessKey"]), key


# ------------------------------------------------------------------ users, errors, pagination, tags

def test_user_lifecycle_and_errors(server, iam):
    user = iam.create_user(UserName="alice", Path="/eng/")["User"]
    assert user["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/eng/alice" and user["UserId"].startswith("AIDA")
    assert iam.get_user(UserName="alice")["User"]["UserId"] == user["UserId"]
    with pytest.raises(ClientError) as e:
        iam.create_user(UserName="ALICE")          # IAM names are unique without case
    assert error_of(e) == ("EntityAlreadyExists", "User with name ALICE already exists.", 409)
    with pytest.raises(ClientError) as e:
        iam.get_user(UserName="nobody")
    assert error_of(e) == ("NoSuchEntity", "The user with name nobody cannot be found.", 404)
    with pytest.raises(ClientError) as e:
        server.client(validate=False).create_user(UserName="bad name!")
    code, message, status = error_of(e)
    assert (code, status) == ("ValidationError", 400)
    assert "at 'userName' failed to satisfy constraint: Member must satisfy regular expression pattern" in message
    iam.create_access_key(UserName="alice")
    with pytest.raises(ClientError) as e:
        iam.delete_user(UserName="alice")
    assert error_of(e) == ("DeleteConflict", "Cannot delete entity, must delete access keys first.", 409)
    iam.update_user(UserName="alice", NewUserName="alice2")
    assert iam.get_user(UserName="alice2")["User"]["Arn"].endswith(":user/eng/alice2")
    for k in iam.list_access_keys(UserName="alice2")["AccessKeyMetadata"]:
        iam.delete_access_key(UserName="alice2", AccessKeyId=k["AccessKeyId"])
    iam.delete_user(UserName="alice2")
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_user(UserName="alice2")


def test_a_list_and_delete_loop_deletes_every_user(server, iam):
    """IAM API Reference, ListUsers: Marker is where the next call should
    start — after the last item returned, not a count of items. A client
    that deletes each page before asking for the next one must still see
    every user (a count skipped u2, u3, u6, u7 and ended IsTruncated false),
    and a user added before the marker between pages repeats nobody."""
    for i in range(10):
        iam.create_user(UserName=f"sweep{i}", Path="/sweep/")
    deleted, marker = [], None
    while True:
        page = iam.list_users(PathPrefix="/sweep/", MaxItems=2, **({"Marker": marker} if marker else {}))
        for u in page["Users"]:
            iam.delete_user(UserName=u["UserName"])
            deleted.append(u["UserName"])
        if not page["IsTruncated"]:
            break
        marker = page["Marker"]
    assert deleted == [f"sweep{i}" for i in range(10)]
    assert iam.list_users(PathPrefix="/sweep/")["Users"] == []
    for i in range(4):
        iam.create_user(UserName=f"sweep{i}b", Path="/sweep/")
    first = iam.list_users(PathPrefix="/sweep/", MaxItems=2)
    iam.create_user(UserName="sweep0a", Path="/sweep/")   # sorts before the marker
    rest = iam.list_users(PathPrefix="/sweep/", MaxItems=10, Marker=first["Marker"])
    assert [u["UserName"] for u in first["Users"] + rest["Users"]] == ["sweep0b", "sweep1b", "sweep2b", "sweep3b"]


def test_pagination_marker_max_items(server, iam):
    for i in range(7):
        iam.create_user(UserName=f"page{i}", Path="/paged/")
    first = iam.list_users(PathPrefix="/paged/", MaxItems=3)
    assert [u["UserName"] for u in first["Users"]] == ["page0", "page1", "page2"]
    assert first["IsTruncated"] is True and first["Marker"]
    second = iam.list_users(PathPrefix="/paged/", MaxItems=3, Marker=first["Marker"])
    assert [u["UserName"] for u in second["Users"]] == ["page3", "page4", "page5"]
    pages = list(iam.get_paginator("list_users").paginate(PathPrefix="/paged/", PaginationConfig={"PageSize": 2}))
    assert [len(p["Users"]) for p in pages] == [2, 2, 2, 1]
    assert pages[-1]["IsTruncated"] is False and "Marker" not in pages[-1]
    with pytest.raises(ClientError) as e:
        server.client(validate=False).list_users(MaxItems=0)   # maxItemsType: 1 to 1000
    assert error_of(e)[0] == "ValidationError"


def test_tags_on_users_and_roles(iam):
    iam.create_user(UserName="tagged", Tags=[{"Key": "team", "Value": "red"}])
    iam.tag_user(UserName="tagged", Tags=[{"Key": "env", "Value": "dev"}, {"Key": "team", "Value": "blue"}])
    assert iam.list_user_tags(UserName="tagged")["Tags"] == [{"Key": "team", "Value": "blue"},
                                                             {"Key": "env", "Value": "dev"}]
    iam.untag_user(UserName="tagged", TagKeys=["team"])
    assert iam.get_user(UserName="tagged")["User"]["Tags"] == [{"Key": "env", "Value": "dev"}]
    with pytest.raises(ClientError) as e:
        iam.tag_user(UserName="tagged", Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])
    assert error_of(e)[0] == "LimitExceeded"       # 50 tags per user (IAM quotas)
    trust = policy({"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"})
    iam.create_role(RoleName="tagged-role", AssumeRolePolicyDocument=trust, Tags=[{"Key": "a", "Value": "1"}])
    iam.tag_role(RoleName="tagged-role", Tags=[{"Key": "b", "Value": "2"}])
    assert [t["Key"] for t in iam.list_role_tags(RoleName="tagged-role")["Tags"]] == ["a", "b"]
    iam.untag_role(RoleName="tagged-role", TagKeys=["a"])
    assert iam.get_role(RoleName="tagged-role")["Role"]["Tags"] == [{"Key": "b", "Value": "2"}]


# ------------------------------------------------------------------ policies and versions

def test_managed_policy_versions_and_five_version_limit(iam):
    arn = iam.create_policy(PolicyName="versions", PolicyDocument=policy(allow("s3:GetObject")))["Policy"]["Arn"]
    for i in range(4):
        v = iam.create_policy_version(PolicyArn=arn, PolicyDocument=policy(allow(f"s3:Get{i}")))["PolicyVersion"]
        assert v["VersionId"] == f"v{i + 2}" and v["IsDefaultVersion"] is False
    with pytest.raises(ClientError) as e:
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=policy(allow("s3:x")))
    assert error_of(e) == ("LimitExceeded", "A managed policy can have up to 5 versions. Before you create a new "
                           "version, you must delete an existing version.", 409)
    iam.set_default_policy_version(PolicyArn=arn, VersionId="v3")
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v3"
    doc = iam.get_policy_version(PolicyArn=arn, VersionId="v3")["PolicyVersion"]["Document"]
    assert doc["Statement"][0]["Action"] == "s3:Get1"
    with pytest.raises(ClientError) as e:
        iam.delete_policy_version(PolicyArn=arn, VersionId="v3")
    assert error_of(e) == ("DeleteConflict", "Cannot delete the default version of a policy.", 409)
    iam.delete_policy_version(PolicyArn=arn, VersionId="v1")
    assert iam.create_policy_version(PolicyArn=arn, PolicyDocument=policy(allow("s3:y")))["PolicyVersion"][
        "VersionId"] == "v6"                       # ids are not reused
    with pytest.raises(ClientError) as e:
        iam.delete_policy(PolicyArn=arn)
    assert error_of(e)[0] == "DeleteConflict"


@pytest.mark.parametrize("document, message", [
    ('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:x"}]}',
     "Policy statement must contain resources."),
    ("{not json", "Syntax errors in policy."),
    ('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:x", "Resource": "*", '
     '"Principal": "*"}]}', "Policy document should not specify a principal."),
])
def test_malformed_policy_document_carries_the_validators_message(iam, document, message):
    with pytest.raises(ClientError) as e:
        iam.create_policy(PolicyName="bad", PolicyDocument=document)
    assert error_of(e) == ("MalformedPolicyDocument", message, 400)


def test_inline_policies_and_attachments(iam):
    iam.create_group(GroupName="inline-g")
    iam.put_group_policy(GroupName="inline-g", PolicyName="p1", PolicyDocument=policy(allow("s3:*")))
    assert iam.list_group_policies(GroupName="inline-g")["PolicyNames"] == ["p1"]
    assert iam.get_group_policy(GroupName="inline-g", PolicyName="p1")["PolicyDocument"]["Statement"][0][
        "Action"] == "s3:*"
    arn = iam.create_policy(PolicyName="attach-me", PolicyDocument=policy(allow("s3:*")))["Policy"]["Arn"]
    iam.attach_group_policy(GroupName="inline-g", PolicyArn=arn)
    assert iam.list_attached_group_policies(GroupName="inline-g")["AttachedPolicies"] == [
        {"PolicyName": "attach-me", "PolicyArn": arn}]
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 1
    with pytest.raises(ClientError) as e:
        iam.delete_group(GroupName="inline-g")
    assert error_of(e)[0] == "DeleteConflict"
    with pytest.raises(ClientError) as e:
        iam.attach_group_policy(GroupName="inline-g", PolicyArn=f"arn:aws:iam::{ACCOUNT}:policy/none")
    assert error_of(e) == ("NoSuchEntity", f"Policy arn:aws:iam::{ACCOUNT}:policy/none does not exist or is not "
                           "attachable.", 404)
    iam.detach_group_policy(GroupName="inline-g", PolicyArn=arn)
    iam.delete_group_policy(GroupName="inline-g", PolicyName="p1")
    iam.delete_group(GroupName="inline-g")


# ------------------------------------------------------------------ authorization by the kernel

def test_user_denied_until_a_policy_allows_with_the_derivation_logged(server, iam):
    bob, _ = user_with_key(server, iam, "bob")
    with pytest.raises(ClientError) as e:
        bob.list_users()
    assert error_of(e) == ("AccessDenied", f"User: arn:aws:iam::{ACCOUNT}:user/bob is not authorized to perform: "
                           f"iam:ListUsers on resource: arn:aws:iam::{ACCOUNT}:user/ because no identity-based "
                           "policy allows the iam:ListUsers action", 403)
    logged = server.wait_for_decision(e.value.response["ResponseMetadata"]["RequestId"])
    assert logged["decision"] == "implicit_deny" and logged["blocked_by"] == "identity"
    assert "no identity policy allows iam:ListUsers" in logged["explanation"]
    assert logged["context"]["aws:username"] == "bob" and logged["context"]["aws:SourceIp"] == "127.0.0.1"
    iam.put_user_policy(UserName="bob", PolicyName="list", PolicyDocument=policy(allow("iam:ListUsers")))
    assert any(u["UserName"] == "bob" for u in bob.list_users()["Users"])
    allowed = server.decisions()[-1]
    assert allowed["decision"] == "allow" and allowed["matched_statements"][0]["policy"].endswith("inline policy list")


def test_a_group_deny_wins(server, iam):
    carol, _ = user_with_key(server, iam, "carol")
    iam.put_user_policy(UserName="carol", PolicyName="all", PolicyDocument=policy(allow("iam:*")))
    assert carol.get_user(UserName="carol")["User"]["UserName"] == "carol"
    iam.create_group(GroupName="no-reads")
    iam.put_group_policy(GroupName="no-reads", PolicyName="deny", PolicyDocument=policy(deny("iam:GetUser")))
    iam.add_user_to_group(GroupName="no-reads", UserName="carol")
    with pytest.raises(ClientError) as e:
        carol.get_user(UserName="carol")
    assert error_of(e) == ("AccessDenied", f"User: arn:aws:iam::{ACCOUNT}:user/carol is not authorized to perform: "
                           f"iam:GetUser on resource: arn:aws:iam::{ACCOUNT}:user/carol with an explicit deny in an "
                           "identity-based policy", 403)
    assert [u["UserName"] for u in iam.get_group(GroupName="no-reads")["Users"]] == ["carol"]
    iam.remove_user_from_group(GroupName="no-reads", UserName="carol")
    assert carol.get_user(UserName="carol")["User"]["UserName"] == "carol"


def test_a_permissions_boundary_caps(server, iam):
    dave, _ = user_with_key(server, iam, "dave")
    iam.put_user_policy(UserName="dave", PolicyName="all", PolicyDocument=policy(allow("iam:*")))
    boundary = iam.create_policy(PolicyName="only-get-user",
                                 PolicyDocument=policy(allow("iam:GetUser")))["Policy"]["Arn"]
    iam.put_user_permissions_boundary(UserName="dave", PermissionsBoundary=boundary)
    assert dave.get_user(UserName="dave")["User"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == boundary
    with pytest.raises(ClientError) as e:
        dave.list_groups()
    assert error_of(e)[1].endswith("because no permissions boundary allows the iam:ListGroups action")
    iam.delete_user_permissions_boundary(UserName="dave")
    assert dave.list_groups()["Groups"] is not None


def test_request_tags_and_resource_tags_reach_the_conditions(server, iam):
    erin, _ = user_with_key(server, iam, "erin")
    iam.put_user_policy(UserName="erin", PolicyName="tagged-only", PolicyDocument=policy(
        allow("iam:CreateUser", Condition={"StringEquals": {"aws:RequestTag/team": "red"}}),
        allow("iam:GetUser", Condition={"StringEquals": {"aws:ResourceTag/team": "red"}})))
    with pytest.raises(ClientError):
        erin.create_user(UserName="untagged-by-erin")
    erin.create_user(UserName="tagged-by-erin", Tags=[{"Key": "team", "Value": "red"}])
    assert erin.get_user(UserName="tagged-by-erin")["User"]["UserName"] == "tagged-by-erin"
    iam.create_user(UserName="blue-user", Tags=[{"Key": "team", "Value": "blue"}])
    with pytest.raises(ClientError):
        erin.get_user(UserName="blue-user")


def test_an_scp_caps_the_root_user_of_an_imported_account(server):
    sandbox = next(a for a in server.imported["Accounts"] if a["AccountId"] == "333333333333")
    root = server.client("iam", sandbox["AccessKey"]["AccessKeyId"], sandbox["AccessKey"]["SecretAccessKey"])
    assert {u["UserName"] for u in root.list_users()["Users"]} == {"dev-dana", "intern"}
    with pytest.raises(ClientError) as e:
        root.create_user(UserName="x")             # SandboxGuardrails: Deny iam:Create*
    assert error_of(e) == ("AccessDenied", "User: arn:aws:iam::333333333333:root is not authorized to perform: "
                           "iam:CreateUser on resource: arn:aws:iam::333333333333:user/x with an explicit deny in a "
                           "service control policy", 403)


# ------------------------------------------------------------------ the rest of the operations

def test_roles_trust_policies_and_instance_profiles(iam):
    trust = policy({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"})
    role = iam.create_role(RoleName="app", AssumeRolePolicyDocument=trust, Description="d")["Role"]
    assert role["Arn"] == f"arn:aws:iam::{ACCOUNT}:role/app" and role["RoleId"].startswith("AROA")
    with pytest.raises(ClientError) as e:
        iam.update_assume_role_policy(RoleName="app", PolicyDocument=policy(allow("sts:AssumeRole")))
    assert error_of(e)[0] == "MalformedPolicyDocument"
    new = policy({"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"})
    iam.update_assume_role_policy(RoleName="app", PolicyDocument=new)
    got = iam.get_role(RoleName="app")["Role"]["AssumeRolePolicyDocument"]
    assert got["Statement"][0]["Principal"] == {"Service": "lambda.amazonaws.com"}
    iam.create_instance_profile(InstanceProfileName="app-profile")
    iam.add_role_to_instance_profile(InstanceProfileName="app-profile", RoleName="app")
    with pytest.raises(ClientError) as e:
        iam.add_role_to_instance_profile(InstanceProfileName="app-profile", RoleName="app")
    assert error_of(e)[0] == "LimitExceeded"
    assert [p["InstanceProfileName"] for p in iam.list_instance_profiles_for_role(RoleName="app")[
        "InstanceProfiles"]] == ["app-profile"]
    with pytest.raises(ClientError) as e:
        iam.delete_role(RoleName="app")
    assert error_of(e)[0] == "DeleteConflict"
    iam.remove_role_from_instance_profile(InstanceProfileName="app-profile", RoleName="app")
    iam.delete_instance_profile(InstanceProfileName="app-profile")
    iam.delete_role(RoleName="app")


def test_access_keys_two_per_user_and_inactive_keys_refused(server, iam):
    iam.create_user(UserName="keys")
    a = iam.create_access_key(UserName="keys")["AccessKey"]
    iam.create_access_key(UserName="keys")
    with pytest.raises(ClientError) as e:
        iam.create_access_key(UserName="keys")
    assert error_of(e) == ("LimitExceeded", "Cannot exceed quota for AccessKeysPerUser: 2", 409)
    listed = iam.list_access_keys(UserName="keys")["AccessKeyMetadata"]
    assert len(listed) == 2 and all("SecretAccessKey" not in k for k in listed)
    iam.update_access_key(UserName="keys", AccessKeyId=a["AccessKeyId"], Status="Inactive")
    with pytest.raises(ClientError) as e:
        server.client("iam", a["AccessKeyId"], a["SecretAccessKey"]).get_user()
    assert error_of(e) == ("InvalidClientTokenId", "The security token included in the request is invalid", 403)


def test_login_profiles_and_password_policy(iam):
    with pytest.raises(ClientError) as e:
        iam.get_account_password_policy()
    assert error_of(e)[0] == "NoSuchEntity"
    iam.update_account_password_policy(MinimumPasswordLength=12, RequireNumbers=True)
    assert iam.get_account_password_policy()["PasswordPolicy"]["MinimumPasswordLength"] == 12
    iam.create_user(UserName="console")
    with pytest.raises(ClientError) as e:
        iam.create_login_profile(UserName="console", Password="short1")
    assert error_of(e)[:1] == ("PasswordPolicyViolation",) and "short1" not in error_of(e)[1]
    iam.create_login_profile(UserName="console", Password="long-enough-password-1", PasswordResetRequired=True)
    assert iam.get_login_profile(UserName="console")["LoginProfile"]["PasswordResetRequired"] is True
    with pytest.raises(ClientError) as e:
        iam.delete_user(UserName="console")
    assert error_of(e)[0] == "DeleteConflict"
    iam.delete_login_profile(UserName="console")
    iam.delete_account_password_policy()


def test_identity_providers_and_account_alias(iam):
    arn = iam.create_open_id_connect_provider(Url="https://token.example.com/x", ClientIDList=["sts.amazonaws.com"],
                                              ThumbprintList=["a" * 40])["OpenIDConnectProviderArn"]
    assert arn == f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.example.com/x"
    assert iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)["ClientIDList"] == ["sts.amazonaws.com"]
    with pytest.raises(ClientError) as e:
        iam.create_open_id_connect_provider(Url="https://token.example.com/x", ThumbprintList=["a" * 40])
    assert error_of(e)[0] == "EntityAlreadyExists"
    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    saml = iam.create_saml_provider(Name="corp", SAMLMetadataDocument="x" * 1000)["SAMLProviderArn"]
    assert [p["Arn"] for p in iam.list_saml_providers()["SAMLProviderList"]] == [saml]
    iam.delete_saml_provider(SAMLProviderArn=saml)
    iam.create_account_alias(AccountAlias="my-corp")
    assert iam.list_account_aliases()["AccountAliases"] == ["my-corp"]
    iam.delete_account_alias(AccountAlias="my-corp")
    assert iam.list_account_aliases()["AccountAliases"] == []


def test_simulator_operations(iam):
    iam.create_user(UserName="sim")
    iam.put_user_policy(UserName="sim", PolicyName="s3", PolicyDocument=policy(
        allow("s3:GetObject", Condition={"StringEquals": {"aws:RequestedRegion": "eu-west-1"}})))
    arn = iam.get_user(UserName="sim")["User"]["Arn"]
    results = iam.simulate_principal_policy(PolicySourceArn=arn, ActionNames=["s3:GetObject", "s3:PutObject"],
                                            ContextEntries=[{"ContextKeyName": "aws:RequestedRegion",
                                                             "ContextKeyValues": ["eu-west-1"],
                                                             "ContextKeyType": "string"}])["EvaluationResults"]
    assert [(r["EvalActionName"], r["EvalDecision"]) for r in results] == [("s3:GetObject", "allowed"),
                                                                            ("s3:PutObject", "implicitDeny")]
    custom = iam.simulate_custom_policy(PolicyInputList=[policy(deny("s3:*"), allow("*"))],
                                        ActionNames=["s3:GetObject"])["EvaluationResults"]
    assert custom[0]["EvalDecision"] == "explicitDeny"
    keys = iam.get_context_keys_for_principal_policy(PolicySourceArn=arn)["ContextKeyNames"]
    assert keys == ["aws:RequestedRegion"]


def test_account_authorization_details_read_back_as_account_data(server, iam, tmp_path):
    from iamlogic.accounts.inventory import load_account_data
    details = {"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": [], "Policies": []}
    for page in iam.get_paginator("get_account_authorization_details").paginate():
        for key in details:
            details[key].extend(page.get(key, []))
    assert any(u["UserName"] == "bob" and u["UserPolicyList"] for u in details["UserDetailList"])
    (tmp_path / "authorization").mkdir()
    (tmp_path / "authorization" / f"{ACCOUNT}.json").write_text(json.dumps(details, default=str))
    data = load_account_data(tmp_path)
    assert not data.skipped
    bob = data.principal(f"arn:aws:iam::{ACCOUNT}:user/bob")
    assert bob.account == ACCOUNT


# ------------------------------------------------------------------ the protocol's bad input

def test_bad_requests_get_aws_errors_never_a_traceback(server, iam):
    with pytest.raises(ClientError) as e:
        server.client(validate=False).list_users(PathPrefix="no-slash")
    assert error_of(e)[0] == "ValidationError"
    r = requests.post(server.url, data={"Action": "ListUsers", "Version": "2010-05-08"}, timeout=10)
    assert r.status_code == 403 and "<Code>MissingAuthenticationToken</Code>" in r.text
    r = requests.post(server.url, data={"Action": "NoSuchThing", "Version": "2010-05-08"}, timeout=10)
    assert r.status_code == 400 and "<Code>InvalidAction</Code>" in r.text
    r = requests.post(server.url, data=b"x" * (2 * 1024 * 1024), timeout=10)
    assert r.status_code == 413 and "<ErrorResponse" in r.text
    forged = server.client("iam", secret="not-the-secret")
    with pytest.raises(ClientError) as e:
        forged.list_users()
    assert error_of(e)[0] == "SignatureDoesNotMatch"
    assert "Traceback" not in (server.folder / "server.err").read_text()


def test_the_aws_cli(server, iam):
    code, out, err = server.aws("iam", "create-user", "--user-name", "cli-user")
    assert code == 0, err
    assert json.loads(out)["User"]["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/cli-user"
    key = iam.create_access_key(UserName="cli-user")["AccessKey"]
    code, out, err = server.aws("iam", "list-users", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    assert code != 0 and "(AccessDenied)" in err and "no identity-based policy allows the iam:ListUsers" in err
    code, out, err = server.aws("iam", "get-user", "--user-name", "nobody-here")
    assert code != 0 and "(NoSuchEntity)" in err


def test_an_unreadable_imported_policy_denies_fail_closed(server, iam, tmp_path):
    # Imported by a second process into the running server's file: the server sees it at its next call.
    (tmp_path / "authorization").mkdir()
    export = {"UserDetailList": [{"UserName": "broken", "UserId": "AIDABROKEN0000000001", "Path": "/",
                                  "Arn": f"arn:aws:iam::{ACCOUNT}:user/broken", "CreateDate": "2026-01-01T00:00:00Z",
                                  "UserPolicyList": [{"PolicyName": "odd", "PolicyDocument": {
                                      "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*"}]}}],
                                  "GroupList": [], "AttachedManagedPolicies": []}],
              "GroupDetailList": [], "RoleDetailList": [], "Policies": []}
    (tmp_path / "authorization" / f"{ACCOUNT}.json").write_text(json.dumps(export))
    from service_harness import iamlogic
    iamlogic("account", "import", "--db", str(server.db), str(tmp_path))
    key = iam.create_access_key(UserName="broken")["AccessKey"]
    broken = server.client("iam", key["AccessKeyId"], key["SecretAccessKey"])
    with pytest.raises(ClientError) as e:
        broken.get_user(UserName="broken")        # the Allow has no Resource: IAM never stores it
    assert error_of(e)[0] == "AccessDenied" and error_of(e)[2] == 403
    logged = server.wait_for_decision(e.value.response["ResponseMetadata"]["RequestId"])
    assert "cannot be read" in logged["explanation"]


def test_long_term_keys_carry_no_mfa_key(server, iam):
    # IAM User Guide, aws:MultiFactorAuthPresent: "This key is not present when an API or CLI command is
    # called with long-term credentials, such as access key pairs" — so a Bool test on it fails, and an
    # IfExists one holds (readings A1).
    frank, _ = user_with_key(server, iam, "frank")
    iam.put_user_policy(UserName="frank", PolicyName="mfa", PolicyDocument=policy(
        allow("iam:GetUser", Condition={"Bool": {"aws:MultiFactorAuthPresent": "false"}}),
        allow("iam:ListUserTags", Condition={"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}})))
    with pytest.raises(ClientError) as e:
        frank.get_user(UserName="frank")
    assert error_of(e)[0] == "AccessDenied"
    assert frank.list_user_tags(UserName="frank")["Tags"] == []
    logged = server.decisions()[-1]
    assert logged["decision"] == "allow" and "aws:MultiFactorAuthPresent" not in logged["context"]


def test_simulate_principal_policy_includes_the_accounts_scps(server):
    # IAM API Reference, EvaluationResult.OrganizationsDecisionDetail: it "only applies if the simulated
    # user's account is part of an organization". The sandbox's SandboxGuardrails SCP denies iam:Create*.
    sandbox = next(a for a in server.imported["Accounts"] if a["AccountId"] == "333333333333")
    root = server.client("iam", sandbox["AccessKey"]["AccessKeyId"], sandbox["AccessKey"]["SecretAccessKey"])
    results = root.simulate_principal_policy(
        PolicySourceArn="arn:aws:iam::333333333333:user/dev-dana", ActionNames=["s3:GetObject", "iam:CreateUser"],
        PolicyInputList=[policy(allow("iam:*"))],
        ContextEntries=[{"ContextKeyName": "aws:RequestedRegion", "ContextKeyValues": ["eu-west-1"],
                         "ContextKeyType": "string"}])["EvaluationResults"]
    by_action = {r["EvalActionName"]: r for r in results}
    assert by_action["s3:GetObject"]["EvalDecision"] == "allowed"
    assert by_action["s3:GetObject"]["OrganizationsDecisionDetail"] == {"AllowedByOrganizations": True}
    assert by_action["iam:CreateUser"]["EvalDecision"] == "explicitDeny"
    assert by_action["iam:CreateUser"]["OrganizationsDecisionDetail"] == {"AllowedByOrganizations": False}


def test_change_password_and_provider_tags(server, iam):
    iam.update_account_password_policy(MinimumPasswordLength=8, AllowUsersToChangePassword=True)
    iam.create_user(UserName="changer")
    iam.create_login_profile(UserName="changer", Password="first-password-1")
    key = iam.create_access_key(UserName="changer")["AccessKey"]
    changer = server.client("iam", key["AccessKeyId"], key["SecretAccessKey"])
    iam.put_user_policy(UserName="changer", PolicyName="pw", PolicyDocument=policy(allow("iam:ChangePassword")))
    with pytest.raises(ClientError) as e:
        changer.change_password(OldPassword="wrong-password-1", NewPassword="second-password-2")
    assert error_of(e)[0] == "InvalidInput" and "wrong-password" not in error_of(e)[1]
    changer.change_password(OldPassword="first-password-1", NewPassword="second-password-2")
    with pytest.raises(ClientError) as e:
        changer.change_password(OldPassword="first-password-1", NewPassword="third-password-3")
    assert error_of(e)[0] == "InvalidInput"          # the old one no longer matches
    iam.delete_account_password_policy()
    arn = iam.create_open_id_connect_provider(Url="https://tags.example.com", ThumbprintList=["b" * 40],
                                              Tags=[{"Key": "a", "Value": "1"}])["OpenIDConnectProviderArn"]
    iam.tag_open_id_connect_provider(OpenIDConnectProviderArn=arn, Tags=[{"Key": "b", "Value": "2"}])
    iam.untag_open_id_connect_provider(OpenIDConnectProviderArn=arn, TagKeys=["a"])
    assert iam.list_open_id_connect_provider_tags(OpenIDConnectProviderArn=arn)["Tags"] == [{"Key": "b", "Value": "2"}]


def test_wrong_types_and_unknown_versions_are_aws_errors(server):
    loose = server.client(validate=False)
    with pytest.raises(ClientError) as e:
        loose.list_users(MaxItems="many")
    assert error_of(e)[:1] == ("ValidationError",) and "Member must be of type integer" in error_of(e)[1]
    with pytest.raises(ClientError) as e:
        loose.update_access_key(AccessKeyId="AKIAXXXXXXXXXXXXXXXX", Status="Sleeping")
    assert error_of(e)[0] == "ValidationError" and "enum value set: [Active, Inactive" in error_of(e)[1]


def test_rcps_do_not_govern_iam_calls(server, tmp_path):
    # AWS Organizations User Guide, "Resource control policies": RCPs apply to the listed services only
    # (S3, STS, KMS, SQS, Secrets Manager, …) — not IAM. An RCP denying everything leaves IAM calls to the
    # identity policies and SCPs (readings A6).
    account = "444455556666"
    (tmp_path / "authorization").mkdir()
    (tmp_path / "authorization" / f"{account}.json").write_text(json.dumps({
        "UserDetailList": [], "GroupDetailList": [], "RoleDetailList": [], "Policies": []}))
    everything = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    (tmp_path / "organization.json").write_text(json.dumps({
        "id": "o-rcptest0001", "management_account": "999999999999",
        "scps": {"Full": everything},
        "rcps": {"RCPFull": {"Version": "2012-10-17", "Statement": [
                     {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]},
                 "DenyAll": {"Version": "2012-10-17", "Statement": [
                     {"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}]}},
        "root": {"id": "r-rcp1", "name": "Root", "scps": ["Full"], "rcps": ["RCPFull", "DenyAll"],
                 "children": [{"account": account, "name": "member", "scps": ["Full"], "rcps": ["RCPFull"]}]}}))
    from service_harness import iamlogic
    imported = json.loads(iamlogic("account", "import", "--db", str(server.db), str(tmp_path)).stdout)
    key = imported["Accounts"][0]["AccessKey"]
    root = server.client("iam", key["AccessKeyId"], key["SecretAccessKey"])
    assert root.create_user(UserName="made-under-an-rcp")["User"]["Arn"] == f"arn:aws:iam::{account}:user/made-under-an-rcp"


def test_commands_refuse_bad_input_in_one_line(tmp_path):
    from service_harness import iamlogic
    done = iamlogic("account", "create", "--db", str(tmp_path / "missing" / "x.db"), check=False)
    assert done.returncode == 1 and "cannot open the database" in done.stderr and "Traceback" not in done.stderr
    done = iamlogic("account", "create", "--db", str(tmp_path / "x.db"), "--account-id", "12", check=False)
    assert done.returncode == 1 and "is not 12 digits" in done.stderr   # bad usage: ExitCode.TOOL_ERROR
    done = iamlogic("account", "import", "--db", str(tmp_path / "x.db"), str(tmp_path), check=False)
    assert done.returncode == 1 and "no authorization/*.json" in done.stderr and "Traceback" not in done.stderr


def test_account_summary_and_the_credentials_never_issued(iam):
    before = iam.get_account_summary()["SummaryMap"]
    iam.create_group(GroupName="counted")
    after = iam.get_account_summary()["SummaryMap"]
    assert after["Groups"] == before["Groups"] + 1 and after["AccessKeysPerUserQuota"] == 2
    assert after["AccountAccessKeysPresent"] == 1        # the root user's key
    iam.create_user(UserName="no-certs")
    assert iam.list_ssh_public_keys(UserName="no-certs")["SSHPublicKeys"] == []
    assert iam.list_signing_certificates(UserName="no-certs")["Certificates"] == []
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.list_service_specific_credentials(UserName="nobody-at-all")


def test_every_operation_answers_garbage_with_an_aws_error_not_a_500(server):
    # "Malformed forms, unknown Action, wrong types …: AWS's error, never a traceback or a 500" — every
    # registered operation, each member set to a value of no use (x…; lists and structures one deep).
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    from service_harness import ROOT_KEY, ROOT_SECRET

    import iamlogic.service.operations  # noqa: F401 - registers every operation
    from iamlogic.service import protocol
    from iamlogic.service.registry import OPERATIONS

    def junk(shape) -> str:
        """'x', as long as the member's length constraint asks (so it reaches the handler)."""
        return "x" * max(1, shape.metadata.get("min", 1))

    session = requests.Session()
    failures = []
    for (service, name), _ in sorted(OPERATIONS.items()):
        model = protocol.operation_model(service, name)
        form = {"Action": name, "Version": "2010-05-08" if service == "iam" else "2011-06-15"}
        for member, shape in (model.input_shape.members.items() if model.input_shape else ()):
            if shape.type_name == "list":
                inner = shape.member
                if inner.type_name == "structure":
                    form.update({f"{member}.member.1.{m}": junk(t) for m, t in inner.members.items()})
                else:
                    form[f"{member}.member.1"] = junk(inner)
            elif shape.type_name == "structure":
                form.update({f"{member}.{m}": junk(t) for m, t in shape.members.items()})
            else:
                form[member] = junk(shape)
        req = AWSRequest("POST", server.url + "/", data=form,
                         headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
        SigV4Auth(Credentials(ROOT_KEY, ROOT_SECRET), service, "us-east-1").add_auth(req)
        prepared = req.prepare()
        r = session.post(prepared.url, data=prepared.body, headers=dict(prepared.headers), timeout=10)
        if r.status_code >= 500 or "<ErrorResponse" not in r.text and r.status_code != 200:
            failures.append((name, r.status_code, r.text[:160]))
    assert not failures


def test_callers_in_an_imported_organization_carry_its_id_and_path(server):
    # IAM User Guide, global condition keys: aws:PrincipalOrgID, the organization's id; aws:PrincipalOrgPaths,
    # o-id/r-id/ou-id/ for the account's place in the tree (examples/organization: the Sandbox OU).
    sandbox = next(a for a in server.imported["Accounts"] if a["AccountId"] == "333333333333")
    root = server.client("iam", sandbox["AccessKey"]["AccessKeyId"], sandbox["AccessKey"]["SecretAccessKey"])
    response = root.list_roles(MaxItems=1)
    logged = server.wait_for_decision(response["ResponseMetadata"]["RequestId"])
    assert logged["context"]["aws:PrincipalOrgID"] == "o-exampleorg1"
    assert logged["context"]["aws:PrincipalOrgPaths"] == ["o-exampleorg1/r-ex01/ou-ex01-sandbox/"]


def test_serve_without_the_service_extra_names_it(capsys, monkeypatch, tmp_path):
    import sys

    from conftest import cli
    monkeypatch.setitem(sys.modules, "uvicorn", None)      # as if not installed
    code, _, err = cli(capsys, "serve", "--db", tmp_path / "x.db")
    assert code == 1 and "pip install 'iamlogic[service]'" in err


def test_allow_users_to_change_password_grants_their_own_change(server, iam):
    """IAM API Reference, PasswordPolicy.AllowUsersToChangePassword: it gives
    IAM users iam:ChangePassword for only their own user and
    iam:GetAccountPasswordPolicy, account-wide (readings S13). A user with no
    policy of its own was denied both; another user's password stays theirs."""
    iam.update_account_password_policy(MinimumPasswordLength=8, AllowUsersToChangePassword=True)
    iam.create_user(UserName="selfserve")
    iam.create_login_profile(UserName="selfserve", Password="first-password-1")
    key = iam.create_access_key(UserName="selfserve")["AccessKey"]
    user = server.client("iam", key["AccessKeyId"], key["SecretAccessKey"])
    assert user.get_account_password_policy()["PasswordPolicy"]["AllowUsersToChangePassword"] is True
    user.change_password(OldPassword="first-password-1", NewPassword="second-password-2")
    with pytest.raises(ClientError) as e:                 # the grant is for their own user only
        user.update_login_profile(UserName="selfserve", Password="third-password-3")
    assert error_of(e)[0] == "AccessDenied"
    iam.update_account_password_policy(MinimumPasswordLength=8, AllowUsersToChangePassword=False)
    with pytest.raises(ClientError) as e:
        user.get_account_password_policy()
    assert error_of(e)[0] == "AccessDenied"
    iam.delete_account_password_policy()


def test_tag_keys_are_one_key_in_any_case(iam):
    """IAM's tag keys are case-insensitive ("Duplicate tag keys found. Please
    note that Tag keys are case insensitive."): team and Team in one call
    are that error (it was "ARN … is not valid."), and tagging Team on a user
    that holds team replaces its value rather than holding both."""
    iam.create_user(UserName="cased2")
    for call in (lambda: iam.create_user(UserName="cased", Tags=[{"Key": "team", "Value": "a"},
                                                                   {"Key": "Team", "Value": "b"}]),
                 lambda: iam.tag_user(UserName="cased2", Tags=[{"Key": "k", "Value": "1"}, {"Key": "K", "Value": "2"}])):
        with pytest.raises(ClientError) as e:
            call()
        assert error_of(e) == ("InvalidInput", "Duplicate tag keys found. Please note that Tag keys are case "
                               "insensitive.", 400)
    iam.tag_user(UserName="cased2", Tags=[{"Key": "team", "Value": "a"}])
    iam.tag_user(UserName="cased2", Tags=[{"Key": "Team", "Value": "b"}])
    assert iam.list_user_tags(UserName="cased2")["Tags"] == [{"Key": "team", "Value": "b"}]
    iam.untag_user(UserName="cased2", TagKeys=["TEAM"])
    assert iam.list_user_tags(UserName="cased2")["Tags"] == []
    iam.delete_user(UserName="cased2")
