-- The register's first schema (SQLite dialect of postgres/001_initial.sql).
-- Timestamps are ISO 8601 text in UTC; dates ISO 8601 text.
CREATE TABLE election (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    type TEXT NOT NULL,
    year INTEGER NOT NULL,
    date TEXT NOT NULL
) STRICT;
CREATE TABLE kommuner (
    kommune TEXT PRIMARY KEY,
    navn TEXT NOT NULL,
    own_station_required INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE TABLE kretser (
    kommune TEXT NOT NULL REFERENCES kommuner,
    krets TEXT NOT NULL,
    navn TEXT NOT NULL,
    PRIMARY KEY (kommune, krets)
) STRICT;
CREATE TABLE voters (
    id INTEGER PRIMARY KEY,
    manntallsnummer TEXT NOT NULL UNIQUE,
    fodselsnummer TEXT NOT NULL UNIQUE,
    fornavn TEXT NOT NULL,
    etternavn TEXT NOT NULL,
    fodselsdato TEXT NOT NULL,
    adresse TEXT NOT NULL,
    postnummer TEXT NOT NULL,
    poststed TEXT NOT NULL,
    kommune TEXT NOT NULL,
    krets TEXT NOT NULL,
    sami INTEGER NOT NULL DEFAULT 0,
    FOREIGN KEY (kommune, krets) REFERENCES kretser
) STRICT;
CREATE INDEX voters_fodselsdato ON voters (fodselsdato);
CREATE TABLE credentials (
    token_hash TEXT PRIMARY KEY,
    kiosk_id TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('kiosk', 'admin')),
    kommune TEXT NOT NULL DEFAULT '',
    krets TEXT NOT NULL DEFAULT '',
    bord INTEGER NOT NULL DEFAULT 0,
    issued_at TEXT NOT NULL,
    revoked_at TEXT
) STRICT;
CREATE TABLE checkoffs (
    voter_id INTEGER PRIMARY KEY REFERENCES voters,
    request_id TEXT NOT NULL UNIQUE,
    checked_off_at TEXT NOT NULL,
    kiosk_id TEXT NOT NULL,
    kommune TEXT NOT NULL,
    krets TEXT NOT NULL,
    bord INTEGER NOT NULL
) STRICT;
CREATE INDEX checkoffs_table ON checkoffs (kommune, krets, bord);
CREATE TABLE misregistrations (
    voter_id INTEGER PRIMARY KEY REFERENCES checkoffs (voter_id),
    reported_at TEXT NOT NULL,
    reported_by TEXT NOT NULL,
    kiosk_id TEXT NOT NULL,
    kommune TEXT NOT NULL,
    krets TEXT NOT NULL,
    bord INTEGER NOT NULL,
    note TEXT NOT NULL
) STRICT;
CREATE TABLE emergency_votes (
    kiosk_id TEXT NOT NULL,
    vote_id TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    uploaded_at TEXT NOT NULL,
    manntallsnummer TEXT,
    manual_valgkort INTEGER NOT NULL,
    kommune TEXT NOT NULL,
    krets TEXT NOT NULL,
    bord INTEGER NOT NULL,
    PRIMARY KEY (kiosk_id, vote_id)
) STRICT;
CREATE INDEX emergency_votes_number ON emergency_votes (manntallsnummer);
