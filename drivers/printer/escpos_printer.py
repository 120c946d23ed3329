"""The ReceiptPrinter adapter over python-escpos: USB, serial, network and file backends.

Each status query and each job opens a fresh connection and a fresh python-escpos
object, so CP865 is selected after every open and a replugged printer is found again.
Where the connection can read back (USB, serial, network, unless ``check_status`` is
off) a job is sent only after the printer has answered DLE EOT and said it is ready;
after the job the status is asked again, and a fault then is reported with
``may_have_printed=True``. Nothing is ever retried here: the print queue keeps failed
jobs until the clerk asks.
"""

from __future__ import annotations

import errno
import logging
import os
import socket
from collections.abc import Callable

from . import capabilities_cache  # noqa: F401 - first: python-escpos reads its pickle folder on import

import serial
from escpos.escpos import Escpos
from escpos.exceptions import DeviceNotFoundError
from escpos.printer import Dummy, File, Network, Serial

from valgkiosk.ports.printer import (
    Paper,
    PrinterError,
    PrinterStatus,
    PrinterTimeout,
    PrinterUnplugged,
    Receipt,
)

from . import status as st
from .faults import MSG_ACCESS, MSG_PARTIAL, MSG_TIMEOUT, MSG_UNPLUGGED, raise_for
from .render import check, render
from .settings import PROFILE_COLUMNS, PrinterSettings

__all__ = ["EscposPrinter", "profile_columns"]

log = logging.getLogger(__name__)

def profile_columns(profile: str) -> int:
    """Font A columns of a python-escpos printer profile."""
    try:
        return int(Dummy(profile=profile).profile.get_columns("a"))
    except Exception:  # an unknown profile or one without fonts
        return PROFILE_COLUMNS.get(profile, 48)


class _Serial(Serial):
    """Serial that returns a status reply as soon as it comes (python-escpos reads 16
    bytes and so always waits for the whole timeout)."""

    def _read(self) -> bytes:
        assert self.device
        first = self.device.read(1)
        if not first:
            return b""
        return first + self.device.read(self.device.in_waiting)


class _DeviceFile(File):
    """File that opens an existing device node only: python-escpos opens with "wb", which
    on a kiosk whose USB printer is unplugged (``/dev/usb/lp0`` gone) would create a
    regular file there and "print" every job into it."""

    def open(self, raise_not_found: bool = True) -> None:
        if self._device:
            self.close()
        try:
            fd = os.open(self.devfile, os.O_WRONLY | os.O_NOCTTY)  # no O_CREAT
        except OSError as exc:
            self.device = None
            raise DeviceNotFoundError(f"Could not open the specified file {self.devfile}:\n{exc}") from exc
        self.device = os.fdopen(fd, "wb")


