"""The questions users ask, each built on ``implies`` (engine.py), each
answered as a ``Check`` — PASS, FAIL with a witness request the kernel
confirms, or UNKNOWN with the reason. A solver timeout is UNKNOWN, never PASS.

- ``check_no_new_access(new, existing)``: PASS iff everything NEW allows,
  EXISTING allows (IAM Access Analyzer's CheckNoNewAccess): implies(new, existing).
- ``equivalent(a, b)``: both directions.
- ``check_access_not_granted(policy, actions, resources)``: PASS iff the
  policy allows none of the actions on none of the resources:
  implies(policy restricted to them, nothing).
- ``check_no_public_access(policy, resource_type)``: PASS iff no anonymous
  caller, and no caller of an account the policy does not know, is allowed
  (stack.py, with the keys an outsider cannot choose fixed to an outsider's).
- ``can_be_allowed(scenario)``: is any request the scenario leaves open
  allowed by the whole policy set (stack.py)? PASS: proven never, with the
  layers that forbid it; FAIL: a witness request.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..kernel.catalogue import CATALOGUE
from ..kernel.engine import Engine, PolicyLayer
from ..errors import ScenarioError
from ..inputs import quote
from ..kernel.request import resource_account_of
from ..kernel.rules import LAYER_ORDER
from ..scenario import PolicyText, check_request, compile_policies, load_policy, policy_root_of, read_scenario
from ..translator.model import Effect, Policy, PolicyType
from .callers import open_principal
from .engine import WITNESS_ACCOUNT, Implication, implies
from .matching import Unsupported
from .stack import Open, can_be_allowed as _stack_allows

# Policy types whose statements name no principal.
ENCODED_TYPES = frozenset({PolicyType.IDENTITY, PolicyType.BOUNDARY, PolicyType.SESSION, PolicyType.SCP,
                           PolicyType.AWS_MANAGED})  # an AWS managed policy is an identity policy


@dataclass
class Check:
    result: str  # PASS | FAIL | UNKNOWN
    reasons: list[dict] = field(default_factory=list)
    witness: dict | None = None
    elapsed_ms: float = 0.0
    mode: str = "typed"
    catalogue: str = ""
    note: str | None = None
    witnesses: list[dict] = field(default_factory=list)  # equivalent: one per failing direction

    def to_dict(self) -> dict:
        out = {"result": self.result, "reasons": self.reasons, "witness": self.witness,
               "elapsed_ms": round(self.elapsed_ms, 1), "mode": self.mode, "catalogue": self.catalogue}
        if self.note:
            out["note"] = self.note
        if self.witnesses:
            out["witnesses"] = self.witnesses
        return out


def _policy(raw, policy_type: PolicyType, name: str) -> Policy:
    """Read as the kernel reads a scenario's policies: errors that leave a
    policy evaluable (a missing Version, say) do not stop the check. A str
    is the document's JSON text, never a path; a path is an os.PathLike."""
    if isinstance(raw, str) and not isinstance(raw, PolicyText):
        raw = PolicyText(raw)
    return load_policy(raw, policy_type, name, None, None)[1]


def _trace(policy: Policy, request: dict):
    layer = "identity" if policy.policy_type in ENCODED_TYPES else "resource"
    return Engine([PolicyLayer(layer, "the policy", [(policy.name, policy)])]).trace(request)


def _allows(trace) -> bool:
    """What one policy allows: some Allow statement matches and no Deny does
    (SEMANTICS §1.1, §3) — read off the kernel's per-statement matcher. This
    is not a request's decision (no other layer takes part), which is why it
    is not asked of the rules."""
    effects = {ref.statement.effect for ref in trace.matched}
    return Effect.ALLOW in effects and Effect.DENY not in effects


def _replay(found, allowing: Policy, denying: Policy):
    """The witness as a scenario request, and the statements of ``allowing``
    that grant it — or None when the kernel does not confirm it."""
    request = {"principal": found.principal, "action": found.action, "resource": found.resource,
               "resource_account": WITNESS_ACCOUNT, "context": found.context, "derive_context": False}
    granted = _trace(allowing, request)
    if not _allows(granted) or _allows(_trace(denying, request)):
        return None
    return request, [ref.to_dict() for ref in granted.matched if ref.statement.effect is Effect.ALLOW]


def _direction(a: Policy, b: Policy, timeout_ms: int, typed: bool) -> tuple[Implication, tuple | None]:
    result = implies(a, b, timeout_ms, typed)
    if result.holds is False:
        replayed = _replay(result.counterexample, a, b)
        if replayed is None:
            return Implication(None, why="internal error: the kernel does not confirm the solver's witness "
                                         f"{result.counterexample}"), None
        return result, replayed
    return result, None


