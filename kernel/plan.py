"""A compiled plan per action: the fast path to a request's signature.

For one action, each layer's candidate statements are grouped by (effect,
how their Principal names callers, condition block); a group's Resource
patterns are merged into one regular expression per service. A request then
costs, per layer, one evaluation per distinct condition block and one regex
match per group — not one match per statement.

The plan computes only what the Datalog rules see (which layers allow or
deny, how the resource policy names the caller). Which statements matched,
and the warnings, come from the per-statement matcher in engine.py, which
tests/test_differential.py holds to the same signature on every request.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from ..translator.facts import StatementFacts
from ..translator.model import Effect, PrincipalKind
from . import conditions, globs, matching
from .context import RequestContext

# Bits of the resource-policy grant mask (how a matching Allow names the caller).
GRANT_BITS = {matching.Grant.ITSELF: 1, matching.Grant.ROLE: 2, matching.Grant.ACCOUNT: 4, matching.Grant.EVERYONE: 8}


def condition_key(st: StatementFacts) -> tuple:
    """What a condition block's truth depends on: its operators, keys and values."""
    return tuple(conditions.clause_key(c) for c in st.condition)


def _service(resource: str) -> str | None:
    parts = resource.split(":", 3)
    return parts[2] if len(parts) > 3 and parts[0] == "arn" else None


@dataclass
class Group:
    """Statements of one layer with the same effect, principal reading and
    condition block."""

    effect: Effect
    grant: int  # the grant bit for resource-policy Allows naming everyone ("*"), else 0
    condition: tuple  # the clauses of the first member (all members' blocks are equal)
    condition_key: tuple
    members: list[StatementFacts] = field(default_factory=list)
    matches_all: bool = False
    static: dict[str | None, list] = field(default_factory=dict)  # service -> regex bodies (or matchers)
    templated: list = field(default_factory=list)  # patterns whose resource part holds variables
    variable_keys: tuple = ()  # the context keys those variables read
    condition_id: int = 0  # a small integer naming the condition block (0: none)
    condition_keys: tuple = ()  # the context keys the block reads
    _compiled: dict[str | None, re.Pattern] = field(default_factory=dict)
    _by_values: dict[tuple, dict[str | None, re.Pattern]] = field(default_factory=dict)

    def add(self, st: StatementFacts) -> None:
        self.members.append(st)
        if st.resource is None:
            self.matches_all = True  # no Resource element (a trust policy): every resource
            return
        for p in st.resource:
            if p.is_any:
                self.matches_all = True
            elif p.arn_parts is None or len(p.arn_parts) < 2:
                continue  # not an ARN: it matches nothing
            elif p.resource is not None and any(type(x) is not str for x in p.resource):
                self.templated.append(p)
            else:
                runs = None if p.resource is None else (("".join(p.resource), True),) if p.resource else ()
                self.static.setdefault(_service_key(p.arn_parts), []).append(_linear(p.arn_parts, runs))

    def seal(self) -> None:
        self._compiled = {svc: _matcher(parts) for svc, parts in self.static.items()}
        self.variable_keys = tuple(sorted({piece.key.lower() for p in self.templated for piece in p.resource
                                           if hasattr(piece, "key")}))
        if self.condition:
            self.condition_id = _condition_id(self.condition_key)
            self.condition_keys = tuple(dict.fromkeys(k for c in self.condition for k in conditions.keys_read(c)))

    def matches(self, resource: str, service: str | None, context: RequestContext) -> bool:
        if self.matches_all:
            return True
        rx = self._compiled.get(service)
        if rx is not None and rx(resource):
            return True
        rx = self._compiled.get(ANY_SERVICE)
        if rx is not None and rx(resource):
            return True
        if self.templated:
            key = tuple(context.get(k) for k in self.variable_keys)
            if not _held_briefly(key):
                # Long values (a 500 KB tag): each pattern matched on its own for this
                # request, nothing compiled kept (matching.py), nothing cached here.
                return any(matching.resource_pattern_matches(p, resource, context) for p in self.templated)
            compiled = self._by_values.get(key)
            if compiled is None:
                bodies: dict[str | None, list] = {}
                for p in self.templated:
                    runs = context.resolve(p.resource)
                    if runs is not None:  # an absent variable: the entry matches nothing (§5)
                        bodies.setdefault(_service_key(p.arn_parts), []).append(_linear(p.arn_parts, runs))
                compiled = {svc: _matcher(b) for svc, b in bodies.items()}
                if len(self._by_values) > 4096:
                    self._by_values.clear()
                self._by_values[key] = compiled
            for rx in (compiled.get(service), compiled.get(ANY_SERVICE)):
                if rx is not None and rx(resource):
                    return True
        return False


# Every distinct condition block gets an integer (shared by all plans), so
# that its truth can be cached cheaply. Ids come from a counter and are never
# reused, so forgetting the table (to bound memory) only loses sharing.
_condition_ids: dict[tuple, int] = {}
_next_id = itertools.count(1)


def _condition_id(key: tuple) -> int:
    found = _condition_ids.get(key)
    if found is None:
        if len(_condition_ids) > 262_144:
            _condition_ids.clear()
        found = _condition_ids[key] = next(_next_id)
    return found

# (block id, the values of the keys it reads) -> truth. A block's truth is a
# function of exactly those values, so reusing it is exact.
_condition_truth: dict[tuple, bool] = {}


