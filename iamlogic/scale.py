"""Scale-out on a Ray cluster: batch lines and account shards run in actors
that keep their engines warm (pyDatalog's and Z3's state are per process).

``Cluster(address=None, workers=None)`` joins the cluster at ``address`` or,
without one, starts a local Ray runtime on this machine's cores (no
dashboard, no usage statistics, workers' logs kept off the terminal), and
starts one actor per worker (default: one per CPU of the cluster).

- ``simulate(lines, ...)`` and ``prove(question, lines, ...)`` answer batch
  lines (iamlogic/batch.py) exactly as one process does: one answer per
  line, in input order, streamed; ``simulate_text`` and ``prove_text`` give
  each shard's output lines as the workers wrote them out (the command
  line's path: the driver only reads, sends and writes). Lines go out in shards of ``per_shard``
  lines (or ``MAX_SHARD_BYTES``), at most ``window`` shards in flight, so
  memory stays flat whatever the input's size.
- ``run(function, shards, progress)`` is a runner for accounts/shards.py
  (who-can, what-can, reach): a worker reads an account folder once and
  keeps it; the folder must be at the same path on every node.

Named policy sets travel with the shards that use them. The driver keeps,
for each name, the definitions that may be in force: the last one a worker
answered as defined, and the later ones whose answers have not come back
yet. A shard carries those of the names its lines mention, and its actor
restores them (``Simulator.start_from``: the latest that compiles) before
its first line — so a shard's answers do not depend on which actor runs it
or what ran there before, while the engines stay cached in the actor
(keyed by the policies), so an actor compiles a policy set once.

A worker that dies mid-shard: the shard is sent again, to another actor
(Ray restarts the dead one). Only a shard's whole result is ever passed
on, so no line is lost or repeated.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .batch import (MAX_POLICY_SETS, BatchCounts, Line, Prover, Simulator, answer_lines, encode, policy_set_line,
                    proof_kind, simulate_kind)
from .errors import IamlogicError, InputError, UsageError

RAY_MISSING = "--engine ray needs Ray: pip install 'iamlogic[ray]'"
# A simulate line is decided in well under a millisecond once its policies
# are compiled: shards this large keep the per-shard cost small beside it.
LINES_PER_SHARD = 2000
# A proof takes milliseconds to seconds: smaller shards keep workers even.
PROOF_LINES_PER_SHARD = 20
MAX_SHARD_BYTES = 32 << 20
CONNECT_SECONDS = 10
# Tries of one shard (the first, and the resends after a worker died).
ATTEMPTS = 6


def ray_module():
    """Ray, imported only when asked for: the package works without it."""
    try:
        import ray
    except ImportError:
        raise UsageError(RAY_MISSING) from None
    return ray


def connect(address: str | None = None, num_cpus: int | None = None):
    """Ray, connected: to ``address``, or to a local runtime started here."""
    ray = ray_module()
    if address is not None:
        _reachable(address)
    if ray.is_initialized():
        return ray
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    quiet = {"log_to_driver": False, "logging_level": logging.ERROR}
    try:
        if address is None:
            # "local": a runtime of its own, never one a `ray start` left on this machine.
            ray.init(address="local", num_cpus=num_cpus or os.cpu_count() or 1, include_dashboard=False, **quiet)
        else:
            ray.init(address=address, **quiet)
    except Exception as e:  # noqa: BLE001 - Ray raises several kinds; each is this one error
        where = f"the Ray cluster at {address}" if address else "a local Ray runtime"
        # Ray 2.60's `ray start` turns token authentication on; a driver
        # without it is refused, and Ray's error does not say so.
        hint = ("; a cluster started with `ray start` checks a token: set RAY_AUTH_MODE=token (and its token, "
                "see Ray's token authentication guide)") if address and not os.environ.get("RAY_AUTH_MODE") else ""
        option = "--address" if address else "--engine ray"
        raise InputError(f"{option}: cannot connect to {where} ({type(e).__name__}: "
                         f"{' '.join(str(e).split())[:300]}){hint}") from None
    return ray


def _reachable(address: str) -> None:
    """A HOST:PORT address must answer: Ray itself retries for minutes."""
    host, sep, port = address.rpartition(":")
    if "://" in address or not sep or not port.isdigit():
        return  # ray://..., auto: Ray reads those itself
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_SECONDS).close()
    except (OSError, ValueError) as e:
        raise InputError(f"--address {address}: no Ray cluster answers there ({e.strerror or e})") from None


@dataclass
class LineShard:
    """Consecutive batch lines, with what their worker needs to answer them."""

    rows: list[tuple]  # each Line's fields: plain tuples cross the process boundary cheaply
    options: tuple
    # The answers sent back as output lines (with counts by kind), or as objects.
    encoded: bool = False
    # name -> the definitions (policies values, earliest first) that may be
    # in force before the first line, for the names the lines mention.
    definitions: dict[str, list] = field(default_factory=dict)
    # (position in the shard, line number, name) of each line that defines a policy set.
    defines: tuple[tuple[int, int, str], ...] = ()
    # The driver's working folder: policy paths relative to it (a batch
    # read from standard input) mean the same in every worker.
    cwd: str = ""


def _rows(lines: list[Line]) -> list[tuple]:
    return [(line.number, line.text, line.error, line.last_unterminated) for line in lines]


def _packed(answers: list[dict], encoded: bool, counts: BatchCounts):
    if not encoded:
        return answers
    return "".join(encode(out) + "\n" for out in answers), counts.by_kind


def _follow(cwd: str) -> None:
    """Work in the driver's folder, where this node has it (elsewhere a
    relative policy path is an error line naming the missing file)."""
    if cwd and os.getcwd() != cwd:
        try:
            os.chdir(cwd)
        except OSError:
            pass


class Worker:
    """An actor's state, kept across shards: a Simulator (and its engines)
    and a Prover for each set of options."""

    def __init__(self):
        self.simulators: dict[tuple, Simulator] = {}
        self.provers: dict[tuple, Prover] = {}

    def pid(self) -> int:
        return os.getpid()

    def compiled(self) -> int:
        """Policy sets this actor has compiled, over every shard it ran."""
        return sum(s.compiled for s in self.simulators.values())

    def simulate(self, shard: LineShard):
        """The shard's answers, and the positions of the lines that defined a set."""
        simulator = self.simulators.get(shard.options)
        if simulator is None:
            simulator = self.simulators[shard.options] = Simulator(*shard.options)
        _follow(shard.cwd)
        simulator.start_from(shard.definitions)
        counts = BatchCounts()
        lines = (Line(*row) for row in shard.rows)
        if shard.encoded:  # output lines, with the answers kept by line text
            texts, kinds = [], []
            for text, kind in simulator.encoded(lines, counts):
                texts.append(text)
                kinds.append(kind)
            defined = [position for position, _, _ in shard.defines if kinds[position] == "defined"]
            return ("".join(texts), counts.by_kind), defined
        answers = list(answer_lines(lines, simulator.answer_line, counts, simulate_kind))
        defined = [position for position, _, _ in shard.defines if answers[position].get("defined")]
        return answers, defined

    def prove(self, shard: LineShard):
        prover = self.provers.get(shard.options)
        if prover is None:
            prover = self.provers[shard.options] = Prover(*shard.options)
        _follow(shard.cwd)
        counts = BatchCounts()
        answers = list(answer_lines((Line(*row) for row in shard.rows), prover.answer_line, counts, proof_kind))
        return _packed(answers, shard.encoded, counts)

    def run_shard(self, job: tuple[Callable, object, str]):
        function, shard, cwd = job
        _follow(cwd)
        return function(shard)


