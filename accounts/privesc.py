"""Privilege escalation: who can become whom, or reach a goal, by every
method of the table (accounts/escalation.py), each need of each step one
kernel decision (accounts/queries.decide_as), the closure Datalog recursion
(kernel/reachability.escalation_closure).

Nodes are strings:

- a user's or role's ARN (a role: any session of it), or the ARN of a role
  session a trust policy names (``arn:aws:sts::A:assumed-role/R/NAME``);
- a node with changes made to it: ``ARN#rewrite`` (an identity policy
  allowing ``*`` on ``*`` added), ``ARN#unbound`` (boundary removed),
  ``ARN#bound:POLICY`` (the boundary replaced by a managed policy short of
  ``*`` on ``*``), ``ARN#group:G`` (added to group G), ``ARN#attach:POLICY`` (a managed policy
  attached), ``ARN#version:POLICY@V`` (a managed policy's version V made its
  default), ``ARN#remove:P`` / ``ARN#replace:P`` (policy P gone, or replaced
  by an Allow of ``*``), ``ARN#leave:G`` (out of group G),
  ``ARN#tag:KEY=VALUE`` / ``ARN#untag:KEY``, joined with ``+``;
- ``ARN#console``: the user signed in to the console with a password the
  caller set (its requests carry aws:MultiFactorAuthPresent false);
- ``change:ARN#CHANGE``: the capability of making that change to ARN — with
  being ARN, it is being ``ARN#CHANGE`` (the ``combines`` facts);
- ``GOAL``: the goal (admin, an action on a resource, or a principal).

Admin is the kernel's decision on a request for an action of a service no
policy names (escalation.ANY_ACTION; the kernel decides one action at a
time, never ``*``) on resource ``*``, and on each action and resource an
Allow of NotAction/NotResource in the stack leaves out (admin_probes): all
allowed when every layer that must allow (identity, and each boundary and
SCP level) allows every action on every resource, and no Deny covers every
action. That is "allowed ``*`` on ``*`` by the whole stack"
as the policies write it; a Deny of some actions only (``iam:*``) does not
cover every action and does not stop a principal from being admin in
this sense — ``--goal ACTION RESOURCE`` asks about one action exactly.
"""

from __future__ import annotations

import collections
import functools
import re
from dataclasses import dataclass, replace

from ..kernel.matching import account_named, action_matches, resource_pattern_matches
from ..kernel.context import RequestContext
from ..translator import PolicyType
from ..translator.model import Effect, PrincipalKind
from .documents import read_document
from .escalation import ADMIN_POLICY, ANY_ACTION, METHODS, Goal, Method
from .inventory import AccountData, Principal
from .queries import Answer, decide_as, policies_for, session_role

GOAL = "GOAL"
_ALLOW_ALL = read_document({"Version": "2012-10-17", "Statement": [
    {"Sid": "WrittenByTheCaller", "Effect": "Allow", "Action": "*", "Resource": "*"}]},
    PolicyType.IDENTITY, "an inline policy the caller writes")
_NO_CONTEXT = RequestContext({})
MAX_CHANGES = 2  # changes stacked on one principal (a rewrite and a boundary removal, …; a console session is none)
MAX_PATHS = 20  # shortest paths listed per goal
MAX_POLICY_VERSIONS = 5  # IAM User Guide, "Versioning IAM policies": a managed policy keeps at most five


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


@functools.lru_cache(maxsize=None)
def _action_keys(action: str) -> frozenset[str]:
    """The condition keys the catalogue lists for the action, in lower case."""
    from ..kernel.catalogue import CATALOGUE

    service, _, name = action.partition(":")
    found = CATALOGUE.action(service.lower(), name) if CATALOGUE.has_service(service.lower()) else None
    return frozenset(k.lower() for k in (found or {}).get("conditionKeys") or ())


# A resource the caller creates, named in the table: (the text before the name, the name).
_CREATED = re.compile(r"([A-Za-z-]+[:/])(privesc-[a-z]+)")


def _with_change(changes: frozenset[str], change: str) -> frozenset[str]:
    """The changes with one more: a boundary removed or put in place
    (``unbound``, ``bound:P``) replaces what the changes did to the
    boundary before."""
    if change == "unbound" or change.startswith("bound:"):
        changes = frozenset(c for c in changes if c != "unbound" and not c.startswith("bound:"))
    return changes | {change}


def node_name(base: str, changes) -> str:
    return base if not changes else f"{base}#{'+'.join(sorted(changes))}"


def _policy_of(method, item: str | None) -> str | None:
    """The managed policy an Attach/Put item names ("GROUP|POLICY" for a group's)."""
    return item.split("|", 1)[1] if method.per == "group_admin_policy" and item else item


def _same_decisions(one: tuple[list, object], other: tuple[list, object]) -> bool:
    """Whether two stacks (identity documents, boundary) of one principal
    decide every request alike: the same boundary, and the same documents —
    or both with the caller's unconditional Allow of ``*`` on ``*`` (every
    identity Allow is then met) and the same Deny statements."""
    (identity, boundary), (identity2, boundary2) = one, other
    if boundary is not boundary2:
        return False
    if [id(p) for p in identity] == [id(p) for p in identity2]:
        return True
    if not (any(p is _ALLOW_ALL for p in identity) and any(p is _ALLOW_ALL for p in identity2)):
        return False

    def denies(documents: list) -> list[int]:
        return sorted(id(st) for p in documents for st in p.statements if st.effect is not Effect.ALLOW)

    return denies(identity) == denies(identity2)


def _covers_action(st, action: str) -> bool:
    if st.action is not None:
        return action_matches(st.action, action)
    return not action_matches(st.not_action or (), action)


_ANY_PART = "Zz9AnyPart"  # what a representative request puts for a wildcard or a policy variable


def _representative(text: str) -> str:
    """A request value the pattern matches and no policy is likely to name."""
    return re.sub(r"\$\{[^}]*\}|\*", _ANY_PART, text).replace("?", "Z")


def _as_target_s(text: str, target: Principal) -> str:
    """A tag value a condition gives as a policy variable, as the target's
    own requests resolve it (the tag is for aws:PrincipalTag conditions of
    its requests): ``${aws:username}`` its name, ``${aws:userid}`` its
    unique id, ``${aws:PrincipalTag/K}`` its tag, ``${aws:PrincipalAccount}``
    its account; a variable it has no value for, as a representative."""
    if "${" not in text:
        return text
    known = {"aws:principalaccount": target.account}
    if target.kind == "user":
        known["aws:username"] = target.name
        if target.unique_id:
            known["aws:userid"] = target.unique_id
    known.update({f"aws:principaltag/{k.lower()}": v for k, v in target.tags.items()})
    literal = {"*": "*", "?": "?", "$": "$"}
    parts = re.split(r"\$\{([^}]*)\}", text)  # the text between variables (a pattern), each variable
    return "".join(_representative(part) if i % 2 == 0 else literal.get(part) or known.get(part.lower(), _ANY_PART)
                   for i, part in enumerate(parts))


def _documents(policies) -> list:
    """Every policy model in a scenario ``policies`` object (layers, levels)."""
    if isinstance(policies, dict):
        return [d for v in policies.values() for d in _documents(v)]
    if isinstance(policies, (list, tuple)):
        return [d for v in policies for d in _documents(v)]
    return [policies] if hasattr(policies, "statements") else []


def admin_probes(policies: dict) -> tuple[list[str], list[str]]:
    """The actions (resources) an Allow of NotAction (NotResource) leaves
    out, anywhere in the stack, as requests their patterns match."""
    actions, resources = set(), set()
    for policy in _documents(policies):
        for st in policy.statements:
            if st.effect is not Effect.ALLOW:
                continue
            actions.update(_representative(p.text) for p in st.not_action or () if p.names_action and p.service is not None)
            resources.update(_representative(p.text) for p in st.not_resource or () if not p.is_any)
    return sorted(actions), sorted(resources)


