"""Resource questions decided on the glob automata themselves.

Resource patterns (and typed ARN formats) are sequences of literal
characters, one-character classes and starred classes (kernel/matching.py's
segment rule: a ``*`` inside a segment is "any character but a colon"). A
question "is there a resource in F ∩ (A_allow \\ A_deny) ∩ complement(B_allow
\\ B_deny)?" is answered by running every pattern's position-set automaton in
lock-step over a finite alphabet (printable ASCII and every literal the
patterns use) and searching breadth-first for an accepting combination: exact,
and the first resource found is a shortest one. Z3's regex solver stalls on
these intersections (MEASURED.md; see the proofs notes).
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass
from functools import lru_cache

# Item kinds: ("lit", char) | ("one", class) | ("star", class)
ANY = "any"  # printable except the wildcards themselves
NOT_COLON = "not_colon"
ID = "id"  # letters, digits, - . _
ID_PATH = "id_path"  # ID and / (path-like placeholders)
DIGIT = "digit"
REGION = "region"  # a-z 0-9 -

_PRINTABLE = [chr(c) for c in range(32, 127) if chr(c) not in "*?"]
_CLASSES = {
    ANY: frozenset(_PRINTABLE),
    NOT_COLON: frozenset(c for c in _PRINTABLE if c != ":"),
    ID: frozenset(c for c in _PRINTABLE if c.isalnum() or c in "-._"),
    ID_PATH: frozenset(c for c in _PRINTABLE if c.isalnum() or c in "-._/"),
    DIGIT: frozenset("0123456789"),
    REGION: frozenset("abcdefghijklmnopqrstuvwxyz0123456789-"),
}
# Search order: realistic characters first, so witnesses read naturally.
_ORDER = "abcdefghijklmnopqrstuvwxyz0123456789-_./ABCDEFGHIJKLMNOPQRSTUVWXYZ:"

Glob = tuple[tuple[str, str], ...]


@lru_cache(maxsize=65536)
def resource_glob(text: str) -> Glob:
    """A Resource pattern (no variables) as items, with the kernel's segment rule."""
    if text == "*":
        return (("star", ANY),)
    items = []
    segments = text.split(":", 5)
    for i, segment in enumerate(segments):
        if i:
            items.append(("lit", ":"))
        resource_part = i == 5
        for j, c in enumerate(segment):
            if c == "*":
                crosses = resource_part or j == len(segment) - 1
                items.append(("star", ANY if crosses else NOT_COLON))
            elif c == "?":
                items.append(("one", ANY if resource_part else NOT_COLON))
            else:
                items.append(("lit", c))
    return tuple(items)


_PLACEHOLDER = re.compile(r"\$\{[^}]*\}")
# Placeholders whose values may hold "/" (object keys, IAM paths, prefixes);
# other identifiers (bucket names, ids) never do.
_PATH_LIKE = re.compile(r"Path|ObjectName|Key|Prefix|Object$")


@lru_cache(maxsize=4096)
def format_globs(arn_format: str) -> tuple[Glob, ...]:
    """A catalogue ARN format as globs (one per partition)."""
    out = []
    for partition in ("aws", "aws-cn", "aws-us-gov"):
        items: list[tuple[str, str]] = []
        placeholders = list(_PLACEHOLDER.finditer(arn_format))
        pos = 0
        for m in placeholders:
            items.extend(("lit", c) for c in arn_format[pos:m.start()])
            name = m.group()[2:-1]
            if name == "Partition":
                items.extend(("lit", c) for c in partition)
            elif name == "Account":
                items += [("one", DIGIT)] * 12
            else:
                cls = REGION if name == "Region" else ID_PATH if _PATH_LIKE.search(name) else ID
                items += [("one", cls), ("star", cls)]
            pos = m.end()
        items.extend(("lit", c) for c in arn_format[pos:])
        out.append(tuple(items))
    return tuple(out)


def _closure(glob: Glob, positions: frozenset[int]) -> frozenset[int]:
    out = set(positions)
    for p in sorted(positions):
        q = p
        while q < len(glob) and glob[q][0] == "star":
            q += 1
            out.add(q)
    return frozenset(out)


def _step(glob: Glob, positions: frozenset[int], ch: str) -> frozenset[int]:
    nxt = set()
    for p in positions:
        if p >= len(glob):
            continue
        kind, value = glob[p]
        if kind == "lit":
            if value == ch:
                nxt.add(p + 1)
        elif ch in _CLASSES[value]:
            nxt.add(p if kind == "star" else p + 1)
    return _closure(glob, frozenset(nxt))


@dataclass(frozen=True)
class Term:
    """A union of globs, possibly complemented (NotResource)."""

    globs: tuple[Glob, ...]
    negated: bool = False


def find(formats: tuple[Glob, ...] | None, a_allow: list[Term], a_deny: list[Term], b_allow: list[Term],
         b_deny: list[Term], budget: int = 200_000) -> str | None | bool:
    """A resource in F ∩ (A_allow \\ A_deny) ∩ complement(B_allow \\ B_deny):
    the string, None if there is none, False if the search budget ran out."""
    terms = ([Term(formats)] if formats is not None else []) + a_allow + a_deny + b_allow + b_deny
    groups = (1 if formats is not None else 0, len(a_allow), len(a_deny), len(b_allow), len(b_deny))
    globs = [(t, i, g) for t, term in enumerate(terms) for i, g in enumerate(term.globs)]
    start = tuple(_closure(g, frozenset({0})) for _, _, g in globs)
    alphabet = [c for c in _ORDER] + sorted({v for _, _, g in globs for k, v in g if k == "lit"} - set(_ORDER)) \
        + [c for c in _PRINTABLE if c not in _ORDER]
    alphabet = list(dict.fromkeys(alphabet))

    def accepting(state) -> bool:
        hit = [False] * len(terms)
        for (t, _, g), positions in zip(globs, state):
            if len(g) in positions:
                hit[t] = True
        values = [h != term.negated for h, term in zip(hit, terms)]
        f, aa, ad, ba, bd = groups
        i = 0
        fmt_ok = all(values[i:i + f]) if f else True
        i += f
        a_ok = any(values[i:i + aa]) and not any(values[i + aa:i + aa + ad])
        i += aa + ad
        b_ok = any(values[i:i + ba]) and not any(values[i + ba:i + ba + bd])
        return fmt_ok and a_ok and not b_ok

    def alive(state) -> bool:
        # Prune: the format and at least one A-allow positive term must still be able to accept.
        f, aa = groups[0], groups[1]
        if f and not any(state[k] for k, (t, _, _) in enumerate(globs) if t == 0):
            return False
        return any(state[k] for k, (t, _, _) in enumerate(globs)
                   if f <= t < f + aa and not terms[t].negated) or any(terms[t].negated for t in range(f, f + aa))

    seen = {start: None}
    queue = deque([start])
    while queue:
        state = queue.popleft()
        if accepting(state):
            chars = []
            while seen[state] is not None:
                state, ch = seen[state]
                chars.append(ch)
            return "".join(reversed(chars))
        if len(seen) > budget:
            return False
        for ch in alphabet:
            nxt = tuple(_step(g, s, ch) for (_, _, g), s in zip(globs, state))
            if nxt not in seen and alive(nxt):
                seen[nxt] = (state, ch)
                queue.append(nxt)
    return None
