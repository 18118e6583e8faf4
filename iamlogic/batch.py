"""Batches: JSON lines in, one JSON line out per input line, in input order,
streamed — input of any size, memory flat.

A line is one of:

- a self-contained scenario ``{"policies": {...}, "request": {...}}``;
- a named policy set ``{"policy_set": NAME, "policies": {...}}``, defined once;
- a request against one ``{"policy_set": NAME, "request": {...}}``;
- blank (kept as ``{"line": N, "blank": true}``: every line has its answer).

Every line gets exactly one output line carrying its number: the decision,
the policy set defined, or ``"error"`` naming what is wrong with the line. A
line longer than ``MAX_LINE_BYTES`` is an error line (its bytes are skipped,
never held); a last line with no newline that is not JSON is reported as
cut short. ``BatchCounts`` says how many lines came in and went out.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from .errors import IamlogicError, InputError, one_line
from .inputs import MAX_INPUT_BYTES, check_path_text, quote
from .scenario import check_request, compile_policies

# One line holds one scenario: as large as any single input may be.
MAX_LINE_BYTES = MAX_INPUT_BYTES
# Self-contained lines: engines kept for the most recent policy sets seen —
# at most this many, holding at most this much policy text between them (an
# engine takes some 25 bytes of memory per byte of its policies' text: lines
# of 4 MiB each must not keep 256 of them).
RECENT_ENGINES = 256
RECENT_TEXT_CHARS = 8 * 1024 * 1024


class _Recent:
    """A least-recently-used map bounded by entries and by the text it holds
    (a key's length, plus what ``put`` is told its value weighs)."""

    def __init__(self, entries: int | None = None, chars: int | None = None):
        self._items: OrderedDict[str, tuple[object, int]] = OrderedDict()
        self._chars = 0
        # None: the module's limits as they are when an entry is put (tests lower them).
        self._entries, self._max_chars = entries, chars

    def get(self, key: str):
        found = self._items.get(key)
        if found is None:
            return None
        self._items.move_to_end(key)
        return found[0]

    def put(self, key: str, value, weight: int = 0) -> None:
        if key in self._items:
            self._chars -= self._items.pop(key)[1]
        weight += len(key)
        self._chars += weight
        self._items[key] = (value, weight)
        entries = RECENT_ENGINES if self._entries is None else self._entries
        chars = RECENT_TEXT_CHARS if self._max_chars is None else self._max_chars
        while len(self._items) > entries or (self._chars > chars and len(self._items) > 1):
            _, (_, dropped) = self._items.popitem(last=False)
            self._chars -= dropped

    def clear(self) -> None:
        self._items.clear()
        self._chars = 0

    def __len__(self) -> int:
        return len(self._items)

    @property
    def chars(self) -> int:
        """The length of the text the kept entries hold."""
        return self._chars


def policy_paths(policies: object) -> list[str]:
    """The policy file paths a ``policies`` object names: the strings where a
    policy may stand (a policy document is an object)."""
    found: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, Mapping) and "policies" in value and "Statement" not in value:
            walk(value["policies"])  # an SCP/RCP level given with its name

    if isinstance(policies, Mapping):
        for value in policies.values():
            walk(value)
    return found


# Answers kept by their line's text: a research batch asks the same request
# many times (a CloudTrail log repeats its calls), and a decision is a
# function of the engine and the request alone (no clock, no state), so the
# same text has the same answer. Bounded like the engines (count, text).
ANSWERS_KEPT = 65_536
ANSWER_TEXT_CHARS = 16 * 1024 * 1024


# Named policy sets defined in one batch.
MAX_POLICY_SETS = 100_000
_CHUNK = 1 << 20


@dataclass
class Line:
    number: int
    text: str | None  # None when the line could not be read (``error`` says why)
    error: str | None = None
    last_unterminated: bool = False


@dataclass
class BatchCounts:
    lines_in: int = 0
    lines_out: int = 0
    errors: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)

    def add(self, kinds: Mapping[str, int]) -> None:
        """Count output lines answered elsewhere, by kind (``by_kind``)."""
        for kind, n in kinds.items():
            self.by_kind[kind] = self.by_kind.get(kind, 0) + n
            self.lines_out += n
            if kind == "error":
                self.errors += n

    def summary(self) -> str:
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(self.by_kind.items()))
        return (f"{self.lines_in} lines in, {self.lines_out} lines out"
                f"{f' ({kinds})' if kinds else ''}; {self.errors} could not be answered")


