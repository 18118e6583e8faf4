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

import gc
import re
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache

from .deadline import Deadline, Timeout
from ..kernel.values import fold_case, simple_fold

# Item kinds: ("lit", char) | ("one", class) | ("star", class)
ANY = "any"  # every character
NOT_COLON = "not_colon"  # every character but ":"
ID = "id"  # a name: printable, no ":" or "/"
ID_PATH = "id_path"  # a path-like name: any printable character
DIGIT = "digit"
REGION = "region"  # a-z 0-9 -

_PRINTABLE = [chr(c) for c in range(32, 127) if chr(c) not in "*?"]
_NAMED = [*_PRINTABLE, "*", "?"]
_CLASSES = {
    # A name: any printable character but the ARN's separators. Narrower
    # classes would make "never" claims false for names AWS accepts (role
    # names hold "+=,@", log group names "/" and "#", object keys "*" and
    # "?" — which a policy can name literally, with ${*} or a variable's
    # value).
    ID: frozenset(c for c in _NAMED if c not in ":/"),
    ID_PATH: frozenset(_NAMED),
    DIGIT: frozenset("0123456789"),
    REGION: frozenset("abcdefghijklmnopqrstuvwxyz0123456789-"),
}
# Search order: realistic characters first, so witnesses read naturally.
_ORDER = "abcdefghijklmnopqrstuvwxyz0123456789-_./ABCDEFGHIJKLMNOPQRSTUVWXYZ:"
_ORDER_THEN_PRINTABLE = _ORDER + "".join(c for c in _PRINTABLE if c not in _ORDER)

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


def resource_part_glob(text: str) -> Glob:
    """Policy text within a Resource's resource part as items: ``*`` any
    characters, colons too; ``?`` one character."""
    return tuple(("star", ANY) if c == "*" else ("one", ANY) if c == "?" else ("lit", c) for c in text)


_PLACEHOLDER = re.compile(r"\$\{[^}]*\}")
_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
# Names whose characters the service's own documentation restricts (the
# catalogue does not say): (service, placeholder) -> the characters allowed.
# Only these are narrower than any string.
DOCUMENTED_NAMES = {
    # S3 User Guide, "General purpose bucket naming rules": "lowercase
    # letters, numbers, periods (.), and hyphens (-)".
    ("s3", "BucketName"): frozenset("abcdefghijklmnopqrstuvwxyz0123456789.-"),
    # CloudFormation API Reference, CreateStack: "A stack name can contain
    # only alphanumeric characters (case sensitive) and hyphens"; the stack
    # id after it is a UUID.
    ("cloudformation", "StackName"): frozenset(_ALNUM + "-"),
    ("cloudformation", "Id"): frozenset(_ALNUM + "-"),
    # ECS API Reference, RegisterTaskDefinition: a family of "letters
    # (uppercase and lowercase), numbers, underscores, and hyphens"; ECS
    # numbers each revision.
    ("ecs", "TaskDefinitionFamilyName"): frozenset(_ALNUM + "_-"),
    ("ecs", "TaskDefinitionRevisionNumber"): frozenset("0123456789"),
}


# A partition: "aws", or "aws-" and more ("aws-cn", "aws-us-gov", "aws-iso",
# "aws-iso-b", …: AWS adds partitions). Two globs, not one: "aws" kept
# literal keeps the service in a format's literal prefix, which is what
# prunes the formats a pattern cannot meet (hundreds for "Action": "*").
_PARTITIONS = ((("lit", "a"), ("lit", "w"), ("lit", "s")),
               (("lit", "a"), ("lit", "w"), ("lit", "s"), ("lit", "-"),
                ("one", frozenset("abcdefghijklmnopqrstuvwxyz-")), ("star", frozenset("abcdefghijklmnopqrstuvwxyz-"))))


