"""Backups with point-in-time recovery as docs/register-operations.md sets them up:
pgBackRest (Debian's package) archives the WAL of the test PostgreSQL that scripts/test
starts and takes a full backup; a restore to a moment, into a new data directory started
as a second server, brings back the register as it was then: a voter checked off before
the backup and one checked off after it (from the archived WAL) are there, one checked
off after the moment is not.

The test borrows scripts/test's server (started with ``archive_mode = on`` and an
archive_command that archives nothing): it points archive_command at its own repository
for the run (a reload), and puts it back afterwards. It needs root (PostgreSQL and
pgBackRest run as the postgres user) and skips with the reason otherwise.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from valgkiosk.register.store import open_store

from .factory import AASE, KARI, OLA, TABLE_1, fill
from .pgdb import PG_DSN, create_database as create_pg_database, drop_database as drop_pg_database

STANZA = "valgkiosk"
LIMIT_S = 120  # for every pgBackRest and pg_ctl call


def _skip_reason() -> str | None:
    if PG_DSN is None:
        return "needs the test PostgreSQL (scripts/test)"
    if os.geteuid() != 0:
        return "needs root: PostgreSQL and pgBackRest run as the postgres user"
    if shutil.which("pgbackrest") is None:
        return "pgbackrest is not installed (scripts/test installs Debian's package)"
    if not os.environ.get("VALGKIOSK_TEST_PG_BINDIR"):
        return "VALGKIOSK_TEST_PG_BINDIR is not set (scripts/test sets it)"
    return None


pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def as_postgres(*cmd: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(["runuser", "-u", "postgres", "--", *cmd], capture_output=True, text=True,
                          timeout=LIMIT_S)
    if done.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done


def sql(dsn: str, query: str) -> list[tuple]:  # type: ignore[type-arg]
    import psycopg

    with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as conn:
        cur = conn.execute(query)
        return cur.fetchall() if cur.description else []


@pytest.fixture
def workdir() -> Iterator[Path]:
    """A folder the postgres user can use (pytest's own tmp_path is root's only)."""
    path = Path(tempfile.mkdtemp(prefix="valgkiosk-backup-"))
    shutil.chown(path, "postgres", "postgres")
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def checked_off(dsn: str) -> set[str]:
    return {r[0] for r in sql(dsn, "SELECT v.manntallsnummer FROM checkoffs c JOIN voters v ON v.id = c.voter_id")}


def test_pgbackrest_backup_and_point_in_time_restore_keep_a_checked_off_voter(workdir: Path) -> None:
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    assert PG_DSN is not None
    (mode,), = sql(PG_DSN, "SHOW archive_mode")
    if mode != "on":
        pytest.skip("the test PostgreSQL runs without archive_mode = on (scripts/test starts it with it)")
    (data,), = sql(PG_DSN, "SHOW data_directory")
    (socket_dir,), = sql(PG_DSN, "SHOW unix_socket_directories")
    (port,), = sql(PG_DSN, "SHOW port")
    bindir = os.environ["VALGKIOSK_TEST_PG_BINDIR"]
    conf = workdir / "pgbackrest.conf"
    conf.write_text(
        "[global]\n"
        f"repo1-path={workdir / 'repo'}\nlock-path={workdir / 'lock'}\nlog-path={workdir / 'log'}\n"
        "log-level-file=off\nlog-level-console=warn\ncompress-type=none\nstart-fast=y\n"
        "archive-timeout=60\nrepo1-retention-full=1\n\n"
        f"[{STANZA}]\npg1-path={data}\npg1-port={port}\npg1-socket-path={socket_dir}\npg1-user=postgres\n")
    shutil.chown(conf, "postgres", "postgres")
    push = f"pgbackrest --config={conf} --stanza={STANZA} archive-push %p"

    url = create_pg_database()
    restored_dir = workdir / "restored"
    restored_port = None
    try:
        sql(PG_DSN, f"ALTER SYSTEM SET archive_command = '{push}'")
        sql(PG_DSN, "SELECT pg_reload_conf()")
        store = open_store(url)
        try:
            store.migrate()
            fill(store)
            moment = datetime(2025, 9, 8, 9, 0, tzinfo=timezone.utc)
            assert store.check_off(TABLE_1, str(uuid.uuid4()), KARI.manntallsnummer, moment).checkoff
            as_postgres("pgbackrest", f"--config={conf}", f"--stanza={STANZA}", "stanza-create")
            as_postgres("pgbackrest", f"--config={conf}", f"--stanza={STANZA}", "--type=full", "backup")
            # After the backup: Ola before the restore target, Åse after it.
            assert store.check_off(TABLE_1, str(uuid.uuid4()), OLA.manntallsnummer, moment).checkoff
            # pgBackRest keeps the backup's stop time in whole seconds: a target in the same
            # second as the backup's end finds "no backup set with stop time less than" it
            time.sleep(1.5)
            (target,), = sql(url, "SELECT clock_timestamp()")
            time.sleep(0.5)
            assert store.check_off(TABLE_1, str(uuid.uuid4()), AASE.manntallsnummer, moment).checkoff
        finally:
            store.close()
        # The WAL with Åse's commit must be archived, so recovery sees a commit after the target.
        (segment,), = sql(PG_DSN, "SELECT pg_walfile_name(pg_switch_wal())")
        deadline = time.monotonic() + 60
        while True:
            (archived,), = sql(PG_DSN, "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver")
            if archived >= segment:
                break
            assert time.monotonic() < deadline, f"WAL segment {segment} not archived within 60 s"
            time.sleep(0.2)

        restored_dir.mkdir(mode=0o700)
        shutil.chown(restored_dir, "postgres", "postgres")
        as_postgres("pgbackrest", f"--config={conf}", f"--stanza={STANZA}", f"--pg1-path={restored_dir}",
                    "--type=time", "--target=" + target.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + "+00", "--target-action=promote", "restore")
        import socket as sock

        with sock.socket() as s:
            s.bind(("127.0.0.1", 0))
            restored_port = s.getsockname()[1]
        options = (f"-c port={restored_port} -c listen_addresses=127.0.0.1 "
                   f"-c unix_socket_directories={workdir} -c archive_mode=off")
        as_postgres(f"{bindir}/pg_ctl", "-D", str(restored_dir), "-l", str(workdir / "restored.log"),
                    "-o", options, "-w", "-t", str(LIMIT_S), "start")
        restored = url.replace(f":{port}/", f":{restored_port}/")
        deadline = time.monotonic() + 60
        while sql(restored, "SELECT pg_is_in_recovery()")[0][0]:
            assert time.monotonic() < deadline, "the restored server did not finish recovery within 60 s"
            time.sleep(0.2)
        assert checked_off(restored) == {KARI.manntallsnummer, OLA.manntallsnummer}
        assert checked_off(url) == {KARI.manntallsnummer, OLA.manntallsnummer, AASE.manntallsnummer}
    finally:
        if restored_port is not None:
            subprocess.run(["runuser", "-u", "postgres", "--", f"{bindir}/pg_ctl", "-D", str(restored_dir),
                            "-m", "immediate", "-w", "stop"], capture_output=True, timeout=LIMIT_S)
        sql(PG_DSN, "ALTER SYSTEM RESET archive_command")
        sql(PG_DSN, "SELECT pg_reload_conf()")
        drop_pg_database(url)
