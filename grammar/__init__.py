"""The IAM policy language as Lark grammars, and the readers built on them.

Each ``*.lark`` file beside this one is the definition of one language:

- ``policy.lark``   the policy document (JSON with exact positions)
- ``action.lark``   an Action / NotAction entry
- ``resource.lark`` a Resource / NotResource entry (ARN pattern)
- ``variable.lark`` a policy variable ``${key, 'default'}``
- ``template.lark`` a string that may hold policy variables
- ``operator.lark`` a condition operator name

Reading 1,000 policies through Lark alone costs seconds, so every reader here
has a fast path: a compiled regular expression written to accept a subset of
what the grammar accepts and to produce the same result; anything outside that
subset goes to Lark. tests/test_grammar_fast_paths.py checks the two agree.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from typing import NamedTuple

from lark import Lark, Token, Transformer
from lark.exceptions import LarkError

__all__ = [
    "ActionSyntax",
    "ArnSyntax",
    "OperatorSyntax",
    "VariableSyntax",
    "grammar_text",
    "lark_parser",
    "parse_action",
    "parse_operator",
    "parse_resource",
    "parse_template",
    "parse_variable",
]


def grammar_text(name: str) -> str:
    return resources.files(__package__).joinpath(f"{name}.lark").read_text(encoding="utf-8")


@lru_cache(maxsize=None)
def lark_parser(name: str) -> Lark:
    """The LALR parser for one grammar, built once (a build costs ~40 ms)."""
    return Lark(grammar_text(name), parser="lalr", propagate_positions=(name == "policy"), maybe_placeholders=False)


# ---------------------------------------------------------------- results


class ActionSyntax(NamedTuple):
    """``service`` is None for the lone ``*``. ``names_action`` is False for an
    entry IAM stores but that can match no action: a name holding anything
    but letters, digits, ``_ . -`` and the wildcards (``iam: asdf``,
    ``s3:GetObject,PutObject``), or no name at all (``s3:``)."""

    service: str | None
    name: str
    names_action: bool = True


class VariableSyntax(NamedTuple):
    """``${key}`` / ``${key, 'default'}``, or an escape ``${*}`` ``${?}`` ``${$}``
    (then ``key`` is None and ``escape`` the literal character)."""

    text: str
    key: str | None
    default: str | None
    escape: str | None


Piece = str | VariableSyntax


class ArnSyntax(NamedTuple):
    """``parts`` are the segments after ``arn:`` up to the resource part
    (partition, service, region, account; fewer when the text is short);
    ``resource`` is None when the text has fewer than six parts."""

    parts: tuple[str, ...]
    resource: tuple[Piece, ...] | None


class OperatorSyntax(NamedTuple):
    qualifier: str | None
    base: str
    if_exists: bool


# ---------------------------------------------------------------- actions

_ACTION_FAST = re.compile(r"([A-Za-z0-9_.\-]+):([A-Za-z0-9_.\-*?]+)")
# The names that can match an action (real action names are letters and digits).
_ACTION_NAME = re.compile(r"[A-Za-z0-9_.\-*?]+")


@lru_cache(maxsize=65536)
def parse_action(text: str) -> ActionSyntax | None:
    """An Action entry, or None when it is not one (the caller says why)."""
    if text == "*":
        return ActionSyntax(None, "*")
    m = _ACTION_FAST.fullmatch(text)
    if m:
        return ActionSyntax(m.group(1), m.group(2))
    return _lark_action(text)


def _lark_action(text: str) -> ActionSyntax | None:
    try:
        tree = lark_parser("action").parse(text)
    except LarkError:
        return None
    if tree.data == "any_action":
        return ActionSyntax(None, "*")
    service, name = (tree.children + [""])[:2]
    name = str(name)
    return ActionSyntax(str(service), name, bool(_ACTION_NAME.fullmatch(name)))


# ---------------------------------------------------------------- variables

_VARIABLE_FAST = re.compile(r"\$\{([A-Za-z0-9:/_.\-+=@]+)\}")


@lru_cache(maxsize=65536)
def parse_variable(text: str) -> VariableSyntax | None:
    """One ``${...}`` token, or None when its inside is malformed."""
    m = _VARIABLE_FAST.fullmatch(text)
    if m:
        return VariableSyntax(text, m.group(1), None, None)
    return _lark_variable(text)


class _VariableTree(Transformer):
    def __init__(self, text: str):
        super().__init__()
        self.text = text

    def escape(self, children):
        return VariableSyntax(self.text, None, None, str(children[0]))

    def reference(self, children):
        key = str(children[0])
        default = str(children[1])[1:-1] if len(children) > 1 else None
        return VariableSyntax(self.text, key, default, None)

    def start(self, children):
        return children[0]


def _lark_variable(text: str) -> VariableSyntax | None:
    try:
        return _VariableTree(text).transform(lark_parser("variable").parse(text))
    except LarkError:
        return None


# ---------------------------------------------------------------- templates

_VARIABLE_TOKEN = re.compile(r"\$\{[^}]*\}")


@lru_cache(maxsize=65536)
def parse_template(text: str) -> tuple[Piece, ...] | None:
    """Split a string into literal text and variables; None if a variable is
    malformed. A string with no ``${`` is one literal (the fast path)."""
    if "${" not in text:
        return (text,) if text else ()
    try:
        tokens = lark_parser("template").parse(text).children
    except LarkError:
        return None
    return _pieces(tokens)


def _pieces(tokens: list[Token]) -> tuple[Piece, ...] | None:
    pieces: list[Piece] = []
    for token in tokens:
        if token.type == "VARIABLE":
            variable = parse_variable(str(token))
            if variable is None:
                return None
            pieces.append(variable)
        else:
            pieces.append(str(token))
    return tuple(pieces)


# ---------------------------------------------------------------- resources

_ARN_FAST = re.compile(r"arn:([^:$]+):([^:$]+):([^:$]*):([^:$]*):([^$]*)")


@lru_cache(maxsize=65536)
def parse_resource(text: str) -> ArnSyntax | None:
    """A Resource entry: ``*`` (parts empty, resource None) or an ARN pattern.
    None when the text is not an ARN at all (no ``arn:`` prefix, a malformed
    variable); how AWS words that is the validator's business."""
    if text == "*":
        return ArnSyntax((), None)
    m = _ARN_FAST.fullmatch(text)
    if m:
        resource = m.group(5)
        return ArnSyntax(m.group(1, 2, 3, 4), (resource,) if resource else ())
    return _lark_resource(text)


def _lark_resource(text: str) -> ArnSyntax | None:
    try:
        tree = lark_parser("resource").parse(text)
    except LarkError:
        return None
    if tree.data == "any_resource":
        return ArnSyntax((), None)
    parts: list[str] = []
    resource: tuple[Piece, ...] | None = None
    for child in tree.children:
        if child.data == "segment":
            parts.append(str(child.children[0]) if child.children else "")
        else:
            resource = _pieces(child.children)
            if resource is None:
                return None
    return ArnSyntax(tuple(parts), resource)


# ---------------------------------------------------------------- operators


@lru_cache(maxsize=4096)
def parse_operator(text: str) -> OperatorSyntax | None:
    """A condition operator name, or None when the grammar does not know it."""
    try:
        tokens = lark_parser("operator").parse(text).children
    except LarkError:
        return None
    qualifier = next((str(t) for t in tokens if t.type == "QUALIFIER"), None)
    base = next(str(t) for t in tokens if t.type == "BASE")
    return OperatorSyntax(qualifier, base, any(t.type == "IF_EXISTS" for t in tokens))