def open_stream(source: str) -> BinaryIO:
    """A batch input: ``-`` for standard input, else a regular file (never a
    device or FIFO: they may never end)."""
    if source == "-":
        return sys.stdin.buffer
    name = check_path_text(source, "<batch>")
    try:
        info = os.stat(name)
    except FileNotFoundError:
        raise InputError(f"{source}: no such file") from None
    except OSError as e:
        raise InputError(f"{source}: cannot read ({e.strerror or type(e).__name__})") from None
    if stat.S_ISDIR(info.st_mode):
        raise InputError(f"{source}: is a directory, not a file")
    if not stat.S_ISREG(info.st_mode):
        raise InputError(f"{source}: not a regular file (a device, FIFO or socket is never read)")
    try:
        return open(name, "rb", buffering=_CHUNK)  # noqa: SIM115 - the caller closes it
    except OSError as e:
        raise InputError(f"{source}: cannot read ({e.strerror or type(e).__name__})") from None


def read_lines(stream: BinaryIO, limit: int = MAX_LINE_BYTES) -> Iterator[Line]:
    """The stream's lines, numbered from 1, each at most ``limit`` bytes of
    UTF-8 (a leading byte-order mark allowed). An overlong line is consumed
    up to its newline without being kept and comes out as an error."""
    number = 0
    while True:
        raw = stream.readline(limit + 1)
        if not raw:
            return
        number += 1
        if len(raw) > limit and not raw.endswith(b"\n"):
            size = len(raw)
            while True:  # skip the rest of this line, a chunk at a time
                more = stream.readline(_CHUNK)
                size += len(more)
                if not more or more.endswith(b"\n"):
                    break
            yield Line(number, None, f"longer than the {limit} bytes a line may have ({size} bytes)")
            continue
        unterminated = not raw.endswith(b"\n")
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            yield Line(number, None, f"not UTF-8 text (byte {e.start} of the line)", unterminated)
            continue
        yield Line(number, text, None, unterminated)


