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
ANY = "any"  # every character
NOT_COLON = "not_colon"  # every character but ":"
ID = "id"  # letters, digits, - . _
ID_PATH = "id_path"  # ID and / (path-like placeholders)
DIGIT = "digit"
REGION = "region"  # a-z 0-9 -

_PRINTABLE = [chr(c) for c in range(32, 127) if chr(c) not in "*?"]
_CLASSES = {
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


def _in_class(value, ch: str) -> bool:
    # A class is a name from _CLASSES or an explicit set of characters. The
    # wildcards match every character, as the kernel's do; the alphabet, not
    # the class, keeps witnesses printable.
    if value == ANY:
        return True
    if value == NOT_COLON:
        return ch != ":"
    return ch in (value if type(value) is frozenset else _CLASSES[value])


def _step_char(glob: Glob, positions: frozenset[int], ch: str) -> frozenset[int]:
    nxt = set()
    for p in positions:
        if p >= len(glob):
            continue
        kind, value = glob[p]
        if kind == "lit":
            if value == ch:
                nxt.add(p + 1)
        elif _in_class(value, ch):
            nxt.add(p if kind == "star" else p + 1)
    return _closure(glob, frozenset(nxt))


def _step(glob: Glob, positions: frozenset[int], ch: str, fold: bool = False) -> frozenset[int]:
    if not fold:
        return _step_char(glob, positions, ch)
    # Case-insensitive: the request character is compared through its case
    # fold (the kernel casefolds both sides), which may be several characters.
    for c in ch.casefold():
        positions = _step_char(glob, positions, c)
    return positions


@dataclass(frozen=True)
class Term:
    """A union of globs, possibly complemented (NotResource, negated
    condition operators). ``fold``: the globs are case-folded and a string is
    matched through its case fold (the IgnoreCase operators)."""

    globs: tuple[Glob, ...]
    negated: bool = False
    fold: bool = False


@lru_cache(maxsize=1)
def _fold_variants() -> dict[str, frozenset[str]]:
    """Every character whose case fold holds a given character (so that a
    case-insensitive search also tries, say, the Kelvin sign for "k")."""
    out: dict[str, set[str]] = {}
    for code in range(0x10000):
        ch = chr(code)
        folded = ch.casefold()
        if folded != ch:
            for c in folded:
                out.setdefault(c, set()).add(ch)
    return {c: frozenset(v) for c, v in out.items()}


def _alphabet(terms) -> list[str]:
    """The characters worth trying: one per class of characters that every
    glob treats alike (realistic ones first, so witnesses read naturally),
    every literal the patterns use, and (for folded terms) every character
    that folds onto one. Any other string behaves as one spelled from these."""
    literals = {v for term in terms for g in term.globs for k, v in g if k == "lit"}
    classes = list(dict.fromkeys(v for term in terms for g in term.globs for k, v in g if k != "lit"))
    folded = set()
    if any(t.fold for t in terms):
        variants = _fold_variants()
        for c in literals | {c for v in classes if type(v) is frozenset for c in v}:
            folded |= variants.get(c, frozenset())
    out, signatures = [], set()
    for c in dict.fromkeys([*_ORDER, *sorted(literals - set(_ORDER)),
                            *(c for c in _PRINTABLE if c not in _ORDER), *sorted(folded)]):
        if c in literals or c in folded:
            out.append(c)
            continue
        signature = tuple(_in_class(v, c) for v in classes)
        if signature not in signatures:
            signatures.add(signature)
            out.append(c)
    return out


def _search(terms: list[Term], accepting, required: list[int], budget: int,
            required_any: list[list[int]] = ()) -> str | None | bool:
    """Breadth-first over the product of every term's glob automata: the
    shortest string whose membership vector ``accepting`` admits; None if
    there is none, False if the budget ran out. A branch is pruned when a term
    of ``required``, or every term of a group in ``required_any``, can no
    longer match."""
    globs = [(t, g, term.fold) for t, term in enumerate(terms) for g in term.globs]
    start = tuple(_closure(g, frozenset({0})) for _, g, _ in globs)
    alphabet = _alphabet(terms)
    of_term = [[k for k, (t, _, _) in enumerate(globs) if t == r] for r in range(len(terms))]
    must = [of_term[r] for r in required]
    some = [[k for r in group for k in of_term[r]] for group in required_any]

    def members(state) -> list[bool]:
        hit = [False] * len(terms)
        for (t, g, _), positions in zip(globs, state):
            if len(g) in positions:
                hit[t] = True
        return [h != term.negated for h, term in zip(hit, terms)]

    def alive(state) -> bool:
        for ks in some:
            if not any(state[k] for k in ks):
                return False
        return all(any(state[k] for k in ks) for ks in must)

    memo: list[dict] = [{} for _ in globs]

    def step(k: int, positions: frozenset[int], ch: str) -> frozenset[int]:
        table = memo[k]
        nxt = table.get((positions, ch))
        if nxt is None:
            _, g, fold = globs[k]
            nxt = table[(positions, ch)] = _step(g, positions, ch, fold)
        return nxt

    seen = {start: None}
    queue = deque([start])
    while queue:
        state = queue.popleft()
        if accepting(members(state)):
            chars = []
            while seen[state] is not None:
                state, ch = seen[state]
                chars.append(ch)
            return "".join(reversed(chars))
        if len(seen) > budget:
            return False
        for ch in alphabet:
            nxt = tuple([step(k, s, ch) for k, s in enumerate(state)])
            if nxt not in seen and alive(nxt):
                seen[nxt] = (state, ch)
                queue.append(nxt)
    return None


def _may_meet(g: Glob, h: Glob) -> bool:
    """False when the two globs' literal prefixes or suffixes conflict (then
    no string matches both); True otherwise (they may meet)."""
    for items in ((g, h), (g[::-1], h[::-1])):
        for x, y in zip(*items):
            if x[0] != "lit" or y[0] != "lit":
                break
            if x[1] != y[1]:
                return False
    return True


def find(formats: tuple[Glob, ...] | None, a_allow: list[Term], a_deny: list[Term], b_allow: list[Term],
         b_deny: list[Term], budget: int = 200_000) -> str | None | bool:
    """A resource in F ∩ (A_allow \\ A_deny) ∩ complement(B_allow \\ B_deny):
    the string, None if there is none, False if the search budget ran out."""
    return _find(formats, tuple(a_allow), tuple(a_deny), tuple(b_allow), tuple(b_deny), budget)


@lru_cache(maxsize=4096)
def _find(formats, a_allow, a_deny, b_allow, b_deny, budget):
    # Patterns the resource must match, one group each: an A-allow (unless
    # one is a NotResource), and — when B denies nothing — the patterns of
    # each of B's NotResource Allows (to escape it, it must be in them).
    groups = []
    if a_allow and not any(t.negated for t in a_allow):
        groups.append(("a", [g for t in a_allow for g in t.globs]))
    if not b_deny:
        for t in b_allow:
            if t.negated:
                if not t.globs:
                    return None  # B allows every resource
                groups.append(("b", list(t.globs)))
    if formats is not None:
        # A format glob disjoint from a required group adds nothing: drop it
        # (the catalogue's formats for "*" run to hundreds of globs).
        for _, wanted in groups:
            formats = tuple(g for g in formats if any(_may_meet(g, w) for w in wanted))
        if not formats:
            return None
    terms = ([Term(formats)] if formats is not None else []) + [*a_allow, *a_deny, *b_allow, *b_deny]
    f, aa, ad, ba = (1 if formats is not None else 0), len(a_allow), len(a_deny), len(b_allow)

    def accepting(values) -> bool:
        a_ok = any(values[f:f + aa]) and not any(values[f + aa:f + aa + ad])
        b_ok = any(values[f + aa + ad:f + aa + ad + ba]) and not any(values[f + aa + ad + ba:])
        return (not f or values[0]) and a_ok and not b_ok

    # The format must stay matchable, and each required group.
    required_any = []
    for kind, _ in groups:
        if kind == "a":
            required_any.append(list(range(f, f + aa)))
    start_b = f + aa + ad
    required_any += [[start_b + i] for i, t in enumerate(b_allow) if t.negated and not b_deny]
    return _search(terms, accepting, [0] if f else [], budget, required_any=required_any)


def find_string(terms: tuple[Term, ...], wanted: tuple[bool, ...], budget: int = 200_000) -> str | None | bool:
    """A string whose membership in each term is as ``wanted`` (a condition
    key's value under the truth the solver chose for its clauses); None if
    there is none, False if the search budget ran out."""
    return _find_string(tuple(terms), tuple(wanted), budget)


@lru_cache(maxsize=4096)
def _find_string(terms, wanted, budget):
    return _search(list(terms), lambda values: list(values) == list(wanted),
                   [i for i, (term, w) in enumerate(zip(terms, wanted)) if w and not term.negated], budget)


def search_terms(terms: list[Term], accepting, required: list[int], required_any: list[list[int]] = (),
                 budget: int = 200_000) -> str | None | bool:
    """The shortest string whose membership vector (one bool per term)
    ``accepting`` admits; None if there is none, False if the budget ran out.
    Terms in ``required`` must match, and one term of each group in
    ``required_any``."""
    return _search(list(terms), accepting, required, budget, required_any)
