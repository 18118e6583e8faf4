"""The symbolic side of kernel/engine.py's ``Engine.decide``: is there any
request, among those a question leaves open, that a whole policy set allows?

The kernel matches statements and hands the layer-level signature to the
Datalog rules, which decide. Here, per caller and per action class, every
statement that can apply becomes a term over the resource (its Resource or
NotResource globs) gated by its condition block; Z3 chooses the blocks' truth
(conditions.py), and the glob automata search the resource strings, reading
for each candidate the same signature the kernel would build — which layers
allow, which deny, how the resource policy names the caller, whether the
resource is in the caller's account and must allow itself — and asking the
rules' own outcome for it (rules.outcome, cached). The decision procedure is
not restated: the search only finds memberships; the rules say "allow".
"""

from __future__ import annotations

import json
import weakref
from dataclasses import dataclass, field
from typing import NamedTuple

from ..kernel.catalogue import CATALOGUE
from ..kernel.conditions import keys_read
from ..kernel.context import RequestContext
from ..kernel.engine import Engine, PolicyLayer, principal_match
from ..kernel.plan import GRANT_BITS
from ..kernel.principals import Caller, read_caller
from ..kernel.request import (_TRUST_ACTIONS, NO_AUTHORIZATION, REFUSED, needs_no_authorization,
                              refused_callers)
from ..kernel.rules import outcome
from ..translator.model import Effect
from . import automata as A
from . import conditions as C
from . import variables as V
from .serial import retire, serialised
from .deadline import Deadline, Timeout
from .engine import EVERYTHING, Implication, _Assignments, _Search, _set_elements, _term
from .matching import (ActionClass, Unsupported, action_classes, single_class, uncatalogued_classes,
                       untyped_action_classes)


# Only undominated assignments are enumerated here (engine._Assignments), so
# more blocks are tractable than for the implication.
MAX_STACK_BLOCKS = 40

# Statement entries kept per policy set and question shape, at most (each a
# few hundred bytes; the encodings they point to stay shared).
MAX_MEMO = 200_000

# Keys derived from the caller alone (principals.Caller.derived_context).
CALLER_KEYS = ("aws:PrincipalArn", "aws:PrincipalAccount", "aws:PrincipalType", "aws:username",
               "aws:PrincipalIsAWSService", "aws:PrincipalServiceName")


@dataclass
class Open:
    """The request a question asks about: each of principal, action and
    resource is fixed (a string), a pattern (``*``/``?`` wildcards), or free
    (None); ``context`` fixes some keys and leaves the others free."""

    principals: list[str | None]
    action: str | None = None
    resource: str | None = None
    resource_account: str | None = None
    context: dict = field(default_factory=dict)
    derive_context: bool = True


@dataclass
class Found:
    principal: str | None
    action: str
    resource: str
    context: dict


def _nc_star():
    return ("star", A.NOT_COLON)


def _arn_with(service: str | None = None, account: str | None = None, prefix: str | None = None,
              digits: bool = False) -> A.Glob:
    """The glob of six-part ARNs with the given service, account, or
    resource prefix (what request.resource_account_of and
    request.resource_must_allow_itself read off an ARN)."""
    items = [_nc_star(), ("lit", ":"), _nc_star(), ("lit", ":")]
    items += [("lit", c) for c in service] if service else [_nc_star()]
    items += [("lit", ":"), _nc_star(), ("lit", ":")]
    if account:
        items += [("lit", c) for c in account]
    elif digits:
        items += [("one", A.DIGIT)] * 12
    else:
        items.append(_nc_star())
    items.append(("lit", ":"))
    items += [("lit", c) for c in prefix or ""] + [("star", A.ANY)]
    return tuple(items)


# The encoded condition blocks and their enumerated assignments, per policy
# set and per question shape: a research script asking one engine thousands
# of questions encodes each block once. (Blocks are encoded under the
# question's fixed context, which the key therefore holds.) Held by the
# policy set's identity, weakly: when the set is freed its searches are
# retired, their Z3 objects freed under the proofs' lock (serial.py).
_SEARCHES: dict[int, tuple[weakref.ref, "_Searches"]] = {}


