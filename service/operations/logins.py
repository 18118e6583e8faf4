"""Login profiles (console passwords, stored only as service/passwords.py's
memory-hard hash) and the account password policy."""

from __future__ import annotations

import json
import string

from ..registry import Call, EntityAlreadyExists, NoSuchEntity, ServiceError, operation
from . import common as c

# GetAccountPasswordPolicy's defaults for the members an update leaves out
# (IAM API Reference, UpdateAccountPasswordPolicy).
DEFAULTS = {"MinimumPasswordLength": 6, "RequireSymbols": False, "RequireNumbers": False,
            "RequireUppercaseCharacters": False, "RequireLowercaseCharacters": False,
            "AllowUsersToChangePassword": False, "HardExpiry": False}
_SYMBOLS = set("!@#$%^&*()_+-=[]{}|'")


def _policy(call: Call) -> dict | None:
    row = call.store.account(call.account)
    return json.loads(row["password_policy"]) if row and row["password_policy"] else None


def check_password(call: Call, password: str) -> None:
    """PasswordPolicyViolation when the account's policy refuses it (the
    message names the first rule broken; the password is never in it)."""
    policy = _policy(call) or {}
    problems = []
    if len(password) < policy.get("MinimumPasswordLength", 0):
        problems.append(f"Password should have a minimum length of {policy['MinimumPasswordLength']}")
    if policy.get("RequireUppercaseCharacters") and not any(ch in string.ascii_uppercase for ch in password):
        problems.append("Password should have at least one uppercase letter")
    if policy.get("RequireLowercaseCharacters") and not any(ch in string.ascii_lowercase for ch in password):
        problems.append("Password should have at least one lowercase letter")
    if policy.get("RequireNumbers") and not any(ch.isdigit() for ch in password):
        problems.append("Password should have at least one number")
    if policy.get("RequireSymbols") and not any(ch in _SYMBOLS for ch in password):
        problems.append("Password should have at least one symbol")
    if problems:
        raise ServiceError(problems[0], "PasswordPolicyViolation", 400, True)


def _hash(password: str) -> str:
    from ..passwords import hash_password  # noqa: PLC0415 - scrypt, service/passwords.py
    return hash_password(password)


def _user_arn(call: Call) -> str:
    name = call.params.get("UserName")
    if not name:
        return call.caller.arn
    return c.entity_arn(call, "user", name)


def _user(call: Call) -> dict:
    name = call.params.get("UserName") or (call.caller.name if call.caller.kind == "user" else None)
    if not name:
        raise ServiceError("Must specify userName when calling with non-User credentials", "ValidationError", 400, True)
    return c.entity(call, "user", name)


@operation("iam", "CreateLoginProfile", resource=_user_arn, mutating=True)
def create_login_profile(call: Call) -> dict:
    row = _user(call)
    if row["data"].get("LoginProfile"):
        raise EntityAlreadyExists(f"Login Profile for user {row['name']} already exists.")
    password = call.params.get("Password")
    if password is None:
        raise ServiceError("Password is required.", "ValidationError", 400, True)
    check_password(call, password)
    created = c.now()
    row["data"]["LoginProfile"] = {"PasswordHash": _hash(password), "CreateDate": created,
                                   "PasswordResetRequired": bool(call.params.get("PasswordResetRequired"))}
    c.save_data(call, row)
    return {"LoginProfile": {"UserName": row["name"], "CreateDate": created,
                             "PasswordResetRequired": row["data"]["LoginProfile"]["PasswordResetRequired"]}}


def _profile(row: dict) -> dict:
    found = row["data"].get("LoginProfile")
    if not found:
        raise NoSuchEntity(f"Login Profile for User {row['name']} cannot be found.")
    return found


@operation("iam", "GetLoginProfile", resource=_user_arn)
def get_login_profile(call: Call) -> dict:
    row = _user(call)
    found = _profile(row)
    return {"LoginProfile": {"UserName": row["name"], "CreateDate": found["CreateDate"],
                             "PasswordResetRequired": found["PasswordResetRequired"]}}


@operation("iam", "UpdateLoginProfile", resource=_user_arn, mutating=True)
def update_login_profile(call: Call) -> None:
    row = _user(call)
    found = _profile(row)
    if call.params.get("Password") is not None:
        check_password(call, call.params["Password"])
        found["PasswordHash"] = _hash(call.params["Password"])
    if "PasswordResetRequired" in call.params:
        found["PasswordResetRequired"] = call.params["PasswordResetRequired"]
    c.save_data(call, row)


@operation("iam", "DeleteLoginProfile", resource=_user_arn, mutating=True)
def delete_login_profile(call: Call) -> None:
    row = _user(call)
    _profile(row)
    row["data"].pop("LoginProfile")
    c.save_data(call, row)


@operation("iam", "UpdateAccountPasswordPolicy", mutating=True)
def update_account_password_policy(call: Call) -> None:
    policy = dict(DEFAULTS)
    policy.update({k: v for k, v in call.params.items()})
    policy["ExpirePasswords"] = bool(policy.get("MaxPasswordAge"))
    call.db.execute("UPDATE accounts SET password_policy = ? WHERE id = ?", (json.dumps(policy), call.account))


@operation("iam", "GetAccountPasswordPolicy")
def get_account_password_policy(call: Call) -> dict:
    policy = _policy(call)
    if policy is None:
        raise NoSuchEntity(f"The Password Policy with domain name {call.account} cannot be found.")
    return {"PasswordPolicy": policy}


@operation("iam", "DeleteAccountPasswordPolicy", mutating=True)
def delete_account_password_policy(call: Call) -> None:
    if _policy(call) is None:
        raise NoSuchEntity(f"The Password Policy with domain name {call.account} cannot be found.")
    call.db.execute("UPDATE accounts SET password_policy = NULL WHERE id = ?", (call.account,))


@operation("iam", "ChangePassword", resource=lambda call: call.caller.arn, mutating=True)
def change_password(call: Call) -> None:
    """An IAM user changes their own console password (the root user cannot
    here: InvalidUserType, as IAM answers)."""
    from ..passwords import verify_password  # noqa: PLC0415
    if call.caller.kind != "user":
        raise ServiceError("Only IAM users can change their own password.", "InvalidUserType", 400, True)
    row = c.entity(call, "user", call.caller.name)
    found = _profile(row)
    policy = _policy(call) or {}
    if policy and not policy.get("AllowUsersToChangePassword"):
        # IAM User Guide, "Permitting IAM users to change their own passwords": the password policy's switch.
        raise ServiceError(f"User: {call.caller.arn} is not permitted to change their own password.",
                           "AccessDenied", 403, True)
    if not verify_password(call.params["OldPassword"], found.get("PasswordHash")):
        # The wrong old password is refused without saying which part was wrong.
        raise ServiceError("The old password is incorrect.", "InvalidInput", 400, True)
    check_password(call, call.params["NewPassword"])
    found["PasswordHash"] = _hash(call.params["NewPassword"])
    found["PasswordResetRequired"] = False
    c.save_data(call, row)
