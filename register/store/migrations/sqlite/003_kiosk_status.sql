-- Status reports from the kiosks and the election office's alerts (issue 15).
-- SQLite dialect of postgres/003_kiosk_status.sql. Timestamps are ISO 8601 text in UTC.
-- The latest report of every kiosk; ``report`` is the report's JSON (no personal data).
CREATE TABLE kiosk_status (
    kiosk_id TEXT PRIMARY KEY,
    kommune TEXT NOT NULL,
    krets TEXT NOT NULL,
    bord INTEGER NOT NULL,
    mode TEXT NOT NULL,
    received_at TEXT NOT NULL,
    changed_at TEXT NOT NULL,
    report TEXT NOT NULL
) STRICT;
-- One row each time a kiosk's state (anything but its counters) changed.
CREATE TABLE kiosk_status_changes (
    id INTEGER PRIMARY KEY,
    kiosk_id TEXT NOT NULL,
    received_at TEXT NOT NULL,
    mode TEXT NOT NULL,
    report TEXT NOT NULL
) STRICT;
CREATE INDEX kiosk_status_changes_kiosk ON kiosk_status_changes (kiosk_id, id);
-- What the office must look at: one open alert per kiosk and kind at a time.
CREATE TABLE office_alerts (
    id INTEGER PRIMARY KEY,
    kiosk_id TEXT NOT NULL,
    kommune TEXT NOT NULL,
    krets TEXT NOT NULL,
    bord INTEGER NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL,
    opened_at TEXT NOT NULL,
    closed_at TEXT,
    acknowledged_at TEXT,
    acknowledged_by TEXT
) STRICT;
CREATE UNIQUE INDEX office_alerts_open ON office_alerts (kiosk_id, kind) WHERE closed_at IS NULL;
CREATE INDEX office_alerts_kiosk ON office_alerts (kiosk_id, opened_at);