class _Searches(dict):
    """One policy set's searches, by question shape."""

    def release(self) -> None:
        for search in self.values():
            search.release()
        self.clear()


def _searches_of(engine: Engine) -> _Searches:
    key = id(engine)
    held = _SEARCHES.get(key)
    if held is None or held[0]() is not engine:
        held = _SEARCHES[key] = (weakref.ref(engine, lambda _, key=key: retire(_SEARCHES.pop(key, (0, None))[1])),
                                 _Searches())
    return held[1]


def _search_for(engine: Engine, question: Open) -> _Search:
    # Not keyed by the callers: what differs between them is keyed by the
    # caller where it is kept (statement entries, assignments of blocks that
    # read the caller's keys), and the rest is shared.
    key = (json.dumps(question.context, sort_keys=True, default=str), question.derive_context)
    searches = _searches_of(engine)
    search = searches.get(key)
    if search is None:
        if len(searches) > 256:
            searches.release()
        # Set operators need as many values per key as there are qualified
        # clauses on it (conditions.py): read off every policy of the set.
        elements = _set_elements(*(p for layer in engine.layers for _, p in layer.policies))
        search = searches[key] = _Search(C.SymbolicContext(elements=elements), Deadline(0), Implication(False))
    elif len(search.memo) > MAX_MEMO:  # a script asking about thousands of callers
        search.memo.clear()
    return search


@serialised
def can_be_allowed(engine: Engine, question: Open, deadline: Deadline | int = 30_000,
                   ignore: frozenset[str] = frozenset(), typed: bool = True) -> Implication:
    """``holds`` True: some request is allowed (``counterexample`` is it, as
    a Found); False: none is; None: undecided (``why``). Layers in ``ignore``
    are read as allowing everything and denying nothing (to name the layer
    that forbids). ``typed`` False: actions and resources are any strings.
    ``deadline``: the question's Deadline, or a time limit in milliseconds."""
    deadline = Deadline.of(deadline)
    with A.no_cyclic_gc():
        try:
            keys = _free_keys(engine, question)
            if not keys:
                return _can_be_allowed(engine, question, deadline, ignore, typed)
            return _with_free_variables(engine, question, keys, deadline, ignore, typed)
        except Timeout:
            return Implication(None, why=deadline.why)


def _free_keys(engine: Engine, question: Open) -> list[str]:
    """The keys of policy variables the question fixes no value for (a
    caller's own keys are fixed when the context is derived from it)."""
    fixed = {k.lower() for k in question.context}
    if question.derive_context:
        fixed |= {k.lower() for k in CALLER_KEYS}
    keys = _variable_keys.get(engine)
    if keys is None:
        keys = _variable_keys[engine] = V.free_keys([st for facts in engine._facts.values() for st in facts])
    return [k for k in keys if k.lower() not in fixed]


# The keys of the variables each policy set's statements use.
_variable_keys: "weakref.WeakKeyDictionary[Engine, list[str]]" = weakref.WeakKeyDictionary()


def _with_free_variables(engine: Engine, question: Open, keys: list[str], deadline: Deadline,
                         ignore: frozenset[str], typed: bool) -> Implication:
    """variables.py: never, when nothing is allowed even with every policy
    read as widely as any values make it; allowed, when a request is under
    one of the values tried; else undecided."""
    wide = _wide(engine)
    if wide is not None:
        result = _can_be_allowed(wide, question, deadline, ignore, typed)
        if result.holds is False:
            result.why = "never, whatever the values of " + ", ".join(keys)
            return result
    everything = [st for facts in engine._facts.values() for st in facts]
    for values in V.assignments(keys, everything):
        asked = Open(question.principals, question.action, question.resource, question.resource_account,
                     {**question.context, **values}, question.derive_context)
        result = _can_be_allowed(engine, asked, deadline, ignore, typed)
        if result.holds is not False:
            return result
    return Implication(None, why=V.tried(keys, everything))


