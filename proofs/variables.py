"""Policy variables whose keys a question leaves free.

A variable in a Resource or a condition value (``arn:aws:s3:::b/${aws:username}/*``)
reads the request's value of its key (SEMANTICS §5: an absent key with no
default makes the entry match nothing). When the question fixes the key (a
caller's derived ``aws:username``, a scenario's context), the searches
substitute it. When it leaves the key free, the value is part of the
request being searched for, and the searches cannot range over it: the
value and the resource it is substituted into are tied together.

First, bounds that need no value: the first policy read as allowing more
than it can under any value (a variable in an Allow's Resource read as
``*``, a Deny's entries that hold one dropped) and the second as allowing
less (an Allow's such entries dropped, a Deny's variables read as ``*``; the
other way round in NotResource). If the wider first is contained in the
narrower second, so is the first in the second whatever the values: PASS.
(A narrowing to ``arn:aws:s3:::b/${aws:username}/*`` from ``arn:aws:s3:::b/*``
is proven so.)

Otherwise a few values — a fresh one, each word the policies' own patterns
spell (the values that can make a variable pattern meet a literal one, such
as a Deny on ``b/alice/*``), and absent — are each fixed in turn and the
question asked under it. A request found under any of them is a real
witness (the value is in its context, and the kernel replays it). Finding
none is not a proof for every value: the answer is then UNKNOWN, naming the
keys and the values tried.
"""

from __future__ import annotations

import dataclasses
import itertools
import re

from ..translator.model import Effect, Policy, Variable

# Values tried per key, at most, and assignments of values to keys.
MAX_WORDS = 10
MAX_ASSIGNMENTS = 48

ABSENT: list = []  # kernel/context.py reads an empty list as an absent key
FRESH = "witness"

_WORD_BREAKS = re.compile(r"[/:*?${}\s]+")


def _variables(template) -> list[Variable]:
    return [piece for piece in template or () if isinstance(piece, Variable)]


def free_keys(statements) -> list[str]:
    """The keys of the variables in these statements' Resource/NotResource
    patterns and condition values, as first written (keys are
    case-insensitive: one spelling each)."""
    keys: dict[str, str] = {}
    for st in statements:
        for pattern in (st.resource or ()) + (st.not_resource or ()):
            for v in _variables(pattern.resource):
                keys.setdefault(v.key.lower(), v.key)
        for clause in st.condition or ():
            for value in clause.values:
                for v in _variables(value.template):
                    keys.setdefault(v.key.lower(), v.key)
    return list(keys.values())


def _texts(template, text: str) -> list[str]:
    """The literal text of a template (its variables left out)."""
    if template is None:
        return [text]
    return [piece for piece in template if type(piece) is str]


def words(statements) -> list[str]:
    """The words the statements' patterns spell (the resource part of each
    ARN pattern, each condition value), split where a variable's value could
    begin or end: at separators and wildcards."""
    out = []
    for st in statements:
        for pattern in (st.resource or ()) + (st.not_resource or ()):
            for text in _texts(pattern.resource, pattern.text):
                out += _WORD_BREAKS.split(text)
        for clause in st.condition or ():
            for value in clause.values:
                for text in _texts(value.template, value.text):
                    out += _WORD_BREAKS.split(text)
    return [w for w in dict.fromkeys(out) if w and w != FRESH]


def assignments(keys: list[str], statements) -> list[dict]:
    """Values to fix the free keys to, one dict per question asked: a fresh
    value first (a request as a caller would send it), each word the
    statements spell, then absent."""
    values = [FRESH, *words(statements)[:MAX_WORDS], ABSENT]
    return [dict(zip(keys, combination))
            for combination in itertools.islice(itertools.product(values, repeat=len(keys)), MAX_ASSIGNMENTS)]


def tried(keys: list[str], statements) -> str:
    """How the values tried are named in an UNKNOWN answer."""
    spelled = ", ".join(map(repr, words(statements)[:MAX_WORDS])) or "none"
    return (f"policy variables whose keys the question leaves free ({', '.join(keys)}): no request found with "
            f"each of them {FRESH!r}, a word the policies spell ({spelled}) or absent, which is no proof for "
            "every value")


def bound(policy: Policy, wider: bool) -> Policy | None:
    """The policy read as allowing at least (``wider``) or at most what it
    allows under any values of its variables; None when a variable sits
    where no such reading is written here (a condition value, beside an
    escape)."""
    statements = []
    for st in policy.statements:
        if any(_variables(value.template) for clause in st.condition for value in clause.values):
            return None
        # An Allow's entries match more for a wider policy, a Deny's less.
        more = wider == (st.effect is Effect.ALLOW)
        changes = {}
        for name, negated in (("resource", False), ("not_resource", True)):
            patterns = getattr(st, name)
            if patterns is None or not any(_variables(p.resource) for p in patterns):
                continue
            kept = []
            for p in patterns:
                if not _variables(p.resource):
                    kept.append(p)
                elif any(type(piece) is not str and not isinstance(piece, Variable) for piece in p.resource):
                    return None  # an escape: its text is no pattern to widen
                elif more != negated:  # the entry matches more: any value
                    kept.append(_any_value(p))
                # else: the entry matches less: dropped (as an absent key drops it)
            changes[name] = tuple(kept)
        statements.append(dataclasses.replace(st, **changes) if changes else st)
    return dataclasses.replace(policy, statements=tuple(statements))


def _any_value(pattern):
    """The Resource entry with each variable read as ``*`` (in the resource
    part, where a star crosses every character): every string any value
    substitutes is one of its."""
    template = tuple("*" if isinstance(piece, Variable) else piece for piece in pattern.resource)
    resource = "".join(template)
    text = "arn:" + ":".join(pattern.arn_parts) + ":" + resource
    return dataclasses.replace(pattern, text=text, resource=(resource,))
