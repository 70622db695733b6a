"""The process calendar: where a guideline's cycle stands, what it allows now, what is due.

2017A fixes a cycle around each summit (S-3 draft published ... S+3 Board
approval) and some rules only bite at certain times: criteria freeze once the
draft is published (A4.3), the Board approves from S+3 (D), flag requests are
acknowledged within 30 days (C3.3). ``policies/timeline.yaml`` dates those
milestones and names what each one opens (``allows``) or closes (``forbids``),
so rules, reports and reminders share one clock.

Pure: the caller passes ``now`` and the parsed policy. Instants are aware and
computed in UTC; naive datetimes are refused, since a deadline that depends on
the server's clock is a bug waiting for the next DST change. The policy's
``timezone`` only shows times and places date-only milestones: a ``date`` is
00:00 that day in that zone, converted with that day's offset (DST-aware); an
``offset_days`` milestone is that many *calendar* days from the summit date,
also at local midnight, so DST in between does not move it by an hour (nor a
reminder, at local midnight N days before). A midnight that DST skips resolves
as PEP 495 does (fold=0): to the instant the clocks jump forward.

An action's state is set by the latest milestone passed that names it; before
any does, it is the opposite of what the first to name it does (a window that
opens at S+3 is closed before S+3); an action no milestone names is free.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from govbot.core.findings import KeyPath


class TimelineError(ValueError):
    """The policy's data makes no calendar; ``path`` is the key to point the user at."""

    def __init__(self, message: str, path: KeyPath = ()) -> None:
        super().__init__(message)
        self.path = path


def aware(dt: datetime, what: str = "datetime") -> datetime:
    """``dt`` in UTC; a naive datetime is an error, never silently local or UTC."""
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(
            f"{what} {dt.isoformat()} is naive (no timezone); pass an aware datetime, "
            "e.g. datetime.now(UTC): govbot never guesses which clock a time was read on"
        )
    return dt.astimezone(UTC)


def zone(name: str, path: KeyPath = ("timezone",)) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError, OSError) as e:
        raise TimelineError(
            f"unknown timezone {name!r}; use an IANA name such as 'Europe/Berlin' or 'UTC'", path
        ) from e


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """00:00 on ``day`` in ``tz``, as a UTC instant (that day's offset, DST included)."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def format_local(dt: datetime, tz: str | ZoneInfo) -> str:
    """``2027-03-21 00:00 CDT (2027-03-21 05:00 UTC)``: the policy's clock, and UTC."""
    instant = aware(dt)
    tzinfo = tz if isinstance(tz, ZoneInfo) else zone(tz)
    utc = f"{instant:%Y-%m-%d %H:%M} UTC"
    if tzinfo.key in ("UTC", "Etc/UTC"):
        return utc
    local = instant.astimezone(tzinfo)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()} ({utc})"


@dataclass(frozen=True)
class Milestone:
    cycle: str
    """The guideline id the cycle produces."""
    id: str
    name: str
    at: datetime
    """When it takes effect, in UTC."""
    allows: frozenset[str] = frozenset()
    forbids: frozenset[str] = frozenset()
    note: str = ""
    why: tuple[tuple[str, str], ...] = ()
    """Action -> the process rule behind its effect (``effects.why``)."""

    @property
    def label(self) -> str:
        return f"{self.id} ({self.name}) of {self.cycle}"

    def reason(self, action: str) -> str:
        return dict(self.why).get(action, "")


@dataclass(frozen=True)
class Cycle:
    guideline: str
    summit: date
    milestones: tuple[Milestone, ...]
    """In time order; never empty."""

    @property
    def start(self) -> datetime:
        return self.milestones[0].at

    @property
    def end(self) -> datetime:
        return self.milestones[-1].at