@lru_cache(maxsize=4096)
def format_globs(arn_format: str) -> tuple[Glob, ...]:
    """A catalogue ARN format as globs (one per partition shape): the
    universe of resources typed mode admits for the action. It may only be
    narrower than the resources a request can name where the catalogue is
    certain: the format's literal text (service, resource-type words,
    separators) and a region (letters, digits, hyphens). A partition is
    "aws" or any "aws-…"; an account any string without a colon (AWS managed
    policies are in account "aws", SSM public parameters and AMIs in none:
    IAM User Guide, "IAM identifiers" and "Amazon Resource Names"). A name
    placeholder says nothing of its characters (Bedrock model ids hold ":",
    KMS aliases and partner event buses "/", Lambda functions take a
    ":qualifier"): in the resource part it is any non-empty string, before
    it any non-empty string without a colon — unless the service documents
    its characters (DOCUMENTED_NAMES). The catalogue writes some resource
    types' formats as a list ("arn:…/apis/${ApiId}/deployments, arn:…"):
    each is one."""
    if "," in arn_format:
        return tuple(g for one in arn_format.split(",") for g in format_globs(one.strip()))
    service = arn_format.split(":")[2] if arn_format.count(":") >= 2 else ""
    out = []
    for partition in _PARTITIONS:
        items: list[tuple[str, str]] = []
        pos = 0
        for m in _PLACEHOLDER.finditer(arn_format):
            items.extend(("lit", c) for c in arn_format[pos:m.start()])
            name = m.group()[2:-1]
            if name == "Partition":
                items += partition
            elif name == "Account":
                items.append(("star", NOT_COLON))
            elif name == "Region":
                items += [("one", REGION), ("star", REGION)]
            else:
                # The resource part starts after the ARN's fifth colon.
                cls = DOCUMENTED_NAMES.get((service, name)) or (
                    ANY if arn_format.count(":", 0, m.start()) >= 5 else NOT_COLON)
                items += [("one", cls), ("star", cls)]
            pos = m.end()
        items.extend(("lit", c) for c in arn_format[pos:])
        out.append(tuple(items))
    return tuple(out)


def _closure(glob: Glob, positions: frozenset[int]) -> frozenset[int]:
    out = set(positions)
    for p in positions:
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


class _Automaton:
    """One glob's position automaton, its moves remembered across searches
    (the same statements' patterns are searched question after question)."""

    __slots__ = ("glob", "fold", "start", "final", "absorbing", "prefix", "_moves", "_closed")

    def __init__(self, glob: Glob, fold: bool):
        # A run of the same star is one star (x* x* reads what x* reads):
        # collapsed, a pattern of thousands of stars is a short automaton —
        # every structure below is linear in the glob's length.
        glob = tuple(item for i, item in enumerate(glob) if not (item[0] == "star" and i and glob[i - 1] == item))
        self.glob, self.fold = glob, fold
        self.start = _closure(glob, frozenset({0}))
        self.final = len(glob)
        # Positions from which every continuation matches: only "*" left
        # (not the end itself, which one more character leaves).
        absorbing, p = [], len(glob) - 1
        while p >= 0 and glob[p] == ("star", ANY):
            absorbing.append(p)
            p -= 1
        self.absorbing = frozenset(absorbing)
        self.prefix = "" if fold else _literal_prefix(glob)
        self._moves: dict = {}
        self._closed = [_closure(glob, frozenset({p})) for p in range(len(glob) + 1)]

    def move(self, p: int, ch: str) -> frozenset[int]:
        """The positions after reading ``ch`` at position ``p``."""
        moved = self._moves.get((p, ch))
        if moved is None:
            if not self.fold:
                moved = self._read(p, ch)
            else:
                # Case-insensitive: the request character is compared through
                # its simple case fold, one character, as the kernel reads it
                # (kernel/values.py fold_case).
                moved = self._read(p, fold_case(ch))
            self._moves[(p, ch)] = moved
        return moved

    def _read(self, p: int, ch: str) -> frozenset[int]:
        if p == len(self.glob):
            return frozenset()
        kind, value = self.glob[p]
        if kind == "lit":
            return self._closed[p + 1] if value == ch else frozenset()
        if _in_class(value, ch):
            return self._closed[p] if kind == "star" else self._closed[p + 1]
        return frozenset()

    def accepts(self, text: str) -> bool:
        if not text.startswith(self.prefix):
            return False
        positions = self.start
        for ch in text:
            positions = frozenset(q for p in positions for q in self.move(p, ch))
            if not positions:
                return False
        return self.final in positions