def check_no_new_access(new, existing, policy_type: PolicyType | str = PolicyType.IDENTITY,
                        timeout_ms: int = 30_000, typed: bool = True) -> Check:
    """PASS iff everything ``new`` allows, ``existing`` allows too."""
    started = time.perf_counter()
    policy_type = PolicyType(policy_type)
    new_p = _policy(new, policy_type, "new")
    old_p = _policy(existing, policy_type, "existing")
    return _finish(_one_direction(*_direction(new_p, old_p, timeout_ms, typed), typed), started)


def _one_direction(result: Implication, replayed, typed: bool) -> Check:
    """PASS when the implication holds, FAIL with the replayed witness and the
    statements that grant it, UNKNOWN with the reason."""
    check = _unknown(typed)
    if result.holds is True:
        check.result = "PASS"
    elif result.holds is False:
        check.result = "FAIL"
        check.witness, check.reasons = replayed
    else:
        check.note = result.why
    return check


def equivalent(a, b, policy_type: PolicyType | str = PolicyType.IDENTITY, timeout_ms: int = 30_000,
               typed: bool = True) -> Check:
    """PASS iff ``a`` and ``b`` allow exactly the same requests; a witness
    for each direction that differs."""
    started = time.perf_counter()
    policy_type = PolicyType(policy_type)
    check = _unknown(typed)
    pa, pb = _policy(a, policy_type, "a"), _policy(b, policy_type, "b")
    results = []
    for label, x, y in (("a allows more than b", pa, pb), ("b allows more than a", pb, pa)):
        result, replayed = _direction(x, y, timeout_ms, typed)
        results.append(result)
        if result.holds is False:
            request, reasons = replayed
            check.witnesses.append({"direction": label, "request": request, "reasons": reasons})
        elif result.holds is None:
            check.note = result.why
    if any(r.holds is False for r in results):
        check.result = "FAIL"
        check.witness = check.witnesses[0]["request"]
        check.reasons = check.witnesses[0]["reasons"]
    elif all(r.holds is True for r in results):
        check.result = "PASS"
    return _finish(check, started)


def _unknown(typed: bool) -> Check:
    """A check not decided yet, stating the mode and the catalogue version."""
    return Check("UNKNOWN", mode="typed" if typed else "untyped", catalogue=CATALOGUE.version)


def _finish(check: Check, started: float) -> Check:
    check.elapsed_ms = (time.perf_counter() - started) * 1000
    return check


def _texts(values, field_name: str) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str):
        return [values]
    if not all(isinstance(v, str) for v in values):
        raise ScenarioError(field_name, "expected strings")
    return list(values)


def check_access_not_granted(policy, actions=None, resources=None,
                             policy_type: PolicyType | str = PolicyType.IDENTITY, timeout_ms: int = 30_000,
                             typed: bool = True) -> Check:
    """PASS iff the policy allows none of ``actions`` (patterns; any action
    when omitted) on none of ``resources`` (patterns; any when omitted)
    (IAM Access Analyzer's CheckAccessNotGranted). At least one is given."""
    started = time.perf_counter()
    policy_type = PolicyType(policy_type)
    actions, resources = _texts(actions, "actions"), _texts(resources, "resources")
    if not actions and not resources:
        raise ScenarioError("actions", "give the actions, the resources, or both")
    policy = _policy(policy, policy_type, "policy")
    # The access asked about, as Denies of everything else: what the result
    # still allows is exactly what the policy grants of that access.
    scope = []
    principal = {"Principal": "*"} if policy_type not in ENCODED_TYPES else {}
    if actions:
        scope.append({"Effect": "Deny", **principal, "NotAction": actions, "Resource": "*"})
    if resources:
        scope.append({"Effect": "Deny", **principal, "Action": "*", "NotResource": resources})
    limits = _policy({"Version": "2012-10-17", "Statement": scope}, policy_type, "the access asked about")
    scoped = dataclasses.replace(policy, statements=policy.statements + limits.statements)
    nothing = dataclasses.replace(policy, statements=())
    # The reasons are the Allows that grant the witness: the policy's own
    # statements (the scope adds Denies only).
    return _finish(_one_direction(*_direction(scoped, nothing, timeout_ms, typed), typed), started)