def _wide(engine: Engine) -> Engine | None:
    """The policy set with every policy read as widely as any values of its
    variables make it (variables.bound), built once; None when a variable
    sits where no such reading is written."""
    if engine not in _bounds:
        layers = [PolicyLayer(layer.name, layer.label, [(pid, V.bound(p, wider=True)) for pid, p in layer.policies])
                  for layer in engine.layers]
        whole = all(p is not None for layer in layers for _, p in layer.policies)
        _bounds[engine] = Engine(layers) if whole else None
    return _bounds[engine]


# The widened policy sets of variables.py, per policy set asked about.
_bounds: "weakref.WeakKeyDictionary[Engine, Engine | None]" = weakref.WeakKeyDictionary()


def _can_be_allowed(engine: Engine, question: Open, deadline: Deadline, ignore: frozenset[str],
                    typed: bool) -> Implication:
    deadline.check()
    result = Implication(False)
    search = _search_for(engine, question)
    search.deadline, search.stats = deadline, result
    fixed_action = question.action is not None and "*" not in question.action and "?" not in question.action
    try:
        if fixed_action:  # (the statements need not be read)
            classes = [single_class(question.action) if typed else ActionClass((question.action,), (), typed=False)]
        else:
            statements = [(st.action, st.not_action) for facts in engine._facts.values() for st in facts]
            if typed:
                relevant = frozenset(a.lower() for a in CATALOGUE.expand(question.action or "*"))
                classes = action_classes(statements, relevant, deadline=deadline) if relevant else []
                classes += uncatalogued_classes(statements, question.action)
            elif question.action is None:
                classes = untyped_action_classes(statements + _SPECIAL_ACTION_PATTERNS, deadline=deadline)
            else:  # a pattern: the classes inside it
                classes = untyped_action_classes(statements + _SPECIAL_ACTION_PATTERNS + [((question.action,), None)],
                                                 [False] * (len(statements) + len(_SPECIAL_ACTION_PATTERNS)) + [True],
                                                 deadline)
        for principal in question.principals:
            deadline.check()
            caller = read_caller(principal)
            exempt = any(needs_no_authorization(cls.representative) for cls in classes)
            may = search.memo.get(("may", principal, ignore, exempt))
            if may is None:
                may = search.memo[("may", principal, ignore, exempt)] = _may_be_allowed(engine, caller, ignore, exempt)
            if not may:
                continue
            for cls in classes:
                deadline.check()
                found = _class_allowed(engine, question, principal, caller, cls, search, ignore)
                if found is not None:
                    result.holds = True
                    result.counterexample = found
                    return result
    except Unsupported as e:
        return Implication(None, why=str(e), solver_calls=result.solver_calls)
    return result


def _entry(st, layer: str, bit: int, caller: Caller, has_boundary: bool, fixed: RequestContext,
           ctx: C.SymbolicContext, memo: dict):
    """(dedup key, _Entry) for a statement that can apply to the caller;
    False when it cannot."""
    how = principal_match(st, layer == "resource", caller, has_boundary)
    if how is None:
        return False
    patterns = st.resource if st.resource is not None else st.not_resource
    if patterns is None:
        term = EVERYTHING
    elif any(p.resource is not None and any(type(x) is not str for x in p.resource) for p in patterns):
        term = _term(patterns, negated=st.resource is None, fixed=fixed)  # the caller's values substituted
    else:  # the same for every caller
        term = memo.get(("term", id(st)))
        if term is None:
            term = memo[("term", id(st))] = _term(patterns, negated=st.resource is None)
    condition = ctx.block(st.condition) if st.condition else None
    grant = GRANT_BITS[how] if (layer == "resource" and how and st.effect is Effect.ALLOW) else 0
    key = (bit, st.effect, grant, None if condition is None else condition.get_id(), term)
    return key, _Entry(bit, st.effect, grant, condition, term)


