"""The role-assumption graph of account data: who can assume whom (each edge
a kernel decision on sts:AssumeRole), what a principal reaches through
chains of AssumeRole (kernel/reachability.py's Datalog recursion), and the
shortest chain to each role, with every hop's decision."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from ..kernel.reachability import closure
from .inventory import AccountData
from .queries import Answer, who_can


@dataclass
class Chain:
    """The shortest chain from the start to ``role``: one Answer per hop
    (who assumes which role, and the decision that allows it)."""

    role: str
    hops: list[tuple[str, Answer]]  # (role assumed, the allowing decision)


def assumption_edges(data: AccountData, context: dict | None = None) -> dict[tuple[str, str], Answer]:
    """(assumer, role) → the kernel's allowing decision, for every user and
    role of the data that may assume a role of the data."""
    edges = {}
    for role in sorted(p.arn for p in data.principals.values() if p.kind == "role"):
        for answer in who_can(data, "sts:AssumeRole", role, context):
            if answer.allowed and answer.principal is not None and answer.principal != role:
                edges[(answer.principal, role)] = answer
    return edges


def reach(data: AccountData, start: str, context: dict | None = None) -> list[Chain]:
    """Every role ``start`` (a user's or role's ARN) can become through
    chains of sts:AssumeRole, each with a shortest chain."""
    data.principal(start)  # InputError when it is not in the data
    edges = assumption_edges(data, context)
    reachable = closure(set(edges), start)
    # The closure decides what is reachable; a breadth-first walk over the
    # same edges only picks, for each, a shortest chain to show.
    parent: dict[str, str] = {start: ""}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for (x, y) in edges:
            if x == node and y not in parent:
                parent[y] = x
                queue.append(y)
    chains = []
    for role in sorted(reachable - {start}):
        hops, node = [], role
        while node != start:
            hops.append((node, edges[(parent[node], node)]))
            node = parent[node]
        chains.append(Chain(role, list(reversed(hops))))
    return sorted(chains, key=lambda c: (len(c.hops), c.role))
