-- Issue 16: the lookup and search rate limits' token buckets, one per credential and
-- kind, shared by every API node and worker (register/access.py, SharedRateLimiter).
-- Unlogged: a bucket is taken on every lookup, and must not cost a WAL flush or a copy
-- on the standby; after a crash or a failover the buckets start full again, which only
-- forgives one burst.
CREATE UNLOGGED TABLE rate_buckets (
    kiosk_id text NOT NULL,
    kind text NOT NULL,
    tokens double precision NOT NULL,
    at double precision NOT NULL,  -- the database's clock, seconds since 1970
    allowed boolean NOT NULL,      -- whether the last call was let through
    PRIMARY KEY (kiosk_id, kind)
);
