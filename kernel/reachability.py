"""Who can become whom: the transitive closure of role assumption, as
Datalog recursion.

Each edge ``can_assume(X, R)`` is one decision of the rules in rules.py: the
kernel allowed X (a user, or any session of a role) ``sts:AssumeRole`` on
role R — R's trust policy, X's identity policies, boundary and SCPs all
taking part. The closure is the recursive rule below; nothing else decides
what is reachable.
"""

from __future__ import annotations

from pyDatalog import pyDatalog

PROGRAM = """
reaches(X, Y) <= can_assume(X, Y)
reaches(X, Y) <= reaches(X, Z) & can_assume(Z, Y)
"""

def closure(edges: set[tuple[str, str]], start: str) -> frozenset[str]:
    """Every node ``start`` reaches through one or more edges."""
    return _derive(edges, f"reaches({_quote(start)}, Y)").get(start, frozenset())


def full_closure(edges: set[tuple[str, str]]) -> dict[str, frozenset[str]]:
    """Every node's reachable nodes, in one query."""
    return _derive(edges, "reaches(X, Y)")


def _derive(edges: set[tuple[str, str]], query: str) -> dict[str, frozenset[str]]:
    """The rule above over ``edges``, in a pyDatalog logic of its own
    (pyDatalog's state is per thread; a caller's own logic is restored
    after)."""
    saved = getattr(pyDatalog.Logic.tl, "logic", None)
    pyDatalog.Logic()  # fresh: each question has its own edges
    try:
        pyDatalog.load(PROGRAM)
        pyDatalog.assert_fact("can_assume", "__schema__", "__schema__")
        for x, y in edges:
            pyDatalog.assert_fact("can_assume", x, y)
        answer = pyDatalog.ask(query)
        out: dict[str, set[str]] = {}
        start = query[len("reaches("):].split(",")[0].strip("'")
        for row in answer.answers if answer else ():
            x, y = (row if len(row) == 2 else (start, row[0]))
            if x != "__schema__":
                out.setdefault(x, set()).add(y)
        return {x: frozenset(ys) for x, ys in out.items()}
    finally:
        if saved is not None:
            pyDatalog.Logic(saved)
        else:
            del pyDatalog.Logic.tl.logic


def _quote(text: str) -> str:
    if "'" in text or "\\" in text:
        raise ValueError(f"a node name the Datalog text cannot quote: {text!r}")
    return f"'{text}'"


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
COMBINE = """
combined(X, C) <= got(X, M) & combines(M, B, C) & got(X, B)
combined(X, C) <= got(X, M) & combines(M, X, C)
"""


def escalation_closure(edges: set[tuple[str, str]], combines: set[tuple[str, str, str]],
                       start: str | None = None) -> dict[str, frozenset[str]]:
    """Every node each node gets (of ``start`` alone, when given) through
    edges and combinations."""
    edges = set(edges)
    while True:
        got = closure_of(edges, start)
        new = _combined(got, combines) - edges if combines else set()
        if not new:
            return got
        edges |= new


def closure_of(edges: set[tuple[str, str]], start: str | None) -> dict[str, frozenset[str]]:
    return {start: closure(edges, start)} if start is not None else full_closure(edges)


def _combined(got: dict[str, frozenset[str]], combines: set[tuple[str, str, str]]) -> set[tuple[str, str]]:
    saved = getattr(pyDatalog.Logic.tl, "logic", None)
    pyDatalog.Logic()
    try:
        pyDatalog.load(COMBINE)
        pyDatalog.assert_fact("got", "__schema__", "__schema__")
        pyDatalog.assert_fact("combines", "__schema__", "__schema__", "__schema__")
        wanted = {m for m, _, _ in combines}
        # Only what the rules join: a node's got facts for the capabilities
        # and the principals they change, of a node that got a capability
        # (the closure of 15,000 nodes holds millions of others).
        joined = wanted | {b for _, b, _ in combines}
        for x, ys in got.items():
            if wanted.isdisjoint(ys):
                continue
            for y in joined.intersection(ys):
                pyDatalog.assert_fact("got", x, y)
        for m, b, c in combines:
            pyDatalog.assert_fact("combines", m, b, c)
        answer = pyDatalog.ask("combined(X, C)")
        return {tuple(row) for row in (answer.answers if answer else ()) if row[0] != "__schema__"
                and any(m in got.get(row[0], ()) for m in wanted)}
    finally:
        if saved is not None:
            pyDatalog.Logic(saved)
        else:
            del pyDatalog.Logic.tl.logic
