"""STS: GetCallerIdentity, AssumeRole, GetSessionToken, GetFederationToken, GetAccessKeyInfo.

Every permission is the kernel's decision (``call.authorize``): AssumeRole
asks it once with the caller's policy set and the role's trust policy as the
resource policy (the kernel requires the trust policy to allow, SEMANTICS
§1.4), and again for sts:TagSession when the call passes session tags and
for sts:SetSourceIdentity when it sets a source identity (IAM User Guide,
"Passing session tags in AWS STS" and "Monitor and control actions taken
with assumed roles": both need the trust policy's and the caller's
permission). The context carries sts:RoleSessionName, sts:ExternalId,
sts:SourceIdentity, sts:TransitiveTagKeys, aws:RequestTag/*, aws:TagKeys,
and — when the call proves an MFA code — aws:MultiFactorAuthPresent true and
aws:MultiFactorAuthAge 0.

The new credentials' session keeps what the kernel needs later: the session
policies (``Policy`` and the default versions of ``PolicyArns``, read when
the session is issued), the session tags, the MFA time, the source identity.

AWS's words (STS API Reference and AWS's answers as users quote them):
* "The requested DurationSeconds exceeds the MaxSessionDuration set for this
  role." — ValidationError 400;
* "The requested DurationSeconds exceeds the 1 hour session limit for roles
  assumed by role chaining." — ValidationError 400 (IAM User Guide, Role
  chaining: at most one hour);
* "MultiFactorAuthentication failed with invalid MFA one time pass code. " and
  "MultiFactorAuthentication failed, unable to validate MFA code.  Please
  verify your MFA serial number is valid and associated with this user." —
  AccessDenied 403;
* "Cannot call GetSessionToken with session credentials" — AccessDenied.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace

from ...translator import PolicyType
from .. import credentials, sessions
from ..authz import default_document
from ..identity import Caller
from ..registry import DUPLICATE_TAG_KEYS, AccessDenied, Call, ServiceError, ValidationError, operation
from . import common as c

ROLE_DEFAULT_DURATION = 3600
CHAINED_MAX_DURATION = 3600
# GetSessionToken and GetFederationToken: IAM users 900 s – 36 h (default 12 h); the root user at most 1 h
# ("sessions for AWS account owners are restricted to a maximum of 3,600 seconds", STS API Reference).
USER_DEFAULT_DURATION = 43200
ROOT_MAX_DURATION = 3600
# The packed limit of session policies and tags (STS API Reference, AssumeRole, PackedPolicySize).
PACKED_LIMIT = 2048

MSG_BAD_CODE = "MultiFactorAuthentication failed with invalid MFA one time pass code. "
MSG_BAD_SERIAL = ("MultiFactorAuthentication failed, unable to validate MFA code.  Please verify your MFA serial "
                  "number is valid and associated with this user.")


def _now() -> float:
    return time.time()


# ------------------------------------------------------------------ shared pieces

def session_policies(call: Call) -> tuple[str, ...]:
    """The inline ``Policy`` and the default documents of ``PolicyArns``, as the session's policies."""
    p = call.params
    out = []
    if p.get("Policy"):
        out.append(c.check_document(p["Policy"], PolicyType.SESSION))
    for entry in p.get("PolicyArns") or []:
        arn = entry.get("arn", "")
        doc = default_document(call.db, arn)
        if doc is None:
            raise ServiceError(f"Policy {arn} does not exist or is not attachable.", "NoSuchEntity", 404, True)
        out.append(doc)
    return tuple(out)


