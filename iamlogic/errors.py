"""The project's errors: one base class, one subclass per kind of failure.

Nothing else escapes the public API on bad input (tests/test_mutations.py)."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Exit codes of every command."""

    OK = 0  # nothing blocking
    TOOL_ERROR = 1  # bad usage, unreadable input, internal failure
    BLOCKING = 2  # blocking findings (ERROR by default)
    UNDECIDED = 3  # the question could not be decided (e.g. a solver timeout)


class IamlogicError(Exception):
    """Base of every error iamlogic raises on purpose."""

    exit_code = ExitCode.TOOL_ERROR


class UsageError(IamlogicError):
    """An argument the caller gave is not one the function takes."""


class ScenarioError(IamlogicError):
    """A scenario (policies + request) is malformed; the message names the field."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(f"{field}: {message}")


class InputError(IamlogicError):
    """An input could not be read at all (missing file, unreadable, too large)."""


class PolicyError(IamlogicError):
    """A policy document has blocking findings; ``findings`` lists them all."""

    exit_code = ExitCode.BLOCKING

    def __init__(self, findings, name: str = "<policy>"):
        self.findings = list(findings)
        self.name = name
        first = next((f for f in self.findings), None)
        where = ""
        if first is not None and first.span is not None:
            where = f":{first.span.line}:{first.span.column}"
        summary = f"{first.issue_code}: {first.message}" if first else "invalid policy"
        more = f" (and {len(self.findings) - 1} more)" if len(self.findings) > 1 else ""
        super().__init__(f"{name}{where}: {summary}{more}")
