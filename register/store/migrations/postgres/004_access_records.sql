-- Issue 16: an access record per lookup and search (kiosk, time, what was asked and
-- what came of it), so valgstyret can see what a credential has read. Kept in the
-- database only, never in log files.
CREATE TABLE access_records (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at timestamptz NOT NULL,
    kiosk_id text NOT NULL,
    kind text NOT NULL CHECK (kind IN ('lookup', 'search_fodselsnummer', 'search_name')),
    asked text NOT NULL,
    outcome text NOT NULL
);
CREATE INDEX access_records_kiosk_at ON access_records (kiosk_id, at);
CREATE INDEX access_records_at ON access_records (at);
