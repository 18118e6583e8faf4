"""Policy documents as AWS exports hold them: a JSON object, or JSON text —
URL-encoded when it comes straight from the IAM API — read into the model
once, or refused with the reason."""

from __future__ import annotations

import json
from collections.abc import Mapping
from urllib.parse import unquote

from ..scenario import unevaluable
from ..translator import Policy, PolicyType, read_policy


class BadDocument(Exception):
    """A policy document that cannot be read or that IAM would refuse."""


def decode(raw: object) -> object:
    """The document as JSON data (an object, when it is well-formed)."""
    if isinstance(raw, Mapping):
        return dict(raw)
    if not isinstance(raw, str):
        raise BadDocument(f"a policy document is an object or JSON text, not {type(raw).__name__}")
    text = raw.strip()
    if text.startswith("%7B") or text.startswith("%7b"):
        text = unquote(text)
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise BadDocument(f"not JSON ({e.msg} at line {e.lineno} column {e.colno})") from None
    except RecursionError:
        raise BadDocument("nests too deeply to be a policy") from None
    except ValueError as e:  # an integer of more digits than Python converts
        raise BadDocument(f"not readable JSON ({str(e)[:80]})") from None


# Errors IAM refuses a document for whose clause the kernel reads as false:
# in a scenario that is the kernel's reading (with a warning), but account
# data is what AWS stores, which cannot hold them — and a false clause in a
# Deny would silently widen every answer it limits. Such a document is
# unreadable: the answers it could change are UNDECIDED (fail closed).
_NEVER_STORED = frozenset({"INVALID_CONDITION_OPERATOR", "INVALID_CONDITION_DATA_TYPE"})


def read_document(raw: object, policy_type: PolicyType, name: str) -> Policy:
    """The policy model; BadDocument names the first error that makes IAM
    refuse it (those that leave it evaluable pass, as scenarios accept them,
    but an unreadable condition does not: _NEVER_STORED)."""
    try:
        policy, findings = read_policy(decode(raw), policy_type, name)
    except RecursionError:
        raise BadDocument("nests too deeply to be a policy") from None
    blocking = unevaluable(findings) + [f for f in findings if f.issue_code in _NEVER_STORED]
    if policy is None or blocking:
        first = blocking[0] if blocking else None
        raise BadDocument(f"{first.issue_code}: {first.message}" if first else "not a JSON object")
    return policy
