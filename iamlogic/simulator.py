"""The IAM Policy Simulator's ``SimulateCustomPolicy`` request and response
shapes, read into scenarios and written from decisions."""

from __future__ import annotations

from collections.abc import Mapping

from .errors import ScenarioError
from .inputs import quote
from .scenario import PolicyText
from .kernel.decision import Decision

REQUEST_KEYS = ("PolicyInputList", "PermissionsBoundaryPolicyInputList", "ActionNames", "ResourceArns",
                "ResourcePolicy", "ResourceOwner", "CallerArn", "ContextEntries", "ResourceHandlingOption",
                "MaxItems", "Marker")
_LIST_TYPES = {"stringList", "numericList", "booleanList", "ipList", "binaryList", "dateList"}
_TYPES = {"string", "numeric", "boolean", "ip", "binary", "date"} | _LIST_TYPES
# Without CallerArn the Simulator evaluates the identity policies as those of
# a user in the resource owner's account; this is that user.
# One request per action × resource: a bound on that cross product.
MAX_REQUESTS = 100_000
SIMULATED_CALLER = "arn:aws:iam::{account}:user/SimulatedCaller"


def is_simulator_request(raw: object) -> bool:
    return isinstance(raw, Mapping) and "PolicyInputList" in raw and "ActionNames" in raw


def scenarios(raw: Mapping) -> tuple[dict, list[dict]]:
    """(policies, requests) for a SimulateCustomPolicy request: one request per
    action × resource, as the Simulator evaluates them."""
    unknown = [k for k in raw if k not in REQUEST_KEYS]
    if unknown:
        raise ScenarioError(unknown[0], f"not a SimulateCustomPolicy field ({', '.join(REQUEST_KEYS)})")
    # The Simulator's policies are JSON text, never paths.
    policies: dict = {"identity": [PolicyText(p) for p in _strings(raw, "PolicyInputList")]}
    if raw.get("PermissionsBoundaryPolicyInputList"):
        policies["boundary"] = [PolicyText(p) for p in _strings(raw, "PermissionsBoundaryPolicyInputList")]
    if raw.get("ResourcePolicy") is not None:
        if not isinstance(raw["ResourcePolicy"], str):
            raise ScenarioError("ResourcePolicy", "expected the policy as a JSON string")
        policies["resource"] = PolicyText(raw["ResourcePolicy"])
    owner = raw.get("ResourceOwner")
    account = None
    if owner is not None:
        if not isinstance(owner, str):
            raise ScenarioError("ResourceOwner", "expected an account ARN (arn:aws:iam::ACCOUNT:root) or id")
        account = owner.split(":")[4] if owner.startswith("arn:") and owner.count(":") >= 5 else owner
    caller = raw.get("CallerArn") or SIMULATED_CALLER.format(account=account or "123456789012")
    if not isinstance(caller, str):
        raise ScenarioError("CallerArn", "expected an ARN string")
    context = {}
    entries = raw.get("ContextEntries") or []
    if not isinstance(entries, list):
        raise ScenarioError("ContextEntries", "expected a list of {ContextKeyName, ContextKeyValues, ContextKeyType}")
    for i, entry in enumerate(entries):
        where = f"ContextEntries[{i}]"
        if not isinstance(entry, Mapping) or not isinstance(entry.get("ContextKeyName"), str):
            raise ScenarioError(where, "expected {ContextKeyName, ContextKeyValues, ContextKeyType}")
        kind = entry.get("ContextKeyType", "string")
        if not isinstance(kind, str) or kind not in _TYPES:
            raise ScenarioError(f"{where}.ContextKeyType", f"{quote(kind)} is not one of {', '.join(sorted(_TYPES))}")
        values = entry.get("ContextKeyValues") or []
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise ScenarioError(f"{where}.ContextKeyValues", "expected a list of strings")
        context[entry["ContextKeyName"]] = values if kind in _LIST_TYPES else (values[0] if values else "")
    actions = _strings(raw, "ActionNames")
    resources = _strings(raw, "ResourceArns") if raw.get("ResourceArns") else ["*"]
    if len(actions) * len(resources) > MAX_REQUESTS:
        raise ScenarioError("ActionNames",
                            f"{len(actions):,} ActionNames × {len(resources):,} ResourceArns make "
                            f"{len(actions) * len(resources):,} requests, more than the {MAX_REQUESTS:,} one "
                            "simulation decides (split the request)")
    requests = [{"principal": caller, "action": a, "resource": r, "resource_account": account, "context": context}
                for a in actions for r in resources]
    return policies, requests


def _strings(raw: Mapping, key: str) -> list[str]:
    value = raw.get(key)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ScenarioError(key, "expected a list of strings")
    return value


_DECISIONS = {"allow": "allowed", "explicit_deny": "explicitDeny", "implicit_deny": "implicitDeny"}
_SOURCE = {"identity": ("PolicyInputList", "none"), "boundary": ("PermissionsBoundaryPolicyInputList", "none"),
           "resource": ("ResourcePolicy", "resource")}


def response(decisions: list[Decision]) -> dict:
    """The SimulateCustomPolicy response for these decisions."""
    return {"EvaluationResults": [evaluation_result(d) for d in decisions], "IsTruncated": False}


def evaluation_result(d: Decision) -> dict:
    """One EvaluationResult of the response: the decision on one action × resource."""
    matched = []
    for ref in d.matched_statements:
        prefix, kind = _SOURCE.get(ref.layer, (ref.layer, "none"))
        index = ref.policy_id.rsplit("[", 1)[-1].rstrip("]")
        source = f"{prefix}.{int(index) + 1}" if index.isdigit() else prefix
        entry = {"SourcePolicyId": source, "SourcePolicyType": kind}
        span = ref.statement.span
        if span is not None and not ref.statement.source.rendered:
            entry["StartPosition"] = {"Line": span.line, "Column": span.column}
            entry["EndPosition"] = {"Line": span.end_line, "Column": span.end_column}
        matched.append(entry)
    result = {
        "EvalActionName": d.request.action,
        "EvalResourceName": d.request.resource,
        "EvalDecision": _DECISIONS[d.decision],
        "MatchedStatements": matched,
        "MissingContextValues": list(d.missing_context_keys),
    }
    if "boundary" in d.signature.applies:
        result["PermissionsBoundaryDecisionDetail"] = {
            "AllowedByPermissionsBoundary": "boundary" in d.signature.allows and "boundary" not in d.signature.denies}
    if "resource" in d.signature.applies:
        result["EvalDecisionDetails"] = {"ResourcePolicy": _resource_decision(d)}
    return result


def _resource_decision(d: Decision) -> str:
    if "resource" in d.signature.denies:
        return "explicitDeny"
    return "allowed" if d.signature.resource_grants else "implicitDeny"