@lru_cache(maxsize=1 << 16)
def _automaton(glob: Glob, fold: bool) -> _Automaton:
    return _Automaton(glob, fold)


@dataclass(frozen=True)
class Term:
    """A union of globs, possibly complemented (NotResource, negated
    condition operators). ``fold``: the globs are case-folded and a string is
    matched through its case fold (the IgnoreCase operators)."""

    globs: tuple[Glob, ...]
    negated: bool = False
    fold: bool = False

    def __hash__(self) -> int:
        # Terms key many tables and may hold hundreds of globs: hash once.
        h = self.__dict__.get("_hash")
        if h is None:
            h = hash((self.globs, self.negated, self.fold))
            object.__setattr__(self, "_hash", h)
        return h


@lru_cache(maxsize=1)
def _fold_variants() -> dict[str, frozenset[str]]:
    """Every character whose case fold is a given character (so that a
    case-insensitive search also tries, say, the Kelvin sign for "k", or
    "𐐀" for "𐐨"): over every code point, the blocks without case skipped
    whole (a character whose full fold is itself has no other fold)."""
    out: dict[str, set[str]] = {}
    block = 4096
    for start in range(0, 0x110000, block):
        text = "".join(chr(c) for c in range(start, start + block) if not 0xD800 <= c < 0xE000)
        if text.casefold() == text:
            continue
        for ch in text:
            if ch.casefold() != ch:
                folded = simple_fold(ch)
                if folded != ch:
                    out.setdefault(folded, set()).add(ch)
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


