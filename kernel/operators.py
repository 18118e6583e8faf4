"""The condition operator table (SEMANTICS §4): the one place that says, for each
of the 27 operators, what its values are and how it behaves.

Everything that touches conditions reads this table: the grammar's operator
names, the validator's value checks, the kernel's matching and the proofs'
encoding. A name absent from it is an unknown operator and is reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ValueType(StrEnum):
    STRING = "String"
    NUMERIC = "Numeric"
    DATE = "Date"
    BOOL = "Bool"
    BINARY = "Binary"
    IP_ADDRESS = "IpAddress"
    ARN = "Arn"
    NULL = "Null"


@dataclass(frozen=True, slots=True)
class Operator:
    name: str
    value_type: ValueType
    # A negated operator is true when the request value matches none of the
    # policy values, and true when the key is missing (SEMANTICS §4).
    negated: bool
    wildcards: bool
    # Policy variables are substituted in String, Arn and Bool values (§5;
    # the condition-operators page lists Bool as supporting them, and AWS
    # substitutes there: docs/readings.md).
    variables: bool
    ignore_case: bool = False


def _op(name: str, vt: ValueType, *, negated=False, wildcards=False, ignore_case=False) -> Operator:
    return Operator(name, vt, negated, wildcards, vt in (ValueType.STRING, ValueType.ARN, ValueType.BOOL), ignore_case)


S, N, D, A = ValueType.STRING, ValueType.NUMERIC, ValueType.DATE, ValueType.ARN

OPERATORS: dict[str, Operator] = {
    op.name: op
    for op in (
        _op("StringEquals", S),
        _op("StringNotEquals", S, negated=True),
        _op("StringEqualsIgnoreCase", S, ignore_case=True),
        _op("StringNotEqualsIgnoreCase", S, negated=True, ignore_case=True),
        _op("StringLike", S, wildcards=True),
        _op("StringNotLike", S, negated=True, wildcards=True),
        _op("NumericEquals", N),
        _op("NumericNotEquals", N, negated=True),
        _op("NumericLessThan", N),
        _op("NumericLessThanEquals", N),
        _op("NumericGreaterThan", N),
        _op("NumericGreaterThanEquals", N),
        _op("DateEquals", D),
        _op("DateNotEquals", D, negated=True),
        _op("DateLessThan", D),
        _op("DateLessThanEquals", D),
        _op("DateGreaterThan", D),
        _op("DateGreaterThanEquals", D),
        _op("Bool", ValueType.BOOL),
        _op("BinaryEquals", ValueType.BINARY),
        _op("IpAddress", ValueType.IP_ADDRESS),
        _op("NotIpAddress", ValueType.IP_ADDRESS, negated=True),
        # Arn operators compare the six parts one by one, each as a glob (§4).
        _op("ArnEquals", A, wildcards=True),
        _op("ArnLike", A, wildcards=True),
        _op("ArnNotEquals", A, negated=True, wildcards=True),
        _op("ArnNotLike", A, negated=True, wildcards=True),
        _op("Null", ValueType.NULL),
    )
}

QUALIFIERS = ("ForAnyValue", "ForAllValues")
