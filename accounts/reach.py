"""The role-assumption graph of account data: who can assume whom (each edge
a kernel decision on sts:AssumeRole), what a principal reaches through
chains of AssumeRole (kernel/reachability.py's Datalog recursion), and the
shortest chain to each role, with every hop's decision."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from ..kernel.context import RequestContext
from ..kernel.matching import account_named, action_matches, resource_pattern_matches
from ..kernel.reachability import closure
from ..kernel.request import resource_account_of
from ..translator.model import Effect
from .inventory import AccountData
from .queries import Answer, decide_as, named_sessions, session_role, who_can


@dataclass
class Chain:
    """The shortest chain from the start to ``role``: one Answer per hop
    (who assumes which role, and the decision that allows it)."""

    role: str
    hops: list[tuple[str, Answer]]  # (role assumed, the allowing decision)


def _assume_role_grants(data: AccountData) -> dict[str, list]:
    """For each user and role with an identity Allow statement that applies
    to sts:AssumeRole (whatever its conditions), those statements: only they
    can let a trust policy that names the caller's account grant it."""
    out: dict[str, list] = {}
    for arn, principal in data.principals.items():
        for policy in principal.identity:
            for st in policy.statements:
                if st.effect is Effect.ALLOW and _applies_to_assume_role(st):
                    out.setdefault(arn, []).append(st)
    return out


def _applies_to_assume_role(st) -> bool:
    if st.action is not None:
        return action_matches(st.action, "sts:AssumeRole")
    return not action_matches(st.not_action or (), "sts:AssumeRole")


_NO_CONTEXT = RequestContext({})


def _may_cover(st, role_arn: str) -> bool:
    """Whether the statement's Resource (or NotResource) can hold the role,
    some context given: a pattern with a policy variable is kept."""
    if st.resource is not None:
        return any("${" in p.text or resource_pattern_matches(p, role_arn, _NO_CONTEXT) for p in st.resource)
    return not any("${" not in p.text and resource_pattern_matches(p, role_arn, _NO_CONTEXT)
                   for p in st.not_resource or ())


def _trusted(data: AccountData, role, grants: dict[str, list]) -> set[str]:
    """The users and roles R's trust policy can grant sts:AssumeRole at all:
    those it names; in the accounts it names, those whose identity
    statements can allow it; every principal for "*" or NotPrincipal. A
    matching step only (a necessary condition): the kernel decides each."""
    names: set[str] = set()
    for st in role.trust.statements:
        if st.effect is not Effect.ALLOW:
            continue
        if st.not_principal is not None:
            return set(data.principals)
        for entry in st.principal or ():
            names.add(entry.value)
    if "*" in names:
        return set(data.principals)
    out = set()
    accounts = set()
    for value in names:
        if value in data.principals:
            out.add(value)
        elif ":assumed-role/" in value:  # a session of a role: the role stands for it
            out.add(f"arn:aws:iam::{resource_account_of(value) or ''}:role/{value.split('/')[1]}")
        elif account_named(value) is not None:
            accounts.add(account_named(value))
    out |= {arn for arn, statements in grants.items() if data.principals[arn].account in accounts
            and any(_may_cover(st, role.arn) for st in statements)}
    return out & set(data.principals)


def assumption_edges(data: AccountData, context: dict | None = None, roles: set[str] | None = None,
                     progress=None) -> dict[tuple[str, str], Answer]:
    """(assumer, role) → the kernel's allowing decision, for every user and
    role of the data that may assume a role of the data (of ``roles``, when
    given); ``progress(done, total)`` is called as roles are done."""
    grants = _assume_role_grants(data)
    edges = {}
    asked = sorted((p for p in data.principals.values() if p.kind == "role" and p.trust is not None
                    and (roles is None or p.arn in roles)), key=lambda p: p.arn)
    for done, role in enumerate(asked, 1):
        if progress is not None and (done % 100 == 0 or done == len(asked)):
            progress(done, len(asked))
        candidates = _trusted(data, role, grants) - {role.arn}
        if candidates:
            for answer in who_can(data, "sts:AssumeRole", role.arn, context, only=candidates):
                if answer.allowed:
                    edges[(answer.principal, role.arn)] = answer
        edges.update(_session_edges(data, role, grants, context))
    return edges


