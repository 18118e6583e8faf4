"""Privilege escalation: who can become whom, or reach a goal, by every
method of the table (accounts/escalation.py), each need of each step one
kernel decision (accounts/queries.decide_as), the closure Datalog recursion
(kernel/reachability.escalation_closure).

Nodes are strings:

- a user's or role's ARN (a role: any session of it), or the ARN of a role
  session a trust policy names (``arn:aws:sts::A:assumed-role/R/NAME``);
- a node with changes made to it: ``ARN#rewrite`` (an identity policy
  allowing ``*`` on ``*`` added), ``ARN#unbound`` (boundary removed),
  ``ARN#group:G`` (added to group G), ``ARN#version:POLICY@V`` (a managed
  policy's version V made its default), joined with ``+``;
- ``change:ARN#CHANGE``: the capability of making that change to ARN — with
  being ARN, it is being ``ARN#CHANGE`` (the ``combines`` facts);
- ``GOAL``: the goal (admin, an action on a resource, or a principal).

Admin is the kernel's decision on a request for an action of a service no
policy names (escalation.ANY_ACTION; the kernel decides one action at a
time, never ``*``) on resource ``*``: it is allowed exactly when every layer
that must allow (identity, and each boundary and SCP level) has an Allow
whose Action and Resource cover every action and resource (``*``, or a
NotAction/NotResource that leaves them), and no Deny covers every action. That is "allowed ``*`` on ``*`` by the whole stack"
as the policies write it; a Deny of some actions only (``iam:*``) does not
cover every action and does not stop a principal from being admin in
this sense — ``--goal ACTION RESOURCE`` asks about one action exactly.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from ..kernel.matching import account_named, action_matches, resource_pattern_matches
from ..kernel.context import RequestContext
from ..translator import PolicyType
from ..translator.model import Effect
from .documents import read_document
from .escalation import ANY_ACTION, METHODS, Goal, Method
from .inventory import AccountData, Principal
from .queries import Answer, decide_as, session_role

GOAL = "GOAL"
_ALLOW_ALL = read_document({"Version": "2012-10-17", "Statement": [
    {"Sid": "WrittenByTheCaller", "Effect": "Allow", "Action": "*", "Resource": "*"}]},
    PolicyType.IDENTITY, "an inline policy the caller writes")
_NO_CONTEXT = RequestContext({})
MAX_CHANGES = 2  # changes stacked on one principal (a rewrite and a boundary removal, …)
MAX_PATHS = 20  # shortest paths listed per goal


@dataclass(frozen=True)
class Actor:
    """Who acts at a node: a principal of the data as the node's changes
    leave it, calling as ``caller``."""

    node: str
    principal: Principal
    caller: str
    changes: frozenset[str]

    @property
    def base(self) -> str:
        return self.node.split("#", 1)[0]


@dataclass
class Edge:
    source: str
    method: str
    target: str
    answers: list[Answer]  # one per need, in the method's order
    status: str = "allowed"  # allowed | conditional | undecided
    assumes: str | None = None
    why: str | None = None  # undecided: the reason


def node_name(base: str, changes) -> str:
    return base if not changes else f"{base}#{'+'.join(sorted(changes))}"


def _covers_action(st, action: str) -> bool:
    if st.action is not None:
        return action_matches(st.action, action)
    return not action_matches(st.not_action or (), action)


def _may_cover(st, resource: str) -> bool:
    """Whether the statement's Resource (NotResource) can hold the resource,
    some context given (a pattern with a variable is kept): a matching step
    only, the kernel decides."""
    if st.resource is not None:
        return any("${" in p.text or resource_pattern_matches(p, resource, _NO_CONTEXT) for p in st.resource)
    return not any("${" not in p.text and resource_pattern_matches(p, resource, _NO_CONTEXT)
                   for p in st.not_resource or ())


class Escalation:
    """The escalation graph of account data for one goal, built node by
    node (``expand``) as a search or the full closure needs it."""

    def __init__(self, data: AccountData, goal: Goal, context: dict | None = None, conditional: bool = False,
                 timeout_ms: int = 30_000, whole: bool = False):
        # whole: every node's every edge (no node at the goal cut short)
        self.data, self.goal, self.conditional, self.timeout_ms = data, goal, conditional, timeout_ms
        self.whole = whole
        self.context = dict(context or {})
        self.region = self.context.get("aws:RequestedRegion") if isinstance(
            self.context.get("aws:RequestedRegion"), str) else "us-east-1"
        self.edges: dict[tuple[str, str], list[Edge]] = {}
        self.combines: set[tuple[str, str, str]] = set()
        self.expanded: set[str] = set()
        self.undecided: list[Edge] = []
        self._statements: dict[tuple[int, str], list] = {}
        self._engines: dict = {}  # compiled stacks of the node being expanded (cleared per node)
        self._combined_index: tuple[int | None, dict[str, list[str]]] = (None, {})
        self._index_trusts()

    # ------------------------------------------------------------ the data

    def _index_trusts(self) -> None:
        """Roles by what their trust policies name: an ARN (a user, a role,
        a role's session), an account, everyone; and the sessions named."""
        self.by_name: dict[str, set[str]] = {}
        self.by_account: dict[str, set[str]] = {}
        self.everyone: set[str] = set()
        self.sessions: dict[str, str] = {}  # session ARN → its role's ARN
        for role in self.data.principals.values():
            if role.kind != "role" or role.trust is None:
                continue
            for st in role.trust.statements:
                if st.effect is not Effect.ALLOW:
                    continue
                if st.not_principal is not None:
                    self.everyone.add(role.arn)
                for entry in st.principal or ():
                    value = entry.value
                    if entry.kind.value.lower() != "aws":
                        continue
                    if value == "*":
                        self.everyone.add(role.arn)
                    elif account_named(value) is not None:
                        self.by_account.setdefault(account_named(value), set()).add(role.arn)
                    else:
                        self.by_name.setdefault(value, set()).add(role.arn)
                        if session_role(value) in self.data.principals:
                            self.sessions[value] = session_role(value)

    def actor(self, node: str) -> Actor:
        base, _, changes = node.partition("#")
        if base in self.sessions:
            principal = self.data.principals[self.sessions[base]]
            caller = base
        else:
            principal = self.data.principal(base)
            caller = principal.caller
        return Actor(node, principal, caller, frozenset(c for c in changes.split("+") if c))

    def stack(self, actor: Actor) -> tuple[list, object]:
        identity = list(actor.principal.identity)
        if "rewrite" in actor.changes:
            identity.append(_ALLOW_ALL)
        for change in actor.changes:
            if change.startswith("group:"):
                identity += self.data.groups.get(change[len("group:"):], [])
            elif change.startswith("version:"):
                arn, _, vid = change[len("version:"):].rpartition("@")
                other = self.data.versions.get(arn, {}).get(vid)
                identity = [other if p.name == arn and other is not None else p for p in identity]
        boundary = None if "unbound" in actor.changes else actor.principal.boundary
        return identity, boundary

    def decide(self, actor: Actor, action: str, resource: str, extra: dict | None = None,
               resource_policy=None, conditional: bool | None = None) -> Answer:
        identity, boundary = self.stack(actor)
        return decide_as(self.data, actor.principal, action, resource, {**self.context, **(extra or {})},
                         identity=identity, boundary=boundary, caller=actor.caller, resource_policy=resource_policy,
                         conditional=self.conditional if conditional is None else conditional,
                         timeout_ms=self.timeout_ms, engines=self._engines)

    def _allows(self, identity: list, action: str) -> list:
        """The identity Allow statements that apply to ``action``."""
        out = []
        for policy in identity:
            key = (id(policy), action)
            found = self._statements.get(key)
            if found is None:
                found = self._statements[key] = [st for st in policy.statements
                                                  if st.effect is Effect.ALLOW and _covers_action(st, action)]
            out += found
        return out

    # ------------------------------------------------------------ expanding

    def at_goal(self, actor: Actor) -> Answer | None:
        """The kernel's allowing answer when the node is at the goal."""
        if self.goal.principal is not None:
            return None
        answer = self.decide(actor, self.goal.action, self.goal.resource)
        if answer.failed_closed or answer.undecided is not None:
            self._record(Edge(actor.node, "allowed the goal", GOAL, [answer], "undecided", why=answer.undecided))
        return answer if answer.allowed or answer.conditional is not None else None

    def expand(self, node: str) -> list[Edge]:
        """The node's edges (recorded in ``self.edges``); a node at the goal
        gets its edge to GOAL and, unless the goal is a principal, no more."""
        if node in self.expanded:
            return [e for (x, _), es in self.edges.items() if x == node for e in es]
        self.expanded.add(node)
        self._engines.clear()  # a node's decisions share its stacks; another node's rarely do
        actor = self.actor(node)
        out: list[Edge] = []
        only = None
        if self.goal.principal is not None:
            if actor.base == self.goal.principal:
                edge = Edge(node, "is the goal", GOAL, [])
                self._record(edge)
                return [edge]
            # An admin can act on every principal: its edges toward the goal
            # are all a path needs (a detour through others is longer).
            if not self.whole and self.decide(actor, ANY_ACTION, "*", conditional=False).allowed:
                only = self.goal.principal
        else:
            answer = self.at_goal(actor)
            if answer is not None and not self.whole:
                edge = Edge(node, "allowed the goal", GOAL, [answer],
                            "conditional" if not answer.allowed else "allowed")
                self._record(edge)
                return [edge]
        identity, _ = self.stack(actor)
        for method in METHODS:
            out += self._method_edges(actor, identity, method, only)
        for edge in out:
            self._record(edge)
        return out

    def _record(self, edge: Edge) -> None:
        if edge.status == "undecided":
            self.undecided.append(edge)
            return
        self.edges.setdefault((edge.source, edge.target), []).append(edge)

    def _targets(self, actor: Actor, identity: list, method: Method) -> list[str]:
        first = method.needs[0]
        grants = self._allows(identity, first.action)
        if method.name == "AssumeRole":  # a trust policy that names the caller grants it alone
            return self._assumable(actor, grants)
        if not grants:
            return []
        candidates = self._candidates(method.target_kind, method.service, method.instance_profile)
        if first.resource != "{target}":
            return candidates
        return [arn for arn in candidates if any(_may_cover(st, arn) for st in grants)]

    def _candidates(self, kind: str, service: str | None, instance_profile: bool) -> list[str]:
        """The principals of a kind a method may target whatever the caller
        (a role its service may assume, one in an instance profile), sorted:
        the same for every node, so found once."""
        key = ("candidates", kind, service, instance_profile)
        found = self._statements.get(key)
        if found is None:
            found = self._statements[key] = sorted(
                p.arn for p in self.data.principals.values() if p.kind == kind
                and (service is None or (p.trust is not None and self._trusts_service(p, service)))
                and (not instance_profile or p.instance_profiles))
        return found

    def _trusts_service(self, role: Principal, service: str) -> bool:
        """The kernel's decision: may ``service`` assume the role (its trust
        policy alone decides a service principal's AssumeRole)."""
        key = ("trust", role.arn, service)
        found = self._statements.get(key)
        if found is None:
            from ..scenario import compile_policies

            engine = compile_policies({"resource": role.trust})
            decision = engine.decide({"principal": service, "action": "sts:AssumeRole", "resource": role.arn,
                                      "context": {}})
            found = self._statements[key] = [decision.decision == "allow"]
        return found[0]

    def _assumable(self, actor: Actor, grants: list) -> list[str]:
        """The roles the actor's AssumeRole may reach: those whose trust
        names it (its ARN, its session), or names its account or everyone
        and some identity Allow of it may cover."""
        p = actor.principal
        named = set(self.by_name.get(actor.caller, ())) | set(self.by_name.get(p.arn, ()))
        wide = self.by_account.get(p.account, set()) | self.everyone
        out = named | {r for r in wide if any(_may_cover(st, r) for st in grants)}
        out.discard(p.arn)
        return sorted(out)

    def _resources(self, need, actor: Actor, target: Principal, method: Method) -> list[tuple[str, str | None]]:
        """(resource, the group or policy it names) for one need."""
        fields = {"target": target.arn, "target_account": target.account, "account": actor.principal.account,
                  "region": self.region}
        if method.per == "group":
            if method.yields == "group":
                groups = sorted(g for g in self.data.groups if g.split(":")[4] == target.account)
            else:
                groups = sorted(target.groups)
            return [(need.resource.format(group=g, **fields), g) for g in groups]
        if method.per == "version":
            held = sorted({pol.name for pol in target.identity if pol.name in self.data.versions})
            return [(need.resource.format(policy=h, **fields), f"{h}@{vid}")
                    for h in held for vid in sorted(self.data.versions[h])]
        if method.per == "policy":
            held = sorted({pol.name for pol in target.identity if pol.name.startswith("arn:")
                           and ":policy/" in pol.name and ":iam::aws:" not in pol.name})
            return [(need.resource.format(policy=h, **fields), h) for h in held]
        return [(need.resource.format(**fields), None)]

    def detailed(self, path: list[Edge]) -> list[Edge]:
        """The path with each hop's decisions (a hop decided in a worker
        process came back without them: asked again here)."""
        return [self._redo(e) if not e.answers else e for e in path]

    def _redo(self, edge: Edge) -> Edge:
        actor = self.actor(edge.source)
        if edge.method == "allowed the goal":
            found = [Edge(edge.source, edge.method, GOAL, [self.at_goal(actor)])]
        elif edge.method == "AssumeRole (session name)":
            found = self._sessions_of(actor, self.data.principals[self.sessions[edge.target]])
        else:
            identity, _ = self.stack(actor)
            target = edge.target.removeprefix("change:").split("#", 1)[0]
            found = [e for m in METHODS if m.name == edge.method
                     for e in self._method_edges(actor, identity, m, only=target)]
        return next((e for e in found if e.target == edge.target), edge)

    def _method_edges(self, actor: Actor, identity: list, method: Method, only: str | None = None) -> list[Edge]:
        out = []
        for target_arn in self._targets(actor, identity, method):
            if only is not None and target_arn != only:
                continue
            target = self.data.principals[target_arn]
            for resource, item in self._resources(method.needs[0], actor, target, method):
                if method.yields == "group" and target.groups and item in target.groups:
                    continue  # already in it
                answers, status, why = [], "allowed", None
                for need in method.needs:
                    res = resource if need is method.needs[0] else self._resources(need, actor, target, method)[0][0]
                    if need.action == "sts:AssumeRole" and method.trust_rewritten:
                        answer = self.decide(actor, need.action, res, dict(need.context),
                                             resource_policy=self.trust_naming(actor))
                    else:
                        answer = self.decide(actor, need.action, res, dict(need.context))
                    answers.append(answer)
                    if answer.allowed:
                        continue
                    if answer.conditional is not None:
                        status = "conditional"
                        continue
                    if answer.undecided is not None or answer.failed_closed:
                        status, why = "undecided", answer.undecided
                        continue
                    status = "denied"
                    break
                if status == "denied":
                    continue
                out += self._yield(actor, method, target, item, answers, status, why)
            if method.name == "AssumeRole":
                out += self._sessions_of(actor, target)
        return out

    def _sessions_of(self, actor: Actor, role: Principal) -> list[Edge]:
        """Assuming a role with the session name a trust policy names: the
        kernel decides sts:AssumeRole with that sts:RoleSessionName."""
        out = []
        for session, role_arn in sorted(self.sessions.items()):
            if role_arn != role.arn:
                continue
            answer = self.decide(actor, "sts:AssumeRole", role.arn, {"sts:RoleSessionName": session.rsplit("/", 1)[1]})
            if answer.allowed:
                out.append(Edge(actor.node, "AssumeRole (session name)", session, [answer]))
        return out

    def trust_naming(self, actor: Actor):
        return read_document({"Version": "2012-10-17", "Statement": [
            {"Sid": "RewrittenByTheCaller", "Effect": "Allow", "Principal": {"AWS": actor.caller},
             "Action": "sts:AssumeRole"}]}, PolicyType.TRUST, "the trust policy the caller writes")

    def _yield(self, actor: Actor, method: Method, target: Principal, item: str | None, answers, status,
               why) -> list[Edge]:
        if method.yields == "become":
            return [Edge(actor.node, method.name, target.arn, answers, status, method.assumes, why)]
        change = {"rewrite": "rewrite", "unbound": "unbound", "group": f"group:{item}",
                  "version": f"version:{item}"}[method.yields]
        if target.arn == actor.principal.arn and actor.base == target.arn:
            changes = actor.changes | {change}
            if len(changes) > MAX_CHANGES or changes == actor.changes:
                return []
            return [Edge(actor.node, method.name, node_name(target.arn, changes), answers, status, method.assumes,
                         why)]
        capability = f"change:{target.arn}#{change}"
        self.combines.add((capability, target.arn, node_name(target.arn, {change})))
        return [Edge(actor.node, method.name, capability, answers, status, method.assumes, why)]

    # ------------------------------------------------------------ the closure

    def explore(self, start: str) -> None:
        """Expand every node the start can get to."""
        queue = deque([start])
        seen = {start}
        while queue:
            node = queue.popleft()
            for edge in self.expand(node):
                if edge.status == "undecided":
                    continue  # not followed: what lies past it is not known to be reached
                for nxt in self._next(edge.target):
                    if nxt not in seen:
                        seen.add(nxt)
                        queue.append(nxt)

    def _next(self, target: str) -> list[str]:
        if target == GOAL:
            return []
        if target.startswith("change:"):
            return self._combined_of().get(target, [])
        return [target]

    def _combined_of(self) -> dict[str, list[str]]:
        """capability → the changed principals it makes, indexed again only
        when combinations were added since."""
        if self._combined_index[0] != len(self.combines):
            index: dict[str, list[str]] = {}
            for m, _, c in self.combines:
                index.setdefault(m, []).append(c)
            self._combined_index = (len(self.combines), index)
        return self._combined_index[1]

    def pairs(self) -> set[tuple[str, str]]:
        return {(x, y) for (x, y), edges in self.edges.items() if edges}


def reachable(graph: Escalation, start: str) -> frozenset[str]:
    graph.explore(start)
    return graph_closure(graph, start).get(start, frozenset())


def graph_closure(graph: Escalation, start: str | None = None) -> dict[str, frozenset[str]]:
    from ..kernel.reachability import escalation_closure

    return escalation_closure(graph.pairs(), graph.combines, start)


def shortest_paths(graph: Escalation, start: str, goal_node: str = GOAL) -> list[list[Edge]]:
    """Every shortest path (at most MAX_PATHS) from start to the goal node;
    a combined node is entered by the change that makes it, after a
    shortest path to the principal it changes."""
    dist = {start: 0}
    parents: dict[str, list[Edge]] = {start: []}
    frontier = [start]
    reached_changes: dict[str, Edge] = {}
    successors: dict[str, list[tuple[str, Edge]]] = {}
    for (x, y), edges in sorted(graph.edges.items()):
        if edges:
            successors.setdefault(x, []).append((y, edges[0]))
    while frontier and goal_node not in dist:
        nxt: list[str] = []
        for node in frontier:
            for target, edge in successors.get(node, ()):
                if target not in dist:
                    dist[target] = dist[node] + 1
                    parents[target] = []
                    nxt.append(target)
                if dist[target] == dist[node] + 1:
                    parents[target].append(edge)
        # combinations whose change and base are both held
        for m, b, c in sorted(graph.combines):
            if m in dist and (b in dist or b == start) and c not in dist:
                dist[c] = max(dist[m], dist.get(b, 0)) + 1
                parents[c] = [Edge(m, "combined", c, [])]
                nxt.append(c)
                reached_changes[c] = Edge(b, "becomes", c, [])
        frontier = sorted(set(nxt))
    if goal_node not in dist:
        return []

    def walk(node: str, depth: int) -> list[list[Edge]]:
        if node == start or depth > 64:
            return [[]]
        out = []
        for edge in parents.get(node, []):
            if edge.method == "combined":
                change_paths = walk(edge.source, depth + 1)[:1]
                base = reached_changes[node].source
                base_paths = walk(base, depth + 1)[:1]
                first_change = change_paths[0] if change_paths else []
                first_base = [e for e in (base_paths[0] if base_paths else []) if e not in first_change]
                out.append(first_change + first_base + [Edge(base, "as changed", node, [])])
                continue
            for prefix in walk(edge.source, depth + 1):
                out.append(prefix + [edge])
                if len(out) >= MAX_PATHS:
                    return out
        return out

    return walk(goal_node, 0)[:MAX_PATHS]


@dataclass
class Finding:
    """One start's answer: whether the closure reaches the goal, every
    shortest path, and the steps left undecided on the way."""

    start: str
    goal: Goal
    found: bool
    paths: list[list[Edge]]
    undecided: list[Edge]

    @property
    def conditional(self) -> bool:
        return bool(self.paths) and all(any(e.status == "conditional" for e in p) for p in self.paths)


def privesc(data: AccountData, start: str, goal: Goal, context: dict | None = None, conditional: bool = False,
            timeout_ms: int = 30_000) -> Finding:
    """Whether ``start`` (a user, role or named session) can reach the goal,
    and every shortest path there."""
    graph = Escalation(data, goal, context, conditional, timeout_ms)
    graph.actor(start)  # InputError when it is not in the data
    if goal.principal is not None:
        graph.actor(goal.principal)
    graph.explore(start)
    found = GOAL in graph_closure(graph, start).get(start, frozenset())
    paths = shortest_paths(graph, start) if found else []
    return Finding(start, goal, found, [graph.detailed(p) for p in paths], graph.undecided)


def starts(data: AccountData, graph: Escalation) -> list[str]:
    """Every principal of the data and every session a trust policy names."""
    return sorted(set(data.principals) | set(graph.sessions))


def expand_all(graph: Escalation, jobs: int = 1, folder=None, runner=None, progress=None) -> None:
    """Every node's edges, in rounds: the principals and sessions, then the
    changed principals the last round led to, until none is new — each
    round in ``jobs`` worker processes (or a shards runner) when the data's
    folder is given."""
    parallel = (jobs > 1 or runner is not None) and folder is not None
    if parallel:
        from .shards import keep, process_pool

        keep(folder, graph.data)  # a forked worker starts with it
        run = runner or process_pool(jobs)
    nodes = starts(graph.data, graph)
    while nodes:
        if parallel and len(nodes) > 1:
            size = max(1, min(500, len(nodes) // (4 * max(jobs, 1)) + 1))
            shards = [EscalationShard(str(folder), tuple(nodes[i:i + size]), _goal_tuple(graph.goal),
                                      tuple(sorted(graph.context.items())))
                      for i in range(0, len(nodes), size)]
            graph.expanded.update(nodes)
            for rows, combines in run(run_escalation_shard, shards, progress):
                for source, method, target, status, assumes, why in rows:
                    graph._record(Edge(source, method, target, [], status, assumes, why))
                graph.combines.update(map(tuple, combines))
        else:
            for done, node in enumerate(nodes, 1):
                graph.expand(node)
                if progress is not None and (done % 500 == 0 or done == len(nodes)):
                    progress(done, len(nodes))
        followed = {n for (_, y) in graph.pairs() for n in graph._next(y)} | {c for _, _, c in graph.combines}
        nodes = sorted(n for n in followed if n not in graph.expanded and n != GOAL)


def privesc_all(data: AccountData, goal: Goal, context: dict | None = None, jobs: int = 1, folder=None,
                runner=None, progress=None, paths: bool = True) -> list[Finding]:
    """Every principal and named session that can reach the goal, each with
    its shortest paths (``paths``), from one closure of the whole graph."""
    graph = Escalation(data, goal, context)
    expand_all(graph, jobs, folder, runner, progress)
    closure = graph_closure(graph)
    out = []
    for start in starts(data, graph):
        if GOAL in closure.get(start, ()):
            found = shortest_paths(graph, start) if paths else []
            out.append(Finding(start, goal, True, [graph.detailed(p) for p in found], []))
    return out


def _goal_tuple(goal: Goal) -> tuple:
    return (goal.action, goal.resource, goal.principal)


_WORKER_GRAPHS: dict[tuple, Escalation] = {}


@dataclass(frozen=True)
class EscalationShard:
    folder: str
    nodes: tuple[str, ...]
    goal: tuple
    context: tuple[tuple[str, object], ...] = ()


def run_escalation_shard(shard: EscalationShard) -> tuple[list, list]:
    """The edges of the shard's nodes as plain rows, and the combinations."""
    from .shards import data_of

    key = (shard.folder, shard.goal, shard.context)
    graph = _WORKER_GRAPHS.get(key)
    if graph is None:  # one per worker process: its caches serve every shard it runs
        graph = _WORKER_GRAPHS[key] = Escalation(data_of(shard.folder), Goal(*shard.goal), dict(shard.context))
    rows = []
    for node in shard.nodes:
        for e in graph.expand(node):
            rows.append((e.source, e.method, e.target, e.status, e.assumes, e.why))
    return rows, sorted(graph.combines)
