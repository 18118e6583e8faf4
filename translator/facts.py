"""The policy model as facts: one family per statement element, each keyed by
a statement id whose provenance (policy, policy type, layer, index, Sid, span)
is kept in ``StatementFacts.ref``.

Families (SEMANTICS §3, "a statement matches when its action, resource,
principal and every condition match"):

  effect(S, Effect)              action(S, ActionPattern)     not_action(S, ActionPattern)
  resource(S, ResourcePattern)   not_resource(S, ResourcePattern)
  principal(S, PrincipalEntry)   not_principal(S, PrincipalEntry)
  condition(S, ConditionClause)

The kernel reads these facts to build its matchers; it never reads the model
directly, so what the kernel decides on is exactly what is listed here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from .model import (
    ActionPattern,
    ConditionClause,
    Effect,
    Policy,
    PolicyType,
    PrincipalEntry,
    ResourcePattern,
    Statement,
)


@dataclass(frozen=True, slots=True)
class StatementRef:
    """Where a statement comes from: what a proof points back to."""

    id: int
    layer: str
    policy_id: str
    policy_type: PolicyType
    statement: Statement

    @property
    def index(self) -> int:
        return self.statement.index

    @property
    def sid(self) -> str | None:
        return self.statement.sid

    @property
    def label(self) -> str:
        return f"{self.policy_id} {self.statement.label}"

    def to_dict(self) -> dict:
        span = None if self.statement.source.rendered else self.statement.span
        out = {
            "policy": self.policy_id,
            "layer": self.layer,
            "policy_type": str(self.policy_type),
            "statement_index": self.index,
            "sid": self.sid,
            "effect": str(self.statement.effect),
            "path": self.statement.json_path,
        }
        if span is not None:
            out["span"] = span.to_dict()
        return out


@dataclass(frozen=True, slots=True)
class StatementFacts:
    """The facts of one statement (its id is ``ref.id``)."""

    ref: StatementRef
    effect: Effect
    action: tuple[ActionPattern, ...] | None
    not_action: tuple[ActionPattern, ...] | None
    resource: tuple[ResourcePattern, ...] | None
    not_resource: tuple[ResourcePattern, ...] | None
    principal: tuple[PrincipalEntry, ...] | None
    not_principal: tuple[PrincipalEntry, ...] | None
    condition: tuple[ConditionClause, ...]

    def rows(self) -> Iterator[tuple]:
        """The facts as (family, statement id, value) rows."""
        s = self.ref.id
        yield "effect", s, self.effect
        for family in ("action", "not_action", "resource", "not_resource", "principal", "not_principal"):
            for value in getattr(self, family) or ():
                yield family, s, value
        for clause in self.condition:
            yield "condition", s, clause


def statement_facts(policy: Policy, layer: str, policy_id: str, first_id: int) -> list[StatementFacts]:
    """The facts of every statement of one policy, ids from ``first_id``."""
    out = []
    for offset, st in enumerate(policy.statements):
        ref = StatementRef(first_id + offset, layer, policy_id, policy.policy_type, st)
        out.append(StatementFacts(ref, st.effect, st.action, st.not_action, st.resource, st.not_resource,
                                  st.principal, st.not_principal, st.condition))
    return out
