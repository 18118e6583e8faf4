"""The symbolic side of kernel/conditions.py: one condition clause as a Z3
formula over the request context.

Per context key: ``present`` (the key is in the request), ``several`` (it
holds several values: then every operator without qualifier is false, as in
the kernel), and per value type a variable and an ``unreadable`` flag (a value
that does not read as the type makes the clause false, negated or not). The
type variables of one key are not tied together, which only admits more
behaviours than the kernel has: a proof that no request exists holds, and a
request found is replayed through the kernel.

String and ARN values are not Z3 strings. Each "value matches one of these
globs" is a Boolean atom (``SymbolicContext.member``); Z3 chooses the atoms'
truth together with the arithmetic, and the engine then asks the glob
automata (automata.py) for a string with exactly those memberships — or
learns that there is none and tells Z3 so. Z3's own regex solver stalls on
such questions (MEASURED.md); the automata decide them exactly.

Set operators (ForAnyValue/ForAllValues) over string keys model the request's
values as up to ``n`` elements, ``n`` being the number of qualified clauses on
that key (each clause needs at most one element to be true or false, so a
request exists iff one with at most ``n`` values does).

BinaryEquals compares the decoded bytes: the request strings that decode to
one policy value are finitely many (base64 leaves a final character's unused
bits free), so "equals one of them" is a string atom like StringEquals'.

Set operators on numbers, dates, booleans, addresses and ARNs read the
values as the kernel does, in order, stopping (false) at the first it cannot
read: ForAnyValue holds when some value satisfies the operator and every one
before it reads; ForAllValues when every value reads and satisfies it. Such
keys get one value more than their clauses, for a value the kernel stops at.

Not encoded yet (raise Unsupported, the answer is UNKNOWN): set operators on
Binary values ("is base64" is no glob, and the kernel stops at a value that
is not), and policy variables whose keys the question does not fix
(variables.py decides what it can of those).
"""

from __future__ import annotations

import base64
import ipaddress
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from fractions import Fraction

import z3

from ..errors import quote
from ..kernel import values as V
from ..kernel.catalogue import CATALOGUE
from ..kernel.conditions import evaluate as kernel_evaluate
from ..kernel.conditions import arn_runs, clause_key, keys_read
from ..kernel.context import RequestContext
from ..kernel.operators import OPERATORS, ValueType
from ..translator.model import ConditionClause, Variable
from .automata import ANY, NOT_COLON, Term, member
from .matching import Unsupported

_STRING_TYPES = (ValueType.STRING, ValueType.ARN)


