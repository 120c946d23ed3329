"""Pure view functions for what every screen shows about the station: the banner line
about the register, the routine and the loggbok, and the chair's loggbok summary (the
outage timeline). The shell (valgkiosk.shell) calls them to make its published view;
the screens only render what they return."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from valgkiosk.core import emergency as em
from valgkiosk.core import peopletime

OK, BAD, WARN = "ok", "bad", "warn"


def hhmm(at: datetime) -> str:
    """``10.32`` on the people's clock (valgkiosk.core.peopletime)."""
    return peopletime.hhmm(at)


def banner(s: em.StationState, *, space_warning: str = "", upload_error: str = "",
           office_note: str = "") -> tuple[str, str] | None:
    """The line every screen shows about the register, the routine and the loggbok
    (space, a cut tail), with the election office's note under it: (tone, text), or
    None when all is well."""
    shown = register_banner(s, upload_error)
    if space_warning:
        shown = (WARN, f"! {space_warning}") if shown is None else (shown[0], f"{shown[1]}\n! {space_warning}")
    if shown is None or not office_note:
        return shown
    return shown[0], f"{shown[1]}\n{office_note}"


def register_banner(s: em.StationState, upload_error: str = "") -> tuple[str, str] | None:
    """The banner's part about the register and the routine."""
    if s.outage is not None:
        since = f"siden kl. {hhmm(s.outage.started_at)}"
        if s.emergency:
            return WARN, f"BEREDSKAPSRUTINE: manntallet kan ikke nås ({since}). {s.outage.diagnosis}"
        if s.alarm is em.Alarm.SOUNDING:
            return BAD, (f"⚠ ALARM: MANNTALLET KAN IKKE NÅS ({since}). Si fra til stemmestyrets leder nå.\n"
                         f"{s.outage.diagnosis}\nF3 Kvitter alarm   F5 Start beredskapsrutinen (leder)")
        return BAD, (f"⚠ MANNTALLET KAN IKKE NÅS ({since}). Alarmen er kvittert.\n{s.outage.diagnosis}\n"
                     "Stemmestyrets leder avgjør om beredskapsrutinen skal brukes: F5.")
    if s.emergency:
        return OK, ("✔ MANNTALLET ER TILBAKE. Stemmestyrets leder avslutter beredskapsrutinen med F5; "
                    "deretter fortsetter elektronisk avkrysning.")
    if s.pending:
        why = f" ({upload_error})" if upload_error else ""
        return WARN, (f"! {len(s.pending)} beredskapsstemmer er ikke overført til manntallet ennå{why}. "
                      "Kiosken prøver igjen av seg selv.")
    return None


def timeline(outages: Sequence[em.OutageRecord], start: datetime, end: datetime, width: int = 60) -> str:
    """The day from ``start`` to ``end`` as one row of ``width`` cells: ``█`` where the
    register was unreachable, ``·`` where it was not; with the hours below."""
    span = max((end - start).total_seconds(), 1.0)
    cells = []
    for i in range(width):
        a = start + timedelta(seconds=span * i / width)
        b = start + timedelta(seconds=span * (i + 1) / width)
        down = any(o.started_at < b and (o.ended_at or end) > a for o in outages)
        cells.append("█" if down else "·")
    ruler = f"{hhmm(start)}{' ' * max(1, width - 10)}{hhmm(end)}"
    return "".join(cells) + "\n" + ruler


def day_start(stamps: Sequence[str], now: datetime) -> datetime:
    """The timeline starts at today's first entry (the kiosk's start), at most 16 hours
    back; ``stamps`` are the entries' ISO times, oldest first."""
    for stamp in stamps:
        try:
            at = datetime.fromisoformat(stamp)
        except ValueError:
            continue
        if at.date() == now.date():
            return max(at, now - timedelta(hours=16))
    return now - timedelta(hours=1)


def outages_today(outages: Sequence[em.OutageRecord], now: datetime) -> list[em.OutageRecord]:
    """The outages that started or ended today."""
    return [o for o in outages if (o.ended_at or now).date() == now.date() or o.started_at.date() == now.date()]


def outage_rows(outages: Sequence[em.OutageRecord], now: datetime) -> str:
    """Today's outages as the chair's list ("Ingen." when there were none)."""
    rows = []
    for o in outages:
        end = f"{hhmm(o.ended_at)}" if o.ended_at else "pågår"
        rows.append(f"{hhmm(o.started_at)}–{end}  {em.duration_nb(o.duration_s(now)):>10}  {o.diagnosis}")
    return "\n".join(rows) if rows else "Ingen."
