"""The proofs run one question at a time in a process.

Z3's context is not thread-safe (MEASURED.md): two threads solving at once,
or one thread freeing a Z3 object (a reference count dropping, the cyclic
collector running) while another solves, crash the process inside Z3. So
every public entry point of the proofs holds one process-wide re-entrant
lock (``serialised``), and no Z3 object outlives it: searches keep their
Z3 objects only while the lock is held, and those kept with a policy set
across questions (stack.py) are handed to ``retire`` when the set is freed
— in whatever thread that happens — and freed under the lock at the next
question. A question's deadline is made once it holds the lock (and has
read its policies): the time a thread waits for the lock comes on top of
its time limit, which is the proof's own.

The kernel needs no lock: its pyDatalog logic is per thread (kernel/rules.py).
"""

from __future__ import annotations

import functools
import threading
import traceback

_LOCK = threading.RLock()
_RETIRED: list = []  # objects holding Z3 objects, to be released under the lock


def retire(holder) -> None:
    """Free ``holder``'s Z3 objects at the next question (it has a
    ``release()`` method; None is ignored). Safe in any thread: it only
    appends to a list."""
    if holder is not None:
        _RETIRED.append(holder)


def serialised(function):
    """Run ``function`` holding the proofs' lock (after releasing what was
    retired, so that Z3 objects are freed by the lock's holder only)."""
    @functools.wraps(function)
    def run(*args, **kwargs):
        with _LOCK:
            while _RETIRED:
                _RETIRED.pop().release()
            try:
                return function(*args, **kwargs)
            except BaseException as e:
                # The traceback's frames hold the search's locals (Z3
                # objects among them): free those here, not in the caller.
                traceback.clear_frames(e.__traceback__)
                raise
    return run
