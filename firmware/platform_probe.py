"""The Pi-platform checks of the image's boot self-test, as ``CHECK name ok|FAIL detail``
lines (the format of /usr/lib/valgkiosk/selftest): GPIO through gpiozero's lgpio factory,
the clock's source by the clock rules, the time zone. Run by
valgkiosk-selftest-platform.service as the kiosk's user, so that GPIO is opened with the
kiosk's own permissions: ``python -m valgkiosk.platform_probe``.

What a virtual machine cannot prove: qemu's virt machine has a PL061 GPIO controller
(8 lines, one held by gpio-keys for the power button), not a Pi's. The probe opens it
with lgpio and reads lines through gpiozero's ``LGPIOFactory`` and ``LGPIOPin`` — the
classes a Pi uses — telling gpiozero the board is a Pi 4 (the VM has no Pi revision).
Pull resistors, the Pi 5's RP1 chip and real sense lines need a Pi (docs/selftest.md).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

#: A Pi 4 Model B (4 GB) revision code, for gpiozero's board table in a VM only.
PI4_REVISION = 0xC03111


def check_gpio(chip: int = 0, lines: tuple[int, ...] = (0, 1, 2)) -> tuple[bool, str]:
    """lgpio opens gpiochip``chip``; gpiozero's lgpio pins read ``lines``."""
    try:
        import lgpio  # type: ignore[import-not-found]
        from gpiozero.pins.lgpio import LGPIOFactory
    except ImportError as exc:
        return False, f"import failed: {exc}"
    try:
        handle = lgpio.gpiochip_open(chip)
        _, count, name, label = lgpio.gpio_get_chip_info(handle)
        lgpio.gpiochip_close(handle)
    except Exception as exc:  # noqa: BLE001 - the report says what failed
        return False, f"gpiochip{chip} cannot be opened: {exc}"

    class _Factory(LGPIOFactory):  # type: ignore[misc]
        def _get_revision(self) -> int:
            if Path("/proc/device-tree/system/linux,revision").exists():
                return int(super()._get_revision())
            return PI4_REVISION

    factory = _Factory(chip=chip)
    try:
        states = []
        for line in lines:
            pin = factory.pin(line)
            pin.function = "input"
            states.append(f"{line}={int(pin.state)}")
    except Exception as exc:  # noqa: BLE001
        return False, f"lines on gpiochip{chip} ({label}) cannot be read: {exc}"
    finally:
        factory.close()
    return True, f"lgpio={getattr(lgpio, 'LGPIO_PY_VERSION', '?')} chip={name} label={label} lines={count} read=[{' '.join(states)}]"


def check_clock_source(ntp: Callable[[], bool | None] | None = None) -> tuple[bool, str]:
    """The clock rules' source now (nothing is set: the probe has no CAP_SYS_TIME)."""
    from valgkiosk.core.timekeeping import ClockInputs, decide
    from valgkiosk.drivers.clocksync import read_clock_sync
    from valgkiosk.drivers.timesource import read_rtc

    synced = ntp() if ntp is not None else read_clock_sync().synchronized
    decision = decide(ClockInputs(datetime.now(timezone.utc), synced, None, read_rtc(), None))
    return True, f"source={decision.source.value} synchronized={'yes' if decision.synchronized else 'no'}"


def check_timezone(localtime: Path = Path("/etc/localtime")) -> tuple[bool, str]:
    """/etc/localtime is Europe/Oslo and local time says CET or CEST."""
    target = os.path.realpath(localtime)
    zone = datetime.now().astimezone().tzname() or "?"
    return target.endswith("/Europe/Oslo") and zone in ("CET", "CEST"), f"localtime={target} zone={zone}"


def main() -> int:
    failed = 0
    for name, check in (("lgpio-gpiochip", check_gpio), ("clock-source", check_clock_source),
                        ("timezone-oslo", check_timezone)):
        try:
            ok, detail = check()
        except Exception as exc:  # noqa: BLE001
            ok, detail = False, f"{type(exc).__name__}: {exc}"
        print(f"CHECK {name} {'ok' if ok else 'FAIL'} {detail}", flush=True)
        failed |= not ok
    return int(failed)


if __name__ == "__main__":
    sys.exit(main())