# Resource types whose policies can grant public access, and the service whose
# actions they govern.
PUBLIC_RESOURCE_TYPES = {
    "AWS::S3::Bucket": "s3", "AWS::S3::AccessPoint": "s3", "AWS::S3::Glacier": "glacier",
    "AWS::S3Express::DirectoryBucket": "s3express", "AWS::S3Express::AccessPoint": "s3express",
    "AWS::S3Outposts::Bucket": "s3-outposts", "AWS::S3Outposts::AccessPoint": "s3-outposts",
    "AWS::S3Tables::TableBucket": "s3tables", "AWS::S3Tables::Table": "s3tables",
    "AWS::KMS::Key": "kms", "AWS::SQS::Queue": "sqs", "AWS::SNS::Topic": "sns",
    "AWS::Lambda::Function": "lambda", "AWS::SecretsManager::Secret": "secretsmanager",
    "AWS::IAM::AssumeRolePolicyDocument": "sts", "AWS::DynamoDB::Table": "dynamodb",
    "AWS::DynamoDB::Stream": "dynamodb", "AWS::EFS::FileSystem": "elasticfilesystem",
    "AWS::OpenSearchService::Domain": "es", "AWS::Kinesis::Stream": "kinesis",
    "AWS::Kinesis::StreamConsumer": "kinesis", "AWS::ECR::Repository": "ecr",
    "AWS::ApiGateway::RestApi": "execute-api", "AWS::CodeArtifact::Domain": "codeartifact",
    "AWS::Backup::BackupVault": "backup", "AWS::CloudTrail::Dashboard": "cloudtrail",
    "AWS::CloudTrail::EventDataStore": "cloudtrail",
}

# Keys that describe who the caller is or which network it comes through:
# an outsider cannot choose them. For the public question they are absent
# (an empty list is an absent key), or derived from the outsider's identity.
OUTSIDER_ABSENT_KEYS = (
    "aws:PrincipalOrgID", "aws:PrincipalOrgPaths", "aws:PrincipalServiceName", "aws:PrincipalServiceNamesList",
    "aws:SourceVpc", "aws:SourceVpce", "aws:SourceVpcArn", "aws:VpcSourceIp", "aws:SourceAccount",
    "aws:SourceArn", "aws:SourceOrgID", "aws:SourceOrgPaths", "aws:SourceOwner", "aws:CalledVia",
    "aws:CalledViaFirst", "aws:CalledViaLast", "aws:Ec2InstanceSourceVpc", "aws:Ec2InstanceSourcePrivateIPv4",
)
# An address of the public internet no policy names by accident (TEST-NET-2,
# RFC 5737).
OUTSIDER_SOURCE_IP = "198.51.100.10"
_ANY_POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def check_no_public_access(policy, resource_type: str = "AWS::S3::Bucket", timeout_ms: int = 30_000,
                           typed: bool = True) -> Check:
    """PASS iff the resource policy grants no access to the public: no
    anonymous caller, and no caller from an account the policy does not name
    (whose own policies allow it everything), is allowed any action of the
    resource type's service, with any values of the keys a caller can choose
    and an outsider's values of the others (OUTSIDER_ABSENT_KEYS,
    OUTSIDER_SOURCE_IP) — so conditions such as aws:PrincipalOrgID or
    aws:SourceVpce restrict, and aws:Referer does not."""
    started = time.perf_counter()
    service = PUBLIC_RESOURCE_TYPES.get(resource_type)
    if service is None:
        raise ScenarioError("resource_type", f"{quote(resource_type)} is not a resource type whose policy can grant "
                                             f"public access (one of {', '.join(sorted(PUBLIC_RESOURCE_TYPES))})")
    policy_type = PolicyType.TRUST if resource_type == "AWS::IAM::AssumeRolePolicyDocument" else PolicyType.RESOURCE
    resource = _policy(policy, policy_type, "policy")
    mentioned = set(re.findall(r"\b\d{12}\b", " ".join(e.value for st in resource.statements
                                                          for e in (st.principal or ()) + (st.not_principal or ()))))
    account = next(a for a in ("999999999999", "999999999998", "999999999997", "999999999996") if a not in mentioned)
    outsider = f"arn:aws:iam::{account}:user/outsider"
    engine = compile_policies({"identity": [_ANY_POLICY], "resource": resource})
    context = {k: [] for k in OUTSIDER_ABSENT_KEYS}
    context["aws:SourceIp"] = OUTSIDER_SOURCE_IP
    check = _unknown(typed)
    # The anonymous caller, then the outsider (whose calls to KMS carry its
    # own account as kms:CallerAccount).
    for principal, caller_account in ((None, []), (outsider, account)):
        question = Open([principal], f"{service}:*", None, WITNESS_ACCOUNT,
                        {**context, "kms:CallerAccount": caller_account})
        result = _stack_allows(engine, question, timeout_ms, typed=typed)
        if result.holds is not False:
            break
    _conclude(check, engine, question, result)
    return _finish(check, started)