@dataclass(frozen=True)
class FlagRequests:
    """C3.3: how a vendor's request to flag a test is recognised, and how soon it is answered."""

    within_days: int = 30
    label: str | None = None
    change_kind: str | None = None
    """A structural-diff kind (govbot.core.diff), e.g. ``test.flag``, whose new value is set."""

    def recognises(self, labels: Iterable[str] = (), changes: Iterable[Any] = ()) -> bool:
        if self.label is not None and self.label in set(labels):
            return True
        kind = self.change_kind
        return kind is not None and any(c.kind == kind and c.after for c in changes)


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class Calendar:
    """Business days of the committee's zone: which weekdays are off, which dates are holidays.

    Deadlines counted in business days (a vote's minimum time, its closing
    date) skip them; the time of day is kept, in the zone's local time, so a
    vote opened on Friday at 10:00 with one business day closes on Monday at
    10:00, whatever DST did over the weekend.
    """

    timezone: str = "UTC"
    weekend: frozenset[int] = frozenset({5, 6})  # date.weekday(): Saturday, Sunday
    holidays: frozenset[date] = frozenset()

    def is_business_day(self, day: date) -> bool:
        return day.weekday() not in self.weekend and day not in self.holidays

    def add_business_days(self, start: datetime, days: int) -> datetime:
        """The instant ``days`` business days after ``start`` (0: ``start`` itself)."""
        local = aware(start, "start").astimezone(zone(self.timezone))
        if days < 0:
            raise ValueError(f"{days} business days: count forward, 0 or more")
        if len(self.weekend) >= 7:
            raise ValueError("a calendar whose every weekday is off has no business days")
        day, left = local.date(), days
        while left:
            day += timedelta(days=1)
            if self.is_business_day(day):
                left -= 1
        moved = datetime.combine(day, local.time().replace(tzinfo=None), tzinfo=zone(self.timezone))
        return moved.astimezone(UTC)

    def business_days_between(self, start: datetime, end: datetime) -> int:
        """Whole business days from ``start``'s local date to ``end``'s (how late is late)."""
        tz = zone(self.timezone)
        a, b = aware(start, "start").astimezone(tz).date(), aware(end, "end").astimezone(tz).date()
        count, day = 0, a
        while day < b:
            day += timedelta(days=1)
            count += self.is_business_day(day)
        return count

    @classmethod
    def from_data(cls, data: Any, timezone: str) -> Calendar:
        raw = data if isinstance(data, dict) else {}
        weekend = raw.get("weekend", ["saturday", "sunday"])
        try:
            days = frozenset(WEEKDAYS.index(str(d).lower()) for d in weekend)
        except ValueError as e:
            raise TimelineError(
                f"calendar.weekend: days are {', '.join(WEEKDAYS)}", ("calendar", "weekend")
            ) from e
        holidays = frozenset(
            _date(d, ("calendar", "holidays", i)) for i, d in enumerate(raw.get("holidays") or [])
        )
        return cls(timezone, days, holidays)


@dataclass(frozen=True)
class FlagReminder:
    """C3.3: a flag request whose acknowledgement is due, to remind the chairs of."""

    key: str
    opened_at: datetime
    due_at: datetime
    at: datetime
    days_before: int


@dataclass(frozen=True)
class CycleStatus:
    now: datetime
    cycle: Cycle
    """The cycle in progress; between cycles the coming one; after all of them the last."""
    phase: str
    """``before``, ``during`` or ``after`` the cycle's first..last milestone."""
    last: Milestone | None
    next: Milestone | None
    left: timedelta | None
    allowed: Mapping[str, str] = field(default_factory=dict)
    """Action -> why, for every action the timeline names; likewise ``forbidden``."""
    forbidden: Mapping[str, str] = field(default_factory=dict)

    @property
    def days_left(self) -> int | None:
        """Whole days until the next milestone (3 days 5 hours is 3)."""
        return self.left.days if self.left is not None else None


@dataclass(frozen=True)
class Due:
    at: datetime
    kind: str
    """``milestone`` (it takes effect) or ``reminder`` (``days_before`` ahead of one)."""
    milestone: Milestone
    days_before: int = 0


@dataclass(frozen=True)
class Overdue:
    key: str
    opened_at: datetime
    due_at: datetime
    overdue_by: timedelta


def _date(value: Any, path: KeyPath) -> date:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError) as e:
        raise TimelineError(f"{value!r} is not a date; write YYYY-MM-DD", path) from e


def _milestone(raw: Any, cycle: str, summit: date, tz: ZoneInfo, path: KeyPath) -> Milestone:
    ident, offset = str(raw["id"]), raw.get("offset_days")
    if (offset is None) == ("date" not in raw):
        raise TimelineError(f"milestone {ident} needs offset_days or date (one of them)", path)
    if offset is not None:
        when = summit + timedelta(days=int(offset))
    else:
        when = _date(raw["date"], (*path, "date"))
    effects = raw.get("effects") or {}
    allows = frozenset(effects.get("allows") or ())
    forbids = frozenset(effects.get("forbids") or ())
    if allows & forbids:
        both = ", ".join(sorted(allows & forbids))
        raise TimelineError(f"milestone {ident} both allows and forbids {both}", (*path, "effects"))
    why = {str(k): str(v) for k, v in (effects.get("why") or {}).items()}
    stray = sorted(why.keys() - (allows | forbids))
    if stray:
        where = (*path, "effects", "why", stray[0])
        raise TimelineError(f"milestone {ident} explains {stray[0]} but does not name it", where)
    name, note = str(raw["name"]), str(raw.get("note") or "")
    at = local_midnight(when, tz)
    return Milestone(cycle, ident, name, at, allows, forbids, note, tuple(sorted(why.items())))