def packed_size(call: Call) -> int:
    """PackedPolicySize: the percentage of the packed limit the session policies and tags take."""
    p = call.params
    raw = len(json.dumps(json.loads(p["Policy"]), separators=(",", ":"))) if p.get("Policy") else 0
    raw += sum(len(e.get("arn", "")) for e in p.get("PolicyArns") or [])
    raw += sum(len(t["Key"]) + len(t.get("Value", "")) for t in p.get("Tags") or [])
    return min(100, -(-raw * 100 // PACKED_LIMIT)) if raw else 0


def session_tags(call: Call) -> tuple[tuple[str, str], ...]:
    tags = call.params.get("Tags") or []
    keys = [t["Key"].lower() for t in tags]
    if len(set(keys)) != len(keys):
        raise c.InvalidInput(DUPLICATE_TAG_KEYS)
    return tuple((t["Key"], t.get("Value", "")) for t in tags)


def chained_tags(call: Call, caller: Caller) -> tuple[tuple[tuple[str, str], ...], list[str]]:
    """The new session's tags and its transitive keys: the caller's transitive tags (a role chain passes
    them on, and they cannot be overridden) and the call's own (IAM User Guide, "Chaining roles with
    session tags")."""
    own = session_tags(call)
    marked = call.params.get("TransitiveTagKeys") or []
    own_keys = {k.lower() for k, _ in own}
    if any(k.lower() not in own_keys for k in marked):
        raise ServiceError("TransitiveTagKeys must name session tags passed in the same call.",
                           "InvalidParameterValue", 400, True)
    inherited_keys = {k.lower() for k in (caller.extra or {}).get("transitive_tag_keys", [])} \
        if caller.kind == "role_session" else set()
    inherited = [(k, v) for k, v in caller.session_tags if k.lower() in inherited_keys]
    clash = sorted(k for k, _ in own if k.lower() in inherited_keys)
    if clash:
        raise ServiceError(f"The session tag {clash[0]} is transitive from the calling session and cannot be "
                           "overridden.", "InvalidParameterValue", 400, True)
    keys = [k for k, _ in inherited] + [k for k in marked if k.lower() not in inherited_keys]
    return tuple(inherited) + own, keys


def tag_context(call: Call) -> dict:
    tags = call.params.get("Tags") or []
    out: dict = {f"aws:RequestTag/{t['Key']}": t.get("Value", "") for t in tags}
    if tags:
        out["aws:TagKeys"] = [t["Key"] for t in tags]
    if call.params.get("TransitiveTagKeys"):
        out["sts:TransitiveTagKeys"] = list(call.params["TransitiveTagKeys"])
    return out


def mfa_device_of(call: Call, caller: Caller, serial: str):
    """The enabled virtual device ``serial`` of the calling user (or root)."""
    sessions.ensure(call.store)
    row = call.db.execute("SELECT * FROM mfa_devices WHERE serial = ? AND account = ? AND enabled IS NOT NULL",
                          (serial, caller.account)).fetchone()
    owner = caller.name if caller.kind == "user" else None
    if row is None or (row["user_name"] or None) != (owner or None) or (caller.kind not in ("user", "root")):
        return None
    return row


def prove_mfa(call: Call, caller: Caller) -> float | None:
    """Check SerialNumber/TokenCode when given: the MFA time (now), or AccessDenied in AWS's words."""
    p = call.params
    serial, code = p.get("SerialNumber"), p.get("TokenCode")
    if not serial and not code:
        return None
    if not serial or not code:
        raise ValidationError("SerialNumber and TokenCode must be given together.")
    row = mfa_device_of(call, caller, serial)
    if row is None:
        raise AccessDenied(MSG_BAD_SERIAL)
    if not sessions.accept_code(call.db, row, code):
        raise AccessDenied(MSG_BAD_CODE)
    return _now()


def issue(call: Call, caller: Caller, duration: int) -> tuple[credentials.TemporaryCredentials, Caller]:
    creds = credentials.issue(duration)
    session = replace(caller, access_key_id=creds.access_key_id, temporary=True)
    sessions.ensure(call.store)
    sessions.save(call.db, creds, session)
    return creds, session


def user_duration(call: Call) -> int:
    duration = call.params.get("DurationSeconds") or USER_DEFAULT_DURATION
    if call.caller.kind == "root":
        duration = min(duration, ROOT_MAX_DURATION)
    return duration


# ------------------------------------------------------------------ operations

@operation("sts", "GetCallerIdentity", authorize="none")
def get_caller_identity(call: Call) -> dict:
    who = call.caller
    return {"UserId": who.user_id, "Account": who.account, "Arn": who.arn}


@operation("sts", "AssumeRole", authorize="self", mutating=True)
def assume_role(call: Call) -> dict:
    p = call.params
    caller = call.caller
    role_arn, session_name = p["RoleArn"], p["RoleSessionName"]
    if caller.kind == "root":
        # STS API Reference, AssumeRole: the root user's credentials cannot call it, whatever the trust
        # policy says; AWS answers in these words, so no policy layer is named as the cause.
        raise AccessDenied("Roles may not be assumed by root accounts.")
    row = call.store.entity_by_arn(role_arn, call.db)
    role = row if row is not None and row["kind"] == "role" else None
    trust = role["data"]["AssumeRolePolicyDocument"] if role else None
    mfa_at = prove_mfa(call, caller)
    context = {"sts:RoleSessionName": session_name, **tag_context(call)}
    if p.get("ExternalId") is not None:
        context["sts:ExternalId"] = p["ExternalId"]
    if p.get("SourceIdentity") is not None:
        context["sts:SourceIdentity"] = p["SourceIdentity"]
    if mfa_at is not None:
        context["aws:MultiFactorAuthPresent"] = True
        context["aws:MultiFactorAuthAge"] = "0"
    # A role that does not exist has no trust policy: the kernel then denies, as AWS answers AccessDenied.
    layers = {"resource": [(f"trust policy of {role_arn}", trust)] if trust else []}
    call.authorize("sts:AssumeRole", role_arn, context, layers)
    if p.get("Tags") or p.get("TransitiveTagKeys"):
        call.authorize("sts:TagSession", role_arn, context, layers)
    if p.get("SourceIdentity") is not None:
        call.authorize("sts:SetSourceIdentity", role_arn, context, layers)

    if role is None:  # pragma: no cover - the kernel never lets a missing trust policy allow
        raise AccessDenied(f"User: {caller.arn} is not authorized to perform: sts:AssumeRole on resource: {role_arn}")
    duration = p.get("DurationSeconds") or ROLE_DEFAULT_DURATION
    if caller.kind == "role_session" and duration > CHAINED_MAX_DURATION:
        raise ValidationError("The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by "
                              "role chaining.")
    if duration > role["data"].get("MaxSessionDuration", ROLE_DEFAULT_DURATION):
        raise ValidationError("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
    policies = session_policies(call)
    tags, transitive = chained_tags(call, caller)
    if caller.source_identity and p.get("SourceIdentity") not in (None, caller.source_identity):
        # IAM User Guide, source identity: "you can't change the source identity value" once set in a chain.
        raise AccessDenied("Cannot change the source identity of a role session chain.")
    source_identity = p.get("SourceIdentity") or caller.source_identity
    account = role["account"]
    session = Caller(account, f"arn:aws:sts::{account}:assumed-role/{role['name']}/{session_name}", "role_session",
                     role["name"], f"{role['id']}:{session_name}", session_policies=policies, session_tags=tags,
                     mfa_authenticated_at=mfa_at, source_identity=source_identity, role_arn=role["arn"],
                     temporary=True, extra={"transitive_tag_keys": transitive} if transitive else {})
    creds, session = issue(call, session, duration)
    out = {"Credentials": creds.as_shape(),
           "AssumedRoleUser": {"AssumedRoleId": session.user_id, "Arn": session.arn},
           "PackedPolicySize": packed_size(call)}
    if source_identity:
        out["SourceIdentity"] = source_identity
    return out


@operation("sts", "GetSessionToken", authorize="none", mutating=True)
def get_session_token(call: Call) -> dict:
    # No policy controls GetSessionToken (IAM User Guide, Permissions for GetSessionToken); it takes
    # long-term credentials only.
    caller = call.caller
    if caller.temporary:
        raise AccessDenied("Cannot call GetSessionToken with session credentials")
    mfa_at = prove_mfa(call, caller)
    session = replace(caller, mfa_authenticated_at=mfa_at, extra={"issued_by": "GetSessionToken"})
    creds, _ = issue(call, session, user_duration(call))
    return {"Credentials": creds.as_shape()}


def _federated_arn(call: Call) -> str:
    return f"arn:aws:sts::{call.account}:federated-user/{call.params.get('Name', '')}"


@operation("sts", "GetFederationToken", resource=_federated_arn, mutating=True)
def get_federation_token(call: Call) -> dict:
    caller = call.caller
    if caller.temporary or caller.kind not in ("user", "root"):
        raise AccessDenied("Cannot call GetFederationToken with session credentials")
    name = call.params["Name"]
    arn = _federated_arn(call)
    # The federated user's permissions: the calling user's identity policies and these session policies
    # (STS API Reference, GetFederationToken); authz reads "federating_user".
    session = Caller(caller.account, arn, "federated_session", name, f"{caller.account}:{name}",
                     session_policies=session_policies(call), session_tags=session_tags(call), temporary=True,
                     extra={"federating_user": caller.name} if caller.kind == "user" else {})
    creds, session = issue(call, session, user_duration(call))
    return {"Credentials": creds.as_shape(), "FederatedUser": {"FederatedUserId": session.user_id, "Arn": arn},
            "PackedPolicySize": packed_size(call)}


@operation("sts", "GetAccessKeyInfo", mutating=False)
def get_access_key_info(call: Call) -> dict:
    key_id = call.params["AccessKeyId"]
    row = call.store.access_key(key_id)
    if row is None:
        sessions.ensure(call.store)
        row = sessions.session_row(call.db, key_id)
    if row is None:
        # AWS decodes the account from the key id itself; ours carry none, so an unknown id is refused.
        raise ValidationError(f"The access key id {key_id} is not known to this server.")
    return {"Account": row["account"]}
