"""Authorization of a call by the kernel: the caller's policy set read from
the store, the request context AWS builds, the decision, AWS's denial
message naming the blocking layer, and the decision log.

The kernel decides (kernel/engine.py); this module only gathers what it
decides on. Compiled engines are cached by the exact texts of the policy set
(so a change by any process, or a second process on the same file, is seen
at the next call: the texts are read from the store every time, which costs a
few indexed SELECTs).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections import OrderedDict

from ..errors import IamlogicError, ScenarioError
from ..kernel.engine import Engine, PolicyLayer
from ..kernel.rcp_scope import rcps_govern
from ..translator import PolicyType
from ..validation import parse_policy
from .identity import Caller
from .registry import AccessDenied, InvalidInput

_LOCK = threading.Lock()
_ENGINES: "OrderedDict[tuple, Engine]" = OrderedDict()
_POLICIES: "OrderedDict[tuple, object]" = OrderedDict()
ENGINE_CACHE = 2048
POLICY_CACHE = 8192

_TYPES = {"identity": PolicyType.IDENTITY, "boundary": PolicyType.BOUNDARY, "session": PolicyType.SESSION,
          "resource": PolicyType.RESOURCE, "scp": PolicyType.SCP, "rcp": PolicyType.RCP}
_LABELS = {"identity": "the identity policies", "boundary": "the permissions boundary",
           "session": "the session policy", "resource": "the resource policy"}


def _policy(text: str, kind: str, name: str):
    key = (text, kind, name)
    found = _POLICIES.get(key)
    if found is None:
        # Stored documents were validated when written; what the kernel cannot
        # read exactly still raises here (fail closed: the call is denied).
        found = parse_policy(text, _TYPES[kind], name)
        with _LOCK:
            _POLICIES[key] = found
            while len(_POLICIES) > POLICY_CACHE:
                _POLICIES.popitem(last=False)
    return found


def default_document(db, policy_arn: str) -> str | None:
    row = db.execute("SELECT document FROM policy_versions WHERE policy_arn = ? AND is_default = 1",
                     (policy_arn,)).fetchone()
    return row[0] if row else None


def policy_set(db, caller: Caller) -> dict[str, list[tuple[str, str]]]:
    """layer → [(policy id, document text)] for the caller, from the store."""
    out: dict[str, list[tuple[str, str]]] = {}
    a = caller.account
    if caller.kind == "user":
        owners = [("user", caller.name)] + [
            ("group", r[0]) for r in db.execute("SELECT group_name FROM members WHERE account = ? AND user_name = ? "
                                                "ORDER BY group_name", (a, caller.name))]
        entity = ("user", caller.name)
    elif caller.kind == "role_session":
        owners = [("role", caller.name)]
        entity = ("role", caller.name)
    elif caller.kind == "federated_session" and caller.extra.get("federating_user"):
        # GetFederationToken: the session has the calling user's permissions, capped by its session policy.
        user = caller.extra["federating_user"]
        owners = [("user", user)] + [
            ("group", r[0]) for r in db.execute("SELECT group_name FROM members WHERE account = ? AND user_name = ? "
                                                "ORDER BY group_name", (a, user))]
        entity = ("user", user)
    else:
        owners, entity = [], None
    identity = []
    for kind, name in owners:
        for pname, doc in db.execute("SELECT name, document FROM inline_policies WHERE account = ? AND owner_kind = ? "
                                     "AND owner = ? ORDER BY name", (a, kind, name)):
            identity.append((f"{kind}/{name} inline policy {pname}", doc))
        for (arn,) in db.execute("SELECT policy_arn FROM attachments WHERE account = ? AND owner_kind = ? AND owner = ? "
                                 "ORDER BY policy_arn", (a, kind, name)):
            doc = default_document(db, arn)
            if doc is not None:
                identity.append((f"{kind}/{name} attached {arn}", doc))
    if caller.kind == "user":
        row = db.execute("SELECT password_policy FROM accounts WHERE id = ?", (a,)).fetchone()
        if row and row[0] and json.loads(row[0]).get("AllowUsersToChangePassword"):
            # IAM API Reference, PasswordPolicy: AllowUsersToChangePassword "gives IAM users permissions
            # to iam:ChangePassword for only their user and to the iam:GetAccountPasswordPolicy action",
            # applied by IAM to all users: a statement of theirs the kernel decides (readings S13).
            identity.append(("the account password policy's AllowUsersToChangePassword", json.dumps({
                "Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Action": "iam:ChangePassword", "Resource": caller.arn},
                    {"Effect": "Allow", "Action": "iam:GetAccountPasswordPolicy", "Resource": "*"}]})))
    if owners or caller.kind == "federated_session":
        out["identity"] = identity
    if entity is not None:
        row = db.execute("SELECT data FROM entities WHERE account = ? AND kind = ? AND name = ?",
                         (a, *entity)).fetchone()
        boundary = json.loads(row[0]).get("PermissionsBoundary") if row else None
        if boundary:
            doc = default_document(db, boundary)
            # A boundary naming a policy that is gone allows nothing (fail closed).
            out["boundary"] = [(f"permissions boundary {boundary}",
                                doc or '{"Version":"2012-10-17","Statement":[]}')]
    if caller.temporary and caller.session_policies:
        out["session"] = [(f"session policy {i + 1}", text) for i, text in enumerate(caller.session_policies)]
    for kind in ("scp", "rcp"):
        add_org_levels(db, out, a, kind)
    return out


def add_org_levels(db, out: dict, account: str, kind: str) -> None:
    """The SCP or RCP levels above ``account`` (importer.py), as layers ``kind/position``."""
    levels = db.execute("SELECT position, name, documents FROM org_levels WHERE account = ? AND kind = ? "
                        "ORDER BY position", (account, kind)).fetchall()
    for position, name, documents in levels:
        out[f"{kind}/{position}"] = [(f"{kind.upper()} {name} [{i}]", d) for i, d in enumerate(json.loads(documents))]
        out.setdefault("_labels", []).append((f"{kind}/{position}", f"the {kind.upper()} level {name}"))


def without_rcps(policies: dict) -> dict:
    out = {k: v for k, v in policies.items() if not k.startswith("rcp/")}
    if "_labels" in out:
        out["_labels"] = [(k, label) for k, label in out["_labels"] if not k.startswith("rcp/")]
    return out


def resource_account(arn: str) -> str | None:
    """The account an ARN names (its fifth field), or None (``*``, an ARN without one)."""
    parts = arn.split(":", 5)
    return parts[4] or None if len(parts) == 6 and parts[0] == "arn" else None


def engine_for(policies: dict[str, list[tuple[str, str]]], extra: dict | None = None) -> Engine:
    """The compiled Engine for this policy set (cached by its texts)."""
    merged = dict(policies)
    for layer, texts in (extra or {}).items():
        merged[layer] = list(texts)
    labels = dict(merged.pop("_labels", []))
    key = tuple(sorted((layer, tuple(texts)) for layer, texts in merged.items()))
    found = _ENGINES.get(key)
    if found is not None:
        return found
    layers = []
    # The order the scenario compiler uses: identity, resource, boundary, session, then the levels.
    order = ["identity", "resource", "boundary", "session"]
    for name in order + sorted(k for k in merged if "/" in k):
        if name not in merged:
            continue
        family = name.split("/")[0]
        layer = PolicyLayer(name, labels.get(name) or _LABELS.get(name, f"the {name} policies"))
        for pid, text in merged[name]:
            layer.policies.append((pid, _policy(text, family, pid)))
        layers.append(layer)
    engine = Engine(layers)
    with _LOCK:
        _ENGINES[key] = engine
        while len(_ENGINES) > ENGINE_CACHE:
            _ENGINES.popitem(last=False)
    return engine


def tag_rows(db, account: str, kind: str, name: str) -> list[tuple[str, str]]:
    return [(k, v) for k, v in db.execute("SELECT key, value FROM tags WHERE account = ? AND owner_kind = ? AND "
                                          "owner = ? ORDER BY position", (account, kind, name))]


def request_context(db, caller: Caller, source_ip: str | None, secure: bool, now: float | None = None,
                    memo=None) -> dict:
    """The global keys AWS sets on every request by this caller (IAM User
    Guide, AWS global condition context keys)."""
    now = time.time() if now is None else now
    ctx: dict = {
        "aws:CurrentTime": dt.datetime.fromtimestamp(now, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "aws:EpochTime": str(int(now)),
        "aws:SecureTransport": secure,
        "aws:RequestedRegion": "us-east-1",
        "aws:userid": caller.user_id,
        "aws:PrincipalArn": caller.role_arn if caller.kind == "role_session" and caller.role_arn else caller.arn,
    }
    if source_ip:
        ctx["aws:SourceIp"] = source_ip
    if caller.kind == "user":
        ctx["aws:username"] = caller.name
    tags = []
    if caller.kind in ("user", "role_session"):
        kind = "user" if caller.kind == "user" else "role"
        key = ("tags", caller.account, kind, caller.name.lower())
        compute = lambda: tag_rows(db, caller.account, kind, caller.name)  # noqa: E731
        tags = memo(key, compute) if memo else compute()
    # Session tags override the role's tags of the same key (IAM User Guide, Passing session tags).
    merged = {k: v for k, v in tags}
    merged.update({k: v for k, v in caller.session_tags})
    for k, v in merged.items():
        ctx[f"aws:PrincipalTag/{k}"] = v
    # "aws:MultiFactorAuthPresent ... is not present when an API or CLI command is called with long-term
    # credentials" (IAM User Guide, global condition keys); temporary credentials carry it.
    if caller.temporary:
        ctx["aws:MultiFactorAuthPresent"] = caller.mfa_authenticated_at is not None
        if caller.mfa_authenticated_at is not None:
            ctx["aws:MultiFactorAuthAge"] = str(max(0, int(now - caller.mfa_authenticated_at)))
    if caller.source_identity:
        ctx["aws:SourceIdentity"] = caller.source_identity
    compute = lambda: organization_of(db, caller.account)  # noqa: E731
    org = memo(("organization", caller.account), compute) if memo else compute()
    if org is not None:
        ctx["aws:PrincipalOrgID"] = org["id"]
        ctx["aws:PrincipalOrgPaths"] = [org["path"]]
    return ctx


def organization_of(db, account: str) -> dict | None:
    """The imported organization an account is in: {"id", "path"} (importer.py)."""
    row = db.execute("SELECT value FROM meta WHERE key = ?", (f"organization:{account}",)).fetchone()
    return json.loads(row[0]) if row else None


# ------------------------------------------------------------------ messages

_LAYER_WORDS = {"identity": ("an identity-based policy", "no identity-based policy"),
                "boundary": ("a permissions boundary", "no permissions boundary"),
                "session": ("a session policy", "no session policy"),
                "scp": ("a service control policy", "no service control policy"),
                "rcp": ("a resource control policy", "no resource control policy"),
                "resource": ("a resource-based policy", "no resource-based policy"),
                "vpc_endpoint": ("a VPC endpoint policy", "no VPC endpoint policy")}


def denial_message(caller_arn: str, action: str, resource: str, decision) -> str:
    """AWS's current AccessDenied message (IAM User Guide, Troubleshoot access
    denied error messages): the layer named as the kernel's blocked_by."""
    head = f"User: {caller_arn} is not authorized to perform: {action} on resource: {resource}"
    layer = decision.blocked_by or "identity"
    explicit, implicit = _LAYER_WORDS.get(layer, (f"a {layer} policy", f"no {layer} policy"))
    if decision.decision == "explicit_deny":
        return f"{head} with an explicit deny in {explicit}"
    return f"{head} because {implicit} allows the {action} action"


