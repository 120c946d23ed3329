-- The register's first schema: one election, municipalities, stations, voters,
-- kiosk credentials, check-offs (exactly one per voter), misregistrations and
-- emergency votes.
CREATE TABLE election (
    id smallint PRIMARY KEY CHECK (id = 1),
    type text NOT NULL,
    year integer NOT NULL,
    date date NOT NULL
);
CREATE TABLE kommuner (
    kommune text PRIMARY KEY,
    navn text NOT NULL,
    own_station_required boolean NOT NULL DEFAULT false
);
CREATE TABLE kretser (
    kommune text NOT NULL REFERENCES kommuner,
    krets text NOT NULL,
    navn text NOT NULL,
    PRIMARY KEY (kommune, krets)
);
CREATE TABLE voters (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    manntallsnummer text NOT NULL UNIQUE,
    fodselsnummer text NOT NULL UNIQUE,
    fornavn text NOT NULL,
    etternavn text NOT NULL,
    fodselsdato date NOT NULL,
    adresse text NOT NULL,
    postnummer text NOT NULL,
    poststed text NOT NULL,
    kommune text NOT NULL,
    krets text NOT NULL,
    sami boolean NOT NULL DEFAULT false,
    FOREIGN KEY (kommune, krets) REFERENCES kretser
);
CREATE INDEX voters_fodselsdato ON voters (fodselsdato);
CREATE TABLE credentials (
    token_hash text PRIMARY KEY,
    kiosk_id text NOT NULL UNIQUE,
    role text NOT NULL CHECK (role IN ('kiosk', 'admin')),
    kommune text NOT NULL DEFAULT '',
    krets text NOT NULL DEFAULT '',
    bord integer NOT NULL DEFAULT 0,
    issued_at timestamptz NOT NULL,
    revoked_at timestamptz
);
CREATE TABLE checkoffs (
    voter_id bigint PRIMARY KEY REFERENCES voters,
    request_id text NOT NULL UNIQUE,
    checked_off_at timestamptz NOT NULL,
    kiosk_id text NOT NULL,
    kommune text NOT NULL,
    krets text NOT NULL,
    bord integer NOT NULL
);
CREATE INDEX checkoffs_table ON checkoffs (kommune, krets, bord);
CREATE TABLE misregistrations (
    voter_id bigint PRIMARY KEY REFERENCES checkoffs (voter_id),
    reported_at timestamptz NOT NULL,
    reported_by text NOT NULL,
    kiosk_id text NOT NULL,
    kommune text NOT NULL,
    krets text NOT NULL,
    bord integer NOT NULL,
    note text NOT NULL
);
CREATE TABLE emergency_votes (
    kiosk_id text NOT NULL,
    vote_id text NOT NULL,
    recorded_at timestamptz NOT NULL,
    uploaded_at timestamptz NOT NULL,
    manntallsnummer text,
    manual_valgkort boolean NOT NULL,
    kommune text NOT NULL,
    krets text NOT NULL,
    bord integer NOT NULL,
    PRIMARY KEY (kiosk_id, vote_id)
);
CREATE INDEX emergency_votes_number ON emergency_votes (manntallsnummer);
