"""The AWS decision procedure (SEMANTICS §1–3), as Datalog rules.

This is the one place where it is written. Python matches statements against
a request (matching.py, conditions.py) and reports, per policy layer, whether
a matching Allow or Deny exists and how a resource policy names the caller.
Those layer-level facts are all the rules see, so the decision depends only on
this small, finite *signature*: the rules are evaluated once per distinct
signature and the outcome is reused for every request with the same one —
exactly, since nothing else enters the rules.

Layers: ``identity``, ``resource``, ``boundary``, ``session``,
``vpc_endpoint``, and one per organization level: ``scp/0`` (root) …
``scp/N`` (account), ``rcp/0`` … ``rcp/N``.

Stage 1, once per caller class C — which of the given layers apply:
  given(C, Layer, Family)    a layer of the policy set (family: identity,
                             resource, boundary, session, vpc_endpoint, scp, rcp)
  caller_kind(C, Kind)       user | role_session | federated_session | root |
                             anonymous | service | external
  service_linked(C)          the caller is a service-linked role
The derived applies_to(C, Layer) is what the engine evaluates statements of.

Stage 2, input facts for a signature Q:
  request(Q)                 always
  caller(Q, Kind)            user | role_session | federated_session | root |
                             anonymous | service | external
  same_account(Q) / cross_account(Q)   (neither for anonymous/service/external)
  applies(Q, Layer)          the layer applies to this request
  allows(Q, Layer)           a matching Allow in the layer
  denies(Q, Layer)           a matching Deny in the layer
  scp_level(Q, Layer) / rcp_level(Q, Layer)   an organization level that applies
  resource_grant(Q, How)     a matching resource-policy Allow names the caller
                             as principal_itself | role | everyone | account
  must_allow_itself(Q)       the resource policy is a role trust policy or a
                             KMS key policy, which must itself allow (§1.4)
  no_authorization(Q)        the action is one no policy controls
                             (sts:GetCallerIdentity, sts:GetSessionToken: §7)
  refused_to(Q, Kind)        callers of this kind cannot call the action at all
                             (the root user sts:AssumeRole; a GetFederationToken
                             session IAM and STS but GetCallerIdentity: STS API
                             Reference)
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass

from pyDatalog import pyDatalog

PROGRAM = """
# Which policies apply to which caller (stage 1, per caller class: the facts
# given(C, Layer, Family), caller_kind(C, Kind), service_linked(C)).
# Identity policies and boundaries belong to users and roles (§1.5, §1.6);
# session policies to sessions (§1.7); SCPs limit principals of member
# accounts, the root user too, not service-linked roles (§1.3); RCPs apply to
# the resource's requests except those of service-linked roles (§1.2); the
# resource and VPC endpoint policies to every request.
own_policies(C) <= caller_kind(C, 'user')
own_policies(C) <= caller_kind(C, 'role_session')
own_policies(C) <= caller_kind(C, 'federated_session')
in_an_account(C) <= own_policies(C)
in_an_account(C) <= caller_kind(C, 'root')
applies_to(C, L) <= given(C, L, 'identity') & own_policies(C)
applies_to(C, L) <= given(C, L, 'boundary') & own_policies(C)
applies_to(C, L) <= given(C, L, 'session') & caller_kind(C, 'role_session')
applies_to(C, L) <= given(C, L, 'session') & caller_kind(C, 'federated_session')
applies_to(C, L) <= given(C, L, 'scp') & in_an_account(C) & ~service_linked(C)
applies_to(C, L) <= given(C, L, 'rcp') & ~service_linked(C)
applies_to(C, L) <= given(C, L, 'resource')
applies_to(C, L) <= given(C, L, 'vpc_endpoint')

# §1.1 Explicit deny: a matching Deny in any applicable policy ends evaluation.
explicit_deny(Q, L) <= denies(Q, L)
denied(Q) <= explicit_deny(Q, L)

# §1.2, §1.3 Organizations: every level root -> OUs -> account must have a
# matching Allow; a level with none (an empty level too) allows nothing.
org_shortfall(Q, L) <= scp_level(Q, L) & ~allows(Q, L)
org_shortfall(Q, L) <= rcp_level(Q, L) & ~allows(Q, L)