class DecisionLog:
    """JSON lines, one per decision, with the derivation. Never a secret:
    a line holds the caller's ARN and access key id, the action, the
    resource and the context keys the kernel read (no signature, no secret,
    no session token)."""

    def __init__(self, path: str | None):
        self.path = path
        self._lock = threading.Lock()
        self._file = open(path, "a", encoding="utf-8") if path else None  # noqa: SIM115 - kept open

    def write(self, request_id: str, caller: Caller, decision, context: dict) -> None:
        if self._file is None:
            return
        line = {
            "time": dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds"),
            "request_id": request_id,
            "caller": caller.arn,
            "access_key_id": caller.access_key_id,
            "action": decision.request.action,
            "resource": decision.request.resource,
            "decision": decision.decision,
            "blocked_by": decision.blocked_by,
            "explanation": decision.explain(),
            "matched_statements": [ref.to_dict() for ref in decision.matched],
            "context": {k: v for k, v in context.items()},
        }
        text = json.dumps(line, default=str) + "\n"
        with self._lock:
            self._file.write(text)
            self._file.flush()

    def unreadable(self, request_id: str, caller: Caller, action: str, resource: str, why: str) -> None:
        """A call denied because a policy of the caller's could not be read."""
        if self._file is None:
            return
        line = {"time": dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds"),
                "request_id": request_id, "caller": caller.arn, "access_key_id": caller.access_key_id,
                "action": action, "resource": resource, "decision": "implicit_deny", "blocked_by": None,
                "explanation": f"denied without a decision: a policy of the caller's cannot be read ({why})"}
        with self._lock:
            self._file.write(json.dumps(line) + "\n")
            self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def authorize(db, caller: Caller, action: str, resource: str, context: dict, extra_layers: dict,
              source_ip: str | None, secure: bool, log: DecisionLog, request_id: str, memo=None):
    """The kernel's decision; AccessDenied in AWS's words when it is not allow."""
    ctx = request_context(db, caller, source_ip, secure, memo=memo)
    ctx.update(context)
    key = ("policy_set", caller.account, caller.kind, caller.name.lower(), caller.session_policies,
           caller.extra.get("federating_user"))
    policies = memo(key, lambda: policy_set(db, caller)) if memo else policy_set(db, caller)
    if not rcps_govern(action):  # kernel/rcp_scope.py: IAM is not a service RCPs govern
        policies = without_rcps(policies)
    else:
        owner = resource_account(resource) or caller.account
        if owner != caller.account:
            # RCPs are attached to the resource's side: a role in another account is governed by the RCPs
            # above the ROLE's account, not the caller's (AWS Organizations User Guide, "Resource control
            # policies": they "apply to resources in member accounts"; readings A7).
            def rcps_of_owner():
                out = without_rcps(policies)
                add_org_levels(db, out, owner, "rcp")
                return out

            policies = memo((*key, "rcps of", owner), rcps_of_owner) if memo else rcps_of_owner()
    try:
        engine = engine_for(policies, extra_layers)
    except IamlogicError as e:
        # A stored policy the kernel cannot read exactly (an imported export may hold one): nothing
        # is decided without it, so the call is denied (fail closed), and the log says why.
        log.unreadable(request_id, caller, action, resource, str(e))
        raise AccessDenied(f"User: {caller.arn} is not authorized to perform: {action} on resource: {resource} "
                           "because no identity-based policy allows the " f"{action} action") from None
    principal = caller.arn
    try:
        decision = engine.decide({"principal": principal, "action": action, "resource": resource,
                                  "resource_account": caller.account if resource == "*" else None, "context": ctx})
    except ScenarioError:
        # The resource the request names is not an ARN (a malformed serial number, provider ARN …):
        # IAM refuses such a parameter as invalid.
        raise InvalidInput(f"ARN {resource} is not valid.") from None
    log.write(request_id, caller, decision, ctx)
    if not decision.allowed:
        raise AccessDenied(denial_message(caller.arn, action, resource, decision))
    return decision
