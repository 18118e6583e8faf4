"""One question's time limit, carried through every phase of its proof.

A public question (questions.py; stack.can_be_allowed and engine.implies
for callers that ask the primitive directly) creates one ``Deadline`` from
its ``timeout_ms`` and hands the same object to everything it runs: the
action split, the encoding, every solver call (whose own timeout is what
is left), every automaton search, the witness replay, both directions of
``equivalent``, the per-layer reasons of can-be-allowed. Whichever phase
finds it expired raises ``Timeout``; the question's boundary turns that
into UNKNOWN ("did not finish within N ms") — never PASS.
"""

from __future__ import annotations

import math
import time

from ..errors import UsageError, quote


class Timeout(Exception):
    """The question's deadline passed (caught where the question is asked)."""


class Deadline:
    """A point in ``time.monotonic()`` time, ``timeout_ms`` after creation."""

    __slots__ = ("timeout_ms", "at")

    def __init__(self, timeout_ms: int):
        # A limit that is not a finite number would never expire (nan
        # compares false with every time): refused, naming the parameter.
        if type(timeout_ms) not in (int, float) or not math.isfinite(timeout_ms):
            raise UsageError(f"timeout_ms: a finite number of milliseconds, not {quote(timeout_ms)}")
        self.timeout_ms = timeout_ms
        self.at = time.monotonic() + timeout_ms / 1000

    @classmethod
    def of(cls, limit: "Deadline | int") -> "Deadline":
        """The deadline itself, or a new one of ``limit`` milliseconds (the
        public functions take either: a caller asking several questions
        under one limit passes its Deadline)."""
        return limit if isinstance(limit, Deadline) else cls(limit)

    def remaining_ms(self) -> int:
        return max(0, int((self.at - time.monotonic()) * 1000))

    def expired(self) -> bool:
        return time.monotonic() >= self.at

    def check(self) -> None:
        """Raise Timeout once the deadline has passed."""
        if time.monotonic() >= self.at:
            raise Timeout()

    def solver_ms(self) -> int:
        """The timeout for one solver call: what is left (at least 1 ms, as
        Z3 reads 0 as no limit at all); Timeout when nothing is left."""
        left = int((self.at - time.monotonic()) * 1000)
        if left <= 0:
            raise Timeout()
        return left

    @property
    def why(self) -> str:
        return f"the proof did not finish within {self.timeout_ms} ms"
