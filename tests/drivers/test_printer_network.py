"""The network backend: python-escpos's socket with Nagle's algorithm turned off."""

from __future__ import annotations

import socket

import pytest

from valgkiosk.drivers.printer import EscposPrinter, PrinterSettings
from valgkiosk.drivers.printer.emulator import EmulatedPrinter, TcpPrinter

pytestmark = pytest.mark.timeout(10)


def test_every_network_connection_sends_at_once() -> None:
    """With Nagle on, a job's last small write waits for the ACK of the one before."""
    device = EmulatedPrinter()
    server = TcpPrinter(device)
    try:
        printer = EscposPrinter(PrinterSettings("network", host="127.0.0.1", port=server.port, timeout=0.5))
        for _ in range(2):  # a fresh connection each time, each set up the same way
            p = printer._open()
            try:
                assert isinstance(p.device, socket.socket)
                assert p.device.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
            finally:
                printer._close(p)
        assert printer.status().online is True
    finally:
        server.close()
