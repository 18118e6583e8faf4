"""The project's errors: one base class, one subclass per kind of failure.

Nothing else escapes the public API on bad input (tests/test_mutations.py)."""

from __future__ import annotations

from enum import IntEnum


# Quoted values in messages: at most this many characters. The one quoting
# helper: every message that quotes an input (a field, a key, a name) uses it,
# so a megabyte value is never echoed whole.
QUOTE_CHARS = 60


# An error message is one line of at most this many characters.
MAX_MESSAGE_CHARS = 1000


def one_line(message: str) -> str:
    """A message as one line that, with the length it gives and the CLI's
    "iamlogic: " before it, keeps within MAX_MESSAGE_CHARS (scripts read it)."""
    message = " ".join(message.splitlines()) if "\n" in message else message
    if len(message) > MAX_MESSAGE_CHARS - 40:
        message = message[:MAX_MESSAGE_CHARS - 40] + f"… ({len(message)} characters)"
    return message


def quote(value: object, limit: int = QUOTE_CHARS) -> str:
    """``repr`` of a value, cut to a short prefix (with its full length)."""
    if isinstance(value, (str, bytes)):
        if len(value) <= limit:
            return repr(value)
        return f"{value[:limit]!r}… ({len(value)} {'characters' if isinstance(value, str) else 'bytes'})"
    if isinstance(value, (dict, list, tuple)):
        return f"a{'n' if type(value).__name__[0] in 'aeiou' else ''} {type(value).__name__}"
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"


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
        # A field's path may hold an input's key (an unknown field, a context
        # key): quoted when long, so that key is never echoed whole.
        shown = field if len(field) <= 2 * QUOTE_CHARS else quote(field)
        super().__init__(f"{shown}: {message}")


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
        from .translator.findings import finding_count  # here: the translator imports this module

        total = finding_count(self.findings)
        more = f" (and {total - 1:,} more)" if total > 1 else ""
        super().__init__(f"{name}{where}: {summary}{more}")
