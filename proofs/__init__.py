"""The Z3 backend: questions about every request at once, each answered PASS,
FAIL with a witness request the kernel confirms, or UNKNOWN with the reason.

Mirrors kernel/ module for module: matching.py (resource patterns as regexes,
action classes), conditions.py (a condition clause as a formula), engine.py
(whether a policy allows: the primitive ``implies``), questions.py (the checks).
"""

from .questions import Check, check_no_new_access, equivalent

__all__ = ["Check", "check_no_new_access", "equivalent"]