def required_resources(action: str, resource: str, region: str, account: str) -> list[str]:
    """The ARNs of the catalogue's required resource types of ``action``
    other than the one ``resource`` is, each named as a resource the caller
    picks (``privesc-TYPE``: only a grant that covers that name is found)."""
    from ..kernel.catalogue import CATALOGUE

    out = []
    for name, fmt, required in CATALOGUE.resource_types_for(action):
        if not required:
            continue
        shape = "".join(".*" if i % 2 else re.escape(part) for i, part in enumerate(re.split(r"\$\{([^}]*)\}", fmt)))
        if re.fullmatch(shape, resource):  # the type the need already names
            continue
        filled = fmt.replace("${Partition}", "aws").replace("${Region}", region).replace("${Account}", account)
        out.append(re.sub(r"\$\{[^}]*\}", f"privesc-{name}", filled))
    return out


def _without(identity: list, names: list[str]) -> list:
    """The identity policies less one held copy of each named policy."""
    out = list(identity)
    for name in names:
        i = next((i for i, p in enumerate(out) if p.name == name), None)
        if i is not None:
            del out[i]
    return out


def _customer_managed(name: str) -> bool:
    return name.startswith("arn:") and ":policy/" in name and ":iam::aws:" not in name


def _resource_tags(target: Principal) -> dict:
    """The request keys a user's or role's tags set when it is the resource:
    aws:ResourceTag/KEY and IAM's iam:ResourceTag/KEY (IAM User Guide,
    "Controlling access to and for IAM users and roles using tags"; Service
    Authorization Reference, IAM condition keys)."""
    out = {}
    for key, value in target.tags.items():
        out[f"aws:ResourceTag/{key}"] = value
        out[f"iam:ResourceTag/{key}"] = value
    return out


def _may_cover(st, resource: str) -> bool:
    """Whether the statement's Resource (NotResource) can hold the resource,
    some context given (a pattern with a variable is kept): a matching step
    only, the kernel decides."""
    if st.resource is not None:
        return any("${" in p.text or resource_pattern_matches(p, resource, _NO_CONTEXT) for p in st.resource)
    return not any("${" not in p.text and resource_pattern_matches(p, resource, _NO_CONTEXT)
                   for p in st.not_resource or () if not p.is_any)


