"""The symbolic side of kernel/conditions.py: one condition clause as a Z3
formula over the request context.

Per context key: ``present`` (the key is in the request), ``several`` (it
holds several values: then every operator without qualifier is false, as in
the kernel), and per value type a variable and an ``unreadable`` flag (a value
that does not read as the type makes the clause false, negated or not). The
encoding admits every behaviour the kernel has — the type variables of one
key are not tied together, which only admits more — so a proof that no request
exists holds; a request it finds is replayed through the kernel.

Not encoded yet (raise Unsupported, the answer is UNKNOWN): ForAnyValue /
ForAllValues, policy variables in values, BinaryEquals, IPv6 CIDRs.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

import z3

from ..kernel import values as V
from ..kernel.operators import OPERATORS, ValueType
from ..translator.model import ConditionClause
from .matching import _NOT_COLON, _PRINTABLE, Unsupported, _lit


@dataclass
class SymbolicContext:
    """The Z3 variables of a request context, created on demand."""

    variables: dict[tuple, z3.ExprRef] = field(default_factory=dict)

    def _var(self, kind: str, key: str, make):
        name = (kind, key.lower())
        if name not in self.variables:
            self.variables[name] = make(f"{kind}[{key.lower()}]")
        return self.variables[name]

    def present(self, key: str) -> z3.BoolRef:
        return self._var("present", key, z3.Bool)

    def several(self, key: str) -> z3.BoolRef:
        return self._var("several", key, z3.Bool)

    def unreadable(self, key: str, vt: ValueType) -> z3.BoolRef:
        return self._var(f"unreadable-{vt.value}", key, z3.Bool)

    def value(self, key: str, vt: ValueType) -> z3.ExprRef:
        make = {
            ValueType.STRING: z3.String, ValueType.ARN: z3.String, ValueType.NUMERIC: z3.Real,
            ValueType.DATE: z3.Real, ValueType.BOOL: z3.Bool,
            ValueType.IP_ADDRESS: lambda n: z3.BitVec(n, 32),
        }[vt]
        return self._var(f"value-{vt.value}", key, make)

    def ipv6(self, key: str) -> z3.BoolRef:
        return self._var("ipv6", key, z3.Bool)

    def realistic(self) -> list[z3.BoolRef]:
        """Constraints that keep witnesses printable and the flags true to the
        kernel: a string always reads; an ARN reads iff it has six parts."""
        out = []
        for (kind, key), var in list(self.variables.items()):
            if kind.startswith("value-") and var.sort() == z3.StringSort():
                out.append(z3.InRe(var, z3.Star(_PRINTABLE)))
            if kind == "several":
                out.append(z3.Implies(var, self.present(key)))
            if kind == f"unreadable-{ValueType.STRING.value}":
                out.append(z3.Not(var))
            if kind == f"unreadable-{ValueType.ARN.value}":
                out.append(var == z3.Not(z3.InRe(self.value(key, ValueType.ARN), _ARN_SHAPE)))
        return out


def _glob_re(pattern: str, crosses_colon: bool = True) -> z3.ReRef:
    parts = []
    buffer = ""
    for c in pattern:
        if c in "*?":
            if buffer:
                parts.append(_lit(buffer))
                buffer = ""
            any_char = _PRINTABLE if crosses_colon else _NOT_COLON
            parts.append(z3.Star(any_char) if c == "*" else any_char)
        else:
            buffer += c
    if buffer:
        parts.append(_lit(buffer))
    if not parts:
        return _lit("")
    return parts[0] if len(parts) == 1 else z3.Concat(*parts)


def _arn_re(pattern: str) -> z3.ReRef | None:
    """ArnLike/ArnEquals: six parts compared one by one, each a glob (the
    resource part may hold colons)."""
    parts = V.parse_arn(pattern)
    if parts is None:
        return None
    out = []
    for i, part in enumerate(parts):
        if i:
            out.append(_lit(":"))
        out.append(_glob_re(part, crosses_colon=i == 5))
    return z3.Concat(*out)


_ARN_SHAPE = z3.Concat(*([z3.Star(_NOT_COLON), _lit(":")] * 5 + [z3.Star(_PRINTABLE)]))


def encode(clause: ConditionClause, ctx: SymbolicContext) -> z3.BoolRef:
    operator = clause.operator
    op = OPERATORS.get(operator.base) if operator.base else None
    if op is None:
        return z3.BoolVal(False)  # the kernel: an unknown operator is false
    if operator.qualifier is not None:
        raise Unsupported(f"{operator.text}: set operators are not encoded yet")
    if any(v.template is not None and any(type(p) is not str for p in v.template) for v in clause.values):
        raise Unsupported(f"policy variables in condition values ({clause.key}) are not encoded yet")
    key = clause.key
    present, several = ctx.present(key), ctx.several(key)
    if op.value_type is ValueType.NULL:
        wanted = [V.parse_bool(v.text) for v in clause.values]
        if any(w is None for w in wanted):
            return z3.BoolVal(False)
        return z3.Or(*[z3.Not(present) if w else present for w in wanted]) if wanted else z3.BoolVal(False)
    hits = _hits(op, key, [v.text for v in clause.values], ctx)
    if hits is None:
        return z3.BoolVal(False)  # an unreadable policy value: never true
    readable_single = z3.And(present, z3.Not(several), z3.Not(ctx.unreadable(key, op.value_type)))
    satisfied = z3.And(readable_single, z3.Not(hits) if op.negated else hits)
    missing = z3.BoolVal(True) if (operator.if_exists or op.negated) else z3.BoolVal(False)
    return z3.Or(z3.And(z3.Not(present), missing), satisfied)


def _hits(op, key: str, texts: list[str], ctx: SymbolicContext) -> z3.BoolRef | None:
    """Whether the request value matches some policy value (positively)."""
    vt = op.value_type
    if vt is ValueType.BINARY:
        raise Unsupported("BinaryEquals is not encoded yet")
    var = ctx.value(key, vt)
    if vt is ValueType.STRING and op.wildcards and texts:
        # One membership of the union, not one per value: several regex
        # memberships on one string variable make Z3 stall (MEASURED.md).
        globs = [_glob_re(t) for t in texts]
        return z3.InRe(var, globs[0] if len(globs) == 1 else z3.Union(*globs))
    terms = []
    for text in texts:
        if vt is ValueType.STRING:
            if op.ignore_case:
                raise Unsupported("the IgnoreCase operators are not encoded yet")
            else:
                terms.append(var == z3.StringVal(text))
        elif vt is ValueType.ARN:
            rx = _arn_re(text)
            if rx is None:
                return None
            terms.append(z3.And(z3.InRe(var, _ARN_SHAPE), z3.InRe(var, rx)))
        elif vt in (ValueType.NUMERIC, ValueType.DATE):
            parsed = V.parse_number(text) if vt is ValueType.NUMERIC else V.parse_date(text)
            if parsed is None:
                return None
            bound = z3.RealVal(str(parsed)) if vt is ValueType.NUMERIC else z3.RealVal(str(parsed.timestamp()))
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
            if net.version != 4:
                raise Unsupported("IPv6 CIDRs are not encoded yet")
            mask = int(net.netmask)
            terms.append(z3.And(z3.Not(ctx.ipv6(key)), (var & mask) == int(net.network_address)))
    return z3.Or(*terms) if terms else z3.BoolVal(False)


def witness_value(ctx: SymbolicContext, model: z3.ModelRef, key: str):
    """The request context value of ``key`` in a model, as a scenario gives it
    (None when the key is absent)."""
    if not z3.is_true(model.eval(ctx.present(key), model_completion=True)):
        return None
    for (kind, k), var in ctx.variables.items():
        if k != key.lower() or not kind.startswith("value-"):
            continue
        unreadable = ctx.variables.get((kind.replace("value-", "unreadable-"), k))
        if unreadable is not None and z3.is_true(model.eval(unreadable, model_completion=True)) \
                and var.sort() != z3.StringSort():
            return "unreadable-value"
        value = model.eval(var, model_completion=True)
        if var.sort() == z3.StringSort():
            text = value.as_string()
        elif z3.is_bool(value):
            text = "true" if z3.is_true(value) else "false"
        elif z3.is_bv(var):
            text = str(ipaddress.IPv4Address(value.as_long()))
        else:
            text = value.as_decimal(6).rstrip("?")
            if kind == "value-Date":
                text = str(int(float(text)))
        values = [text, text] if z3.is_true(model.eval(ctx.several(key), model_completion=True)) else text
        return values
    return "x"
