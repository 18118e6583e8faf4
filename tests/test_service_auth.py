"""Authentication and STS over HTTP: a real ``iamlogic serve`` process
(tests/service_harness.py) driven by boto3, the AWS CLI and plain HTTP.

Every authentication error with AWS's code, status and words (sources in
service/sigv4.py); AssumeRole needing the trust policy AND the caller's
permission (IAM User Guide, "Granting a user permissions to switch roles";
SEMANTICS §1.4); a session policy capping a role session (IAM User Guide,
"Session policies"); an MFA-gated statement opened by GetSessionToken with a
TOTP code (IAM User Guide, "Configuring MFA-protected API access"); the
console sign-in with and without MFA; and no secret in any log line.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import time
from pathlib import Path

import botocore.auth
import botocore.exceptions
import pytest
import requests
from service_harness import ACCOUNT, ROOT_SECRET, Server, allow, error_of, iamlogic, policy

from iamlogic.service import mfa

ClientError = botocore.exceptions.ClientError
INVALID = "The security token included in the request is invalid."      # STS's words
INVALID_IAM = "The security token included in the request is invalid"    # IAM's (aws/aws-cli#8918)
MISMATCH = ("The request signature we calculated does not match the signature you provided. Check your AWS Secret "
            "Access Key and signing method. Consult the service documentation for details.")
SECRETS: list[str] = [ROOT_SECRET]          # every secret the module handles; none may reach a log line


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with Server(tmp_path_factory.mktemp("auth")) as s:
        yield s


@pytest.fixture(scope="module")
def iam(server):
    return server.client("iam")


def user_with_key(server, iam, name: str, *statements: dict):
    iam.create_user(UserName=name)
    if statements:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=policy(*statements))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    SECRETS.append(key["SecretAccessKey"])
    return key


def session_clients(server, creds):
    SECRETS.extend([creds["SecretAccessKey"], creds["SessionToken"]])
    args = (creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
    return server.client("iam", *args), server.client("sts", *args)


def role_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


def trust(principal: str, **condition) -> str:
    st = {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": ["sts:AssumeRole", "sts:TagSession"]}
    if condition:
        st["Condition"] = condition
    return policy(st)


# ------------------------------------------------------------------ authentication errors

def test_unknown_key_is_invalid_client_token_id(server):
    with pytest.raises(ClientError) as e:
        server.client("sts", "AKIAUNKNOWNKEY000000", "x" * 40).get_caller_identity()
    assert error_of(e) == ("InvalidClientTokenId", INVALID, 403)
    code, _, err = server.aws("sts", "get-caller-identity", key="AKIAUNKNOWNKEY000001", secret="y" * 40)
    assert code != 0 and f"(InvalidClientTokenId) when calling the GetCallerIdentity operation: {INVALID}" in err
    with pytest.raises(ClientError) as e:
        server.client("iam", "AKIAUNKNOWNKEY000000", "x" * 40).list_users()
    assert error_of(e) == ("InvalidClientTokenId", INVALID_IAM, 403)


def test_inactive_key_is_invalid_client_token_id(server, iam):
    key = user_with_key(server, iam, "sleeper")
    client = server.client("sts", key["AccessKeyId"], key["SecretAccessKey"])
    assert client.get_caller_identity()["Arn"].endswith(":user/sleeper")
    iam.update_access_key(UserName="sleeper", AccessKeyId=key["AccessKeyId"], Status="Inactive")
    with pytest.raises(ClientError) as e:
        client.get_caller_identity()
    assert error_of(e) == ("InvalidClientTokenId", INVALID, 403)


def test_wrong_secret_is_signature_does_not_match(server):
    from service_harness import ROOT_KEY
    with pytest.raises(ClientError) as e:
        server.client("iam", ROOT_KEY, "not/the/secret/0000000000000000000000000").list_users()
    assert error_of(e) == ("SignatureDoesNotMatch", MISMATCH, 403)


def test_unsigned_request_is_missing_authentication_token(server):
    r = requests.post(server.url + "/", data={"Action": "ListUsers", "Version": "2010-05-08"}, timeout=10)
    assert r.status_code == 403
    assert "<Code>MissingAuthenticationToken</Code>" in r.text
    assert "<Message>Request is missing Authentication Token</Message>" in r.text


def test_malformed_authorization_is_incomplete_signature(server):
    r = requests.post(server.url + "/", data={"Action": "ListUsers", "Version": "2010-05-08"}, timeout=10,
                      headers={"Authorization": "AWS4-HMAC-SHA256 Credential=AKIAX/20260101/us-east-1/iam/aws4_request",
                               "X-Amz-Date": "20260101T000000Z"})
    assert r.status_code == 400 and "<Code>IncompleteSignature</Code>" in r.text
    assert "Authorization header requires &apos;Signature&apos; parameter." in r.text or \
           "Authorization header requires 'Signature' parameter." in r.text


def test_clock_skew_is_signature_expired(server, monkeypatch):
    past = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) - dt.timedelta(minutes=20)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda *a, **k: past)
    with pytest.raises(ClientError) as e:
        server.client("sts").get_caller_identity()
    code, message, status = error_of(e)
    assert (code, status) == ("SignatureDoesNotMatch", 403)
    assert message.startswith(f"Signature expired: {past.strftime('%Y%m%dT%H%M%SZ')} is now earlier than ")
    assert message.endswith(" - 15 min.)")


def test_presigned_get_caller_identity(server):
    # The method is signed too: a URL presigned for the model's POST does not verify as a GET.
    post_url = server.client("sts").generate_presigned_url("get_caller_identity", ExpiresIn=900)
    assert requests.get(post_url, timeout=10).status_code == 403
    url = server.client("sts").generate_presigned_url("get_caller_identity", ExpiresIn=900, HttpMethod="GET")
    assert "X-Amz-Signature=" in url
    r = requests.get(url, timeout=10)
    assert r.status_code == 200 and f"<Arn>arn:aws:iam::{ACCOUNT}:root</Arn>" in r.text
    tampered = url.replace("GetCallerIdentity", "GetSessionToken")
    r = requests.get(tampered, timeout=10)
    assert r.status_code == 403 and "<Code>SignatureDoesNotMatch</Code>" in r.text


def test_a_presigned_iam_request_ends_at_its_expiry(server):
    """SigV4, "Authenticating Requests: Using Query Parameters": X-Amz-Expires
    is how long a presigned URL is valid (readings S12). STS ignores it (the
    15-minute window decides); an IAM URL presigned for one second must not
    still work two seconds later — it did, for the whole skew window."""
    iam = server.client("iam")
    url = iam.generate_presigned_url("get_user", ExpiresIn=1, HttpMethod="GET")
    assert requests.get(url, timeout=10).status_code == 200
    time.sleep(2.2)
    r = requests.get(url, timeout=10)
    assert r.status_code == 403 and "<Code>SignatureDoesNotMatch</Code>" in r.text and "Signature expired" in r.text
    sts_url = server.client("sts").generate_presigned_url("get_caller_identity", ExpiresIn=1, HttpMethod="GET")
    time.sleep(1.2)
    assert requests.get(sts_url, timeout=10).status_code == 200


def test_expired_session_token_is_expired_token(server, iam):
    creds = server.client("sts").get_session_token(DurationSeconds=900)["Credentials"]
    _, sts = session_clients(server, creds)
    assert sts.get_caller_identity()["Arn"] == f"arn:aws:iam::{ACCOUNT}:root"
    with sqlite3.connect(server.db) as db:      # 15 minutes pass
        db.execute("UPDATE sessions SET expiration = ? WHERE access_key_id = ?", (time.time() - 1,
                                                                                   creds["AccessKeyId"]))
    with pytest.raises(ClientError) as e:
        sts.get_caller_identity()
    assert error_of(e) == ("ExpiredToken", "The security token included in the request is expired", 403)
    # the same key without its token is not a credential at all
    with pytest.raises(ClientError) as e:
        server.client("sts", creds["AccessKeyId"], creds["SecretAccessKey"]).get_caller_identity()
    assert error_of(e)[0] == "InvalidClientTokenId"


def test_credential_scope_must_match_the_route(server):
    # an STS call signed for iam: the Version routes to STS, the scope names IAM
    client = server.client("sts")
    client.meta.events.register("before-sign.sts.GetCallerIdentity",
                                lambda request, **kw: request.context.setdefault("signing", {}).update(
                                    {"signing_name": "iam"}))
    with pytest.raises(ClientError) as e:
        client.get_caller_identity()
    assert error_of(e) == ("SignatureDoesNotMatch", "Credential should be scoped to correct service: 'sts'.", 403)


# ------------------------------------------------------------------ STS

def test_get_caller_identity_needs_no_permission(server, iam):
    key = user_with_key(server, iam, "nobody-allowed", {"Effect": "Deny", "Action": "*", "Resource": "*"})
    sts = server.client("sts", key["AccessKeyId"], key["SecretAccessKey"])
    ident = sts.get_caller_identity()
    assert ident["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/nobody-allowed" and ident["UserId"].startswith("AIDA")
    # GetAccessKeyInfo is controlled by policy (sts:GetAccessKeyInfo): the Deny holds, the root user may
    with pytest.raises(ClientError) as e:
        sts.get_access_key_info(AccessKeyId=key["AccessKeyId"])
    assert error_of(e)[0] == "AccessDenied"
    assert server.client("sts").get_access_key_info(AccessKeyId=key["AccessKeyId"])["Account"] == ACCOUNT


def test_assume_role_needs_trust_and_permission(server, iam):
    iam.create_role(RoleName="deployer", AssumeRolePolicyDocument=trust(f"arn:aws:iam::{ACCOUNT}:root"))
    iam.put_role_policy(RoleName="deployer", PolicyName="p", PolicyDocument=policy(allow("iam:ListUsers")))
    iam.create_role(RoleName="closed", AssumeRolePolicyDocument=trust(f"arn:aws:iam::{ACCOUNT}:user/someone-else"))
    key = user_with_key(server, iam, "dev")
    sts = server.client("sts", key["AccessKeyId"], key["SecretAccessKey"])
    user_arn = f"arn:aws:iam::{ACCOUNT}:user/dev"
    # trust allows (the account), the caller's policies do not
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=role_arn("deployer"), RoleSessionName="s1")
    assert error_of(e) == ("AccessDenied", f"User: {user_arn} is not authorized to perform: sts:AssumeRole on "
                           f"resource: {role_arn('deployer')} because no identity-based policy allows the "
                           "sts:AssumeRole action", 403)
    # a trust policy naming the user itself needs nothing on the identity side (SEMANTICS §1 step 4)
    iam.create_role(RoleName="direct", AssumeRolePolicyDocument=trust(user_arn))
    assert sts.assume_role(RoleArn=role_arn("direct"), RoleSessionName="d1")["AssumedRoleUser"]["Arn"].endswith(
        "assumed-role/direct/d1")
    iam.put_user_policy(UserName="dev", PolicyName="p", PolicyDocument=policy(allow("sts:AssumeRole")))
    out = sts.assume_role(RoleArn=role_arn("deployer"), RoleSessionName="s1")
    assert out["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/deployer/s1"
    assert out["Credentials"]["AccessKeyId"].startswith("ASIA")
    iam_s, sts_s = session_clients(server, out["Credentials"])
    assert sts_s.get_caller_identity()["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/deployer/s1"
    assert iam_s.list_users()["Users"]                       # the role's permission
    # the AWS CLI, the same call
    code, out_text, err = server.aws("sts", "assume-role", "--role-arn", role_arn("deployer"), "--role-session-name",
                                     "cli", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    assert code == 0, err
    cli = json.loads(out_text)
    SECRETS.extend([cli["Credentials"]["SecretAccessKey"], cli["Credentials"]["SessionToken"]])
    assert cli["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/deployer/cli"
    # the caller may, the trust policy does not: denied
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=role_arn("closed"), RoleSessionName="s2")
    code, message, status = error_of(e)
    assert (code, status) == ("AccessDenied", 403) and "sts:AssumeRole on resource: " + role_arn("closed") in message
    # a role that does not exist is the same denial, not NoSuchEntity
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=role_arn("missing"), RoleSessionName="s3")
    assert error_of(e)[0] == "AccessDenied"
    # the root user cannot assume roles (STS API Reference, AssumeRole)
    with pytest.raises(ClientError) as e:
        server.client("sts").assume_role(RoleArn=role_arn("deployer"), RoleSessionName="s4")
    # ... and AWS says so, rather than naming an identity policy the root user does not need
    assert error_of(e) == ("AccessDenied", "Roles may not be assumed by root accounts.", 403)


def test_external_id_and_durations(server, iam):
    iam.create_role(RoleName="vendor", MaxSessionDuration=7200,
                    AssumeRolePolicyDocument=trust(f"arn:aws:iam::{ACCOUNT}:root",
                                                   StringEquals={"sts:ExternalId": "ticket-42"}))
    key = user_with_key(server, iam, "partner", allow("sts:AssumeRole"))
    sts = server.client("sts", key["AccessKeyId"], key["SecretAccessKey"])
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=role_arn("vendor"), RoleSessionName="vv")
    assert error_of(e)[0] == "AccessDenied"
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=role_arn("vendor"), RoleSessionName="vv", ExternalId="ticket-41")
    assert error_of(e)[0] == "AccessDenied"
    out = sts.assume_role(RoleArn=role_arn("vendor"), RoleSessionName="vv", ExternalId="ticket-42",
                          DurationSeconds=7200)
    left = out["Credentials"]["Expiration"] - dt.datetime.now(dt.timezone.utc)
    assert dt.timedelta(seconds=7100) < left <= dt.timedelta(seconds=7200)
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=role_arn("vendor"), RoleSessionName="vv", ExternalId="ticket-42",
                        DurationSeconds=7201)
    assert error_of(e) == ("ValidationError",
                           "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.", 400)
    with pytest.raises(ClientError) as e:
        server.client("sts", key["AccessKeyId"], key["SecretAccessKey"], validate=False).assume_role(
            RoleArn=role_arn("vendor"), RoleSessionName="vv", ExternalId="ticket-42", DurationSeconds=899)
    assert error_of(e)[0] == "ValidationError"
    # role chaining: at most one hour
    _, chained = session_clients(server, out["Credentials"])
    iam.put_role_policy(RoleName="vendor", PolicyName="chain", PolicyDocument=policy(allow("sts:AssumeRole")))
    iam.update_assume_role_policy(RoleName="vendor", PolicyDocument=policy(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}))
    with pytest.raises(ClientError) as e:
        chained.assume_role(RoleArn=role_arn("vendor"), RoleSessionName="again", DurationSeconds=3601)
    assert error_of(e) == ("ValidationError", "The requested DurationSeconds exceeds the 1 hour session limit for "
                           "roles assumed by role chaining.", 400)


def test_session_policy_caps_the_role(server, iam):
    iam.create_role(RoleName="reader", AssumeRolePolicyDocument=trust(f"arn:aws:iam::{ACCOUNT}:root"))
    iam.put_role_policy(RoleName="reader", PolicyName="p",
                        PolicyDocument=policy(allow(["iam:ListUsers", "iam:ListRoles"])))
    managed = iam.create_policy(PolicyName="only-roles", PolicyDocument=policy(allow("iam:ListRoles")))["Policy"]
    key = user_with_key(server, iam, "analyst", allow(["sts:AssumeRole", "sts:TagSession"]))
    sts = server.client("sts", key["AccessKeyId"], key["SecretAccessKey"])
    capped = sts.assume_role(RoleArn=role_arn("reader"), RoleSessionName="capped",
                             Policy=policy(allow("iam:ListUsers")))
    iam_s, _ = session_clients(server, capped["Credentials"])
    assert iam_s.list_users()["Users"]
    with pytest.raises(ClientError) as e:
        iam_s.list_roles()
    code, message, status = error_of(e)
    assert (code, status) == ("AccessDenied", 403)
    assert message.startswith(f"User: arn:aws:sts::{ACCOUNT}:assumed-role/reader/capped is not authorized to perform: "
                              "iam:ListRoles on resource: ")
    assert message.endswith("because no session policy allows the iam:ListRoles action")
    # a managed session policy (PolicyArns), with session tags
    by_arn = sts.assume_role(RoleArn=role_arn("reader"), RoleSessionName="by-arn",
                             PolicyArns=[{"arn": managed["Arn"]}], Tags=[{"Key": "team", "Value": "blue"}])
    iam_a, _ = session_clients(server, by_arn["Credentials"])
    assert "Roles" in iam_a.list_roles()
    with pytest.raises(ClientError) as e:
        iam_a.list_users()
    assert error_of(e)[1].endswith("because no session policy allows the iam:ListUsers action")
    # a session policy never grants beyond the role
    wide = sts.assume_role(RoleArn=role_arn("reader"), RoleSessionName="wide", Policy=policy(allow("iam:*")))
    iam_w, _ = session_clients(server, wide["Credentials"])
    with pytest.raises(ClientError) as e:
        iam_w.list_groups()
    assert error_of(e)[1].endswith("because no identity-based policy allows the iam:ListGroups action")


def test_session_tags_need_tag_session_in_the_trust_policy(server, iam):
    iam.create_role(RoleName="untagged", AssumeRolePolicyDocument=policy(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}))
    key = user_with_key(server, iam, "tagger", allow(["sts:AssumeRole", "sts:TagSession"]))
    sts = server.client("sts", key["AccessKeyId"], key["SecretAccessKey"])
    sts.assume_role(RoleArn=role_arn("untagged"), RoleSessionName="plain")
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=role_arn("untagged"), RoleSessionName="tagged", Tags=[{"Key": "k", "Value": "v"}])
    assert error_of(e)[0] == "AccessDenied" and "sts:TagSession" in error_of(e)[1]


def test_source_identity_needs_set_source_identity_and_stays_with_the_session(server, iam):
    iam.create_role(RoleName="audited", AssumeRolePolicyDocument=policy(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}))
    key = user_with_key(server, iam, "auditor", allow(["sts:AssumeRole", "sts:SetSourceIdentity"]))
    sts = server.client("sts", key["AccessKeyId"], key["SecretAccessKey"])
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=role_arn("audited"), RoleSessionName="a1", SourceIdentity="alice@example.com")
    assert error_of(e)[0] == "AccessDenied" and "sts:SetSourceIdentity" in error_of(e)[1]
    iam.update_assume_role_policy(RoleName="audited", PolicyDocument=policy(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
         "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"],
         "Condition": {"StringLike": {"sts:SourceIdentity": "*@example.com"}}}))
    out = sts.assume_role(RoleArn=role_arn("audited"), RoleSessionName="a2", SourceIdentity="alice@example.com")
    assert out["SourceIdentity"] == "alice@example.com"
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=role_arn("audited"), RoleSessionName="a3", SourceIdentity="mallory@evil.test")
    assert error_of(e)[0] == "AccessDenied"
    iam_s, _ = session_clients(server, out["Credentials"])
    with pytest.raises(ClientError) as e:
        iam_s.list_users()                                 # the role has no permissions; the log shows the key
    request_id = e.value.response["ResponseMetadata"]["RequestId"]
    assert server.wait_for_decision(request_id)["context"]["aws:SourceIdentity"] == "alice@example.com"


def test_transitive_session_tags_pass_down_a_role_chain(server, iam):
    both = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": ["sts:AssumeRole", "sts:TagSession"]}
    iam.create_role(RoleName="first-hop", AssumeRolePolicyDocument=policy(both))
    iam.put_role_policy(RoleName="first-hop", PolicyName="p", PolicyDocument=policy(
        allow(["sts:AssumeRole", "sts:TagSession"])))
    iam.create_role(RoleName="second-hop", AssumeRolePolicyDocument=policy(both))
    iam.put_role_policy(RoleName="second-hop", PolicyName="p", PolicyDocument=policy(
        {"Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*",
         "Condition": {"StringEquals": {"aws:PrincipalTag/project": "apollo"}}}))
    key = user_with_key(server, iam, "chainer", allow(["sts:AssumeRole", "sts:TagSession"]))
    sts = server.client("sts", key["AccessKeyId"], key["SecretAccessKey"])
    tags = [{"Key": "project", "Value": "apollo"}, {"Key": "cost", "Value": "42"}]
    plain = sts.assume_role(RoleArn=role_arn("first-hop"), RoleSessionName="h1", Tags=tags)
    marked = sts.assume_role(RoleArn=role_arn("first-hop"), RoleSessionName="h1t", Tags=tags,
                             TransitiveTagKeys=["project"])
    # not transitive: the second hop does not have the tag
    _, hop = session_clients(server, plain["Credentials"])
    iam2, _ = session_clients(server, hop.assume_role(RoleArn=role_arn("second-hop"), RoleSessionName="h2")[
        "Credentials"])
    with pytest.raises(ClientError) as e:
        iam2.list_users()
    assert error_of(e)[0] == "AccessDenied"
    # transitive: it does, and cannot be overridden
    _, hop = session_clients(server, marked["Credentials"])
    iam2, _ = session_clients(server, hop.assume_role(RoleArn=role_arn("second-hop"), RoleSessionName="h2t")[
        "Credentials"])
    assert iam2.list_users()["Users"]
    with pytest.raises(ClientError) as e:
        hop.assume_role(RoleArn=role_arn("second-hop"), RoleSessionName="h2x",
                        Tags=[{"Key": "project", "Value": "gemini"}])
    assert error_of(e)[0] == "InvalidParameterValue"
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=role_arn("first-hop"), RoleSessionName="h1x", Tags=tags,
                        TransitiveTagKeys=["missing"])
    assert error_of(e)[0] == "InvalidParameterValue"


def test_federation_token(server, iam):
    key = user_with_key(server, iam, "broker", allow(["sts:GetFederationToken", "iam:ListUsers"]))
    sts = server.client("sts", key["AccessKeyId"], key["SecretAccessKey"])
    out = sts.get_federation_token(Name="guest", Policy=policy(allow("iam:ListUsers")))
    assert out["FederatedUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:federated-user/guest"
    iam_f, sts_f = session_clients(server, out["Credentials"])
    assert sts_f.get_caller_identity()["Arn"] == f"arn:aws:sts::{ACCOUNT}:federated-user/guest"
    # "You cannot use these credentials to call any IAM API operations" (STS API Reference)
    with pytest.raises(ClientError) as e:
        iam_f.list_users()
    assert error_of(e)[0] == "AccessDenied"


# ------------------------------------------------------------------ MFA

def enable_device(iam, user: str, name: str) -> tuple[str, str]:
    dev = iam.create_virtual_mfa_device(VirtualMFADeviceName=name)["VirtualMFADevice"]
    seed = dev["Base32StringSeed"].decode()
    SECRETS.append(seed)
    step = mfa.current_step()
    with pytest.raises(ClientError) as e:
        iam.enable_mfa_device(UserName=user, SerialNumber=dev["SerialNumber"],
                              AuthenticationCode1=mfa.code_at(seed, step), AuthenticationCode2=mfa.code_at(seed, step))
    assert error_of(e) == ("InvalidAuthenticationCode", "Authentication code for device is not valid.", 403)
    iam.enable_mfa_device(UserName=user, SerialNumber=dev["SerialNumber"],
                          AuthenticationCode1=mfa.code_at(seed, step - 1), AuthenticationCode2=mfa.code_at(seed, step))
    return dev["SerialNumber"], seed


def next_code(seed: str) -> str:
    """A code for a step after the last one used (the device refuses a replay)."""
    return mfa.code_at(seed, mfa.current_step() + 1)


def test_mfa_gated_statement_opened_by_get_session_token(server, iam):
    gated = {"Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*",
             "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}
    key = user_with_key(server, iam, "careful", gated)
    serial, seed = enable_device(iam, "careful", "careful-phone")
    assert [d["SerialNumber"] for d in iam.list_mfa_devices(UserName="careful")["MFADevices"]] == [serial]
    long_term = server.client("iam", key["AccessKeyId"], key["SecretAccessKey"])
    sts = server.client("sts", key["AccessKeyId"], key["SecretAccessKey"])
    with pytest.raises(ClientError) as e:
        long_term.list_users()
    assert error_of(e)[0] == "AccessDenied"
    # GetSessionToken's credentials without MFA do not sign IAM calls at all (STS API Reference,
    # GetSessionToken; AWS answers InvalidClientTokenId, 99designs/aws-vault#1056); STS calls they do
    plain = sts.get_session_token()["Credentials"]
    iam_plain, sts_plain = session_clients(server, plain)
    with pytest.raises(ClientError) as e:
        iam_plain.list_users()
    assert error_of(e) == ("InvalidClientTokenId", INVALID_IAM, 403)
    assert sts_plain.get_caller_identity()["Arn"].endswith(":user/careful")
    code = next_code(seed)
    with_mfa = sts.get_session_token(SerialNumber=serial, TokenCode=code)["Credentials"]
    assert session_clients(server, with_mfa)[0].list_users()["Users"]
    with pytest.raises(ClientError) as e:                      # the same code again: replay
        sts.get_session_token(SerialNumber=serial, TokenCode=code)
    assert error_of(e) == ("AccessDenied", "MultiFactorAuthentication failed with invalid MFA one time pass code. ",
                           403)
    with pytest.raises(ClientError) as e:
        sts.get_session_token(SerialNumber=f"arn:aws:iam::{ACCOUNT}:mfa/not-mine", TokenCode="123456")
    assert error_of(e)[1].startswith("MultiFactorAuthentication failed, unable to validate MFA code.")
    # a session's credentials cannot start another session
    with pytest.raises(ClientError) as e:
        session_clients(server, with_mfa)[1].get_session_token()
    assert error_of(e) == ("AccessDenied", "Cannot call GetSessionToken with session credentials", 403)
    # the decision log shows the key the statement tested
    lines = [d for d in server.decisions() if d["caller"].endswith("user/careful") and d["action"] == "iam:ListUsers"]
    assert lines[-1]["decision"] == "allow" and lines[-1]["context"]["aws:MultiFactorAuthPresent"] is True


def test_get_session_token_without_mfa_does_not_sign_iam_calls_whatever_the_policies(server, iam):
    key = user_with_key(server, iam, "lister", allow("iam:ListUsers"))
    assert server.client("iam", key["AccessKeyId"], key["SecretAccessKey"]).list_users()["Users"]
    creds = server.client("sts", key["AccessKeyId"], key["SecretAccessKey"]).get_session_token()["Credentials"]
    with pytest.raises(ClientError) as e:
        session_clients(server, creds)[0].list_users()
    assert error_of(e) == ("InvalidClientTokenId", INVALID_IAM, 403)


def test_assume_role_with_mfa(server, iam):
    iam.create_role(RoleName="guarded", AssumeRolePolicyDocument=policy(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole",
         "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}))
    key = user_with_key(server, iam, "operator", allow("sts:AssumeRole"))
    serial, seed = enable_device(iam, "operator", "operator-phone")
    sts = server.client("sts", key["AccessKeyId"], key["SecretAccessKey"])
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=role_arn("guarded"), RoleSessionName="no-mfa")
    assert error_of(e)[0] == "AccessDenied"
    out = sts.assume_role(RoleArn=role_arn("guarded"), RoleSessionName="mfa", SerialNumber=serial,
                          TokenCode=next_code(seed))
    assert out["AssumedRoleUser"]["Arn"].endswith("assumed-role/guarded/mfa")


def test_mfa_device_lifecycle(server, iam):
    iam.create_user(UserName="phoneless")
    serial, _ = enable_device(iam, "phoneless", "spare")
    with pytest.raises(ClientError) as e:
        iam.create_virtual_mfa_device(VirtualMFADeviceName="spare")
    assert error_of(e) == ("EntityAlreadyExists", "MFADevice entity at the same path and name already exists.", 409)
    with pytest.raises(ClientError) as e:
        iam.delete_virtual_mfa_device(SerialNumber=serial)
    assert error_of(e) == ("DeleteConflict", "MFA VirtualDevice in use. Must deactivate first.", 409)
    listed = iam.list_virtual_mfa_devices(AssignmentStatus="Assigned")["VirtualMFADevices"]
    assert serial in [d["SerialNumber"] for d in listed]
    assert all("Base32StringSeed" not in d for d in listed)     # the seed is shown once
    with pytest.raises(ClientError) as e:
        iam.delete_user(UserName="phoneless")
    assert error_of(e) == ("DeleteConflict", "Cannot delete entity, must delete MFA device first.", 409)
    iam.deactivate_mfa_device(UserName="phoneless", SerialNumber=serial)
    assert iam.list_mfa_devices(UserName="phoneless")["MFADevices"] == []
    iam.delete_user(UserName="phoneless")
    iam.delete_virtual_mfa_device(SerialNumber=serial)
    with pytest.raises(ClientError) as e:
        iam.delete_virtual_mfa_device(SerialNumber=serial)
    assert error_of(e)[0] == "NoSuchEntity"


def test_resync_follows_a_drifting_device(server, iam):
    key = user_with_key(server, iam, "drifty")
    serial, seed = enable_device(iam, "drifty", "drifty-phone")
    sts = server.client("sts", key["AccessKeyId"], key["SecretAccessKey"])
    ahead = mfa.current_step() + 6                     # the device's clock runs three minutes fast
    with pytest.raises(ClientError) as e:
        sts.get_session_token(SerialNumber=serial, TokenCode=mfa.code_at(seed, ahead + 1))
    assert error_of(e)[0] == "AccessDenied"
    with pytest.raises(ClientError) as e:
        iam.resync_mfa_device(UserName="drifty", SerialNumber=serial, AuthenticationCode1=mfa.code_at(seed, ahead),
                              AuthenticationCode2=mfa.code_at(seed, ahead - 1))
    assert error_of(e)[0] == "InvalidAuthenticationCode"
    iam.resync_mfa_device(UserName="drifty", SerialNumber=serial, AuthenticationCode1=mfa.code_at(seed, ahead - 1),
                          AuthenticationCode2=mfa.code_at(seed, ahead))
    assert sts.get_session_token(SerialNumber=serial, TokenCode=mfa.code_at(seed, ahead + 1))["Credentials"]


# ------------------------------------------------------------------ console sign-in

def sign_in(server, **form):
    return requests.post(server.url + "/signin", data=form, timeout=10)


def test_console_sign_in_without_and_with_mfa(server, iam):
    iam.create_user(UserName="carol")
    iam.create_login_profile(UserName="carol", Password="Carol-Pa55word!")
    SECRETS.append("Carol-Pa55word!")
    page = requests.get(server.url + "/signin", timeout=10)
    assert page.status_code == 200 and '<form method="post" action="/signin">' in page.text
    r = sign_in(server, account=ACCOUNT, username="carol", password="Carol-Pa55word!")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/carol" and body["MFAAuthenticated"] is False
    creds = {**body["Credentials"]}
    _, sts = session_clients(server, creds)
    assert sts.get_caller_identity()["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/carol"
    # by the account alias
    iam.create_account_alias(AccountAlias="example-corp")
    assert sign_in(server, account="example-corp", username="carol", password="Carol-Pa55word!").status_code == 200
    # one answer for every wrong part
    for form in ({"account": ACCOUNT, "username": "carol", "password": "wrong"},
                 {"account": ACCOUNT, "username": "nobody", "password": "Carol-Pa55word!"},
                 {"account": "999999999999", "username": "carol", "password": "Carol-Pa55word!"}):
        r = sign_in(server, **form)
        assert r.status_code == 401
        assert r.json()["Error"]["Message"] == "Your authentication information is incorrect. Please try again."
    # with an MFA device: the code is needed, and opens MFA-gated statements
    iam.put_user_policy(UserName="carol", PolicyName="gated", PolicyDocument=policy(
        {"Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*",
         "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}))
    _, seed = enable_device(iam, "carol", "carol-phone")
    r = sign_in(server, account=ACCOUNT, username="carol", password="Carol-Pa55word!")
    assert r.status_code == 401 and r.json()["Error"]["Code"] == "MFARequired"
    r = sign_in(server, account=ACCOUNT, username="carol", password="Carol-Pa55word!", mfa_code="000000")
    assert r.status_code == 401
    r = sign_in(server, account=ACCOUNT, username="carol", password="Carol-Pa55word!", mfa_code=next_code(seed))
    assert r.status_code == 200 and r.json()["MFAAuthenticated"] is True
    iam_c, _ = session_clients(server, r.json()["Credentials"])
    assert iam_c.list_users()["Users"]


def test_console_sign_in_bad_input_is_an_answer_not_a_crash(server, iam):
    iam.create_user(UserName="dave")
    iam.create_login_profile(UserName="dave", Password="Dave-Pa55word!")
    SECRETS.append("Dave-Pa55word!")
    r = requests.post(server.url + "/signin", json={"account": ACCOUNT, "username": "dave",
                                                    "password": "Dave-Pa55word!"}, timeout=10)
    assert r.status_code == 200 and r.json()["Arn"].endswith(":user/dave")
    for body, ctype, status in ((b"[1, 2]", "application/json", 400), (b"{not json", "application/json", 400),
                                (b"username=dave", "application/x-www-form-urlencoded", 400),
                                (b"a=" + b"x" * 20000, "application/x-www-form-urlencoded", 413),
                                (b"\xff\xfe=\x00", "application/x-www-form-urlencoded", 400)):
        r = requests.post(server.url + "/signin", data=body, headers={"Content-Type": ctype}, timeout=10)
        assert r.status_code == status and "Error" in r.json()
        assert "Dave-Pa55word!" not in r.text


def test_root_console_sign_in_by_email(server):
    iamlogic("account", "create", "--db", str(server.db), "--account-id", "210987654321",
             "--email", "owner@example.com", "--password", "Root-Pa55word!")
    SECRETS.append("Root-Pa55word!")
    r = sign_in(server, username="owner@example.com", password="Root-Pa55word!")
    assert r.status_code == 200 and r.json()["Arn"] == "arn:aws:iam::210987654321:root"
    left = dt.datetime.fromisoformat(r.json()["Credentials"]["Expiration"].replace("Z", "+00:00")) - \
        dt.datetime.now(dt.timezone.utc)
    assert left <= dt.timedelta(hours=1)                   # a root session lasts an hour
    assert sign_in(server, username="owner@example.com", password="nope").status_code == 401


# ------------------------------------------------------------------ no secret in a log line

def test_no_secret_reaches_a_log(server):
    texts = [Path(server.folder / "server.err").read_text(errors="replace"), server.log.read_text()]
    with sqlite3.connect(server.db) as db:
        tokens = [r[0] for r in db.execute("SELECT token_digest FROM sessions")]
    assert tokens                                          # sessions were issued
    for secret in SECRETS:
        for text in texts:
            assert secret not in text
