"""Decoding the printer's real-time status replies (DLE EOT n), without I/O.

Every reply byte to DLE EOT has bits 1 and 4 set and bits 0 and 7 clear; a byte that
does not is not a status reply and counts as no reply. No reply is "unknown", never
"fine".
"""

from __future__ import annotations

from valgkiosk.ports.printer import Paper, PrinterStatus

#: DLE EOT n: printer status, offline cause, error cause, roll paper sensor.
ASK_PRINTER = b"\x10\x04\x01"
ASK_OFFLINE_CAUSE = b"\x10\x04\x02"
ASK_PAPER = b"\x10\x04\x04"

READY = "Skriveren er klar."
NEAR_END = "Papirrullen er snart tom: ha en ny rull klar."
OUT = "Skriveren er tom for papir: legg i en ny rull."
COVER = "Dekselet på skriveren er åpent: lukk det."
OFFLINE = "Skriveren er ikke klar (offline): se på lampene på skriveren."
NO_REPLY = "Skriveren svarer ikke på statusspørsmål: status ukjent."
NO_READBACK = "Tilkoblingen kan ikke lese status fra skriveren: status ukjent."
UNPLUGGED = "Finner ikke skriveren: sjekk kabelen og at den er slått på."


def status_byte(reply: bytes | None) -> int | None:
    """The last well-formed status byte in ``reply``, or None."""
    for byte in reversed(reply or b""):
        if byte & 0x93 == 0x12:
            return byte
    return None


def decode(printer: bytes | None, offline_cause: bytes | None, paper: bytes | None) -> PrinterStatus:
    """The status from the replies to DLE EOT 1, 2 and 4 (None or b"" when silent)."""
    p, c, s = status_byte(printer), status_byte(offline_cause), status_byte(paper)
    if p is None:
        return PrinterStatus(online=None, paper=Paper.UNKNOWN, cover_open=None, detail=NO_REPLY)
    online = not p & 0x08
    cover = None if c is None else bool(c & 0x04)
    if s is None:
        sheet = Paper.OUT if c is not None and c & 0x20 else Paper.UNKNOWN
    elif s & 0x60:
        sheet = Paper.OUT
    elif s & 0x0C:
        sheet = Paper.NEAR_END
    else:
        sheet = Paper.OK
    if c is not None and c & 0x20:
        sheet = Paper.OUT
    if cover:
        detail = COVER
    elif sheet is Paper.OUT:
        detail = OUT
    elif not online:
        detail = OFFLINE
    elif sheet is Paper.NEAR_END:
        detail = NEAR_END
    elif sheet is Paper.UNKNOWN:
        detail = READY + " Papirstatus ukjent."
    else:
        detail = READY
    return PrinterStatus(online=online, paper=sheet, cover_open=cover, detail=detail)
