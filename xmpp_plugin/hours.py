"""Opening hours: a weekly schedule and closed days on the wall clock of Europe/Amsterdam.

Windows are wall-clock times, so 08:00–17:00 means 08:00 local time in winter (CET) and in
summer (CEST) alike; on the days the clocks change a window is as long as the clock says
(02:00–03:00 does not exist on the last Sunday of March and happens twice on the last
Sunday of October). A window includes its first minute and excludes its last: 08:00–17:00
is open at 16:59:59 and closed at 17:00.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

ZONE_NAME = "Europe/Amsterdam"
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MINUTES_PER_DAY = 24 * 60
LOOKAHEAD_DAYS = 400  # next_opening looks this far ahead (a year of closed days and then some)
_WINDOW = re.compile(r"([01]\d|2[0-3]):([0-5]\d)-(([01]\d|2[0-3]):([0-5]\d)|24:00)")


def zone() -> ZoneInfo:
    return ZoneInfo(ZONE_NAME)


@dataclass(frozen=True)
class Hours:
    """``week[i]``: the (start, end) minute-of-day windows of weekday ``i`` (Monday 0), sorted;
    ``closed``: dates that are closed all day. ``always`` means there is no schedule."""

    week: tuple[tuple[tuple[int, int], ...], ...] = ((),) * 7
    closed: frozenset[date] = field(default_factory=frozenset)
    always: bool = True

    def is_open(self, at: datetime) -> bool:
        if self.always:
            return True
        local = at.astimezone(zone())
        if local.date() in self.closed:
            return False
        minute = local.hour * 60 + local.minute
        return any(start <= minute < end for start, end in self.week[local.weekday()])

    def next_opening(self, at: datetime) -> datetime | None:
        """The first instant from ``at`` on that is open (``at`` itself when open now), in
        UTC; None when nothing opens within :data:`LOOKAHEAD_DAYS`."""
        if self.is_open(at):
            return at.astimezone(UTC)
        today = at.astimezone(zone()).date()
        for offset in range(LOOKAHEAD_DAYS):
            day = today + timedelta(days=offset)
            if day in self.closed:
                continue
            for start, _end in self.week[day.weekday()]:
                opens = _instant(day, start)
                if opens > at and self.is_open(opens):
                    return opens
        return None


def parse_window(text: str) -> tuple[int, int]:
    """``"08:30-17:00"`` → (510, 1020); ``24:00`` may end a window. ValueError when malformed."""
    m = _WINDOW.fullmatch(text.replace(" ", ""))
    if not m:
        raise ValueError(f"{text!r} is not a window like \"08:30-17:00\"")
    start = int(m.group(1)) * 60 + int(m.group(2))
    end = MINUTES_PER_DAY if m.group(3) == "24:00" else int(m.group(4)) * 60 + int(m.group(5))
    if end <= start:
        raise ValueError(f"{text!r} ends before it starts")
    return start, end


def _instant(day: date, minute: int) -> datetime:
    """The first UTC instant at which the wall clock reads ``minute`` on ``day`` or later.

    An ordinary time has one instant; a time the clocks skip (spring) opens when the clock
    jumps; a time that happens twice (autumn) opens the first time.
    """
    naive = datetime.combine(day, time()) + timedelta(minutes=minute)
    tz = zone()
    first = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
    second = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    earlier, later = min(first, second), max(first, second)
    if earlier.astimezone(tz).replace(tzinfo=None) == naive:
        return earlier  # exists (once, or twice: the first)
    # Skipped: the clock jumps past it somewhere between the two readings.
    t = earlier
    while t < later and t.astimezone(tz).replace(tzinfo=None) < naive:
        t += timedelta(minutes=1)
    return t
