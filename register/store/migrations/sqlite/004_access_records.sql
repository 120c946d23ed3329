-- Issue 16: an access record per lookup and search (SQLite dialect of
-- postgres/004_access_records.sql). Kept in the database only, never in log files.
CREATE TABLE access_records (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    kiosk_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('lookup', 'search_fodselsnummer', 'search_name')),
    asked TEXT NOT NULL,
    outcome TEXT NOT NULL
) STRICT;
CREATE INDEX access_records_kiosk_at ON access_records (kiosk_id, at);
CREATE INDEX access_records_at ON access_records (at);
