"""The symbolic side of kernel/matching.py: resource patterns as Z3 regular
expressions (the same segment rule: a wildcard stays inside its segment,
except a ``*`` ending one or standing in the resource part), and actions
split into classes that every statement treats alike.

Several regex memberships on one string variable make Z3 time out
(MEASURED.md), so every question asks one membership of one combined
regex; this module only builds the pieces.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import z3

from ..kernel.catalogue import CATALOGUE, Catalogue
from ..translator.model import ActionPattern, ResourcePattern


class Unsupported(Exception):
    """A construct the encoding does not cover yet: the answer is UNKNOWN."""


# Witnesses are made of printable ASCII other than the wildcards, so that a
# witness is a realistic request.
_PRINTABLE = z3.Union(z3.Range(" ", ")"), z3.Range("+", ">"), z3.Range("@", "~"))
_NOT_COLON = z3.Union(z3.Range(" ", ")"), z3.Range("+", "9"), z3.Range(";", ">"), z3.Range("@", "~"))


def _lit(text: str) -> z3.ReRef:
    return z3.Re(z3.StringVal(text))


def _concat(parts: list[z3.ReRef]) -> z3.ReRef:
    if not parts:
        return _lit("")
    return parts[0] if len(parts) == 1 else z3.Concat(*parts)


@lru_cache(maxsize=65536)
def resource_re(text: str) -> z3.ReRef:
    """A Resource pattern (no variables) as a regex over request resources."""
    if text == "*":
        return z3.Star(_PRINTABLE)
    parts = text.split(":", 5)
    out: list[z3.ReRef] = []
    for i, segment in enumerate(parts):
        if i:
            out.append(_lit(":"))
        resource_part = i == 5
        buffer = ""
        for j, c in enumerate(segment):
            if c in "*?":
                if buffer:
                    out.append(_lit(buffer))
                    buffer = ""
                if c == "*":
                    crosses = resource_part or j == len(segment) - 1
                    out.append(z3.Star(_PRINTABLE if crosses else _NOT_COLON))
                else:
                    out.append(_PRINTABLE if resource_part else _NOT_COLON)
            else:
                buffer += c
        if buffer:
            out.append(_lit(buffer))
    return _concat(out)


def pattern_re(pattern: ResourcePattern) -> z3.ReRef:
    if pattern.is_any:
        return z3.Star(_PRINTABLE)
    if pattern.arn_parts is None:
        return z3.Empty(z3.ReSort(z3.StringSort()))
    if pattern.resource is not None and any(type(p) is not str for p in pattern.resource):
        raise Unsupported(f"policy variables in Resource ({pattern.text}) are not encoded yet")
    return resource_re(pattern.text)


_PLACEHOLDER = re.compile(r"\$\{[^}]*\}")
# Identifier characters for a placeholder of a typed ARN: letters, digits,
# - . _ (and / in the last one, for paths and object keys); never a colon,
# which no resource id holds.
_ID = z3.Union(z3.Range("a", "z"), z3.Range("A", "Z"), z3.Range("0", "9"), z3.Range("-", "."), _lit("_"))
_ID_PATH = z3.Union(z3.Range("a", "z"), z3.Range("A", "Z"), z3.Range("-", "9"), _lit("_"))


@lru_cache(maxsize=4096)
def arn_format_re(arn_format: str) -> z3.ReRef:
    """A catalogue ARN format (``arn:${Partition}:s3:::${BucketName}/${ObjectName}``)
    as the regex of the ARNs it describes (typed mode)."""
    out: list[z3.ReRef] = []
    pos = 0
    placeholders = list(_PLACEHOLDER.finditer(arn_format))
    for m in placeholders:
        if m.start() > pos:
            out.append(_lit(arn_format[pos:m.start()]))
        name = m.group()[2:-1]
        if name == "Partition":
            out.append(z3.Union(_lit("aws"), _lit("aws-cn"), _lit("aws-us-gov")))
        elif name == "Account":
            out.append(z3.Plus(z3.Range("0", "9")))  # a bounded loop of 12 slows Z3 tenfold
        elif name == "Region":
            out.append(z3.Plus(z3.Union(z3.Range("a", "z"), z3.Range("0", "9"), _lit("-"))))
        else:
            out.append(z3.Plus(_ID_PATH if m is placeholders[-1] else _ID))
        pos = m.end()
    if pos < len(arn_format):
        out.append(_lit(arn_format[pos:]))
    return _concat(out)


# ---------------------------------------------------------------- actions


@dataclass(frozen=True)
class ActionClass:
    """Actions that every statement of the compared policies treats alike and
    whose resources have the same formats."""

    actions: tuple[str, ...]
    arn_formats: tuple[str, ...]  # () : the action takes only "*"

    @property
    def representative(self) -> str:
        return self.actions[0]


def _expansion(pattern: ActionPattern, catalogue: Catalogue) -> frozenset[str]:
    return frozenset(a.lower() for a in catalogue.expand(pattern.text))


def action_classes(statement_patterns: list[tuple[tuple[ActionPattern, ...] | None, tuple[ActionPattern, ...] | None]],
                   relevant: frozenset[str], catalogue: Catalogue = CATALOGUE) -> list[ActionClass]:
    """Split ``relevant`` actions by which statements' Action/NotAction apply
    to them, and by their resource formats."""
    expansions = []
    for action, not_action in statement_patterns:
        patterns = action if action is not None else not_action or ()
        matched = frozenset().union(*(_expansion(p, catalogue) for p in patterns)) if patterns else frozenset()
        expansions.append((matched, not_action is not None))
    by_key: dict[tuple, list[str]] = {}
    for full in sorted(relevant):
        applies = tuple((full in matched) != negated for matched, negated in expansions)
        service, _, name = full.partition(":")
        details = catalogue.action(service, name)
        proper = f"{service}:{details['name']}" if details else full
        formats = tuple(sorted({fmt for _, fmt, _ in catalogue.resource_types_for(proper)}))
        by_key.setdefault((applies, formats), []).append(proper)
    return [ActionClass(tuple(actions), key[1]) for key, actions in by_key.items()]


def relevant_actions(patterns: tuple[ActionPattern, ...] | None, not_patterns: tuple[ActionPattern, ...] | None,
                     catalogue: Catalogue = CATALOGUE) -> frozenset[str]:
    """The catalogue's actions a statement's Action (or NotAction) applies to."""
    if patterns is not None:
        return frozenset().union(*(_expansion(p, catalogue) for p in patterns)) if patterns else frozenset()
    excluded = frozenset().union(*(_expansion(p, catalogue) for p in not_patterns or ()))
    return _all_actions(catalogue) - excluded


@lru_cache(maxsize=2)
def _all_actions(catalogue: Catalogue) -> frozenset[str]:
    return frozenset(a.lower() for a in catalogue.expand("*"))