class Simulator:
    """Decides batch lines: engines compiled once per policy set (named, or
    the same policies on consecutive self-contained lines)."""

    def __init__(self, base_dir: Path | None = None, root: Path | bool = True, brief: bool = False):
        self.base_dir, self.root, self.brief = base_dir, root, brief
        self.named: dict[str, object] = {}
        self.recent = _Recent()
        # The text of a line up to its request, for lines seen whole before
        # (see answer_line): the policies' text need not be read again.
        self.prefixes = _Recent()
        self.compiled = 0  # policy sets compiled (the others were found in the caches)
        # Encoded answers by line text: self-contained lines' (their text is
        # the whole question) and named requests' (forgotten whenever a set
        # is defined, since the name may now mean other policies).
        self.scenario_answers = _Recent(ANSWERS_KEPT, ANSWER_TEXT_CHARS)
        self.named_answers = _Recent(ANSWERS_KEPT, ANSWER_TEXT_CHARS)
        self._answered_as: _Recent | None = None  # which of them the last answer may be kept in
        self._reads_files = False  # whether the last policies named files (then their answers are not kept)

    def encoded(self, lines: Iterable[Line], counts: BatchCounts) -> Iterator[tuple[str, str]]:
        """Each line's answer as its output line (with its newline) and its
        kind, in order — what ``answer_lines`` gives, encoded, with the
        answers of lines seen before taken from the memo."""
        scenario, named = self.scenario_answers, self.named_answers
        for line in lines:
            text = line.text
            if text is not None:
                found = scenario.get(text) or named.get(text)
                if found is not None:
                    counts.lines_in += 1
                    counts.lines_out += 1
                    body, kind = found
                    counts.by_kind[kind] = counts.by_kind.get(kind, 0) + 1
                    yield f'{{"line": {line.number}, {body}', kind
                    continue
            self._answered_as = None
            for out in answer_lines((line,), self.answer_line, counts, simulate_kind):
                kind = "error" if "error" in out else "blank" if "blank" in out else simulate_kind(out)
                encoded = encode(out) + "\n"
                keep = self._answered_as
                if keep is not None and kind == "decided":
                    # '{"line": N, ' then the answer's own fields: kept without the number.
                    body = encoded[encoded.index(", ") + 2:]
                    keep.put(text, (body, kind), len(body))
                yield encoded, kind

    def answer_line(self, line: Line) -> dict:
        """A line's answer. Research batches repeat one policy set's text on
        every line: ``{"policies": P, "request": R}``. The text up to the
        last ``"request"`` is a prefix; once a line with that prefix has been
        read whole and found to be exactly that shape (the key the prefix
        ends in is the top-level request key), a later line with the same
        prefix needs only its request read — and only if what follows it is
        the object's closing brace, so the line is that same shape."""
        text = line.text
        cut = text.rfind('"request"')
        prefix = text[:cut] if cut > 0 and text.startswith('{"policies"') else None
        if prefix is not None:
            key = self.prefixes.get(prefix)
            engine = self.recent.get(key) if key is not None else None
            if engine is not None:  # (None too when the engine was dropped: then read the line whole)
                request, ok = _request_after(text, cut)
                if ok:
                    out = self._decision(engine, request, None)
                    self._answered_as = self.scenario_answers
                    return out
        raw = parse(line)
        out = self.answer(raw)
        if (prefix is not None and not self._reads_files and isinstance(raw, dict)
                and list(raw) == ["policies", "request"] and _request_after(text, cut) == (raw["request"], True)):
            self.prefixes.put(prefix, self._engine_key(raw["policies"])[0], len(prefix))  # weighs its key too
        return out

    def _engine_key(self, policies: object) -> tuple[str, int, bool]:
        """The key of the engine for ``policies``, the file bytes it reads,
        and whether it names files at all.
        Policies that name files are keyed by those files' state too (their
        path, size, and change times), so a file changed during the batch is
        read again, never answered from its old text."""
        try:
            key = repr(policies)  # JSON values: a faithful, fast key (another key order is only another key)
        except RecursionError:
            raise InputError("policies: nests too deeply to be read") from None
        paths = policy_paths(policies)
        if not paths:
            return key, 0, False
        states = [self._file_state(p) for p in paths]
        return key + repr(states), sum(state[3] for state in states if len(state) > 3), True

    def _file_state(self, text: str) -> tuple:
        path = Path(text)
        if not path.is_absolute():
            path = (self.base_dir or Path.cwd()) / path
        try:
            st = os.stat(path)
        except (OSError, ValueError):
            return (str(path),)  # compile_policies names what is wrong with it
        return (os.path.abspath(path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)

    def _engine_for(self, policies: object):
        key, file_bytes, self._reads_files = self._engine_key(policies)
        engine = self.recent.get(key)
        if engine is None:
            engine = compile_policies(policies, self.base_dir, self.root)
            self.compiled += 1
            # An engine holds some 25 bytes per byte of its policies: weighed by its files' text too.
            self.recent.put(key, engine, file_bytes)
        return engine

    def define(self, name: str, policies: object) -> None:
        """Name a policy set (compiled once: the same policies share an engine)."""
        self.named_answers.clear()
        self._name(name, policies)

    def _name(self, name: str, policies: object) -> None:
        if name not in self.named and len(self.named) >= MAX_POLICY_SETS:
            raise InputError(f"policy_set: more than {MAX_POLICY_SETS} named policy sets in one batch")
        self.named[name] = self._engine_for(policies)

    def start_from(self, definitions: Mapping[str, list]) -> None:
        """The named policy sets in force before a part of a batch: for each
        name, the latest of its definitions (earliest first) that compiles —
        a definition that fails leaves the one before it in force, as it does
        line by line. Answers kept for named requests stay only if every
        name means the very engine it meant before."""
        before, self.named = self.named, {}
        for name, versions in definitions.items():
            for policies in reversed(versions):
                try:
                    self._name(name, policies)
                    break
                except Exception:  # noqa: BLE001 - that definition's own line reports why
                    continue
        if before.keys() != self.named.keys() or any(before[n] is not e for n, e in self.named.items()):
            self.named_answers.clear()

    def answer(self, raw: object) -> dict:
        found = policy_set_line(raw)
        if found is not None:
            name, kind, value = found
            if kind == "policies":
                self.define(name, value)
                return {"policy_set": name, "defined": True}
            engine = self.named.get(name)
            if engine is None:
                raise InputError(f"policy_set: {quote(name)} is not defined on an earlier line")
            out = self._decision(engine, value, name)
            self._answered_as = self.named_answers
            return out
        unknown = [k for k in raw if k not in ("policies", "request", "name", "description")]
        if unknown:
            raise InputError(f"{unknown[0]}: unknown field (expected policies, request)")
        if "policies" not in raw or "request" not in raw:
            raise InputError("expected a scenario object with policies and request "
                             "(or a policy_set line)")
        out = self._decision(self._engine_for(raw["policies"]), raw["request"], None)
        # A line whose policies name files is answered from those files as they are now, each time.
        self._answered_as = None if self._reads_files else self.scenario_answers
        return out

    def _decision(self, engine, request: object, name: str | None) -> dict:
        decision = engine.decide(check_request(request))
        if self.brief:
            out = {"decision": decision.decision, "blocked_by": decision.blocked_by}
        else:
            out = decision.to_dict()
            out.pop("request", None)
        if name is not None:
            out = {"policy_set": name, **out}
        return out


def policy_set_line(raw: object) -> tuple[str, str, object] | None:
    """(name, "policies" or "request", its value) for a policy_set line,
    None for another object; InputError for a malformed one."""
    if not isinstance(raw, Mapping):
        raise InputError(f"expected an object, found {quote(raw)}")
    name = raw.get("policy_set")
    if name is None:
        return None
    if not isinstance(name, str) or not name:
        raise InputError(f"policy_set: a name is a non-empty string, not {quote(name)}")
    unknown = [k for k in raw if k not in ("policy_set", "policies", "request")]
    if unknown:
        raise InputError(f"{unknown[0]}: unknown field (expected policy_set with policies or request)")
    if "policies" in raw:
        if "request" in raw:
            raise InputError("a policy_set line either defines the set (policies) or asks (request)")
        return name, "policies", raw["policies"]
    if "request" not in raw:
        raise InputError("a policy_set line needs policies (to define it) or request (to ask)")
    return name, "request", raw["request"]


_DECODER = json.JSONDecoder()
_SPACE = " \t\r\n"


def _request_after(text: str, cut: int) -> tuple[object, bool]:
    """The JSON value after the ``"request"`` key at ``cut``, and whether
    only the object's closing brace (and spaces) follow it."""
    colon = text.find(":", cut + 9)
    if colon < 0 or text[cut + 9:colon].strip(_SPACE):
        return None, False
    start = colon + 1
    while start < len(text) and text[start] in _SPACE:
        start += 1
    try:
        value, end = _DECODER.raw_decode(text, start)
    except (ValueError, RecursionError):
        return None, False
    return value, text[end:].strip(_SPACE) == "}"


def answer_lines(lines: Iterable[Line], answer: Callable[[Line], dict], counts: BatchCounts,
                 kind_of: Callable[[dict], str] = lambda out: "answered") -> Iterator[dict]:
    """One output object per line, in order: ``answer``'s result for the
    line (``parse`` reads its JSON), or the line's error. Nothing escapes: an
    unexpected failure is that line's internal error, and the next line is
    still answered."""
    for line in lines:
        counts.lines_in += 1
        out: dict
        if line.text is None:
            out = {"line": line.number, "error": line.error}
        elif not line.text.strip(_SPACE):  # JSON's own white space: any other character is not JSON
            out = {"line": line.number, "blank": True}
        else:
            try:
                out = {"line": line.number, **answer(line)}
            except IamlogicError as e:
                out = {"line": line.number, "error": one_line(str(e))}
            except RecursionError:
                out = {"line": line.number, "error": "nests too deeply to be read"}
            except Exception as e:  # noqa: BLE001 - a defect: this line's error; the batch goes on
                out = {"line": line.number, "error": f"internal error: {type(e).__name__}"}
        kind = "error" if "error" in out else "blank" if "blank" in out else kind_of(out)
        counts.by_kind[kind] = counts.by_kind.get(kind, 0) + 1
        if kind == "error":
            counts.errors += 1
        counts.lines_out += 1
        yield out


def parse(line: Line) -> object:
    try:
        return json.loads(line.text)
    except RecursionError:
        raise InputError("nests too deeply to be read") from None
    except ValueError as e:
        if line.last_unterminated:
            raise InputError(f"not JSON: the input ends inside this line, with no newline — cut short? ({e})") \
                from None
        raise InputError(f"not JSON ({e})") from None


# An answer as its output line (ASCII: any terminal or pipe reads it).
encode = json.JSONEncoder(ensure_ascii=True).encode


def simulate_stream(stream: BinaryIO, out, counts: BatchCounts, base_dir: Path | None = None,
                    root: Path | bool = True, brief: bool = False, cluster=None) -> None:
    """Decide every line of ``stream``, writing one JSON line each to ``out``;
    with a ``cluster`` (iamlogic/scale.py), in its workers, which send back
    each shard's output lines already written out."""
    write = out.write
    if cluster is not None:
        for text, kinds in cluster.simulate_text(_counted(read_lines(stream), counts), base_dir, root, brief):
            write(text)
            counts.add(kinds)
        return
    for text, _ in Simulator(base_dir, root, brief).encoded(read_lines(stream), counts):
        write(text)


def _counted(lines: Iterable[Line], counts: BatchCounts) -> Iterator[Line]:
    for line in lines:
        counts.lines_in += 1
        yield line


# ------------------------------------------------------------ proof batches

QUESTIONS = ("check-no-new-access", "can-be-allowed")


class Prover:
    """Answers proof lines: ``check-no-new-access`` lines are
    ``{"new": {...}, "existing": {...}, "policy_type": T?}`` (policy objects;
    a batch never reads a string as a path), ``can-be-allowed`` lines are
    scenarios (policy paths relative to the batch's folder)."""

    def __init__(self, question: str, timeout_ms: int = 30_000, typed: bool = True,
                 base_dir: Path | None = None, root: Path | bool = True):
        if question not in QUESTIONS:
            raise InputError(f"question: {quote(question)} is not one of {', '.join(QUESTIONS)}")
        self.question, self.timeout_ms, self.typed = question, timeout_ms, typed
        self.base_dir, self.root = base_dir, root

    def answer_line(self, line: Line) -> dict:
        raw = parse(line)
        if not isinstance(raw, Mapping):
            raise InputError(f"expected an object, found {quote(raw)}")
        if self.question == "check-no-new-access":
            from .proofs import check_no_new_access

            unknown = [k for k in raw if k not in ("new", "existing", "policy_type")]
            if unknown:
                raise InputError(f"{unknown[0]}: unknown field (expected new, existing, policy_type)")
            for name in ("new", "existing"):
                if not isinstance(raw.get(name), Mapping):
                    raise InputError(f"{name}: expected a policy object, found {quote(raw.get(name))}")
            policy_type = raw.get("policy_type", "identity")
            if not isinstance(policy_type, str):
                raise InputError(f"policy_type: expected a string, found {quote(policy_type)}")
            try:
                check = check_no_new_access(raw["new"], raw["existing"], policy_type, timeout_ms=self.timeout_ms,
                                            typed=self.typed)
            except ValueError:
                raise InputError(f"policy_type: {quote(policy_type)} is not a policy type") from None
        else:
            from .proofs import can_be_allowed

            check = can_be_allowed(raw, timeout_ms=self.timeout_ms, typed=self.typed, base_dir=self.base_dir,
                                   policy_root=self.root if isinstance(self.root, Path) else None)
        return check.to_dict()


def prove_stream(question: str, stream: BinaryIO, out, counts: BatchCounts, timeout_ms: int = 30_000,
                 typed: bool = True, base_dir: Path | None = None, root: Path | bool = True, cluster=None) -> None:
    """Answer every line of ``stream`` as ``question``, one JSON line each;
    with a ``cluster`` (iamlogic/scale.py), in its workers."""
    prover = Prover(question, timeout_ms, typed, base_dir, root)  # checks the question here, before any worker
    if cluster is not None:
        for text, kinds in cluster.prove_text(question, _counted(read_lines(stream), counts), timeout_ms, typed,
                                              base_dir, root):
            out.write(text)
            counts.add(kinds)
        return
    for result in answer_lines(read_lines(stream), prover.answer_line, counts, proof_kind):
        out.write(encode(result) + "\n")


def simulate_kind(out: dict) -> str:
    return "defined" if out.get("defined") else "decided"


def proof_kind(out: dict) -> str:
    return out["result"]


def answers(lines: Iterable[str | bytes | Mapping], question: str = "simulate", **options) -> Iterator[dict]:
    """The Python side of ``--batch``: one answer per item, in order — for
    JSON lines (str or bytes) or objects; ``question`` is ``simulate`` or
    one of QUESTIONS (options: timeout_ms, typed). Each answer carries its
    ``line`` (1-based) and is a result or an ``error``."""
    if question == "simulate":
        brief = options.pop("brief", False)
        if options:
            # An option meant for the proofs (timeout_ms, typed) would change
            # nothing here; saying so beats answering as if it had.
            raise TypeError(f"answers(question='simulate') takes only brief, not {', '.join(sorted(options))}")
        handler = Simulator(brief=brief).answer_line
    else:
        handler = Prover(question, **options).answer_line
    counts = BatchCounts()
    return answer_lines(_as_lines(lines), handler, counts)


def _as_lines(items: Iterable[str | bytes | Mapping]) -> Iterator[Line]:
    for number, item in enumerate(items, 1):
        if isinstance(item, Mapping):
            try:
                text = json.dumps(item)
            except (TypeError, ValueError, RecursionError) as e:
                yield Line(number, None, f"not a JSON object ({type(e).__name__})")
                continue
        elif isinstance(item, (bytes, bytearray)):
            try:
                text = bytes(item).decode("utf-8")
            except UnicodeDecodeError as e:
                yield Line(number, None, f"not UTF-8 text (byte {e.start} of the line)")
                continue
        elif isinstance(item, str):
            text = item
        else:
            yield Line(number, None, f"expected JSON text or an object, found {quote(item)}")
            continue
        yield Line(number, text)
