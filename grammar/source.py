"""Exact positions in a policy's source text.

A policy is read twice, by two readers that must agree: ``json.loads`` (C speed)
gives the values the model is built from, and the Lark grammar ``policy.lark``
gives every value's and every key's span. The second read is lazy: it runs the
first time a span is asked for (a finding, an explanation), so a batch of valid
policies never pays for it. tests/test_source_positions.py checks that both
readers see the same document.
"""

from __future__ import annotations

import bisect
import json
from dataclasses import dataclass
from typing import Any

from functools import lru_cache

from lark import Lark, Token, Transformer, Tree
from lark.exceptions import LarkError

from ..errors import QUOTE_CHARS, quote
from . import grammar_text, lark_parser

JsonPath = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Span:
    """``start``/``end`` are 0-based character offsets (end exclusive);
    lines and columns are 1-based, as editors and SARIF count them."""

    start: int
    end: int
    line: int
    column: int
    end_line: int
    end_column: int

    def to_dict(self) -> dict[str, int]:
        return {
            "offset": self.start,
            "end_offset": self.end,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
        }


def json_path(path: JsonPath) -> str:
    """``("Statement", 0, "Action")`` → ``$.Statement[0].Action``."""
    out = ["$"]
    for step in path:
        if isinstance(step, int):
            out.append(f"[{step}]")
        elif len(step) > QUOTE_CHARS:  # a key from the input: never echoed whole
            out.append(f"[{quote(step)}]")
        elif step.isidentifier():
            out.append(f".{step}")
        else:
            out.append("[" + json.dumps(step) + "]")
    return "".join(out)


@dataclass(frozen=True, slots=True)
class DuplicateKey:
    path: JsonPath  # the object holding the key
    key: str
    span: Span  # of the repeated occurrence
    first: Span | None = None  # of the first occurrence


class Source:
    """One document's text, with its span index built on first use."""

    __slots__ = ("name", "text", "rendered", "_line_starts", "_values", "_keys", "_duplicates")

    def __init__(self, text: str, name: str = "<policy>", rendered: bool = False):
        self.name = name
        self.text = text
        # True when the text is this tool's rendering of a policy given as an
        # object: its positions are then not positions in anything the user wrote.
        self.rendered = rendered
        self._line_starts: list[int] | None = None
        self._values: dict[JsonPath, Span] | None = None
        self._keys: dict[JsonPath, Span] = {}
        self._duplicates: list[DuplicateKey] = []

    # -- offsets → line/column, for positions that come from elsewhere (json errors)

    def span_at(self, start: int, end: int | None = None) -> Span:
        end = start if end is None else end
        line, column = self._line_column(start)
        end_line, end_column = self._line_column(end)
        return Span(start, end, line, column, end_line, end_column)

    def _line_column(self, offset: int) -> tuple[int, int]:
        if self._line_starts is None:
            starts = [0]
            find = self.text.find
            i = find("\n")
            while i != -1:
                starts.append(i + 1)
                i = find("\n", i + 1)
            self._line_starts = starts
        line = bisect.bisect_right(self._line_starts, offset)
        return line, offset - self._line_starts[line - 1] + 1

    # -- spans of values and keys, by JSON path

    def span(self, path: JsonPath) -> Span | None:
        """The span of the value at ``path`` (None if the text has no such value)."""
        return self._index().get(path)

    def key_span(self, path: JsonPath) -> Span | None:
        """The span of the member name whose value is at ``path``."""
        self._index()
        return self._keys.get(path)

    def duplicate_keys(self) -> list[DuplicateKey]:
        self._index()
        return self._duplicates

    def _index(self) -> dict[JsonPath, Span]:
        if self._values is None:
            self._values = {}
            try:
                root = _span_parser().parse(self.text)
            except (LarkError, RecursionError):
                return self._values  # not JSON: callers fall back to offsets
            self._walk(root)
        return self._values

    def _walk(self, root: tuple) -> None:
        # Iterative: a document may nest deeper than Python's recursion limit.
        values = self._values
        stack: list[tuple[tuple, JsonPath]] = [(root, ())]
        while stack:
            node, path = stack.pop()
            kind = node[0]
            values[path] = node[1]
            if kind == "object":
                seen: dict[str, Span] = {}
                for key_text, key_span, value in node[2]:
                    key = json.loads(key_text)
                    child = path + (key,)
                    if key in seen:
                        self._duplicates.append(DuplicateKey(path, key, key_span, seen[key]))
                    seen.setdefault(key, key_span)
                    # As json.loads does, the last occurrence of a key is the value.
                    self._keys[child] = key_span
                    stack.append((value, child))
            elif kind == "array":
                for i, value in enumerate(node[2]):
                    stack.append((value, path + (i,)))

    # -- the values as the grammar reads them (used to check both readers agree)

    def grammar_value(self) -> Any:
        return _tree_value(lark_parser("policy").parse(self.text))


class _Nodes(Transformer):
    """The grammar's nodes as small tuples, built while parsing (no parse
    tree, no per-node position metadata, no token kept past its rule):
    (kind, span[, members or elements]), a member (key text, key span, value).
    With every token kept, an object's or array's first and last tokens are
    its brackets, so its span is theirs — the span propagate_positions gives
    the same node (tests/test_source_positions.py)."""

    def string(self, children):
        return ("value", _span(children[0], children[0]))

    number = true = false = null = string

    def member(self, children):  # STRING ":" value
        key = children[0]
        return (str(key), _span(key, key), children[2])

    def object(self, children):  # "{" member ("," member)* "}"
        return ("object", _span(children[0], children[-1]), children[1:-1:2])

    def array(self, children):  # "[" value ("," value)* "]"
        return ("array", _span(children[0], children[-1]), children[1:-1:2])


@lru_cache(maxsize=None)
def _span_parser() -> Lark:
    """policy.lark as an LALR parser that builds _Nodes as it goes: a tenth of
    the memory of the positioned tree, and a third less time, on a 900 KB
    document of empty statements."""
    return Lark(grammar_text("policy"), parser="lalr", keep_all_tokens=True, transformer=_Nodes(),
                maybe_placeholders=False)


def _span(first: Token, last: Token) -> Span:
    return Span(first.start_pos, last.end_pos, first.line, first.column, last.end_line, last.end_column)


def _tree_value(root: Tree) -> Any:
    # Iterative post-order build, for the same reason as _walk.
    result: list[Any] = []
    stack: list[tuple[Any, Any, Any]] = [(root, result, None)]
    while stack:
        node, parent, slot = stack.pop()
        kind = node.data
        if kind == "string":
            value: Any = json.loads(node.children[0])
        elif kind == "number":
            value = json.loads(node.children[0])
        elif kind in ("true", "false", "null"):
            value = {"true": True, "false": False, "null": None}[kind]
        elif kind == "object":
            value = {}
            for member in reversed(node.children):
                key_token, child = member.children
                stack.append((child, value, json.loads(key_token)))
        else:  # array
            value = [None] * len(node.children)
            for i, child in reversed(list(enumerate(node.children))):
                stack.append((child, value, i))
        if isinstance(parent, list) and slot is None:
            parent.append(value)
        else:
            parent[slot] = value
    return result[0]