class Escalation:
    """The escalation graph of account data for one goal, built node by
    node (``expand``) as a search or the full closure needs it."""

    def __init__(self, data: AccountData, goal: Goal, context: dict | None = None, conditional: bool = False,
                 timeout_ms: int = 30_000, whole: bool = False, region: str | None = None):
        # whole: every node's every edge (no node at the goal cut short)
        self.data, self.goal, self.conditional, self.timeout_ms = data, goal, conditional, timeout_ms
        self.whole = whole
        self.context = dict(context or {})
        # aws:RequestedRegion is the caller's choice for a regional service
        # (docs/readings.md A9): unless --context fixes it, each request
        # carries ``region`` (IAM's requests us-east-1, IAM's own region).
        self.region_chosen = "aws:RequestedRegion" not in self.context
        self.region = self.context.get("aws:RequestedRegion") if isinstance(
            self.context.get("aws:RequestedRegion"), str) else (region or "us-east-1")
        self.edges: dict[tuple[str, str], list[Edge]] = {}
        self.combines: set[tuple[str, str, str]] = set()
        self._capabilities_on: dict[str, set[str]] = {}  # principal ARN → the changes some node may make to it
        self._nodes_of: dict[str, set[str]] = {}  # principal ARN → the nodes that are it (changed, its sessions)
        self.combined: set[tuple[str, str]] = set()  # the closure's combination edges (graph_closure)
        self.expanded: set[str] = set()
        self.undecided: list[Edge] = []
        self._statements: dict[tuple[int, str], list] = {}
        self._engines: dict = {}  # compiled stacks of the node being expanded (cleared per node)
        self._denied: dict = {}  # the node's denied requests, by what the data's conditions can tell apart
        self._by_capability: tuple[int | None, tuple[dict, dict]] = (None, ({}, {}))
        self._from: tuple[int | None, dict[str, set[str]]] = (None, {})
        self._at_goal: dict[str, Answer | None] = {}
        self._by_role: dict[str, set[str]] | None = None
        self._index_trusts()

    def prepare(self) -> None:
        """What every node's expansion reads, found now: the principals each
        method may target (its service trusted by them, …)."""
        for method in METHODS:
            self._candidates(method)

    def share_caches(self, other: "Escalation") -> None:
        """Start with ``other``'s answers that hold for every node (same
        data, goal, context and region): found candidates, decided trusts,
        statements by action, nodes at the goal. (Statements are cached by
        their policy's identity: only the very same data may share them.)"""
        if other.data is not self.data or _shard_key("", other) != _shard_key("", self):
            return
        self._statements = dict(other._statements)
        self._at_goal = dict(other._at_goal)

    # ------------------------------------------------------------ the data

    def _index_trusts(self) -> None:
        """Roles by what their trust policies name: an ARN (a user, a role,
        a role's session), an account, everyone; and the sessions named."""
        self.by_name: dict[str, set[str]] = {}
        self.by_account: dict[str, set[str]] = {}
        self.everyone: set[str] = set()
        self.by_service: dict[str, set[str]] = {}  # a service principal, in lower case → roles
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
                    if entry.kind is PrincipalKind.ANY or (entry.kind is PrincipalKind.AWS and value == "*"):
                        # "Principal": "*" is {"AWS": "*"} (IAM JSON policy elements: Principal, "All
                        # principals"); its conditions (aws:PrincipalArn, aws:PrincipalOrgID) are the kernel's.
                        self.everyone.add(role.arn)
                        continue
                    if entry.kind is PrincipalKind.SERVICE:
                        self.by_service.setdefault(value.lower(), set()).add(role.arn)
                    if entry.kind is not PrincipalKind.AWS:
                        continue
                    if value == "*":
                        self.everyone.add(role.arn)
                    elif account_named(value) is not None:
                        self.by_account.setdefault(account_named(value), set()).add(role.arn)
                    else:
                        self.by_name.setdefault(value, set()).add(role.arn)
                        if session_role(value, self.data) in self.data.principals:
                            self.sessions[value] = session_role(value, self.data)

    def actor(self, node: str) -> Actor:
        base, _, changes = node.partition("#")
        if base in self.sessions:
            principal = self.data.principals[self.sessions[base]]
            caller = base
        else:
            principal = self.data.principal(base)
            caller = principal.caller
        changed = frozenset(c for c in changes.split("+") if c)
        tags = dict(principal.tags)
        for change in sorted(changed):
            # A user's or role's tag keys are not case sensitive (IAM User Guide,
            # "Rules for tagging in IAM"): Team=x then team=y is one tag.
            if change.startswith("tag:"):
                key, _, value = change[len("tag:"):].partition("=")
                tags = {k: v for k, v in tags.items() if k.lower() != key.lower()} | {key: value}
            elif change.startswith("untag:"):
                tags = {k: v for k, v in tags.items() if k.lower() != change[len("untag:"):].lower()}
        if tags != principal.tags:
            principal = replace(principal, tags=tags)  # its requests and requests on it see the new tags
        return Actor(node, principal, caller, changed)

    def _as_changed(self, actor: Actor) -> Principal:
        """The actor's principal as its changes leave it, as the target of
        its own next step: its policies, boundary and groups (a group it
        joined is one whose policy it may then put or rewrite)."""
        identity, boundary = self.stack(actor)
        groups = set(actor.principal.groups)
        for change in actor.changes:
            if change.startswith("group:"):
                groups.add(change[len("group:"):])
            elif change.startswith("leave:"):
                groups.discard(change[len("leave:"):])
        return replace(actor.principal, identity=identity, boundary=boundary,
                       groups=type(actor.principal.groups)(sorted(groups)))

    def stack(self, actor: Actor) -> tuple[list, object]:
        identity = list(actor.principal.identity)
        boundary = None if "unbound" in actor.changes else actor.principal.boundary
        for change in actor.changes:
            if change.startswith("bound:"):
                boundary = self.data.managed_documents.get(change[len("bound:"):], boundary)
        if "rewrite" in actor.changes:
            identity.append(_ALLOW_ALL)
        # What is added first (a group's policies, a policy attached), then what
        # removes, replaces or versions a policy — the added ones too — so that
        # the stack is the same in whatever order the changes are listed.
        for change in sorted(actor.changes, key=lambda c: (not c.startswith(("group:", "attach:")), c)):
            if change.startswith("group:"):
                identity += self.data.groups.get(change[len("group:"):], [])
            elif change.startswith(("remove:", "replace:")):
                identity = _without(identity, [change.split(":", 1)[1]])
                if change.startswith("replace:"):
                    identity.append(_ALLOW_ALL)
            elif change.startswith("leave:"):
                identity = _without(identity, [p.name for p in self.data.groups.get(change[len("leave:"):], [])])
            elif change.startswith("attach:"):
                attached = self.data.managed_documents.get(change[len("attach:"):])
                if attached is not None:
                    identity.append(attached)
            elif change.startswith("version:"):
                arn, _, vid = change[len("version:"):].rpartition("@")
                other = self.data.versions.get(arn, {}).get(vid)
                identity = [other if p.name == arn and other is not None else p for p in identity]
                if other is not None and boundary is not None and boundary.name == arn:
                    boundary = other  # another version of the boundary made default
        return identity, boundary

    def decide(self, actor: Actor, action: str, resource: str, extra: dict | None = None,
               resource_policy=None, conditional: bool | None = None) -> Answer:
        """The kernel's answer for the node's request. An AssumeRole of a role
        whose trust names sts:ExternalId values is asked with each (the
        caller gives the ExternalId in its own request, as it gives the
        session name): the first allowed answer, else the first."""
        ids = self._external_ids(resource, resource_policy) if action.lower() == "sts:assumerole" and \
            "sts:ExternalId" not in {**self.context, **(extra or {})} else []
        if not ids:
            return self._decide(actor, action, resource, extra, resource_policy, conditional)
        answers = [self._decide(actor, action, resource, {**(extra or {}), "sts:ExternalId": v}, resource_policy,
                                conditional) for v in ids]
        # allowed with one, else conditional, else undecided with one (never a
        # denial where another value's answer is not known), else denied
        for good in (lambda a: a.allowed, lambda a: a.conditional is not None,
                     lambda a: a.failed_closed or a.undecided is not None):
            found = next((a for a in answers if good(a)), None)
            if found is not None:
                return found
        return answers[0]

    def _external_ids(self, role_arn: str, trust=None) -> list[str]:
        role = self.data.principals.get(role_arn)
        trust = trust if trust is not None else (role.trust if role is not None else None)
        if trust is None:
            return []
        return sorted({v.text for st in trust.statements for c in st.condition if c.key.lower() == "sts:externalid"
                       for v in c.values if v.text and not any(ch in v.text for ch in "*?$")})

    def _decide(self, actor: Actor, action: str, resource: str, extra: dict | None = None,
                resource_policy=None, conditional: bool | None = None) -> Answer:
        identity, boundary = self.stack(actor)
        context = {**self.context, **(extra or {})}
        if "console" in actor.changes:
            # A console session is temporary credentials: aws:MultiFactorAuthPresent
            # is in its requests, false without the user's MFA device (IAM User
            # Guide, AWS global condition context keys; a long-term access key's
            # requests do not carry it).
            context.setdefault("aws:MultiFactorAuthPresent", "false")
        if self.region_chosen:
            context["aws:RequestedRegion"] = "us-east-1" if action.lower().startswith("iam:") else self.region
        # A key no policy of the data names cannot change a decision: requests
        # that differ only in such keys (iam:PolicyARN per policy attached, the
        # tag a Tag request sets, where no condition tests them) share one.
        # Only denials are shared: an allowing answer is shown with its own request.
        named = self._named_keys()
        key = (actor.node, action, resource, id(resource_policy), conditional,
               tuple(sorted((k, repr(v)) for k, v in context.items() if k.lower() in named)))
        denied = self._denied.get(key)
        if denied is not None:
            return denied
        answer = decide_as(self.data, actor.principal, action, resource, context,
                           identity=identity, boundary=boundary, caller=actor.caller, resource_policy=resource_policy,
                           conditional=self.conditional if conditional is None else conditional,
                           timeout_ms=self.timeout_ms, engines=self._engines)
        if not (answer.allowed or answer.conditional is not None or answer.undecided is not None
                or answer.failed_closed):
            self._denied[key] = answer
        return answer

    def _named_keys(self) -> frozenset[str]:
        """Every condition key a policy of the data names (lower case), in a
        condition or as a policy variable."""
        return self.data.keys_named()

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
        """The kernel's allowing answer when the node is at the goal (asked
        once per node)."""
        if self.goal.principal is not None:
            return None
        if actor.node not in self._at_goal:
            self._at_goal[actor.node] = self._ask_goal(actor)
        return self._at_goal[actor.node]

    def _ask_goal(self, actor: Actor) -> Answer | None:
        answer = self.decide(actor, self.goal.action, self.goal.resource)
        if answer.failed_closed or answer.undecided is not None:
            self._record(Edge(actor.node, "allowed the goal", GOAL, [answer], "undecided", why=answer.undecided))
        if not (answer.allowed or answer.conditional is not None):
            return None
        if self.goal.is_admin:
            return self._admin_everywhere(actor, answer)
        return answer

    def _admin_everywhere(self, actor: Actor, answer: Answer) -> Answer | None:
        """Admin is ``*`` on ``*``: an Allow of NotAction or NotResource lets
        the request for an unnamed action on ``*`` through and still leaves
        out what it names (PowerUserAccess's ``NotAction iam:*`` is no
        admin). So each action and resource such a statement leaves out, in
        any layer, is asked of the kernel too (by a representative request
        its pattern matches), and every one must be allowed."""
        identity, boundary = self.stack(actor)
        actions, resources = admin_probes(policies_for(self.data, identity, boundary, actor.principal.account,
                                                       "*", None, ANY_ACTION))
        extra = answer.conditional or {}
        # IAM's own requests are in us-east-1 (docs/readings.md A9): an Allow of
        # everything in the region the search picked is not admin unless IAM's
        # are allowed too.
        if self.region_chosen and self.region != "us-east-1" and f"iam:{_ANY_PART}" not in actions:
            actions = [*actions, f"iam:{_ANY_PART}"]
        for action in [ANY_ACTION, *actions]:
            for resource in ["*", *resources]:
                if (action, resource) == (ANY_ACTION, "*"):
                    continue
                probe = self.decide(actor, action, resource, extra=extra)
                if probe.failed_closed or probe.undecided is not None:
                    self._record(Edge(actor.node, "allowed the goal", GOAL, [probe], "undecided",
                                      why=probe.undecided or f"{action} on {resource} could not be decided"))
                    return None
                if not (probe.allowed or probe.conditional is not None):
                    return None
        return answer

    def expand(self, node: str) -> list[Edge]:
        """The node's edges (recorded in ``self.edges``); a node at the goal
        gets its edge to GOAL and, unless the goal is a principal, no more."""
        if node in self.expanded:
            return [e for (x, _), es in self.edges.items() if x == node for e in es]
        self.expanded.add(node)
        self._engines.clear()  # a node's decisions share its stacks; another node's rarely do
        self._denied.clear()
        actor = self.actor(node)
        out: list[Edge] = []
        if self.goal.principal is not None:
            if actor.base == self.goal.principal:
                edge = Edge(node, "is the goal", GOAL, [])
                self._record(edge)
                return [edge]
            # No shortcut for an admin: a trust policy may name only another
            # principal, so the path to the goal can go through others.
        else:
            answer = self.at_goal(actor)
            if answer is not None and not self.whole:
                edge = Edge(node, "allowed the goal", GOAL, [answer],
                            "conditional" if not answer.allowed else "allowed")
                self._record(edge)
                return [edge]
        identity, _ = self.stack(actor)
        for method in METHODS:
            out += self._method_edges(actor, identity, method)
            out += self._left_out_edges(actor, identity, method)
        for edge in out:
            self._record(edge)
        return out

    def _record(self, edge: Edge) -> None:
        self.note_node(edge.source)
        if edge.status == "undecided":
            self.undecided.append(edge)
            return
        self.edges.setdefault((edge.source, edge.target), []).append(edge)
        self.note_node(edge.target)

    def _targets(self, actor: Actor, identity: list, method: Method) -> list[str]:
        first = method.needs[0]
        grants = self._allows(identity, first.action)
        if method.name == "AssumeRole":  # a trust policy that names the caller grants it alone
            return self._assumable(actor, grants)
        if not grants:
            return []
        _, boundary = self.stack(actor)
        if boundary is not None and first.action.lower().startswith("iam:") and not self._allows([boundary],
                                                                                              first.action):
            # IAM has no resource-based policies: a boundary with no Allow that can
            # cover the action leaves it implicitly denied on every target.
            return []
        candidates = self._candidates(method)
        if first.resource != "{target}":
            return candidates
        if first.action.lower().startswith("iam:"):
            # IAM has no resource-based policies (a trust policy governs sts: actions
            # only): an IAM request on another account's principal is never allowed.
            account = actor.principal.account
            candidates = [arn for arn in candidates if arn.split(":", 5)[4] == account]
        return [arn for arn in candidates if any(_may_cover(st, arn) for st in grants)]

    def _candidates(self, method: Method) -> list[str]:
        """The principals a method may target whatever the caller (a role
        its service may assume, one in an instance profile), sorted: the
        same for every node, so found once per method (and region)."""
        key = ("candidates", method.name, method.target_kind, self.region)
        found = self._statements.get(key)
        if found is None:
            found = self._statements[key] = sorted(p.arn for p in self.data.principals.values()
                                                   if self._may_target(p, method))
        return found

    def _may_target(self, p: Principal, method: Method) -> bool:
        if p.kind != method.target_kind:
            return False
        if method.service is not None and (p.trust is None or not self._may_trust_service(p, method.service)
                                           or not self._trusts_service(p, method)):
            return False
        if p.arn.split(":", 5)[5].startswith("role/aws-service-role/") and (
                method.yields != "become" or method.trust_rewritten):
            return False  # a service-linked role's trust and policies cannot be changed (UnmodifiableEntity)
        if method.without_instance_profile and p.instance_profiles:
            return False
        return not method.instance_profile or bool(p.instance_profiles)

    def _left_out_edges(self, actor: Actor, identity: list, method: Method) -> list[Edge]:
        """An UNDECIDED edge to each user or role the data left out whole
        that the method's first need may act on: what the principal could
        do is not known, so a path through it is neither found nor ruled
        out (never "does not reach")."""
        first = method.needs[0]
        grants = self._allows(identity, first.action)
        if not grants and method.name != "AssumeRole":  # a trust policy naming the caller grants AssumeRole alone
            return []
        out = []
        for arn, why in sorted(self.data.left_out.items()):
            if f":{method.target_kind}/" not in arn or arn == actor.principal.arn:
                continue
            if grants and first.resource == "{target}" and not any(_may_cover(st, arn) for st in grants):
                continue
            out.append(Edge(actor.node, method.name, arn, [], "undecided",
                            why=f"{arn} is left out of the account data ({why}): a path through it is not known"))
        return out

    def _may_trust_service(self, role: Principal, service: str) -> bool:
        """Whether the role's trust policy has an Allow that may name the
        service principal: one naming it (or a pattern), everyone, or
        NotPrincipal. Any other trust leaves a service's AssumeRole
        implicitly denied — the kernel is asked only of these (at 10,000
        roles, asking every trust of every method's service took 18 s)."""
        if role.arn in self.everyone or role.arn in self.by_service.get(service.lower(), ()):
            return True
        return any(role.arn in roles for named, roles in self.by_service.items() if "*" in named or "?" in named)

    def _trusts_service(self, role: Principal, method: Method) -> bool:
        """The kernel's decision: may the method's service assume the role
        (its trust policy alone decides a service principal's AssumeRole),
        with the keys the service sets on that request: aws:SourceAccount
        the account the service acts for (the role's: iam:PassRole passes
        roles of the caller's own account) and aws:SourceArn the resource
        it acts for (IAM User Guide, "The confused deputy problem")."""
        service = method.service
        source = next((n.resource for n in method.needs if n.action != "iam:PassRole"), None)
        # (a function named after a session: the trust is asked for the usual name,
        # as the candidates are found once per method, not per session)
        fields = {"target": role.arn, "target_account": role.account, "account": role.account,
                  "region": self.region, "session": "privesc-function"}
        source_arn = source.format(**fields) if source is not None else None
        key = ("trust", role.arn, service, source_arn)
        found = self._statements.get(key)
        if found is None:
            from ..scenario import compile_policies

            context = {"aws:SourceAccount": role.account}
            if source_arn is not None and source_arn != "*":
                context["aws:SourceArn"] = source_arn
            engine = compile_policies({"resource": role.trust})
            decision = engine.decide({"principal": service, "action": "sts:AssumeRole", "resource": role.arn,
                                      "context": context})
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
            # AWS managed policies are AWS's to change; a customer managed
            # one, identity or boundary, has its versions made default.
            held = {pol.name for pol in target.identity if _customer_managed(pol.name)}
            if target.boundary is not None and _customer_managed(target.boundary.name):
                held.add(target.boundary.name)
            held = sorted(h for h in held if h in self.data.versions)
            return [(need.resource.format(policy=h, **fields), f"{h}@{vid}")
                    for h in held for vid in sorted(self.data.versions[h])]
        if method.per == "policy":
            held = {pol.name for pol in target.identity if _customer_managed(pol.name)}
            if target.boundary is not None and _customer_managed(target.boundary.name):
                held.add(target.boundary.name)  # a new default version of the boundary rewrites it
            return [(need.resource.format(policy=h, **fields), h) for h in sorted(held)]
        if method.per == "inline":
            prefix = f"{target.kind} {target.arn} inline "
            return [(need.resource.format(**fields), pol.name) for pol in target.identity
                    if pol.name.startswith(prefix)]
        if method.per == "attached":
            return [(need.resource.format(**fields), name) for name in self._attached(target)]
        if method.per in ("group_inline", "group_attached"):
            out = []
            for g in sorted(target.groups):
                for pol in self.data.groups.get(g, []):
                    if pol.name.startswith("arn:") == (method.per == "group_attached"):
                        out.append((need.resource.format(group=g, **fields), pol.name))
            return out
        if method.per == "tag":
            held = {k.lower(): v for k, v in target.tags.items()}
            tried = {key: sorted({_as_target_s(value, target) for value in values})
                     for key, values in self._tag_values().items()}
            return [(need.resource.format(**fields), f"{key}={value}") for key, values in tried.items()
                    for value in values if held.get(key.lower()) != value]
        if method.per == "untag":  # a tag no condition names decides nothing
            named = {k.lower() for k in self._tag_values()}
            return [(need.resource.format(**fields), key) for key in sorted(target.tags) if key.lower() in named]
        if method.per == "session":
            # the sessions a trust names of the target, whose name may name the resource
            # (a Lambda function's: letters, digits, hyphens, underscores, 1-64)
            return [(need.resource.format(session=arn.rsplit("/", 1)[1], **fields), arn)
                    for arn, role in sorted(self.sessions.items())
                    if role == target.arn and re.fullmatch(r"[A-Za-z0-9_-]{1,64}", arn.rsplit("/", 1)[1])]
        if method.per == "admin_policy":
            # (an attach, or a boundary put in place of the target's: one short of
            # * on * that allows what a method needs may lead on)
            policies = self._admin_policies(target.account) + self._useful_policies(target.account)
            return [(need.resource.format(**fields), arn) for arn in policies]
        if method.per == "group_admin_policy":  # "GROUP|POLICY": a policy attached to one of its groups
            policies = self._admin_policies(target.account) + self._useful_policies(target.account)
            return [(need.resource.format(group=g, **fields), f"{g}|{arn}") for g in sorted(target.groups)
                    for arn in policies]
        return [(need.resource.format(**fields), None)]

    def _tag_values(self) -> dict[str, list[str]]:
        """Each tag key a condition of the data names on a principal or
        resource tag, with each value it names (a pattern's as a value it
        matches) and one it names nowhere. IAM tag keys are case-insensitive
        (``Team`` and ``team`` are one key): an aws:RequestTag/Team condition
        names values of a principal's ``team`` tag; a key is spelt as the
        first condition (in sorted order) spells it."""
        found = self._statements.get("tag values")
        if found is None:
            keys: dict[str, str] = {}  # lower case → spelling
            values: dict[str, set[str]] = collections.defaultdict(set)
            for policy in self.data.all_policies():
                for st in policy.statements:
                    # A Resource naming the principal's tag (``user/${aws:PrincipalTag/buddy}``):
                    # each value that makes it an ARN of the data is tried.
                    for res in (*(st.resource or ()), *(st.not_resource or ())):
                        for key in re.findall(r"\$\{aws:PrincipalTag/([^}]*)\}", res.text or "", re.I):
                            keys[key.lower()] = min(key, keys.get(key.lower(), key))
                            values[key.lower()].update(self._values_naming(res.text, key))
                    for clause in st.condition:
                        prefix, _, key = clause.key.partition("/")
                        if key and prefix.lower() in ("aws:principaltag", "aws:resourcetag", "iam:resourcetag",
                                                      "aws:requesttag"):
                            # a value the Tag request's own condition names is tried too
                            # (a policy variable stays as written: it is the target's own value)
                            values[key.lower()].update(v.text if "${" in v.text else _representative(v.text)
                                                       for v in clause.values if v.text is not None)
                            if prefix.lower() != "aws:requesttag":
                                keys[key.lower()] = min(key, keys.get(key.lower(), key))
            found = self._statements["tag values"] = {keys[k]: sorted(values[k] | {_ANY_PART}) for k in sorted(keys)}
        return found

    def _values_naming(self, pattern: str, key: str) -> set[str]:
        """The values of ``${aws:PrincipalTag/KEY}`` in a Resource pattern
        under which it matches an ARN the data holds (a user, role, group,
        managed policy or resource)."""
        wanted = f"${{aws:principaltag/{key.lower()}}}"
        regex = ""
        for part in re.split(r"(\$\{[^}]*\})", pattern):
            if part.lower() == wanted and "(?P<v>" not in regex:
                regex += "(?P<v>.*?)"
            elif part.startswith("${"):
                regex += ".*"
            else:
                regex += re.escape(part).replace(r"\*", ".*").replace(r"\?", ".")
        if "(?P<v>" not in regex:
            return set()
        arns = [*self.data.principals, *self.data.groups, *self.data.managed_documents, *self.data.resources]
        return {m.group("v") for a in arns if (m := re.fullmatch(regex, a)) and m.group("v")}

    def _useful_policies(self, account: str) -> list[str]:
        """The other managed policies of the data an Attach…Policy may add
        (customer policies of the target's account, AWS managed ones): each
        one with an Allow of some action a method needs or the goal names,
        or a customer policy some Allow of the data may give a new default
        version (attached, it is then rewritten). One without adds no Allow
        any decision of the search asks about, nor is made to, so leaving it
        out loses no path."""
        key = ("useful policies", account)
        found = self._statements.get(key)
        if found is None:
            asked = {n.action for m in METHODS for n in m.needs}
            if self.goal.principal is None:
                asked.add(self.goal.action)
            admin = set(self._admin_policies(account))
            versioning = [st for p in self.data.all_policies() for st in p.statements if st.effect is Effect.ALLOW
                          and (_covers_action(st, "iam:CreatePolicyVersion")
                               or _covers_action(st, "iam:SetDefaultPolicyVersion"))]
            found = [arn for arn, policy in sorted(self.data.managed_documents.items())
                     if arn not in admin and (arn.split(":")[4] in (account, "aws"))
                     and (any(st.effect is Effect.ALLOW and _covers_action(st, a)
                              for st in policy.statements for a in asked)
                          or _customer_managed(arn) and any(_may_cover(st, arn) for st in versioning))]
            # AWS managed policies the data does not hold, which every account has:
            # each an iam:PolicyARN condition names, and one no condition names.
            # What they allow is not known: an allowed attach of one is UNDECIDED.
            named = sorted({v.text for p in self.data.all_policies() for st in p.statements for c in st.condition
                            if c.key.lower() == "iam:policyarn" for v in c.values
                            if v.text and v.text.startswith("arn:aws:iam::aws:policy/") and "*" not in v.text
                            and "?" not in v.text and v.text not in self.data.managed_documents
                            and v.text != ADMIN_POLICY})
            found = found + named + [f"arn:aws:iam::aws:policy/{_ANY_PART}"]
            self._statements[key] = found
        return found

    def _attached(self, target: Principal) -> list[str]:
        """The managed policies attached to the target itself (not only
        through one of its groups)."""
        via_groups = [pol.name for g in target.groups for pol in self.data.groups.get(g, [])]
        names = [pol.name for pol in target.identity if pol.name.startswith("arn:")]
        return sorted({n for n in names if names.count(n) > via_groups.count(n)})

    def _admin_policies(self, account: str) -> list[str]:
        """AdministratorAccess and each customer managed policy of the
        account that alone allows * on * (the kernel's decision)."""
        key = ("admin policies", account)
        found = self._statements.get(key)
        if found is None:
            from ..scenario import compile_policies

            found = [ADMIN_POLICY]
            for arn, policy in sorted(self.data.managed_documents.items()):
                if not _customer_managed(arn) or arn.split(":")[4] != account:
                    continue
                engine = compile_policies({"identity": [policy]})
                actions, resources = admin_probes({"identity": [policy]})  # what a NotAction/NotResource leaves out
                if all(engine.decide({"principal": f"arn:aws:iam::{account}:user/any", "action": action,
                                      "resource": resource}).decision == "allow"
                       for action in [ANY_ACTION, *actions] for resource in ["*", *resources]):
                    found.append(arn)
            self._statements[key] = found
        return found

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
            target = self.sessions.get(target, target)  # a session got: the method's target is its role
            found = [e for m in METHODS if m.name == edge.method
                     for e in self._method_edges(actor, identity, m, only=target)]
        return next((e for e in found if e.target == edge.target), edge)

    def _method_edges(self, actor: Actor, identity: list, method: Method, only: str | None = None,
                      named: bool = False) -> list[Edge]:
        if not named:  # each name the caller may give what it creates
            return [e for m in self._named_variants(identity, method)
                    for e in self._method_edges(actor, identity, m, only, named=True)]
        out = []
        for target_arn in self._targets(actor, identity, method):
            if only is not None and target_arn != only:
                continue
            # itself as changed (its tags as they now are), or another as the data holds it
            target = self._as_changed(actor) if target_arn == actor.principal.arn else self.data.principals[target_arn]
            opened = False  # an attach of a policy allowing * on * is allowed
            for resource, item in self._resources(method.needs[0], actor, target, method):
                if method.yields == "group" and target.groups and item in target.groups:
                    continue  # already in it
                policy = _policy_of(method, item)
                if opened and (policy not in self.data.managed_documents or not self._denies_in(policy)):
                    # A policy short of * on * with no Deny adds less than the one
                    # allowing * on * the same step attaches: no path through it is shorter.
                    continue
                answers, status, why = [], "allowed", None
                for need in method.needs:
                    if need is method.needs[0]:
                        res = resource
                    elif method.per == "session":  # each need names the session's resource
                        res = next(r for r, i in self._resources(need, actor, target, method) if i == item)
                    else:
                        res = self._resources(need, actor, target, method)[0][0]
                    extra = {**(_resource_tags(target) if res == target.arn else {}),
                             **{key: value.format(target=target.arn, target_account=target.account,
                                                  account=actor.principal.account, region=self.region)
                                for key, value in need.context}}
                    extra.update(self._entity_keys(need.action, res, actor, target, policy))
                    if method.per in ("admin_policy", "group_admin_policy"):
                        extra[method.policy_key] = _policy_of(method, item)
                    elif method.per == "tag":
                        key, _, value = item.partition("=")
                        extra.update({f"aws:RequestTag/{key}": value, "aws:TagKeys": [key]})
                    elif method.per == "untag":
                        extra["aws:TagKeys"] = [item]
                    if need.action == "sts:AssumeRole" and method.trust_rewritten:
                        answer = self.decide(actor, need.action, res, extra, resource_policy=self.trust_naming(actor))
                    else:
                        answer = self.decide(actor, need.action, res, extra)
                    answers.append(answer)
                    if answer.allowed or answer.conditional is not None:
                        # The catalogue's other required resource types of the action
                        # (ec2:RunInstances: image, subnet…; ssm:SendCommand: document)
                        # are each authorized too (Service Authorization Reference).
                        for other in required_resources(need.action, res, self.region, actor.principal.account):
                            more = self.decide(actor, need.action, other, extra)
                            answers.append(more)
                            if not (more.allowed or more.conditional is not None):
                                answer = more
                                break
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
                if status != "denied" and method.name == "CreatePolicyVersion" and \
                        1 + len(self.data.versions.get(item, {})) >= MAX_POLICY_VERSIONS:
                    # Five versions already: IAM answers LimitExceeded unless one is deleted first.
                    answer = self.decide(actor, "iam:DeletePolicyVersion", resource)
                    answers.append(answer)
                    if not (answer.allowed or answer.conditional is not None):
                        status = "undecided" if answer.undecided or answer.failed_closed else "denied"
                        why = answer.undecided
                if status != "denied" and method.per in ("admin_policy", "group_admin_policy") and \
                        policy not in self.data.managed_documents and policy != ADMIN_POLICY:
                    what = f"an AWS managed policy (asked as {policy})" if policy.endswith(_ANY_PART) else policy
                    status, why = "undecided", (f"{what} may be attached, one the account data does not hold: "
                                                "what it allows is not known")
                if status == "denied":
                    if method.per == "admin_policy" and method.policy_key.lower() not in self._named_keys():
                        break  # no condition names the key: every other policy is denied alike
                    continue
                if method.per in ("admin_policy", "group_admin_policy") and status == "allowed" and \
                        _policy_of(method, item) in self._admin_policies(target.account):
                    opened = True
                out += self._yield(actor, method, target, item, answers, status, why)
            if method.name == "AssumeRole":
                out += self._sessions_of(actor, target)
        return out

    def _named_variants(self, identity: list, method: Method) -> list[Method]:
        """The method as is, and once per other name the caller's Allows give
        the resource it creates (a function, stack, project, … named
        ``privesc-…`` in the table): the name is the caller's choice, so a
        grant of ``function:dev-*`` (for any need naming the resource) is
        met by a function named ``dev-…``. The same name is used in every
        need that names it."""
        first = next((n for n in method.needs if _CREATED.search(n.resource)), None)
        if first is None:
            return [method]
        found = _CREATED.search(first.resource)
        marker, default = found.group(1), found.group(2)
        names: set[str] = set()
        actions = {n.action for n in method.needs if default in n.resource}
        for st in [st for action in sorted(actions) for st in self._allows(identity, action)]:
            for res in st.resource or ():
                at = (res.text or "").find(marker)
                if at < 0:
                    continue
                name = _representative(re.split(r"[/:]", res.text[at + len(marker):])[0])
                if name and name != default and re.fullmatch(r"[A-Za-z0-9_-]{1,64}", name):
                    names.add(name)
        return [method] + [replace(method, needs=tuple(replace(n, resource=n.resource.replace(default, name))
                                                       for n in method.needs)) for name in sorted(names)]

    def _sessions_of(self, actor: Actor, role: Principal, resource_policy=None) -> list[Edge]:
        """Assuming a role with the session name a trust policy names: the
        kernel decides sts:AssumeRole with that sts:RoleSessionName (under
        ``resource_policy`` when the caller rewrote the role's trust)."""
        out = []
        for session, role_arn in sorted(self.sessions.items()):
            if role_arn != role.arn:
                continue
            answer = self.decide(actor, "sts:AssumeRole", role.arn,
                                 {**_resource_tags(role), "sts:RoleSessionName": session.rsplit("/", 1)[1]},
                                 resource_policy=resource_policy)
            if answer.allowed:
                out.append(Edge(actor.node, "AssumeRole (session name)", session, [answer]))
        return out

    def _entity_keys(self, action: str, resource: str, actor: Actor, target: Principal,
                     policy: str | None) -> dict:
        """The IAM keys a request on a user, role or group carries (Service
        Authorization Reference, the action's condition keys):
        iam:PermissionsBoundary the boundary the user or role has now (a Put
        of one carries the new one: set by the method), iam:PolicyARN the
        managed policy attached or detached."""
        keys = _action_keys(action)
        out = {}
        if "iam:permissionsboundary" in keys and resource == target.arn:  # (itself: as its changes left it)
            if target.boundary is not None and target.boundary.name.startswith("arn:"):
                out["iam:PermissionsBoundary"] = target.boundary.name
        if "iam:policyarn" in keys and policy and policy.startswith("arn:") and ":policy/" in policy:
            out["iam:PolicyARN"] = policy
        return out

    def _denies_in(self, policy_arn: str | None) -> bool:
        policy = self.data.managed_documents.get(policy_arn) if policy_arn else None
        return policy is None or any(st.effect is not Effect.ALLOW for st in policy.statements)

    def _canonical(self, base: str, changes: frozenset[str]) -> frozenset[str]:
        """The changes less each that the others leave without effect: the
        principal decides every request the same with or without it, so the
        node is the same. (Another version made default of a boundary since
        removed; once the caller's Allow of ``*`` on ``*`` is in, any change
        that adds or removes no Deny. Without this, a principal that had
        rewritten itself was followed through every such change to the
        change limit, each reported there as UNDECIDED.)"""
        out = set(changes)
        whole = self.stack(self.actor(node_name(base, changes)))
        for change in sorted(changes):
            if change.startswith(("tag:", "untag:")) or change == "console":
                continue  # tags, the console session, are in the requests, not in the documents
            if change.startswith(("group:", "attach:")) and not any(p is _ALLOW_ALL for p in whole[0]):
                # a group it is in, a policy it holds, is what its next steps may
                # act on (PutGroupPolicy on its groups, a new version of the
                # policy) even when it decides nothing anew itself
                continue
            if _same_decisions(self.stack(self.actor(node_name(base, out - {change}))), whole):
                out.discard(change)
        return frozenset(out)

    def trust_naming(self, actor: Actor):
        return read_document({"Version": "2012-10-17", "Statement": [
            {"Sid": "RewrittenByTheCaller", "Effect": "Allow", "Principal": {"AWS": actor.caller},
             "Action": "sts:AssumeRole"}]}, PolicyType.TRUST, "the trust policy the caller writes")

    def _yield(self, actor: Actor, method: Method, target: Principal, item: str | None, answers, status,
               why) -> list[Edge]:
        if method.yields == "become":
            out = [Edge(actor.node, method.name, target.arn, answers, status, method.assumes, why)]
            if method.trust_rewritten and status != "undecided":
                # The trust rewritten names the caller, who then picks the session
                # name: a session of the role that another trust names is got too.
                out += [replace(e, method=method.name, answers=answers + e.answers, status=status)
                        for e in self._sessions_of(actor, target, resource_policy=self.trust_naming(actor))]
            return out
        if method.yields == "session":
            return [Edge(actor.node, method.name, item, answers, status, method.assumes, why)]
        if method.yields == "console":  # signed in with the password set: the user's console session
            changes = actor.changes | {"console"} if target.arn == actor.principal.arn else {"console"}
            if target.arn == actor.principal.arn and "console" in actor.changes:
                return []
            return [Edge(actor.node, method.name, node_name(target.arn, changes), answers, status, method.assumes,
                         why)]
        change = {"rewrite": "rewrite", "unbound": "unbound", "group": f"group:{item}",
                  "version": f"version:{item}", "remove": f"remove:{item}", "replace": f"replace:{item}",
                  "leave": f"leave:{item}", "tag": f"tag:{item}", "untag": f"untag:{item}"}[method.yields]
        if method.per in ("admin_policy", "group_admin_policy") and method.yields == "rewrite" and \
                _policy_of(method, item) not in self._admin_policies(target.account):
            # a policy short of * on *: the target holds it besides its own (through
            # the group: its other members gain it too, which is not followed)
            change = f"attach:{_policy_of(method, item)}"
        if method.per == "admin_policy" and method.yields == "unbound" and \
                item not in self._admin_policies(target.account):
            change = f"bound:{item}"  # the target's boundary is now that policy
        if method.name == "CreatePolicyVersion":
            # The new default version replaces the document (its Denies go too);
            # of the boundary, it lifts the boundary.
            boundary = target.boundary.name if target.boundary is not None else None
            change = "unbound" if item == boundary else f"replace:{item}"
        if target.arn == actor.principal.arn:
            # The principal itself, or a session of the role: a role's policies are
            # read at each request, so its sessions hold the change at once.
            changes = _with_change(actor.changes, change)
            if status != "undecided":  # an undecided step is said as it is
                changes = self._canonical(actor.base, changes)
            if changes == actor.changes:
                return []  # no step: the principal decides every request as before
            if len(changes - {"console"}) > MAX_CHANGES:  # the search stops here: said, not taken for "no path"
                return [Edge(actor.node, method.name, node_name(actor.base, changes), answers, "undecided",
                             method.assumes, f"{len(changes)} changes to {target.arn} ({', '.join(sorted(changes))}) "
                                             f"are more than the search follows (MAX_CHANGES = {MAX_CHANGES})")]
            return [Edge(actor.node, method.name, node_name(actor.base, changes), answers, status, method.assumes,
                         why)]
        if status != "undecided" and not self._canonical(target.arn, frozenset({change})):
            return []  # no change to it (a boundary it does not have removed)
        capability = f"change:{target.arn}#{change}"
        self.add_combine(capability, target.arn, node_name(target.arn, {change}))
        return [Edge(actor.node, method.name, capability, answers, status, method.assumes, why)]

    def add_combine(self, capability: str, node: str, changed: str) -> None:
        """Holding ``capability`` and being ``node`` is being ``changed``;
        and holding it and being any other node that is the same principal
        — the principal already changed otherwise, or a session of the role
        a trust policy names (a role's policies are read at each request,
        so its sessions hold a change at once) — is being that node with
        the change too (two changes made by others, or one by another and
        one by itself, stack up to MAX_CHANGES)."""
        self.combines.add((capability, node, changed))
        principal, _, change = capability[len("change:"):].partition("#")
        changes = self._capabilities_on.setdefault(principal, set())
        if change not in changes:
            changes.add(change)
            for other in sorted(self._nodes_of.get(principal, set()) | {principal} | self._named_sessions(principal)):
                self._stack(capability, change, other)
        self.note_node(changed)

    def note_node(self, node: str) -> None:
        """A node of the graph: each change some node may make to its
        principal is combined with it."""
        if node == GOAL or node.startswith("change:"):
            return
        base = node.partition("#")[0]
        principal = self.sessions.get(base, base)
        nodes = self._nodes_of.setdefault(principal, set())
        if node in nodes:
            return
        nodes.add(node)
        for change in sorted(self._capabilities_on.get(principal, ())):
            self._stack(f"change:{principal}#{change}", change, node)

    def _named_sessions(self, role: str) -> set[str]:
        """The sessions of the role that trust policies name."""
        if self._by_role is None:
            self._by_role = {}
            for session, of in self.sessions.items():
                self._by_role.setdefault(of, set()).add(session)
        return self._by_role.get(role, set())

    def _stack(self, capability: str, change: str, node: str) -> None:
        base, _, text = node.partition("#")
        changes = frozenset(c for c in text.split("+") if c)
        if change in changes:
            return
        if change.startswith(("tag:", "untag:")):
            key = change.split(":", 1)[1].partition("=")[0].lower()
            if any(c.startswith(("tag:", "untag:")) and c.split(":", 1)[1].partition("=")[0].lower() == key
                   for c in changes):
                return  # the same tag set twice: the later one alone is a node of its own
        more = _with_change(changes, change)
        if len(more - {"console"}) > MAX_CHANGES:
            return
        more = self._canonical(base, more)
        if more == changes:
            return  # the change decides nothing anew for this node
        self.combines.add((capability, node, node_name(base, more)))
        self.note_node(node_name(base, more))

    # ------------------------------------------------------------ the closure

    def explore(self, start: str) -> None:
        """Expand every node the start can get to. A changed principal
        (``B#change``) is got only by holding both the capability (the
        change made to B) and B itself, as the closure's combination rule
        joins them: expanding it on the capability alone would expand, for
        a caller that may delete any user's policy, every user so changed."""
        seen = {start}
        held: set[str] = set()  # the capabilities got so far
        level = [start]
        while level:
            # The level's nodes at the goal are the shortest paths' ends: when
            # there are any, the others need not be searched (what they lead to
            # is a level further), and the search ends with this level.
            ends = [n for n in level if self.is_at_goal(n)]
            next_level: list[str] = []
            for node in ends or level:
                edges = self.expand(node)
                by_capability, by_principal = self._combines_index()
                for edge in edges:
                    if edge.status == "undecided" or edge.target == GOAL:
                        continue  # not followed: what lies past it is not known to be reached
                    if edge.target.startswith("change:"):
                        if edge.target in held:
                            continue
                        held.add(edge.target)
                        got = [c for b, c in by_capability.get(edge.target, ()) if b in seen]
                    elif edge.target not in seen:
                        got = [edge.target] + [c for m, c in by_principal.get(edge.target, ()) if m in held]
                    else:
                        continue
                    for nxt in got:  # grows as it goes: a changed principal got may be
                        if nxt not in seen:  # the principal of a change held
                            seen.add(nxt)
                            next_level.append(nxt)
                            got += [c for m, c in by_principal.get(nxt, ()) if m in held]
            level = [] if ends else next_level

    def _combines_index(self) -> tuple[dict, dict]:
        """capability → [(principal, changed)], principal → [(capability,
        changed)], indexed again only when combinations were added since."""
        if self._by_capability[0] != len(self.combines):
            by_capability: dict[str, list[tuple[str, str]]] = {}
            by_principal: dict[str, list[tuple[str, str]]] = {}
            for m, b, c in self.combines:
                by_capability.setdefault(m, []).append((b, c))
                by_principal.setdefault(b, []).append((m, c))
            self._by_capability = (len(self.combines), (by_capability, by_principal))
        return self._by_capability[1]

    def is_at_goal(self, node: str) -> bool:
        """Whether the node is at the goal: it is the goal principal, or the
        kernel allows it the goal (asked once per node)."""
        actor = self.actor(node)
        if self.goal.principal is not None:
            return actor.base == self.goal.principal
        return self.at_goal(actor) is not None

    def pairs_from(self, node: str) -> set[str]:
        """The nodes an edge of ``node`` (expanded) leads to."""
        if self._from[0] != len(self.edges):
            index: dict[str, set[str]] = {}
            for (x, y), edges in self.edges.items():
                if edges:
                    index.setdefault(x, set()).add(y)
            self._from = (len(self.edges), index)
        return self._from[1].get(node, set())

    def pairs(self) -> set[tuple[str, str]]:
        return {(x, y) for (x, y), edges in self.edges.items() if edges}


