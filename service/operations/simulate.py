"""The Policy Simulator's operations: SimulatePrincipalPolicy,
SimulateCustomPolicy, GetContextKeysForPrincipalPolicy and
GetContextKeysForCustomPolicy — every decision the kernel's, shaped by
iamlogic/simulator.py as the offline simulator shapes them.

What the simulation covers (as the IAM Policy Simulator does: IAM User
Guide, "Testing IAM policies with the IAM policy simulator"): the identity
policies of the principal (inline, attached, its groups'), the given
PolicyInputList, the permissions boundary (the principal's, or
PermissionsBoundaryPolicyInputList), ResourcePolicy, and for
SimulatePrincipalPolicy the SCP levels above the principal's account when it
is in an imported organization (IAM API Reference, EvaluationResult:
OrganizationsDecisionDetail "Only applies if the simulated user's account is
part of an organization"). RCPs are not simulated.
"""

from __future__ import annotations

from ...simulator import evaluation_result
from ...translator import PolicyType
from ..authz import default_document, engine_for, policy_set
from ..identity import Caller
from ..registry import Call, InvalidInput, NoSuchEntity, operation
from . import common as c

_LIST_TYPES = {"stringList", "numericList", "booleanList", "ipList", "binaryList", "dateList"}


def _context(call: Call) -> dict:
    out = {}
    for entry in call.params.get("ContextEntries") or []:
        values = entry.get("ContextKeyValues") or []
        out[entry["ContextKeyName"]] = values if entry.get("ContextKeyType") in _LIST_TYPES else (
            values[0] if values else "")
    return out


def _source(call: Call) -> tuple[Caller | None, dict]:
    """The principal a PolicySourceArn names and its policy set."""
    arn = call.params["PolicySourceArn"]
    row = call.store.entity_by_arn(arn, call.db)
    if row is None or row["account"] != call.account or row["kind"] not in ("user", "group", "role"):
        raise NoSuchEntity(f"Entity {arn} does not exist.")
    if row["kind"] == "group":
        texts = [(f"group/{row['name']} inline policy {n}", d) for n, d in call.db.execute(
            "SELECT name, document FROM inline_policies WHERE account = ? AND owner_kind = 'group' AND owner = ?",
            (call.account, row["name"]))]
        for (policy,) in call.db.execute("SELECT policy_arn FROM attachments WHERE account = ? AND owner_kind = 'group' "
                                         "AND owner = ?", (call.account, row["name"])):
            texts.append((f"group/{row['name']} attached {policy}", default_document(call.db, policy)))
        return None, {"identity": texts}
    kind = "user" if row["kind"] == "user" else "role_session"
    caller = Caller(call.account, row["arn"], kind, row["name"], row["id"])
    found = policy_set(call.db, caller)
    kept = {k: v for k, v in found.items() if k in ("identity", "boundary") or k.startswith("scp/")}
    kept["_labels"] = [(k, label) for k, label in found.get("_labels", []) if k.startswith("scp/")]
    return caller, kept


def _simulate(call: Call, policies: dict, caller_arn: str) -> dict:
    p = call.params
    for i, text in enumerate(p.get("PolicyInputList") or []):
        c.check_document(text)
        policies.setdefault("identity", []).append((f"PolicyInputList.{i + 1}", text))
    if p.get("PermissionsBoundaryPolicyInputList"):
        policies["boundary"] = [(f"PermissionsBoundaryPolicyInputList.{i + 1}", c.check_document(t, PolicyType.BOUNDARY))
                                for i, t in enumerate(p["PermissionsBoundaryPolicyInputList"])]
    if p.get("ResourcePolicy"):
        policies["resource"] = [("ResourcePolicy", c.check_document(p["ResourcePolicy"], PolicyType.RESOURCE))]
    engine = engine_for(policies)
    owner = p.get("ResourceOwner")
    account = owner.split(":")[4] if owner and owner.startswith("arn:") and owner.count(":") >= 5 else owner
    context = _context(call)
    results = []
    for action in p["ActionNames"]:
        for resource in p.get("ResourceArns") or ["*"]:
            d = engine.decide({"principal": caller_arn, "action": action, "resource": resource,
                               "resource_account": account, "context": context})
            result = evaluation_result(d)
            result["MatchedStatements"] = [_matched(ref) for ref in d.matched]
            if d.signature.scp_levels:
                result["OrganizationsDecisionDetail"] = {"AllowedByOrganizations": d.blocked_by != "scp"}
            results.append(result)
    return {"EvaluationResults": results}


def _matched(ref) -> dict:
    pid = ref.policy_id
    kind = ("user" if pid.startswith("user/") else "group" if pid.startswith("group/") else
            "role" if pid.startswith("role/") else "resource" if pid == "ResourcePolicy" else "none")
    entry = {"SourcePolicyId": pid.rsplit(" ", 1)[-1], "SourcePolicyType": kind}
    span = ref.statement.span
    if span is not None:
        entry["StartPosition"] = {"Line": span.line, "Column": span.column}
        entry["EndPosition"] = {"Line": span.end_line, "Column": span.end_column}
    return entry


@operation("iam", "SimulatePrincipalPolicy", resource=lambda call: call.params["PolicySourceArn"])
def simulate_principal_policy(call: Call) -> dict:
    caller, policies = _source(call)
    caller_arn = call.params.get("CallerArn") or (caller.arn if caller else None)
    if caller_arn is None:
        raise InvalidInput("Invalid input: a group is simulated with a CallerArn (a user in the group).")
    return _simulate(call, policies, caller_arn)


@operation("iam", "SimulateCustomPolicy")
def simulate_custom_policy(call: Call) -> dict:
    caller = call.params.get("CallerArn") or f"arn:aws:iam::{call.account}:user/SimulatedCaller"
    return _simulate(call, {}, caller)


def _keys(texts: list[str]) -> list[str]:
    from ...validation import parse_policy  # noqa: PLC0415
    found: dict[str, str] = {}
    for text in texts:
        policy = parse_policy(text, PolicyType.IDENTITY)
        for st in policy.statements:
            for clause in st.condition:
                found.setdefault(clause.key.lower(), clause.key)
    return sorted(found.values(), key=str.lower)


def _readable(text: str) -> str:
    """The document, or InvalidInput with the validator's IAM message: the operation's only error
    (IAM API Reference, GetContextKeysForCustomPolicy, Errors)."""
    try:
        return c.check_document(text)
    except c.ServiceError as e:
        raise InvalidInput(e.message) from None


@operation("iam", "GetContextKeysForCustomPolicy")
def context_keys_custom(call: Call) -> dict:
    texts = [_readable(t) for t in call.params["PolicyInputList"]]
    return {"ContextKeyNames": _keys(texts)}


@operation("iam", "GetContextKeysForPrincipalPolicy", resource=lambda call: call.params["PolicySourceArn"])
def context_keys_principal(call: Call) -> dict:
    _, policies = _source(call)
    texts = [t for name, layer in policies.items() if name in ("identity", "boundary") for _, t in layer if t]
    texts += [c.check_document(t) for t in call.params.get("PolicyInputList") or []]
    return {"ContextKeyNames": _keys(texts)}
