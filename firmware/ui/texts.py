"""What the clerk reads: every outcome in the procedure's words (Norwegian bokmål).

Pure functions from the core's state to words, a tone (colour) and a symbol, so that
no outcome relies on colour alone. Times are on the people's clock (valgkiosk.core.peopletime).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from valgkiosk.core import peopletime
from valgkiosk.core.checkoff import Outcome, Phase, State
from valgkiosk.ports.register import CheckoffRecord, Misregistration, Voter


LOOKING_UP = "Slår opp i manntallet …"

OK, BAD, WARN = "ok", "bad", "warn"
SYMBOL = {OK: "✔", BAD: "✖", WARN: "!"}

CHAIR_SPECIAL = "Henvis velgeren til stemmestyrets leder for særskilt stemmegivning."
NO_BALLOT = "Stemmeseddelen skal ikke i urnen."
SAMI = ("Står også i Sametingets valgmanntall: kan også stemme ved sametingsvalget, "
        "ved stemmestyrets leders bord.")  # fmt: skip
STAMP = "Stemple stemmeseddelen."


def sametingsvalg(year: int) -> bool:
    """Whether the Sámi parliament is elected this year: with the stortingsvalg (2025, 2029, …),
    never with a kommunestyre- og fylkestingsvalg."""
    return year % 4 == 1


def sami_note(voter: Voter | None, year: int) -> str:
    """The note for a voter in the Sámi electoral register, in a year it applies; else ""."""
    return SAMI if voter is not None and voter.sami and sametingsvalg(year) else ""


@dataclass(frozen=True, slots=True)
class View:
    """One outcome as shown: tone (ok/bad/warn), symbol, headline, what to do, details."""

    tone: str
    title: str
    todo: str
    details: tuple[str, ...] = ()

    @property
    def symbol(self) -> str:
        return SYMBOL[self.tone]


def clock_time(at: datetime) -> str:
    """``kl. 08.12`` on the people's clock (valgkiosk.core.peopletime)."""
    return peopletime.clock(at)


def day_and_time(at: datetime) -> str:
    """``08.09.2025 kl. 08.12`` on the people's clock."""
    return peopletime.day_and_clock(at)


def where(record: CheckoffRecord) -> str:
    place = record.krets_navn or (f"krets {record.krets}" if record.krets else "ukjent valglokale")
    return f"{place}, bord {record.bord}" if record.bord else place


def misregistration_line(m: Misregistration) -> str:
    who = f" av {m.reported_by}" if m.reported_by else ""
    return (f"Merk: denne avkrysningen er meldt som feilregistrering ({day_and_time(m.reported_at)}{who}). "
            "Lederen trenger dette for den særskilte stemmegivningen.")  # fmt: skip


