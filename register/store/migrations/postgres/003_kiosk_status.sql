-- Status reports from the kiosks and the election office's alerts (issue 15).
-- The latest report of every kiosk; ``report`` is the report's JSON (no personal data).
CREATE TABLE kiosk_status (
    kiosk_id text PRIMARY KEY,
    kommune text NOT NULL,
    krets text NOT NULL,
    bord integer NOT NULL,
    mode text NOT NULL,
    received_at timestamptz NOT NULL,
    changed_at timestamptz NOT NULL,
    report text NOT NULL
);
-- One row each time a kiosk's state (anything but its counters) changed.
CREATE TABLE kiosk_status_changes (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kiosk_id text NOT NULL,
    received_at timestamptz NOT NULL,
    mode text NOT NULL,
    report text NOT NULL
);
CREATE INDEX kiosk_status_changes_kiosk ON kiosk_status_changes (kiosk_id, id);
-- What the office must look at: one open alert per kiosk and kind at a time.
CREATE TABLE office_alerts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kiosk_id text NOT NULL,
    kommune text NOT NULL,
    krets text NOT NULL,
    bord integer NOT NULL,
    kind text NOT NULL,
    detail text NOT NULL,
    opened_at timestamptz NOT NULL,
    closed_at timestamptz,
    acknowledged_at timestamptz,
    acknowledged_by text
);
CREATE UNIQUE INDEX office_alerts_open ON office_alerts (kiosk_id, kind) WHERE closed_at IS NULL;
CREATE INDEX office_alerts_kiosk ON office_alerts (kiosk_id, opened_at);