def graph_closure(graph: Escalation, start: str | None = None) -> dict[str, frozenset[str]]:
    from ..kernel.reachability import escalation_closure

    return escalation_closure(graph.pairs(), graph.combines, start, graph.combined if start is None else None)


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
    region: str | None = None  # the region the paths' requests are in

    @property
    def conditional(self) -> bool:
        return bool(self.paths) and all(any(e.status == "conditional" for e in p) for p in self.paths)


def privesc(data: AccountData, start: str, goal: Goal, context: dict | None = None, conditional: bool = False,
            timeout_ms: int = 30_000) -> Finding:
    """Whether ``start`` (a user, role or named session) can reach the goal,
    and every shortest path there."""
    if start in data.left_out:
        return Finding(start, goal, False, [], [left_out_edge(data, start)])
    undecided: list[Edge] = []
    for region in regions(data, context):
        graph = Escalation(data, goal, context, conditional, timeout_ms, region=region)
        graph.actor(start)  # InputError when it is not in the data
        if goal.principal is not None and goal.principal not in data.left_out:
            graph.actor(goal.principal)
        graph.explore(start)
        found = GOAL in graph_closure(graph, start).get(start, frozenset())
        undecided += graph.undecided
        if found:
            paths = shortest_paths(graph, start)
            return Finding(start, goal, True, [graph.detailed(p) for p in paths], graph.undecided, graph.region)
    return Finding(start, goal, False, [], undecided)


