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

Each question has one Deadline (deadline.py) from its ``timeout_ms``, for
all its phases from the moment its policies are read (reading is linear in
their size and is not interrupted); at the deadline the answer is UNKNOWN. The questions run one
at a time in a process (serial.py).
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..kernel.catalogue import CATALOGUE
from ..kernel.engine import Engine, PolicyLayer
from ..errors import ScenarioError, UsageError
from ..inputs import quote
from ..kernel.request import resource_account_of
from ..kernel.rules import LAYER_ORDER
from ..scenario import PolicyText, check_request, compile_policies, load_policy, policy_root_of, read_scenario
from ..translator.model import Effect, Policy, PolicyType
from .callers import open_principal
from .deadline import Deadline, Timeout
from .engine import WITNESS_ACCOUNT, Implication, implies
from .matching import Unsupported
from . import outsider as O
from .serial import serialised
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


def _policy_type(value) -> PolicyType:
    try:
        return PolicyType(value)
    except ValueError:
        raise UsageError(f"policy_type: {quote(value)} is not one of {', '.join(t.value for t in PolicyType)}") \
            from None


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


def _direction(a: Policy, b: Policy, deadline: Deadline, typed: bool, every: bool = False
               ) -> tuple[Implication, tuple | None]:
    if every:
        return _every_direction(a, b, deadline, typed)
    result = implies(a, b, deadline, typed)
    if result.holds is False:
        if deadline.expired():  # found, but the replay would run past the deadline
            return Implication(None, why=deadline.why), None
        replayed = _replay(result.counterexample, a, b)
        if replayed is None:
            return Implication(None, why="internal error: the kernel does not confirm the solver's witness "
                                         f"{result.counterexample}"), None
        return result, replayed
    return result, None


def _every_direction(a: Policy, b: Policy, deadline: Deadline, typed: bool) -> tuple[Implication, tuple | None]:
    """Every action class ``a`` newly allows, each witness replayed through
    the kernel as it is found (within the deadline): (result, (first
    request, its reasons, [witness entries])). The classes not searched by
    the deadline are undecided (``result.undecided``, ``result.why``)."""
    def confirm(found):
        replayed = _replay(found, a, b)
        if replayed is None:
            return None
        request, reasons = replayed
        return {"actions": list(found.actions or (found.action,)), "request": request, "reasons": reasons}

    result = implies(a, b, deadline, typed, every=True, confirm=confirm)
    if result.holds is not False:
        return result, None
    entries = result.confirmed
    return result, (entries[0]["request"], entries[0]["reasons"], entries)


@serialised
def check_no_new_access(new, existing, policy_type: PolicyType | str = PolicyType.IDENTITY,
                        timeout_ms: int = 30_000, typed: bool = True, every: bool = False) -> Check:
    """PASS iff everything ``new`` allows, ``existing`` allows too.
    ``every``: on FAIL, a witness for every action class ``new`` newly
    allows (``witnesses``), not the first found."""
    started = time.perf_counter()
    policy_type = _policy_type(policy_type)
    new_p = _policy(new, policy_type, "new")
    old_p = _policy(existing, policy_type, "existing")
    deadline = Deadline(timeout_ms)
    return _finish(_one_direction(*_direction(new_p, old_p, deadline, typed, every), typed), started)


def _one_direction(result: Implication, replayed, typed: bool) -> Check:
    """PASS when the implication holds, FAIL with the replayed witness and the
    statements that grant it (every: with all the witnesses, and what was
    left undecided), UNKNOWN with the reason."""
    check = _unknown(typed)
    if result.holds is True:
        check.result = "PASS"
    elif result.holds is False:
        check.result = "FAIL"
        check.witness, check.reasons = replayed[:2]
        if len(replayed) > 2:
            check.witnesses = replayed[2]
            check.note = _left(result)
    else:
        check.note = result.why
    return check


def _left(result: Implication) -> str | None:
    """What --all could not list: UNKNOWN for the classes left, never a silent cut."""
    if not result.undecided:
        return None
    return (f"{result.undecided} action class(es) UNKNOWN, not searched: {result.why}; "
            "the classes listed are newly allowed, others may be too")


