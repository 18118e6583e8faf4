"""Reading condition values as their operator's type (SEMANTICS §4).

The validator reports a value that does not read; the kernel's matching reads
the same values with the same functions, so "does not parse" means one thing.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from .operators import ValueType

# IAM's date reading, as recorded from AWS (corpus aws_policy_validation):
# a lower-case "t" and a one-digit hour are accepted, a zone needs a two-digit
# hour ("+23" yes, "+1" no), fractions stop at nine digits.
_ISO_DATE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[Tt](\d{1,2})(?::(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?)?"
    r"(Z|z|[+-]\d{2}(?::?\d{2})?)?"
)
_EPOCH = re.compile(r"-?\d+")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def parse_date(text: str) -> datetime | None:
    """An ISO 8601 date-time or epoch seconds, as an aware UTC datetime."""
    if _EPOCH.fullmatch(text):
        try:
            return datetime.fromtimestamp(int(text), tz=timezone.utc)
        except (OverflowError, OSError, ValueError):
            return None
    m = _ISO_DATE.fullmatch(text)
    if not m:
        return None
    year, month, day, hour, minute, second, fraction, zone = m.groups()
    try:
        moment = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0),
                          int((fraction or "0")[:6].ljust(6, "0")))
    except ValueError:
        return None
    offset = timedelta(0)
    if zone and zone not in "Zz":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:] or 0)
        if hours > 23 or minutes > 59:
            return None
        offset = sign * timedelta(hours=hours, minutes=minutes)
    try:
        return moment.replace(tzinfo=timezone(offset)).astimezone(timezone.utc)
    except OverflowError:  # past year 1 or 9999 once the offset is applied
        return None


def parse_number(text: str) -> Decimal | None:
    """Exact decimal: the engine downstream rounds floats, so none are made."""
    if not _NUMBER.fullmatch(text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def fold_case(text: str) -> str:
    """A string as the IgnoreCase operators compare it (docs/readings.md):
    character by character, each by its Unicode simple case fold — always
    one character, so "ß" is not "ss", "ﬁ" not "fi", "İ" not "i"; "ẞ" is
    "ß", "Σ" and "ς" are "σ", the Kelvin sign is "k", "𐐀" is "𐐨"."""
    if text.isascii():
        return text.lower()
    return "".join(map(_fold_cached, text))


def simple_fold(c: str) -> str:
    """One character's simple case fold (CaseFolding.txt statuses C and S).
    Python gives the full fold (C and F); where that is one character it is
    the simple one. Where it is several, the simple fold is the character's
    own lower case when that is one character (the S entries: "ẞ" → "ß",
    "ᾈ" → "ᾀ"), else the character itself ("ß", "ﬁ", "İ")."""
    folded = c.casefold()
    if len(folded) == 1:
        return folded
    lower = c.lower()
    return lower if len(lower) == 1 else c


_fold_cached = lru_cache(maxsize=4096)(simple_fold)


def parse_bool(text: str) -> bool | None:
    lowered = text.lower()
    return True if lowered == "true" else False if lowered == "false" else None


def parse_ip(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    """A CIDR; a bare address is /32 (IPv4) or /128 (IPv6)."""
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def parse_binary(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def parse_arn(text: str) -> tuple[str, ...] | None:
    """The six parts of an ARN (the last may hold colons), for Arn* operators."""
    if text == "*":
        return ("*",) * 6
    parts = text.split(":", 5)
    if len(parts) != 6 or parts[0] not in ("arn", "arn*", "*"):
        return None
    return tuple(parts)


_READERS = {
    ValueType.DATE: (parse_date, "a date (ISO 8601 or epoch seconds)"),
    ValueType.NUMERIC: (parse_number, "a number"),
    ValueType.BOOL: (parse_bool, 'a boolean ("true" or "false")'),
    ValueType.NULL: (parse_bool, 'a boolean ("true" or "false")'),
    ValueType.IP_ADDRESS: (parse_ip, "an IPv4 or IPv6 address or CIDR"),
    ValueType.BINARY: (parse_binary, "base64 data"),
    ValueType.ARN: (parse_arn, "an ARN (six colon-separated parts)"),
}


def problem(value_type: ValueType, text: str) -> str | None:
    """None if ``text`` reads as ``value_type``; else what it should have been."""
    reader = _READERS.get(value_type)
    if reader is None:
        return None
    parse, expected = reader
    return None if parse(text) is not None else expected
