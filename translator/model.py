"""The policy model: immutable, typed, named in IAM's own words.

Every element keeps its JSON path (``path``) and, through the document's
``Source``, its exact line/column span (``span``, computed on first use).
A model is only ever built by translator/reader.py, from a document whose
findings were collected on the way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from ..grammar.source import JsonPath, Source, Span, json_path


class PolicyType(StrEnum):
    """The kinds of document. ``aws_managed`` is an input kind only: an AWS
    managed policy, read as the identity policy it is but without the
    customer-managed size quota (SEMANTICS §7); the model says ``identity``."""

    IDENTITY = "identity"
    RESOURCE = "resource"
    TRUST = "trust"
    SCP = "scp"
    RCP = "rcp"
    BOUNDARY = "boundary"
    SESSION = "session"
    VPC_ENDPOINT = "vpc_endpoint"
    AWS_MANAGED = "aws_managed"


class Effect(StrEnum):
    ALLOW = "Allow"
    DENY = "Deny"


@dataclass(frozen=True, slots=True)
class Element:
    """Where an element of the document is: its JSON path, and its span."""

    path: JsonPath
    source: Source = field(compare=False, repr=False)

    @property
    def json_path(self) -> str:
        return json_path(self.path)

    @property
    def span(self) -> Span | None:
        return self.source.span(self.path)


@dataclass(frozen=True, slots=True)
class Variable:
    """``${key}`` or ``${key, 'default'}`` inside a resource or condition value."""

    key: str
    default: str | None


@dataclass(frozen=True, slots=True)
class Escape:
    """``${*}`` ``${?}`` ``${$}``: the character itself, never a wildcard."""

    char: str


# A template is policy text (where * and ? are wildcards, in the places that
# have wildcards), variables and escapes, in order.
Template = tuple[str | Variable | Escape, ...]


@dataclass(frozen=True, slots=True)
class ActionPattern(Element):
    """``service:name`` with ``*``/``?`` in the name; ``service`` None for ``*``
    (and only for it). ``service`` is lower-cased: action names are
    case-insensitive (§3).

    ``names_action`` False: an entry IAM stores that names no action — a
    name with spaces, commas or ``${`` in it, or none (``iam: asdf``,
    ``s3:GetObject,PutObject``, ``s3:``; SEMANTICS §7). It matches no
    request: an Action of it allows or denies nothing, a NotAction of it
    excludes nothing. Its ``service`` and ``name`` are kept as written (never
    None, never ``*``), and its ``text`` holds a character no request action
    can, or an empty name, so reading it as a glob matches nothing either."""

    text: str = ""
    service: str | None = None
    name: str = "*"
    names_action: bool = True


@dataclass(frozen=True, slots=True)
class ResourcePattern(Element):
    """A Resource/NotResource entry. ``arn_parts`` holds partition, service,
    region, account as written (fewer when the text is short), ``resource`` the
    part after the fifth colon as a template (None when absent). For ``*``,
    ``is_any`` is set; for text that is no ARN, ``arn_parts`` is None."""

    text: str = ""
    is_any: bool = False
    arn_parts: tuple[str, ...] | None = None
    resource: Template | None = None


class PrincipalKind(StrEnum):
    ANY = "*"
    AWS = "AWS"
    SERVICE = "Service"
    FEDERATED = "Federated"
    CANONICAL_USER = "CanonicalUser"


@dataclass(frozen=True, slots=True)
class PrincipalEntry(Element):
    kind: PrincipalKind = PrincipalKind.ANY
    value: str = "*"


@dataclass(frozen=True, slots=True)
class ConditionOperator:
    """``ForAnyValue:StringLikeIfExists`` → qualifier, base, if_exists.
    ``base`` is None when the name is not an operator the grammar knows."""

    text: str
    qualifier: str | None
    base: str | None
    if_exists: bool


@dataclass(frozen=True, slots=True)
class ConditionValue(Element):
    """One value of a condition key. JSON numbers and booleans are kept as the
    text AWS compares (``1.50`` stays ``"1.50"``: no float rounding), with the
    JSON type they were written in; ``template`` splits out policy variables."""

    text: str = ""
    json_type: str = "string"  # string | number | boolean
    template: Template | None = None


@dataclass(frozen=True, slots=True)
class ConditionClause(Element):
    """One ``operator: {key: values}`` entry (path points at the key)."""

    operator: ConditionOperator = ConditionOperator("", None, None, False)
    key: str = ""
    values: tuple[ConditionValue, ...] = ()


@dataclass(frozen=True, slots=True)
class Statement(Element):
    """One statement. Exactly one of ``action``/``not_action`` is set in a valid
    statement; likewise ``resource``/``not_resource`` and
    ``principal``/``not_principal`` where the policy type has them."""

    index: int = 0
    sid: str | None = None
    effect: Effect | None = None
    principal: tuple[PrincipalEntry, ...] | None = None
    not_principal: tuple[PrincipalEntry, ...] | None = None
    action: tuple[ActionPattern, ...] | None = None
    not_action: tuple[ActionPattern, ...] | None = None
    resource: tuple[ResourcePattern, ...] | None = None
    not_resource: tuple[ResourcePattern, ...] | None = None
    condition: tuple[ConditionClause, ...] = ()

    @property
    def label(self) -> str:
        """How a person names this statement: its Sid, else its index."""
        return f"Sid {self.sid}" if self.sid else f"statement {self.index}"


@dataclass(frozen=True, slots=True)
class Policy(Element):
    policy_type: PolicyType = PolicyType.IDENTITY
    version: str | None = None
    id: str | None = None
    statements: tuple[Statement, ...] = ()

    @property
    def name(self) -> str:
        return self.source.name