def left_out_edge(data: AccountData, arn: str) -> Edge:
    """The UNDECIDED answer of a user or role the data left out whole: what
    it can do is not known, so neither "reaches" nor "does not reach"."""
    return Edge(arn, "left out", GOAL, [], "undecided",
                why=f"{arn} is left out of the account data ({data.left_out[arn]}): what it can do is not known")


def regions(data: AccountData, context: dict | None) -> list[str | None]:
    """The regions a search is run in: the one --context fixes, else
    us-east-1 and each region an aws:RequestedRegion condition of the data
    names literally (the caller picks the region of its requests)."""
    if context and "aws:RequestedRegion" in context:
        return [None]
    named: set[str] = set()
    for policy in data.all_policies():
        for st in policy.statements:
            for clause in st.condition:
                if clause.key.lower() == "aws:requestedregion":
                    named.update(v.text for v in clause.values if v.text and not any(c in v.text for c in "*?$"))
    return ["us-east-1"] + sorted(named - {"us-east-1"})


def starts(data: AccountData, graph: Escalation) -> list[str]:
    """Every principal of the data and every session a trust policy names."""
    return sorted(set(data.principals) | set(graph.sessions))


def expand_all(graph: Escalation, jobs: int = 1, folder=None, runner=None,
               progress=None) -> dict[str, frozenset[str]]:
    """Every node's edges, in rounds: the principals and sessions, then the
    nodes the last round led to, until none is new — each round in ``jobs``
    worker processes (or a shards runner) when the data's folder is given.
    A changed principal is expanded only once the closure combines it (some
    node holds both the change and the principal): the closure of the whole
    graph, which is returned."""
    parallel = (jobs > 1 or runner is not None) and folder is not None
    if parallel:
        from .shards import keep, process_pool

        keep(folder, graph.data)  # a forked worker starts with it
        graph.prepare()
        _TEMPLATES[_shard_key(str(folder), graph)] = graph  # and with the caches the graph's nodes share
        run = runner or process_pool(jobs)
    try:
        return _expand_rounds(graph, jobs, folder, parallel, run if parallel else None, progress)
    finally:
        if parallel:  # a long-lived process (the service) keeps no graph of a finished run
            _TEMPLATES.pop(_shard_key(str(folder), graph), None)