@contextmanager
def no_cyclic_gc():
    """Reference counting alone while a search runs: it builds thousands of
    small frozensets and tuples, none in a cycle, and each pass of the cyclic
    collector walks the whole heap (every compiled statement) for nothing —
    measured, a third of a search's time on a 6,460-statement account."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _search(terms: list[Term], accepting, required: list[int], budget: int,
            required_any: list[list[int]] = (), forbidden: list[int] = (),
            deadline: Deadline | None = None, collect: dict | None = None) -> str | None | bool:
    """Breadth-first over the product of every term's automaton: the shortest
    string whose membership vector ``accepting`` admits and in which no term
    of ``forbidden`` holds; None if there is none, False if the budget ran
    out; Timeout once the deadline has passed (checked at every step: with
    hundreds of terms one state's successors alone take a while). A branch is pruned when a term of ``required``, or every term of a
    group in ``required_any``, can no longer match (its globs, read without
    the term's negation), or when a ``forbidden`` term is certain to hold
    whatever follows. With ``collect``, the search does not stop: every
    accepted membership vector is recorded with its shortest string.

    A term's state is the set of (glob, position) pairs still alive: the union
    of its globs as one automaton, so a glob that died costs nothing more (a
    term may carry hundreds of statements' patterns)."""
    if deadline is not None:
        deadline.check()  # thousands of terms take a while to set up
    automata = [[_automaton(g, term.fold) for g in term.globs] for term in terms]
    alphabet = _alphabet(terms)
    start = tuple(frozenset((i, p) for i, a in enumerate(auts) for p in a.start) for auts in automata)
    finals = [frozenset((i, a.final) for i, a in enumerate(auts)) for auts in automata]
    absorbing = [frozenset((i, p) for i, a in enumerate(auts) for p in a.absorbing) for auts in automata]
    negated = [term.negated for term in terms]
    some = [list(group) for group in required_any] + [[r] for r in required]
    doomed_when_empty = [t for t in forbidden if negated[t]]
    doomed_when_absorbed = [t for t in forbidden if not negated[t]]

    def members(state) -> list[bool]:
        return [(not s.isdisjoint(f)) != n for s, f, n in zip(state, finals, negated)]

    def alive(state) -> bool:
        if any(not state[t] for t in doomed_when_empty):
            return False
        if any(not state[t].isdisjoint(absorbing[t]) for t in doomed_when_absorbed):
            return False
        return all(any(state[t] for t in group) for group in some)

    def accepted(state) -> bool:
        values = members(state)
        return not any(values[t] for t in forbidden) and accepting(values)

    memo: list[dict] = [{} for _ in terms]

    def step(t: int, positions: frozenset, ch: str) -> frozenset:
        table = memo[t]
        nxt = table.get((positions, ch))
        if nxt is None:
            auts = automata[t]
            nxt = table[(positions, ch)] = frozenset((i, q) for i, p in positions for q in auts[i].move(p, ch))
        return nxt

    if not alive(start):
        return None
    seen = {start: None}
    queue = deque([start])
    while queue:
        state = queue.popleft()
        if accepted(state):
            chars, at = [], state
            while seen[at] is not None:
                at, ch = seen[at]
                chars.append(ch)
            text = "".join(reversed(chars))
            if collect is None:
                return text
            collect.setdefault(tuple(members(state)), text)
        if len(seen) > budget:
            return False
        for ch in alphabet:
            if deadline is not None and deadline.expired():
                raise Timeout()
            nxt = tuple([step(t, s, ch) for t, s in enumerate(state)])
            if nxt not in seen and alive(nxt):
                seen[nxt] = (state, ch)
                queue.append(nxt)
    return None


def action_glob(pattern: str) -> Glob:
    """An Action pattern as a case-folded glob (``*`` and ``?`` cross
    everything, as kernel/matching.py's action_regex does)."""
    return tuple(("star", ANY) if c == "*" else ("one", ANY) if c == "?" else ("lit", c)
                 for c in fold_case(pattern))


# An action as a request may spell it: ``service:Name``, each side of the
# characters kernel/request.py's _ACTION accepts (fewer would leave classes
# out, such as the actions a pattern "s3:Get_*" names).
_NAME = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
ACTION_SHAPE = Term(((("one", _NAME), ("star", _NAME), ("lit", ":"), ("one", _NAME), ("star", _NAME)),))


# Untyped mode's resources: what a request may name (kernel/request.py),
# "*" or any ARN with a partition and a service.
_SEGMENT = (("star", NOT_COLON), ("lit", ":"))
ANY_REQUEST_RESOURCE = Term(((("lit", "*"),),
                             (("lit", "a"), ("lit", "r"), ("lit", "n"), ("lit", ":"), ("one", NOT_COLON), *_SEGMENT,
                              ("one", NOT_COLON), *_SEGMENT, *_SEGMENT, *_SEGMENT, ("star", ANY))))


def membership_vectors(terms: list[Term], budget: int = 200_000,
                       deadline: Deadline | None = None) -> dict[tuple, str] | bool:
    """Every membership vector (one bool per term) some string of
    ``terms[0]`` has, each with a shortest such string; False if the budget
    ran out."""
    found: dict = {}
    answer = _search(list(terms), lambda values: values[0], [0], budget, deadline=deadline, collect=found)
    return False if answer is False else found


def member(term: Term, text: str) -> bool:
    """Whether ``text`` is in the term (a concrete string, read as the
    search reads it)."""
    if term.fold:
        text = fold_case(text)  # the automaton reads each character's fold
    hit = False
    for matcher in _matchers(term):
        if matcher(text):
            hit = True
            break
    return hit != term.negated


@lru_cache(maxsize=1 << 16)
def _matchers(term: Term) -> tuple:
    # Keyed by the term (its hash kept), not glob by glob: a glob's hash is
    # recomputed from its items at every lookup.
    return tuple(_matcher(glob) for glob in term.globs)


# A glob with a few stars is matched by the regex engine (each star a
# bounded backtrack over a short concrete string); with more, by its
# automaton, which never backtracks.
_REGEX_STARS = 3


@lru_cache(maxsize=1 << 16)
def _matcher(glob: Glob):
    """A function telling whether a (case-folded, where the glob is) string
    is one of the glob's: the same language as the glob's automaton. Most
    strings asked about miss most globs at their literal ends, which are
    compared first; the regex is compiled only for a glob a string reaches."""
    prefix, suffix = _literal_ends(glob)
    if len(prefix) == len(glob):
        return prefix.__eq__  # a literal glob: one string
    whole: list = []

    def full(text: str) -> bool:
        if not whole:
            whole.append(_full_matcher(glob))
        return bool(whole[0](text))

    def match(text: str) -> bool:
        return (len(text) >= len(prefix) + len(suffix) and text.startswith(prefix) and text.endswith(suffix)
                and full(text))
    return match


def _full_matcher(glob: Glob):
    if sum(1 for kind, _ in glob if kind == "star") > _REGEX_STARS:
        return _automaton(glob, False).accepts
    parts = []
    for kind, value in glob:
        if kind == "lit":
            parts.append(re.escape(value))
            continue
        cls = _regex_class(value)
        parts.append(cls + "*" if kind == "star" else cls)
    return re.compile("".join(parts), re.DOTALL).fullmatch


def _regex_class(value) -> str:
    if value == ANY:
        return "."
    if value == NOT_COLON:
        return "[^:]"
    members = value if type(value) is frozenset else _CLASSES[value]
    return "[" + "".join(re.escape(c) for c in sorted(members)) + "]"


# Regions a witness is rewritten to when its own (the shortest string the
# search found, such as "a") reads as no region; tried in this order.
_REGIONS = ("us-east-1", "eu-west-1", "us-west-2", "ap-southeast-1", "us-gov-west-1", "cn-north-1")
_REGION_SHAPE = re.compile(r"[a-z]{2}(-gov)?-[a-z]+-\d")


# The account a witness's empty account segment is rewritten to.
WITNESS_ACCOUNT = "111122223333"


def realistic(text: str, terms) -> str:
    """``text`` with a real region in its ARN's region segment and an
    account in an empty account segment, each if it keeps every term's
    membership (then every answer read off the memberships stays the same);
    else as it was."""
    parts = text.split(":", 5)
    if len(parts) != 6:
        return text
    before = [member(t, text) for t in terms]
    if parts[3] and not _REGION_SHAPE.fullmatch(parts[3]):
        for region in _REGIONS:
            candidate = parts[:3] + [region] + parts[4:]
            if [member(t, ":".join(candidate)) for t in terms] == before:
                parts = candidate
                break
    if not parts[4]:
        candidate = parts[:4] + [WITNESS_ACCOUNT] + parts[5:]
        if [member(t, ":".join(candidate)) for t in terms] == before:
            parts = candidate
    return ":".join(parts)


def _class_within(a, b) -> bool:
    """Whether every character of class ``a`` is in class ``b``."""
    if b == ANY or a == b:
        return True
    if a == ANY:
        return False
    members = a if type(a) is frozenset else _CLASSES.get(a)
    if members is None:  # NOT_COLON: only ANY holds it
        return False
    return all(_in_class(b, c) for c in members)


@lru_cache(maxsize=1 << 18)
def subsumes(general: Glob, specific: Glob) -> bool:
    """A sufficient test that every string of ``specific`` is one of
    ``general`` (the general glob's items read against the specific one's,
    a wildcard only by a wider one); False when it cannot tell."""
    # A literal of the general glob reads only the same literal of the
    # specific one: each literal run must appear in the specific glob's
    # literals, in order (most pairs fail here, without the walk below).
    skeleton, at = _skeleton(specific), 0
    for run in _literal_runs(general):
        at = skeleton.find(run, at)
        if at < 0:
            return False
        at += len(run)

    @lru_cache(maxsize=None)
    def fits(i: int, j: int) -> bool:
        if i == len(general):
            return j == len(specific)
        kind, value = general[i]
        if kind == "star":
            if fits(i + 1, j):
                return True
            return j < len(specific) and _item_within(specific[j], value) and fits(i, j + 1)
        if j == len(specific):
            return False
        item = specific[j]
        if kind == "lit":
            return item == ("lit", value) and fits(i + 1, j + 1)
        return item[0] != "star" and _item_within(item, value) and fits(i + 1, j + 1)
    return fits(0, 0)


@lru_cache(maxsize=1 << 16)
def _skeleton(g: Glob) -> str:
    """The glob's literal characters, a NUL for each other item."""
    return "".join(value if kind == "lit" else "\0" for kind, value in g)


@lru_cache(maxsize=1 << 16)
def _literal_runs(g: Glob) -> tuple[str, ...]:
    return tuple(run for run in _skeleton(g).split("\0") if run)


def without_subsumed(globs: tuple[Glob, ...], by: tuple[Glob, ...] = ()) -> tuple[Glob, ...]:
    """The globs of a union that add something: those not subsumed by
    another of them, nor by a glob of ``by`` (a union they are to miss)."""
    return _without_subsumed(globs, by)


def _literal_prefix(g: Glob) -> str:
    out = []
    for kind, value in g:
        if kind != "lit":
            break
        out.append(value)
    return "".join(out)


@lru_cache(maxsize=4096)
def _without_subsumed(globs, by):
    # A glob can only be subsumed by one whose literal prefix starts its own.
    by_prefix: dict[str, list[Glob]] = {}
    for h in dict.fromkeys(globs + by):
        if any(kind != "lit" for kind, _ in h):
            by_prefix.setdefault(_literal_prefix(h), []).append(h)
    # The widest first (fewest literal characters): a union of many narrow
    # patterns under one wide one is then pruned in one test each.
    for bucket in by_prefix.values():
        bucket.sort(key=lambda h: sum(1 for kind, _ in h if kind == "lit"))
    missed = frozenset(by)
    out = []
    for g in dict.fromkeys(globs):
        if g in missed:
            continue
        prefix = _literal_prefix(g)
        if not any(h != g and subsumes(h, g)
                   for k in range(len(prefix) + 1) for h in by_prefix.get(prefix[:k], ())):
            out.append(g)
    return tuple(out)


def _item_within(item, cls) -> bool:
    kind, value = item
    return _in_class(cls, value) if kind == "lit" else _class_within(value, cls)


def _may_meet(g: Glob, h: Glob) -> bool:
    """False when the two globs' literal prefixes or suffixes conflict (then
    no string matches both); True otherwise (they may meet)."""
    gp, gs = _literal_ends(g)
    hp, hs = _literal_ends(h)
    return (gp.startswith(hp) or hp.startswith(gp)) and (gs.endswith(hs) or hs.endswith(gs))


@lru_cache(maxsize=1 << 16)
def _literal_ends(g: Glob) -> tuple[str, str]:
    """The literal characters a glob starts and ends with."""
    suffix = []
    for kind, value in reversed(g):
        if kind != "lit":
            break
        suffix.append(value)
    return _literal_prefix(g), "".join(reversed(suffix))


# Resources named by a required pattern tried before an exhaustive search.
CANDIDATES = 16


def named_by(glob: Glob, within: Term | None = None, deadline: Deadline | None = None) -> str | None | bool:
    """A string of ``glob`` (and of ``within``, when given): the glob with
    each star read as nothing and each one-character class as its first
    realistic character, when that string is one of ``within``'s; otherwise
    a short string of both. (A candidate only: whoever takes it checks it
    against every term.)"""
    text = "".join(value if kind == "lit" else "" if kind == "star" else (_common(value, value) or "")
                   for kind, value in glob)
    if within is None or member(within, text):
        return text
    if within.negated or within.fold:
        return _search([within, Term((glob,))], all, [0, 1], 200_000, deadline=deadline)
    met = [m for f in within.globs if _may_meet(f, glob) and (m := _meet(f, glob)) is not None]
    return min(met, key=len) if met else None


def _meet(g: Glob, h: Glob) -> str | None:
    """A short string of both globs, or None when they share none: a walk
    over pairs of positions (one glob's against the other's), a star passed
    over for free, each step reading one character both items take. (Both
    stars reading one character lead back to the same pair: never needed.)"""
    start = (0, 0)
    seen = {start: None}
    queue = deque([start])
    while queue:
        i, j = at = queue.popleft()
        if i == len(g) and j == len(h):
            chars = []
            while seen[at] is not None:
                at, ch = seen[at]
                chars.append(ch)
            return "".join(reversed(chars))
        moves = []
        if i < len(g) and g[i][0] == "star":
            moves.append(((i + 1, j), ""))
        if j < len(h) and h[j][0] == "star":
            moves.append(((i, j + 1), ""))
        if i < len(g) and j < len(h) and not (g[i][0] == "star" and h[j][0] == "star"):
            ch = _common(_item_class(g[i]), _item_class(h[j]))
            if ch is not None:
                moves.append(((i if g[i][0] == "star" else i + 1, j if h[j][0] == "star" else j + 1), ch))
        for nxt, ch in moves:
            if nxt not in seen:
                seen[nxt] = (at, ch)
                # A free move adds no character: put it first in line.
                (queue.appendleft if not ch else queue.append)(nxt)
    return None


def _item_class(item):
    kind, value = item
    return frozenset(value) if kind == "lit" else value


@lru_cache(maxsize=4096)
def _common(a, b) -> str | None:
    """A realistic character both classes hold (a printable one, the
    search's order first), or None."""
    for c in _ORDER_THEN_PRINTABLE:
        if _in_class(a, c) and _in_class(b, c):
            return c
    if type(a) is frozenset:
        return next((c for c in sorted(a) if _in_class(b, c)), None)
    if type(b) is frozenset:
        return next((c for c in sorted(b) if _in_class(a, c)), None)
    return None


def find(formats: tuple[Glob, ...] | None, a_allow: list[Term], a_deny: list[Term], b_allow: list[Term],
         b_deny: list[Term], budget: int = 200_000, deadline: Deadline | None = None) -> str | None | bool:
    """A resource in F ∩ (A_allow \\ A_deny) ∩ complement(B_allow \\ B_deny):
    the string, None if there is none, False if the search budget ran out;
    Timeout once the deadline has passed."""
    key = (formats, tuple(a_allow), tuple(a_deny), tuple(b_allow), tuple(b_deny), budget)
    return _remembered(_FOUND, key, lambda: _find(*key, deadline))


# Answers remembered across questions (the same statements' patterns are
# asked about again and again), keyed without the deadline: an answer does
# not depend on it, and a search the deadline stopped raised, leaving no
# entry.
_FOUND: dict = {}
_FOUND_STRINGS: dict = {}
_REMEMBERED = 4096


def _remembered(table: dict, key, compute):
    answer = table.get(key, _remembered)
    if answer is _remembered:
        if len(table) >= _REMEMBERED:
            table.clear()
        answer = table[key] = compute()
    return answer


def _find(formats, a_allow, a_deny, b_allow, b_deny, budget, deadline):
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

    # A resource one of A's Allow patterns or B's Deny patterns names is
    # often the answer: try a few (each checked against every term) before
    # the exhaustive search.
    naming = [g for t in (*a_allow, *b_deny) if not t.negated for g in t.globs]
    for glob in naming[:CANDIDATES]:
        named = named_by(glob, terms[0] if f else None, deadline)
        if isinstance(named, str) and accepting([member(t, named) for t in terms]):
            return named
    # The format must stay matchable, and each required group.
    required_any = []
    for kind, _ in groups:
        if kind == "a":
            required_any.append(list(range(f, f + aa)))
    start_b = f + aa + ad
    required_any += [[start_b + i] for i, t in enumerate(b_allow) if t.negated and not b_deny]
    return _search(terms, accepting, [0] if f else [], budget, required_any=required_any, deadline=deadline)


def find_string(terms: tuple[Term, ...], wanted: tuple[bool, ...], budget: int = 200_000,
                deadline: Deadline | None = None) -> str | None | bool:
    """A string whose membership in each term is as ``wanted`` (a condition
    key's value under the truth the solver chose for its clauses); None if
    there is none, False if the search budget ran out; Timeout once the
    deadline has passed."""
    key = (tuple(terms), tuple(wanted), budget)
    return _remembered(_FOUND_STRINGS, key, lambda: _find_string(*key, deadline))


def _find_string(terms, wanted, budget, deadline):
    return _search(list(terms), lambda values: list(values) == list(wanted),
                   [i for i, (term, w) in enumerate(zip(terms, wanted)) if w and not term.negated], budget,
                   deadline=deadline)


def search_terms(terms: list[Term], accepting, required: list[int], required_any: list[list[int]] = (),
                 forbidden: list[int] = (), budget: int = 200_000,
                 deadline: Deadline | None = None) -> str | None | bool:
    """The shortest string whose membership vector (one bool per term)
    ``accepting`` admits; None if there is none, False if the budget ran out;
    Timeout once the deadline has passed. Terms in ``required`` must match,
    and one term of each group in ``required_any``; no term of ``forbidden``
    may."""
    return _search(list(terms), accepting, required, budget, required_any, forbidden, deadline)