@dataclass
class SymbolicContext:
    """The Z3 variables of a request context, created on demand, and the
    string-membership atoms over its string values."""

    elements: dict[str, int] = field(default_factory=dict)  # key → values modelled (set operators)
    variables: dict[tuple, z3.ExprRef] = field(default_factory=dict)
    members: dict[tuple[str, Term], z3.BoolRef] = field(default_factory=dict)
    # Per encoded block (by formula id): the keys and string atoms it reads.
    reads: dict[int, tuple[frozenset, frozenset]] = field(default_factory=dict)
    # Keys the question fixes (a RequestContext): clauses on them are decided
    # by the kernel's own evaluation, not encoded.
    fixed: object = None
    spelling: dict[str, str] = field(default_factory=dict)  # lower-cased key → as a policy writes it
    # Lower-cased key → the policy numbers compared with it: a witness's
    # number is a decimal on the same side of each as the solver's value.
    bounds: dict[str, set] = field(default_factory=dict)
    _blocks: dict = field(default_factory=dict)
    _keys: set | None = None
    _atoms: set | None = None

    def _var(self, kind: str, key: str, make):
        self.spelling.setdefault(key.lower(), key)
        name = (kind, key.lower())
        if self._keys is not None:
            self._keys.add(key.lower())
        if name not in self.variables:
            self.variables[name] = make(f"{kind}[{key.lower()}]")
        return self.variables[name]

    def present(self, key: str) -> z3.BoolRef:
        return self._var("present", key, z3.Bool)

    def several(self, key: str) -> z3.BoolRef:
        return self._var("several", key, z3.Bool)

    def used(self, key: str, i: int) -> z3.BoolRef:
        """Whether the request holds an i-th value (i ≥ 1) for a set operator."""
        return self._var(f"used{i}", key, z3.Bool)

    # A key's element-th value (set operators; 0 is the value single-valued
    # operators read) read as a number, date, boolean or address.

    def unreadable(self, key: str, vt: ValueType, element: int = 0) -> z3.BoolRef:
        return self._var(_unreadable_name(vt, element), key, z3.Bool)

    def has_unreadable(self, key: str, vt: ValueType) -> bool:
        """Whether a clause read the key's first value as ``vt``, so that its
        unreadable flag exists."""
        return (_unreadable_name(vt, 0), key.lower()) in self.variables

    def value(self, key: str, vt: ValueType, element: int = 0) -> z3.ExprRef:
        make = {
            # A date is the kernel's own: a whole number of microseconds
            # (kernel/values.py reads no finer), here since the epoch.
            ValueType.NUMERIC: z3.Real, ValueType.DATE: z3.Int, ValueType.BOOL: z3.Bool,
            ValueType.IP_ADDRESS: lambda n: z3.BitVec(n, 32),
        }[vt]
        return self._var(f"value-{vt.value}{_nth(element)}", key, make)

    def value6(self, key: str, element: int = 0) -> z3.ExprRef:
        """An IP address key's value when it is an IPv6 address."""
        return self._var(f"value6-IPAddress{_nth(element)}", key, lambda n: z3.BitVec(n, 128))

    def ipv6(self, key: str, element: int = 0) -> z3.BoolRef:
        return self._var(f"ipv6{_nth(element)}", key, z3.Bool)

    def prefix(self, key: str, element: int = 0) -> z3.ArithRef:
        """The prefix length of an address key's value: a request may give a
        network (``10.0.0.0/8``), which the kernel reads as such; a bare
        address is /32 (IPv4) or /128 (IPv6)."""
        return self._var(f"prefix-IpAddress{_nth(element)}", key, z3.Int)

    def single_addresses(self, keys) -> list[z3.BoolRef]:
        """Assumptions that every address among ``keys`` is one address, not
        a network: what witnesses should carry where they can."""
        out = []
        for key in keys:
            for element in range(self.elements.get(key, 1)):
                if (f"prefix-IpAddress{_nth(element)}", key) in self.variables:
                    full = z3.If(self.ipv6(key, element), 128, 32)
                    out.append(self.prefix(key, element) == full)
        return out

    def member(self, key: str, vt: ValueType, element: int, term: Term) -> z3.BoolRef:
        """The atom "the element-th value of key, read as vt, is in term"."""
        var = f"{vt.value}[{key.lower()}]#{element}"
        if self._keys is not None:
            self._keys.add(key.lower())
        atom = self.members.get((var, term))
        if atom is None:
            atom = self.members[(var, term)] = z3.Bool(f"in{len(self.members)}[{var}]")
        if self._atoms is not None:
            self._atoms.add((var, term))
        return atom

    def block(self, clauses) -> z3.BoolRef:
        """A statement's condition block (its clauses ANDed), remembering
        which keys and atoms it reads; blocks that say the same thing are
        encoded once."""
        # Only the fixed values of the keys the clauses read change the
        # encoding: a block that reads none of the caller's keys is shared by
        # every caller asked about.
        fixed = None
        if self.fixed is not None:
            read = dict.fromkeys(k for c in clauses for k in keys_read(c))
            fixed = tuple((k, self.fixed.has(k), self.fixed.get(k)) for k in read)
        content = (fixed, tuple(clause_key(c) for c in clauses))
        found = self._blocks.get(content)
        if found is not None:
            return found
        self._keys, self._atoms = set(), set()
        try:
            formula = z3.And(*[encode(c, self) for c in clauses])
            self.reads[formula.get_id()] = (frozenset(self._keys), frozenset(self._atoms))
        finally:
            self._keys = self._atoms = None
        self._blocks[content] = formula
        return formula

    def realistic(self, keys) -> list[z3.BoolRef]:
        """Constraints that keep the flags true to the kernel and the request
        realistic: a string always reads; an ARN reads iff it has the shape
        parse_arn accepts; values beyond the first exist only when the key
        does, and make it several; a single-valued key has one value."""
        out = []
        for key in keys:
            present = self.present(key)
            out.append(z3.Implies(self.several(key), present))
            kind = CATALOGUE.condition_key_type(key)
            if kind is not None and not kind.startswith("ArrayOf"):
                # Typed mode: a key the catalogue declares single-valued
                # never holds several values.
                out.append(z3.Not(self.several(key)))
            extra = [self.used(key, i) for i in range(1, self.elements.get(key, 1))]
            if extra:
                out.append(self.several(key) == z3.Or(*extra))
                out += [z3.Implies(u, present) for u in extra]
            if self.has_unreadable(key, ValueType.STRING):
                out.append(z3.Not(self.unreadable(key, ValueType.STRING)))
            if self.has_unreadable(key, ValueType.ARN):
                shape = self.member(key, ValueType.ARN, 0, ARN_SHAPE)
                out.append(self.unreadable(key, ValueType.ARN) == z3.Not(shape))
            for element in range(self.elements.get(key, 1)):
                if (f"prefix-IpAddress{_nth(element)}", key) in self.variables:
                    prefix = self.prefix(key, element)
                    out.append(z3.And(prefix >= 0, prefix <= z3.If(self.ipv6(key, element), 128, 32)))
                date = self.variables.get((f"value-{ValueType.DATE.value}{_nth(element)}", key))
                if date is not None:
                    # A date a request can carry (kernel/values.py reads years 1 to 9999).
                    out.append(z3.And(date >= _FIRST_DATE, date <= _LAST_DATE))
        return out


