"""The symbolic side of kernel/matching.py: actions split into classes that
every statement treats alike (typed: from the service catalogue, with each
action's resource formats). Resource patterns are matched as glob automata
(automata.py), with the kernel's segment rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ..kernel.catalogue import CATALOGUE, Catalogue
from ..kernel.request import needs_no_authorization, refused_callers
from ..translator.model import ActionPattern
from . import automata as A
from .deadline import Deadline


class Unsupported(Exception):
    """A construct the encoding does not cover yet: the answer is UNKNOWN."""


# ---------------------------------------------------------------- actions


@dataclass(frozen=True)
class ActionClass:
    """Actions that every statement of the compared policies treats alike and
    whose resources have the same formats."""

    actions: tuple[str, ...]
    arn_formats: tuple[str, ...]  # () : the action takes only "*" (typed)
    # False: any resource string (untyped mode's classes, and in typed mode
    # an action the catalogue does not know, whose resources it cannot say)
    typed: bool = True

    @property
    def representative(self) -> str:
        return self.actions[0]


def _expansion(pattern: ActionPattern, catalogue: Catalogue, deadline: Deadline | None = None) -> frozenset[str]:
    if not getattr(pattern, "names_action", True):
        return frozenset()  # stored by IAM, names no action (SEMANTICS §7)
    if deadline is not None:
        deadline.check()  # a pass over the catalogue each: a policy may list thousands
    return _expanded(pattern.text, catalogue)


@lru_cache(maxsize=8192)
def _expanded(text: str, catalogue: Catalogue) -> frozenset[str]:
    # Policies repeat the same patterns ("s3:*", "ec2:Describe*"); reading
    # one against the whole catalogue costs a pass over every action.
    return frozenset(a.lower() for a in catalogue.expand(text))


def action_classes(statement_patterns: list[tuple[tuple[ActionPattern, ...] | None, tuple[ActionPattern, ...] | None]],
                   relevant: frozenset[str], catalogue: Catalogue = CATALOGUE,
                   deadline: Deadline | None = None) -> list[ActionClass]:
    """Split ``relevant`` actions by which statements' Action/NotAction apply
    to them, and by their resource formats."""
    expansions = []
    for action, not_action in statement_patterns:
        patterns = action if action is not None else not_action or ()
        matched = frozenset().union(*(_expansion(p, catalogue, deadline) for p in patterns)) if patterns else frozenset()
        expansions.append((matched, not_action is not None))
    by_key: dict[tuple, list[str]] = {}
    for n, full in enumerate(sorted(relevant)):
        if deadline is not None and not n & 1023:
            deadline.check()  # the whole catalogue, for a free action
        applies = tuple((full in matched) != negated for matched, negated in expansions)
        service, _, name = full.partition(":")
        details = catalogue.action(service, name)
        proper = f"{service}:{details['name']}" if details else full
        formats = tuple(sorted({fmt for _, fmt, _ in catalogue.resource_types_for(proper)}))
        # The actions no policy controls, and those some callers cannot call,
        # are decided differently by the rules: they never share a class.
        by_key.setdefault((applies, formats, needs_no_authorization(full), refused_callers(full)), []).append(proper)
    return [ActionClass(tuple(actions), key[1]) for key, actions in by_key.items()]


def single_class(action: str, catalogue: Catalogue = CATALOGUE) -> ActionClass:
    """The class of one named action (no statements need reading: every
    statement treats one action alike). An action the catalogue does not
    know is still one a request can name: on any resource."""
    service, _, name = action.partition(":")
    details = catalogue.action(service.lower(), name.lower())
    if details is None:
        return ActionClass((action,), (), typed=False)
    proper = f"{service.lower()}:{details['name']}"
    formats = tuple(sorted({fmt for _, fmt, _ in catalogue.resource_types_for(proper)}))
    return ActionClass((proper,), formats)


# What a request's action may be (kernel/request.py): a name the policies
# spell out is one only if it has this shape.
_REQUEST_ACTION = re.compile(r"[A-Za-z0-9_.\-]+:[A-Za-z0-9_.\-]+")


def uncatalogued_classes(statement_patterns, within: str | None = None,
                         catalogue: Catalogue = CATALOGUE) -> list[ActionClass]:
    """Typed mode's universe holds the catalogue's actions and every action
    the policies (or the question) spell out: one the catalogue does not
    know (a newer action, a service it lacks) is its own class, on any
    resource — the catalogue cannot say it never happens. ``within``: only
    those an action pattern (the question's) matches."""
    names: dict[str, str] = {}
    for action, not_action in statement_patterns:
        for p in action or not_action or ():
            text = getattr(p, "text", p)
            if getattr(p, "names_action", True) and _REQUEST_ACTION.fullmatch(text):
                names.setdefault(text.lower(), text)
    if within is not None:
        names = {k: v for k, v in names.items() if _action_glob_matches(within, v)}
    out = []
    for lowered, text in sorted(names.items()):
        service, _, name = lowered.partition(":")
        if catalogue.action(service, name) is None:
            out.append(ActionClass((text,), (), typed=False))
    return out


def _action_glob_matches(pattern: str, action: str) -> bool:
    """Whether an Action pattern (``*``/``?`` wildcards, no case) matches the action."""
    return A.member(A.Term((A.action_glob(pattern),), fold=True), action)


def untyped_action_classes(statement_patterns: list[tuple[tuple[ActionPattern, ...] | None,
                                                           tuple[ActionPattern, ...] | None]],
                           wanted: list[bool] | None = None, deadline: Deadline | None = None) -> list[ActionClass]:
    """Untyped mode: every ``service:Name`` string, catalogued or not, split
    by which statements' Action/NotAction apply to it (each class's shortest
    action stands for it). ``wanted``: keep only the classes to which one of
    these statements (True) applies. Patterns are ActionPatterns or their
    text."""
    terms = [A.ACTION_SHAPE]
    for action, not_action in statement_patterns:
        patterns = action if action is not None else not_action or ()
        # An entry naming no action (SEMANTICS §7) is no glob at all: read as
        # one, case folding could make "ß" match "ss".
        terms.append(A.Term(tuple(A.action_glob(getattr(p, "text", p)) for p in patterns
                                  if getattr(p, "names_action", True)), negated=not_action is not None, fold=True))
    vectors = A.membership_vectors(terms, deadline=deadline)
    if vectors is False:
        raise Unsupported("too many distinct action strings to tell apart (untyped mode)")
    # An action the policies spell out stands for its class, as written.
    for action, not_action in statement_patterns:
        for p in action or not_action or ():
            text = getattr(p, "text", p)
            if "*" not in text and "?" not in text and getattr(p, "names_action", True):
                vector = tuple(A.member(t, text) for t in terms)
                if vector in vectors:
                    vectors[vector] = text
    keep = [i for i, w in enumerate(wanted or []) if w]
    return [ActionClass((text,), (), typed=False) for vector, text in sorted(vectors.items(), key=lambda kv: kv[1])
            if wanted is None or any(vector[1 + i] for i in keep)]


def relevant_actions(patterns: tuple[ActionPattern, ...] | None, not_patterns: tuple[ActionPattern, ...] | None,
                     catalogue: Catalogue = CATALOGUE, deadline: Deadline | None = None) -> frozenset[str]:
    """The catalogue's actions a statement's Action (or NotAction) applies to."""
    if patterns is not None:
        return frozenset().union(*(_expansion(p, catalogue, deadline) for p in patterns)) if patterns else frozenset()
    excluded = frozenset().union(*(_expansion(p, catalogue, deadline) for p in not_patterns or ()))
    return _all_actions(catalogue) - excluded


@lru_cache(maxsize=2)
def _all_actions(catalogue: Catalogue) -> frozenset[str]:
    return frozenset(a.lower() for a in catalogue.expand("*"))
