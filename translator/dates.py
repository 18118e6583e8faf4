"""Which Date condition values IAM stores: its legacy parser's reading.

IAM refuses a document whose Date value its legacy parser cannot read ("The
policy failed legacy parsing"). The recorded answers fit one reading exactly —
a 64-bit integer (epoch seconds), or Joda-Time's ISO ``dateTimeParser`` — and
no narrower one:

  accepted  2017-07-01T00:00:00Z   2016-12-13t2:00:00.593194+23   01T
            2016-12-13T21:20:37.593194+00:00   -292275054
  refused   sdfdsf   2016-12-13t2:00:00.593194+1   234-13
            2016-12-13t2:00:00.1999999999+10:59   9223372036854775808

The grammar (Joda's, as documented for ``ISODateTimeFormat.dateTimeParser``)::

  datetime          = time | date-opt-time
  time              = 'T' time-element [offset]
  date-opt-time     = date-element ['T' [time-element] [offset]]
  date-element      = std-date-element | week-date-element | ord-date-element
  std-date-element  = yyyy ['-' MM ['-' dd]]
  week-date-element = xxxx '-W' ww ['-' e]
  ord-date-element  = yyyy '-' DDD
  time-element      = HH [minute-element] | [fraction]
  minute-element    = ':' mm [second-element] | [fraction]
  second-element    = ':' ss [fraction]
  fraction          = ('.' | ',') digit{1,9}
  offset            = 'Z' | (('+' | '-') HH [':'? mm [':'? ss [('.' | ',') SSS]]])

Literals match in either case; a year is a signed number of up to nine
digits, the other fields one or two digits (DDD up to three; offset fields
exactly two). Of the date-element alternatives the first that reaches the
end of the text wins, else the one that reads furthest — so ``234-13`` is
month 13 (refused), not day 13 of the year. The fields are then checked
against the ISO calendar (month 1–12, a day that exists, hour ≤ 23, ...).

This module only says whether IAM stores a value (``iam_reads_date``); what a
date means to a decision is the kernel's reading (kernel/values.py).
"""

from __future__ import annotations

import calendar
from functools import lru_cache

_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1
_YEAR_MIN, _YEAR_MAX = -292275054, 292278993  # Joda's ISO chronology


@lru_cache(maxsize=4096)
def iam_reads_date(text: str) -> bool:
    """Whether IAM's legacy parser reads ``text`` as a date."""
    if _is_long(text):
        return True
    return _Scanner(text).datetime()


def _is_long(text: str) -> bool:
    body = text[1:] if text[:1] in "+-" else text
    return body.isascii() and body.isdigit() and _LONG_MIN <= int(text) <= _LONG_MAX


