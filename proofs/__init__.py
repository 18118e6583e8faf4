"""The Z3 backend: questions about every request at once, each answered PASS,
FAIL with a witness request the kernel confirms, or UNKNOWN with the reason.

Mirrors kernel/ module for module: matching.py (resource patterns as regexes,
action classes), conditions.py (a condition clause as a formula), engine.py
(whether a policy allows: the primitive ``implies``), stack.py (whether a
whole policy set allows: Engine.decide's side), automata.py (glob automata),
questions.py (the checks); deadline.py (one time limit per question, for
all its phases) and serial.py (one question at a time per process: Z3 is
not thread-safe).
"""

from .questions import (
    Check,
    can_be_allowed,
    check_access_not_granted,
    check_no_new_access,
    check_no_public_access,
    equivalent,
)

__all__ = ["Check", "can_be_allowed", "check_access_not_granted", "check_no_new_access", "check_no_public_access",
           "equivalent"]
