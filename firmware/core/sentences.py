"""The loggbok in words: one Norwegian sentence per entry, as the chair would write it.

What a person reads of the loggbok — the chair's screen (F11), the log on paper and
``valgkiosk log show`` — is made here, and only here, from an entry's kind, time and
data: "Kl. 09.02 mistet kiosken kontakt med manntallet: ruteren svarer ikke (ruteren har
strøm, SIMULA-boksen har strøm, strømnettet er på)." No key names, no dicts, no ids, no
ISO stamps, no personal data (an emergency vote's manntallsnummer stays in the file);
times on the people's clock (:mod:`valgkiosk.core.peopletime`), durations as on F11.
``valgkiosk log show --json`` and ``export`` keep the machine form.

Each kind has one phrase function in :data:`PHRASES`, keyed by the kind strings the
loggbok writes (``valgkiosk.core.loggbok.KINDS_NB``), so that a kind without words fails
a test; the typed entries of the kiosk core can map onto the same keys. A phrase is the
sentence after its time, verb first as Norwegian puts it ("Kl. 09.02 *startet kiosken*").

Pure.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any, Protocol

from valgkiosk.core import peopletime
from valgkiosk.core.emergency import duration_nb
from valgkiosk.core.outage import DIAGNOSIS_NB, Layer

__all__ = ["PHRASES", "cause_nb", "outage_cause", "phrase", "power_nb", "sentence"]


class EntryLike(Protocol):
    """What a sentence reads of a loggbok entry (valgkiosk.core.loggbok.Entry fits)."""

    @property
    def kind(self) -> str: ...
    @property
    def at(self) -> str: ...
    @property
    def data(self) -> Mapping[str, Any]: ...


Data = Mapping[str, Any]


# -- the words for the parts ---------------------------------------------------------------


def cause_nb(layer: str | None, fallback: str = "") -> str:
    """An outage's cause in the routine's words: the first clause of the layer's diagnosis
    ("ruteren svarer ikke"), or ``fallback`` (an older entry's own words) when the layer
    is not one the watchdog names."""
    try:
        diagnosis = DIAGNOSIS_NB[Layer[str(layer)]]
    except KeyError:
        return fallback.strip().rstrip(".")
    first = diagnosis.split(":", 1)[0].strip().rstrip(".")
    return first[:1].lower() + first[1:]


#: Each sensed supply in words: (present, absent).
_SUPPLY_WORDS: dict[str, tuple[str, str]] = {
    "router": ("ruteren har strøm", "ruteren er uten strøm"),
    "simula": ("SIMULA-boksen har strøm", "SIMULA-boksen er uten strøm"),
    "mains": ("strømnettet er på", "strømnettet er borte (kiosken går på batteri)"),
}


def power_nb(power: Mapping[str, Any] | None) -> str:
    """The power sense lines at the moment, in words ("ruteren har strøm, …"); "" when
    nothing is sensed. Unknown (not fitted) supplies are left out."""
    if not isinstance(power, Mapping):
        return ""
    parts = []
    for source in ("router", "simula", "mains"):
        value = power.get(source)
        if value is True or value is False:
            parts.append(_SUPPLY_WORDS[source][0 if value else 1])
    return ", ".join(parts)


#: The supply a power entry is about: (subject as it starts the clause, noun).
_POWER_SUBJECT: dict[str, str] = {"router": "ruteren", "simula": "SIMULA-boksen", "mains": "kiosken"}

#: Why a manual valgkort was written, by the value the kiosk logs.
_VALGKORT_REASONS: dict[str, str] = {
    "emergency": "beredskapsrutinen",
    "no_valgkort": "velgeren hadde ikke valgkort",
    "special_vote": "særskilt stemmegivning",
    "sami": "sametingsvalget",
}

#: A printer fault, by the port's error kind.
_PRINTER_FAULTS: dict[str, str] = {
    "out_of_paper": "skriveren er tom for papir",
    "cover_open": "dekselet på skriveren er åpent",
    "offline": "skriveren er ikke klar",
    "timeout": "skriveren svarer ikke",
    "unplugged": "kiosken finner ikke skriveren",
    "interrupted": "utskriften ble avbrutt",
    "error": "feil i kiosken under utskrift",
}

#: A receipt, by its kind.
_RECEIPTS: dict[str, str] = {
    "manual_valgkort": "manuelt valgkort",
    "closing_report": "avslutningsrapport",
    "station_report": "avslutningsrapport for valglokalet",
    "log": "loggboken",
    "test_page": "testside",
    "selftest": "selvtestens oppsummering",
}


def _count(n: Any, one: str, many: str) -> str:
    try:
        number = int(n)
    except (TypeError, ValueError):
        number = 0
    return f"{number} {one if number == 1 else many}"


def _time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


# -- one phrase per kind -------------------------------------------------------------------


def _start(d: Data) -> str:
    bord = d.get("bord")
    return f"startet kiosken ved bord {bord}" if bord else "startet kiosken"


def _stop(d: Data) -> str:
    return "stoppet kiosken"


def _recovered(d: Data) -> str:
    return ("startet kiosken igjen etter et brått stopp (strømbrudd); en føring som ikke var ferdig skrevet, "
            "ble lagt til side")


def outage_cause(d: Data) -> str:
    """An ``outage_start`` entry's cause with the power sense lines: "ruteren svarer ikke
    (ruteren har strøm, SIMULA-boksen har strøm, strømnettet er på)"; "" if unknown."""
    fallback = next((str(d[k]) for k in ("årsak", "lag", "cause") if isinstance(d.get(k), str) and d[k]), "")
    cause = cause_nb(d.get("layer"), fallback)
    power = power_nb(d.get("power"))
    if cause and power:
        return f"{cause} ({power})"
    return cause or power


def _outage_start(d: Data) -> str:
    cause = outage_cause(d)
    return "mistet kiosken kontakt med manntallet" + (f": {cause}" if cause else "")


def _outage_end(d: Data) -> str:
    text = "fikk kiosken kontakt med manntallet igjen"
    seconds = d.get("duration_s")
    if seconds is None:
        since, until = _time(d.get("since")), _time(d.get("until"))
        if since is not None and until is not None:
            seconds = (until - since).total_seconds()
    if isinstance(seconds, (int, float)):
        text += f" etter {duration_nb(float(seconds))}"
    return text


def _alarm_acknowledged(d: Data) -> str:
    return "ble alarmen kvittert"


def _pin_refused(d: Data) -> str:
    attempt = d.get("attempt")
    return ("ble det tastet feil PIN-kode for stemmestyrets leder"
            + (f" ({attempt}. forsøk på rad)" if isinstance(attempt, int) else ""))  # fmt: skip


def _emergency_start(d: Data) -> str:
    text = "startet stemmestyrets leder beredskapsrutinen ved bordet"
    if d.get("reachable") is True:
        text += ", mens manntallet kunne nås"
    return text


def _emergency_end(d: Data) -> str:
    text = "avsluttet stemmestyrets leder beredskapsrutinen"
    if "votes" in d:
        text += f" med {_count(d.get('votes'), 'beredskapsstemme', 'beredskapsstemmer')} ved bordet"
    pending = d.get("pending")
    if isinstance(pending, int) and pending:
        text += f"; {pending} venter på å bli overført til manntallet"
    return text


def _emergency_vote(d: Data) -> str:
    how = "med manuelt valgkort" if d.get("manual_valgkort") else "med valgkort"
    text = f"ble en beredskapsstemme ({how}) lagt i beredskapsurnen"
    earlier = _time(d.get("krysset_av_her"))
    if earlier is not None:
        text += (f"; velgeren var krysset av elektronisk ved dette bordet {peopletime.clock(earlier)}: "
                 "legg konvolutten til side for valgstyret")
    return text


def _emergency_upload(d: Data) -> str:
    sent = len(d.get("vote_ids") or ())
    accepted, repeated = d.get("accepted", 0), d.get("repeated", 0)
    text = f"ble {_count(sent, 'beredskapsstemme', 'beredskapsstemmer')} overført til manntallet"
    if isinstance(repeated, int) and repeated:
        text += f" ({accepted} nye, {repeated} hadde manntallet fra før)"
    return text


def _manual_valgkort(d: Data) -> str:
    reason = _VALGKORT_REASONS.get(str(d.get("reason", d.get("årsak", ""))), "")
    text = "ble et manuelt valgkort skrevet ut"
    if reason:
        text += f" ({reason})"
    if d.get("bekreftet_av_avkrysser"):
        text += "; avkrysseren bekreftet at det kom ut etter en feil på skriveren"
    return text


def _misregistration(d: Data) -> str:
    who = d.get("meldt_av")
    text = "ble en feilregistrering meldt til manntallet"
    if isinstance(who, str) and who:
        text += f" av {who[:1].lower() + who[1:]}"
    repeats = d.get("gjentatt")
    if isinstance(repeats, int) and repeats:
        text += f" (meldt {repeats + 1} ganger, ført én gang)"
    return text


def _scanner_fault(d: Data) -> str:
    if d.get("tilkoblet") is True:  # older loggbøker logged a reconnect under this kind
        return _scanner_connected(d)
    return "ble skanneren koblet fra eller sluttet å svare"


def _scanner_connected(d: Data) -> str:
    return "ble skanneren koblet til igjen"


def _printer_fault(d: Data) -> str:
    fault = _PRINTER_FAULTS.get(str(d.get("feil", "")), _PRINTER_FAULTS["error"])
    receipt = _RECEIPTS.get(str(d.get("utskrift", "")), "")
    text = f"stoppet en utskrift: {fault}"
    if receipt:
        text += f" ({receipt})"
    if d.get("kan_være_skrevet_ut"):
        text += "; noe kan allerede være skrevet ut"
    return text


def _power(d: Data) -> str:
    source = str(d.get("source", ""))
    subject = _POWER_SUBJECT.get(source, "en strømforsyning")
    present = d.get("present")
    supply = " fra strømnettet" if source == "mains" else ""
    if "previous" in d and d["previous"] is None:  # the first reading since the start
        return (f"hadde {subject} strøm{supply} ved oppstart" if present
                else f"var {subject} uten strøm{supply} ved oppstart")  # fmt: skip
    if present:
        return f"fikk {subject} strøm{supply} igjen"
    return f"mistet {subject} strømmen{supply}" + ("; kiosken går på batteri" if source == "mains" else "")


def _selftest(d: Data) -> str:
    if d.get("passed"):
        return "ble selvtesten kjørt og bestått"
    failed = d.get("failed") or ()
    return f"ble selvtesten kjørt og ikke bestått ({_count(len(failed), 'sjekk', 'sjekker')} feilet)"


def _voter_interrupted(d: Data) -> str:
    text = "var en velger i gang ved bordet da kiosken stoppet"
    where = d.get("fase")
    if where == "avkrysning":
        text += ("; avkrysningen var sendt, men ikke bekreftet: slå opp velgeren på nytt før stemmeseddelen "
                 "stemples")
    elif where == "beredskap":
        text += "; beredskapsstemmen ble ikke talt"
    else:
        text += "; velgeren ble ikke krysset av"
    return text


def _checkoff_unresolved(d: Data) -> str:
    return ("forlot avkryssingen et skjermbilde uten svar fra manntallet: kiosken spør manntallet igjen i "
            "bakgrunnen, og velgeren regnes ikke som krysset av før svaret kommer")


def _checkoff_resolved(d: Data) -> str:
    if d.get("utfall") == "checked_off":
        return "svarte manntallet på en avkrysning som var ubekreftet: velgeren ble krysset av"
    return "svarte manntallet på en avkrysning som var ubekreftet: velgeren ble IKKE krysset av"


def _power_shutdown(d: Data) -> str:
    charge = d.get("charge_percent")
    text = "var batteriet nesten tomt: kiosken lukket loggboken og slo seg av"
    if isinstance(charge, (int, float)):
        text += f" ({round(charge)} % igjen)"
    return text


_SMS_REASON = {"unreachable": "om bruddet mot manntallet", "back": "om at manntallet er tilbake",
               "mains": "om strømbruddet"}


def _sms_about(d: Data) -> str:
    return _SMS_REASON.get(str(d.get("reason", "")), "")


def _sms_sent(d: Data) -> str:
    return " ".join(p for p in ("ble en SMS", _sms_about(d), "sendt til valgorganisasjonen") if p)


def _sms_failed(d: Data) -> str:
    text = " ".join(p for p in ("gikk ikke en SMS", _sms_about(d), "til valgorganisasjonen") if p)
    return text + "; kiosken prøver igjen"


def _sms_given_up(d: Data) -> str:
    return " ".join(p for p in ("ga kiosken opp en SMS", _sms_about(d), "til valgorganisasjonen") if p)


def _sms_dropped(d: Data) -> str:
    text = " ".join(p for p in ("ble en SMS", _sms_about(d), "til valgorganisasjonen ikke sendt") if p)
    why = str(d.get("why") or "")
    return text + (f" ({why})" if why else "")


#: One phrase per loggbok kind (the kind strings of valgkiosk.core.loggbok.KINDS_NB).
PHRASES: dict[str, Callable[[Data], str]] = {
    "start": _start,
    "stop": _stop,
    "recovered": _recovered,
    "outage_start": _outage_start,
    "outage_end": _outage_end,
    "alarm_acknowledged": _alarm_acknowledged,
    "pin_refused": _pin_refused,
    "emergency_start": _emergency_start,
    "emergency_end": _emergency_end,
    "emergency_vote": _emergency_vote,
    "emergency_upload": _emergency_upload,
    "manual_valgkort": _manual_valgkort,
    "misregistration": _misregistration,
    "scanner_fault": _scanner_fault,
    "scanner_connected": _scanner_connected,
    "printer_fault": _printer_fault,
    "power": _power,
    "selftest": _selftest,
    "voter_interrupted": _voter_interrupted,
    "checkoff_unresolved": _checkoff_unresolved,
    "checkoff_resolved": _checkoff_resolved,
    "power_shutdown": _power_shutdown,
    "sms_sent": _sms_sent,
    "sms_failed": _sms_failed,
    "sms_given_up": _sms_given_up,
    "sms_dropped": _sms_dropped,
}


def phrase(kind: str, data: Data) -> str:
    """What happened, verb first, without the time ("mistet kiosken kontakt …")."""
    words = PHRASES.get(kind)
    if words is None:
        return "ble det ført en hendelse denne versjonen av kiosken ikke kjenner"
    try:
        return words(data)
    except Exception:  # noqa: BLE001 - a damaged entry still gets a sentence, never a traceback
        return "ble det ført en hendelse med opplysninger kiosken ikke kan lese"


def sentence(entry: EntryLike, today: date | None = None) -> str:
    """The entry as one sentence: "Kl. 09.02 startet kiosken ved bord 4." (with the date
    first, "08.09.2025 kl. 09.02 …", when it is not from ``today`` or no day is given)."""
    try:
        at = datetime.fromisoformat(entry.at)
    except ValueError:
        when = "Ukjent tid:"
    else:
        when = peopletime.stamp(at, today)
        when = when[:1].upper() + when[1:]
    text = phrase(entry.kind, entry.data)
    return f"{when} {text}."
