"""Glob matching in time linear in the text, for every place a policy's
pattern meets a request string (actions, resources, StringLike/ArnLike).

A glob written as a backtracking regex with one ``.*`` per ``*`` takes time
exponential in the number of stars on a near miss (``s3:?*?*?*?*…Q``): a
policy is input from anyone who can open a pull request. Here a glob is a
sequence of tokens — literal text, ``?`` (one character) and ``*`` (any run) —
each wildcard either crossing colons or staying inside an ARN segment.

Between two stars lies a chunk of fixed length. Placing each chunk at its
leftmost possible position never loses a match (the text left over is the
longest possible, and the next star absorbs the difference), so every star
but the last can commit to its shortest extension: ``(?>.*?chunk)``, an atomic
group Python's engine never re-enters. The leftmost argument also holds for a
star that stays in its segment followed by another such star (the text the
second one must absorb then holds no colon: it lies inside the first one's
run, or inside a chunk whose colon would have stopped that run — provided the
chunk's ``?`` match no colon either). It fails when a star crossing colons,
or a ``?`` crossing them, comes before a star that does not; those globs (a
segment ending in ``*`` before a segment with ``*`` inside it — rare) are run
by a plain NFA simulation, also linear. Both are held to the backtracking
regex by tests/test_globs.py.
"""

from __future__ import annotations

import re
from functools import lru_cache

ANY = True  # the wildcard may match a colon
IN_SEGMENT = False  # it may not

# A token: ("lit", text) | ("one", crosses) | ("star", crosses)
Token = tuple


def tokens(text: str, crosses: bool = ANY) -> tuple[Token, ...]:
    """``*`` and ``?`` in ``text`` as wildcards of one kind; the rest literal."""
    out: list[Token] = []
    for c in text:
        if c == "*":
            out.append(("star", crosses))
        elif c == "?":
            out.append(("one", crosses))
        elif out and out[-1][0] == "lit":
            out[-1] = ("lit", out[-1][1] + c)
        else:
            out.append(("lit", c))
    return tuple(out)


def literal(text: str) -> tuple[Token, ...]:
    return (("lit", text),) if text else ()


def _collapsed(glob: tuple[Token, ...]) -> tuple[Token, ...]:
    """A run of the same star is one star (``**`` reads what ``*`` reads):
    a pattern of thousands of stars is then a short regex, not thousands of
    nested groups for the regex compiler to read."""
    return tuple(t for i, t in enumerate(glob) if not (t[0] == "star" and i and glob[i - 1] == t))


def _char(crosses: bool) -> str:
    return "." if crosses else "[^:]"


def regex_body(glob: tuple[Token, ...]) -> str | None:
    """A regex body that Python's engine matches in linear time, or None when
    the leftmost placement could miss a match (a star crossing colons before
    one that does not): use ``Nfa`` for those."""
    glob = _collapsed(glob)
    chunks: list[list[str]] = [[]]
    stars: list[bool] = []
    crossing_one = [False]  # whether the chunk holds a ? that may match a colon
    for kind, value in glob:
        if kind == "star":
            stars.append(value)
            chunks.append([])
            crossing_one.append(False)
        elif kind == "one":
            chunks[-1].append(_char(value))
            crossing_one[-1] = crossing_one[-1] or value
        else:
            chunks[-1].append(re.escape(value))
    # A star kept inside its segment must absorb, colon-free, whatever the
    # leftmost placement of the chunk before it leaves over: true when the
    # star before that chunk kept to its segment too and the chunk's
    # wildcards match no colon (the module's docstring).
    for i in range(1, len(stars)):
        if not stars[i] and (stars[i - 1] or crossing_one[i]):
            return None
    body = ["".join(chunks[0])]
    for i, crosses in enumerate(stars):
        chunk = "".join(chunks[i + 1])
        if i + 1 < len(stars):
            body.append(f"(?>{_char(crosses)}*?{chunk})")
        else:
            body.append(f"{_char(crosses)}*{chunk}")
    return "".join(body)


# Folding ASCII letters only, as the regex path does (re.IGNORECASE | re.ASCII).
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


class Nfa:
    """A glob run as a set of positions over the tokens: time O(text × glob)."""

    __slots__ = ("glob", "fold")

    def __init__(self, glob: tuple[Token, ...], ignore_case: bool = False):
        self.fold = ignore_case
        glob = _collapsed(glob)
        if ignore_case:
            glob = tuple((k, v.translate(_ASCII_LOWER)) if k == "lit" else (k, v) for k, v in glob)
        # One token per character, so that a position is a token index.
        flat: list[Token] = []
        for kind, value in glob:
            flat.extend(("lit", c) for c in value) if kind == "lit" else flat.append((kind, value))
        self.glob = tuple(flat)

    def _close(self, states: set[int]) -> set[int]:
        out = set(states)
        todo = list(states)
        while todo:
            i = todo.pop()
            if i < len(self.glob) and self.glob[i][0] == "star" and i + 1 not in out:
                out.add(i + 1)
                todo.append(i + 1)
        return out

    def fullmatch(self, text: str) -> bool | None:
        if self.fold:
            text = text.translate(_ASCII_LOWER)
        glob, end = self.glob, len(self.glob)
        states = self._close({0})
        for c in text:
            step = set()
            for i in states:
                if i == end:
                    continue
                kind, value = glob[i]
                if kind == "star":
                    if value or c != ":":
                        step.add(i)
                elif kind == "one":
                    if value or c != ":":
                        step.add(i + 1)
                elif value == c:
                    step.add(i + 1)
            if not step:
                return None
            states = self._close(step)
        return True if end in states else None


@lru_cache(maxsize=65536)
def compile_glob(glob: tuple[Token, ...], ignore_case: bool = False):
    """An object whose ``fullmatch(text)`` is truthy when the glob matches."""
    body = regex_body(glob)
    if body is None:
        return Nfa(glob, ignore_case)
    # Case folds ASCII letters only: action names are ASCII, and Unicode
    # folding would let "s3:Liſt*" (U+017F) match s3:ListBucket.
    return re.compile(body, re.DOTALL | (re.IGNORECASE | re.ASCII if ignore_case else 0))


# Globs longer than this (in characters) are built from a request's values
# (a policy variable substituted, a context value): they are compiled for the
# one use and not kept — the caches above are bounded by count, and tens of
# thousands of 500 KB patterns would hold gigabytes.
LONG = 4096


def glob_chars(glob: tuple[Token, ...]) -> int:
    return sum(len(value) if kind == "lit" else 1 for kind, value in glob)


def literal_chars(glob: tuple[Token, ...]) -> int:
    """Characters any text the glob matches has at least (its letters and ``?``s)."""
    return sum(len(value) if kind == "lit" else kind == "one" for kind, value in glob)


def compile_glob_once(glob: tuple[Token, ...], ignore_case: bool = False):
    """compile_glob for a glob used once (see LONG): the re module's own
    cache of its last 512 patterns would keep it, so it is emptied after (what
    this module reuses is held by its own caches, not by re's)."""
    found = compile_glob.__wrapped__(glob, ignore_case)
    re.purge()
    return found


def union(bodies: list[str]) -> re.Pattern:
    """One regex for several linear bodies: each alternative stays linear."""
    return re.compile("|".join(f"(?:{b})" for b in dict.fromkeys(bodies)), re.DOTALL)
