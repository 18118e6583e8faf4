"""The symbolic side of kernel/engine.py: whether one policy allows a
request, for every request at once, and the one primitive every question is
built on — ``implies(a, b)``: everything ``a`` allows, ``b`` allows too.

For one policy (no Principal: identity, boundary, session, SCP) a request is
allowed when some Allow statement matches and no Deny does (SEMANTICS §1.1,
§1.5). Per action class (proofs/matching.py) and per consistent assignment of
the condition blocks' truth (Z3 enumerates them), the resources each side
allows are unions of globs; ``a`` allows something ``b`` does not iff

    FORMAT ∩ (A_allow \\ A_deny) ∩ complement(B_allow \\ B_deny)

is not empty, which automata.py decides on the glob automata themselves.
Every request found is replayed through the kernel before it is shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import z3

from ..errors import ScenarioError, quote
from ..kernel.matching import action_matches, not_principal_lists, principal_grant
from ..kernel.conditions import clause_key
from ..kernel.context import RequestContext
from ..kernel.operators import OPERATORS, ValueType
from ..kernel.principals import Caller, read_caller
from ..translator.model import Effect, Policy, PrincipalKind, Variable
from . import conditions as C
from . import automata as A
from . import variables as V
from .deadline import Deadline, Timeout
from .serial import serialised
from .matching import (ActionClass, Unsupported, action_classes, relevant_actions, uncatalogued_classes,
                       untyped_action_classes)

WITNESS_PRINCIPAL = "arn:aws:iam::111122223333:user/witness"
WITNESS_ACCOUNT = A.WITNESS_ACCOUNT
# More condition blocks than this in one action class: UNKNOWN, not a guess.
MAX_CONDITION_BLOCKS = 12


@dataclass
class Counterexample:
    action: str
    resource: str
    context: dict
    principal: str | None = WITNESS_PRINCIPAL
    actions: tuple[str, ...] = ()  # the action class the witness stands for (its representative first)


@dataclass
class Implication:
    holds: bool | None  # None: undecided
    counterexample: Counterexample | None = None
    why: str | None = None
    classes: int = 0
    solver_calls: int = 0
    # every=True: one counterexample per action class that has one, in
    # class order; ``undecided`` the classes left when the search stopped
    # (the deadline, an unsupported construct): their answer is unknown.
    counterexamples: list = field(default_factory=list)
    undecided: int = 0
    confirmed: list = field(default_factory=list)  # what ``confirm`` made of each counterexample


@dataclass
class _Side:
    allows: list = field(default_factory=list)  # (condition formula | None, resource regex)
    denies: list = field(default_factory=list)


def _side(policy: Policy, cls: ActionClass, ctx: C.SymbolicContext, caller: Caller | None,
          blocks: dict) -> _Side:
    side = _Side()
    action = cls.representative
    for st in policy.statements:
        applies = (action_matches(st.action, action) if st.action is not None
                   else not action_matches(st.not_action or (), action))
        if not applies:
            continue
        if st.principal is not None:
            if principal_grant(st.principal, caller) is None:
                continue
        elif st.not_principal is not None:
            listed_any, listed_all = not_principal_lists(st.not_principal, caller)
            if (listed_any if st.effect is Effect.ALLOW else listed_all):
                continue
        if st.resource is not None:
            resources = _term(st.resource, negated=False, fixed=ctx.fixed)
        elif st.not_resource is not None:
            resources = _term(st.not_resource, negated=True, fixed=ctx.fixed)
        else:
            resources = EVERYTHING  # no Resource element: every resource
        condition = None
        if st.condition:
            condition = blocks.get(id(st))
            if condition is None:
                condition = blocks[id(st)] = ctx.block(st.condition)
        (side.allows if st.effect is Effect.ALLOW else side.denies).append((condition, resources))
    return side


EVERYTHING = A.Term((), negated=True)  # the complement of nothing


def _term(patterns, negated: bool, fixed=None) -> A.Term:
    """A Resource (or NotResource) element as a union of globs. Policy
    variables are substituted when the question fixes their keys (``fixed``,
    a RequestContext: e.g. aws:username of a given caller)."""
    globs = []
    for p in patterns:
        if p.is_any:
            return A.Term((), negated=not negated)  # "*": everything (NotResource "*": nothing)
        if p.arn_parts is None:
            continue  # not an ARN: it matches nothing
        if p.resource is not None and any(type(x) is not str for x in p.resource):
            glob = _substituted(p, fixed)
            if glob is None:
                continue  # an absent variable: the entry matches nothing (§5)
            globs.append(glob)
            continue
        globs.append(A.resource_glob(p.text))
    return A.Term(tuple(globs), negated)


def _substituted(pattern, fixed) -> A.Glob | None:
    """A Resource pattern with variables or escapes as a glob: the resource
    part's substituted values and escapes are literal text (SEMANTICS §7,
    kernel/matching.py resource_glob), the policy's own text keeps its
    wildcards. Variables need their keys fixed by the question."""
    variables = [x for x in pattern.resource if type(x) is Variable]
    if variables and (fixed is None or not all(fixed.has(x.key) for x in variables)):
        raise Unsupported(f"policy variables in Resource ({pattern.text}) are not encoded yet")
    runs = (fixed if fixed is not None else RequestContext()).resolve(pattern.resource)
    if runs is None:
        return None
    head = A.resource_glob("arn:" + ":".join(pattern.arn_parts) + ":")
    return head + tuple(item for text, is_pattern in runs
                        for item in (A.resource_part_glob(text) if is_pattern else tuple(("lit", c) for c in text)))


def _active(terms: list, truth: dict) -> list:
    return [t for c, t in terms if c is None or truth[c.get_id()]]


def representative_callers(*policies: Policy) -> list[str | None]:
    """Callers that, between them, behave as every possible caller does
    towards these policies' Principal and NotPrincipal elements: principal
    matching is equality on accounts, ARNs and service names, so one caller
    per mentioned name, one per mentioned account, and fresh ones (another
    account, anonymous, another service) cover all the others."""
    entries = [e for p in policies for st in p.statements for e in (st.principal or ()) + (st.not_principal or ())]
    if not entries:
        return [WITNESS_PRINCIPAL]
    callers: list[str | None] = [None, "arn:aws:iam::999999999999:user/someone-else", "unmentioned.amazonaws.com"]
    accounts = set()
    for e in entries:
        kind, value = e.kind, e.value
        if kind is PrincipalKind.SERVICE:
            callers.append(value)
        elif kind is PrincipalKind.AWS and value != "*":
            if len(value) == 12 and value.isdigit():
                accounts.add(value)
                continue
            parts = value.split(":")
            if len(parts) != 6:
                raise Unsupported(f"the principal {quote(value)} is not encoded yet")
            accounts.add(parts[4])
            if not parts[5] == "root":
                callers.append(value)
            if parts[5].startswith("role/"):
                name = parts[5].rsplit("/", 1)[-1]
                callers.append(f"arn:aws:sts::{parts[4]}:assumed-role/{name}/another-session")
        elif kind in (PrincipalKind.FEDERATED, PrincipalKind.CANONICAL_USER):
            callers.append("arn:aws:iam::999999999999:oidc-provider/another.example.com")
            if value == "*" and kind is PrincipalKind.FEDERATED:
                continue
            if not value.startswith("arn:"):
                raise Unsupported(f"the {kind} principal {quote(value)} is not encoded yet")
            callers.append(value)
    for account in sorted(accounts):
        callers += [f"arn:aws:iam::{account}:root", f"arn:aws:iam::{account}:user/someone",
                    f"arn:aws:sts::{account}:assumed-role/some-role/session"]
    return list(dict.fromkeys(callers))


def _statement_key(st) -> tuple:
    """A statement as what it says, not how it is written: the order of list
    entries, Sids and the case of action names do not matter."""
    def actions(items):
        return None if items is None else frozenset(i.text.lower() for i in items)

    def resources(items):
        # The template, not the text alone: whether ${...} is a variable
        # depends on the policy's Version.
        return None if items is None else frozenset((i.text, i.resource) for i in items)

    def principals(entries):
        return None if entries is None else frozenset((e.kind, e.value) for e in entries)

    conditions = frozenset(clause_key(c) for c in st.condition)
    return (st.effect, actions(st.action), actions(st.not_action), resources(st.resource),
            resources(st.not_resource), principals(st.principal), principals(st.not_principal), conditions)


def contained(a: Policy, b: Policy) -> bool:
    """A sufficient condition for ``implies(a, b)`` that needs no solver and
    holds for every construct: each Allow of ``a`` is also in ``b``, and each
    Deny of ``b`` is also in ``a`` (then whatever ``a`` allows, ``b`` allows)."""
    keys_a = {_statement_key(st) for st in a.statements}
    keys_b = {_statement_key(st) for st in b.statements}
    allows_a = {k for k in keys_a if k[0] is Effect.ALLOW}
    denies_b = {k for k in keys_b if k[0] is Effect.DENY}
    return allows_a <= keys_b and denies_b <= keys_a


@serialised
def implies(a: Policy, b: Policy, deadline: Deadline | int = 30_000, typed: bool = True,
            every: bool = False, confirm=None) -> Implication:
    """Does everything ``a`` allows, ``b`` allow too (typed mode: actions of
    the catalogue, each on its resource types' ARN formats; untyped: any
    action and resource strings; every caller, through representatives of
    the callers the policies tell apart)? ``deadline``: the question's
    Deadline, or a time limit in milliseconds; past it the answer is
    undecided. ``every``: go on past the first counterexample, one per
    action class (``counterexamples``); stopped early, the classes not yet
    searched are counted in ``undecided`` and ``why`` says why. ``confirm``
    (every): called on each counterexample as it is found, within the
    deadline (questions.py replays it through the kernel); what it returns
    is kept in ``confirmed``, None makes the answer undecided."""
    if contained(a, b):
        return Implication(True, why="every Allow of the first policy is in the second, "
                                     "and every Deny of the second is in the first")
    deadline = Deadline.of(deadline)
    with A.no_cyclic_gc():
        try:
            return _implies(a, b, deadline, typed, every, confirm)
        except Timeout:
            return Implication(None, why=deadline.why)


def _implies(a: Policy, b: Policy, deadline: Deadline, typed: bool, every: bool = False,
             confirm=None) -> Implication:
    everything = [*a.statements, *b.statements]
    keys = V.free_keys(everything)
    if not keys:
        return _implies_under(a, b, None, deadline, typed, every, confirm)
    # Variables whose keys nothing fixes (variables.py): the first policy
    # widened and the second narrowed over every value, then values in turn
    # (a counterexample under one is a real one; none proves nothing).
    wide, narrow = V.bound(a, wider=True), V.bound(b, wider=False)
    if wide is not None and narrow is not None:
        result = _implies_under(wide, narrow, None, deadline, typed)
        if result.holds is True:
            result.why = "contained whatever the values of " + ", ".join(keys)
            return result
    for values in V.assignments(keys, everything):
        # every: the classes new under the first values that show any (a
        # class new only under other values is not listed: said in the README)
        result = _implies_under(a, b, values, deadline, typed, every, confirm)
        if result.holds is not True:
            return result
    return Implication(None, why=V.tried(keys, everything))


def _implies_under(a: Policy, b: Policy, values: dict | None, deadline: Deadline, typed: bool,
                   every: bool = False, confirm=None) -> Implication:
    """``implies`` with the keys of ``values`` fixed to them (None: none)."""
    deadline.check()
    statements = [(st.action, st.not_action) for p in (a, b) for st in p.statements]
    relevant = frozenset().union(*(relevant_actions(st.action, st.not_action, deadline=deadline)
                                   for st in a.statements if st.effect is Effect.ALLOW)) \
        if any(st.effect is Effect.ALLOW for st in a.statements) else frozenset()
    try:
        if typed:
            classes = action_classes(statements, relevant, deadline=deadline) + uncatalogued_classes(statements)
        else:
            wanted = [p is a and st.effect is Effect.ALLOW for p in (a, b) for st in p.statements]
            classes = untyped_action_classes(statements, wanted, deadline)
    except Unsupported as e:
        return Implication(None, why=str(e))
    result = Implication(True, classes=len(classes))
    try:
        principals = representative_callers(a, b)
        username = next((v for k, v in (values or {}).items() if k.lower() == "aws:username"), None)
        if isinstance(username, str) and _USER_NAME.fullmatch(username):
            # The witness user is the user the name names.
            principals = [f"arn:aws:iam::{WITNESS_ACCOUNT}:user/{username}" if p == WITNESS_PRINCIPAL else p
                          for p in principals]
        callers = [(p, read_caller(p)) for p in principals]
    except (Unsupported, ScenarioError) as e:
        return Implication(None, why=str(e))
    fixed = RequestContext(values) if values else None
    search = _Search(C.SymbolicContext(elements=_set_elements(a, b), fixed=fixed), deadline, result)
    try:
        if every:
            return _every_class(a, b, callers, classes, values, search, confirm)
        return _each_class(a, b, callers, classes, values, search)
    except Timeout:
        if result.counterexamples:  # found before the deadline: real, and the rest unknown
            return _stopped(result, deadline.why)
        return Implication(None, why=deadline.why, classes=len(classes), solver_calls=result.solver_calls)
    finally:
        search.release()


def _each_class(a: Policy, b: Policy, callers: list, classes: list, values: dict | None,
                search: "_Search") -> Implication:
    result = search.stats
    for (principal, caller), cls in ((c, k) for c in callers for k in classes):
        search.deadline.check()
        try:
            found = _class_counterexample(a, b, cls, caller, principal, search)
        except Unsupported as e:
            return Implication(None, why=str(e), classes=len(classes), solver_calls=result.solver_calls)
        if found is not None:
            found.context.update((k, v) for k, v in (values or {}).items() if v != [])
            result.holds = False
            result.counterexample = found
            return result
    return result


def _every_class(a: Policy, b: Policy, callers: list, classes: list, values: dict | None,
                 search: "_Search", confirm=None) -> Implication:
    """One counterexample per action class that has one (for any caller):
    class by class, so that a class is either listed, proven not new, or
    counted undecided when the search stops."""
    result = search.stats
    result.undecided = len(classes)
    for cls in classes:
        for principal, caller in callers:
            search.deadline.check()
            try:
                found = _class_counterexample(a, b, cls, caller, principal, search)
            except Unsupported as e:
                if result.counterexamples:
                    return _stopped(result, str(e))
                return Implication(None, why=str(e), classes=len(classes), solver_calls=result.solver_calls)
            if found is not None:
                found.context.update((k, v) for k, v in (values or {}).items() if v != [])
                if confirm is not None:
                    confirmed = confirm(found)
                    if confirmed is None:
                        return Implication(None, why="internal error: the kernel does not confirm the solver's "
                                                     f"witness {found}", classes=len(classes))
                    result.confirmed.append(confirmed)
                result.counterexamples.append(found)
                break
        result.undecided -= 1
    if result.counterexamples:
        result.holds = False
        result.counterexample = result.counterexamples[0]
    return result


def _stopped(result: Implication, why: str) -> Implication:
    """Counterexamples found before the search stopped: the implication
    fails (they are real), the classes left are undecided, with why."""
    result.holds = False
    result.counterexample = result.counterexamples[0]
    result.why = why
    return result


# An IAM user name (the characters CreateUser accepts).
_USER_NAME = re.compile(r"[\w+=,.@-]{1,64}")


def _set_elements(*policies: Policy) -> dict[str, int]:
    """How many values to model per key: one per distinct set-operator
    clause on it (conditions.py explains why that many suffice; clauses that
    say the same thing share their value)."""
    clauses: dict[str, set] = {}
    unreadable: set[str] = set()
    for p in policies:
        for st in p.statements:
            for clause in st.condition:
                if clause.operator.qualifier is not None:
                    clauses.setdefault(clause.key.lower(), set()).add(clause_key(clause))
                    op = OPERATORS.get(clause.operator.base) if clause.operator.base else None
                    if op is not None and op.value_type is not ValueType.STRING:
                        unreadable.add(clause.key.lower())
    # Values that may be unreadable: one more, for a value the kernel stops
    # at before the others (conditions.py _qualified_readable).
    return {key: len(found) + (key in unreadable) for key, found in clauses.items()}


@dataclass
class _Assignment:
    truth: dict  # block formula id → bool
    context: dict  # a request context realising it


class _Assignments:
    """The consistent truth assignments of a set of condition blocks, found
    one at a time and remembered (many action classes and callers share the
    same blocks). Z3 chooses the blocks' truth with the arithmetic and the
    string atoms' truth; the glob automata then find each string value with
    exactly those memberships, or refute them (a clause Z3 learns)."""

    def __init__(self, search: "_Search", blocks: dict, prefer: dict | None = None):
        ctx = search.ctx
        self.search, self.blocks = search, blocks
        # prefer: block id → the truth that can only help (stack.py: an
        # Allow's block true, a Deny's false; the rules are monotone, which
        # tests/test_kernel_properties.py proves). Then only assignments no
        # found one dominates are enumerated, each pushed towards its best.
        self.prefer = prefer
        keys = frozenset().union(*(ctx.reads[i][0] for i in blocks)) if blocks else frozenset()
        self.atoms = frozenset().union(*(ctx.reads[i][1] for i in blocks)) if blocks else frozenset()
        self.keys = sorted(keys)
        self.names = {i: z3.Bool(f"block{i}") for i in blocks}
        self.solver = z3.Solver()
        for i, c in blocks.items():
            self.solver.add(self.names[i] == c)
        self.solver.add(*ctx.realistic(self.keys))
        self.found: list[_Assignment] = []
        self.done = False

    def get(self, k: int) -> _Assignment | None:
        while len(self.found) <= k and not self.done:
            self._next()
        return self.found[k] if k < len(self.found) else None

    def _next(self) -> None:
        ctx, solver, stats = self.search.ctx, self.solver, self.search.stats
        while True:
            solver.set("timeout", self.search.deadline.solver_ms())
            stats.solver_calls += 1
            # Witnesses carry one address, not a network, where one will do.
            single = ctx.single_addresses(self.keys)
            verdict = solver.check(*single)
            if verdict == z3.unsat and single:
                stats.solver_calls += 1
                single = []
                verdict = solver.check()
            if verdict == z3.unknown:
                raise Timeout()
            if verdict == z3.unsat:
                self.done = True
                return
            model = solver.model()
            if self.prefer:
                model = self._improve(model, single)
            strings, refuted = {}, False
            for var, constraints in C.string_constraints(ctx, self.atoms, model).items():
                value = A.find_string(tuple(t for _, t, _ in constraints), tuple(w for _, _, w in constraints),
                                      deadline=self.search.deadline)
                if value is False:
                    raise Timeout()
                if value is None:  # no string has these memberships: never again
                    solver.add(z3.Or(*[atom != z3.BoolVal(w) for atom, _, w in constraints]))
                    refuted = True
                    break
                strings[var] = value
            if refuted:
                continue
            truth = {i: z3.is_true(model.eval(n, model_completion=True)) for i, n in self.names.items()}
            context = {}
            for key in self.keys:
                value = C.witness_value(ctx, model, key, strings)
                if value is not None:
                    context[ctx.spelling.get(key, key)] = value
            self.found.append(_Assignment(truth, context))
            if self.prefer:
                better = [n == z3.BoolVal(self.prefer[i]) if self.prefer.get(i) is not None
                          else n != z3.BoolVal(truth[i])
                          for i, n in self.names.items() if self.prefer.get(i) != truth[i]]
                if not better:
                    self.done = True
                else:
                    solver.add(z3.Or(*better))
            elif not self.names:
                self.done = True
            else:
                solver.add(z3.Or(*[n != z3.BoolVal(truth[i]) for i, n in self.names.items()]))
            return

    def _improve(self, model: z3.ModelRef, held: list) -> z3.ModelRef:
        """Greedily move each block towards its preferred truth while the
        constraints (and the assumptions ``held`` the model satisfies) allow."""
        held = list(held)
        for i, want in self.prefer.items():
            if want is None or z3.is_true(model.eval(self.names[i], model_completion=True)) == want:
                if want is not None:
                    held.append(self.names[i] == z3.BoolVal(want))
                continue
            trial = held + [self.names[i] == z3.BoolVal(want)]
            self.search.stats.solver_calls += 1
            self.solver.set("timeout", self.search.deadline.solver_ms())
            if self.solver.check(*trial) == z3.sat:
                held, model = trial, self.solver.model()
        return model


@dataclass
class _Search:
    ctx: C.SymbolicContext
    deadline: Deadline
    stats: Implication
    blocks: dict = field(default_factory=dict)  # statement id → its condition block formula
    assignments: dict = field(default_factory=dict)  # frozenset of block ids → _Assignments
    memo: dict = field(default_factory=dict)  # stack.py: per statement and caller, what the question fixes

    def release(self) -> None:
        """Drop every Z3 object now. Each _Assignments points back at its
        search, a cycle only the cyclic collector would free — in whatever
        thread it next runs, perhaps while another thread solves (Z3's
        context is not thread-safe: a crash in Z3_dec_ref)."""
        self.assignments.clear()
        self.blocks.clear()
        self.memo.clear()


def _class_counterexample(a: Policy, b: Policy, cls: ActionClass, caller: Caller, principal: str | None,
                          search: _Search) -> Counterexample | None:
    ctx = search.ctx
    side_a, side_b = _side(a, cls, ctx, caller, search.blocks), _side(b, cls, ctx, caller, search.blocks)
    if not side_a.allows:
        return None
    if not cls.typed:
        formats = A.ANY_REQUEST_RESOURCE.globs
    elif cls.arn_formats:
        formats = tuple(g for f in cls.arn_formats for g in A.format_globs(f))
    else:
        formats = ((("lit", "*"),),)  # an action without resource types takes "*"
    blocks = {}
    for c, _ in side_a.allows + side_a.denies + side_b.allows + side_b.denies:
        if c is not None:
            blocks[c.get_id()] = c
    if len(blocks) > MAX_CONDITION_BLOCKS:
        raise Unsupported(f"{len(blocks)} condition blocks on {cls.representative} (more than {MAX_CONDITION_BLOCKS})")
    key = frozenset(blocks)
    assignments = search.assignments.get(key)
    if assignments is None:
        assignments = search.assignments[key] = _Assignments(search, blocks)
    k = 0
    while (assignment := assignments.get(k)) is not None:
        k += 1
        truth = assignment.truth
        terms = _without_shared(_active(side_a.allows, truth), _active(side_a.denies, truth),
                                _active(side_b.allows, truth), _active(side_b.denies, truth))
        if not terms[0]:
            continue
        # Untyped first: when no resource at all separates the two sides, no
        # typed one does either (the common case, and the cheap question).
        answer = _solve(None, terms, search.deadline, search.stats)
        if answer is not None and formats is not None:
            answer = _solve(formats, terms, search.deadline, search.stats)
        if answer is not None:
            return Counterexample(cls.representative, answer, dict(assignment.context), principal, cls.actions)
    return None


def _without_shared(a_allow: list, a_deny: list, b_allow: list, b_deny: list) -> tuple:
    """Drop from A's Allows the patterns B also allows, when B denies nothing
    A does not: whatever A allows through them, B allows too, so a request
    only A allows must come through another of A's Allows."""
    if set(b_deny) <= set(a_deny):
        shared = set(b_allow)
        a_allow = [t for t in a_allow if t not in shared]
    return a_allow, a_deny, b_allow, b_deny


def _solve(formats, terms, deadline: Deadline, stats: Implication) -> str | None:
    """A resource the question admits, or None if there is none; Timeout
    when the search does not finish in time."""
    deadline.check()
    stats.solver_calls += 1
    answer = A.find(formats, *terms, deadline=deadline)
    if answer is False:
        raise Timeout()
    if answer is not None and formats is not None:
        answer = A.realistic(answer, [A.Term(formats), *(t for side in terms for t in side)])
    return answer
