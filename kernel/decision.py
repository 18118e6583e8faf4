"""A decision and its proof: what the rules derived, the statements that
matched, and the derivation told in words."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..translator.facts import StatementRef
from ..translator.model import Effect
from .principals import Caller
from .request import Request
from .rules import Outcome, Signature


@dataclass(frozen=True, slots=True)
class LayerInfo:
    name: str
    label: str  # "the SCP level ou-2", "the identity policies"


@dataclass(frozen=True, slots=True)
class Warning:
    """A condition that could not be evaluated as written (it did not hold)."""

    statement: StatementRef
    path: str
    message: str

    def to_dict(self) -> dict:
        return {"policy": self.statement.policy_id, "statement_index": self.statement.index,
                "sid": self.statement.sid, "path": self.path, "message": self.message}


@dataclass(frozen=True, slots=True)
class Trace:
    """The per-statement evaluation of a request (the proof's material)."""

    matched: tuple[StatementRef, ...]
    warnings: tuple[Warning, ...]
    missing_context_keys: tuple[str, ...]
    signature: Signature


def blocked_by_family(layer: str) -> str:
    """``scp/1`` → ``scp``: the layer kinds ``blocked_by`` speaks of."""
    return layer.split("/")[0]


_GRANT_WORDS = {
    "identity": "the identity policies allow it{limits}",
    "resource": "the resource policy allows it{how}",
    "identity_and_resource": "both sides allow it: the identity policies{limits}, and the resource policy names the caller",
}
_HOW = {
    "principal_itself": ", naming the caller itself (not limited by identity policies, boundary or session policy)",
    "role": ", naming the caller's role (limited by its permissions boundary and session policy, which allow it)",
    "account": ", naming the caller's account",
    "everyone": ", naming everyone (limited by the caller's permissions boundary and session policy, which allow it)",
}


class Decision:
    """The answer for one request."""

    __slots__ = ("request", "caller", "outcome", "signature", "notes", "_layers", "must_allow_itself",
                 "_trace_fn", "_trace")

    def __init__(self, request: Request, caller: Caller, outcome: Outcome, signature: Signature,
                 layers: dict[str, LayerInfo], must_allow_itself: str | None, notes: tuple[str, ...],
                 trace: Callable[[], Trace]):
        self.request = request
        self.caller = caller
        self.outcome = outcome
        self.signature = signature
        self.notes = notes
        self._layers = layers
        self.must_allow_itself = must_allow_itself
        self._trace_fn = trace
        self._trace: Trace | None = None

    def trace(self) -> Trace:
        """The per-statement evaluation behind this decision, computed once on
        first use (the decision itself comes from the compiled plan)."""
        if self._trace is None:
            self._trace = self._trace_fn()
        return self._trace

    @property
    def matched(self) -> tuple[StatementRef, ...]:
        return self.trace().matched

    @property
    def warnings(self) -> tuple[Warning, ...]:
        """Conditions that could not be evaluated as written (each was false)."""
        return self.trace().warnings

    @property
    def missing_context_keys(self) -> tuple[str, ...]:
        """Condition keys that statements matching the action, resource and
        principal test, and that the request does not carry."""
        return self.trace().missing_context_keys

    @property
    def decision(self) -> str:
        """``allow``, ``explicit_deny`` or ``implicit_deny``."""
        return self.outcome.decision

    @property
    def allowed(self) -> bool:
        return self.outcome.decision == "allow"

    @property
    def blocked_by(self) -> str | None:
        """The layer that stopped the request first (``scp``, ``rcp``,
        ``identity``, ``resource``, ``boundary``, ``session``,
        ``vpc_endpoint``); None when allowed."""
        return blocked_by_family(self.outcome.blocked_by[0]) if self.outcome.blocked_by else None

    @property
    def blocked_layers(self) -> tuple[str, ...]:
        """Every layer that blocked it, levels named (``scp/1``)."""
        return self.outcome.blocked_by

    @property
    def matched_statements(self) -> tuple[StatementRef, ...]:
        return self.matched

    def _label(self, layer: str) -> str:
        info = self._layers.get(layer)
        return info.label if info else f"the {layer} policy"

    def _statements(self, layer: str, effect: Effect | None = None) -> list[StatementRef]:
        return [r for r in self.matched if r.layer == layer and (effect is None or r.statement.effect is effect)]

    @staticmethod
    def _cite(refs: list[StatementRef]) -> str:
        out = []
        for r in refs:
            span = None if r.statement.source.rendered else r.statement.span
            out.append(f"{r.label}" + (f" (line {span.line})" if span else ""))
        return ", ".join(out)

    def explain(self) -> str:
        """The derivation in words, one line per rule that decided."""
        r = self.request
        o = self.outcome
        head = (f"{o.decision.replace('_', ' ')}: {r.action} on {r.resource} by {self.caller.display}")
        lines: list[str] = []
        if o.explicit_denies:
            for layer in o.explicit_denies:
                lines.append(f"explicit deny in {self._label(layer)}: "
                             f"{self._cite(self._statements(layer, Effect.DENY))}")
        else:
            lines.append("no explicit deny in any policy that applies")
        for layer in self.signature.rcp_levels + self.signature.scp_levels:
            allows = self._statements(layer, Effect.ALLOW)
            if allows:
                lines.append(f"{self._label(layer)} allows it: {self._cite(allows)}")
            else:
                lines.append(f"implicit deny: {self._label(layer)} has no Allow matching {r.action}")
        if "vpc_endpoint" in self.signature.applies:
            allows = self._statements("vpc_endpoint", Effect.ALLOW)
            lines.append(f"{self._label('vpc_endpoint')} allows it: {self._cite(allows)}" if allows else
                         f"implicit deny: {self._label('vpc_endpoint')} has no Allow matching {r.action}")
        if self.must_allow_itself:
            lines.append(f"the resource policy is a {self.must_allow_itself}, which must itself allow")
        for path in o.grants:
            limits = ""
            if "boundary" in self.signature.applies or "session" in self.signature.applies:
                limits = " within " + " and ".join(
                    self._label(l) for l in ("boundary", "session") if l in self.signature.applies)
            how = "".join(_HOW[g] for g in sorted(self.signature.resource_grants)[:1]) if path == "resource" else ""
            lines.append(_GRANT_WORDS[path].format(limits=limits, how=how) + self._grant_cites(path))
        if o.decision == "implicit_deny" and not o.org_shortfalls and "vpc_endpoint" not in o.blocked_by:
            for layer in o.shortfalls:
                lines.append(f"implicit deny: {self._shortfall_words(layer)}")
        for note in self.notes:
            lines.append(f"note: {note}")
        for w in self.warnings:
            lines.append(f"warning: {w.statement.label}: {w.message}")
        body = "\n".join(("└─ " if i == len(lines) - 1 else "├─ ") + line for i, line in enumerate(lines))
        return head + "\n" + body

    def _grant_cites(self, path: str) -> str:
        layers = {"identity": ["identity"], "resource": ["resource"], "identity_and_resource": ["identity", "resource"]}
        refs = [ref for layer in layers[path] for ref in self._statements(layer, Effect.ALLOW)]
        return f" — {self._cite(refs)}" if refs else ""

    def _shortfall_words(self, layer: str) -> str:
        action = self.request.action
        if layer == "identity":
            if "identity" in self.signature.applies:
                return f"no identity policy allows {action}"
            return "the caller has no identity policies here"
        if layer == "resource":
            if "resource" not in self.signature.applies:
                return "no resource policy is given, and it must allow this request"
            return f"the resource policy has no Allow for {action} that names the caller"
        if layer == "boundary":
            return f"the permissions boundary has no Allow matching {action}"
        if layer == "session":
            if "session" not in self.signature.applies:
                return "a federated user session without a session policy has no permissions"
            return f"the session policy has no Allow matching {action}"
        return f"{self._label(layer)} does not allow it"

    def to_dict(self) -> dict:
        return {
            "decision": self.decision,
            "blocked_by": self.blocked_by,
            "blocked_layers": list(self.blocked_layers),
            "matched_statements": [ref.to_dict() for ref in self.matched],
            "warnings": [w.to_dict() for w in self.warnings],
            "missing_context_keys": list(self.missing_context_keys),
            "notes": list(self.notes),
            "request": self.request.to_dict(),
        }

    def __repr__(self) -> str:
        return f"Decision({self.decision!r}, blocked_by={self.blocked_by!r})"
