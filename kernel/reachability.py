"""Who can become whom: the transitive closure of role assumption, as
Datalog recursion.

Each edge ``can_assume(X, R)`` is one decision of the rules in rules.py: the
kernel allowed X (a user, or any session of a role) ``sts:AssumeRole`` on
role R — R's trust policy, X's identity policies, boundary and SCPs all
taking part. The closure is the recursive rule below; nothing else decides
what is reachable.
"""

from __future__ import annotations

import contextlib
import gc

from pyDatalog import pyDatalog, pyEngine

PROGRAM = """
reaches(X, Y) <= can_assume(X, Y)
reaches(X, Y) <= reaches(X, Z) & can_assume(Z, Y)
"""

def closure(edges: set[tuple[str, str]], start: str) -> frozenset[str]:
    """Every node ``start`` reaches through one or more edges."""
    return _derive(edges, start).get(start, frozenset())


def full_closure(edges: set[tuple[str, str]]) -> dict[str, frozenset[str]]:
    """Every node's reachable nodes, in one query."""
    return _derive(edges, None)


def _derive(edges: set[tuple[str, str]], start: str | None) -> dict[str, frozenset[str]]:
    """The rule above over ``edges`` (of ``start`` alone, when given)."""
    with _own_logic(PROGRAM, can_assume=2):
        for x, y in edges:
            _fact("can_assume", x, y)
        out: dict[str, set[str]] = {}
        for x, y in _ask("reaches", start, None):
            if x != "__schema__":
                out.setdefault(x, set()).add(y)
        return {x: frozenset(ys) for x, ys in out.items()}


@contextlib.contextmanager
def _own_logic(program: str, **inputs: int):
    """A fresh pyDatalog logic holding ``program``, each input predicate
    declared with its arity (an undeclared one fails the query); pyDatalog's
    state is per thread, and a caller's own logic is restored after.

    The cyclic garbage collector is held off meanwhile: the evaluation makes
    millions of short-lived objects, and each collection it sets off walks
    the caller's whole heap — account data of 10,000 roles made a closure
    of 24,000 facts take 50 s instead of 11 (bench/privesc_bench.py). What
    the evaluation leaves is collected when it is switched back on."""
    saved = getattr(pyDatalog.Logic.tl, "logic", None)
    with _collector_held():
        pyDatalog.Logic()
        try:
            pyDatalog.load(program)
            for name, arity in inputs.items():
                _fact(name, *(["__schema__"] * arity))
            yield
        finally:
            if saved is not None:
                pyDatalog.Logic(saved)
            else:
                del pyDatalog.Logic.tl.logic


@contextlib.contextmanager
def _collector_held():
    """The cyclic garbage collector off until the outermost of these ends."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


# Facts and queries through pyDatalog's engine (pyEngine) rather than its
# parser: the same clauses, 6–12x cheaper each (../MEASURED.md), which counts
# at tens of thousands of facts per closure.
def _fact(predicate: str, *args: str) -> None:
    pyEngine.assert_(pyEngine.Clause(pyEngine.Literal(predicate, [pyEngine.Const(a) for a in args]), []))


def _ask(predicate: str, *args: str | None) -> list[tuple[str, ...]]:
    """The rows of ``predicate(args)``, None an unbound argument."""
    terms = [pyEngine.Var(f"V{i}") if a is None else pyEngine.Const(a) for i, a in enumerate(args)]
    rows = pyEngine.Literal(predicate, terms).ask()
    return [] if rows is True else list(rows or ())


# Escalation (accounts/privesc.py): an edge is one method whose every need
# the kernel allowed node X (a principal, a named session, a principal whose
# policies a change has altered); ``combines(M, B, C)`` says that holding
# capability M (a change made to principal B) and being B is being C (B as
# changed). A rule joining two recursive facts (X gets M, X gets B) makes
# pyDatalog's evaluation take a minute over a few hundred edges, so the
# recursion is stratified: the linear closure above, then the combinations
# as one non-recursive rule over what it derived, each a new edge X → C,
# until no combination adds one (at most one round per change a path
# stacks).
#
# A capability is a sink: nothing is got through it but by a combination.
# So the linear closure runs over the edges between nodes only, and X holds
# M when X is, or gets, a node Z with an edge to M (``grants(Z, M)``). A
# caller who may rewrite the policies of its account's 200 roles holds 200
# capabilities; with them in the closure, they were 38,000 of its 62,000
# facts at 10,000 roles (bench/privesc_bench.py), each derived again in
# every round.
COMBINE = """
combined(X, C) <= got(X, B) & combines(M, B, C) & grants(Z, M) & got(X, Z)
combined(X, C) <= got(X, B) & combines(M, B, C) & grants(X, M)
combined(X, C) <= combines(M, X, C) & grants(Z, M) & got(X, Z)
combined(X, C) <= combines(M, X, C) & grants(X, M)
"""


def escalation_closure(edges: set[tuple[str, str]], combines: set[tuple[str, str, str]],
                       start: str | None = None, derived: set[tuple[str, str]] | None = None
                       ) -> dict[str, frozenset[str]]:
    """Every node (not capability) each node gets (of ``start`` alone, when
    given) through edges and combinations. ``derived`` holds the
    combinations' edges of an earlier call on fewer edges and combinations
    (both only grow, so each still holds) and gets this call's: a caller
    asking again after adding edges starts where the last call ended."""
    with _collector_held():  # across the rounds: each round's garbage is collected once, after
        return _escalation_closure(edges, combines, start, derived)


def _escalation_closure(edges, combines, start, derived):
    capabilities = {m for m, _, _ in combines}
    grants = {(z, m) for z, m in edges if m in capabilities}
    edges = {(x, y) for x, y in edges if y not in capabilities} | set(derived or ())
    while True:
        got = closure_of(edges, start)
        new = _combined(got, grants, combines) - edges if combines else set()
        if not new:
            return got
        edges |= new
        if derived is not None:
            derived |= new


def closure_of(edges: set[tuple[str, str]], start: str | None) -> dict[str, frozenset[str]]:
    return {start: closure(edges, start)} if start is not None else full_closure(edges)


def _combined(got: dict[str, frozenset[str]], grants: set[tuple[str, str]],
              combines: set[tuple[str, str, str]]) -> set[tuple[str, str]]:
    """The edges X → C of the combination rule over one closure."""
    with _own_logic(COMBINE, got=2, grants=2, combines=3):
        for x, ys in got.items():
            for y in ys:
                _fact("got", x, y)
        for z, m in grants:
            _fact("grants", z, m)
        for m, b, c in combines:
            _fact("combines", m, b, c)
        return {row for row in _ask("combined", None, None) if row[0] != "__schema__"}