def _session_edges(data: AccountData, role, grants: dict[str, list], context: dict | None) -> dict:
    """A session the role's trust policy names is a node of its own: who
    can become it (AssumeRole of its role with that sts:RoleSessionName),
    and whether it, calling as itself, may assume the role."""
    edges = {}
    for session, of in named_sessions(data, role.arn):
        answer = decide_as(data, of, "sts:AssumeRole", role.arn, context, caller=session)
        if not answer.allowed:
            continue
        answer.principal = session  # the node that assumes: this session, not any of its role
        edges[(session, role.arn)] = answer
        name = {**(context or {}), "sts:RoleSessionName": session.rsplit("/", 1)[1]}
        assumers = _trusted(data, of, grants) - {of.arn}
        for a in who_can(data, "sts:AssumeRole", of.arn, name, only=assumers) if assumers else ():
            if a.allowed:
                edges[(a.principal, session)] = a
    return edges


def _asked_again(data: AccountData, x: str, y: str, context: dict | None):
    """The allowing decision of an edge decided in a worker process."""
    if ":assumed-role/" in y:
        name = {**(context or {}), "sts:RoleSessionName": y.rsplit("/", 1)[1]}
        return who_can(data, "sts:AssumeRole", session_role(y, data), name, only={x})[0]
    if ":assumed-role/" in x:
        answer = decide_as(data, data.principals[session_role(x, data)], "sts:AssumeRole", y, context, caller=x)
        answer.principal = x
        return answer
    return who_can(data, "sts:AssumeRole", y, context, only={x})[0]


def _edges(data: AccountData, context: dict | None, jobs: int, folder, progress, runner=None) -> dict:
    """(assumer, role) → the allowing decision; None where it was decided in
    a worker process (only the pair came back)."""
    if (jobs > 1 or runner is not None) and folder is not None:
        from .shards import parallel_edges

        return dict.fromkeys(parallel_edges(data, folder, context, jobs, progress, runner))
    return assumption_edges(data, context, progress=progress)


def reach(data: AccountData, start: str, context: dict | None = None, jobs: int = 1, folder=None,
          progress=None, runner=None) -> list[Chain]:
    """Every role ``start`` (a user's or role's ARN) can become through
    chains of sts:AssumeRole, each with a shortest chain. With ``jobs`` > 1
    (or a shards ``runner``, accounts/shards.py) and the data's ``folder``,
    the edges are decided in worker processes."""
    data.principal(start)  # InputError when it is not in the data
    edges = _edges(data, context, jobs, folder, progress, runner)
    reachable = closure(set(edges), start)
    # The closure decides what is reachable; a breadth-first walk over the
    # same edges only picks, for each, a shortest chain to show.
    successors: dict[str, list[str]] = {}
    for x, y in sorted(edges):
        successors.setdefault(x, []).append(y)
    parent: dict[str, str] = {start: ""}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for y in successors.get(node, ()):
            if y not in parent:
                parent[y] = node
                queue.append(y)
    chains = []
    for role in sorted(reachable - {start}):
        hops, node = [], role
        while node != start:
            pair = (parent[node], node)
            if edges[pair] is None:  # decided in a worker: asked again here for the proof shown
                edges[pair] = _asked_again(data, parent[node], node, context)
            hops.append((node, edges[pair]))
            node = parent[node]
        chains.append(Chain(role, list(reversed(hops))))
    return sorted(chains, key=lambda c: (len(c.hops), c.role))


def reach_all(data: AccountData, context: dict | None = None, jobs: int = 1, folder=None,
              progress=None, runner=None) -> dict[str, frozenset[str]]:
    """For every user and role, the roles it can become (the whole closure,
    derived in one Datalog query)."""
    from ..kernel.reachability import full_closure

    return full_closure(set(_edges(data, context, jobs, folder, progress, runner)))