def _nth(element: int) -> str:
    return f"#{element}" if element else ""


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = timedelta(microseconds=1)


def microseconds(moment: datetime) -> int:
    """A date as the kernel compares it, exactly: microseconds since the epoch
    (through a float a bound is rounded, and bounds a microsecond apart are
    one number from the year 2242 on)."""
    return (moment - _EPOCH) // _MICROSECOND


_FIRST_DATE = microseconds(datetime(1, 1, 1, tzinfo=timezone.utc))
_LAST_DATE = microseconds(datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc))


def _date_text(us: int) -> str:
    """Microseconds since the epoch as an ISO 8601 date the kernel reads back
    to the same microsecond."""
    moment = _EPOCH + us * _MICROSECOND
    text = f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T{moment.hour:02d}:{moment.minute:02d}:" \
           f"{moment.second:02d}"
    return text + (f".{moment.microsecond:06d}Z" if moment.microsecond else "Z")


def _number_text(value: Fraction, bounds) -> str:
    """A decimal the kernel reads as ``value``, or, when ``value`` has no
    finite decimal form, one on the same side of every bound (the policy
    numbers, all decimals: ``value`` equals none of them)."""
    if _finite_decimal(value):
        return _decimal(value)
    below = max((b for b in bounds if b < value), default=None)
    above = min((b for b in bounds if b > value), default=None)
    digits = 0
    while True:
        near = Fraction(round(value * 10 ** digits), 10 ** digits)
        if (below is None or near > below) and (above is None or near < above):
            return _decimal(near)
        digits += 1


def _finite_decimal(value: Fraction) -> bool:
    d = value.denominator
    for p in (2, 5):
        while d % p == 0:
            d //= p
    return d == 1


