"""Time the synthetic register generator: ``python bench/generate_register.py [--voters N]``.

By default it generates Norway's 4.3 million voters and throws them away; with
``--csv PATH`` it also writes them in the import format (which takes longer).
"""

from __future__ import annotations

import argparse
import time

from valgkiosk.register import synthetic


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voters", type=int, default=4_300_000)
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--election-year", type=int, default=2025)
    parser.add_argument("--kommuner", type=int, default=357)
    parser.add_argument("--kretser", type=int, default=10, help="stations per kommune")
    parser.add_argument("--csv", metavar="PATH", help="also write the voters to this CSV file")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    register = synthetic.generate(
        voters=args.voters, seed=args.seed, election_year=args.election_year,
        kommuner=args.kommuner, kretser_per_kommune=args.kretser,
    )
    voters = register.voters()
    if args.csv:
        count = synthetic.write_csv(args.csv, voters, kommuner=register.kommuner,
                                    kretser=register.kretser)
    else:
        count = 0
        for _ in voters:
            count += 1
    elapsed = time.perf_counter() - started
    what = f"generated and wrote to {args.csv}" if args.csv else "generated"
    print(f"{count} voters {what} in {elapsed:.1f} s: {count / elapsed:,.0f} voters/second")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
