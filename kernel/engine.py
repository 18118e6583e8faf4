"""Deciding requests against a compiled policy set.

``Engine`` reads the statement facts of every policy, indexes them by action
(so a request only touches the statements whose Action/NotAction can match),
matches the candidates in Python, and hands the layer-level result — the
signature — to the Datalog rules (rules.py), which decide.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property

from ..errors import ScenarioError, quote
from ..translator.facts import StatementFacts, statement_facts
from ..translator.model import Effect, Policy
from . import conditions, matching
from .context import RequestContext
from .decision import Decision, LayerInfo, Trace, Warning
from .plan import GRANT_BITS, ActionPlan, build_layer
from .principals import Caller, read_caller
from .request import (Request, needs_no_authorization, read_request, refused_callers, resource_account_of,
                      resource_must_allow_itself)
from .rules import Signature, applicable, outcome

_EMPTY = RequestContext()



@dataclass
class PolicyLayer:
    """One layer of the policy set: ``identity``, ``resource``, ``boundary``,
    ``session``, ``vpc_endpoint``, ``scp/N`` or ``rcp/N``."""

    name: str
    label: str
    policies: list[tuple[str, Policy]] = field(default_factory=list)

    @property
    def family(self) -> str:
        return self.name.split("/")[0]


class Engine:
    """A compiled policy set; ``decide`` answers one request."""

    def __init__(self, layers: Sequence[PolicyLayer]):
        self.layers = list(layers)
        self._facts: dict[str, list[StatementFacts]] = {}
        next_id = 0
        for layer in self.layers:
            facts = []
            for policy_id, policy in layer.policies:
                facts.extend(statement_facts(policy, layer.name, policy_id, next_id))
                next_id += len(policy.statements)
            self._facts[layer.name] = facts
        self.statement_count = next_id
        self._infos = {layer.name: LayerInfo(layer.name, layer.label) for layer in self.layers}
        self._scp_levels = tuple(l.name for l in self.layers if l.family == "scp")
        self._rcp_levels = tuple(l.name for l in self.layers if l.family == "rcp")
        self._by_action: dict[str, tuple[tuple[str, tuple[StatementFacts, ...]], ...]] = {}
        self._action_index: dict[str, tuple[dict, dict, tuple[StatementFacts, ...]]] = {}
        self._callers: dict[str | None, Caller] = {}
        self._bits = {name: 1 << i for i, name in enumerate(self._facts)}
        self._plans: dict[str, ActionPlan] = {}
        self._applies_masks: dict[tuple, int] = {}
        self._derived_contexts: dict[Caller, RequestContext] = {}
        self._outcomes: dict[tuple, tuple[Signature, object]] = {}

    # ---------------------------------------------------------------- indexes

    def _candidates(self, action: str) -> tuple[tuple[str, tuple[StatementFacts, ...]], ...]:
        """Per layer, the statements whose Action/NotAction match ``action``."""
        key = action.lower()
        found = self._by_action.get(key)
        if found is None:
            # The first action reads every statement; an engine asked about
            # more builds the index (most engines of an account scan answer
            # one action, and the index costs more than one scan).
            read = self._may_match if self._by_action else (lambda name, _: self._facts[name])
            found = tuple(
                (name, tuple(st for st in read(name, key) if _action_applies(st, action)))
                for name in self._facts
            )
            self._by_action[key] = found
        return found

    def _may_match(self, layer: str, action: str) -> list[StatementFacts]:
        """The statements of ``layer`` that can match ``action`` (lower-cased),
        in their order: those naming it exactly, those with a wildcard in an
        action name of its service, those that can match any service. An
        account's policies name a handful of services and actions each, so a
        new action reads a few dozen statements, not every one."""
        index = self._action_index.get(layer)
        if index is None:
            index = self._action_index[layer] = _action_index(self._facts[layer])
        exact, by_service, everywhere = index
        parts = [exact.get(action, ()), by_service.get(action.split(":", 1)[0], ()), everywhere]
        parts = [part for part in parts if part]
        if len(parts) <= 1:
            return list(parts[0]) if parts else []
        return sorted({id(st): st for part in parts for st in part}.values(), key=lambda st: st.ref.id)

    def _caller(self, principal: str | None) -> Caller:
        caller = self._callers.get(principal)
        if caller is None:
            caller = self._callers[principal] = read_caller(principal)
        return caller

    # ---------------------------------------------------------------- deciding

    def _plan(self, action: str) -> ActionPlan:
        key = action.lower()
        plan = self._plans.get(key)
        if plan is None:
            layers = [build_layer(self._bits[name], name, candidates) for name, candidates in self._candidates(action)]
            plan = self._plans[key] = ActionPlan(layers)
        return plan

    def _applies_mask(self, caller: Caller) -> int:
        """The layers that apply to this caller, as the rules derive them."""
        key = (caller.kind, caller.service_linked)
        mask = self._applies_masks.get(key)
        if mask is None:
            names = applicable(caller.kind.value, caller.service_linked, tuple(self._bits))
            mask = self._applies_masks[key] = sum(bit for name, bit in self._bits.items() if name in names)
        return mask

    def _setting(self, request: Request) -> tuple[Caller, RequestContext, bool | None, str | None, tuple[str, ...]]:
        """Who asks, the context, whether the resource is in the caller's
        account, whether the resource policy must allow itself, and notes."""
        caller = self._caller(request.principal)
        # What the scenario gives wins over what is derived from the caller.
        context = RequestContext.merged(self._derived(caller) if request.derive_context else _EMPTY, request.context)
        notes: tuple[str, ...] = ()
        resource_account = request.resource_account or resource_account_of(request.resource)
        if caller.account is None:
            same_account = None
        else:
            if resource_account is None:
                resource_account = caller.account
                notes = (f"the resource's account is not given and not in its ARN: assumed to be the "
                         f"caller's account {caller.account}",)
            same_account = resource_account == caller.account
        if (caller.session_arn is not None and request.derive_context and self._reads_principal_arn
                and not any(k.lower() == "aws:principalarn" for k in request.context)):
            notes += (f"aws:PrincipalArn is taken as {caller.role_arn}: a session ARN does not carry its role's "
                      "path, and a policy here tests aws:PrincipalArn; give it in the context if the role has a path",)
        return caller, context, same_account, resource_must_allow_itself(request.action, request.resource), notes

    @cached_property
    def _reads_principal_arn(self) -> bool:
        """Whether any statement's condition reads aws:PrincipalArn (read once)."""
        return any(k == "aws:principalarn" for facts in self._facts.values() for st in facts
                   for clause in st.condition for k in conditions.keys_read(clause))

    def _derived(self, caller: Caller) -> RequestContext:
        found = self._derived_contexts.get(caller)
        if found is None:
            found = self._derived_contexts[caller] = RequestContext(caller.derived_context())
        return found

    def decide(self, request: Request | Mapping) -> Decision:
        """The decision for one request (its proof is derived on first use)."""
        request = read_request(request)
        caller, context, same_account, must_allow, notes = self._setting(request)
        applies = self._applies_mask(caller)
        has_boundary = bool(applies & self._bits.get("boundary", 0))

        def single(st: StatementFacts, layer) -> str | None:
            return self._match(st, layer.bit == self._bits.get("resource"), caller, request.resource, context,
                               has_boundary, None, None)

        allows, denies, grants = self._plan(request.action).evaluate(applies, request.resource, context, single)
        key = (caller.kind, same_account, must_allow is not None, applies, allows, denies, grants,
               needs_no_authorization(request.action), refused_callers(request.action))
        found = self._outcomes.get(key)
        if found is None:
            signature = self._signature(key)
            found = self._outcomes[key] = (signature, outcome(signature))
        signature, result = found
        return Decision(request, caller, result, signature, self._infos, must_allow, notes,
                        lambda: self.trace(request))

    def decide_many(self, requests: Iterable[Request | Mapping]) -> Iterator[Decision]:
        """The decision for each request, in order, as they are asked for: a
        stream of any length in flat memory. A bad request raises
        ScenarioError naming its index (``requests[5].action``)."""
        for index, request in enumerate(requests):
            try:
                yield self.decide(request)
            except ScenarioError as e:
                raise ScenarioError(f"requests[{index}].{e.field.removeprefix('request.')}",
                                    str(e).split(": ", 1)[-1]) from None

    def trace(self, request: Request | Mapping) -> Trace:
        """The per-statement evaluation: every matching statement, the
        warnings, the missing context keys, and the signature they imply —
        which must equal the plan's (tests/test_differential.py)."""
        request = read_request(request)
        caller, context, same_account, must_allow, _ = self._setting(request)
        applies = self._applies_mask(caller)
        has_boundary = bool(applies & self._bits.get("boundary", 0))
        allows = denies = grants = 0
        matched: list[StatementFacts] = []
        warnings: list[Warning] = []
        missing: set[str] = set()
        for layer, candidates in self._candidates(request.action):
            bit = self._bits[layer]
            if not applies & bit:
                continue
            for st in candidates:
                how = self._match(st, layer == "resource", caller, request.resource, context, has_boundary,
                                  warnings, missing)
                if how is None:
                    continue
                matched.append(st)
                if st.effect is Effect.ALLOW:
                    allows |= bit
                    if layer == "resource" and how:
                        grants |= GRANT_BITS[how]
                else:
                    denies |= bit
        if denies:
            allows = grants = 0  # canonical: an explicit deny decides alone
        key = (caller.kind, same_account, must_allow is not None, applies, allows, denies, grants,
               needs_no_authorization(request.action), refused_callers(request.action))
        return Trace(tuple(st.ref for st in matched), tuple(warnings), tuple(sorted(missing)), self._signature(key))

    def _signature(self, key: tuple) -> Signature:
        kind, same_account, must_allow, applies, allows, denies, grants, no_authorization, refused = key[:9]

        def layers(mask: int) -> frozenset[str]:
            return frozenset(name for name, bit in self._bits.items() if mask & bit)

        return Signature(
            caller=kind.value,
            same_account=same_account,
            # A trust policy or key policy must itself allow (§1.4); when it
            # is not given, nothing can.
            must_allow_itself=must_allow,
            applies=layers(applies),
            allows=layers(allows),
            denies=layers(denies),
            resource_grants=frozenset(how for how, bit in GRANT_BITS.items() if grants & bit),
            scp_levels=tuple(l for l in self._scp_levels if applies & self._bits[l]),
            rcp_levels=tuple(l for l in self._rcp_levels if applies & self._bits[l]),
            no_authorization=no_authorization,
            refused_to=refused,
        )

    def _match(self, st: StatementFacts, in_resource_policy: bool, caller: Caller, resource: str,
               context: RequestContext, has_boundary: bool, warnings: list | None, missing: set | None) -> str | None:
        """How the statement matches: None (it does not), or for an Allow in
        the resource policy the way it names the caller; "" otherwise."""
        if st.resource is not None:
            if not matching.resource_matches(st.resource, resource, context):
                if warnings is not None and st.effect is Effect.DENY:
                    _warn_if_case_decides(st, st.resource, resource, context, warnings)
                return None
        elif st.not_resource is not None:
            if matching.resource_matches(st.not_resource, resource, context):
                return None
            if warnings is not None and st.effect is Effect.ALLOW:
                _warn_if_case_decides(st, st.not_resource, resource, context, warnings)
                _warn_if_unresolved(st, st.not_resource, context, warnings)
        how = principal_match(st, in_resource_policy, caller, has_boundary)
        if how is None:
            return None
        if missing is not None:
            # Keys the statement tests that the request lacks: the Simulator's
            # MissingContextValues (every layer, SCPs included).
            missing.update(c.key for c in st.condition if not context.has(c.key))
        for clause in st.condition:
            holds, warning = conditions.evaluate(clause, context)
            if warning is not None and warnings is not None:
                warnings.append(Warning(st.ref, warning.path, warning.message))
            if not holds:
                return None
        return how