class Cluster:
    """Actors on a Ray cluster, and the shards sent to them (see the module)."""

    def __init__(self, address: str | None = None, workers: int | None = None, num_cpus: int | None = None,
                 window: int | None = None):
        self.ray = connect(address, num_cpus)
        cpus = int(self.ray.cluster_resources().get("CPU", 0))
        count = workers or max(1, cpus)
        if count > cpus:  # an actor takes a CPU: more would wait for one forever
            raise UsageError(f"{count} workers asked, but the Ray cluster has {cpus} CPUs")
        actor = self.ray.remote(num_cpus=1, max_restarts=-1, max_task_retries=0)(Worker)
        self.actors = [actor.remote() for _ in range(count)]
        self.window = window or 2 * count
        self.retried = 0  # shards sent again after their worker died
        self._next = 0

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """End the actors (their CPUs go back to the cluster)."""
        for actor in self.actors:
            self.ray.kill(actor)
        self.actors = []

    def pids(self) -> list[int]:
        """Each actor's process id (as it is now)."""
        return self.ray.get([a.pid.remote() for a in self.actors])

    # -------------------------------------------------------------- batches

    def simulate(self, lines: Iterable[Line], base_dir: Path | None = None, root: Path | bool = True,
                 brief: bool = False, per_shard: int = LINES_PER_SHARD) -> Iterator[dict]:
        """Simulator.answer_line's answers for ``lines``, in order."""
        for answers in self._simulated(lines, base_dir, root, brief, per_shard, False):
            yield from answers

    def simulate_text(self, lines: Iterable[Line], base_dir: Path | None = None, root: Path | bool = True,
                      brief: bool = False, per_shard: int = LINES_PER_SHARD) -> Iterator[tuple[str, dict]]:
        """For each shard in order: its output lines (as simulate --batch
        writes them) and their counts by kind — the driver only writes."""
        return self._simulated(lines, base_dir, root, brief, per_shard, True)

    def _simulated(self, lines, base_dir, root, brief, per_shard, encoded) -> Iterator:
        history: dict[str, list[tuple[int, object]]] = {}  # name -> (line number, policies), see the module
        options, cwd = (base_dir, root, brief), os.getcwd()

        def shards() -> Iterator[LineShard]:
            for chunk in _chunks(lines, per_shard):
                definitions: dict[str, list] = {}
                defines = []
                for position, line in enumerate(chunk):
                    found = _policy_set(line)
                    if found is None:
                        continue
                    name, kind, value = found
                    if name not in definitions:
                        definitions[name] = [policies for _, policies in history.get(name, ())]
                    if kind != "policies":
                        continue
                    if name not in history and len(history) >= MAX_POLICY_SETS:
                        chunk[position] = Line(line.number, None, f"policy_set: more than {MAX_POLICY_SETS} "
                                                                  "named policy sets in one batch")
                        continue
                    history.setdefault(name, []).append((line.number, value))
                    defines.append((position, line.number, name))
                yield LineShard(_rows(chunk), options, encoded, {n: d for n, d in definitions.items() if d},
                                tuple(defines), cwd)

        for shard, (payload, defined) in self._ordered("simulate", shards()):
            succeeded = set(defined)
            for position, number, name in shard.defines:
                if position in succeeded:
                    kept = [entry for entry in history[name] if entry[0] >= number]
                else:
                    kept = [entry for entry in history[name] if entry[0] != number]
                if kept:
                    history[name] = kept
                else:
                    del history[name]
            yield payload

    def prove(self, question: str, lines: Iterable[Line], timeout_ms: int = 30_000, typed: bool = True,
              base_dir: Path | None = None, root: Path | bool = True,
              per_shard: int = PROOF_LINES_PER_SHARD) -> Iterator[dict]:
        """Prover.answer_line's answers for ``lines``, in order."""
        for answers in self._proved(question, lines, timeout_ms, typed, base_dir, root, per_shard, False):
            yield from answers

    def prove_text(self, question: str, lines: Iterable[Line], timeout_ms: int = 30_000, typed: bool = True,
                   base_dir: Path | None = None, root: Path | bool = True,
                   per_shard: int = PROOF_LINES_PER_SHARD) -> Iterator[tuple[str, dict]]:
        """As simulate_text, for proof lines."""
        return self._proved(question, lines, timeout_ms, typed, base_dir, root, per_shard, True)

    def _proved(self, question, lines, timeout_ms, typed, base_dir, root, per_shard, encoded) -> Iterator:
        Prover(question)  # an unknown question is refused here, before any worker
        options, cwd = (question, timeout_ms, typed, base_dir, root), os.getcwd()
        shards = (LineShard(_rows(chunk), options, encoded, cwd=cwd) for chunk in _chunks(lines, per_shard))
        for _, payload in self._ordered("prove", shards):
            yield payload

    # --------------------------------------------------------- account shards

    def run(self, function: Callable, shards: list, progress=None) -> list:
        """A runner (accounts/shards.py): ``function(shard)`` for each shard,
        in the actors; the results in shard order."""
        results = []
        jobs = ((function, shard, os.getcwd()) for shard in shards)
        for done, (_, result) in enumerate(self._ordered("run_shard", jobs), 1):
            results.append(result)
            if progress is not None:
                progress(done, len(shards))
        return results

    # ---------------------------------------------------------------- sending

    def _ordered(self, method: str, shards: Iterable) -> Iterator[tuple[object, object]]:
        """(shard, result) in the shards' order, at most ``window`` in flight."""
        pending: deque = deque()
        for shard in shards:
            pending.append((shard, *self._submit(method, shard)))
            if len(pending) >= self.window:
                yield self._result(method, *pending.popleft())
        while pending:
            yield self._result(method, *pending.popleft())

    def _submit(self, method: str, shard, avoid: int | None = None):
        index = self._next % len(self.actors)
        if index == avoid and len(self.actors) > 1:
            index = (index + 1) % len(self.actors)
        self._next = index + 1
        return getattr(self.actors[index], method).remote(shard), index

    def _result(self, method: str, shard, ref, index: int):
        exceptions = self.ray.exceptions
        lost = (exceptions.RayActorError, exceptions.WorkerCrashedError, exceptions.ObjectLostError)
        for attempt in range(ATTEMPTS):
            if attempt > 1:
                time.sleep(1)  # a restarted actor takes a moment to come back
            try:
                return shard, self.ray.get(ref)
            except exceptions.RayTaskError as e:
                cause = e.cause
                if isinstance(cause, IamlogicError):
                    raise cause from None
                raise IamlogicError(f"internal error in a worker: {type(cause).__name__}: {cause}") from None
            except lost:
                self.retried += 1
                ref, index = self._submit(method, shard, avoid=index)
        raise IamlogicError(f"the workers died {ATTEMPTS} times on one shard: stopped (nothing after it written)")


def _chunks(lines: Iterable[Line], per_shard: int) -> Iterator[list[Line]]:
    chunk: list[Line] = []
    size = 0
    for line in lines:
        chunk.append(line)
        size += len(line.text or "")
        if len(chunk) >= per_shard or size >= MAX_SHARD_BYTES:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk


def _policy_set(line: Line) -> tuple[str, str, object] | None:
    """The line's policy set (name, "policies" or "request", value) when it
    is a well-formed policy_set line; the worker answers every other line,
    errors included. Only lines that can spell the key are read here."""
    text = line.text
    if text is None or ("policy_set" not in text and "\\u" not in text):
        return None
    try:
        return policy_set_line(json.loads(text))
    except (ValueError, RecursionError, IamlogicError):
        return None
