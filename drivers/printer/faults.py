"""The clerk's messages for printer faults, and turning a status into the fault it means."""

from __future__ import annotations

from valgkiosk.ports.printer import (
    Paper,
    PrinterCoverOpen,
    PrinterOffline,
    PrinterOutOfPaper,
    PrinterStatus,
)

MSG_OUT = "Skriveren er tom for papir. Legg i en ny rull og skriv ut på nytt."
MSG_COVER = "Dekselet på skriveren er åpent. Lukk det og skriv ut på nytt."
MSG_OFFLINE = ("Skriveren er ikke klar (offline). Se på lampene, sjekk papiret og "
               "skriv ut på nytt.")
MSG_TIMEOUT = ("Skriveren svarer ikke. Slå den av og på, vent til den er klar og "
               "skriv ut på nytt.")
MSG_UNPLUGGED = ("Finner ikke skriveren. Sjekk at kabelen sitter og at skriveren er "
                 "slått på, og skriv ut på nytt.")
MSG_ACCESS = "Kiosken får ikke tilgang til skriveren. Kontakt IKT-ansvarlig."
MSG_PARTIAL = (" Noe kan allerede være skrevet ut: sjekk kvitteringen før du skriver "
               "ut på nytt.")


def raise_for(status: PrinterStatus, *, sent: bool) -> None:
    """Raise the fault ``status`` shows (cover, then paper, then offline), if any.
    ``sent`` says whether the job's bytes had already gone to the printer."""
    tail = MSG_PARTIAL if sent else ""
    if status.cover_open:
        raise PrinterCoverOpen(MSG_COVER + tail, may_have_printed=sent)
    if status.paper is Paper.OUT:
        raise PrinterOutOfPaper(MSG_OUT + tail, may_have_printed=sent)
    if status.online is False:
        raise PrinterOffline(MSG_OFFLINE + tail, may_have_printed=sent)