def _cycle(raw: Any, tz: ZoneInfo, path: KeyPath) -> Cycle:
    guideline = str(raw["guideline"])
    summit = _date(raw["summit"], (*path, "summit"))
    ms: list[Milestone] = []
    for i, m in enumerate(raw["milestones"]):
        ms.append(_milestone(m, guideline, summit, tz, (*path, "milestones", i)))
        if ms[-1].id in [x.id for x in ms[:-1]]:
            where = (*path, "milestones", i)
            raise TimelineError(f"cycle {guideline} lists milestone {ms[-1].id} twice", where)
    if not ms:
        raise TimelineError(f"cycle {guideline} lists no milestones", (*path, "milestones"))
    return Cycle(guideline, summit, tuple(sorted(ms, key=lambda m: m.at)))


@dataclass(frozen=True)
class Timeline:
    timezone: str
    cycles: tuple[Cycle, ...]
    """In time order, not overlapping: one ``next`` is worked on at a time."""
    flag_requests: FlagRequests = field(default_factory=FlagRequests)
    reminder_days: tuple[int, ...] = (3, 1)
    calendar: Calendar = field(default_factory=Calendar)
    """Business days of the committee's zone (``calendar`` in the policy)."""

    @classmethod
    def from_data(cls, data: Any) -> Timeline:
        """The parsed policy; TimelineError (with a key path) if it makes no calendar.

        Shapes are the schema's business; here they only have to fail clearly,
        while what a schema cannot see is checked: zone, dates, no overlap.
        """
        try:
            return cls._from_data(data)
        except TimelineError:
            raise
        except (KeyError, TypeError, AttributeError, ValueError) as e:
            what = f"missing key {e}" if isinstance(e, KeyError) else f"{type(e).__name__}: {e}"
            raise TimelineError(f"the timeline does not match its schema ({what})") from e

    @classmethod
    def _from_data(cls, data: Mapping[str, Any]) -> Timeline:
        tz = zone(data.get("timezone", "UTC"))
        if not data["cycles"]:
            raise TimelineError("cycles: list at least one cycle", ("cycles",))
        cycles = [(_cycle(c, tz, ("cycles", i)), i) for i, c in enumerate(data["cycles"])]
        cycles.sort(key=lambda p: p[0].start)
        for (before, _), (after, i) in pairwise(cycles):
            if after.start <= before.end:
                raise TimelineError(
                    f"cycle {after.guideline} starts ({format_local(after.start, tz)}) before "
                    f"cycle {before.guideline} ends ({format_local(before.end, tz)}); "
                    "cycles follow each other",
                    ("cycles", i),
                )
        flag = (data.get("acknowledgements") or {}).get("flag_request") or {}
        match = flag.get("match") or {}
        within = int(flag.get("within_days", 30))
        days = (data.get("reminders") or {}).get("before_deadline_days", [3, 1])
        return cls(
            tz.key,
            tuple(c for c, _ in cycles),
            FlagRequests(within, flag.get("label"), match.get("change_kind")),
            tuple(sorted({int(d) for d in days}, reverse=True)),
            Calendar.from_data(data.get("calendar"), tz.key),
        )

    @property
    def tz(self) -> ZoneInfo:
        return zone(self.timezone)

    @property
    def milestones(self) -> tuple[Milestone, ...]:
        return tuple(m for c in self.cycles for m in c.milestones)

    @property
    def actions(self) -> list[str]:
        return sorted({a for m in self.milestones for a in m.allows | m.forbids})

    def when(self, m: Milestone, action: str = "") -> str:
        """The milestone, its time, and the rule behind what it does to ``action``."""
        why = m.reason(action)
        return f"{m.label}, {format_local(m.at, self.tz)}" + (f": {why}" if why else "")

    def allows(self, action: str, now: datetime) -> tuple[bool, str]:
        """Whether ``action`` may happen at ``now``, and why, citing the milestone that decides."""
        now = aware(now, "now")
        naming = [m for m in self.milestones if action in m.allows | m.forbids]
        passed = [m for m in naming if m.at <= now]
        if passed:
            m = passed[-1]
            ok = action in m.allows
            return (
                ok,
                f"{action} is {'allowed' if ok else 'forbidden'} since {self.when(m, action)}",
            )
        if naming:
            m = naming[0]
            ok = action in m.forbids
            verb = "allowed until" if ok else "not allowed before"
            return ok, f"{action} is {verb} {self.when(m, action)}"
        known = ", ".join(self.actions) or "none"
        return True, f"no milestone restricts {action} (actions the timeline names: {known})"

    def opens(self, action: str, now: datetime) -> Milestone | None:
        """The next milestone after ``now`` that allows ``action`` (None: none does)."""
        now = aware(now, "now")
        return next((m for m in self.milestones if m.at > now and action in m.allows), None)

    def status(self, now: datetime) -> CycleStatus:
        now = aware(now, "now")
        ms = self.milestones
        passed = [m for m in ms if m.at <= now]
        upcoming = next((m for m in ms if m.at > now), None)
        cycle, phase = self.cycles[-1], "after"
        for c in self.cycles:
            if now < c.end:
                cycle, phase = c, "before" if now < c.start else "during"
                break
        verdicts = {action: self.allows(action, now) for action in self.actions}
        allowed = {a: why for a, (ok, why) in verdicts.items() if ok}
        forbidden = {a: why for a, (ok, why) in verdicts.items() if not ok}
        last = passed[-1] if passed else None
        left = upcoming.at - now if upcoming is not None else None
        return CycleStatus(now, cycle, phase, last, upcoming, left, allowed, forbidden)

    def due(self, now: datetime, horizon_days: int) -> list[Due]:
        """Milestones and reminders falling in [now, now + horizon_days), in time order."""
        now = aware(now, "now")
        if horizon_days < 0:
            raise ValueError(f"horizon_days is {horizon_days}; look ahead 0 days or more")
        end, tz = now + timedelta(days=horizon_days), self.tz
        out = [Due(m.at, "milestone", m) for m in self.milestones if now <= m.at < end]
        for m in self.milestones:
            for days in self.reminder_days:
                # wall-clock arithmetic: local midnight N calendar days before
                at = (m.at.astimezone(tz) - timedelta(days=days)).astimezone(UTC)
                if now <= at < end:
                    out.append(Due(at, "reminder", m, days))
        return sorted(out, key=lambda d: (d.at, d.milestone.at, d.kind != "reminder"))

    def overdue_acknowledgements(
        self, requests: Iterable[tuple[str, datetime, datetime | None]], now: datetime
    ) -> list[Overdue]:
        """Flag requests still unacknowledged more than ``within_days`` after they were opened.

        An acknowledgement later than ``now`` does not count yet (replaying history).
        The limit is ``within_days`` × 24 hours from the opening instant.
        """
        now = aware(now, "now")
        limit = timedelta(days=self.flag_requests.within_days)
        out = []
        for key, opened in _unacknowledged(requests, now):
            if now > opened + limit:
                out.append(Overdue(key, opened, opened + limit, now - opened - limit))
        return sorted(out, key=lambda o: (o.due_at, o.key))

    def flag_reminders(
        self,
        requests: Iterable[tuple[str, datetime, datetime | None]],
        now: datetime,
        horizon_days: int,
    ) -> list[FlagReminder]:
        """C3.3 reminders to the chairs, falling in [now, now + horizon_days).

        For each request not yet acknowledged (key, opened_at, acknowledged_at),
        one reminder ``reminder_days`` ahead of its acknowledgement deadline
        (opened + ``within_days``), at the same local time, and one at the
        deadline itself. Pure: the clock calls it on each tick and posts what
        it returns once each (keyed by request and ``days_before``).
        """
        now = aware(now, "now")
        end, tz = now + timedelta(days=horizon_days), self.tz
        limit = timedelta(days=self.flag_requests.within_days)
        out = []
        for key, opened in _unacknowledged(requests, now):
            due = opened + limit
            for days in (*self.reminder_days, 0):
                at = (due.astimezone(tz) - timedelta(days=days)).astimezone(UTC)
                if now <= at < end:
                    out.append(FlagReminder(key, opened, due, at, days))
        return sorted(out, key=lambda r: (r.at, r.key, -r.days_before))


def _unacknowledged(
    requests: Iterable[tuple[str, datetime, datetime | None]], now: datetime
) -> Iterator[tuple[str, datetime]]:
    """(key, opened_at in UTC) of the requests not acknowledged by ``now``; an
    acknowledgement later than ``now`` does not count yet (replaying history)."""
    for key, opened, acked in requests:
        opened = aware(opened, f"opened_at of {key}")
        if acked is None or aware(acked, f"acknowledged_at of {key}") > now:
            yield key, opened