# Patterns whose partition ends in * may match an ARN of any service: that *
# runs past colons (§3), so "arn:*:s3:::b/*" matches "arn:aws:sqs:…:s3:::b/x".
ANY_SERVICE = "*any service*"


def _service_key(parts: tuple[str, ...]) -> str:
    return ANY_SERVICE if parts[0].endswith("*") else parts[1]


def _linear(parts: tuple[str, ...], runs):
    """A pattern's linear regex body, or (rarely: globs.py) its own matcher."""
    body = matching.resource_body(parts, runs)
    return body if body is not None else matching.resource_regex(parts, runs)


def _matcher(parts: list) -> Callable[[str], object]:
    """One test for a group's patterns of one service: their linear bodies as
    one regex, then the few patterns that need a matcher of their own."""
    bodies = [p for p in parts if type(p) is str]
    others = [p for p in parts if type(p) is not str]
    rx = globs.union(bodies).fullmatch if bodies else None
    if not others:
        return rx
    return lambda text: (rx is not None and rx(text)) or any(m.fullmatch(text) for m in others)


@dataclass
class LayerPlan:
    bit: int
    is_resource: bool
    deny_groups: list[Group]
    allow_groups: list[Group]
    singles: list[StatementFacts]  # NotResource, NotPrincipal or a Principal naming someone in particular


def _groupable(st: StatementFacts) -> bool:
    if st.not_resource is not None or st.not_principal is not None:
        return False
    if st.principal is None:
        return True
    # An empty map ({}, {"AWS": []}) names no one: it is left to the
    # per-statement matcher, which grants no one (all() of nothing is True).
    return bool(st.principal) and all(e.kind is PrincipalKind.ANY or (e.kind is PrincipalKind.AWS and e.value == "*") for e in st.principal)


def build_layer(bit: int, name: str, candidates: tuple[StatementFacts, ...]) -> LayerPlan:
    groups: dict[tuple, Group] = {}
    singles = []
    for st in candidates:
        if not _groupable(st):
            singles.append(st)
            continue
        grant = 0
        if st.principal is not None:  # "*": everyone, unless aws:PrincipalArn names the caller (engine.py)
            grant = GRANT_BITS[matching.Grant.ITSELF if matching.names_by_principal_arn(st.condition) else matching.Grant.EVERYONE]
        key = (st.effect, grant, condition_key(st))
        group = groups.get(key)
        if group is None:
            group = groups[key] = Group(st.effect, grant, st.condition, key[2])
        group.add(st)
    for g in groups.values():
        g.seal()
    return LayerPlan(bit, name == "resource",
                     [g for g in groups.values() if g.effect is Effect.DENY],
                     [g for g in groups.values() if g.effect is Effect.ALLOW], singles)


def _held_briefly(values: tuple) -> bool:
    """Whether request values are short enough to be kept as a cache key (the
    cache is bounded by count: 262,144 keys of a megabyte would be 256 GB)."""
    total = 0
    for value in values:
        if type(value) is str:
            total += len(value)
        elif value is not None:  # a multi-valued key: a tuple of strings (kernel/context.py)
            total += sum(len(v) for v in value)
    return total <= globs.LONG


class ActionPlan:
    """Every layer's plan for one action."""

    __slots__ = ("layers",)

    def __init__(self, layers: list[LayerPlan]):
        self.layers = layers

    def evaluate(self, applies: int, resource: str, context: RequestContext,
                 single: Callable[[StatementFacts, LayerPlan], str | None]) -> tuple[int, int, int]:
        """(allows, denies, grants) masks. Denies are looked for first and
        everywhere; when there is one, the request is an explicit deny
        whatever else allows, so allows are not looked for (the signature
        is canonical: see engine.canonical)."""
        service = _service(resource)
        values = context.values  # keys already lower-cased, as condition_keys are
        memo: dict[int, bool] = {}

        def holds(group: Group) -> bool:
            if not group.condition_id:
                return True
            found = memo.get(group.condition_id)
            if found is None:
                key = (group.condition_id, tuple(values.get(k) for k in group.condition_keys))
                found = _condition_truth.get(key)
                if found is None:
                    found = all(conditions.evaluate(c, context)[0] for c in group.condition)
                    if len(_condition_truth) > 262_144:
                        _condition_truth.clear()
                    if _held_briefly(key[1]):
                        _condition_truth[key] = found
                memo[group.condition_id] = found
            return found

        denies = 0
        for layer in self.layers:
            if not applies & layer.bit:
                continue
            for g in layer.deny_groups:
                if g.matches(resource, service, context) and holds(g):
                    denies |= layer.bit
                    break
            if not denies & layer.bit:
                for st in layer.singles:
                    if st.effect is Effect.DENY and single(st, layer) is not None:
                        denies |= layer.bit
                        break
        if denies:
            return 0, denies, 0
        allows = grants = 0
        for layer in self.layers:
            if not applies & layer.bit:
                continue
            for g in layer.allow_groups:
                if g.matches(resource, service, context) and holds(g):
                    allows |= layer.bit
                    if not layer.is_resource:
                        break
                    grants |= g.grant
            for st in layer.singles:
                if st.effect is Effect.ALLOW and (layer.is_resource or not allows & layer.bit):
                    how = single(st, layer)
                    if how is not None:
                        allows |= layer.bit
                        if layer.is_resource and how:
                            grants |= GRANT_BITS[how]
        return allows, denies, grants
