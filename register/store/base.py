"""The register's storage: one SQL implementation over two backends.

Every query is written once, with ``?`` placeholders; a backend supplies connections,
transactions, value conversion and bulk loading. The check-off is made exactly once
per voter by the database itself: the voter's id is the primary key of ``checkoffs``,
and the request id is unique, so concurrent kiosks and retries can only ever produce
one row.
"""

from __future__ import annotations

import abc
import contextlib
import importlib.resources
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, timezone
from typing import Any

from valgkiosk.register.chains import ChainConflict, ChainHead, conflicts
from valgkiosk.register.model import (
    AccessRecord,
    AccessSummary,
    Appearance,
    Checkoff,
    DuplicateVoter,
    Election,
    EmergencyVote,
    Kiosk,
    Kommune,
    Krets,
    Misregistration,
    NoCheckoff,
    RequestIdConflict,
    Role,
    TableCount,
    UploadReceipt,
    Verdict,
    Voter,
    VoterStatus,
)
from valgkiosk.register.rules import verdict_for

VOTER_COLUMNS = (
    "manntallsnummer", "fodselsnummer", "fornavn", "etternavn", "fodselsdato",
    "adresse", "postnummer", "poststed", "kommune", "krets", "sami",
)
_VOTER_SELECT = ", ".join(f"v.{c}" for c in VOTER_COLUMNS)
_CHECKOFF_SELECT = """
    SELECT c.checked_off_at, c.kiosk_id, c.kommune, c.krets, k.navn, c.bord, c.request_id,
           m.reported_at, m.reported_by, m.kiosk_id, m.krets, m.bord, m.note
    FROM checkoffs c
    JOIN kretser k ON k.kommune = c.kommune AND k.krets = c.krets
    LEFT JOIN misregistrations m ON m.voter_id = c.voter_id
"""


class StoreError(Exception):
    """A storage problem the operator must act on (bad import, missing schema)."""


class Cursor(abc.ABC):
    """The slice of a DB-API cursor the store uses."""

    @abc.abstractmethod
    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any: ...
    @abc.abstractmethod
    def fetchone(self) -> tuple[Any, ...] | None: ...
    @abc.abstractmethod
    def fetchall(self) -> list[tuple[Any, ...]]: ...