# §1.8 A VPC endpoint policy, when the request goes through one, must allow.
endpoint_shortfall(Q) <= applies(Q, 'vpc_endpoint') & ~allows(Q, 'vpc_endpoint')

blocked(Q) <= org_shortfall(Q, L)
blocked(Q) <= endpoint_shortfall(Q)

# §1.6 A permissions boundary, when the principal has one, must allow.
boundary_permits(Q) <= request(Q) & ~applies(Q, 'boundary')
boundary_permits(Q) <= allows(Q, 'boundary')

# §1.7 A session policy, when present, must allow. Without one, a role session
# is not limited, but a GetFederationToken session has no permissions.
session_permits(Q) <= request(Q) & ~applies(Q, 'session') & ~caller(Q, 'federated_session')
session_permits(Q) <= allows(Q, 'session')

within_limits(Q) <= boundary_permits(Q) & session_permits(Q)

# §1.5 The principal's own permissions: its identity policies, or the root
# user's full access to its own account (§1 opening).
identity_grants(Q) <= allows(Q, 'identity')
identity_grants(Q) <= caller(Q, 'root')
principal_side(Q) <= identity_grants(Q) & within_limits(Q)

# §1.4 The resource policy: how it names the caller decides what limits it.
# Naming the caller itself (user ARN, session ARN, federated session ARN, or
# "*" narrowed by aws:PrincipalArn) is not limited; naming the role of the
# calling session, or everyone ("*"), is limited by the boundary and the
# session policy (STS API Reference: a resource policy adds past the session
# policy only when its Principal references the session); naming the account
# delegates to the account's own policies, so it grants nothing alone.
resource_names_caller(Q) <= resource_grant(Q, How)
resource_alone(Q) <= resource_grant(Q, 'principal_itself')
resource_alone(Q) <= resource_grant(Q, 'role') & within_limits(Q)
resource_alone(Q) <= resource_grant(Q, 'everyone') & within_limits(Q)

# Granting paths. Same account: either side is enough, except that a trust
# policy or a KMS key policy must itself allow (§1.4). Across accounts both
# sides must allow (§2). Anonymous callers, services and web-identity callers
# have no principal side: the resource policy alone decides.
grant(Q, 'identity') <= same_account(Q) & ~must_allow_itself(Q) & principal_side(Q)
grant(Q, 'resource') <= same_account(Q) & resource_alone(Q)
grant(Q, 'identity_and_resource') <= same_account(Q) & must_allow_itself(Q) & resource_grant(Q, 'account') & principal_side(Q)
grant(Q, 'identity_and_resource') <= cross_account(Q) & principal_side(Q) & resource_names_caller(Q)
grant(Q, 'resource') <= caller(Q, 'anonymous') & resource_names_caller(Q)
grant(Q, 'resource') <= caller(Q, 'service') & resource_names_caller(Q)
grant(Q, 'resource') <= caller(Q, 'external') & resource_names_caller(Q)
granted(Q) <= grant(Q, P)

# §7 Actions no policy controls (GetCallerIdentity "even if ... explicitly
# denies", GetSessionToken "you cannot use policies to control
# authentication operations") are allowed to every signed-in caller; an
# anonymous request is not authenticated, so nothing lets it through.
exempt(Q) <= no_authorization(Q) & ~caller(Q, 'anonymous') & ~refused(Q)

# "You cannot use AWS account root user credentials to call AssumeRole";
# GetFederationToken sessions "cannot call any AWS STS operations except
# GetCallerIdentity" nor IAM (STS API Reference): no policy grants those.
refused(Q) <= refused_to(Q, K) & caller(Q, K)

# §1.9 Allowed when nothing denies, no level or endpoint blocks, and some path grants.
allowed(Q) <= request(Q) & ~denied(Q) & ~blocked(Q) & ~refused(Q) & granted(Q)
allowed(Q) <= exempt(Q)
decision(Q, 'explicit_deny') <= denied(Q) & ~exempt(Q)
decision(Q, 'allow') <= allowed(Q)
decision(Q, 'implicit_deny') <= request(Q) & ~denied(Q) & ~allowed(Q)