def _warn_if_case_decides(st: StatementFacts, patterns, resource: str, context: RequestContext,
                          warnings: list) -> None:
    """A Deny's Resource (or an Allow's NotResource) that misses the request
    only because its partition, service or region is not written in lower
    case. ARNs are case-sensitive and no real ARN has upper case there, so
    the kernel reads it as written; the AWS documentation does not say how
    those segments are compared, and if AWS folds them this Deny applies —
    the decision says so (README, readings)."""
    for p in patterns:
        parts = p.arn_parts
        if parts is None or len(parts) < 3 or all(x == x.lower() for x in parts[:3]):
            continue
        folded = replace(p, arn_parts=(*(x.lower() for x in parts[:3]), *parts[3:]))
        if matching.resource_pattern_matches(folded, resource, context):
            warnings.append(Warning(st.ref, p.json_path,
                                    f"{quote(p.text)} would match {quote(resource)} if AWS compared the partition, service "
                                    "and region without case; read case-sensitively, it does not"))
            return


def _warn_if_unresolved(st: StatementFacts, patterns, context: RequestContext, warnings: list) -> None:
    """An Allow's NotResource entry whose variable has no value excludes
    nothing (SEMANTICS §5, §7), so the Allow covers every resource; the User
    Guide also says an unresolved variable "might cause the entire statement
    to be invalid" — then it would grant nothing. Said on the decision."""
    for p in patterns:
        if p.resource is not None and any(type(x) is not str for x in p.resource) \
                and context.resolve(p.resource) is None:
            warnings.append(Warning(st.ref, p.json_path, f"{quote(p.text)} names a policy variable the request has no "
                                    "value for: the entry excludes nothing, so this Allow covers every resource "
                                    "(AWS may instead treat the statement as invalid)"))
            return