class EscposPrinter:
    """A receipt printer reached through python-escpos, as configured by ``settings``.

    ``connect`` makes a fresh, unopened python-escpos object; tests and the emulator may
    pass their own. Calls block: run them in a worker thread.
    """

    def __init__(self, settings: PrinterSettings,
                 *, connect: Callable[[], Escpos] | None = None) -> None:
        if settings.kind == "sim":
            raise ValueError("sim printers are built by SimulatedPrinter")
        self.settings = settings
        self._columns = settings.columns or profile_columns(settings.profile)
        self._connect = connect or self._factory()

    @property
    def columns(self) -> int:
        return self._columns

    # -- port ---------------------------------------------------------------------

    def status(self) -> PrinterStatus:
        """Ask the printer; unknown when it cannot or does not answer."""
        if self.settings.kind == "file":
            if not os.path.exists(self.settings.device or ""):
                return PrinterStatus(online=False, paper=Paper.UNKNOWN, detail=st.UNPLUGGED)
            return PrinterStatus(online=None, paper=Paper.UNKNOWN, detail=st.NO_READBACK)
        try:
            p = self._open()
        except PrinterUnplugged as exc:
            return PrinterStatus(online=False, paper=Paper.UNKNOWN, detail=exc.message)
        except PrinterError as exc:
            return PrinterStatus(online=None, paper=Paper.UNKNOWN, detail=exc.message)
        try:
            if not self.settings.readback:
                return PrinterStatus(online=None, paper=Paper.UNKNOWN, detail=st.NO_READBACK)
            return self._query(p)
        except PrinterUnplugged as exc:
            return PrinterStatus(online=False, paper=Paper.UNKNOWN, detail=exc.message)
        except PrinterError as exc:
            return PrinterStatus(online=None, paper=Paper.UNKNOWN, detail=exc.message)
        finally:
            self._close(p)

    def print(self, receipt: Receipt) -> None:
        """Print ``receipt`` once, or raise the fault that stopped it."""
        check(receipt, self.columns)
        p = self._open()
        try:
            if self.settings.readback:
                before = self._query(p)
                if not before.known:
                    raise PrinterTimeout(MSG_TIMEOUT)
                raise_for(before, sent=False)
            try:
                render(p, receipt)
                _flush(p)
            except Exception as exc:
                raise _mapped(exc, sent=True) from exc
            if self.settings.readback:
                after = self._query(p, sent=True)
                if not after.known:
                    raise PrinterTimeout(
                        "Skriveren sluttet å svare under utskriften." + MSG_PARTIAL,
                        may_have_printed=True)
                raise_for(after, sent=True)
        finally:
            self._close(p)
        log.info("printed %s (%s)", receipt.kind, receipt.title)

    # -- connection -----------------------------------------------------------------

    def _factory(self) -> Callable[[], Escpos]:
        s = self.settings
        if s.kind == "usb":
            from escpos.printer import Usb

            if not Usb.is_usable():
                raise RuntimeError("USB-skriver krever pyusb (python-escpos[usb])")
            return lambda: Usb(s.vendor, s.product, timeout=int(s.timeout * 1000),
                               in_ep=s.in_ep, out_ep=s.out_ep, profile=s.profile)
        if s.kind == "serial":
            return lambda: _Serial(s.device, baudrate=s.baudrate, timeout=s.timeout,
                                   dsrdtr=False, profile=s.profile)
        if s.kind == "network":
            return lambda: Network(s.host, port=s.port, timeout=s.timeout, profile=s.profile)
        return lambda: _DeviceFile(s.device, profile=s.profile)

    def _open(self) -> Escpos:
        p = self._connect()
        try:
            p.open()
            device = p.device
            if isinstance(device, serial.Serial):
                device.write_timeout = self.settings.timeout
                device.reset_input_buffer()
            elif isinstance(device, socket.socket) and device.family in (socket.AF_INET, socket.AF_INET6):
                # python-escpos leaves Nagle on: a job's last small write would wait
                # for the printer's ACK of the one before (~40 ms with delayed ACKs).
                device.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except Exception as exc:
            self._close(p)
            raise _mapped(exc, sent=False) from exc
        return p

    @staticmethod
    def _close(p: Escpos) -> None:
        try:
            p.close()
        except Exception:  # closing a vanished device
            log.debug("closing the printer failed", exc_info=True)
        p.device = False  # also stops __del__ from closing again

    def _query(self, p: Escpos, *, sent: bool = False) -> PrinterStatus:
        """DLE EOT 1, 2 and 4; stop asking after the first silence."""
        replies: list[bytes | None] = []
        for ask in (st.ASK_PRINTER, st.ASK_OFFLINE_CAUSE, st.ASK_PAPER):
            reply = self._ask(p, ask, sent=sent)
            replies.append(reply)
            if st.status_byte(reply) is None:
                break
        replies += [None] * (3 - len(replies))
        return st.decode(*replies)

    def _ask(self, p: Escpos, ask: bytes, *, sent: bool) -> bytes | None:
        try:
            reply = p.query_status(ask)
        except NotImplementedError:
            return None
        except (TimeoutError, socket.timeout):
            return None
        except Exception as exc:
            if _is_usb_timeout(exc):
                return None
            raise _mapped(exc, sent=sent) from exc
        if self.settings.kind == "network" and reply == b"":
            raise PrinterUnplugged(MSG_UNPLUGGED + (MSG_PARTIAL if sent else ""),
                                   may_have_printed=sent)
        return reply


def _flush(p: Escpos) -> None:
    device = p.device
    if isinstance(device, serial.Serial):
        device.flush()


def _is_usb_timeout(exc: BaseException) -> bool:
    return type(exc).__module__.startswith("usb") and (
        type(exc).__name__ == "USBTimeoutError" or getattr(exc, "errno", None) == errno.ETIMEDOUT)


def _mapped(exc: BaseException, *, sent: bool) -> PrinterError:
    """The port's error for an exception from python-escpos, pyserial, sockets or pyusb."""
    if isinstance(exc, PrinterError):
        return exc
    tail = MSG_PARTIAL if sent else ""
    cause: BaseException = exc
    if isinstance(exc, DeviceNotFoundError) and exc.__context__ is not None:
        cause = exc.__context__
    if isinstance(cause, (TimeoutError, socket.timeout, serial.SerialTimeoutException)) or _is_usb_timeout(cause):
        return PrinterTimeout(MSG_TIMEOUT + tail, may_have_printed=sent)
    code = getattr(cause, "errno", None)
    if code in (errno.EACCES, errno.EPERM, errno.EBUSY):
        return PrinterUnplugged(MSG_ACCESS, may_have_printed=sent)
    if isinstance(cause, (DeviceNotFoundError, OSError, serial.SerialException)) or type(
            cause).__module__.startswith("usb"):
        return PrinterUnplugged(MSG_UNPLUGGED + tail, may_have_printed=sent)
    raise exc