@serialised
def equivalent(a, b, policy_type: PolicyType | str = PolicyType.IDENTITY, timeout_ms: int = 30_000,
               typed: bool = True, every: bool = False) -> Check:
    """PASS iff ``a`` and ``b`` allow exactly the same requests; a witness
    for each direction that differs (``every``: for each action class each
    direction newly allows). Both directions share the time limit."""
    started = time.perf_counter()
    policy_type = _policy_type(policy_type)
    check = _unknown(typed)
    pa, pb = _policy(a, policy_type, "a"), _policy(b, policy_type, "b")
    deadline = Deadline(timeout_ms)
    results = []
    left = []
    for label, x, y in (("a allows more than b", pa, pb), ("b allows more than a", pb, pa)):
        result, replayed = _direction(x, y, deadline, typed, every)
        results.append(result)
        if result.holds is False and len(replayed) > 2:
            check.witnesses.extend({"direction": label, **entry} for entry in replayed[2])
            if _left(result):
                left.append(f"{label}: {_left(result)}")
        elif result.holds is False:
            request, reasons = replayed
            check.witnesses.append({"direction": label, "request": request, "reasons": reasons})
        elif result.holds is None:
            check.note = result.why
            left.append(f"{label}: {result.why}")
    if every and left:
        check.note = "; ".join(left)
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


@serialised
def check_access_not_granted(policy, actions=None, resources=None,
                             policy_type: PolicyType | str = PolicyType.IDENTITY, timeout_ms: int = 30_000,
                             typed: bool = True) -> Check:
    """PASS iff the policy allows none of ``actions`` (patterns; any action
    when omitted) on none of ``resources`` (patterns; any when omitted)
    (IAM Access Analyzer's CheckAccessNotGranted). At least one is given."""
    started = time.perf_counter()
    policy_type = _policy_type(policy_type)
    actions, resources = _texts(actions, "actions"), _texts(resources, "resources")
    if not actions and not resources:
        raise ScenarioError("actions", "give the actions, the resources, or both")
    policy = _policy(policy, policy_type, "policy")
    # The access asked about, as Denies of everything else: what the result
    # still allows is exactly what the policy grants of that access.
    scope = []
    principal = {"Principal": "*"} if policy_type not in ENCODED_TYPES else {}
    # A trust policy has no Resource element: its resource is the role.
    everywhere = {} if policy_type is PolicyType.TRUST else {"Resource": "*"}
    if resources and policy_type is PolicyType.TRUST:
        raise ScenarioError("resources", "a trust policy's resource is its role: ask about its actions")
    if actions:
        scope.append({"Effect": "Deny", **principal, "NotAction": actions, **everywhere})
    if resources:
        scope.append({"Effect": "Deny", **principal, "Action": "*", "NotResource": resources})
    limits = _policy({"Version": "2012-10-17", "Statement": scope}, policy_type, "the access asked about")
    scoped = dataclasses.replace(policy, statements=policy.statements + limits.statements)
    nothing = dataclasses.replace(policy, statements=())
    deadline = Deadline(timeout_ms)
    # The reasons are the Allows that grant the witness: the policy's own
    # statements (the scope adds Denies only).
    return _finish(_one_direction(*_direction(scoped, nothing, deadline, typed), typed), started)


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

_ANY_POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
# What a role's trust policy governs (SEMANTICS §1.4): the other sts actions
# are not the role's to grant (GetCallerIdentity needs no permission at all).
TRUST_POLICY_ACTIONS = ("sts:AssumeRole", "sts:AssumeRoleWithWebIdentity", "sts:AssumeRoleWithSAML",
                        "sts:TagSession", "sts:SetSourceIdentity", "sts:SetContext")