def _expand_rounds(graph: Escalation, jobs: int, folder, parallel: bool, run, progress) -> dict[str, frozenset[str]]:
    nodes = starts(graph.data, graph)
    while True:
        while nodes:
            # A changed principal at the goal is expanded here (its one edge, to
            # the goal), first: a sibling of it then need not be searched.
            at_goal = sorted(n for n in nodes if "#" in n and graph.is_at_goal(n))
            for node in at_goal:
                graph.expand(node)
            nodes = [n for n in nodes if n not in graph.expanded and not _dominated(graph, n)]
            if parallel and len(nodes) > 1:
                size = max(1, min(500, len(nodes) // (4 * max(jobs, 1)) + 1))
                shards = [EscalationShard(str(folder), tuple(nodes[i:i + size]), _goal_tuple(graph.goal),
                                          tuple(sorted(graph.context.items())), graph.region)
                          for i in range(0, len(nodes), size)]
                graph.expanded.update(nodes)
                for rows, combines in run(run_escalation_shard, shards, progress):
                    for source, method, target, status, assumes, why in rows:
                        graph._record(Edge(source, method, target, [], status, assumes, why))
                    for capability, node, changed in combines:
                        graph.add_combine(capability, node, changed)
            else:
                for done, node in enumerate(nodes, 1):
                    graph.expand(node)
                    if progress is not None and (done % 500 == 0 or done == len(nodes)):
                        progress(done, len(nodes))
            targets = {y for (_, y) in graph.pairs() if y != GOAL and not y.startswith("change:")}
            nodes = sorted(n for n in targets - graph.expanded if not _dominated(graph, n))
        closure = graph_closure(graph)
        changed = {c for _, _, c in graph.combines} - graph.expanded
        nodes = sorted(c for c in {c for ys in closure.values() for c in changed.intersection(ys)}
                       if not _dominated(graph, c))
        if not nodes:
            return closure


def _dominated(graph: Escalation, node: str) -> bool:
    """A changed principal ``P#…`` need not be searched when P itself gets
    to the goal in at most two steps of its own (P → goal, P → P#… →
    goal): every path into ``P#…`` passes through P (its own changes start
    from P; another's change counts only with being P), so whoever gets
    there reaches the goal through P, by a path no longer. (An Attach of
    any policy reaches admin by AdministratorAccess at once; its other
    attaches would otherwise each be searched.)"""
    base, _, changes = node.partition("#")
    if not changes or "console" in changes.split("+"):
        return False  # a console session is got by setting a password, not through P
    ahead = graph.pairs_from(base)
    return GOAL in ahead or any(GOAL in graph.pairs_from(n) for n in ahead if n.startswith(base + "#"))


def privesc_all(data: AccountData, goal: Goal, context: dict | None = None, jobs: int = 1, folder=None,
                runner=None, progress=None, paths: bool = True, undecided: list | None = None) -> list[Finding]:
    """Every principal and named session that can reach the goal, each with
    its shortest paths (``paths``), from one closure of the whole graph.
    ``undecided`` (when given) gets each UNDECIDED step that a principal
    not reaching the goal gets to: for it, "does not reach" is not known."""
    out: dict[str, Finding] = {}
    left: dict[str, list[Edge]] = {}
    for region in regions(data, context):
        graph = Escalation(data, goal, context, region=region)
        closure = expand_all(graph, jobs, folder, runner, progress)
        for start in starts(data, graph):
            if GOAL in closure.get(start, ()) and start not in out:
                found = shortest_paths(graph, start) if paths else []
                out[start] = Finding(start, goal, True, [graph.detailed(p) for p in found], [], graph.region)
        for start in starts(data, graph):
            if start not in out:
                reached = {start} | set(closure.get(start, ()))
                left.setdefault(start, []).extend(e for e in graph.undecided if e.source in reached)
    if undecided is not None:
        undecided += [left_out_edge(data, arn) for arn in sorted(data.left_out)]
        seen = set()
        for start in sorted(left):
            if start in out:
                continue
            for e in left[start]:
                if id(e) not in seen:
                    seen.add(id(e))
                    undecided.append(e)
    return [out[s] for s in sorted(out)]


def _goal_tuple(goal: Goal) -> tuple:
    return (goal.action, goal.resource, goal.principal)


_WORKER_GRAPHS: dict[tuple, Escalation] = {}
# The graph whose shards are being run, in the process that runs them: a
# worker forked from it starts its own graph with its caches (the roles each
# method's service may assume took each worker 18 s at 10,000 roles, in
# every round, before the trust index).
_TEMPLATES: dict[tuple, Escalation] = {}


def _shard_key(folder: str, graph: Escalation) -> tuple:
    return (folder, _goal_tuple(graph.goal), tuple(sorted(graph.context.items())), graph.region)


@dataclass(frozen=True)
class EscalationShard:
    folder: str
    nodes: tuple[str, ...]
    goal: tuple
    context: tuple[tuple[str, object], ...] = ()
    region: str | None = None


def run_escalation_shard(shard: EscalationShard) -> tuple[list, list]:
    """The edges of the shard's nodes as plain rows, and the combinations."""
    from .shards import data_of

    key = (shard.folder, shard.goal, shard.context, shard.region)
    graph = _WORKER_GRAPHS.get(key)
    if graph is None:  # one per worker process: its caches serve every shard it runs
        graph = _WORKER_GRAPHS[key] = Escalation(data_of(shard.folder), Goal(*shard.goal), dict(shard.context),
                                                     region=shard.region)
        if key in _TEMPLATES:
            graph.share_caches(_TEMPLATES[key])
    known = set(graph.combines)
    rows = []
    for node in shard.nodes:
        for e in graph.expand(node):
            rows.append((e.source, e.method, e.target, e.status, e.assumes, e.why))
    return rows, sorted(graph.combines - known)  # an earlier shard of this worker returned the others