def _decimal(value: Fraction) -> str:
    """A finite decimal written out in full (the kernel reads no exponent)."""
    places = 0
    while (value * 10 ** places).denominator != 1:
        places += 1
    scaled = abs(value.numerator * 10 ** places // value.denominator)
    sign = "-" if value < 0 else ""
    if not places:
        return f"{sign}{scaled}"
    whole, frac = divmod(scaled, 10 ** places)
    return f"{sign}{whole}.{frac:0{places}d}"


def _unreadable_name(vt: ValueType, element: int) -> str:
    return f"unreadable-{vt.value}{_nth(element)}"


def string_glob(text: str, wildcards: bool, ignore_case: bool = False, crosses_colon: bool = True):
    """A policy value as glob items: ``*``/``?`` are wildcards where the
    operator has them; IgnoreCase values are compared case-folded."""
    if ignore_case:
        text = V.fold_case(text)
    any_char = ANY if crosses_colon else NOT_COLON
    out = []
    for c in text:
        if wildcards and c == "*":
            out.append(("star", any_char))
        elif wildcards and c == "?":
            out.append(("one", any_char))
        else:
            out.append(("lit", c))
    return tuple(out)


def _runs_glob(runs, wildcards: bool, ignore_case: bool = False, crosses_colon: bool = True) -> tuple:
    """A value given as (text, is_pattern) runs as glob items: wildcards only
    in the policy's own text."""
    return tuple(item for text, is_pattern in runs
                 for item in string_glob(text, wildcards and is_pattern, ignore_case, crosses_colon))


def _arn_globs(runs) -> list | None:
    """ArnLike/ArnEquals: six parts compared one by one, each a glob (the
    resource part may hold colons), split as the kernel splits them
    (kernel/conditions.py arn_runs); the request value ``*`` reads as six
    ``*`` parts (values.parse_arn), matched when every policy part admits it."""
    parts = arn_runs(runs)
    if parts is None:
        return None
    items, admits_star = [], True
    for i, part in enumerate(parts):
        if i:
            items.append(("lit", ":"))
        glob = _runs_glob(part, True, crosses_colon=i == 5)
        items += glob
        admits_star = admits_star and member(Term((glob,)), "*")
    globs = [tuple(items)]
    if admits_star:
        globs.append((("lit", "*"),))
    return globs


def _shape() -> Term:
    rest = [("lit", ":"), ("star", NOT_COLON)] * 4 + [("lit", ":"), ("star", ANY)]
    globs = [tuple([("lit", c) for c in prefix] + rest) for prefix in ("arn", "arn*", "*")]
    return Term(tuple(globs) + ((("lit", "*"),),))


ARN_SHAPE = _shape()


def encode(clause: ConditionClause, ctx: SymbolicContext) -> z3.BoolRef:
    operator = clause.operator
    op = OPERATORS.get(operator.base) if operator.base else None
    if op is None:
        return z3.BoolVal(False)  # the kernel: an unknown operator is false
    if ctx.fixed is not None and all(ctx.fixed.has(k) for k in keys_read(clause)):
        return z3.BoolVal(kernel_evaluate(clause, ctx.fixed)[0])
    texts = [v.text for v in clause.values]
    if any(v.template is not None and any(type(p) is not str for p in v.template) for v in clause.values):
        texts = _substituted_values(clause, op, ctx)
    key = clause.key
    present, several = ctx.present(key), ctx.several(key)
    if op.value_type is ValueType.NULL:
        wanted = [V.parse_bool(v.text) for v in clause.values]
        if any(w is None for w in wanted):
            return z3.BoolVal(False)
        return z3.Or(*[z3.Not(present) if w else present for w in wanted]) if wanted else z3.BoolVal(False)
    if operator.qualifier is not None:
        return _qualified(operator, op, key, texts, ctx)
    # The kernel decides an absent key before it reads the policy values.
    missing = z3.BoolVal(True) if (operator.if_exists or op.negated) else z3.BoolVal(False)
    hits = _hits(op, key, texts, ctx, 0)
    if hits is None:
        # An unreadable policy value: false whenever the key is there.
        return z3.And(z3.Not(present), missing)
    # (A Binary value is read as the string it is: only the strings that
    # decode to a policy value match, so unreadable ones simply do not.)
    read_as = ValueType.STRING if op.value_type is ValueType.BINARY else op.value_type
    readable_single = z3.And(present, z3.Not(several), z3.Not(ctx.unreadable(key, read_as)))
    satisfied = z3.And(readable_single, z3.Not(hits) if op.negated else hits)
    return z3.Or(z3.And(z3.Not(present), missing), satisfied)


def _substituted_values(clause: ConditionClause, op, ctx: SymbolicContext) -> list:
    """The clause's values with their variables replaced and their escapes
    read, when the question fixes every variable's key (kernel/conditions.py:
    an absent variable drops its value); otherwise Unsupported. Under an
    operator with wildcards each value is its (text, is_pattern) runs: a
    variable's value and ``${*}`` are literal text (SEMANTICS §7)."""
    context = ctx.fixed if ctx.fixed is not None else RequestContext()
    out: list = []
    for v in clause.values:
        if v.template is None or not op.variables:
            out.append(((v.text, True),) if op.wildcards else v.text)
            continue
        keys = [p.key for p in v.template if type(p) is Variable]
        if keys and (ctx.fixed is None or not all(ctx.fixed.has(k) for k in keys)):
            raise Unsupported(f"policy variables in condition values ({clause.key}) are not encoded yet")
        value = context.resolve(v.template) if op.wildcards else context.substitute(v.template)
        if value is not None:
            out.append(value)
    return out


def _qualified(operator, op, key: str, texts: list[str], ctx: SymbolicContext) -> z3.BoolRef:
    """ForAnyValue: some request value satisfies the operator (false when the
    key is missing); ForAllValues: every one does (true when missing)."""
    vt = op.value_type
    if vt is ValueType.BINARY:
        raise Unsupported(f"{operator.text if len(operator.text) <= 60 else quote(operator.text)}: set operators on Binary values are not encoded yet")
    present = ctx.present(key)
    n = ctx.elements.get(key.lower(), 1)
    if vt is not ValueType.STRING:
        return _qualified_readable(operator, op, key, texts, ctx, n)
    satisfies = []
    for i in range(n):
        hit = _hits(op, key, texts, ctx, i)
        used = present if i == 0 else ctx.used(key, i)
        satisfies.append((used, z3.Not(hit) if op.negated else hit))
    if operator.qualifier == "ForAnyValue":
        some = z3.And(present, z3.Or(*[z3.And(u, s) for u, s in satisfies]))
        return some  # a missing key: false, IfExists or not (kernel/conditions.py)
    return z3.Or(z3.Not(present), z3.And(*[z3.Implies(u, s) for u, s in satisfies]))


def _qualified_readable(operator, op, key: str, texts: list[str], ctx: SymbolicContext, n: int) -> z3.BoolRef:
    """Set operators on values that may be unreadable (numbers, dates,
    booleans, addresses, ARNs), as kernel/conditions.py reads them: in order,
    stopping — false — at the first value it cannot read. ForAnyValue holds
    when some value satisfies the operator and every one before it reads;
    ForAllValues when every value reads and satisfies it."""
    present = ctx.present(key)
    hits = [_hits(op, key, texts, ctx, i) for i in range(n)]
    if any(h is None for h in hits):
        # An unreadable policy value: false whenever the key is there (the
        # kernel decides a missing key first).
        missing = operator.qualifier == "ForAllValues"
        return z3.Not(present) if missing else z3.BoolVal(False)
    used = [present] + [ctx.used(key, i) for i in range(1, n)]
    readable = [ctx.member(key, ValueType.ARN, i, ARN_SHAPE) if op.value_type is ValueType.ARN
                else z3.Not(ctx.unreadable(key, op.value_type, i)) for i in range(n)]
    satisfies = [z3.And(readable[i], z3.Not(hits[i]) if op.negated else hits[i]) for i in range(n)]
    if operator.qualifier == "ForAnyValue":
        some = z3.And(present, z3.Or(*[
            z3.And(used[i], satisfies[i], *[z3.Implies(used[j], readable[j]) for j in range(i)]) for i in range(n)]))
        return some  # a missing key: false, IfExists or not (kernel/conditions.py)
    return z3.Or(z3.Not(present), z3.And(*[z3.Implies(used[i], satisfies[i]) for i in range(n)]))


def _hits(op, key: str, texts: list[str], ctx: SymbolicContext, element: int) -> z3.BoolRef | None:
    """Whether the request value matches some policy value (positively)."""
    vt = op.value_type
    if vt is ValueType.BINARY:
        encodings = []
        for text in texts:
            value = V.parse_binary(text)
            if value is None:
                return None  # an unreadable policy value: the clause is never true
            encodings += _encodings(value)
        if not encodings:
            return z3.BoolVal(False)
        globs = tuple(dict.fromkeys(tuple(("lit", c) for c in e) for e in encodings))
        return ctx.member(key, ValueType.STRING, element, Term(globs))
    if vt is ValueType.STRING:
        if not texts:
            return z3.BoolVal(False)
        # One atom for the union of the values: "matches some value".
        globs = tuple(dict.fromkeys(_runs_glob(t, op.wildcards) if type(t) is tuple
                                    else string_glob(t, op.wildcards, op.ignore_case) for t in texts))
        return ctx.member(key, vt, element, Term(globs, fold=op.ignore_case))
    if vt is ValueType.ARN:
        globs = []
        for text in texts:
            arn = _arn_globs(text if type(text) is tuple else ((text, True),))
            if arn is None:
                return None
            globs += arn
        if not globs:
            return z3.BoolVal(False)
        return z3.And(ctx.member(key, vt, element, ARN_SHAPE),
                      ctx.member(key, vt, element, Term(tuple(dict.fromkeys(globs)))))
    terms = []
    var = ctx.value(key, vt, element)
    for text in texts:
        if vt in (ValueType.NUMERIC, ValueType.DATE):
            parsed = V.parse_number(text) if vt is ValueType.NUMERIC else V.parse_date(text)
            if parsed is None:
                return None
            if vt is ValueType.NUMERIC:
                ctx.bounds.setdefault(key.lower(), set()).add(Fraction(parsed))
                bound = z3.RealVal(str(parsed))
            else:
                bound = z3.IntVal(microseconds(parsed))
            name = op.name
            terms.append(var <= bound if "LessThanEquals" in name else var < bound if "LessThan" in name
                         else var >= bound if "GreaterThanEquals" in name else var > bound if "GreaterThan" in name
                         else var == bound)
        elif vt is ValueType.BOOL:
            parsed = V.parse_bool(text)
            if parsed is None:
                return None
            terms.append(var == z3.BoolVal(parsed))
        elif vt is ValueType.IP_ADDRESS:
            net = V.parse_ip(text)
            if net is None:
                return None
            # The request's network lies within the policy's (kernel/conditions.py:
            # subnet_of): its prefix is no shorter, and its first bits are the policy's.
            mask = int(net.netmask)
            longer = ctx.prefix(key, element) >= net.prefixlen
            if net.version == 4:
                terms.append(z3.And(z3.Not(ctx.ipv6(key, element)), longer,
                                    (var & mask) == int(net.network_address)))
            else:
                v6 = ctx.value6(key, element)
                terms.append(z3.And(ctx.ipv6(key, element), longer, (v6 & mask) == int(net.network_address)))
    return z3.Or(*terms) if terms else z3.BoolVal(False)


_BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def _encodings(value: bytes) -> list[str]:
    """Every string the kernel reads as these bytes (kernel/values.py's
    parse_binary: strict alphabet and padding, a final character's unused
    bits free)."""
    canonical = base64.b64encode(value).decode()
    data = canonical.rstrip("=")
    if not data:
        return [canonical]
    stem, padding = data[:-1], canonical[len(data):]
    return [stem + c + padding for c in _BASE64 if V.parse_binary(stem + c + padding) == value]


def _typed_value(ctx: SymbolicContext, model: z3.ModelRef, key: str, vt: ValueType, element: int) -> str:
    """The element-th value of a key read as a number, date, boolean or
    address, as a request gives it (or a value the kernel cannot read)."""
    if z3.is_true(model.eval(ctx.unreadable(key, vt, element), model_completion=True)):
        return "unreadable-value"
    value = model.eval(ctx.value(key, vt, element), model_completion=True)
    if vt is ValueType.BOOL:
        return "true" if z3.is_true(value) else "false"
    if vt is ValueType.IP_ADDRESS:
        if z3.is_true(model.eval(ctx.ipv6(key, element), model_completion=True)):
            six = model.eval(ctx.value6(key, element), model_completion=True)
            address, full = ipaddress.IPv6Address(six.as_long()), 128
        else:
            address, full = ipaddress.IPv4Address(value.as_long()), 32
        prefix = full
        if (f"prefix-IpAddress{_nth(element)}", key.lower()) in ctx.variables:
            prefix = model.eval(ctx.prefix(key, element), model_completion=True).as_long()
        return str(address) if prefix == full else str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))
    if vt is ValueType.DATE:
        return _date_text(value.as_long())
    return _number_text(Fraction(value.numerator_as_long(), value.denominator_as_long()),
                        ctx.bounds.get(key.lower(), ()))