def principal_match(st: StatementFacts, in_resource_policy: bool, caller: Caller, has_boundary: bool) -> str | None:
    """How the statement's Principal/NotPrincipal covers the caller: None (it
    does not), for an Allow the way it names the caller, "" when the statement
    names no principal."""
    how = ""
    if st.principal is not None:
        how = matching.principal_grant(st.principal, caller)
    elif st.not_principal is not None:
        listed_any, listed_all = matching.not_principal_lists(st.not_principal, caller)
        if st.effect is Effect.ALLOW:
            how = None if listed_any else matching.Grant.EVERYONE
        # A resource policy's Deny + NotPrincipal denies every principal
        # that has a permissions boundary, whatever the list (§3).
        elif listed_all and not (in_resource_policy and has_boundary):
            how = None
    if how == matching.Grant.EVERYONE and matching.names_by_principal_arn(st.condition):
        how = matching.Grant.ITSELF
    return how


def _action_index(facts: list[StatementFacts]) -> tuple[dict, dict, tuple[StatementFacts, ...]]:
    """Statements by the action names their Action spells exactly (plain
    ASCII, no wildcard; lower-cased, as names are case-insensitive), by the
    service of a name with a wildcard, and those that can match an action of
    any service (``*``, a wildcard in the service prefix, NotAction). A
    statement naming several is under each."""
    exact: dict[str, list[StatementFacts]] = {}
    by_service: dict[str, list[StatementFacts]] = {}
    everywhere = []
    for st in facts:
        if st.action is None:
            if st.not_action is not None:
                everywhere.append(st)
            continue
        if any(p.service is None or "*" in p.service or "?" in p.service for p in st.action):
            everywhere.append(st)
            continue
        for p in st.action:
            if "*" in p.text or "?" in p.text or not p.text.isascii():
                by_service.setdefault(p.service, []).append(st)
            else:
                exact.setdefault(p.text.lower(), []).append(st)
    return ({k: _distinct(v) for k, v in exact.items()},
            {k: _distinct(v) for k, v in by_service.items()}, tuple(everywhere))


def _distinct(statements: list[StatementFacts]) -> tuple[StatementFacts, ...]:
    """The statements once each, in order, told apart by identity: hashing a
    frozen StatementFacts hashes its whole tree (every pattern and condition),
    which made building the index of 200 managed policies take seconds."""
    seen: set[int] = set()
    out = []
    for st in statements:
        if id(st) not in seen:
            seen.add(id(st))
            out.append(st)
    return tuple(out)


def _action_applies(st: StatementFacts, action: str) -> bool:
    if st.action is not None:
        return matching.action_matches(st.action, action)
    if st.not_action is not None:
        return not matching.action_matches(st.not_action, action)
    return False