# Untyped classes keep apart the actions no policy controls and those some
# callers cannot call: the rules decide them differently (kernel/rules.py).
_SPECIAL_ACTION_PATTERNS = [((action,), None) for action in (*NO_AUTHORIZATION, *REFUSED, "iam:*", "sts:*")]

# The keys a caller's identity sets (principals.Caller.derived_context), lower-cased.
_CALLER_DEPENDENT_KEYS = frozenset(k.lower() for k in (*CALLER_KEYS, "aws:userid"))


def _caller_independent(st) -> bool:
    """Whether what the statement is to a question is the same for every
    caller: no Principal or NotPrincipal, no policy variable in its
    Resource/NotResource, no condition on a key the caller's identity sets."""
    if st.principal is not None or st.not_principal is not None:
        return False
    patterns = st.resource if st.resource is not None else st.not_resource or ()
    if any(p.resource is not None and any(type(x) is not str for x in p.resource) for p in patterns):
        return False
    return not any(k in _CALLER_DEPENDENT_KEYS for clause in st.condition or () for k in keys_read(clause))


def _may_be_allowed(engine: Engine, caller: Caller, ignore: frozenset[str], no_authorization: bool) -> bool:
    """Whether the rules allow anything at all for this caller in the best
    case: every Allow statement that names it matching, no Deny
    (``no_authorization``: for an action no policy controls)."""
    bits = engine._bits
    applies = engine._applies_mask(caller)
    has_boundary = bool(applies & bits.get("boundary", 0))
    allows = grants = 0
    for layer, facts in engine._facts.items():
        bit = bits[layer]
        if not applies & bit:
            continue
        if layer in ignore:
            allows |= bit
            continue
        for st in facts:
            if st.effect is Effect.ALLOW:
                how = principal_match(st, layer == "resource", caller, has_boundary)
                if how is not None:
                    allows |= bit
                    if layer == "resource" and how:
                        grants |= GRANT_BITS[how]
                    elif layer != "resource":
                        break  # the layer allows; nothing more to learn from it
    accounts = (None,) if caller.account is None else (True, False)
    return any(outcome(engine._signature((caller.kind, same, must, applies, allows, 0, grants, no_authorization,
                                          frozenset())))
               .decision == "allow" for same in accounts for must in (False, True))


class _Entry(NamedTuple):
    """A statement as the search reads it: its layer's bit, effect, the
    grant bits it adds (a resource policy's Allow naming the caller), its
    condition block (None: unconditional) and its resource term."""

    bit: int
    effect: Effect
    grant: int
    condition: object
    term: A.Term


# The settings of the three facts the resource string decides besides the
# statements: it has an account, it is in the caller's, it must allow itself.
_SETTINGS = [(h, i, m) for h in (False, True) for i in (False, True) for m in (False, True)]


def _class_allowed(engine: Engine, question: Open, principal, caller: Caller, cls: ActionClass, search: _Search,
                   ignore: frozenset[str]) -> Found | None:
    return _ClassSearch(engine, question, principal, caller, cls, search, ignore).run()