@serialised
def check_no_public_access(policy, resource_type: str = "AWS::S3::Bucket", timeout_ms: int = 30_000,
                           typed: bool = True) -> Check:
    """PASS iff the resource policy grants no access to the public: no
    outsider (outsider.py: every kind of caller, of every account the policy
    does not name, whose own policies allow it everything) is allowed any
    action of the resource type's service, with any values of the keys it
    can choose — its ARN, account, organization, VPC endpoint, source
    address, token claims — but the values the policy fixes, which are the
    owner's. So aws:PrincipalOrgID = o-… or aws:SourceVpce = vpce-…
    restrict; ``o-*``, ``vpce-*``, aws:Referer or aws:PrincipalType do not."""
    started = time.perf_counter()
    service = PUBLIC_RESOURCE_TYPES.get(resource_type)
    if service is None:
        raise ScenarioError("resource_type", f"{quote(resource_type)} is not a resource type whose policy can grant "
                                             f"public access (one of {', '.join(sorted(PUBLIC_RESOURCE_TYPES))})")
    policy_type = PolicyType.TRUST if resource_type == "AWS::IAM::AssumeRolePolicyDocument" else PolicyType.RESOURCE
    resource = _policy(policy, policy_type, "policy")
    names = O.named(resource, WITNESS_ACCOUNT)
    plain = compile_policies(_outsiders_own(resource))
    deadline = Deadline(timeout_ms)
    check = _unknown(typed)
    undecided = []
    actions = TRUST_POLICY_ACTIONS if policy_type is PolicyType.TRUST else (f"{service}:*",)
    engines: dict[str, Engine] = {}
    for (label, iam, principals, context, derive), action in itertools.product(_outsiders(resource, names), actions):
        guarded = _guarded(resource, policy_type, names, iam, engines)
        question = Open(principals, action, None, WITNESS_ACCOUNT, context, derive)
        result = _stack_allows(guarded, question, deadline, typed=typed)
        if result.holds is None:
            undecided.append(f"{label}: {result.why}")
            continue
        if result.holds is False:
            continue
        if iam:  # the callers' own keys were read apart: one caller must have them all
            result, question = _as_one_caller(guarded, question, result, names, deadline, typed)
            if result.holds is not True:
                undecided.append(f"{label}: {result.why}")
                continue
        _conclude(check, guarded, question, result, deadline)
        if check.result == "FAIL" and plain.decide(check.witness).decision != "allow":
            check.result, check.witness, check.reasons = "UNKNOWN", None, []
            check.note = "internal error: the policy alone does not allow the outsider's witness"
        if check.result == "FAIL" or check.note:
            return _finish(check, started)
    _, unreadable = O.web_identity_callers(resource, O.outsider_account(names))
    if undecided:
        check.note = "undecided for " + "; ".join(undecided)
    elif unreadable:
        check.note = (f"the Federated principal {', '.join(map(quote, unreadable))} is a public identity provider "
                      "given by name, not as its provider ARN: its callers are not encoded")
    else:
        check.result = "PASS"
    return _finish(check, started)


def _outsiders_own(resource: Policy) -> dict:
    """The policy set of a request from outside: the outsider's own identity
    policy and session policy allow it everything (a federated user's session
    has only what its session policy allows), the resource's is the policy."""
    return {"identity": [_ANY_POLICY], "session": _ANY_POLICY, "resource": resource}


def _outsiders(resource: Policy, names: "O.Named"):
    """(label, whether IAM callers, principals, fixed context, derive_context)
    per question: the anonymous caller and web-identity sessions with the
    keys the kernel derives for them; the IAM callers of another account
    (outsider.KINDS) in one question, their own keys read free."""
    no_identity = {**{k: [] for k in O.ORGANIZATION_KEYS}, "kms:CallerAccount": []}
    yield "the anonymous caller", False, [None], no_identity, True
    account = O.outsider_account(names)
    context = {"aws:PrincipalIsAWSService": "false", "aws:PrincipalServiceName": [],
               "aws:PrincipalServiceNamesList": []}
    yield ("a caller of another account (" + ", ".join(k.name for k in O.KINDS) + ")", True,
           [k.principal.format(account=account) for k in O.KINDS], context, False)
    callers, _ = O.web_identity_callers(resource, account)
    for provider in callers if resource.policy_type is PolicyType.TRUST else ():  # (they call sts only)
        yield f"a web-identity session of {provider}", False, [provider], no_identity, True


def _guarded(resource: Policy, policy_type: PolicyType, names: "O.Named", iam: bool, engines: dict) -> Engine:
    """The policy with the outsider guards (outsider.guards) added as Denies:
    what it allows of them, an outsider can be allowed."""
    statements = O.guards(names, iam)
    if policy_type is PolicyType.TRUST:  # a trust policy has no Resource: it is the role's
        statements = [{k: v for k, v in st.items() if k != "Resource"} for st in statements]
    key = json.dumps(statements, sort_keys=True)
    if key not in engines:
        guarded = resource
        if statements:
            limits = _policy({"Version": "2012-10-17", "Statement": statements}, policy_type, "who an outsider can be")
            guarded = dataclasses.replace(resource, statements=resource.statements + limits.statements)
        engines[key] = compile_policies(_outsiders_own(guarded))
    return engines[key]


