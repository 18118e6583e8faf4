"""The request context: condition keys and their values, looked up the way IAM
does (SEMANTICS §4: key names are case-insensitive), and policy variables
resolved from it (§5).

Deliberate reading, pinned in tests/cases/conditions: the whole key name is
case-insensitive, tag-key suffix included (``aws:ResourceTag/Team`` =
``aws:resourcetag/team``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Union

from ..translator.model import Escape, Template

ContextValue = Union[str, tuple[str, ...]]


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class RequestContext:
    """Immutable mapping of lower-cased key → value (a string, or a tuple of
    strings for a multi-valued key)."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, object] | None = None):
        normalized: dict[str, ContextValue] = {}
        for key, value in (values or {}).items():
            if isinstance(value, (list, tuple)):
                normalized[key.lower()] = tuple(_text(v) for v in value)
            else:
                normalized[key.lower()] = _text(value)
        self._values = normalized

    @classmethod
    def merged(cls, base: "RequestContext", extra: Mapping[str, object]) -> "RequestContext":
        """``base`` (already normalized) with ``extra``'s keys over it."""
        context = cls.__new__(cls)
        values = dict(base._values)
        for key, value in extra.items():
            if type(value) is str:
                values[key.lower()] = value
            elif isinstance(value, (list, tuple)):
                values[key.lower()] = tuple(_text(v) for v in value)
            else:
                values[key.lower()] = _text(value)
        context._values = values
        return context

    @property
    def values(self) -> Mapping[str, ContextValue]:
        """The values by lower-cased key."""
        return self._values

    def get(self, key: str) -> ContextValue | None:
        return self._values.get(key.lower())

    def has(self, key: str) -> bool:
        return key.lower() in self._values

    def items(self):
        return self._values.items()

    def resolve(self, template: Template) -> tuple[tuple[str, bool], ...] | None:
        """The template as (text, is_pattern) runs: policy text keeps its
        wildcards; variable values and escapes are literal. None when a
        variable without default is absent."""
        out = []
        for piece in template:
            if type(piece) is str:
                out.append((piece, True))
            elif type(piece) is Escape:
                out.append((piece.char, False))
            else:
                value = self._values.get(piece.key.lower())
                if isinstance(value, str):
                    out.append((value, False))
                elif piece.default is not None:
                    out.append((piece.default, False))
                else:
                    return None
        return tuple(out)

    def substitute(self, template: Template) -> str | None:
        """The template with its variables replaced; None when a variable's
        key is absent (or multi-valued) and has no default: the entry then
        matches nothing (§5)."""
        if len(template) == 1 and type(template[0]) is str:
            return template[0]
        out = []
        for piece in template:
            if type(piece) is str:
                out.append(piece)
                continue
            if type(piece) is Escape:
                out.append(piece.char)
                continue
            value = self._values.get(piece.key.lower())
            if isinstance(value, str):
                out.append(value)
            elif piece.default is not None:
                out.append(piece.default)
            else:
                return None
        return "".join(out)
