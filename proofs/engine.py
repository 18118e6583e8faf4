"""The symbolic side of kernel/engine.py: whether one policy allows a
request, for every request at once, and the one primitive every question is
built on — ``implies(a, b)``: everything ``a`` allows, ``b`` allows too.

For one policy (no Principal: identity, boundary, session, SCP) a request is
allowed when some Allow statement matches and no Deny does (SEMANTICS §1.1,
§1.5). Per action class (proofs/matching.py) and per consistent assignment of
the condition blocks' truth, the resources each side allows are one regex;
``a`` allows something ``b`` does not iff

    InRe(resource, FORMAT ∩ (A_allow \\ A_deny) ∩ complement(B_allow \\ B_deny))

has a solution — one membership test, which Z3 answers in milliseconds.
Every request found is replayed through the kernel before it is shown.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import z3

from ..kernel.catalogue import CATALOGUE
from ..translator.model import Effect, Policy
from . import conditions as C
from .matching import ActionClass, Unsupported, action_classes, arn_format_re, pattern_re, relevant_actions

# More condition blocks than this in one action class: UNKNOWN, not a guess.
MAX_CONDITION_BLOCKS = 12
WITNESS_PRINCIPAL = "arn:aws:iam::111122223333:user/witness"
WITNESS_ACCOUNT = "111122223333"


class Timeout(Exception):
    pass


@dataclass
class Counterexample:
    action: str
    resource: str
    context: dict


@dataclass
class Implication:
    holds: bool | None  # None: undecided
    counterexample: Counterexample | None = None
    why: str | None = None
    classes: int = 0
    solver_calls: int = 0


@dataclass
class _Side:
    allows: list = field(default_factory=list)  # (condition formula | None, resource regex)
    denies: list = field(default_factory=list)


def _side(policy: Policy, cls: ActionClass, ctx: C.SymbolicContext) -> _Side:
    side = _Side()
    action = cls.representative
    for st in policy.statements:
        from ..kernel.matching import action_matches

        applies = (action_matches(st.action, action) if st.action is not None
                   else not action_matches(st.not_action or (), action))
        if not applies:
            continue
        if st.principal is not None or st.not_principal is not None:
            raise Unsupported("Principal / NotPrincipal are not encoded yet")
        if st.resource is not None:
            resources = z3.Union(*[pattern_re(p) for p in st.resource]) if len(st.resource) > 1 else pattern_re(st.resource[0])
        elif st.not_resource is not None:
            listed = [pattern_re(p) for p in st.not_resource]
            resources = z3.Complement(z3.Union(*listed) if len(listed) > 1 else listed[0])
        else:
            resources = z3.Full(z3.ReSort(z3.StringSort()))
        condition = z3.And(*[C.encode(c, ctx) for c in st.condition]) if st.condition else None
        (side.allows if st.effect is Effect.ALLOW else side.denies).append((condition, resources))
    return side


def _union(regexes: list) -> z3.ReRef:
    if not regexes:
        return z3.Empty(z3.ReSort(z3.StringSort()))
    return regexes[0] if len(regexes) == 1 else z3.Union(*regexes)


def _allowed(side: _Side, truth: dict) -> z3.ReRef:
    allow = _union([r for c, r in side.allows if c is None or truth[c.get_id()]])
    deny = [r for c, r in side.denies if c is None or truth[c.get_id()]]
    return z3.Intersect(allow, z3.Complement(_union(deny))) if deny else allow


def implies(a: Policy, b: Policy, timeout_ms: int = 30_000) -> Implication:
    """Does everything ``a`` allows, ``b`` allow too (typed mode: actions of
    the catalogue, each on its resource types' ARN formats)?"""
    deadline = time.monotonic() + timeout_ms / 1000
    statements = [(st.action, st.not_action) for p in (a, b) for st in p.statements]
    relevant = frozenset().union(*(relevant_actions(st.action, st.not_action)
                                   for st in a.statements if st.effect is Effect.ALLOW)) \
        if any(st.effect is Effect.ALLOW for st in a.statements) else frozenset()
    try:
        classes = action_classes(statements, relevant)
    except Unsupported as e:
        return Implication(None, why=str(e))
    result = Implication(True, classes=len(classes))
    for cls in classes:
        try:
            found = _class_counterexample(a, b, cls, deadline, result)
        except Unsupported as e:
            return Implication(None, why=str(e), classes=len(classes), solver_calls=result.solver_calls)
        except Timeout:
            return Implication(None, why=f"the solver did not finish within {timeout_ms} ms",
                               classes=len(classes), solver_calls=result.solver_calls)
        if found is not None:
            result.holds = False
            result.counterexample = found
            return result
    return result


def _remaining_ms(deadline: float) -> int:
    left = int((deadline - time.monotonic()) * 1000)
    if left <= 0:
        raise Timeout()
    return left


def _class_counterexample(a: Policy, b: Policy, cls: ActionClass, deadline: float,
                          stats: Implication) -> Counterexample | None:
    ctx = C.SymbolicContext()
    side_a, side_b = _side(a, cls, ctx), _side(b, cls, ctx)
    if not side_a.allows:
        return None
    if cls.arn_formats:
        formats = _union([arn_format_re(f) for f in cls.arn_formats])
    else:
        formats = z3.Re(z3.StringVal("*"))
    atoms = {}
    for c, _ in side_a.allows + side_a.denies + side_b.allows + side_b.denies:
        if c is not None:
            atoms[c.get_id()] = c
    if len(atoms) > MAX_CONDITION_BLOCKS:
        raise Unsupported(f"{len(atoms)} condition blocks on {cls.representative} (more than {MAX_CONDITION_BLOCKS})")

    # Enumerate the consistent truth assignments of the condition blocks.
    enumerator = z3.Solver()
    names = {i: z3.Bool(f"block{i}") for i in atoms}
    for i, c in atoms.items():
        enumerator.add(names[i] == c)
    enumerator.add(*ctx.realistic())
    resource = z3.String("resource")
    while True:
        enumerator.set("timeout", _remaining_ms(deadline))
        stats.solver_calls += 1
        verdict = enumerator.check()
        if verdict == z3.unknown:
            raise Timeout()
        if verdict == z3.unsat:
            return None
        model = enumerator.model()
        truth = {i: z3.is_true(model.eval(names[i], model_completion=True)) for i in atoms}
        difference = z3.Intersect(_allowed(side_a, truth), z3.Complement(_allowed(side_b, truth)))
        # Untyped first: when no resource at all separates the two sides, no
        # typed one does either (the common case, and the cheap question).
        answer = _solve(resource, difference, deadline, stats)
        if answer is not None:
            answer = _solve(resource, z3.Intersect(formats, difference), deadline, stats)
        if answer is not None:
            witness_resource = answer
            context = {}
            for (kind, key) in list(ctx.variables):
                if kind == "present":
                    value = C.witness_value(ctx, model, key)
                    if value is not None:
                        context[key] = value
            return Counterexample(cls.representative, witness_resource, context)
        if not atoms:
            return None
        enumerator.add(z3.Or(*[names[i] != z3.BoolVal(v) for i, v in truth.items()]))


def _solve(resource: z3.SeqRef, regex: z3.ReRef, deadline: float, stats: Implication) -> str | None:
    """A resource in ``regex`` (one membership question), or None if there is
    none; Timeout when the solver cannot tell in time."""
    solver = z3.Solver()
    solver.set("timeout", _remaining_ms(deadline))
    solver.add(z3.InRe(resource, regex))
    stats.solver_calls += 1
    answer = solver.check()
    if answer == z3.unknown:
        raise Timeout()
    if answer == z3.unsat:
        return None
    return solver.model().eval(resource, model_completion=True).as_string()


def catalogue_version() -> str:
    return CATALOGUE.version