# What a missing grant lacks: the layers whose Allow would have been needed.
principal_needed(Q) <= same_account(Q)
principal_needed(Q) <= cross_account(Q)
resource_needed(Q) <= cross_account(Q)
resource_needed(Q) <= must_allow_itself(Q)
resource_needed(Q) <= caller(Q, 'anonymous')
resource_needed(Q) <= caller(Q, 'service')
resource_needed(Q) <= caller(Q, 'external')
shortfall(Q, 'identity') <= principal_needed(Q) & ~identity_grants(Q)
shortfall(Q, 'boundary') <= principal_needed(Q) & ~boundary_permits(Q)
shortfall(Q, 'session') <= principal_needed(Q) & ~session_permits(Q)
shortfall(Q, 'resource') <= resource_needed(Q) & ~resource_names_caller(Q)

# The layers that blocked the request.
blocked_by(Q, L) <= explicit_deny(Q, L) & ~exempt(Q)
blocked_by(Q, L) <= request(Q) & ~denied(Q) & ~exempt(Q) & org_shortfall(Q, L)
blocked_by(Q, 'vpc_endpoint') <= request(Q) & ~denied(Q) & ~exempt(Q) & endpoint_shortfall(Q)
blocked_by(Q, L) <= request(Q) & ~denied(Q) & ~exempt(Q) & ~blocked(Q) & ~granted(Q) & shortfall(Q, L)
blocked_by(Q, 'identity') <= request(Q) & ~denied(Q) & ~blocked(Q) & refused(Q)
"""

INPUTS = {
    "given": 3, "caller_kind": 2, "service_linked": 1,
    "request": 1, "caller": 2, "same_account": 1, "cross_account": 1, "applies": 2, "allows": 2, "denies": 2,
    "scp_level": 2, "rcp_level": 2, "resource_grant": 2, "must_allow_itself": 1, "no_authorization": 1,
    "refused_to": 2,
}

# How blocked_by is ordered when several layers blocked: the organization
# levels first, as AWS evaluates them (§1); then the resource side; then the
# limits (boundary, session policy) before the identity policies, because a
# failing limit stops every principal-side path, so an identity Allow alone
# would not help.
LAYER_ORDER = ("rcp", "scp", "resource", "boundary", "session", "identity", "vpc_endpoint")


@dataclass(frozen=True, slots=True)
class Signature:
    """Everything the rules see about one request."""

    caller: str
    same_account: bool | None  # None: no principal account (anonymous, service, external)
    must_allow_itself: bool
    applies: frozenset[str]
    allows: frozenset[str]
    denies: frozenset[str]
    resource_grants: frozenset[str]
    scp_levels: tuple[str, ...]
    rcp_levels: tuple[str, ...]
    no_authorization: bool = False  # an action no policy controls (§7)
    refused_to: frozenset[str] = frozenset()  # caller kinds that cannot call the action

    def facts(self, q: str):
        yield "request", (q,)
        yield "caller", (q, self.caller)
        if self.same_account is True:
            yield "same_account", (q,)
        elif self.same_account is False:
            yield "cross_account", (q,)
        if self.must_allow_itself:
            yield "must_allow_itself", (q,)
        for layer in self.applies:
            yield "applies", (q, layer)
        for layer in self.allows:
            yield "allows", (q, layer)
        for layer in self.denies:
            yield "denies", (q, layer)
        for how in self.resource_grants:
            yield "resource_grant", (q, how)
        for layer in self.scp_levels:
            yield "scp_level", (q, layer)
        for layer in self.rcp_levels:
            yield "rcp_level", (q, layer)
        if self.no_authorization:
            yield "no_authorization", (q,)
        for kind in self.refused_to:
            yield "refused_to", (q, kind)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the rules derived for a signature."""

    decision: str
    blocked_by: tuple[str, ...]  # layers, in evaluation order
    grants: tuple[str, ...]  # granting paths that fired
    explicit_denies: tuple[str, ...]
    org_shortfalls: tuple[str, ...]
    shortfalls: tuple[str, ...]


