"""Virtual MFA devices: CreateVirtualMFADevice, EnableMFADevice, ResyncMFADevice,
ListMFADevices, ListVirtualMFADevices, DeactivateMFADevice, DeleteVirtualMFADevice.

A device is a TOTP seed (service/mfa.py) under the serial number
``arn:aws:iam::ACCOUNT:mfa/PATH/NAME``; enabling it for a user takes two
consecutive codes. The seed is returned once, by CreateVirtualMFADevice, as
AWS does (Base32StringSeed); no later response carries it. QRCodePNG is not
returned (no image library is a dependency): the seed, or
``mfa.otpauth_uri``, is what an authenticator app takes.

AWS's words: InvalidAuthenticationCode 403 "Authentication code for device
is not valid."; EntityAlreadyExists "MFADevice entity at the same path and
name already exists."; DeleteConflict "MFA VirtualDevice in use. Must
deactivate first."; a user holds at most 8 MFA devices (IAM User Guide, IAM
and AWS STS quotas).
"""

from __future__ import annotations

import json

from .. import mfa, sessions
from ..registry import Call, DeleteConflict, EntityAlreadyExists, LimitExceeded, NoSuchEntity, ServiceError, operation
from . import common as c
from .users import user_shape

MAX_DEVICES_PER_USER = 8


def InvalidAuthenticationCode() -> ServiceError:  # noqa: N802 - named as AWS's error code
    return ServiceError("Authentication code for device is not valid.", "InvalidAuthenticationCode", 403, True)


def serial_of(call: Call) -> str:
    p = call.params
    if p.get("SerialNumber"):
        return p["SerialNumber"]
    return f"arn:aws:iam::{call.account}:mfa{p.get('Path') or '/'}{p.get('VirtualMFADeviceName', '')}"


def _user_arn(call: Call) -> str:
    name = call.params.get("UserName")
    if not name:
        return call.caller.arn if call.caller.kind in ("user", "root") else "*"
    return c.entity_arn(call, "user", name)


def _device(call: Call, serial: str):
    sessions.ensure(call.store)
    row = call.db.execute("SELECT * FROM mfa_devices WHERE serial = ? AND account = ?",
                          (serial, call.account)).fetchone()
    if row is None:
        raise NoSuchEntity(f"VirtualMFADevice with serial {serial} doesn't exist.")
    return row


def _user_name(call: Call) -> str | None:
    """UserName, else the calling user (None for the root user)."""
    name = call.params.get("UserName")
    if name:
        return c.entity(call, "user", name)["name"]
    return call.caller.name if call.caller.kind == "user" else None


@operation("iam", "CreateVirtualMFADevice", resource=serial_of, mutating=True)
def create_virtual_mfa_device(call: Call) -> dict:
    sessions.ensure(call.store)
    p = call.params
    path, name = p.get("Path") or "/", p["VirtualMFADeviceName"]
    serial = serial_of(call)
    if call.db.execute("SELECT 1 FROM mfa_devices WHERE serial = ?", (serial,)).fetchone():
        raise EntityAlreadyExists("MFADevice entity at the same path and name already exists.")
    seed = mfa.new_seed()
    tags = p.get("Tags") or []
    call.db.execute("INSERT INTO mfa_devices (serial, account, name, path, seed, created, tags, drift) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, 0)", (serial, call.account, name, path, seed, c.now(), json.dumps(tags)))
    # The only response that carries the seed.
    return {"VirtualMFADevice": {"SerialNumber": serial, "Base32StringSeed": seed.encode("ascii"),
                                 "Tags": tags or None}}


@operation("iam", "EnableMFADevice", resource=_user_arn, mutating=True)
def enable_mfa_device(call: Call) -> None:
    p = call.params
    user = c.entity(call, "user", p["UserName"])["name"]
    row = _device(call, p["SerialNumber"])
    if row["enabled"] is not None:
        raise EntityAlreadyExists("MFA Device is already in use.")
    count = call.db.execute("SELECT COUNT(*) FROM mfa_devices WHERE account = ? AND user_name = ? AND enabled IS NOT "
                            "NULL", (call.account, user)).fetchone()[0]
    if count >= MAX_DEVICES_PER_USER:
        raise LimitExceeded(f"Cannot exceed quota for MFADevicesPerUser: {MAX_DEVICES_PER_USER}")
    step = mfa.enable_step(row["seed"], p["AuthenticationCode1"], p["AuthenticationCode2"])
    if step is None:
        raise InvalidAuthenticationCode()
    call.db.execute("UPDATE mfa_devices SET user_name = ?, enabled = ?, last_step = ? WHERE serial = ?",
                    (user, c.now(), step, row["serial"]))
    _note_on_user(call, user, add=row["serial"])


