"""``valgkiosk clock``: the clock rules applied on the kiosk (valgkiosk-clock.service).

``valgkiosk clock sync`` reads the sources (NTP's answer, the mobile network's time through
the ``[modem]``, a fitted RTC, the newest loggbok entry), steps the system clock when the
rules say so, and writes the state to ``[clock] state_file`` for the kiosk's caretaker
screen and receipts; ``--every`` repeats it every ``[clock] check_seconds``.
``valgkiosk clock status`` prints the last state.

A separate service, not the kiosk: stepping the clock needs ``CAP_SYS_TIME``, which the
kiosk process (on the clerk's screen, reading scanner input) should not hold.
"""

from __future__ import annotations

import argparse
import logging
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from valgkiosk import config as cfg

log = logging.getLogger(__name__)


def add_parser(sub: Any) -> None:
    """The ``clock`` command and its sub-commands."""
    clock = sub.add_parser("clock", help="the clock rules: set the clock from NTP, the mobile network or an RTC")
    clock.add_argument("--config", default=str(cfg.DEFAULT_PATH), help="the station configuration")
    cmds = clock.add_subparsers(dest="clock_command", required=True, metavar="COMMAND")
    sync = cmds.add_parser("sync", help="apply the clock rules once (or --every check_seconds) and write the state")
    sync.add_argument("--every", action="store_true", help="repeat every [clock] check_seconds")
    sync.add_argument("--dry-run", action="store_true", help="do not set the clock, only report")
    cmds.add_parser("status", help="print the state the clock service wrote last")


def build_clock_keeper(config: cfg.StationConfig, *, base: Path | None = None, may_set: bool = True) -> Any:
    """The keeper for ``config``: NTP through timedatectl/adjtimex, the ``[modem]`` (when
    ``[clock] use_modem``), the ``[clock] rtc``, the loggbok's newest entry (read only)."""
    from valgkiosk.drivers.clocksync import read_clock_sync
    from valgkiosk.drivers.timesource import ClockKeeper, last_entry_time, modem_network_time, read_rtc

    modem = None
    if config.modem is not None and config.clock.use_modem:
        from valgkiosk.drivers.modem import Modem

        modem = Modem(config.modem.device, baudrate=config.modem.baudrate, timeout=config.modem.timeout_seconds)
    loggbok = Path(config.log.loggbok or "/var/lib/valgkiosk/loggbok.jsonl")
    if base is not None and not loggbok.is_absolute():
        loggbok = base / loggbok

    def newest_entry() -> Any:
        from valgkiosk.core.loggbok import from_line

        if not loggbok.exists():
            return None
        entries = []
        for line in loggbok.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                entries.append(from_line(line))
            except Exception:  # noqa: BLE001 - a damaged line is skipped, as the journal does
                continue
        return last_entry_time(entries)

    kwargs: dict[str, Any] = {}
    if not may_set:
        kwargs["set_clock"] = lambda when: False
    return ClockKeeper(
        ntp=lambda: read_clock_sync().synchronized,
        modem=(lambda: modem_network_time(modem)) if modem is not None else (lambda: None),
        rtc=lambda: read_rtc(Path(config.clock.rtc)),
        last_entry=newest_entry,
        **kwargs,
    )


def run(args: argparse.Namespace) -> int:
    """``valgkiosk clock sync|status``."""
    from valgkiosk.drivers.timesource import read_state, write_state

    try:
        config = cfg.load(Path(args.config))
    except cfg.ConfigError as exc:
        log.error("%s", exc)
        return 2
    state_file = Path(config.clock.state_file)
    if args.clock_command == "status":
        report = read_state(state_file)
        if report is None:
            print("Ingen klokkestatus (kjører valgkiosk-clock.service?)")
            return 1
        print(f"{report.words} (sjekket {report.checked_at.isoformat(timespec='seconds')})")
        return 0 if report.synchronized else 1
    keeper = build_clock_keeper(config, base=Path(args.config).parent, may_set=not args.dry_run)
    while True:
        state = keeper.check()
        write_state(state, state_file)
        print(state.describe(), flush=True)
        if not args.every:
            return 0 if state.synchronized else 1
        time.sleep(config.clock.check_seconds)


#: How old the clock service's state may be before the kiosk treats the clock as unknown.
def max_state_age(config: cfg.StationConfig) -> timedelta:
    return timedelta(seconds=3 * config.clock.check_seconds)