class SqlStore(abc.ABC):
    """Register storage; subclasses provide the backend."""

    dialect: str
    _station_names: dict[tuple[str, str], str]

    def __init__(self) -> None:
        self._station_names = {}

    # -- what a backend provides -------------------------------------------------
    @abc.abstractmethod
    def write(self) -> contextlib.AbstractContextManager[Any]:
        """A cursor inside a write transaction that commits on success."""

    @abc.abstractmethod
    def read(self) -> contextlib.AbstractContextManager[Any]:
        """A cursor inside a read-only transaction (one consistent snapshot)."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release every connection."""

    @abc.abstractmethod
    def _sql(self, sql: str) -> str:
        """Translate ``?`` placeholders into the backend's style."""

    @abc.abstractmethod
    def _ts(self, value: datetime) -> Any:
        """A timestamp as the backend stores it."""

    @abc.abstractmethod
    def _date(self, value: date) -> Any:
        """A date as the backend stores it."""

    @abc.abstractmethod
    def _bulk_insert_voters(self, cur: Any, rows: list[tuple[Any, ...]]) -> None:
        """Insert many voter rows as fast as the backend allows."""

    @abc.abstractmethod
    def _table_exists(self, cur: Any, name: str) -> bool:
        """Whether ``name`` is a table in the database."""

    # -- helpers -------------------------------------------------------------------
    def _q(self, cur: Any, sql: str, params: Sequence[Any] = ()) -> Any:
        cur.execute(self._sql(sql), tuple(params))
        return cur

    @staticmethod
    def _as_dt(value: Any) -> datetime:
        if isinstance(value, datetime):
            return value.astimezone(timezone.utc)
        return datetime.fromisoformat(value).astimezone(timezone.utc)

    @staticmethod
    def _as_date(value: Any) -> date:
        return value if isinstance(value, date) else date.fromisoformat(value)

    def _voter(self, row: Sequence[Any]) -> Voter:
        (mnr, fnr, fornavn, etternavn, fdato, adresse, postnr, poststed, kommune, krets, sami) = row
        return Voter(
            manntallsnummer=mnr, fodselsnummer=fnr, fornavn=fornavn, etternavn=etternavn,
            fodselsdato=self._as_date(fdato), adresse=adresse, postnummer=postnr,
            poststed=poststed, kommune=kommune, krets=krets, sami=bool(sami),
        )

    def _checkoff(self, row: Sequence[Any]) -> Checkoff:
        misreg = None
        if row[7] is not None:
            misreg = Misregistration(
                reported_at=self._as_dt(row[7]), reported_by=row[8], kiosk_id=row[9],
                krets=row[10], bord=row[11], note=row[12],
            )
        return Checkoff(
            checked_off_at=self._as_dt(row[0]), kiosk_id=row[1], kommune=row[2], krets=row[3],
            krets_navn=row[4], bord=row[5], request_id=str(row[6]), misregistration=misreg,
        )

    # -- schema ----------------------------------------------------------------------
    def migrate(self) -> list[int]:
        """Apply every migration not yet applied, each in its own transaction."""
        folder = importlib.resources.files("valgkiosk.register.store") / "migrations" / self.dialect
        scripts = sorted(
            (int(p.name.split("_", 1)[0]), p) for p in folder.iterdir() if p.name.endswith(".sql")
        )
        with self.write() as cur:
            if not self._table_exists(cur, "schema_version"):
                self._q(cur, "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)")
            done = {r[0] for r in self._q(cur, "SELECT version FROM schema_version").fetchall()}
        applied = []
        for version, path in scripts:
            if version in done:
                continue
            with self.write() as cur:
                self._run_script(cur, path.read_text(encoding="utf-8"))
                self._q(cur, "INSERT INTO schema_version VALUES (?, ?)",
                        (version, datetime.now(timezone.utc).isoformat()))
            applied.append(version)
        return applied

    def _run_script(self, cur: Any, script: str) -> None:
        for statement in _split_sql(script):
            cur.execute(statement)

    def schema_version(self) -> int:
        """The highest migration applied, 0 on an empty database."""
        with self.read() as cur:
            if not self._table_exists(cur, "schema_version"):
                return 0
            row = self._q(cur, "SELECT max(version) FROM schema_version").fetchone()
        return int(row[0] or 0)

    def ping(self) -> bool:
        """Whether the database takes writes; raises if it cannot answer at all."""
        with self.read() as cur:
            self._q(cur, "SELECT 1").fetchone()
        return True

    # -- election and places -----------------------------------------------------------
    def set_election(self, election: Election) -> None:
        """Configure the one election this register serves."""
        with self.write() as cur:
            self._q(cur, "DELETE FROM election")
            self._q(cur, "INSERT INTO election (id, type, year, date, training) VALUES (1, ?, ?, ?, ?)",
                    (election.type, election.year, self._date(election.date), bool(election.training)))

    def election(self) -> Election | None:
        """The configured election, or None before ``register init``."""
        with self.read() as cur:
            row = self._q(cur, "SELECT type, year, date, training FROM election").fetchone()
        return None if row is None else Election(row[0], int(row[1]), self._as_date(row[2]), bool(row[3]))

    def _upsert_places(self, cur: Any, kommuner: Iterable[Kommune], kretser: Iterable[Krets]) -> None:
        self._station_names.clear()
        for k in kommuner:
            self._q(cur, """INSERT INTO kommuner VALUES (?, ?, ?)
                            ON CONFLICT (kommune) DO UPDATE
                            SET navn = excluded.navn, own_station_required = excluded.own_station_required""",
                    (k.kommune, k.navn, k.own_station_required))
        for s in kretser:
            self._q(cur, """INSERT INTO kretser VALUES (?, ?, ?)
                            ON CONFLICT (kommune, krets) DO UPDATE SET navn = excluded.navn""",
                    (s.kommune, s.krets, s.navn))

    def save_places(self, kommuner: Iterable[Kommune], kretser: Iterable[Krets]) -> None:
        """Create or update municipalities and stations."""
        with self.write() as cur:
            self._upsert_places(cur, kommuner, kretser)

    def kommuner(self) -> list[Kommune]:
        """Every municipality in the register."""
        with self.read() as cur:
            rows = self._q(cur, "SELECT kommune, navn, own_station_required FROM kommuner ORDER BY kommune").fetchall()
        return [Kommune(r[0], r[1], bool(r[2])) for r in rows]

    def kretser(self) -> list[Krets]:
        """Every polling station in the register."""
        with self.read() as cur:
            rows = self._q(cur, "SELECT kommune, krets, navn FROM kretser ORDER BY kommune, krets").fetchall()
        return [Krets(*r) for r in rows]

    # -- voters ------------------------------------------------------------------------
    def import_voters(
        self,
        voters: Iterable[Voter],
        *,
        kommuner: Iterable[Kommune] = (),
        kretser: Iterable[Krets] = (),
        batch_size: int = 20_000,
    ) -> int:
        """Add voters (and their places) in one transaction: all of them or none."""
        count = 0
        with self.write() as cur:
            self._upsert_places(cur, kommuner, kretser)
            batch: list[tuple[Any, ...]] = []
            for v in voters:
                batch.append((
                    v.manntallsnummer, v.fodselsnummer, v.fornavn, v.etternavn,
                    self._date(v.fodselsdato), v.adresse, v.postnummer, v.poststed,
                    v.kommune, v.krets, bool(v.sami),
                ))
                if len(batch) >= batch_size:
                    self._bulk_insert_voters(cur, batch)
                    count += len(batch)
                    batch = []
            if batch:
                self._bulk_insert_voters(cur, batch)
                count += len(batch)
        return count

    def voter_count(self) -> int:
        """How many voters the register holds."""
        with self.read() as cur:
            return int(self._q(cur, "SELECT count(*) FROM voters").fetchone()[0])

    def already_registered(self, column: str, values: Sequence[str]) -> set[str]:
        """Which of ``values`` the register already holds as manntallsnummer or fødselsnummer."""
        if column not in ("manntallsnummer", "fodselsnummer"):
            raise ValueError(f"not a unique voter column: {column}")
        if not values:
            return set()
        marks = ", ".join("?" * len(values))
        with self.read() as cur:
            rows = self._q(cur, f"SELECT {column} FROM voters WHERE {column} IN ({marks})", values).fetchall()
        return {r[0] for r in rows}

    _VOTER_ROW_SQL = f"""
            SELECT v.id, {_VOTER_SELECT}, k.navn, ko.own_station_required,
                   c.checked_off_at, c.kiosk_id, c.kommune, c.krets, ck.navn, c.bord, c.request_id,
                   m.reported_at, m.reported_by, m.kiosk_id, m.krets, m.bord, m.note
            FROM voters v
            JOIN kretser k ON k.kommune = v.kommune AND k.krets = v.krets
            JOIN kommuner ko ON ko.kommune = v.kommune
            LEFT JOIN checkoffs c ON c.voter_id = v.id
            LEFT JOIN kretser ck ON ck.kommune = c.kommune AND ck.krets = c.krets
            LEFT JOIN misregistrations m ON m.voter_id = v.id
            WHERE {{where}} = ?"""

    def _voter_row(self, cur: Any, where: str, value: Any) -> tuple[Any, ...] | None:
        """The voter, their station's name, the kommune's rule, and any check-off (one query).

        Columns: 0 id, 1-11 the voter, 12 station name, 13 own_station_required,
        14-26 the check-off as in ``_CHECKOFF_SELECT`` (all NULL when there is none).
        """
        row: tuple[Any, ...] | None = self._q(cur, self._VOTER_ROW_SQL.format(where=where), (value,)).fetchone()
        return row

    def _status_from_row(self, row: Sequence[Any] | None, kiosk: Kiosk) -> VoterStatus:
        """What the clerk meets, from a ``_voter_row`` row."""
        if row is None:
            return VoterStatus(Verdict.NOT_IN_REGISTER)
        voter, existing = self._voter(row[1:12]), self._checkoff_in(row)
        verdict = verdict_for(voter, existing, kiosk, own_station_required=bool(row[13]))
        return VoterStatus(verdict, voter, row[12], existing)

    def _checkoff_in(self, row: Sequence[Any]) -> Checkoff | None:
        """The check-off part of a ``_voter_row`` row."""
        return None if row[14] is None else self._checkoff(row[14:27])

    def _checkoff_of(self, cur: Any, voter_id: int) -> Checkoff | None:
        row = self._q(cur, _CHECKOFF_SELECT + " WHERE c.voter_id = ?", (voter_id,)).fetchone()
        return None if row is None else self._checkoff(row)

    def _station_name(self, cur: Any, kommune: str, krets: str) -> str:
        """A station's name, from memory after the first time (places change only on import)."""
        names = self._station_names
        if (kommune, krets) not in names:
            rows = self._q(cur, "SELECT kommune, krets, navn FROM kretser").fetchall()
            names.clear()
            names.update({(r[0], r[1]): r[2] for r in rows})
        return names.get((kommune, krets), "")

    def station_name(self, kommune: str, krets: str) -> str:
        """A station's name ("" when unknown)."""
        with self.read() as cur:
            return self._station_name(cur, kommune, krets)

    def voter_status(self, kiosk: Kiosk, manntallsnummer: str) -> VoterStatus:
        """What the clerk at ``kiosk`` meets for this voter, without changing anything."""
        with self.read() as cur:
            row = self._voter_row(cur, "v.manntallsnummer", manntallsnummer)
        return self._status_from_row(row, kiosk)

    def voter_by_fodselsnummer(self, fodselsnummer: str) -> tuple[Voter, str] | None:
        """The voter with this fødselsnummer and the name of their station."""
        with self.read() as cur:
            row = self._voter_row(cur, "v.fodselsnummer", fodselsnummer)
        return None if row is None else (self._voter(row[1:12]), row[12])

    def voters_born(self, fodselsdato: date, *, limit: int = 5000) -> list[tuple[Voter, str]]:
        """Voters born on a date, with their station's name: candidates for a name search."""
        with self.read() as cur:
            rows = self._q(cur, f"""
                SELECT {_VOTER_SELECT}, k.navn FROM voters v
                JOIN kretser k ON k.kommune = v.kommune AND k.krets = v.krets
                WHERE v.fodselsdato = ? LIMIT ?""", (self._date(fodselsdato), limit)).fetchall()
        return [(self._voter(r[:11]), r[11]) for r in rows]

    # -- credentials -----------------------------------------------------------------------
    def save_credential(self, token_hash: str, kiosk: Kiosk, issued_at: datetime) -> None:
        """Store a credential's hash, replacing any earlier credential of the same kiosk."""
        with self.write() as cur:
            self._q(cur, "DELETE FROM credentials WHERE kiosk_id = ?", (kiosk.kiosk_id,))
            self._q(cur, "INSERT INTO credentials VALUES (?, ?, ?, ?, ?, ?, ?, NULL)",
                    (token_hash, kiosk.kiosk_id, kiosk.role.value, kiosk.kommune, kiosk.krets,
                     kiosk.bord, self._ts(issued_at)))

    def kiosk_for(self, token_hash: str) -> Kiosk | None:
        """The kiosk a (hashed) credential belongs to, unless revoked."""
        with self.read() as cur:
            row = self._q(cur, """SELECT kiosk_id, role, kommune, krets, bord FROM credentials
                                  WHERE token_hash = ? AND revoked_at IS NULL""", (token_hash,)).fetchone()
        return None if row is None else Kiosk(row[0], Role(row[1]), row[2], row[3], int(row[4]))

    def revoke_credential(self, kiosk_id: str, at: datetime) -> bool:
        """Revoke a kiosk's credential; False if it had none."""
        with self.write() as cur:
            cur = self._q(cur, "UPDATE credentials SET revoked_at = ? WHERE kiosk_id = ? AND revoked_at IS NULL",
                          (self._ts(at), kiosk_id))
            return bool(cur.rowcount > 0)

    def credentials(self) -> list[tuple[Kiosk, datetime, datetime | None]]:
        """Every credential: the kiosk, when it was issued, and when revoked."""
        with self.read() as cur:
            rows = self._q(cur, """SELECT kiosk_id, role, kommune, krets, bord, issued_at, revoked_at
                                   FROM credentials ORDER BY kiosk_id""").fetchall()
        return [(Kiosk(r[0], Role(r[1]), r[2], r[3], int(r[4])), self._as_dt(r[5]),
                 None if r[6] is None else self._as_dt(r[6])) for r in rows]

    # -- check-off ---------------------------------------------------------------------------
    def check_off(self, kiosk: Kiosk, request_id: str, manntallsnummer: str, now: datetime) -> VoterStatus:
        """Check the voter off at ``kiosk``, exactly once; retries with ``request_id`` are safe.

        A retry of a request that checked the voter off answers "checked off" again with
        the same record, never "already voted".
        """
        with self.write() as cur:
            return self._check_off_in(cur, kiosk, request_id, manntallsnummer, now)

    def _check_off_in(self, cur: Any, kiosk: Kiosk, request_id: str, manntallsnummer: str,
                      now: datetime) -> VoterStatus:
        """``check_off`` inside the caller's write transaction (one of a group commit's)."""
        row = self._voter_row(cur, "v.manntallsnummer", manntallsnummer)
        if row is None:
            return VoterStatus(Verdict.NOT_IN_REGISTER)
        voter_id, voter, krets_navn = row[0], self._voter(row[1:12]), row[12]
        existing = self._checkoff_in(row)
        if existing is None:
            verdict = verdict_for(voter, None, kiosk, own_station_required=bool(row[13]))
            if verdict is not Verdict.READY:
                return VoterStatus(verdict, voter, krets_navn)
            inserted = self._q(cur, """
                INSERT INTO checkoffs VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT DO NOTHING RETURNING voter_id""",
                (voter_id, request_id, self._ts(now), kiosk.kiosk_id, kiosk.kommune,
                 kiosk.krets, kiosk.bord)).fetchone()
            if inserted is not None:
                return VoterStatus(Verdict.CHECKED_OFF, voter, krets_navn, Checkoff(
                    checked_off_at=now.astimezone(timezone.utc), kiosk_id=kiosk.kiosk_id,
                    kommune=kiosk.kommune, krets=kiosk.krets,
                    krets_navn=self._station_name(cur, kiosk.kommune, kiosk.krets),
                    bord=kiosk.bord, request_id=request_id))
            # Another transaction won the race, or the request id was used before.
            existing = self._checkoff_of(cur, voter_id)
            if existing is None:
                raise RequestIdConflict("Forespørsels-id-en er allerede brukt for en annen velger.")
        if existing.request_id == request_id:
            if existing.kiosk_id != kiosk.kiosk_id:
                raise RequestIdConflict("Forespørsels-id-en er brukt av en annen kiosk.")
            return VoterStatus(Verdict.CHECKED_OFF, voter, krets_navn, existing)
        used = self._q(cur, "SELECT 1 FROM checkoffs WHERE request_id = ?", (request_id,)).fetchone()
        if used is not None:
            raise RequestIdConflict("Forespørsels-id-en er allerede brukt for en annen velger.")
        return VoterStatus(Verdict.ALREADY_VOTED, voter, krets_navn, existing)

    def report_misregistration(
        self, kiosk: Kiosk, manntallsnummer: str, reported_by: str, note: str, now: datetime
    ) -> Misregistration:
        """Mark a check-off made at this station as made on the wrong person (once)."""
        with self.write() as cur:
            row = self._q(cur, """SELECT c.voter_id, c.kommune, c.krets FROM checkoffs c
                                  JOIN voters v ON v.id = c.voter_id
                                  WHERE v.manntallsnummer = ?""", (manntallsnummer,)).fetchone()
            if row is None:
                raise NoCheckoff("Velgeren er ikke krysset av i manntallet.")
            if (row[1], row[2]) != (kiosk.kommune, kiosk.krets):
                raise NoCheckoff("Velgeren er krysset av ved et annet valglokale.")
            self._q(cur, """INSERT INTO misregistrations VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                            ON CONFLICT DO NOTHING""",
                    (row[0], self._ts(now), reported_by, kiosk.kiosk_id, kiosk.kommune, kiosk.krets,
                     kiosk.bord, note))
            existing = self._checkoff_of(cur, row[0])
        assert existing is not None and existing.misregistration is not None
        return existing.misregistration

    # -- access records ----------------------------------------------------------------------
    def record_access(self, records: Sequence[AccessRecord]) -> None:
        """Store lookups and searches as they were asked (one transaction per batch)."""
        if not records:
            return
        with self.write() as cur:
            for r in records:
                self._q(cur, "INSERT INTO access_records (at, kiosk_id, kind, asked, outcome) "
                             "VALUES (?, ?, ?, ?, ?)",
                        (self._ts(r.at), r.kiosk_id, r.kind, r.asked, r.outcome))

    def access_summary(self, since: datetime) -> list[AccessSummary]:
        """Per credential since ``since``: lookups, searches, refusals, answers with nobody."""
        with self.read() as cur:
            rows = self._q(cur, """
                SELECT kiosk_id,
                       sum(CASE WHEN kind = 'lookup' THEN 1 ELSE 0 END),
                       sum(CASE WHEN kind <> 'lookup' THEN 1 ELSE 0 END),
                       sum(CASE WHEN outcome = 'rate_limited' THEN 1 ELSE 0 END),
                       sum(CASE WHEN outcome IN ('not_in_register', '0 hits') THEN 1 ELSE 0 END),
                       min(at), max(at)
                FROM access_records WHERE at >= ? GROUP BY kiosk_id ORDER BY kiosk_id""",
                (self._ts(since),)).fetchall()
            checkoffs = dict(self._q(cur, "SELECT kiosk_id, count(*) FROM checkoffs WHERE checked_off_at >= ? "
                                          "GROUP BY kiosk_id", (self._ts(since),)).fetchall())
        return [AccessSummary(r[0], int(r[1]), int(r[2]), int(r[3]), int(r[4]), int(checkoffs.get(r[0], 0)),
                              self._as_dt(r[5]), self._as_dt(r[6])) for r in rows]

    def access_records(self, kiosk_id: str, since: datetime, *, limit: int = 1000) -> list[AccessRecord]:
        """One credential's access records since ``since``, oldest first."""
        with self.read() as cur:
            rows = self._q(cur, "SELECT at, kiosk_id, kind, asked, outcome FROM access_records "
                                "WHERE kiosk_id = ? AND at >= ? ORDER BY at, id LIMIT ?",
                           (kiosk_id, self._ts(since), limit)).fetchall()
        return [AccessRecord(self._as_dt(r[0]), r[1], r[2], r[3], r[4]) for r in rows]

    # -- emergency votes and reports ------------------------------------------------------------
    def record_emergency_votes(
        self, kiosk: Kiosk, votes: Iterable[EmergencyVote], now: datetime
    ) -> UploadReceipt:
        """Record a kiosk's emergency votes; a vote uploaded again is counted once."""
        accepted = repeated = 0
        with self.write() as cur:
            for v in votes:
                cur = self._q(cur, """INSERT INTO emergency_votes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                                      ON CONFLICT DO NOTHING""",
                              (kiosk.kiosk_id, v.vote_id, self._ts(v.recorded_at), self._ts(now),
                               v.manntallsnummer, v.manual_valgkort, kiosk.kommune, kiosk.krets,
                               kiosk.bord))
                if cur.rowcount > 0:
                    accepted += 1
                else:
                    repeated += 1
        return UploadReceipt(accepted, repeated)

    def counts(self, *, kommune: str | None = None, krets: str | None = None) -> list[TableCount]:
        """Check-offs, emergency votes and misregistrations per table."""
        where, params = "", []
        if kommune is not None:
            where, params = " WHERE kommune = ?", [kommune]
            if krets is not None:
                where += " AND krets = ?"
                params.append(krets)
        figures: dict[tuple[str, str, int], list[int]] = {}
        with self.read() as cur:
            for i, table in enumerate(("checkoffs", "emergency_votes", "misregistrations")):
                rows = self._q(cur, f"SELECT kommune, krets, bord, count(*) FROM {table}{where} "
                                    "GROUP BY kommune, krets, bord", params).fetchall()
                for k, s, b, n in rows:
                    figures.setdefault((k, s, int(b)), [0, 0, 0])[i] = int(n)
        return [TableCount(k, s, b, *f) for (k, s, b), f in sorted(figures.items())]

    # -- loggbok anchors (docs/loggbok.md) --------------------------------------------------
    def save_kiosk_key(self, kiosk_id: str, public_key: str, at: datetime) -> None:
        """Register (or replace) a kiosk's loggbok public key (64 hex digits)."""
        with self.write() as cur:
            self._q(cur, "DELETE FROM kiosk_keys WHERE kiosk_id = ?", (kiosk_id,))
            self._q(cur, "INSERT INTO kiosk_keys VALUES (?, ?, ?)", (kiosk_id, public_key, self._ts(at)))

    def kiosk_key(self, kiosk_id: str) -> str | None:
        """A kiosk's loggbok public key, or None when none is registered."""
        with self.read() as cur:
            row = self._q(cur, "SELECT public_key FROM kiosk_keys WHERE kiosk_id = ?", (kiosk_id,)).fetchone()
        return None if row is None else str(row[0])

    def record_chain_head(self, kiosk: Kiosk, entries: int, digest: str, sig: str, source: str,
                          now: datetime) -> ChainHead:
        """Keep a chain head a kiosk sent (once per entries and hash), its signature checked
        against the kiosk's registered key. For emergency uploads and status reports."""
        from valgkiosk.signing import checker

        public = self.kiosk_key(kiosk.kiosk_id)
        ok = None if public is None else bool(sig) and checker(public)(digest, sig)
        with self.write() as cur:
            self._q(cur, """INSERT INTO chain_heads (kiosk_id, entries, hash, sig, signature_ok, source,
                                                     first_received_at)
                            VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING""",
                    (kiosk.kiosk_id, entries, digest, sig, ok, source, self._ts(now)))
        return ChainHead(kiosk.kiosk_id, entries, digest, sig, ok, source, now)

    def chain_heads(self, kiosk_id: str | None = None) -> list[ChainHead]:
        """The heads kept, per kiosk in the order received (a status report's head kept
        late, when the next one did not extend it, carries the time it came)."""
        where, params = ("WHERE kiosk_id = ?", (kiosk_id,)) if kiosk_id is not None else ("", ())
        with self.read() as cur:
            rows = self._q(cur, f"""SELECT kiosk_id, entries, hash, sig, signature_ok, source, first_received_at
                                    FROM chain_heads {where}
                                    ORDER BY kiosk_id, first_received_at, id""", params).fetchall()
        return [ChainHead(r[0], int(r[1]), r[2], r[3], None if r[4] is None else bool(r[4]), r[5],
                          self._as_dt(r[6])) for r in rows]  # fmt: skip

    def chain_conflicts(self) -> list[ChainConflict]:
        """Kiosks whose heads do not extend each other (valgkiosk.register.chains)."""
        return conflicts(self.chain_heads())

    def reconciliation(self) -> list[DuplicateVoter]:
        """Every voter who appears more than once across check-offs and emergency votes."""
        with self.read() as cur:
            rows = self._q(cur, """
                WITH appearances AS (
                    SELECT v.manntallsnummer AS mnr, 'checkoff' AS kind, c.checked_off_at AS at,
                           c.kiosk_id, c.krets, c.bord
                    FROM checkoffs c JOIN voters v ON v.id = c.voter_id
                    UNION ALL
                    SELECT e.manntallsnummer, 'emergency_vote', e.recorded_at, e.kiosk_id, e.krets, e.bord
                    FROM emergency_votes e WHERE e.manntallsnummer IS NOT NULL
                )
                SELECT mnr, kind, at, kiosk_id, krets, bord FROM appearances
                WHERE mnr IN (SELECT mnr FROM appearances GROUP BY mnr HAVING count(*) > 1)
                ORDER BY mnr, at""").fetchall()
        grouped: dict[str, list[Appearance]] = {}
        for mnr, kind, at, kiosk_id, krets, bord in rows:
            grouped.setdefault(mnr, []).append(Appearance(kind, self._as_dt(at), kiosk_id, krets, int(bord)))
        return [DuplicateVoter(m, tuple(a)) for m, a in grouped.items()]


def _split_sql(script: str) -> Iterator[str]:
    """Split a migration into statements (our scripts hold no ``;`` inside literals)."""
    lines = [ln for ln in script.splitlines() if not ln.lstrip().startswith("--")]
    for statement in "\n".join(lines).split(";"):
        if statement.strip():
            yield statement.strip()