def _as_one_caller(engine: Engine, question: Open, result: Implication, names, deadline: Deadline,
                   typed: bool) -> tuple[Implication, Open]:
    """A request found with the callers' own keys free, made by one caller:
    of the kind its values say (outsider.kinds_for), the principal its
    aws:PrincipalArn / aws:PrincipalAccount name, with the keys the kernel
    derives from it; else asked again per kind with everything derived."""
    found = result.counterexample
    context = {k: v for k, v in found.context.items() if v != []}
    callers = []
    for kind in O.kinds_for(found.principal, context):
        principal, account = O.caller_of(kind, context, names)
        derived = {k.lower() for k in O.IDENTITY_KEYS} - (set() if kind.userid_derived else {"aws:userid"})
        kept = {k: v for k, v in context.items() if k.lower() not in derived}
        if any(k.lower() == "kms:calleraccount" for k in kept):
            kept = {k: (account if k.lower() == "kms:calleraccount" else v) for k, v in kept.items()}
        request = {"principal": principal, "action": found.action, "resource": found.resource, "context": kept,
                   "resource_account": WITNESS_ACCOUNT}
        if engine.decide(request).decision == "allow":
            result.counterexample = dataclasses.replace(found, principal=principal, context=kept)
            return result, Open([principal], question.action, None, WITNESS_ACCOUNT, kept, True)
        callers.append((principal, account))
    for principal, account in callers:
        asked = Open([principal], question.action, None, WITNESS_ACCOUNT,
                     {"kms:CallerAccount": account} if "kms:calleraccount" in names.keys else {}, True)
        again = _stack_allows(engine, asked, deadline, typed=typed)
        if again.holds is not False:
            return again, asked
    return Implication(None, why=f"a request is allowed with values of a caller's own keys ({_shown(context)}) "
                                 "that no one caller was found to have"), question


def _shown(context: dict) -> str:
    identity = {k.lower() for k in O.IDENTITY_KEYS}
    return ", ".join(f"{k}={v}" for k, v in context.items() if k.lower() in identity) or "none"


def _conclude(check: Check, engine: Engine, question: Open, result: Implication, deadline: Deadline) -> None:
    """PASS when nothing is allowed; FAIL with the witness the kernel
    confirms (else UNKNOWN, an internal error); UNKNOWN with the reason."""
    if result.holds is False:
        check.result = "PASS"
        return
    if result.holds is None:
        check.note = result.why
        return
    if deadline.expired():  # found, but the replay would run past the deadline
        check.note = deadline.why
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


@serialised
def can_be_allowed(scenario, timeout_ms: int = 30_000, typed: bool = True, base_dir=None,
                   policy_root=None) -> Check:
    """Is any request the scenario leaves open allowed by its whole policy
    set? The request's principal, action and resource may be fixed, patterns
    (``arn:aws:s3:::prod-*``) or left out (any); context keys given are
    fixed, the others free. PASS: proven never, ``reasons`` name the layers
    that forbid it; FAIL: ``witness`` is an allowed request. ``scenario``: an
    object, its JSON text, or a pathlib.Path; its policy paths are relative
    to its folder (``base_dir`` for an object) and stay inside it unless
    ``policy_root`` names a wider one. The layers named after PASS are
    read within the same time limit (one found undecided says so)."""
    started = time.perf_counter()
    raw, folder = read_scenario(scenario)
    if not isinstance(raw, Mapping) or "policies" not in raw:
        raise ScenarioError("policies", "missing")
    engine = compile_policies(raw["policies"], folder or base_dir, policy_root_of(policy_root))
    deadline = Deadline(timeout_ms)
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
                                         if isinstance(resource, str) else None], deadline)
        except Unsupported as e:
            check.note = str(e)
            return _finish(check, started)
        except Timeout:
            check.note = deadline.why
            return _finish(check, started)
    question = Open(principals, request.get("action"), None if request.get("resource") in _FREE
                    else request["resource"], request.get("resource_account"), dict(context),
                    request.get("derive_context", True))
    result = _stack_allows(engine, question, deadline, typed=typed)
    _conclude(check, engine, question, result, deadline)
    if check.result == "PASS":
        check.reasons = _forbidding_layers(engine, question, deadline, typed)
    return _finish(check, started)


def _forbidding_layers(engine: Engine, question: Open, deadline: Deadline, typed: bool) -> list[dict]:
    """The layers that forbid it: each one which, if it allowed everything
    and denied nothing, would let some request through."""
    out = []
    order = sorted(engine.layers, key=lambda l: LAYER_ORDER.index(l.family) if l.family in LAYER_ORDER
                   else len(LAYER_ORDER))
    for layer in order:
        result = _stack_allows(engine, question, deadline, ignore=frozenset({layer.name}), typed=typed)
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
