"""The questions users ask, each built on ``implies`` (engine.py), each
answered as a ``Check`` — PASS, FAIL with a witness request the kernel
confirms, or UNKNOWN with the reason. A solver timeout is UNKNOWN, never PASS.

- ``check_no_new_access(new, existing)``: PASS iff everything NEW allows,
  EXISTING allows (IAM Access Analyzer's CheckNoNewAccess): implies(new, existing).
- ``equivalent(a, b)``: both directions.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from ..kernel.catalogue import CATALOGUE
from ..kernel.engine import Engine, PolicyLayer
from ..scenario import load_policy
from ..translator.model import Effect, Policy, PolicyType
from .engine import WITNESS_ACCOUNT, Implication, implies

# Policy types whose statements name no principal.
ENCODED_TYPES = frozenset({PolicyType.IDENTITY, PolicyType.BOUNDARY, PolicyType.SESSION, PolicyType.SCP})


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
    policy evaluable (a missing Version, say) do not stop the check."""
    return load_policy(raw, policy_type, name, None)[1]


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


def _direction(a: Policy, b: Policy, timeout_ms: int) -> tuple[Implication, tuple | None]:
    result = implies(a, b, timeout_ms)
    if result.holds is False:
        replayed = _replay(result.counterexample, a, b)
        if replayed is None:
            return Implication(None, why="internal error: the kernel does not confirm the solver's witness "
                                         f"{result.counterexample}"), None
        return result, replayed
    return result, None


def check_no_new_access(new, existing, policy_type: PolicyType | str = PolicyType.IDENTITY,
                        timeout_ms: int = 30_000) -> Check:
    """PASS iff everything ``new`` allows, ``existing`` allows too."""
    started = time.perf_counter()
    policy_type = PolicyType(policy_type)
    check = Check("UNKNOWN", catalogue=CATALOGUE.version)
    new_p = _policy(new, policy_type, "new")
    old_p = _policy(existing, policy_type, "existing")
    result, replayed = _direction(new_p, old_p, timeout_ms)
    if result.holds is True:
        check.result = "PASS"
    elif result.holds is False:
        check.result = "FAIL"
        check.witness, check.reasons = replayed
    else:
        check.note = result.why
    check.elapsed_ms = (time.perf_counter() - started) * 1000
    return check


def equivalent(a, b, policy_type: PolicyType | str = PolicyType.IDENTITY, timeout_ms: int = 30_000) -> Check:
    """PASS iff ``a`` and ``b`` allow exactly the same requests; a witness
    for each direction that differs."""
    started = time.perf_counter()
    policy_type = PolicyType(policy_type)
    check = Check("UNKNOWN", catalogue=CATALOGUE.version)
    pa, pb = _policy(a, policy_type, "a"), _policy(b, policy_type, "b")
    results = []
    for label, x, y in (("a allows more than b", pa, pb), ("b allows more than a", pb, pa)):
        result, replayed = _direction(x, y, timeout_ms)
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
    check.elapsed_ms = (time.perf_counter() - started) * 1000
    return check
