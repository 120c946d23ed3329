"""Storage of the kiosks' status reports and the office's alerts (migration 003).

A kiosk reports every few seconds; most reports say what the last one said, or only
that a counter went up. So the latest report of every kiosk is also kept in memory, and
a report that changes nothing but counters costs no write: a heartbeat every
``heartbeat_s`` seconds stores the latest report and its ``received_at`` (for a second
register process, and for after a restart). A report that changes the kiosk's state
(anything but its counters) is stored at once, in one transaction with its alerts and a
row of the history.

Works on both backends through :class:`~valgkiosk.register.store.base.SqlStore`'s own
query helpers; the only dialect-specific query is the hourly check-off count.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from valgkiosk.register.model import Kiosk, Role
from valgkiosk.register.office import (
    INCIDENT_KINDS,
    StatusReport,
    alerts_for,
    silent_after,
    local,
    silent_text,
)
from valgkiosk.register.api import ChainHeadIn
from valgkiosk.register.chains import ChainHead, conflicts
from valgkiosk.register.store.base import SqlStore

#: How long the kiosk's "the office has seen it" answer is reused before it is read again.
ACK_TTL_S = 2.0
#: A status report's chain head that only extends the last one is kept at most this often
#: per kiosk (a head that shrinks or forks is kept at once, with the one before it).
HEAD_EVERY_S = 30.0


@dataclass(slots=True)
class _HeadSeen:
    """The last chain head a kiosk reported, and whether it is among the kept heads."""

    head: ChainHeadIn
    seen_at: datetime  # when it came
    kept: bool
    kept_at: float  # monotonic time of the last kept head


@dataclass(frozen=True, slots=True)
class ChainView:
    """A kiosk's loggbok as the register sees it: its latest kept heads and whether they
    extend each other (:func:`valgkiosk.register.chains.conflicts`)."""

    last_upload: ChainHead | None  # the head sent with the latest emergency upload
    last_kept: ChainHead | None  # the latest head kept, from any source
    conflicts: tuple[str, ...]  # Norwegian sentences; () when every head extends the one before


@dataclass(slots=True)
class _Seen:
    """What this process remembers of one kiosk."""

    state_key: str
    written_at: float  # monotonic time of the last stored write
    last_seen: datetime
    interval_s: float
    report: StatusReport  # the latest (its counters may be newer than the stored one's)
    silent_open: bool = False
    ack: tuple[float, datetime | None, str | None] = (float("-inf"), None, None)


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert for the office."""

    id: int
    kiosk_id: str
    kommune: str
    krets: str
    bord: int
    kind: str
    detail: str
    opened_at: datetime
    closed_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None


@dataclass(frozen=True, slots=True)
class KioskView:
    """One table as the dashboard shows it."""

    kiosk_id: str
    kommune: str
    krets: str
    bord: int
    report: StatusReport | None  # None: never reported
    last_seen: datetime | None
    changed_at: datetime | None
    silent: bool
    age_s: float | None


@dataclass(frozen=True, slots=True)
class StatusAnswer:
    """What a kiosk learns back from its report."""

    received_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None


@dataclass(frozen=True, slots=True)
class Overview:
    """Everything on the dashboard, read at one moment."""

    now: datetime
    kiosks: list[KioskView]
    alerts: list[Alert]
    hours: list[datetime]  # the chart's hours (UTC, on the hour), oldest first
    per_hour: dict[tuple[str, str], list[int]] = field(default_factory=dict)  # (kommune, krets) → count per hour
    chains: dict[str, ChainView] = field(default_factory=dict)  # kiosk id → its loggbok's kept heads