def outcome_view(s: State) -> View:
    """The words for the outcome in ``s`` (phase OUTCOME)."""
    o = s.outcome
    status = s.status
    voter = status.voter if status else None
    record = status.checkoff if status else None
    note = sami_note(voter, s.settings.election_year)
    sami = (note,) if note else ()
    if o is Outcome.CHECKED_OFF:
        return View(OK, "KRYSSET AV", f"{STAMP} Velgeren legger stemmeseddelen i urnen.", sami)
    if o is Outcome.ALREADY_VOTED:
        details: list[str] = []
        if record is not None:
            details.append(f"Krysset av {day_and_time(record.checked_off_at)} i {where(record)}.")
            if record.misregistration is not None:
                details.append(misregistration_line(record.misregistration))
        return View(BAD, "HAR STEMT FØR", f"{NO_BALLOT} {CHAIR_SPECIAL}", tuple(details))
    if o is Outcome.NOT_IN_REGISTER:
        return View(BAD, "IKKE I MANNTALLET", f"{NO_BALLOT} {CHAIR_SPECIAL}",
                    ("Sjekk legitimasjonen og valgkortet, eller søk opp velgeren (F2).",))  # fmt: skip
    if o is Outcome.OTHER_STATION:
        place = voter.krets_navn if voter and voter.krets_navn else "et annet valglokale"
        return View(WARN, "ANNET VALGLOKALE",
                    f"Velgeren står i manntallet i {place} og skal stemme der. {NO_BALLOT}",
                    ("Er velgeren uenig eller kan ikke gå dit: henvis til stemmestyrets leder.", *sami))  # fmt: skip
    if o is Outcome.OTHER_MUNICIPALITY:
        return View(BAD, "ANNEN KOMMUNE", f"Velgeren står i manntallet i en annen kommune. {NO_BALLOT} {CHAIR_SPECIAL}")
    if o is Outcome.INVALID_BARCODE:
        return View(WARN, "UGYLDIG ELLER ULESELIG STREKKODE",
                    "Skann valgkortet på nytt. Går det ikke: søk opp velgeren uten valgkort (F2).",
                    (s.problem,) if s.problem else ())  # fmt: skip
    if o is Outcome.OTHER_ELECTION:
        return View(WARN, "VALGKORT FRA ET ANNET VALG",
                    "Valgkortet gjelder ikke dette valget. Søk opp velgeren uten valgkort (F2).")  # fmt: skip
    if o is Outcome.LOOKUP_FAILED:
        return View(WARN, "MANNTALLET SVARER IKKE",
                    "Ingen er krysset av. Skann på nytt om litt. Varsle stemmestyrets leder hvis det fortsetter: "
                    "lederen avgjør om beredskapsrutinen skal tas i bruk.",
                    (s.problem,) if s.problem else ())  # fmt: skip
    if o is Outcome.CHECKOFF_REFUSED:
        return View(BAD, "AVKRYSNINGEN BLE AVVIST",
                    "Velgeren er ikke krysset av. Ikke stemple. Varsle stemmestyrets leder.",
                    (s.problem,) if s.problem else ())  # fmt: skip
    if o is Outcome.MISREGISTRATION_REPORTED:
        m = s.misregistration
        line = (f"Meldt {day_and_time(m.reported_at)} av {m.reported_by}.",) if m else ()
        return View(WARN, "FEILREGISTRERING MELDT",
                    "Varsle stemmestyrets leder straks, så det føres i loggen.", line)  # fmt: skip
    if o is Outcome.MISREGISTRATION_FAILED:
        return View(BAD, "FEILREGISTRERINGEN BLE IKKE MELDT",
                    "Prøv igjen (F4), og varsle stemmestyrets leder.",
                    (s.problem,) if s.problem else ())  # fmt: skip
    raise ValueError(f"no outcome to show in {s.phase}")


def uncertain_view(s: State) -> View:
    """The check-off screen while the answer is awaited or was lost."""
    if s.attempts == 0:
        return View(WARN, "KRYSSER AV …", "Vent på svar fra manntallet. Ikke stemple ennå.")
    reason = s.failure.message if s.failure else "Manntallet har ikke svart."
    asking = "Spør manntallet igjen nå" if s.phase is Phase.CHECKING_OFF else "Spør manntallet igjen om litt"
    return View(WARN, "AVKRYSNINGEN ER IKKE BEKREFTET",
                "Ikke stemple ennå. Velgeren venter ved bordet. Varsle stemmestyrets leder hvis det varer.",
                (reason, f"{asking} (forsøk {s.attempts + 1}). Det blir aldri krysset av to ganger.",
                 "Esc går videre: kiosken spør da manntallet i bakgrunnen og sier fra når svaret kommer."))  # fmt: skip


def voter_line(v: Voter) -> str:
    from valgkiosk.core.checkoff import birth_date_text

    return f"{v.navn}  ·  født {birth_date_text(v.fodselsdato)}"


SCANNER_GONE = "SKANNEREN ER FRAKOBLET – sjekk ledningen."
SCANNER_GONE_SEARCH = " Søk opp velgeren uten valgkort med F2 så lenge."


def scanner_banner(search_offered: bool) -> str:
    """The banner while the scanner is unplugged (the search only while the register answers)."""
    return SCANNER_GONE + (SCANNER_GONE_SEARCH if search_offered else "")


def unresolved_line(count: int, *, in_routine: bool = False) -> str:
    """The line every screen shows while check-offs the clerk left are still unanswered. In
    the emergency routine that voter may vote with an orange envelope (the routine screen
    says so at the scan, and the closing report flags the envelope), so it does not say
    "do not stamp" there."""
    what = "1 avkrysning" if count == 1 else f"{count} avkrysninger"
    if in_routine:
        return (f"! IKKE BEKREFTET: {what} venter fortsatt på svar fra manntallet; kiosken spør igjen av "
                "seg selv. Den velgeren stemmer i beredskapsrutinen.")
    return (f"! IKKE BEKREFTET: {what} venter fortsatt på svar fra manntallet. Ikke stemple for "
            "den velgeren; kiosken spør igjen av seg selv, og det blir aldri krysset av to ganger.")
