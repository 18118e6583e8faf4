"""The conformance suite's operations one by one: each on its success path
and its error path, over HTTP against a real ``iamlogic serve`` process
(tests/service_harness.py), asserting AWS's shapes, codes and statuses (IAM
API Reference, each operation's page and Errors; STS API Reference).

``test_every_registered_operation_is_driven_on_both_paths`` makes the
coverage checkable: it reads the operation registry and the test modules
of the service suite, and fails when an operation is called by no test on
its success path or inside no ``pytest.raises`` (its error path)."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import botocore.exceptions
import pytest
import requests
from service_harness import ACCOUNT, Server, allow, deny, error_of, iamlogic, policy

ClientError = botocore.exceptions.ClientError
HERE = Path(__file__).resolve().parent
TRUST = policy({"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"})
# SAMLMetadataDocument is 1,000 to 10,000,000 characters (botocore's model, SAMLMetadataDocumentType).
SAML_A = "<EntityDescriptor>" + "a" * 1000 + "</EntityDescriptor>"
SAML_B = "<EntityDescriptor>" + "b" * 1000 + "</EntityDescriptor>"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with Server(tmp_path_factory.mktemp("conformance")) as s:
        yield s


@pytest.fixture(scope="module")
def iam(server):
    return server.client("iam")


@pytest.fixture(scope="module")
def loose(server):
    """A client that sends what botocore's own validation would refuse, so the server's answers."""
    return server.client(validate=False)


def user_client(server, iam, name: str, *statements: dict):
    iam.create_user(UserName=name)
    if statements:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=policy(*statements))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return server.client("iam", key["AccessKeyId"], key["SecretAccessKey"]), key


# ------------------------------------------------------------------ groups and roles

def test_update_group(iam):
    # IAM API Reference, UpdateGroup: renames a group and/or moves it to a new path; members and policies stay.
    iam.create_group(GroupName="ops")
    iam.create_user(UserName="ops-member")
    iam.add_user_to_group(GroupName="ops", UserName="ops-member")
    iam.put_group_policy(GroupName="ops", PolicyName="p", PolicyDocument=policy(allow("s3:GetObject")))
    iam.update_group(GroupName="ops", NewGroupName="operations", NewPath="/teams/")
    got = iam.get_group(GroupName="operations")
    assert got["Group"]["Arn"] == f"arn:aws:iam::{ACCOUNT}:group/teams/operations"
    assert [u["UserName"] for u in got["Users"]] == ["ops-member"]
    assert iam.list_group_policies(GroupName="operations")["PolicyNames"] == ["p"]
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName="ops-member")["Groups"]] == ["operations"]
    with pytest.raises(ClientError) as e:
        iam.get_group(GroupName="ops")
    assert error_of(e) == ("NoSuchEntity", "The group with name ops cannot be found.", 404)


def test_update_group_errors(iam):
    iam.create_group(GroupName="first")
    iam.create_group(GroupName="second")
    with pytest.raises(ClientError) as e:
        iam.update_group(GroupName="first", NewGroupName="SECOND")      # names are unique without case
    assert error_of(e) == ("EntityAlreadyExists", "Group with name SECOND already exists.", 409)
    with pytest.raises(ClientError) as e:
        iam.update_group(GroupName="no-such-group", NewGroupName="x")
    assert error_of(e) == ("NoSuchEntity", "The group with name no-such-group cannot be found.", 404)


def test_update_role_and_its_description(iam):
    iam.create_role(RoleName="updatable", AssumeRolePolicyDocument=TRUST)
    assert iam.get_role(RoleName="updatable")["Role"]["MaxSessionDuration"] == 3600   # the default
    iam.update_role(RoleName="updatable", Description="first words", MaxSessionDuration=43200)
    role = iam.get_role(RoleName="updatable")["Role"]
    assert (role["Description"], role["MaxSessionDuration"]) == ("first words", 43200)
    # UpdateRoleDescription answers the updated Role (its output shape), UpdateRole nothing.
    out = iam.update_role_description(RoleName="updatable", Description="second words")
    assert out["Role"]["RoleName"] == "updatable" and out["Role"]["Description"] == "second words"
    assert out["Role"]["MaxSessionDuration"] == 43200
    assert iam.get_role(RoleName="updatable")["Role"]["Description"] == "second words"


def test_update_role_errors(iam, loose):
    iam.create_role(RoleName="bounded-session", AssumeRolePolicyDocument=TRUST)
    # IAM API Reference, UpdateRole, MaxSessionDuration: "from 1 hour to 12 hours" (3600 to 43200 seconds).
    for seconds in (3599, 43201):
        with pytest.raises(ClientError) as e:
            loose.update_role(RoleName="bounded-session", MaxSessionDuration=seconds)
        code, message, status = error_of(e)
        assert (code, status) == ("ValidationError", 400) and "maxSessionDuration" in message
    assert iam.get_role(RoleName="bounded-session")["Role"]["MaxSessionDuration"] == 3600   # unchanged
    with pytest.raises(ClientError) as e:
        iam.update_role(RoleName="no-such-role", Description="x")
    assert error_of(e) == ("NoSuchEntity", "The role with name no-such-role cannot be found.", 404)
    with pytest.raises(ClientError) as e:
        iam.update_role_description(RoleName="no-such-role", Description="x")
    assert error_of(e) == ("NoSuchEntity", "The role with name no-such-role cannot be found.", 404)


# ------------------------------------------------------------------ ListEntitiesForPolicy

def test_list_entities_for_policy_and_its_filters(iam):
    arn = iam.create_policy(PolicyName="shared", PolicyDocument=policy(allow("s3:GetObject")))["Policy"]["Arn"]
    iam.create_user(UserName="le-user", Path="/le/")
    iam.create_group(GroupName="le-group")
    iam.create_role(RoleName="le-role", AssumeRolePolicyDocument=TRUST)
    iam.create_user(UserName="le-bounded", PermissionsBoundary=arn)
    iam.attach_user_policy(UserName="le-user", PolicyArn=arn)
    iam.attach_group_policy(GroupName="le-group", PolicyArn=arn)
    iam.attach_role_policy(RoleName="le-role", PolicyArn=arn)
    ids = {u["UserName"]: u["UserId"] for u in iam.list_users()["Users"]}

    every = iam.list_entities_for_policy(PolicyArn=arn)
    assert every["PolicyUsers"] == [{"UserName": "le-bounded", "UserId": ids["le-bounded"]},
                                    {"UserName": "le-user", "UserId": ids["le-user"]}]
    assert [g["GroupName"] for g in every["PolicyGroups"]] == ["le-group"]
    assert [r["RoleName"] for r in every["PolicyRoles"]] == ["le-role"]
    assert every["IsTruncated"] is False
    # EntityFilter: only that kind is listed.
    only_roles = iam.list_entities_for_policy(PolicyArn=arn, EntityFilter="Role")
    assert (only_roles["PolicyUsers"], only_roles["PolicyGroups"]) == ([], [])
    assert [r["RoleName"] for r in only_roles["PolicyRoles"]] == ["le-role"]
    only_users = iam.list_entities_for_policy(PolicyArn=arn, EntityFilter="User")
    assert [u["UserName"] for u in only_users["PolicyUsers"]] == ["le-bounded", "le-user"]
    assert (only_users["PolicyGroups"], only_users["PolicyRoles"]) == ([], [])
    # PolicyUsageFilter: attached (PermissionsPolicy) or as a permissions boundary.
    attached = iam.list_entities_for_policy(PolicyArn=arn, PolicyUsageFilter="PermissionsPolicy")
    assert [u["UserName"] for u in attached["PolicyUsers"]] == ["le-user"]
    bounded = iam.list_entities_for_policy(PolicyArn=arn, PolicyUsageFilter="PermissionsBoundary")
    assert [u["UserName"] for u in bounded["PolicyUsers"]] == ["le-bounded"] and bounded["PolicyRoles"] == []
    # PathPrefix
    assert [u["UserName"] for u in iam.list_entities_for_policy(PolicyArn=arn, PathPrefix="/le/")["PolicyUsers"]] \
        == ["le-user"]
    iam.detach_role_policy(RoleName="le-role", PolicyArn=arn)
    assert iam.list_entities_for_policy(PolicyArn=arn, EntityFilter="Role")["PolicyRoles"] == []


def test_list_entities_for_policy_errors(iam, loose):
    missing = f"arn:aws:iam::{ACCOUNT}:policy/none-such"
    with pytest.raises(ClientError) as e:
        iam.list_entities_for_policy(PolicyArn=missing)
    assert error_of(e) == ("NoSuchEntity", f"Policy {missing} was not found.", 404)
    arn = iam.create_policy(PolicyName="filtered", PolicyDocument=policy(allow("s3:GetObject")))["Policy"]["Arn"]
    with pytest.raises(ClientError) as e:
        loose.list_entities_for_policy(PolicyArn=arn, EntityFilter="Robot")
    code, message, status = error_of(e)
    assert (code, status) == ("ValidationError", 400) and "Member must satisfy enum value set" in message


# ------------------------------------------------------------------ access keys

def test_get_access_key_last_used(server, iam):
    client, key = user_client(server, iam, "last-used", allow("iam:GetAccessKeyLastUsed"))
    out = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])
    assert out["UserName"] == "last-used"
    assert out["AccessKeyLastUsed"]["ServiceName"] == "N/A" and out["AccessKeyLastUsed"]["Region"] == "N/A"
    assert client.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])["UserName"] == "last-used"


def test_get_access_key_last_used_errors(server, iam):
    with pytest.raises(ClientError) as e:
        iam.get_access_key_last_used(AccessKeyId="AKIANOSUCHKEY0000000")
    assert error_of(e) == ("NoSuchEntity", "The Access Key with id AKIANOSUCHKEY0000000 cannot be found.", 404)
    # Authorized on the key's user (Service Authorization Reference, IAM: GetAccessKeyLastUsed, resource user):
    # a policy allowing it on one user's ARN does not open another user's keys.
    iam.create_user(UserName="other-keys")
    other = iam.create_access_key(UserName="other-keys")["AccessKey"]
    client, key = user_client(server, iam, "own-keys-only",
                              allow("iam:GetAccessKeyLastUsed", f"arn:aws:iam::{ACCOUNT}:user/own-keys-only"))
    assert client.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])["UserName"] == "own-keys-only"
    with pytest.raises(ClientError) as e:
        client.get_access_key_last_used(AccessKeyId=other["AccessKeyId"])
    code, message, status = error_of(e)
    assert (code, status) == ("AccessDenied", 403)
    assert message == (f"User: arn:aws:iam::{ACCOUNT}:user/own-keys-only is not authorized to perform: "
                       f"iam:GetAccessKeyLastUsed on resource: arn:aws:iam::{ACCOUNT}:user/other-keys because no "
                       "identity-based policy allows the iam:GetAccessKeyLastUsed action")


# ------------------------------------------------------------------ SAML and OIDC providers

def test_saml_provider_get_and_update(iam):
    arn = iam.create_saml_provider(Name="corp-idp", SAMLMetadataDocument=SAML_A)["SAMLProviderArn"]
    assert arn == f"arn:aws:iam::{ACCOUNT}:saml-provider/corp-idp"
    got = iam.get_saml_provider(SAMLProviderArn=arn)
    assert got["SAMLMetadataDocument"] == SAML_A and got["CreateDate"]
    assert iam.update_saml_provider(SAMLProviderArn=arn, SAMLMetadataDocument=SAML_B)["SAMLProviderArn"] == arn
    assert iam.get_saml_provider(SAMLProviderArn=arn)["SAMLMetadataDocument"] == SAML_B


def test_saml_provider_errors(iam, loose):
    missing = f"arn:aws:iam::{ACCOUNT}:saml-provider/nobody"
    with pytest.raises(ClientError) as e:
        iam.get_saml_provider(SAMLProviderArn=missing)
    assert error_of(e) == ("NoSuchEntity", f"SAMLProvider not found for arn {missing}", 404)
    with pytest.raises(ClientError) as e:
        iam.update_saml_provider(SAMLProviderArn=missing, SAMLMetadataDocument=SAML_B)
    assert error_of(e) == ("NoSuchEntity", f"SAMLProvider not found for arn {missing}", 404)
    arn = iam.create_saml_provider(Name="short-doc", SAMLMetadataDocument=SAML_A)["SAMLProviderArn"]
    with pytest.raises(ClientError) as e:
        loose.update_saml_provider(SAMLProviderArn=arn, SAMLMetadataDocument="<too-short/>")
    code, message, status = error_of(e)
    assert (code, status) == ("ValidationError", 400) and "MetadataDocument' failed to satisfy constraint: Member " \
        "must have length greater than or equal to 1000" in message
    assert iam.get_saml_provider(SAMLProviderArn=arn)["SAMLMetadataDocument"] == SAML_A
    with pytest.raises(ClientError) as e:
        iam.create_saml_provider(Name="short-doc", SAMLMetadataDocument=SAML_A)
    assert error_of(e)[0::2] == ("EntityAlreadyExists", 409)


def test_saml_provider_tags(iam):
    arn = iam.create_saml_provider(Name="tagged-idp", SAMLMetadataDocument=SAML_A,
                                   Tags=[{"Key": "a", "Value": "1"}])["SAMLProviderArn"]
    iam.tag_saml_provider(SAMLProviderArn=arn, Tags=[{"Key": "b", "Value": "2"}])
    iam.untag_saml_provider(SAMLProviderArn=arn, TagKeys=["a"])
    assert iam.list_saml_provider_tags(SAMLProviderArn=arn)["Tags"] == [{"Key": "b", "Value": "2"}]


def test_oidc_client_ids_and_thumbprints(iam):
    arn = iam.create_open_id_connect_provider(Url="https://id.example.com/tenant", ClientIDList=["app-1"],
                                              ThumbprintList=["a" * 40])["OpenIDConnectProviderArn"]
    iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="app-2")
    iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="app-2")   # no change
    assert iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)["ClientIDList"] == ["app-1", "app-2"]
    iam.remove_client_id_from_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="app-1")
    # Idempotent: removing a client ID the provider does not have succeeds (IAM API Reference).
    iam.remove_client_id_from_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="never-there")
    assert iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)["ClientIDList"] == ["app-2"]
    # The new list replaces the old one.
    iam.update_open_id_connect_provider_thumbprint(OpenIDConnectProviderArn=arn,
                                                   ThumbprintList=["b" * 40, "c" * 40])
    assert iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)["ThumbprintList"] == ["b" * 40, "c" * 40]


def test_oidc_provider_errors(iam, loose):
    arn = iam.create_open_id_connect_provider(Url="https://limits.example.com",
                                              ThumbprintList=["a" * 40])["OpenIDConnectProviderArn"]
    # A thumbprint is 40 characters (botocore's model, thumbprintType).
    with pytest.raises(ClientError) as e:
        loose.update_open_id_connect_provider_thumbprint(OpenIDConnectProviderArn=arn, ThumbprintList=["short"])
    assert error_of(e)[0::2] == ("ValidationError", 400)
    with pytest.raises(ClientError) as e:
        iam.update_open_id_connect_provider_thumbprint(OpenIDConnectProviderArn=arn,
                                                       ThumbprintList=[str(i) * 40 for i in range(6)])
    assert error_of(e) == ("InvalidInput", "Thumbprint list must contain at most 5 thumbprints.", 400)
    assert iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)["ThumbprintList"] == ["a" * 40]
    with pytest.raises(ClientError) as e:
        iam.create_open_id_connect_provider(Url="http://not-https.example.com", ThumbprintList=["a" * 40])
    assert error_of(e) == ("InvalidInput", "Invalid Open ID Connect Provider URL", 400)


def test_provider_operations_are_authorized_by_the_kernel(server, iam):
    arn = iam.create_open_id_connect_provider(Url="https://guarded.example.com",
                                              ThumbprintList=["a" * 40])["OpenIDConnectProviderArn"]
    client, _ = user_client(server, iam, "oidc-admin", allow("iam:AddClientIDToOpenIDConnectProvider", arn),
                            deny("iam:RemoveClientIDFromOpenIDConnectProvider"))
    client.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="allowed")
    with pytest.raises(ClientError) as e:
        client.remove_client_id_from_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="allowed")
    assert error_of(e) == ("AccessDenied", f"User: arn:aws:iam::{ACCOUNT}:user/oidc-admin is not authorized to "
                           f"perform: iam:RemoveClientIDFromOpenIDConnectProvider on resource: {arn} with an "
                           "explicit deny in an identity-based policy", 403)
    with pytest.raises(ClientError) as e:
        client.update_open_id_connect_provider_thumbprint(OpenIDConnectProviderArn=arn, ThumbprintList=["b" * 40])
    assert error_of(e)[0] == "AccessDenied"
    assert iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)["ClientIDList"] == ["allowed"]


def test_client_id_limit(iam):
    # IAM quotas: "Client IDs per OpenID Connect provider: 100".
    arn = iam.create_open_id_connect_provider(Url="https://many.example.com", ClientIDList=[f"c{i}" for i in range(100)],
                                              ThumbprintList=["a" * 40])["OpenIDConnectProviderArn"]
    with pytest.raises(ClientError) as e:
        iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="one-too-many")
    assert error_of(e)[0::2] == ("LimitExceeded", 409)


# ------------------------------------------------------------------ policies, instance profiles: tags

def test_policy_and_instance_profile_tags(iam):
    arn = iam.create_policy(PolicyName="tagged-policy", PolicyDocument=policy(allow("s3:GetObject")),
                            Tags=[{"Key": "a", "Value": "1"}])["Policy"]["Arn"]
    iam.tag_policy(PolicyArn=arn, Tags=[{"Key": "b", "Value": "2"}])
    iam.untag_policy(PolicyArn=arn, TagKeys=["a"])
    assert iam.list_policy_tags(PolicyArn=arn)["Tags"] == [{"Key": "b", "Value": "2"}]
    assert iam.get_policy(PolicyArn=arn)["Policy"]["Tags"] == [{"Key": "b", "Value": "2"}]
    iam.create_instance_profile(InstanceProfileName="tagged-profile", Tags=[{"Key": "x", "Value": "1"}])
    iam.tag_instance_profile(InstanceProfileName="tagged-profile", Tags=[{"Key": "y", "Value": "2"}])
    iam.untag_instance_profile(InstanceProfileName="tagged-profile", TagKeys=["x"])
    assert iam.list_instance_profile_tags(InstanceProfileName="tagged-profile")["Tags"] == [{"Key": "y", "Value": "2"}]


def test_instance_profile_tag_errors(iam):
    iam.create_instance_profile(InstanceProfileName="dup-tags")
    with pytest.raises(ClientError) as e:
        iam.tag_instance_profile(InstanceProfileName="dup-tags", Tags=[{"Key": "k", "Value": "1"},
                                                                       {"Key": "k", "Value": "2"}])
    assert error_of(e)[0::2] == ("InvalidInput", 400)


# ------------------------------------------------------------------ simulator: context keys

def test_get_context_keys_for_custom_policy(iam):
    doc = policy(allow("s3:GetObject", Condition={"StringEquals": {"aws:PrincipalTag/team": "red"},
                                                  "IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}),
                 allow("s3:PutObject", Condition={"Bool": {"aws:SecureTransport": "true"}}))
    keys = iam.get_context_keys_for_custom_policy(PolicyInputList=[doc])["ContextKeyNames"]
    assert keys == ["aws:PrincipalTag/team", "aws:SecureTransport", "aws:SourceIp"]
    assert iam.get_context_keys_for_custom_policy(PolicyInputList=[policy(allow("s3:*"))])["ContextKeyNames"] == []


def test_get_context_keys_for_custom_policy_errors(iam):
    # The operation's only error is InvalidInput (IAM API Reference, GetContextKeysForCustomPolicy, Errors).
    with pytest.raises(ClientError) as e:
        iam.get_context_keys_for_custom_policy(PolicyInputList=["{not json"])
    assert error_of(e) == ("InvalidInput", "Syntax errors in policy.", 400)


# ------------------------------------------------------------------ login profiles

def test_update_login_profile(server, iam):
    iam.create_user(UserName="resetter")
    iam.create_login_profile(UserName="resetter", Password="Old-Pa55word!")
    iam.update_login_profile(UserName="resetter", Password="New-Pa55word!", PasswordResetRequired=True)
    assert iam.get_login_profile(UserName="resetter")["LoginProfile"]["PasswordResetRequired"] is True
    # The new password signs in, the old one no longer does (console sign-in, service/signin.py).
    form = {"account": ACCOUNT, "username": "resetter"}
    assert requests.post(server.url + "/signin", data={**form, "password": "Old-Pa55word!"}, timeout=10
                         ).status_code == 401
    assert requests.post(server.url + "/signin", data={**form, "password": "New-Pa55word!"}, timeout=10
                         ).status_code == 200
    iam.update_login_profile(UserName="resetter", PasswordResetRequired=False)     # the password stays
    assert iam.get_login_profile(UserName="resetter")["LoginProfile"]["PasswordResetRequired"] is False
    assert requests.post(server.url + "/signin", data={**form, "password": "New-Pa55word!"}, timeout=10
                         ).status_code == 200


def test_update_login_profile_errors(iam):
    iam.create_user(UserName="no-console")
    with pytest.raises(ClientError) as e:
        iam.update_login_profile(UserName="no-console", Password="Any-Pa55word!")
    assert error_of(e) == ("NoSuchEntity", "Login Profile for User no-console cannot be found.", 404)
    with pytest.raises(ClientError) as e:
        iam.update_login_profile(UserName="nobody-here", Password="Any-Pa55word!")
    assert error_of(e) == ("NoSuchEntity", "The user with name nobody-here cannot be found.", 404)
    iam.create_user(UserName="strict")
    iam.create_login_profile(UserName="strict", Password="Strict-Pa55word!")
    iam.update_account_password_policy(MinimumPasswordLength=20)
    try:
        with pytest.raises(ClientError) as e:
            iam.update_login_profile(UserName="strict", Password="Short-1!")
        assert error_of(e) == ("PasswordPolicyViolation", "Password should have a minimum length of 20", 400)
    finally:
        iam.delete_account_password_policy()


# ------------------------------------------------------------------ GetSessionToken's credentials on STS

def test_get_session_token_credentials_call_no_sts_operation_but_assume_role_and_get_caller_identity(server, iam):
    # STS API Reference, GetSessionToken: the credentials "cannot call any STS API except AssumeRole or
    # GetCallerIdentity" — whatever the policies allow (here everything).
    _, key = user_client(server, iam, "session-holder", allow("*"))
    creds = server.client("sts", key["AccessKeyId"], key["SecretAccessKey"]).get_session_token()["Credentials"]
    sts = server.client("sts", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
    assert sts.get_caller_identity()["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/session-holder"
    with pytest.raises(ClientError) as e:
        sts.get_access_key_info(AccessKeyId=key["AccessKeyId"])
    assert error_of(e) == ("AccessDenied", "Cannot call GetAccessKeyInfo with session credentials", 403)
    with pytest.raises(ClientError) as e:
        sts.get_federation_token(Name="guest")
    assert error_of(e) == ("AccessDenied", "Cannot call GetFederationToken with session credentials", 403)
    iam.create_role(RoleName="reachable", AssumeRolePolicyDocument=policy(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}))
    assert sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/reachable", RoleSessionName="s1")[
        "AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/reachable/s1"
    # the same user's long-term key may call GetAccessKeyInfo
    assert server.client("sts", key["AccessKeyId"], key["SecretAccessKey"]).get_access_key_info(
        AccessKeyId=key["AccessKeyId"])["Account"] == ACCOUNT


# ------------------------------------------------------------------ RCPs across accounts

def test_cross_account_assume_role_is_governed_by_the_roles_accounts_rcps(tmp_path_factory):
    # AWS Organizations User Guide, "Resource control policies": an RCP sets the maximum permissions on the
    # RESOURCES of the accounts it is attached to. A role in account B is governed by the RCPs above B, not
    # by those above the caller's account A (readings A7).
    folder = tmp_path_factory.mktemp("rcp-accounts")
    data = folder / "data"
    (data / "authorization").mkdir(parents=True)
    caller_account, role_account, open_account = "111100001111", "222200002222", "333300003333"
    for account in (caller_account, role_account, open_account):
        (data / "authorization" / f"{account}.json").write_text(json.dumps(
            {"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": [], "Policies": []}))
    everything = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    rcp_all = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*",
                                                        "Resource": "*"}]}
    deny_assume = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*",
                                                           "Action": "sts:AssumeRole", "Resource": "*"}]}
    (data / "organization.json").write_text(json.dumps({
        "id": "o-rcpcross001", "management_account": "999900009999",
        "scps": {"Full": everything}, "rcps": {"RCPFull": rcp_all, "NoAssume": deny_assume},
        "root": {"id": "r-x1", "name": "Root", "scps": ["Full"], "rcps": ["RCPFull"], "children": [
            {"account": caller_account, "name": "caller", "scps": ["Full"], "rcps": ["RCPFull", "NoAssume"]},
            {"account": role_account, "name": "guarded", "scps": ["Full"], "rcps": ["RCPFull", "NoAssume"]},
            {"account": open_account, "name": "open", "scps": ["Full"], "rcps": ["RCPFull"]}]}}))
    with Server(folder, import_folder=data) as s:
        keys = {a["AccountId"]: a["AccessKey"] for a in s.imported["Accounts"]}

        def root_of(account, service="iam"):
            return s.client(service, keys[account]["AccessKeyId"], keys[account]["SecretAccessKey"])

        for account in (role_account, open_account):
            root_of(account).create_role(RoleName="target", AssumeRolePolicyDocument=policy(
                {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{caller_account}:root"},
                 "Action": "sts:AssumeRole"}))
        home = root_of(caller_account)
        home.create_user(UserName="traveller")
        home.put_user_policy(UserName="traveller", PolicyName="p", PolicyDocument=policy(allow("sts:AssumeRole")))
        key = home.create_access_key(UserName="traveller")["AccessKey"]
        sts = s.client("sts", key["AccessKeyId"], key["SecretAccessKey"])
        # The caller's own account has the NoAssume RCP: it does not govern a role elsewhere.
        out = sts.assume_role(RoleArn=f"arn:aws:iam::{open_account}:role/target", RoleSessionName="ok")
        assert out["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{open_account}:assumed-role/target/ok"
        # The role's account has it: denied, and the message names the RCP.
        target = f"arn:aws:iam::{role_account}:role/target"
        with pytest.raises(ClientError) as e:
            sts.assume_role(RoleArn=target, RoleSessionName="no")
        assert error_of(e) == ("AccessDenied", f"User: arn:aws:iam::{caller_account}:user/traveller is not "
                               f"authorized to perform: sts:AssumeRole on resource: {target} with an explicit deny "
                               "in a resource control policy", 403)


# ------------------------------------------------------------------ error paths, table-driven

A = ACCOUNT
NO_USER = "The user with name ghost cannot be found."
NO_GROUP = "The group with name ghost cannot be found."
NO_ROLE = "The role with name ghost cannot be found."
NO_PROFILE = "The Instance Profile with name ghost cannot be found."
NO_POLICY = f"Policy arn:aws:iam::{A}:policy/ghost was not found."
NO_OIDC = f"OpenIDConnect Provider not found for arn arn:aws:iam::{A}:oidc-provider/ghost.example.com"
NO_SAML = f"SAMLProvider not found for arn arn:aws:iam::{A}:saml-provider/ghost"
DOC = policy(allow("s3:GetObject"))
OIDC = {"OpenIDConnectProviderArn": f"arn:aws:iam::{A}:oidc-provider/ghost.example.com"}
SAML = {"SAMLProviderArn": f"arn:aws:iam::{A}:saml-provider/ghost"}
TAG = {"Tags": [{"Key": "k", "Value": "v"}]}

# (operation, parameters, message): an entity that does not exist is NoSuchEntity, 404, in IAM's words
# (IAM API Reference, each operation's Errors: NoSuchEntity "The request was rejected because it referenced
# a resource entity that does not exist").
NOT_FOUND = [
    ("AddUserToGroup", {"GroupName": "ghost", "UserName": "ghost"}, NO_GROUP),
    ("AttachUserPolicy", {"UserName": "ghost", "PolicyArn": f"arn:aws:iam::{A}:policy/ghost"}, NO_USER),
    ("AttachRolePolicy", {"RoleName": "present-role", "PolicyArn": f"arn:aws:iam::{A}:policy/ghost"},
     f"Policy arn:aws:iam::{A}:policy/ghost does not exist or is not attachable."),
    ("DetachUserPolicy", {"UserName": "present-user", "PolicyArn": f"arn:aws:iam::{A}:policy/ghost"}, NO_POLICY),
    ("DetachGroupPolicy", {"GroupName": "ghost", "PolicyArn": f"arn:aws:iam::{A}:policy/ghost"}, NO_GROUP),
    ("DetachRolePolicy", {"RoleName": "ghost", "PolicyArn": f"arn:aws:iam::{A}:policy/ghost"}, NO_ROLE),
    ("ListAttachedUserPolicies", {"UserName": "ghost"}, NO_USER),
    ("ListAttachedGroupPolicies", {"GroupName": "ghost"}, NO_GROUP),
    ("ListAttachedRolePolicies", {"RoleName": "ghost"}, NO_ROLE),
    ("PutUserPolicy", {"UserName": "ghost", "PolicyName": "p", "PolicyDocument": DOC}, NO_USER),
    ("PutGroupPolicy", {"GroupName": "ghost", "PolicyName": "p", "PolicyDocument": DOC}, NO_GROUP),
    ("PutRolePolicy", {"RoleName": "ghost", "PolicyName": "p", "PolicyDocument": DOC}, NO_ROLE),
    ("GetUserPolicy", {"UserName": "present-user", "PolicyName": "ghost"},
     "The user policy with name ghost cannot be found."),
    ("GetRolePolicy", {"RoleName": "present-role", "PolicyName": "ghost"},
     "The role policy with name ghost cannot be found."),
    ("GetGroupPolicy", {"GroupName": "ghost", "PolicyName": "p"}, NO_GROUP),
    ("DeleteUserPolicy", {"UserName": "present-user", "PolicyName": "ghost"},
     "The user policy with name ghost cannot be found."),
    ("DeleteGroupPolicy", {"GroupName": "ghost", "PolicyName": "p"}, NO_GROUP),
    ("DeleteRolePolicy", {"RoleName": "present-role", "PolicyName": "ghost"},
     "The role policy with name ghost cannot be found."),
    ("ListUserPolicies", {"UserName": "ghost"}, NO_USER),
    ("ListGroupPolicies", {"GroupName": "ghost"}, NO_GROUP),
    ("ListRolePolicies", {"RoleName": "ghost"}, NO_ROLE),
    ("ListGroupsForUser", {"UserName": "ghost"}, NO_USER),
    ("RemoveUserFromGroup", {"GroupName": "present-group", "UserName": "present-user"},
     "The user with name present-user cannot be found in group present-group."),
    ("UpdateUser", {"UserName": "ghost", "NewUserName": "x"}, NO_USER),
    ("GetRole", {"RoleName": "ghost"}, NO_ROLE),
    ("TagRole", {"RoleName": "ghost", **TAG}, NO_ROLE),
    ("UntagRole", {"RoleName": "ghost", "TagKeys": ["k"]}, NO_ROLE),
    ("ListRoleTags", {"RoleName": "ghost"}, NO_ROLE),
    ("UntagUser", {"UserName": "ghost", "TagKeys": ["k"]}, NO_USER),
    ("ListUserTags", {"UserName": "ghost"}, NO_USER),
    ("PutUserPermissionsBoundary", {"UserName": "ghost", "PermissionsBoundary": f"arn:aws:iam::{A}:policy/ghost"},
     NO_USER),
    ("PutRolePermissionsBoundary", {"RoleName": "present-role",
                                    "PermissionsBoundary": f"arn:aws:iam::{A}:policy/ghost"},
     f"Policy arn:aws:iam::{A}:policy/ghost does not exist or is not attachable."),
    ("DeleteUserPermissionsBoundary", {"UserName": "ghost"}, NO_USER),
    ("DeleteRolePermissionsBoundary", {"RoleName": "ghost"}, NO_ROLE),
    ("GetPolicy", {"PolicyArn": f"arn:aws:iam::{A}:policy/ghost"}, NO_POLICY),
    ("GetPolicyVersion", {"PolicyArn": f"arn:aws:iam::{A}:policy/ghost", "VersionId": "v1"}, NO_POLICY),
    ("ListPolicyVersions", {"PolicyArn": f"arn:aws:iam::{A}:policy/ghost"}, NO_POLICY),
    ("SetDefaultPolicyVersion", {"PolicyArn": f"arn:aws:iam::{A}:policy/ghost", "VersionId": "v1"}, NO_POLICY),
    ("TagPolicy", {"PolicyArn": f"arn:aws:iam::{A}:policy/ghost", **TAG}, NO_POLICY),
    ("UntagPolicy", {"PolicyArn": f"arn:aws:iam::{A}:policy/ghost", "TagKeys": ["k"]}, NO_POLICY),
    ("ListPolicyTags", {"PolicyArn": f"arn:aws:iam::{A}:policy/ghost"}, NO_POLICY),
    ("GetInstanceProfile", {"InstanceProfileName": "ghost"}, NO_PROFILE),
    ("DeleteInstanceProfile", {"InstanceProfileName": "ghost"}, NO_PROFILE),
    ("RemoveRoleFromInstanceProfile", {"InstanceProfileName": "ghost", "RoleName": "present-role"}, NO_PROFILE),
    ("ListInstanceProfilesForRole", {"RoleName": "ghost"}, NO_ROLE),
    ("TagInstanceProfile", {"InstanceProfileName": "ghost", **TAG}, NO_PROFILE),
    ("UntagInstanceProfile", {"InstanceProfileName": "ghost", "TagKeys": ["k"]}, NO_PROFILE),
    ("ListInstanceProfileTags", {"InstanceProfileName": "ghost"}, NO_PROFILE),
    ("GetOpenIDConnectProvider", OIDC, NO_OIDC),
    ("DeleteOpenIDConnectProvider", OIDC, NO_OIDC),
    ("TagOpenIDConnectProvider", {**OIDC, **TAG}, NO_OIDC),
    ("UntagOpenIDConnectProvider", {**OIDC, "TagKeys": ["k"]}, NO_OIDC),
    ("ListOpenIDConnectProviderTags", OIDC, NO_OIDC),
    ("AddClientIDToOpenIDConnectProvider", {**OIDC, "ClientID": "x"}, NO_OIDC),
    ("RemoveClientIDFromOpenIDConnectProvider", {**OIDC, "ClientID": "x"}, NO_OIDC),
    ("UpdateOpenIDConnectProviderThumbprint", {**OIDC, "ThumbprintList": ["a" * 40]}, NO_OIDC),
    ("DeleteSAMLProvider", SAML, NO_SAML),
    ("TagSAMLProvider", {**SAML, **TAG}, NO_SAML),
    ("UntagSAMLProvider", {**SAML, "TagKeys": ["k"]}, NO_SAML),
    ("ListSAMLProviderTags", SAML, NO_SAML),
    ("DeleteAccessKey", {"UserName": "present-user", "AccessKeyId": "AKIAGHOSTKEY00000000"},
     "The Access Key with id AKIAGHOSTKEY00000000 cannot be found."),
    ("ListAccessKeys", {"UserName": "ghost"}, NO_USER),
    ("GetLoginProfile", {"UserName": "present-user"}, "Login Profile for User present-user cannot be found."),
    ("DeleteLoginProfile", {"UserName": "present-user"}, "Login Profile for User present-user cannot be found."),
    ("DeleteAccountAlias", {"AccountAlias": "ghost-alias"}, "The account alias ghost-alias cannot be found."),
    ("DeleteAccountPasswordPolicy", {}, f"The Password Policy with domain name {A} cannot be found."),
    ("DeactivateMFADevice", {"UserName": "present-user", "SerialNumber": f"arn:aws:iam::{A}:mfa/ghost"},
     f"VirtualMFADevice with serial arn:aws:iam::{A}:mfa/ghost doesn't exist."),
    ("ListMFADevices", {"UserName": "ghost"}, NO_USER),
    ("ListSSHPublicKeys", {"UserName": "ghost"}, NO_USER),
    ("ListSigningCertificates", {"UserName": "ghost"}, NO_USER),
    ("SimulatePrincipalPolicy", {"PolicySourceArn": f"arn:aws:iam::{A}:user/ghost", "ActionNames": ["s3:GetObject"]},
     f"Entity arn:aws:iam::{A}:user/ghost does not exist."),
    ("GetContextKeysForPrincipalPolicy", {"PolicySourceArn": f"arn:aws:iam::{A}:role/ghost"},
     f"Entity arn:aws:iam::{A}:role/ghost does not exist."),
]


@pytest.fixture(scope="module")
def present(iam):
    """The entities the NOT_FOUND cases name as present (their other name is the missing one)."""
    iam.create_user(UserName="present-user")
    iam.create_group(GroupName="present-group")
    iam.create_role(RoleName="present-role", AssumeRolePolicyDocument=TRUST)


@pytest.mark.parametrize("name, params, message", NOT_FOUND, ids=[c[0] for c in NOT_FOUND])
def test_an_entity_that_does_not_exist_is_no_such_entity(iam, present, name, params, message):
    from botocore import xform_name
    with pytest.raises(ClientError) as e:
        getattr(iam, xform_name(name))(**params)
    assert error_of(e) == ("NoSuchEntity", message, 404)


# Operations that name no entity: their error path is the kernel's denial, AccessDenied 403 in AWS's form,
# for a user no policy allows anything (SEMANTICS §1: no Allow, an implicit deny).
DENIED = [
    ("ListPolicies", {}), ("ListInstanceProfiles", {}), ("ListOpenIDConnectProviders", {}),
    ("ListServerCertificates", {}), ("ListSAMLProviders", {}), ("ListVirtualMFADevices", {}),
    ("ListAccountAliases", {}), ("GetAccountSummary", {}), ("GetAccountAuthorizationDetails", {}),
    ("UpdateAccountPasswordPolicy", {"MinimumPasswordLength": 12}), ("CreateAccountAlias", {"AccountAlias": "nope-alias"}),
    ("CreateGroup", {"GroupName": "denied-group"}), ("CreateRole", {"RoleName": "denied-role",
                                                                     "AssumeRolePolicyDocument": TRUST}),
    ("CreateInstanceProfile", {"InstanceProfileName": "denied-profile"}),
    ("SimulateCustomPolicy", {"PolicyInputList": [DOC], "ActionNames": ["s3:GetObject"]}),
    ("ListServiceSpecificCredentials", {}), ("ListSigningCertificates", {}), ("ListSSHPublicKeys", {}),
    ("ListMFADevices", {}), ("ListAccessKeys", {}), ("GetLoginProfile", {}),
    ("GetContextKeysForCustomPolicy", {"PolicyInputList": [DOC]}),
]


@pytest.fixture(scope="module")
def nobody(server, iam):
    client, _ = user_client(server, iam, "allowed-nothing")
    return client


@pytest.mark.parametrize("name, params", DENIED, ids=[c[0] for c in DENIED])
def test_a_call_no_policy_allows_is_access_denied(nobody, name, params):
    from botocore import xform_name
    with pytest.raises(ClientError) as e:
        getattr(nobody, xform_name(name))(**params)
    code, message, status = error_of(e)
    assert (code, status) == ("AccessDenied", 403)
    assert message.startswith(f"User: arn:aws:iam::{ACCOUNT}:user/allowed-nothing is not authorized to perform: "
                              f"iam:{name} on resource: ")
    assert message.endswith(f" because no identity-based policy allows the iam:{name} action")


# ------------------------------------------------------------------ success paths the other modules leave out

def test_role_policies_boundaries_and_profiles(iam):
    arn = iam.create_policy(PolicyName="role-kit", PolicyDocument=DOC)["Policy"]["Arn"]
    iam.create_role(RoleName="kit-role", AssumeRolePolicyDocument=TRUST)
    iam.put_role_policy(RoleName="kit-role", PolicyName="inline", PolicyDocument=DOC)
    assert iam.list_role_policies(RoleName="kit-role")["PolicyNames"] == ["inline"]
    assert iam.get_role_policy(RoleName="kit-role", PolicyName="inline")["PolicyDocument"]["Statement"][0][
        "Action"] == "s3:GetObject"
    iam.delete_role_policy(RoleName="kit-role", PolicyName="inline")
    assert iam.list_role_policies(RoleName="kit-role")["PolicyNames"] == []
    iam.attach_role_policy(RoleName="kit-role", PolicyArn=arn)
    assert iam.list_attached_role_policies(RoleName="kit-role")["AttachedPolicies"] == [
        {"PolicyName": "role-kit", "PolicyArn": arn}]
    iam.put_role_permissions_boundary(RoleName="kit-role", PermissionsBoundary=arn)
    assert iam.get_role(RoleName="kit-role")["Role"]["PermissionsBoundary"] == {
        "PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": arn}
    iam.delete_role_permissions_boundary(RoleName="kit-role")
    assert "PermissionsBoundary" not in iam.get_role(RoleName="kit-role")["Role"]
    iam.create_instance_profile(InstanceProfileName="kit-profile", Path="/kit/")
    iam.add_role_to_instance_profile(InstanceProfileName="kit-profile", RoleName="kit-role")
    got = iam.get_instance_profile(InstanceProfileName="kit-profile")["InstanceProfile"]
    assert got["Arn"] == f"arn:aws:iam::{ACCOUNT}:instance-profile/kit/kit-profile"
    assert [r["RoleName"] for r in got["Roles"]] == ["kit-role"]
    assert [p["InstanceProfileName"] for p in iam.list_instance_profiles(PathPrefix="/kit/")["InstanceProfiles"]] \
        == ["kit-profile"]
    assert [v["VersionId"] for v in iam.list_policy_versions(PolicyArn=arn)["Versions"]] == ["v1"]
    assert arn in [p["Arn"] for p in iam.list_policies(Scope="Local", OnlyAttached=True)["Policies"]]
    assert iam.list_server_certificates()["ServerCertificateMetadataList"] == []


def test_user_policies_success(iam):
    iam.create_user(UserName="kit-user")
    iam.put_user_policy(UserName="kit-user", PolicyName="inline", PolicyDocument=DOC)
    assert iam.list_user_policies(UserName="kit-user")["PolicyNames"] == ["inline"]
    assert iam.get_user_policy(UserName="kit-user", PolicyName="inline")["PolicyName"] == "inline"
    iam.delete_user_policy(UserName="kit-user", PolicyName="inline")
    assert iam.list_user_policies(UserName="kit-user")["PolicyNames"] == []
    arn = iam.create_policy(PolicyName="user-kit", PolicyDocument=DOC)["Policy"]["Arn"]
    iam.attach_user_policy(UserName="kit-user", PolicyArn=arn)
    iam.detach_user_policy(UserName="kit-user", PolicyArn=arn)
    assert iam.list_attached_user_policies(UserName="kit-user")["AttachedPolicies"] == []
    iam.delete_policy(PolicyArn=arn)
    with pytest.raises(ClientError) as e:
        iam.get_policy(PolicyArn=arn)
    assert error_of(e) == ("NoSuchEntity", f"Policy {arn} was not found.", 404)
    assert iam.list_service_specific_credentials(UserName="kit-user")["ServiceSpecificCredentials"] == []
    url = "https://listed.example.com"
    arn = iam.create_open_id_connect_provider(Url=url, ThumbprintList=["a" * 40])["OpenIDConnectProviderArn"]
    assert {"Arn": arn} in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]


# ------------------------------------------------------------------ coverage, checkable

# Operations driven on a path by a table-driven test whose calls the scan below cannot see.
TABLE_DRIVEN: dict[str, set[tuple[str, str]]] = {}
for _name, *_ in NOT_FOUND + DENIED:
    TABLE_DRIVEN.setdefault(_name, set()).add(("table", "error"))


def _service_test_modules() -> list[Path]:
    return sorted(HERE.glob("test_service_*.py"))


def _driven() -> dict[tuple[str, str], set[str]]:
    """(service, operation) → {"success", "error"}: a test (or a helper in a test module) calling the
    boto3 method outside / inside a ``pytest.raises`` block, or a paginator of it (success)."""
    from botocore import xform_name

    import iamlogic.service.operations  # noqa: F401 - registers every operation
    from iamlogic.service.registry import OPERATIONS
    by_method = {xform_name(name): (service, name) for service, name in OPERATIONS}
    out: dict[tuple[str, str], set[str]] = {}

    def walk(node, raising: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inside = raising
            if isinstance(child, ast.With):
                inside = raising or any(isinstance(i.context_expr, ast.Call)
                                        and isinstance(i.context_expr.func, ast.Attribute)
                                        and i.context_expr.func.attr == "raises" for i in child.items)
            if isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute):
                if child.func.attr in by_method:
                    out.setdefault(by_method[child.func.attr], set()).add("error" if raising else "success")
                if child.func.attr == "get_paginator" and child.args and isinstance(child.args[0], ast.Constant) \
                        and child.args[0].value in by_method:
                    out.setdefault(by_method[child.args[0].value], set()).add("success")
            walk(child, inside)

    for path in _service_test_modules():
        walk(ast.parse(path.read_text()), False)
    for name, paths in TABLE_DRIVEN.items():
        for service_path in paths:
            out.setdefault(("iam", name), set()).add(service_path[1])
    return out


# What is not yet driven on both paths: this list may only shrink (the test fails when an operation here
# becomes covered, so that it is taken off, and when a registered operation is missing and not listed).
NOT_YET_ON_BOTH_PATHS: set[str] = set()


def test_every_registered_operation_is_driven_on_both_paths():
    import iamlogic.service.operations  # noqa: F401
    from iamlogic.service.registry import OPERATIONS
    driven = _driven()
    gaps = {name for key in OPERATIONS for name in [key[1]] if driven.get(key, set()) != {"success", "error"}}
    assert not gaps - NOT_YET_ON_BOTH_PATHS, f"driven on one path or none: {sorted(gaps - NOT_YET_ON_BOTH_PATHS)}"
    assert not NOT_YET_ON_BOTH_PATHS - gaps, f"now covered, take off the list: {sorted(NOT_YET_ON_BOTH_PATHS - gaps)}"