class _Scanner:
    def __init__(self, text: str):
        self.text = text

    # -- small readers: each returns (value, new position) or None

    def digits(self, pos: int, most: int, least: int = 1) -> tuple[int, int] | None:
        end = pos
        while end < len(self.text) and end - pos < most and "0" <= self.text[end] <= "9":
            end += 1
        return (int(self.text[pos:end]), end) if end - pos >= least else None

    def literal(self, pos: int, chars: str) -> int | None:
        return pos + 1 if pos < len(self.text) and self.text[pos].upper() in chars else None

    def year(self, pos: int) -> tuple[int, int] | None:
        sign = 1
        if pos < len(self.text) and self.text[pos] in "+-":
            sign = -1 if self.text[pos] == "-" else 1
            pos += 1
        got = self.digits(pos, 9)
        return (sign * got[0], got[1]) if got else None

    # -- the grammar

    def datetime(self) -> bool:
        if self.literal(0, "T") is not None:
            end = self.time_element(1)
            if end is not None:
                end = self.offset(end)
                if end == len(self.text):
                    return True
        return self.date_opt_time()

    def date_opt_time(self) -> bool:
        element = self.date_element()
        if element is None:
            return False
        valid, pos = element
        after_t = self.literal(pos, "T")
        if after_t is not None:
            pos = after_t
            time_end = self.time_element(pos)
            if time_end is not None:
                pos = time_end
            pos = self.offset(pos)
        return pos == len(self.text) and valid

    def date_element(self) -> tuple[bool, int] | None:
        """(whether the fields exist in the calendar, end) of the winning
        alternative: the first to reach the end, else the furthest."""
        best = None
        for alternative in (self.std_date, self.week_date, self.ord_date):
            got = alternative(0)
            if got is None:
                continue
            if got[1] == len(self.text):
                return got
            if best is None or got[1] > best[1]:
                best = got
        return best

    def std_date(self, pos: int):
        year = self.year(pos)
        if year is None:
            return None
        y, pos = year
        month = day = 1
        dash = self.literal(pos, "-")
        got = self.digits(dash, 2) if dash is not None else None
        if got:
            month, pos = got
            dash = self.literal(pos, "-")
            got = self.digits(dash, 2) if dash is not None else None
            if got:
                day, pos = got
        valid = _YEAR_MIN <= y <= _YEAR_MAX and 1 <= month <= 12 and 1 <= day <= _days_in_month(y, month)
        return valid, pos

    def week_date(self, pos: int):
        year = self.year(pos)
        if year is None:
            return None
        y, pos = year
        dash = self.literal(pos, "-")
        w = self.literal(dash, "W") if dash is not None else None
        got = self.digits(w, 2) if w is not None else None
        if not got:
            return None
        week, pos = got
        weekday = 1
        dash = self.literal(pos, "-")
        got = self.digits(dash, 1) if dash is not None else None
        if got:
            weekday, pos = got
        valid = _YEAR_MIN <= y <= _YEAR_MAX and 1 <= week <= _weeks_in_year(y) and 1 <= weekday <= 7
        return valid, pos

    def ord_date(self, pos: int):
        year = self.year(pos)
        if year is None:
            return None
        y, pos = year
        dash = self.literal(pos, "-")
        got = self.digits(dash, 3) if dash is not None else None
        if not got:
            return None
        day, pos = got
        return _YEAR_MIN <= y <= _YEAR_MAX and 1 <= day <= (366 if _leap(y) else 365), pos

    def fraction(self, pos: int) -> int | None:
        point = self.literal(pos, ".,")
        got = self.digits(point, 9) if point is not None else None
        return got[1] if got else None

    def time_element(self, pos: int) -> int | None:
        """The end of HH[:mm[:ss[.f]] | .f] | .f], or None (a field out of
        range counts as unread: the text is then refused)."""
        hour = self.digits(pos, 2)
        if hour is None:
            return None
        if hour[0] > 23:
            return None
        pos = hour[1]
        colon = self.literal(pos, ":")
        minute = self.digits(colon, 2) if colon is not None else None
        if minute is not None:
            if minute[0] > 59:
                return None
            pos = minute[1]
            colon = self.literal(pos, ":")
            second = self.digits(colon, 2) if colon is not None else None
            if second is not None:
                if second[0] > 59:
                    return None
                pos = second[1]
                end = self.fraction(pos)
                return end if end is not None else pos
            end = self.fraction(pos)
            return end if end is not None else pos
        end = self.fraction(pos)
        return end if end is not None else pos

    def offset(self, pos: int) -> int:
        """The end of an offset at ``pos``, or ``pos`` when there is none
        (the offset is optional; what follows must then be the end)."""
        zulu = self.literal(pos, "Z")
        if zulu is not None:
            return zulu
        if pos >= len(self.text) or self.text[pos] not in "+-":
            return pos
        start = pos
        hours = self.digits(pos + 1, 2, least=2)
        if hours is None or hours[0] > 23:
            return start
        pos = hours[1]
        separated = self.literal(pos, ":") is not None
        minutes = self.digits(pos + separated, 2, least=2)
        if minutes is None:
            return pos
        if minutes[0] > 59:
            return start
        pos = minutes[1]
        if separated and self.literal(pos, ":") is None:
            return pos
        seconds = self.digits(pos + separated, 2, least=2)
        if seconds is None:
            return pos
        if seconds[0] > 59:
            return start
        pos = seconds[1]
        point = self.literal(pos, ".,")
        millis = self.digits(point, 3) if point is not None else None
        return millis[1] if millis else pos


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _days_in_month(year: int, month: int) -> int:
    if month == 2:
        return 29 if _leap(year) else 28
    return calendar.mdays[month]


def _weeks_in_year(year: int) -> int:
    """ISO weeks of a week-year: 53 when it starts on a Thursday, or on a
    Wednesday in a leap year."""
    jan1 = _weekday_jan1(year)  # 1 Monday … 7 Sunday
    return 53 if jan1 == 4 or (jan1 == 3 and _leap(year)) else 52


def _weekday_jan1(year: int) -> int:
    # Gauss's algorithm, proleptic Gregorian, any integer year.
    y = year - 1
    day = (1 + 5 * (y % 4) + 4 * (y % 100) + 6 * (y % 400)) % 7  # 0 Sunday
    return 7 if day == 0 else day
