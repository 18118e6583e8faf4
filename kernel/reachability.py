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


# Escalation (accounts/privesc.py): an edge ``edge(X, Y)`` is one method
# whose every need the kernel allowed node X (a principal, a named session,
# a principal whose policies a change has altered); ``combines(M, B, C)``
# says that holding capability M (a change made to principal B) and being B
# is being C (B as changed). Reaching is the recursion below, nothing else.
ESCALATION = """
gets(X, Y) <= edge(X, Y)
gets(X, Y) <= gets(X, Z) & edge(Z, Y)
gets(X, Y) <= gets(X, M) & combines(M, B, Y) & gets(X, B)
gets(X, Y) <= gets(X, M) & combines(M, X, Y)
"""


def escalation_closure(edges: set[tuple[str, str]], combines: set[tuple[str, str, str]],
                       start: str | None = None) -> dict[str, frozenset[str]]:
    """Every node each node gets (of ``start`` alone, when given) through
    edges and combinations, derived by the recursion above."""
    saved = getattr(pyDatalog.Logic.tl, "logic", None)
    pyDatalog.Logic()
    try:
        pyDatalog.load(ESCALATION)
        pyDatalog.assert_fact("edge", "__schema__", "__schema__")
        pyDatalog.assert_fact("combines", "__schema__", "__schema__", "__schema__")
        for x, y in edges:
            pyDatalog.assert_fact("edge", x, y)
        for m, b, c in combines:
            pyDatalog.assert_fact("combines", m, b, c)
        answer = pyDatalog.ask(f"gets({_quote(start)}, Y)" if start is not None else "gets(X, Y)")
        out: dict[str, set[str]] = {}
        for row in answer.answers if answer else ():
            x, y = (start, row[0]) if start is not None else row
            if x != "__schema__" and y != "__schema__":
                out.setdefault(x, set()).add(y)
        return {x: frozenset(ys) for x, ys in out.items()}
    finally:
        if saved is not None:
            pyDatalog.Logic(saved)
        else:
            del pyDatalog.Logic.tl.logic
