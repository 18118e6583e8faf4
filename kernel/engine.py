"""Deciding requests against a compiled policy set.

``Engine`` reads the statement facts of every policy, indexes them by action
(so a request only touches the statements whose Action/NotAction can match),
matches the candidates in Python, and hands the layer-level result — the
signature — to the Datalog rules (rules.py), which decide.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ..translator.facts import StatementFacts, statement_facts
from ..translator.model import Effect, Policy
from . import conditions, matching
from .context import RequestContext
from .decision import Decision, LayerInfo, Warning
from .principals import Caller, CallerKind, read_caller
from .request import Request, read_request, resource_account_of, resource_must_allow_itself
from .rules import Signature, outcome

# Who the principal-side layers apply to.
_HAS_IDENTITY = frozenset({CallerKind.USER, CallerKind.ROLE_SESSION, CallerKind.FEDERATED_SESSION})
_HAS_SESSION = frozenset({CallerKind.ROLE_SESSION, CallerKind.FEDERATED_SESSION})
_IN_AN_ACCOUNT = frozenset({CallerKind.USER, CallerKind.ROLE_SESSION, CallerKind.FEDERATED_SESSION, CallerKind.ROOT})


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
        self._callers: dict[str | None, Caller] = {}

    # ---------------------------------------------------------------- indexes

    def _candidates(self, action: str) -> tuple[tuple[str, tuple[StatementFacts, ...]], ...]:
        """Per layer, the statements whose Action/NotAction match ``action``."""
        key = action.lower()
        found = self._by_action.get(key)
        if found is None:
            found = tuple(
                (name, tuple(st for st in facts if _action_applies(st, action)))
                for name, facts in self._facts.items()
            )
            self._by_action[key] = found
        return found

    def _caller(self, principal: str | None) -> Caller:
        caller = self._callers.get(principal)
        if caller is None:
            caller = self._callers[principal] = read_caller(principal)
        return caller

    def _applies(self, layer: str, caller: Caller) -> bool:
        family = layer.split("/")[0]
        kind = caller.kind
        if family == "identity":
            return kind in _HAS_IDENTITY
        if family == "boundary":
            return kind in _HAS_IDENTITY
        if family == "session":
            return kind in _HAS_SESSION
        if family == "scp":
            # SCPs limit principals of member accounts, not service-linked roles (§1.3).
            return kind in _IN_AN_ACCOUNT and not caller.service_linked
        if family == "rcp":
            return not caller.service_linked
        return True  # resource, vpc_endpoint

    # ---------------------------------------------------------------- deciding

    def decide(self, request: Request | Mapping) -> Decision:
        request = read_request(request)
        caller = self._caller(request.principal)
        values = caller.derived_context() if request.derive_context else {}
        values.update(request.context)  # what the scenario gives wins
        context = RequestContext(values)

        notes: list[str] = []
        resource_account = request.resource_account or resource_account_of(request.resource)
        if caller.account is None:
            same_account = None
        else:
            if resource_account is None:
                resource_account = caller.account
                notes.append(f"the resource's account is not given and not in its ARN: assumed to be the "
                             f"caller's account {caller.account}")
            same_account = resource_account == caller.account
        must_allow = resource_must_allow_itself(request.action, request.resource)
        has_boundary = "boundary" in self._facts and self._applies("boundary", caller)

        applies, allows, denies, grants = set(), set(), set(), set()
        matched: list[StatementFacts] = []
        warnings: list[Warning] = []
        missing: set[str] = set()
        for layer, candidates in self._candidates(request.action):
            if not self._applies(layer, caller):
                continue
            applies.add(layer)
            for st in candidates:
                how = self._match(st, layer, caller, request.resource, context, has_boundary, warnings, missing)
                if how is None:
                    continue
                matched.append(st)
                if st.effect is Effect.ALLOW:
                    allows.add(layer)
                    if layer == "resource":
                        grants.add(how)
                else:
                    denies.add(layer)
        signature = Signature(
            caller=caller.kind.value,
            same_account=same_account,
            # A trust policy or key policy must itself allow (§1.4); when it is
            # not given, nothing can.
            must_allow_itself=must_allow is not None,
            applies=frozenset(applies),
            allows=frozenset(allows),
            denies=frozenset(denies),
            resource_grants=frozenset(grants),
            scp_levels=tuple(l for l in self._scp_levels if l in applies),
            rcp_levels=tuple(l for l in self._rcp_levels if l in applies),
        )
        return Decision(request, caller, outcome(signature), signature, tuple(st.ref for st in matched),
                        tuple(warnings), tuple(notes), self._infos, must_allow, tuple(sorted(missing)))

    def _match(self, st: StatementFacts, layer: str, caller: Caller, resource: str, context: RequestContext,
               has_boundary: bool, warnings: list, missing: set) -> str | None:
        """How the statement matches: None (it does not), or for an Allow in
        the resource policy the way it names the caller; "" otherwise."""
        if st.resource is not None:
            if not matching.resource_matches(st.resource, resource, context):
                return None
        elif st.not_resource is not None:
            if matching.resource_matches(st.not_resource, resource, context):
                return None
        how = ""
        if st.principal is not None:
            how = matching.principal_grant(st.principal, caller)
            if how is None:
                return None
        elif st.not_principal is not None:
            listed_any, listed_all = matching.not_principal_lists(st.not_principal, caller)
            if st.effect is Effect.ALLOW:
                if listed_any:
                    return None
                how = matching.Grant.ITSELF
            # A resource policy's Deny + NotPrincipal denies every principal
            # that has a permissions boundary, whatever the list (§3).
            elif listed_all and not (layer == "resource" and has_boundary):
                return None
        for clause in st.condition:
            # Keys the statement tests that the request lacks: the Simulator's
            # MissingContextValues (every layer, SCPs included).
            if not context.has(clause.key):
                missing.add(clause.key)
        for clause in st.condition:
            holds, warning = conditions.evaluate(clause, context)
            if warning is not None:
                warnings.append(Warning(st.ref, warning.path, warning.message))
            if not holds:
                return None
        return how


def _action_applies(st: StatementFacts, action: str) -> bool:
    if st.action is not None:
        return matching.action_matches(st.action, action)
    if st.not_action is not None:
        return not matching.action_matches(st.not_action, action)
    return False
