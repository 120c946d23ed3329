-- Issue 16: the shape of PostgreSQL's shared rate-limit buckets, so both schemas have the
-- same tables. An SQLite register is served by one process (register serve refuses more
-- workers), whose buckets in memory are already the only ones: this table stays empty.
CREATE TABLE rate_buckets (
    kiosk_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    tokens REAL NOT NULL,
    at REAL NOT NULL,
    allowed INTEGER NOT NULL,
    PRIMARY KEY (kiosk_id, kind)
);
