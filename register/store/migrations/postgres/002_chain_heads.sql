-- The anchors of the kiosks' loggbøker (docs/loggbok.md): each kiosk's Ed25519 public
-- key (registered with its credential, kept when the credential is re-issued), and the
-- chain heads (entries, hash of the last entry, its signature) the kiosk sent with its
-- emergency uploads and status reports, in the order received (id). signature_ok: as checked against the key known
-- when the head came, NULL when no key was known.
CREATE TABLE kiosk_keys (
    kiosk_id text PRIMARY KEY,
    public_key text NOT NULL,
    registered_at timestamptz NOT NULL
);
CREATE TABLE chain_heads (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kiosk_id text NOT NULL,
    entries bigint NOT NULL CHECK (entries >= 0),
    hash text NOT NULL,
    sig text NOT NULL DEFAULT '',
    signature_ok boolean,
    source text NOT NULL,
    first_received_at timestamptz NOT NULL,
    UNIQUE (kiosk_id, entries, hash)
);