def string_constraints(ctx: SymbolicContext, atoms, model: z3.ModelRef) -> dict[str, list]:
    """Per string variable, the (atom, term, wanted) the model chose."""
    out: dict[str, list] = {}
    for var, term in atoms:
        atom = ctx.members[(var, term)]
        wanted = z3.is_true(model.eval(atom, model_completion=True))
        out.setdefault(var, []).append((atom, term, wanted))
    return out


def witness_value(ctx: SymbolicContext, model: z3.ModelRef, key: str, strings: dict[str, str]):
    """The request context value of ``key`` in a model, as a scenario gives it
    (None when the key is absent); ``strings``: the values the automata chose."""
    key = key.lower()
    if not z3.is_true(model.eval(ctx.present(key), model_completion=True)):
        return None
    several = z3.is_true(model.eval(ctx.several(key), model_completion=True))
    n = ctx.elements.get(key, 1)
    readings = {}  # value type -> the values that reading chose
    for vt in (ValueType.STRING, ValueType.ARN):
        if f"{vt.value}[{key}]#0" in strings:
            readings[vt] = [strings.get(f"{vt.value}[{key}]#{i}", "x") for i in range(n)
                            if i == 0 or z3.is_true(model.eval(ctx.used(key, i), model_completion=True))]
    for vt in (ValueType.NUMERIC, ValueType.DATE, ValueType.BOOL, ValueType.IP_ADDRESS):
        if (f"value-{vt.value}", key) in ctx.variables:
            readings[vt] = [_typed_value(ctx, model, key, vt, i) for i in range(n)
                            if i == 0 or z3.is_true(model.eval(ctx.used(key, i), model_completion=True))]
    if len({tuple(v) for v in readings.values()}) > 1:
        # The encoding gives each reading of a key (as text, as a date, ...)
        # its own value: sound for PASS (it only widens the search), but a
        # witness needs one value that every reading agrees on.
        raise Unsupported(f"{key} is compared as {' and as '.join(vt.value for vt in readings)}: the encoding "
                          "does not tie the readings of one value together, and the found values differ")
    if readings:
        values = next(iter(readings.values()))
        return values if len(values) > 1 else [values[0], values[0]] if several else values[0]
    if ctx.has_unreadable(key, ValueType.ARN) and \
            z3.is_true(model.eval(ctx.unreadable(key, ValueType.ARN), model_completion=True)):
        return "unreadable-value"
    return "x"