def _note_on_user(call: Call, user: str, add: str | None = None, remove: str | None = None) -> None:
    """The user's data lists its devices' serials (DeleteUser refuses a user that still has one)."""
    entity = c.entity(call, "user", user)
    serials = [s for s in entity["data"].get("MFADevices", []) if s != remove]
    if add:
        serials.append(add)
    if serials:
        entity["data"]["MFADevices"] = serials
    else:
        entity["data"].pop("MFADevices", None)
    c.save_data(call, entity)


@operation("iam", "ResyncMFADevice", resource=_user_arn, mutating=True)
def resync_mfa_device(call: Call) -> None:
    p = call.params
    user = c.entity(call, "user", p["UserName"])["name"]
    row = _device(call, p["SerialNumber"])
    if (row["user_name"] or "").lower() != user.lower() or row["enabled"] is None:
        raise NoSuchEntity(f"MFA Device with serial number {p['SerialNumber']} does not exist for user {user}.")
    step = mfa.resync_step(row["seed"], p["AuthenticationCode1"], p["AuthenticationCode2"])
    if step is None or (row["last_step"] is not None and step <= row["last_step"]):
        raise InvalidAuthenticationCode()
    # The device's clock runs this many steps from ours: later codes are checked around it.
    call.db.execute("UPDATE mfa_devices SET last_step = ?, drift = ? WHERE serial = ?",
                    (step, step - mfa.current_step(), row["serial"]))


@operation("iam", "DeactivateMFADevice", resource=_user_arn, mutating=True)
def deactivate_mfa_device(call: Call) -> None:
    p = call.params
    user = _user_name(call)
    row = _device(call, p["SerialNumber"])
    if row["enabled"] is None or (row["user_name"] or "").lower() != (user or "").lower():
        raise NoSuchEntity(f"MFA Device with serial number {p['SerialNumber']} does not exist for user {user}.")
    # A deactivated virtual device stays, unassigned, until DeleteVirtualMFADevice.
    call.db.execute("UPDATE mfa_devices SET user_name = NULL, enabled = NULL, last_step = NULL, drift = 0 "
                    "WHERE serial = ?",
                    (row["serial"],))
    _note_on_user(call, row["user_name"], remove=row["serial"])


@operation("iam", "DeleteVirtualMFADevice", resource=serial_of, mutating=True)
def delete_virtual_mfa_device(call: Call) -> None:
    row = _device(call, call.params["SerialNumber"])
    if row["enabled"] is not None:
        raise DeleteConflict("MFA VirtualDevice in use. Must deactivate first.")
    call.db.execute("DELETE FROM mfa_devices WHERE serial = ?", (row["serial"],))


@operation("iam", "ListMFADevices", resource=_user_arn)
def list_mfa_devices(call: Call) -> dict:
    sessions.ensure(call.store)
    user = _user_name(call)
    if user is None:
        return {"MFADevices": []}
    rows = call.db.execute("SELECT * FROM mfa_devices WHERE account = ? AND user_name = ? AND enabled IS NOT NULL "
                           "ORDER BY enabled", (call.account, user)).fetchall()
    return {"MFADevices": [{"UserName": r["user_name"], "SerialNumber": r["serial"], "EnableDate": r["enabled"]}
                           for r in rows]}


@operation("iam", "ListVirtualMFADevices")
def list_virtual_mfa_devices(call: Call) -> dict:
    sessions.ensure(call.store)
    status = call.params.get("AssignmentStatus") or "Any"
    rows = call.db.execute("SELECT * FROM mfa_devices WHERE account = ? ORDER BY serial", (call.account,)).fetchall()
    out = []
    for r in rows:
        assigned = r["enabled"] is not None
        if (status == "Assigned" and not assigned) or (status == "Unassigned" and assigned):
            continue
        device = {"SerialNumber": r["serial"], "Tags": json.loads(r["tags"] or "[]") or None}
        if assigned:
            device["EnableDate"] = r["enabled"]
            user = call.store.entity(call.account, "user", r["user_name"], call.db)
            if user is not None:
                device["User"] = user_shape(call, user)
        out.append(device)
    return {"VirtualMFADevices": out}
