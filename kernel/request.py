"""A request (SEMANTICS §1): principal, action, resource, resource owner
account, context keys — read from the scenario contract with one clear error
per bad field."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..errors import ScenarioError, quote

_ACTION = re.compile(r"[A-Za-z0-9_.\-]+:[A-Za-z0-9_.\-]+")
_ACCOUNT = re.compile(r"\d{12}")
REQUEST_FIELDS = ("principal", "action", "resource", "resource_account", "context", "derive_context")


@dataclass(frozen=True)
class Request:
    principal: str | None
    action: str
    resource: str
    resource_account: str | None = None
    context: Mapping[str, object] = field(default_factory=dict)
    derive_context: bool = True

    def to_dict(self) -> dict:
        out = {"principal": self.principal, "action": self.action, "resource": self.resource,
               "resource_account": self.resource_account, "context": dict(self.context)}
        if not self.derive_context:
            out["derive_context"] = False
        return out


def read_request(raw: object, where: str = "request") -> Request:
    if isinstance(raw, Request):
        return raw
    if not isinstance(raw, Mapping):
        raise ScenarioError(where, f"expected an object, found {type(raw).__name__}")
    unknown = [k for k in raw if k not in REQUEST_FIELDS]
    if unknown:
        raise ScenarioError(f"{where}.{unknown[0]}", f"unknown field (expected {', '.join(REQUEST_FIELDS)})")
    for name in ("action", "resource"):
        if name not in raw:
            raise ScenarioError(f"{where}.{name}", "missing")
    if "principal" not in raw:
        raise ScenarioError(f"{where}.principal", "missing (null means an anonymous caller)")

    action = raw["action"]
    if not isinstance(action, str) or not _ACTION.fullmatch(action):
        raise ScenarioError(f"{where}.action", f"{quote(action)} is not an action (service:Name, no wildcards)")
    resource = raw["resource"]
    if not isinstance(resource, str) or not (resource == "*" or _is_arn(resource)):
        raise ScenarioError(f"{where}.resource", f"{quote(resource)} is not an ARN (arn:partition:service:region:"
                                                 "account:resource) or \"*\"")
    account = raw.get("resource_account")
    if account is not None and (not isinstance(account, str) or not _ACCOUNT.fullmatch(account)):
        raise ScenarioError(f"{where}.resource_account", f"{quote(account)} is not a 12-digit account id")
    context = raw.get("context") or {}
    if not isinstance(context, Mapping):
        raise ScenarioError(f"{where}.context", "expected an object of condition keys")
    for key, value in context.items():
        for v in (value if type(value) is list else (value,)):
            t = type(v)
            if t is str or t is bool or t is int:
                continue
            if t is float:
                raise ScenarioError(f"{where}.context.{key}", "write decimal numbers as strings (\"1.5\"): "
                                                              "binary floats would round")
            raise ScenarioError(f"{where}.context.{key}", "values are strings, numbers, booleans or lists of them")
    # Key names are compared without case (SEMANTICS §4), so two keys that
    # differ only in case cannot both be meant: tags are case-sensitive and a
    # resource may carry Env and env; one of them would be silently lost.
    folded: dict[str, str] = {}
    for key in context:
        other = folded.setdefault(str(key).lower(), str(key))
        if other != key:
            raise ScenarioError(f"{where}.context.{key}", f"differs from {quote(other)} only in case: condition key names "
                                "are compared without case, so only one of them can be given")
    derive = raw.get("derive_context", True)
    if not isinstance(derive, bool):
        raise ScenarioError(f"{where}.derive_context", "expected true or false")
    principal = raw["principal"]
    return Request(principal, action, resource, account, dict(context), derive)


def _is_arn(text: str) -> bool:
    parts = text.split(":", 5)
    return len(parts) == 6 and parts[0] == "arn" and bool(parts[1]) and bool(parts[2])


def resource_account_of(resource: str) -> str | None:
    parts = resource.split(":", 5)
    if len(parts) == 6 and _ACCOUNT.fullmatch(parts[4]):
        return parts[4]
    return None


_TRUST_ACTIONS = frozenset({"sts:assumerole", "sts:assumerolewithsaml", "sts:assumerolewithwebidentity",
                            "sts:tagsession", "sts:setsourceidentity", "sts:setcontext"})


def resource_must_allow_itself(action: str, resource: str) -> str | None:
    """'trust policy' / 'key policy' when the resource's own policy must allow
    (SEMANTICS §1.4 exceptions), else None."""
    parts = resource.split(":", 5)
    if len(parts) != 6:
        return None
    if action.lower() in _TRUST_ACTIONS and parts[2] == "iam" and parts[5].startswith("role/"):
        return "trust policy"
    if action.lower().startswith("kms:") and parts[2] == "kms" and parts[5].startswith("key/"):
        return "key policy"
    return None


# Actions that no policy controls (SEMANTICS §7), with the sentence that says so.
NO_AUTHORIZATION = {
    "sts:getcalleridentity": "STS API Reference, GetCallerIdentity: \"No permissions are required to perform this "
                             "operation. If an administrator attaches a policy to your identity that explicitly "
                             "denies access to the sts:GetCallerIdentity action, you can still perform this operation.\"",
    "sts:getsessiontoken": "IAM User Guide, Permissions for GetSessionToken: \"No permissions are required for a user "
                           "to get a session token. ... You cannot use policies to control authentication operations.\"",
}


def needs_no_authorization(action: str) -> bool:
    """Whether no policy controls ``action`` (the rules then allow it to every
    signed-in caller)."""
    return action.lower() in NO_AUTHORIZATION


# Actions some callers cannot call whatever the policies say: caller kinds
# (as kernel/principals.py names them) by action, with the sentence that says so.
REFUSED = {
    "sts:assumerole": (frozenset({"root"}), "STS API Reference, AssumeRole: \"You cannot use AWS account root "
                       "user credentials to call AssumeRole.\""),
    "sts:getsessiontoken": (frozenset({"role_session", "federated_session"}), "STS API Reference, GetSessionToken: "
                            "it is called with an IAM user's or the root user's long-term credentials"),
}
# GetFederationToken's credentials: "You cannot call any AWS STS operations except GetCallerIdentity" and "You
# cannot use these credentials to call any IAM API operations" (STS API Reference, GetFederationToken).
_FEDERATED_REFUSED_SERVICES = ("iam:", "sts:")


def refused_callers(action: str) -> frozenset[str]:
    """The caller kinds that cannot call ``action`` at all (the rules then
    never allow it to them)."""
    lowered = action.lower()
    found = REFUSED.get(lowered, (frozenset(), ""))[0]
    if lowered.startswith(_FEDERATED_REFUSED_SERVICES) and lowered != "sts:getcalleridentity":
        found = found | {"federated_session"}
    return found
