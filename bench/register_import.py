#!/usr/bin/env python3
"""The register import's time and memory, against the importer before issue 16, in one run.

Issue 16 asked for the import's time halved (the fødselsnummer was checked in both passes
of the import, and decoded three times a row). This measures both importers on the same
file and the same machine, alternating, each run in a fresh process on a fresh database:

- ``before``: ``register/importer.py`` and the number parsing it calls
  (``firmware/core/manntallsnummer.py``) as they were at commit ``BEFORE``, read from git
  and loaded in place of today's; it talks to today's store, so only the import's own
  code differs;
- ``after``: today's ``valgkiosk.register.importer.import_csv`` (no progress bar).

For each: wall time, CPU time and peak memory (the child's ``ru_maxrss``), the median
over ``--repeat`` runs, and the ratio after ÷ before. SQLite always; PostgreSQL too with
``--pg-dsn`` (or ``$VALGKIOSK_BENCH_PG_DSN``; a database is created and dropped).

    .venv/bin/python bench/register_import.py --voters 200000 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BEFORE = "464e430"  # the last commit before issue 16's import changes (2026-11-23)

CHILD = r"""
import importlib.util, sys, time
kind, url, csv_path, before_file = sys.argv[1:5]
from datetime import date
from valgkiosk.register.model import Election
from valgkiosk.register.store import open_store
store = open_store(url)
store.migrate()
store.set_election(Election("stortingsvalg", 2025, date(2025, 9, 8)))
if kind == "before":
    # the number parsing of that commit too (today's core checks the Luhn digit faster)
    import valgkiosk.core
    spec = importlib.util.spec_from_file_location("valgkiosk.core.manntallsnummer", before_file + ".mnr.py")
    old_mnr = importlib.util.module_from_spec(spec)
    sys.modules["valgkiosk.core.manntallsnummer"] = old_mnr
    spec.loader.exec_module(old_mnr)
    valgkiosk.core.manntallsnummer = old_mnr
    spec = importlib.util.spec_from_file_location("importer_before", before_file)
    module = importlib.util.module_from_spec(spec)
    sys.modules["importer_before"] = module
    spec.loader.exec_module(module)
else:
    from valgkiosk.register import importer as module
t0, c0 = time.perf_counter(), time.process_time()
count = module.import_csv(store, csv_path)
print(count, time.perf_counter() - t0, time.process_time() - c0)
store.close()
"""


def run_child(kind: str, url: str, csv_path: Path, before_file: Path) -> dict[str, float]:
    proc = subprocess.Popen([sys.executable, "-c", CHILD, kind, url, str(csv_path), str(before_file)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stderr is not None
    out, err = proc.stdout.read(), proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{kind} import failed:\n{err[-2000:]}")
    count, wall, cpu = out.split()
    return {"voters": int(count), "wall_s": float(wall), "cpu_s": float(cpu),
            "peak_rss_mib": usage.ru_maxrss / 1024}


def pg_database(dsn: str) -> tuple[str, str]:
    import psycopg

    name = "bench_import_" + uuid.uuid4().hex[:8]
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, dsn.rsplit("/", 1)[0] + "/" + name


def drop_pg(dsn: str, name: str) -> None:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--voters", type=int, default=200_000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--pg-dsn", default=os.environ.get("VALGKIOSK_BENCH_PG_DSN"))
    p.add_argument("--json", help="also write the figures here")
    args = p.parse_args(argv)

    from valgkiosk.register import synthetic

    with tempfile.TemporaryDirectory(prefix="vk-import-") as tmp:
        work = Path(tmp)
        before_file = work / "importer_before.py"
        for source, target in (("register/importer.py", before_file),
                               ("firmware/core/manntallsnummer.py", Path(f"{before_file}.mnr.py"))):
            target.write_text(subprocess.run(["git", "-C", str(ROOT), "show", f"{BEFORE}:{source}"],
                                             check=True, capture_output=True, text=True).stdout)
        csv_path = work / "manntall.csv"
        t0 = time.perf_counter()
        register = synthetic.generate(voters=args.voters, seed=2025, election_year=2025,
                                      kommuner=max(1, args.voters // 12_000), kretser_per_kommune=10)
        synthetic.write_csv(csv_path, register.voters(), kommuner=register.kommuner, kretser=register.kretser)
        print(f"[{time.strftime('%H:%M:%S')}] {args.voters:,} voters written in {time.perf_counter() - t0:.1f} s "
              f"({csv_path.stat().st_size / 2**20:.0f} MiB)", file=sys.stderr)
        backends = ["sqlite"] + (["postgresql"] if args.pg_dsn else [])
        results: dict[str, dict[str, list[dict[str, float]]]] = {b: {"before": [], "after": []} for b in backends}
        for backend in backends:
            for i in range(args.repeat):
                for kind in ("before", "after") if i % 2 == 0 else ("after", "before"):
                    if backend == "sqlite":
                        url, name = f"sqlite:///{work}/r-{kind}-{i}.db", None
                    else:
                        name, url = pg_database(args.pg_dsn)
                    try:
                        r = run_child(kind, url, csv_path, before_file)
                    finally:
                        if name:
                            drop_pg(args.pg_dsn, name)
                        elif Path(url[len("sqlite:///"):]).exists():
                            Path(url[len("sqlite:///"):]).unlink()
                    if r["voters"] != args.voters:
                        raise SystemExit(f"{kind} imported {r['voters']} of {args.voters}")
                    results[backend][kind].append(r)
                    print(f"[{time.strftime('%H:%M:%S')}] {backend:10} {kind:6} run {i + 1}: {r['wall_s']:6.1f} s wall, "
                          f"{r['cpu_s']:6.1f} s CPU, {r['peak_rss_mib']:5.0f} MiB peak", file=sys.stderr)

    print(f"\nImport of {args.voters:,} synthetic voters, median of {args.repeat} runs each "
          f"(before = importer at {BEFORE}, after = today's):\n")
    print("| backend | importer | wall s | CPU s | peak MiB | voters/s (wall) |")
    print("|---|---|---:|---:|---:|---:|")
    summary: dict[str, dict[str, float]] = {}
    for backend, kinds in results.items():
        med = {k: {f: statistics.median(r[f] for r in runs) for f in ("wall_s", "cpu_s", "peak_rss_mib")}
               for k, runs in kinds.items()}
        for k in ("before", "after"):
            m = med[k]
            print(f"| {backend} | {k} | {m['wall_s']:.1f} | {m['cpu_s']:.1f} | {m['peak_rss_mib']:.0f} | "
                  f"{args.voters / m['wall_s']:,.0f} |")
        summary[backend] = {f"{f}_ratio": med["after"][f] / med["before"][f] for f in ("wall_s", "cpu_s", "peak_rss_mib")}
    print("\nafter ÷ before:")
    for backend, ratios in summary.items():
        verdict = "met" if ratios["wall_s_ratio"] <= 0.5 else "MISSED"
        print(f"  {backend:10} wall {ratios['wall_s_ratio']:.2f}, CPU {ratios['cpu_s_ratio']:.2f}, "
              f"peak memory {ratios['peak_rss_mib_ratio']:.2f}  (goal: time halved → {verdict})")
    if args.json:
        Path(args.json).write_text(json.dumps({"voters": args.voters, "results": results, "ratios": summary},
                                              indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