class StatusStore:
    """The kiosks' latest reports, their history and the office's alerts."""

    def __init__(self, store: SqlStore, *, heartbeat_s: float = 10.0,
                 monotonic: Callable[[], float] = time.monotonic, chart_hours: int = 16,
                 chart_ttl_s: float = 10.0) -> None:
        self.store = store
        self.heartbeat_s = heartbeat_s
        self.monotonic = monotonic
        self.chart_hours = chart_hours
        self.chart_ttl_s = chart_ttl_s
        self._seen: dict[str, _Seen] = {}
        self._heads: dict[str, _HeadSeen] = {}
        self._lock = threading.Lock()
        self._chart: tuple[float, datetime, dict[tuple[str, str], list[int]]] | None = None
        self._chains: tuple[float, dict[str, ChainView]] | None = None

    # -- reports --------------------------------------------------------------------------
    def answer_from_memory(self, kiosk: Kiosk, report: StatusReport, now: datetime) -> StatusAnswer | None:
        """The answer to a report that changes nothing, without touching the database
        (None: the report must go through :meth:`record`)."""
        mono = self.monotonic()
        with self._lock:
            seen = self._seen.get(kiosk.kiosk_id)
            if (seen is None or seen.silent_open or mono - seen.written_at >= self.heartbeat_s
                    or seen.state_key != report.state_key()):
                return None
            if self._needs_ack(report) and mono - seen.ack[0] >= ACK_TTL_S:
                return None
            seen.last_seen, seen.report = now, report
            ack = seen.ack if self._needs_ack(report) else (0.0, None, None)
        return StatusAnswer(now, ack[1], ack[2])

    # -- the loggbok's chain head in the reports -------------------------------------------
    def heads_to_keep(self, kiosk: Kiosk, report: StatusReport,
                      now: datetime) -> list[tuple[ChainHeadIn, datetime]]:
        """Which heads to keep among the kiosk's chain heads, with when each came (cheap,
        in memory): the first one seen, one that does not extend the last one reported
        (with that one, so the conflict shows), and otherwise one every HEAD_EVERY_S."""
        head = report.chain_head
        if head is None:
            return []
        mono = self.monotonic()
        with self._lock:
            seen = self._heads.get(kiosk.kiosk_id)
            keep: list[tuple[ChainHeadIn, datetime]]
            if seen is None:
                keep = [(head, now)]
            elif (head.entries, head.hash) == (seen.head.entries, seen.head.hash):
                keep = []
            elif head.entries <= seen.head.entries:  # shorter, or as long with another hash
                keep = ([] if seen.kept else [(seen.head, seen.seen_at)]) + [(head, now)]
            elif mono - seen.kept_at >= HEAD_EVERY_S:
                keep = [(head, now)]
            else:
                keep = []
            if keep:
                self._heads[kiosk.kiosk_id] = _HeadSeen(head, now, True, mono)
            elif seen is not None and (head.entries, head.hash) != (seen.head.entries, seen.head.hash):
                self._heads[kiosk.kiosk_id] = _HeadSeen(head, now, False, seen.kept_at)
        return keep

    def keep_heads(self, kiosk: Kiosk, heads: list[tuple[ChainHeadIn, datetime]]) -> list[ChainHead]:
        """Store ``heads`` (from :meth:`heads_to_keep`) with their signatures checked."""
        kept = [self.store.record_chain_head(kiosk, h.entries, h.hash, h.sig, "status", at) for h, at in heads]
        with self._lock:
            self._chains = None  # the dashboard reads them again
        return kept

    def chains(self) -> dict[str, ChainView]:
        """Every kiosk's chain as the dashboard shows it (cached for ``chart_ttl_s``)."""
        mono = self.monotonic()
        cached = self._chains
        if cached is not None and mono - cached[0] < self.chart_ttl_s:
            return cached[1]
        heads = self.store.chain_heads()
        found: dict[str, list[str]] = {}
        for c in conflicts(heads):
            found.setdefault(c.kiosk_id, []).append(c.message)
        views: dict[str, ChainView] = {}
        for h in heads:  # per kiosk in the order received
            before = views.get(h.kiosk_id)
            upload = h if h.source == "emergency_upload" else (before.last_upload if before else None)
            views[h.kiosk_id] = ChainView(upload, h, tuple(found.get(h.kiosk_id, ())))
        with self._lock:
            self._chains = (mono, views)
        return views

    @staticmethod
    def _needs_ack(report: StatusReport) -> bool:
        return report.outage_started_at is not None or report.mode != "normal"

    def record(self, kiosk: Kiosk, report: StatusReport, now: datetime) -> StatusAnswer:
        """Keep ``report`` as the kiosk's latest; store it if it changes anything."""
        state_key = report.state_key()
        mono = self.monotonic()
        with self._lock:
            seen = self._seen.get(kiosk.kiosk_id)
            quiet = (seen is not None and seen.state_key == state_key and not seen.silent_open
                     and mono - seen.written_at < self.heartbeat_s)
            if quiet:
                assert seen is not None
                seen.last_seen, seen.report = now, report
        if not quiet:
            self._write(kiosk, report, now)
            with self._lock:
                ack = seen.ack if seen is not None else (float("-inf"), None, None)
                self._seen[kiosk.kiosk_id] = _Seen(state_key, mono, now, report.report_interval_s, report, ack=ack)
        acknowledged_at, by = self._acknowledgement(kiosk.kiosk_id, report, now, mono)
        return StatusAnswer(now, acknowledged_at, by)

    def _write(self, kiosk: Kiosk, report: StatusReport, now: datetime) -> None:
        s = self.store
        data = report.model_dump_json()
        with s.write() as cur:
            row = s._q(cur, "SELECT report FROM kiosk_status WHERE kiosk_id = ?", (kiosk.kiosk_id,)).fetchone()
            changed = row is None or StatusReport.model_validate_json(row[0]).state_key() != report.state_key()
            s._q(cur, """
                INSERT INTO kiosk_status VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (kiosk_id) DO UPDATE SET
                    kommune = excluded.kommune, krets = excluded.krets, bord = excluded.bord,
                    mode = excluded.mode, received_at = excluded.received_at,
                    changed_at = CASE WHEN ? THEN excluded.changed_at ELSE kiosk_status.changed_at END,
                    report = excluded.report""",
                 (kiosk.kiosk_id, kiosk.kommune, kiosk.krets, kiosk.bord, report.mode, s._ts(now),
                  s._ts(now), data, changed))
            if changed:
                s._q(cur, "INSERT INTO kiosk_status_changes (kiosk_id, received_at, mode, report) "
                          "VALUES (?, ?, ?, ?)", (kiosk.kiosk_id, s._ts(now), report.mode, data))
            wanted = alerts_for(report)
            open_rows = s._q(cur, "SELECT id, kind FROM office_alerts WHERE kiosk_id = ? AND closed_at IS NULL",
                             (kiosk.kiosk_id,)).fetchall()
            open_kinds = {kind: alert_id for alert_id, kind in open_rows}
            for kind, alert_id in open_kinds.items():
                if kind not in wanted:  # a report is itself the end of "silent"
                    s._q(cur, "UPDATE office_alerts SET closed_at = ? WHERE id = ?", (s._ts(now), alert_id))
                elif kind == "outage":
                    s._q(cur, "UPDATE office_alerts SET detail = ? WHERE id = ?", (wanted[kind], alert_id))
            for kind, detail in wanted.items():
                if kind not in open_kinds:
                    opened = report.outage_started_at if kind == "outage" and report.outage_started_at else now
                    s._q(cur, """INSERT INTO office_alerts
                                 (kiosk_id, kommune, krets, bord, kind, detail, opened_at)
                                 VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING""",
                         (kiosk.kiosk_id, kiosk.kommune, kiosk.krets, kiosk.bord, kind, detail,
                          s._ts(min(opened, now))))

    def _acknowledgement(self, kiosk_id: str, report: StatusReport, now: datetime,
                         mono: float) -> tuple[datetime | None, str | None]:
        """When the office acknowledged an alert of the kiosk's current incident, if it did."""
        incident_start = report.outage_started_at
        if incident_start is None and report.mode != "normal":
            incident_start = report.mode_since
        if incident_start is None:
            return None, None
        with self._lock:
            seen = self._seen.get(kiosk_id)
            if seen is not None and mono - seen.ack[0] < ACK_TTL_S:
                return seen.ack[1], seen.ack[2]
        s = self.store
        marks = ", ".join("?" * len(INCIDENT_KINDS))
        with s.read() as cur:
            row = s._q(cur, f"""SELECT acknowledged_at, acknowledged_by FROM office_alerts
                                WHERE kiosk_id = ? AND acknowledged_at IS NOT NULL AND kind IN ({marks})
                                  AND (closed_at IS NULL OR closed_at >= ?)
                                ORDER BY acknowledged_at DESC LIMIT 1""",
                       (kiosk_id, *INCIDENT_KINDS, s._ts(incident_start - timedelta(minutes=1)))).fetchone()
        answer = (None, None) if row is None else (s._as_dt(row[0]), row[1])
        with self._lock:
            seen = self._seen.get(kiosk_id)
            if seen is not None:
                seen.ack = (mono, *answer)
        return answer

    # -- the office ---------------------------------------------------------------------------
    def sweep(self, now: datetime) -> None:
        """Open a "silent" alert for every kiosk that has stopped reporting."""
        s = self.store
        with s.read() as cur:
            rows = s._q(cur, """SELECT st.kiosk_id, st.kommune, st.krets, st.bord, st.received_at, st.report,
                                       a.id
                                FROM kiosk_status st
                                LEFT JOIN office_alerts a ON a.kiosk_id = st.kiosk_id AND a.kind = 'silent'
                                                          AND a.closed_at IS NULL""").fetchall()
        for kiosk_id, kommune, krets, bord, received, report_json, silent_id in rows:
            if silent_id is not None:
                continue
            last_seen, interval = self._last_seen(kiosk_id, s._as_dt(received), report_json)
            if (now - last_seen).total_seconds() <= silent_after(interval, self.heartbeat_s):
                continue
            with s.write() as cur:
                s._q(cur, """INSERT INTO office_alerts (kiosk_id, kommune, krets, bord, kind, detail, opened_at)
                             VALUES (?, ?, ?, ?, 'silent', ?, ?) ON CONFLICT DO NOTHING""",
                     (kiosk_id, kommune, krets, int(bord), silent_text(last_seen), s._ts(now)))
            with self._lock:
                if kiosk_id in self._seen:
                    self._seen[kiosk_id].silent_open = True

    def _last_seen(self, kiosk_id: str, stored: datetime, report_json: str) -> tuple[datetime, float]:
        with self._lock:
            seen = self._seen.get(kiosk_id)
            if seen is not None:
                return max(seen.last_seen, stored), seen.interval_s
        return stored, float(json.loads(report_json).get("report_interval_s", 5.0))

    def acknowledge(self, alert_id: int, by: str, now: datetime) -> Alert | None:
        """Mark an alert as seen by the office (once; the first acknowledgement stays)."""
        s = self.store
        with s.write() as cur:
            s._q(cur, """UPDATE office_alerts SET acknowledged_at = ?, acknowledged_by = ?
                         WHERE id = ? AND acknowledged_at IS NULL""", (s._ts(now), by, alert_id))
            row = s._q(cur, f"SELECT {_ALERT_COLUMNS} FROM office_alerts WHERE id = ?", (alert_id,)).fetchone()
        if row is None:
            return None
        alert = self._alert(row)
        with self._lock:
            if alert.kiosk_id in self._seen:
                self._seen[alert.kiosk_id].ack = (float("-inf"), None, None)
        return alert

    def alerts(self) -> list[Alert]:
        """Alerts the office still has to see: every unacknowledged one, and open ones."""
        s = self.store
        with s.read() as cur:
            rows = s._q(cur, f"""SELECT {_ALERT_COLUMNS} FROM office_alerts
                                 WHERE closed_at IS NULL OR acknowledged_at IS NULL
                                 ORDER BY opened_at DESC, id DESC LIMIT 500""").fetchall()
        return [self._alert(r) for r in rows]

    def history(self, kiosk_id: str, *, limit: int = 100) -> list[tuple[datetime, StatusReport]]:
        """The kiosk's changes of state, newest first."""
        s = self.store
        with s.read() as cur:
            rows = s._q(cur, """SELECT received_at, report FROM kiosk_status_changes WHERE kiosk_id = ?
                                ORDER BY id DESC LIMIT ?""", (kiosk_id, limit)).fetchall()
        return [(s._as_dt(r[0]), StatusReport.model_validate_json(r[1])) for r in rows]

    def latest(self, kiosk_id: str) -> tuple[datetime, StatusReport] | None:
        """The kiosk's stored latest report and when it was stored."""
        s = self.store
        with s.read() as cur:
            row = s._q(cur, "SELECT received_at, report FROM kiosk_status WHERE kiosk_id = ?",
                       (kiosk_id,)).fetchone()
        return None if row is None else (s._as_dt(row[0]), StatusReport.model_validate_json(row[1]))

    def overview(self, now: datetime) -> Overview:
        """Every table (those with a credential and those that reported), the alerts, the chart."""
        self.sweep(now)
        s = self.store
        with s.read() as cur:
            rows = s._q(cur, """SELECT kiosk_id, kommune, krets, bord, received_at, changed_at, report
                                FROM kiosk_status""").fetchall()
            silent = {r[0] for r in s._q(cur, "SELECT kiosk_id FROM office_alerts "
                                              "WHERE kind = 'silent' AND closed_at IS NULL").fetchall()}
        views: dict[str, KioskView] = {}
        for kiosk_id, kommune, krets, bord, received, changed, data in rows:
            last_seen, _ = self._last_seen(kiosk_id, s._as_dt(received), data)
            with self._lock:
                seen = self._seen.get(kiosk_id)
                latest = seen.report if seen is not None and seen.last_seen >= s._as_dt(received) else None
            views[kiosk_id] = KioskView(kiosk_id, kommune, krets, int(bord),
                                        latest or StatusReport.model_validate_json(data), last_seen, s._as_dt(changed),
                                        kiosk_id in silent, max(0.0, (now - last_seen).total_seconds()))
        for kiosk, _issued, revoked in s.credentials():
            if kiosk.role is Role.KIOSK and revoked is None and kiosk.kiosk_id not in views:
                views[kiosk.kiosk_id] = KioskView(kiosk.kiosk_id, kiosk.kommune, kiosk.krets, kiosk.bord,
                                                  None, None, None, False, None)
        hours, per_hour = self._per_hour(now)
        kiosks = sorted(views.values(), key=lambda v: (v.kommune, v.krets, v.bord, v.kiosk_id))
        return Overview(now, kiosks, self.alerts(), hours, per_hour, self.chains())

    def _per_hour(self, now: datetime) -> tuple[list[datetime], dict[tuple[str, str], list[int]]]:
        """Check-offs per hour per station since the morning (cached briefly)."""
        current = now.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)
        # from 06.00 Norwegian time (before any station opens), at least 4 and at most chart_hours bars
        morning = local(now).replace(hour=6, minute=0, second=0, microsecond=0).astimezone(timezone.utc)
        count = int((current - morning).total_seconds() // 3600) + 1
        count = max(4, min(self.chart_hours, count))
        hours = [current - timedelta(hours=i) for i in range(count - 1, -1, -1)]
        mono = self.monotonic()
        cached = self._chart
        if cached is not None and cached[1] == current and mono - cached[0] < self.chart_ttl_s:
            return hours, cached[2]
        s = self.store
        if s.dialect == "postgres":
            sql = """SELECT kommune, krets, date_trunc('hour', checked_off_at AT TIME ZONE 'UTC'), count(*)
                     FROM checkoffs WHERE checked_off_at >= ? GROUP BY 1, 2, 3"""
        else:
            sql = """SELECT kommune, krets, substr(checked_off_at, 1, 13), count(*)
                     FROM checkoffs WHERE checked_off_at >= ? GROUP BY 1, 2, 3"""
        with s.read() as cur:
            rows = s._q(cur, sql, (s._ts(hours[0]),)).fetchall()
        index = {h: i for i, h in enumerate(hours)}
        per_hour: dict[tuple[str, str], list[int]] = {}
        for kommune, krets, hour, count in rows:
            if isinstance(hour, datetime):
                at = hour.replace(tzinfo=timezone.utc)
            else:
                at = datetime.fromisoformat(str(hour) + ":00:00+00:00")
            if at in index:
                per_hour.setdefault((kommune, krets), [0] * len(hours))[index[at]] += int(count)
        self._chart = (mono, current, per_hour)
        return hours, per_hour

    @staticmethod
    def _alert_from(store: SqlStore, row: tuple[Any, ...]) -> Alert:
        def dt(v: Any) -> datetime | None:
            return None if v is None else store._as_dt(v)

        return Alert(int(row[0]), row[1], row[2], row[3], int(row[4]), row[5], row[6], store._as_dt(row[7]),
                     dt(row[8]), dt(row[9]), row[10])

    def _alert(self, row: tuple[Any, ...]) -> Alert:
        return self._alert_from(self.store, row)


_ALERT_COLUMNS = ("id, kiosk_id, kommune, krets, bord, kind, detail, opened_at, closed_at, "
                  "acknowledged_at, acknowledged_by")