class _ClassSearch:
    """One caller and one action class of a question: the statements that
    can apply (entries), the terms the resource string decides besides them
    (base terms: the action's ARN formats, the question's resource, whether
    it names an account, the caller's, whether it must allow itself), and
    the search for a resource and a condition assignment the rules allow."""

    def __init__(self, engine: Engine, question: Open, principal, caller: Caller, cls: ActionClass,
                 search: _Search, ignore: frozenset[str]):
        self.engine, self.question, self.principal, self.caller = engine, question, principal, caller
        self.search, self.action = search, cls.representative
        self.applies = engine._applies_mask(caller)
        bits = engine._bits
        self.ignored = sum(bits[name] for name in ignore if name in bits)
        self.resource_bit = bits.get("resource", 0)
        self.entries = self._entries(ignore)
        self.fixed_terms = self._fixed_terms(cls)
        self.n_fixed = len(self.fixed_terms)
        self.required = list(range(self.n_fixed))
        account_terms = [A.Term((_arn_with(digits=True),)),
                         A.Term((_arn_with(account=caller.account),)) if caller.account else A.Term(())]
        must_allow_term = A.Term(())
        if self.action.lower() in _TRUST_ACTIONS:
            must_allow_term = A.Term((_arn_with(service="iam", prefix="role/"),))
        elif self.action.lower().startswith("kms:"):
            must_allow_term = A.Term((_arn_with(service="kms", prefix="key/"),))
        self.base = self.fixed_terms + account_terms + [must_allow_term]
        self.n_base = len(self.base)
        self.blocks, self.prefer = _blocks_of(self.entries)
        if len(self.blocks) > MAX_STACK_BLOCKS:
            raise Unsupported(f"{len(self.blocks)} condition blocks on {self.action} (more than {MAX_STACK_BLOCKS})")
        self.outcomes: dict = {}

    def _entries(self, ignore: frozenset[str]) -> list[_Entry]:
        """Every statement that can apply to the caller and the action, each
        meaning once (statements that say the same thing count once)."""
        engine, question, caller, search = self.engine, self.question, self.caller, self.search
        ctx = search.ctx
        fixed = RequestContext(question.context)
        if question.derive_context:
            # The keys AWS sets from the caller's identity are not the caller's
            # to choose: derived as the kernel derives them, absent (an empty
            # list) where the caller has none; the question's own values win.
            derived = caller.derived_context()
            fixed = RequestContext({**{k: [] for k in CALLER_KEYS}, **derived, **question.context})
        ctx.fixed = fixed
        bits = engine._bits
        has_boundary = bool(self.applies & bits.get("boundary", 0))
        entries, seen = [], set()
        deadline = search.deadline
        try:
            for layer, candidates in engine._candidates(self.action):
                bit = bits[layer]
                if not self.applies & bit or layer in ignore:
                    continue
                for n, st in enumerate(candidates):
                    if not n & 255:
                        deadline.check()  # thousands of statements, each encoded once
                    # What a statement is for this caller does not change from
                    # one question to the next (the search is kept per question
                    # shape); for most statements, nor from caller to caller.
                    independent = search.memo.get(("independent", id(st)))
                    if independent is None:
                        independent = search.memo[("independent", id(st))] = _caller_independent(st)
                    memo_key = ("entry", id(st), None if independent else self.principal, layer)
                    known = search.memo.get(memo_key)
                    if known is None:
                        known = search.memo[memo_key] = _entry(st, layer, bit, caller, has_boundary, fixed, ctx,
                                                               search.memo)
                    if known is False:
                        continue
                    key, entry = known
                    if key not in seen:
                        seen.add(key)
                        entries.append(entry)
        finally:
            ctx.fixed = None
        return entries

    def _fixed_terms(self, cls: ActionClass) -> list[A.Term]:
        """What the resource must match whatever the statements: the
        action's ARN formats, and the question's resource pattern."""
        if not cls.typed:
            terms = [A.ANY_REQUEST_RESOURCE]
        elif cls.arn_formats:
            terms = [A.Term(tuple(g for f in cls.arn_formats for g in A.format_globs(f)))]
        else:
            terms = [A.Term(((("lit", "*"),),))]  # an action without resource types takes "*"
        resource = self.question.resource
        if resource is not None:
            asked = (A.resource_glob(resource),) if resource != "*" else ((("lit", "*"),),)
            if ("*" not in resource and "?" not in resource and A.member(A.ANY_REQUEST_RESOURCE, resource)
                    and not A.member(terms[0], resource)):
                # A resource the question names (one a request can name) is
                # in the universe, whatever the catalogue says of the
                # action's resource types.
                terms[0] = A.Term(terms[0].globs + asked)
            terms.append(A.Term(asked))
        return terms

    # ------------------------------------------------------------ the rules

    def decide(self, allows: int, denies: int, grants: int, has_account: bool, in_caller_account: bool,
               must_allow: bool) -> bool:
        """The rules' decision for these layer-level facts (as Engine.decide
        builds its signature)."""
        allows |= self.ignored & self.applies
        if denies:
            # With a Deny the Allows cannot change the rules' decision (deny
            # wins, proven for every signature in tests/test_kernel_properties.py):
            # dropping them only lets more memberships share one signature.
            allows = grants = 0
        caller, question = self.caller, self.question
        if caller.account is None:
            same_account = None
        elif question.resource_account is not None:
            same_account = question.resource_account == caller.account
        else:
            same_account = in_caller_account if has_account else True
        signature_key = (caller.kind, same_account, must_allow, self.applies, allows, denies, grants,
                         needs_no_authorization(self.action), refused_callers(self.action))
        decision = self.outcomes.get(signature_key)
        if decision is None:
            decision = self.outcomes[signature_key] = outcome(self.engine._signature(signature_key)).decision
        return decision == "allow"

    def allowed(self, values, active: list[_Entry]) -> bool:
        """The rules' decision for a resource with these memberships (one
        per base term, then one per active entry)."""
        n_fixed, n_base = self.n_fixed, self.n_base
        if not all(values[:n_fixed]):
            return False
        allows = denies = grants = 0
        for e, hit in zip(active, values[n_base:]):
            if hit:
                if e.effect is Effect.ALLOW:
                    allows |= e.bit
                    grants |= e.grant
                else:
                    denies |= e.bit
        return self.decide(allows, denies, grants, *values[n_fixed:n_base])

    def allowed_at(self, resource: str, active: list[_Entry]) -> bool:
        """Whether the rules allow ``resource`` itself under these entries
        (``allowed`` on its memberships; a statement whose layer already has
        what it would add is not read)."""
        if not all(A.member(term, resource) for term in self.base[:self.n_fixed]):
            return False
        allows = denies = grants = 0
        for e in active:
            if e.effect is Effect.ALLOW:
                if allows & e.bit and grants & e.grant == e.grant:
                    continue
                if A.member(e.term, resource):
                    allows |= e.bit
                    grants |= e.grant
            elif not denies & e.bit and A.member(e.term, resource):
                denies |= e.bit
        return self.decide(allows, denies, grants, *(A.member(term, resource) for term in self.base[self.n_fixed:]))

    def best_settings(self, active: list[_Entry], without: int = 0, denying: int = 0) -> list[tuple]:
        """The settings of the three resource-decided facts under which some
        membership could be allowed: every active Allow matching (but those
        of the layers ``without``), only the certain Denies (and those of the
        layers ``denying``)."""
        allows = grants = 0
        denies = denying
        for e in active:
            if e.effect is Effect.ALLOW and not e.bit & without:
                allows |= e.bit
                grants |= e.grant
            elif e.effect is Effect.DENY and e.term == EVERYTHING:
                denies |= e.bit
        if without & self.resource_bit:
            grants = 0
        return [setting for setting in _SETTINGS if self.decide(allows, denies, grants, *setting)]

    def resource_facts(self, possible: list[tuple]) -> tuple[list[int], list[int]] | None:
        """Which resource-decided facts every allowed setting has (required)
        and which none has (forbidden), as indexes into the base terms; None
        when no resource can have what every allowed setting needs (or no
        setting is allowed)."""
        if not possible:
            return None
        required_now, forbidden = list(self.required), []
        for j in range(3):
            index = self.n_fixed + j
            never = not self.base[index].globs  # e.g. no resource must allow itself for this action
            if not any(setting[j] for setting in possible):
                if not never:
                    forbidden.append(index)
            elif all(setting[j] for setting in possible):
                if never:
                    return None
                required_now.append(index)
        return required_now, forbidden

    # ------------------------------------------------------------ the search

    def run(self) -> Found | None:
        """A request of this caller and action class the rules allow, or
        None when there is none."""
        entries = self.entries
        # Monotone upper bound: every Allow as if its condition held, only the
        # unconditional Denies. If no resource is allowed even so, none is; the
        # resource found is tried first under each condition assignment.
        upper = [e for e in entries if e.effect is Effect.ALLOW or e.condition is None]
        candidate = self.resource_for(upper)
        if candidate is None:
            return None
        # The candidate first, with only its own statements' blocks (the
        # others' patterns miss it, whatever their conditions): a smaller
        # problem, shared by every question whose candidate the same
        # statements name. Its most favourable assignment usually allows it.
        own = [e for e in entries if A.member(e.term, candidate)]
        own_blocks, own_prefer = _blocks_of(own)
        if not own_blocks:
            return self._found(candidate, {})
        first = self._assignments(own_blocks, own_prefer).get(0)
        if first is not None and self.allowed_at(candidate, _holding(own, first.truth)):
            return self._found(candidate, first.context)
        assignments = self._assignments(self.blocks, self.prefer)
        k = 0
        while (assignment := assignments.get(k)) is not None:
            k += 1
            self.search.deadline.check()
            active = _holding(entries, assignment.truth)
            answer = candidate if self.allowed_at(candidate, active) else self.resource_for(active)
            if answer is not None:
                return self._found(answer, assignment.context)
        return None

    def _found(self, resource: str, context: dict) -> Found:
        return Found(self.principal, self.action, resource, {**self.question.context, **context})

    def _assignments(self, blocks: dict, prefer: dict) -> _Assignments:
        key = ("stack", frozenset(blocks), tuple(sorted(prefer.items(), key=lambda kv: kv[0])))
        found = self.search.assignments.get(key)
        if found is None:
            found = self.search.assignments[key] = _Assignments(self.search, blocks, prefer)
        return found

    def resource_for(self, active: list[_Entry]) -> str | None:
        """A resource the rules allow when exactly the ``active`` entries'
        conditions hold (each entry then applies iff its term matches)."""
        if not self.best_settings(active):
            return None  # no resource can help: the layers' Allows or Denies decide
        active = _merged(active)
        # A Deny whose match the rules let nothing through with (explicit
        # deny wins, as the rules decide it) need not be told apart by layer:
        # the resource must miss all of them, one term, pruned as soon as it
        # is certain to match.
        killing = [e for e in active if e.effect is Effect.DENY and not self.best_settings(active, denying=e.bit)]
        active = [e for e in active if not any(e is k for k in killing)]
        denied = tuple(dict.fromkeys(g for e in killing if not e.term.negated for g in e.term.globs))
        negated_denies = [e.term for e in killing if e.term.negated]
        # Most allowed questions are answered by the first resource one
        # needed pattern names: try a few such before the exhaustive search.
        plan = self.layout(active, ([A.Term(denied)] if denied else []) + negated_denies)
        if plan is None:
            return None
        named = self._named(*plan)
        if named is not None:
            return named
        # An Allow pattern inside another of its union, or inside a killing
        # Deny, adds no allowed resource: drop it (and an Allow left with
        # none never matches) — fewer states for the exhaustive search.
        denied = A.without_subsumed(denied)
        pruned = []
        for e in active:
            term = e.term
            if e.effect is Effect.ALLOW and not term.negated and not term.fold and term.globs:
                globs = A.without_subsumed(term.globs, denied)
                if not globs:
                    continue
                e = e._replace(term=A.Term(globs))
            pruned.append(e)
        plan = self.layout(pruned, ([A.Term(denied)] if denied else []) + negated_denies)
        if plan is None:
            return None
        active_now, terms, required_now, groups, forbidden = plan
        answer = A.search_terms(terms, lambda values: self.allowed(values, active_now), required_now, groups,
                                forbidden, deadline=self.search.deadline)
        if answer is False:
            raise Timeout()
        return answer if answer is None else A.realistic(answer, terms)

    def _named(self, active, terms, required_now, groups, forbidden) -> str | None:
        """A resource one pattern of the smallest needed group names, that
        the rules allow; None when the few tried are not."""
        if not groups:
            return None
        smallest = min(groups, key=lambda group: sum(len(terms[i].globs) for i in group))
        for glob in [g for i in smallest for g in terms[i].globs][:A.CANDIDATES]:
            named = A.named_by(glob, terms[0], self.search.deadline)
            if isinstance(named, str):
                values = [A.member(term, named) for term in terms]
                if not any(values[i] for i in forbidden) and self.allowed(values, active):
                    return A.realistic(named, terms)
        return None

    def layout(self, active: list[_Entry], forbidden_terms: list[A.Term]):
        """The search over these entries: (entries, terms, required,
        required groups, forbidden), or None when nothing can be allowed."""
        facts = self.resource_facts(self.best_settings(active))
        if facts is None:
            return None
        required_now, forbidden = facts
        n_base = self.n_base
        # A layer without which nothing is allowed must have a matching Allow:
        # prune the search where none of its patterns can still match.
        groups = []
        for bit in {e.bit for e in active if e.effect is Effect.ALLOW}:
            if not self.best_settings(active, without=bit):
                group = [n_base + i for i, e in enumerate(active) if e.bit == bit and e.effect is Effect.ALLOW]
                if not any(active[i - n_base].term.negated for i in group):
                    groups.append(group)
        terms = self.base + [e.term for e in active]
        forbidden += range(len(terms), len(terms) + len(forbidden_terms))
        terms += forbidden_terms
        # Format globs that cannot meet a pattern each needed layer (and the
        # question's resource) must match add nothing: drop them.
        formats = terms[0].globs
        for group in groups + ([[1]] if self.question.resource is not None else []):
            wanted = [g for i in group for g in terms[i].globs]
            formats = tuple(f for f in formats if any(A._may_meet(f, w) for w in wanted))
        if not formats:
            return None
        terms[0] = A.Term(formats)
        # Nor is anything allowed when no resource of these formats has the
        # facts every allowed setting needs (every KMS key must allow itself,
        # and no key policy allows): the base terms alone decide that.
        if len(required_now) > len(self.required) or any(i < n_base for i in forbidden):
            facts_met = A.search_terms(terms[:n_base], lambda values: all(values[i] for i in required_now),
                                       required_now, (), [i for i in forbidden if i < n_base],
                                       deadline=self.search.deadline)
            if facts_met is False:
                raise Timeout()
            if facts_met is None:
                return None
        return active, terms, required_now, groups, forbidden