def _conclude(check: Check, engine: Engine, question: Open, result: Implication) -> None:
    """PASS when nothing is allowed; FAIL with the witness the kernel
    confirms (else UNKNOWN, an internal error); UNKNOWN with the reason."""
    if result.holds is False:
        check.result = "PASS"
        return
    if result.holds is None:
        check.note = result.why
        return
    found = result.counterexample
    # An empty list is an absent key (kernel/conditions.py): leave those out.
    context = {k: v for k, v in found.context.items() if v != []}
    request = {"principal": found.principal, "action": found.action, "resource": found.resource,
               "context": context, "derive_context": question.derive_context}
    if question.resource_account is not None:
        request["resource_account"] = question.resource_account
    decision = engine.decide(request)
    if decision.decision != "allow":
        check.note = f"internal error: the kernel does not confirm the solver's witness {request}"
        return
    check.result = "FAIL"
    check.witness = request
    trace = engine.trace(request)
    check.reasons = [ref.to_dict() for ref in trace.matched if ref.statement.effect is Effect.ALLOW]


_FREE = ("*", None)


def can_be_allowed(scenario, timeout_ms: int = 30_000, typed: bool = True, base_dir=None,
                   policy_root=None) -> Check:
    """Is any request the scenario leaves open allowed by its whole policy
    set? The request's principal, action and resource may be fixed, patterns
    (``arn:aws:s3:::prod-*``) or left out (any); context keys given are
    fixed, the others free. PASS: proven never, ``reasons`` name the layers
    that forbid it; FAIL: ``witness`` is an allowed request. ``scenario``: an
    object, its JSON text, or a pathlib.Path; its policy paths are relative
    to its folder (``base_dir`` for an object) and stay inside it unless
    ``policy_root`` names a wider one."""
    started = time.perf_counter()
    raw, folder = read_scenario(scenario)
    if not isinstance(raw, Mapping) or "policies" not in raw:
        raise ScenarioError("policies", "missing")
    engine = compile_policies(raw["policies"], folder or base_dir, policy_root_of(policy_root))
    request = raw.get("request") or {}
    if not isinstance(request, Mapping):
        raise ScenarioError("request", "expected an object")
    unknown = [k for k in request if k not in ("principal", "action", "resource", "resource_account", "context",
                                               "derive_context")]
    if unknown:
        raise ScenarioError(f"request.{unknown[0]}", "unknown field")
    check_request(request)
    if request.get("resource_account") is not None and not isinstance(request["resource_account"], str):
        raise ScenarioError("request.resource_account", "expected a 12-digit account id")
    if not isinstance(request.get("derive_context", True), bool):
        raise ScenarioError("request.derive_context", "expected true or false")
    for name in ("action", "resource"):
        if request.get(name) is not None and not isinstance(request[name], str):
            raise ScenarioError(f"request.{name}", "expected a string (a pattern may use * and ?)")
    context = request.get("context") or {}
    if not isinstance(context, Mapping):
        raise ScenarioError("request.context", "expected an object of condition keys")
    check = _unknown(typed)
    if "principal" in request and request["principal"] != "*":
        principals = [request["principal"]]
    else:
        # Any caller: one of every kind the kernel tells apart, in every
        # account that can matter, and each caller the policies name.
        resource = request.get("resource")
        try:
            principals = open_principal([p for layer in engine.layers for _, p in layer.policies],
                                        [request.get("resource_account"), resource_account_of(resource)
                                         if isinstance(resource, str) else None])
        except Unsupported as e:
            check.note = str(e)
            return _finish(check, started)
    question = Open(principals, request.get("action"), None if request.get("resource") in _FREE
                    else request["resource"], request.get("resource_account"), dict(context),
                    request.get("derive_context", True))
    result = _stack_allows(engine, question, timeout_ms, typed=typed)
    _conclude(check, engine, question, result)
    if check.result == "PASS":
        check.reasons = _forbidding_layers(engine, question, timeout_ms, typed)
    return _finish(check, started)


def _forbidding_layers(engine: Engine, question: Open, timeout_ms: int, typed: bool) -> list[dict]:
    """The layers that forbid it: each one which, if it allowed everything
    and denied nothing, would let some request through."""
    out = []
    order = sorted(engine.layers, key=lambda l: LAYER_ORDER.index(l.family) if l.family in LAYER_ORDER
                   else len(LAYER_ORDER))
    for layer in order:
        result = _stack_allows(engine, question, timeout_ms, ignore=frozenset({layer.name}), typed=typed)
        if result.holds is None:
            out.append({"layer": layer.name, "label": layer.label,
                        "why": f"undecided whether {layer.label} forbids it: {result.why}"})
        elif result.holds:
            out.append({"layer": layer.name, "label": layer.label,
                        "why": f"without {layer.label} some request would be allowed"})
    if not out:
        out.append({"layer": None, "label": "the policy set",
                    "why": "no single layer: no path through the policies grants it"})
    return out
