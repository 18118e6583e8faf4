"""Evaluating one condition clause (``operator: {key: values}``) against the
request context (SEMANTICS §4), reading the operator table (operators.py).

This is matching, not deciding: a clause is true or false, and the statement
it belongs to matches only if all its clauses are true. How matched statements
combine into a decision is the Datalog rules' business (rules.py).

Rules written here, each pinned by a case in tests/cases/:
- missing key: plain operator false, negated operator true, any ``…IfExists``
  true; ``Null: true`` iff the key is absent. An empty list in the request is
  an absent key for every operator — the one reading under which all the
  documented rules (ForAnyValue false, ForAllValues true, Null true) agree.
- several policy values are ORed; for a negated operator the request value
  must match none of them.
- ``ForAnyValue:OP``: some request value satisfies OP (false when missing or
  empty); ``ForAllValues:OP``: every request value satisfies OP (true when
  missing or empty). With a negated OP, "satisfies" means matches no policy value.
- a multi-valued request key under an operator without qualifier: one value is
  compared as that value; several values never satisfy the clause (the docs
  give no semantics; this project's reading, pinned).
- a policy value or request value that does not read as the operator's type
  makes the clause false (never true), with a warning — whether or not the
  operator is negated, so that an unreadable value never grants.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

from ..errors import quote
from ..translator.model import ConditionClause
from . import globs
from . import values as V
from .context import RequestContext
from .operators import OPERATORS, Operator, ValueType


@dataclass(frozen=True, slots=True)
class ConditionWarning:
    """A clause that could not be evaluated as written; it evaluated to false."""

    path: str
    message: str


class _Unreadable(Exception):
    def __init__(self, message: str):
        self.message = message


@lru_cache(maxsize=65536)
def _glob(pattern: str, ignore_case: bool = False):
    """StringLike/ArnLike glob: * any run of characters, ? one character,
    matched in linear time (globs.py)."""
    return globs.compile_glob(globs.tokens(pattern), ignore_case)


def _glob_runs(runs: tuple[tuple[str, bool], ...]):
    """A glob whose literal runs (a variable's value, ``${*}``, ``${?}``) match
    themselves: a ``*`` a request tag carries is not a wildcard (SEMANTICS §7).
    One built from long request values is compiled for this use only (globs.LONG)."""
    if sum(len(text) for text, _ in runs) > globs.LONG:
        return globs.compile_glob_once(_runs_glob(runs))
    return _glob_runs_kept(runs)


def _runs_glob(runs: tuple[tuple[str, bool], ...]) -> tuple:
    return tuple(t for text, is_pattern in runs for t in (globs.tokens(text) if is_pattern else globs.literal(text)))


@lru_cache(maxsize=65536)
def _glob_runs_kept(runs: tuple[tuple[str, bool], ...]):
    return globs.compile_glob(_runs_glob(runs))


def arn_runs(runs: tuple[tuple[str, bool], ...]) -> tuple[tuple[tuple[str, bool], ...], ...] | None:
    """The six colon-separated parts of a substituted ArnLike value, each as
    runs (a colon splits wherever it comes from, as in the text AWS compares);
    None when it is not an ARN. ``*`` alone is six ``*`` parts."""
    if runs == (("*", True),):
        return ((("*", True),),) * 6
    parts: list[list[tuple[str, bool]]] = [[]]
    for text, is_pattern in runs:
        pieces = text.split(":", 5 - (len(parts) - 1)) if len(parts) < 6 else [text]
        for i, piece in enumerate(pieces):
            if i:
                parts.append([])
            if piece:
                parts[-1].append((piece, is_pattern))
    if len(parts) != 6:
        return None
    head = "".join(text for text, _ in parts[0])
    if head not in ("arn", "arn*", "*"):
        return None
    return tuple(tuple(p) for p in parts)


def _read(op: Operator, text: str, side: str):
    """A value as the operator's type; raises _Unreadable."""
    vt = op.value_type
    if vt is ValueType.STRING:
        return V.fold_case(text) if op.ignore_case else text
    if vt is ValueType.NUMERIC:
        value = V.parse_number(text)
    elif vt is ValueType.DATE:
        value = V.parse_date(text)
    elif vt is ValueType.BOOL or vt is ValueType.NULL:
        value = V.parse_bool(text)
    elif vt is ValueType.BINARY:
        value = V.parse_binary(text)
    elif vt is ValueType.IP_ADDRESS:
        value = V.parse_ip(text)
    elif vt is ValueType.ARN:
        value = V.parse_arn(text)
    else:
        value = text
    if value is None:
        raise _Unreadable(f"the {side} value {quote(text)} is not {V.problem(vt, text) or vt.value}")
    return value


_UNREADABLE = object()


@lru_cache(maxsize=65536)
def _read_cached(op: Operator, text: str):
    try:
        return _read(op, text, "request")
    except _Unreadable as e:
        return (_UNREADABLE, e.message)


def _read_request_value(op: Operator, text: str):
    # A long value is read for this use only: the cache is bounded by count,
    # and 65,536 request values of a megabyte would hold gigabytes.
    value = _read_cached(op, text) if len(text) <= globs.LONG else _read_cached.__wrapped__(op, text)
    if type(value) is tuple and value and value[0] is _UNREADABLE:
        raise _Unreadable(value[1])
    return value


def _matches(op: Operator, request_value, policy_value) -> bool:
    """The positive comparison of one request value with one policy value
    (both already read); negation is applied by the caller."""
    base = op.name
    vt = op.value_type
    if vt is ValueType.STRING:
        if op.wildcards:
            return policy_value.fullmatch(request_value) is not None
        return request_value == policy_value
    if vt is ValueType.NUMERIC or vt is ValueType.DATE:
        if "LessThanEquals" in base:
            return request_value <= policy_value
        if "LessThan" in base:
            return request_value < policy_value
        if "GreaterThanEquals" in base:
            return request_value >= policy_value
        if "GreaterThan" in base:
            return request_value > policy_value
        return request_value == policy_value
    if vt is ValueType.BOOL or vt is ValueType.BINARY:
        return request_value == policy_value
    if vt is ValueType.IP_ADDRESS:
        # The request value is an address (or a network: then it must lie inside).
        return request_value.version == policy_value.version and request_value.subnet_of(policy_value)
    if vt is ValueType.ARN:
        # Part by part, each part a glob (§4), the resource part may hold colons.
        return all(p.fullmatch(r) is not None for r, p in zip(request_value, policy_value))
    raise AssertionError(base)


def clause_key(clause: ConditionClause) -> tuple:
    """What a clause says, as the kernel reads it: its operator, its key (key
    names are case-insensitive) and its values with their policy variables.
    A value's text alone is not enough: under Version 2008-10-17, or none,
    ``${aws:username}`` is literal text (the reader then gives it no
    template), under 2012-10-17 a variable. The values are ORed: their order
    says nothing."""
    return (clause.operator.text, clause.key.lower(), frozenset((v.text, v.template) for v in clause.values))


def keys_read(clause: ConditionClause) -> tuple[str, ...]:
    """The context keys a clause's truth depends on: its key and the keys of
    the variables in its values."""
    keys = [clause.key.lower()]
    for value in clause.values:
        for piece in value.template or ():
            if hasattr(piece, "key"):
                keys.append(piece.key.lower())
    return tuple(dict.fromkeys(keys))


def _operator_name(clause: ConditionClause) -> str:
    """The operator as written, for a message: a name no longer than quoting
    allows, else its quoted prefix (an operator is input too)."""
    text = clause.operator.text
    return text if len(text) <= 60 else quote(text)


def evaluate(clause: ConditionClause, context: RequestContext) -> tuple[bool, ConditionWarning | None]:
    """(whether the clause holds, a warning when it could not be evaluated)."""
    try:
        holds = _evaluate(clause, context)
        if clause.operator.base == "Bool" and any(v.template is not None and any(hasattr(x, "key") for x in v.template)
                                                  for v in clause.values):
            # The Boolean operators' page supports policy variables, the
            # policy-variables page names only String and ARN: substituted
            # here (docs/readings.md), and said.
            return holds, ConditionWarning(clause.json_path, f"{_operator_name(clause)} on {quote(clause.key)}: its policy "
                                           f"variable is substituted (the documentation's pages disagree); the "
                                           f"clause is {str(holds).lower()}")
        if clause.operator.base in _IGNORE_CASE:
            other = _under_utf16_case_reading(clause, context)
            if other is not None and other != holds:
                # docs/readings.md: one character against one by its simple
                # case fold; a Java-style reading (code unit by code unit,
                # through upper then lower case) decides otherwise here.
                return holds, ConditionWarning(clause.json_path, f"{_operator_name(clause)} on {quote(clause.key)}: "
                                               f"the clause is {str(holds).lower()} under Unicode simple case "
                                               "folding, but would not be if AWS compared these characters' case "
                                               "otherwise (UTF-16 unit by unit, through upper then lower case)")
        if not clause.values:
            # IAM stores an empty value list; the documentation gives it no
            # meaning. Read as no value matching (a negated operator then
            # holds), and said, since AWS may read it otherwise.
            return holds, ConditionWarning(clause.json_path, f"{_operator_name(clause)} on {quote(clause.key)} has no "
                                           f"values: read as matching none (the clause is {str(holds).lower()})")
        return holds, None
    except _Unreadable as e:
        return False, ConditionWarning(clause.json_path, f"{_operator_name(clause)} on {quote(clause.key)}: {e.message}; "
                                                          "the condition is treated as not met")


_IGNORE_CASE = frozenset(name for name, op in OPERATORS.items() if op.ignore_case)


def _utf16_fold(text: str) -> str:
    """Java's String.equalsIgnoreCase per character: upper case, then lower
    case, each one character to one (a code point past U+FFFF is two UTF-16
    units, which no case mapping changes; "İ" lowers to "i")."""
    out = []
    for c in text:
        if c > "\uffff":
            out.append(c)
            continue
        upper = c.upper()
        upper = upper if len(upper) == 1 else c
        lower = "i" if upper == "\u0130" else upper.lower()
        out.append(lower if len(lower) == 1 else upper)
    return "".join(out)


def _under_utf16_case_reading(clause: ConditionClause, context: RequestContext) -> bool | None:
    """Whether the IgnoreCase clause would hold if each side were first
    compared through _utf16_fold; None when every compared character is ASCII
    (where the readings agree) or a policy variable has no value."""
    raw = context.get(clause.key)
    request = raw if isinstance(raw, tuple) else () if raw is None else (raw,)
    texts = [context.substitute(v.template) if v.template is not None else v.text for v in clause.values]
    if any(t is None for t in texts) or all(t.isascii() for t in (*request, *texts)):
        return None
    values = tuple(replace(v, text=_utf16_fold(t), template=None) for v, t in zip(clause.values, texts))
    folded = tuple(_utf16_fold(r) for r in request)
    other = RequestContext({clause.key: folded if isinstance(raw, tuple) else folded[0]} if request else {})
    # Compared exactly once folded (the case-sensitive operator), or the
    # simple fold would merge again what this reading keeps apart.
    exact = replace(clause.operator, base=clause.operator.base.replace("IgnoreCase", ""))
    try:
        return _evaluate(replace(clause, operator=exact, values=values), other)
    except _Unreadable:
        return None


def _evaluate(clause: ConditionClause, context: RequestContext) -> bool:
    operator = clause.operator
    op = OPERATORS.get(operator.base) if operator.base else None
    if op is None:
        raise _Unreadable(f"{quote(operator.text)} is not a condition operator")
    raw = context.get(clause.key)
    if raw == ():
        raw = None  # an empty list is an absent key, for every operator (pinned)

    if op.value_type is ValueType.NULL:
        wanted = [_read(op, v.text, "policy") for v in clause.values]
        return any(w == (raw is None) for w in wanted)

    if raw is None:  # the key is absent
        if operator.qualifier == "ForAnyValue":
            if operator.if_exists:
                # The multivalued-keys page: ForAnyValue on a missing key is
                # false; the IfExists sentence says true. AWS answers false
                # (docs/readings.md); said, since the pages disagree.
                raise _Unreadable("ForAnyValue with IfExists on a missing key is read as false, as AWS answers "
                                  "(the documentation's pages disagree)")
            return False
        if operator.if_exists or operator.qualifier == "ForAllValues":
            return True
        return op.negated

    policy_values = _policy_values(op, clause, context)

    def satisfies(text: str) -> bool:
        value = _read_request_value(op, text)
        hit = any(_matches(op, value, p) for p in policy_values)
        return not hit if op.negated else hit

    if operator.qualifier is None:
        if isinstance(raw, tuple):
            if len(raw) != 1:
                raise _Unreadable(f"the request gives {len(raw)} values and the operator has no ForAnyValue:/"
                                  "ForAllValues: (the documentation gives that no meaning)")
            raw = raw[0]
        return satisfies(raw)
    request_values = raw if isinstance(raw, tuple) else (raw,)
    if operator.qualifier == "ForAnyValue":
        return any(satisfies(v) for v in request_values)
    return all(satisfies(v) for v in request_values)


_STATIC: dict[int, tuple[ConditionClause, list]] = {}


def _policy_values(op: Operator, clause: ConditionClause, context: RequestContext) -> list:
    # Values without variables are read once per clause, not once per request.
    static = _STATIC.get(id(clause))
    if static is not None and static[0] is clause:
        return static[1]
    templated = any(v.template is not None for v in clause.values)
    out = _read_policy_values(op, clause, context)
    if not templated:
        if len(_STATIC) > 262_144:
            _STATIC.clear()  # the identity check above keeps a reused id() harmless
        _STATIC[id(clause)] = (clause, out)
    return out


def _read_policy_values(op: Operator, clause: ConditionClause, context: RequestContext) -> list:
    out = []
    for value in clause.values:
        text = value.text
        if op.wildcards:
            # Globs keep which characters are the policy's own wildcards.
            runs = ((text, True),)
            if value.template is not None and op.variables:
                runs = context.resolve(value.template)
                if runs is None:
                    continue  # an absent variable: this value matches nothing (§5)
            if op.value_type is ValueType.STRING:
                out.append(_glob_runs(runs))
                continue
            parts = arn_runs(runs)
            if parts is None:
                raise _Unreadable(f"the policy value {quote(text)} is not {V.problem(op.value_type, text) or 'an ARN'}")
            out.append(tuple(_glob_runs(p) for p in parts))
            continue
        if value.template is not None and op.variables:
            text = context.substitute(value.template)
            if text is None:
                continue  # an absent variable: this value matches nothing (§5)
        out.append(_read(op, text, "policy"))
    return out