def _holding(entries: list[_Entry], truth: dict) -> list[_Entry]:
    """The entries whose condition holds under this truth of the blocks."""
    return [e for e in entries if e.condition is None or truth[e.condition.get_id()]]


def _merged(active: list[_Entry]) -> list[_Entry]:
    """Statements of one layer, effect and grant say the same thing to the
    rules whichever of them matches: one term, the union of their globs. (A
    negated or case-folded term is kept as it is.)"""
    merged: dict = {}
    for e in active:
        plain = not e.term.negated and not e.term.fold
        merged.setdefault((e.bit, e.effect, e.grant) if plain else (e.bit, e.effect, e.grant, e.term), []).append(e)
    return [group[0] if len(group) == 1 or group[0].term.negated or group[0].term.fold else
            group[0]._replace(term=A.Term(tuple(dict.fromkeys(g for e in group for g in e.term.globs))))
            for group in merged.values()]


def _blocks_of(entries) -> tuple[dict, dict]:
    """The entries' distinct condition blocks (formula id → formula), and
    for each the truth that can only help: an Allow's block true, a Deny's
    false (None when statements of both effects share it)."""
    blocks: dict = {}
    prefer: dict = {}
    for _, effect, _, c, _ in entries:
        if c is not None:
            blocks[c.get_id()] = c
            want = effect is Effect.ALLOW
            prefer[c.get_id()] = want if prefer.get(c.get_id(), want) == want else None
    return blocks, prefer