def _layer_rank(layer: str) -> tuple[int, str]:
    family = layer.split("/")[0]
    return (LAYER_ORDER.index(family) if family in LAYER_ORDER else len(LAYER_ORDER), layer)


class _Rules:
    """The rules loaded into a pyDatalog logic of their own, one per thread
    (pyDatalog's state is per thread), swapped in only while evaluating so
    that a caller's own pyDatalog program is never disturbed."""

    def __init__(self):
        self._local = threading.local()
        self._ids = itertools.count()

    def _enter(self):
        saved = getattr(pyDatalog.Logic.tl, "logic", None)
        ours = getattr(self._local, "logic", None)
        if ours is None:
            pyDatalog.Logic()  # a fresh, empty logic for this thread
            pyDatalog.load(PROGRAM)
            for name, arity in INPUTS.items():  # declare every input predicate
                pyDatalog.assert_fact(name, *(["__schema__"] * arity))
        else:
            pyDatalog.Logic(ours)
        return saved

    def _leave(self, saved) -> None:
        self._local.logic = pyDatalog.Logic(True)
        if saved is not None:
            pyDatalog.Logic(saved)
        else:
            del pyDatalog.Logic.tl.logic

    def applicable(self, kind: str, service_linked: bool, layers: tuple[str, ...]) -> frozenset[str]:
        c = f"c{next(self._ids)}"
        saved = self._enter()
        try:
            pyDatalog.assert_fact("caller_kind", c, kind)
            if service_linked:
                pyDatalog.assert_fact("service_linked", c)
            for layer in layers:
                pyDatalog.assert_fact("given", c, layer, layer.split("/")[0])
            answer = pyDatalog.ask(f"applies_to('{c}', L)")
            return frozenset(a[0] for a in answer.answers) if answer else frozenset()
        finally:
            self._leave(saved)

    def evaluate(self, signature: Signature) -> Outcome:
        q = f"q{next(self._ids)}"
        saved = self._enter()
        try:
            for name, args in signature.facts(q):
                pyDatalog.assert_fact(name, *args)
            decision = _one(pyDatalog.ask(f"decision('{q}', D)"))
            return Outcome(
                decision=decision,
                blocked_by=_sorted(pyDatalog.ask(f"blocked_by('{q}', L)")),
                grants=_sorted(pyDatalog.ask(f"grant('{q}', P)")),
                explicit_denies=_sorted(pyDatalog.ask(f"explicit_deny('{q}', L)")),
                org_shortfalls=_sorted(pyDatalog.ask(f"org_shortfall('{q}', L)")),
                shortfalls=_sorted(pyDatalog.ask(f"shortfall('{q}', L)")),
            )
        finally:
            self._leave(saved)


def _one(answer) -> str:
    values = sorted(a[0] for a in answer.answers) if answer else []
    if len(values) != 1:
        raise AssertionError(f"the rules derived {len(values)} decisions: {values}")
    return values[0]


def _sorted(answer) -> tuple[str, ...]:
    return tuple(sorted((a[0] for a in answer.answers), key=_layer_rank)) if answer else ()


_RULES = _Rules()
_OUTCOMES: dict[Signature, Outcome] = {}


_APPLICABLE: dict[tuple, frozenset[str]] = {}


def applicable(caller_kind: str, service_linked: bool, layers: tuple[str, ...]) -> frozenset[str]:
    """The layers (of those given) that apply to a caller, as the rules derive
    them; once per caller class."""
    key = (caller_kind, service_linked, layers)
    found = _APPLICABLE.get(key)
    if found is None:
        found = _APPLICABLE[key] = _RULES.applicable(caller_kind, service_linked, layers)
    return found


def outcome(signature: Signature) -> Outcome:
    """The rules' outcome for a signature, derived once and then reused."""
    found = _OUTCOMES.get(signature)
    if found is None:
        found = _OUTCOMES[signature] = _RULES.evaluate(signature)
    return found
