-- The anchors of the kiosks' loggbøker (docs/loggbok.md): each kiosk's Ed25519 public
-- key (registered with its credential, kept when the credential is re-issued), and the
-- chain heads (entries, hash of the last entry, its signature) the kiosk sent with its
-- emergency uploads and status reports, in the order received (id). signature_ok: 1/0 as checked against the key
-- known when the head came, NULL when no key was known.
CREATE TABLE kiosk_keys (
    kiosk_id TEXT PRIMARY KEY,
    public_key TEXT NOT NULL,
    registered_at TEXT NOT NULL
) STRICT;
CREATE TABLE chain_heads (
    id INTEGER PRIMARY KEY,
    kiosk_id TEXT NOT NULL,
    entries INTEGER NOT NULL CHECK (entries >= 0),
    hash TEXT NOT NULL,
    sig TEXT NOT NULL DEFAULT '',
    signature_ok INTEGER,
    source TEXT NOT NULL,
    first_received_at TEXT NOT NULL,
    UNIQUE (kiosk_id, entries, hash)
) STRICT;
