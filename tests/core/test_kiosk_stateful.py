"""Exploring the whole kiosk core (valgkiosk.core.kiosk.step, the real one) with hypothesis'
stateful testing: scans, the register's answers in any order, lost answers, Esc, F5, F6,
F11, outages starting and ending, the routine started and ended, ticks. From every state
it reaches, the properties of the bad day hold:

- once an outage is declared, the chair's F5 opens the PIN (unless it is already up);
- a check-off the clerk confirmed is never dropped: until the register answers it, it is
  the one on screen or one of the unresolved ones asked again with the same request id;
- Esc leaves every phase without losing anything confirmed (counts, votes, unresolved);
- no voter's data stays in the state once the flow is back at idle;
- a confirm that times out says IKKE KRYSSET AV;
- every state has a screen.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from valgkiosk.core import checkoff as co
from valgkiosk.core import emergency as em
from valgkiosk.core import kiosk as k
from valgkiosk.core import manntallsnummer as mnr
from valgkiosk.core.outage import Layer
from valgkiosk.ports.register import CheckoffRecord, SearchQuery, SearchResult, Verdict, Voter, VoterStatus

YEAR = 2025
SETTINGS = co.Settings(election_year=YEAR, timings=co.Timings(personal_data=15, confirm=60, retry_interval=2))
NUMBERS = [mnr.make(n, YEAR).digits for n in (11, 12, 13)]
T0 = datetime(2025, 9, 8, 9, 0, tzinfo=timezone.utc)


def voter(number: str) -> Voter:
    return Voter(number, "Kari Prøvesen", date(1980, 4, 1), "0301", "0101", "Prøveskolen")


class Kiosk(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.s = k.initial_state(SETTINGS)
        self.now = 0.0
        self.ids = 0
        self.open: set[str] = set()  # confirmed check-offs the register has not answered yet
        self.effects: list[object] = []

    # -- helpers ----------------------------------------------------------------------------
    def go(self, event: k.Event) -> list[object]:
        self.s, effects = k.step(self.s, event)
        self.effects = list(effects)
        for effect in effects:
            if isinstance(effect, co.AskCheckoff):
                assert effect.request_id in self.open, "a check-off is only ever asked with its own id"
        return self.effects

    def flow(self, event: co.Event) -> list[object]:
        return self.go(k.Flow(event))

    @property
    def phase(self) -> co.Phase:
        return self.s.checkoff.phase

    # -- the clerk ----------------------------------------------------------------------------
    @rule(i=st.integers(0, 2), garbage=st.booleans())
    def scan(self, i: int, garbage: bool) -> None:
        self.now += 1.5
        self.flow(co.Scanned("12345" if garbage else NUMBERS[i], self.now))

    @rule()
    def confirm(self) -> None:
        if co.accepts(self.s.checkoff, co.Confirm) and self.s.overlay is k.Overlay.NONE:
            self.ids += 1
            rid = f"rid-{self.ids}"
            self.open.add(rid)
            self.flow(co.Confirm(rid, self.now))
            if self.phase is not co.Phase.CHECKING_OFF:
                self.open.discard(rid)  # not taken (a key under an overlay)

    @rule()
    def search(self) -> None:
        answers, before = self.s.register_answers, self.phase
        self.flow(co.StartSearch(self.now))
        if not answers:
            assert self.phase is before, "the search is offered only while the register answers"
        elif self.phase is co.Phase.SEARCH:
                self.flow(co.SubmitSearch(SearchQuery(navn="Kari", fodselsdato=date(1980, 4, 1)), self.now))

    @rule()
    def esc(self) -> None:
        count, votes, unresolved = self.s.checkoff.count_today, self.s.station.votes, set(self.open)
        before = self.s
        self.go(k.Back(self.now))
        assert self.s.checkoff.count_today == count and self.s.station.votes == votes
        assert set(self.open) == unresolved
        if before.overlay is k.Overlay.NONE and before.checkoff.phase not in (co.Phase.IDLE, co.Phase.CHOOSING_VALGKORT):
            assert self.phase is co.Phase.IDLE, f"Esc left {before.checkoff.phase}"

    @rule()
    def f6(self) -> None:
        self.go(k.OpenCaretaker(self.now))

    @rule()
    def f5(self) -> None:
        before = self.s
        self.go(k.OpenChair(k.Overlay.PIN, self.now))
        if before.outage:
            assert self.s.overlay is k.Overlay.PIN, "during an outage F5 always opens the PIN"
            assert self.phase is co.Phase.IDLE and not k.shows_voter(self.s)

    @rule()
    def f11(self) -> None:
        self.go(k.OpenChair(k.Overlay.LOG, self.now))

    @rule(ok=st.booleans())
    def chair_types_the_pin(self, ok: bool) -> None:
        if self.s.overlay is not k.Overlay.PIN:
            return
        if ok:  # the shell changed the station durably, then answers
            station = self.s.station
            if station.emergency:
                station = em.apply(station, "emergency_end", {}, T0)
            else:
                station = em.apply(station, "emergency_start", {}, T0)
            self.go(k.StationUpdated(station))
        self.go(k.PinAnswered(ok, "" if ok else "Feil PIN-kode."))

    @rule()
    def routine_steps(self) -> None:
        self.go(k.WalkWithoutValgkort())
        self.go(k.ManualValgkortTyped("Ola", date(1980, 1, 1), "Storgata 1"))
        for _ in range(5):
            effects = self.go(k.WalkNext())
            for effect in effects:
                if isinstance(effect, k.RecordVote):
                    station = em.apply(self.s.station, "emergency_vote",
                                       {"vote_id": f"v{len(self.s.station.votes)}", "manntallsnummer": None,
                                        "manual_valgkort": True}, T0)  # fmt: skip
                    self.go(k.StationUpdated(station))
                    self.go(k.VoteAnswered(True, "Talt."))

    # -- the register ---------------------------------------------------------------------------
    @rule(ready=st.booleans())
    def lookup_answers(self, ready: bool) -> None:
        if self.phase is co.Phase.LOOKING_UP:
            number = self.s.checkoff.manntallsnummer
            assert number is not None
            status = VoterStatus(Verdict.READY if ready else Verdict.ALREADY_VOTED, voter(number))
            self.flow(co.LookupAnswered(self.s.checkoff.ticket, status, self.now))

    @rule()
    def search_answers(self) -> None:
        if self.phase is co.Phase.SEARCHING:
            self.flow(co.SearchAnswered(self.s.checkoff.ticket, SearchResult((voter(NUMBERS[0]),)), self.now))

    def _in_flight(self) -> list[tuple[str, str]]:
        c = self.s.checkoff
        out = [(u.request_id, u.manntallsnummer) for u in c.unresolved if u.retry_at is None]
        if c.phase is co.Phase.CHECKING_OFF and c.request_id and c.manntallsnummer:
            out.append((c.request_id, c.manntallsnummer))
        return out

    @rule(data=st.data(), answered=st.booleans())
    def checkoff_answer(self, data: st.DataObject, answered: bool) -> None:
        flying = self._in_flight()
        if not flying:
            return
        rid, number = data.draw(st.sampled_from(flying))
        if answered:
            status = VoterStatus(Verdict.CHECKED_OFF, voter(number), CheckoffRecord(T0, "0101", "Prøveskolen", 1))
            count = self.s.checkoff.count_today
            self.flow(co.CheckoffAnswered(rid, status, self.now))
            self.open.discard(rid)
            assert count is None or self.s.checkoff.count_today == count + 1
        else:
            self.flow(co.CheckoffFailed(rid, co.Failure("timeout", "Manntallet svarte ikke i tide."), self.now))

    # -- time and the network -------------------------------------------------------------------
    @rule(seconds=st.sampled_from([0.5, 2.0, 16.0, 61.0]))
    def time_passes(self, seconds: float) -> None:
        confirming = self.phase is co.Phase.CONFIRMING and self.s.checkoff.deadline is not None
        deadline = self.s.checkoff.deadline
        self.now += seconds
        effects = self.flow(co.Tick(self.now))
        if confirming and deadline is not None and self.now >= deadline:
            assert co.Notice(co.CONFIRM_TIMED_OUT) in effects
            assert "IKKE KRYSSET AV" in co.CONFIRM_TIMED_OUT

    @precondition(lambda self: self.s.station.reachable)
    @rule()
    def outage_starts(self) -> None:
        station = em.apply(self.s.station, "outage_start", {"layer": Layer.TCP.name, "since": T0.isoformat()}, T0)
        self.go(k.StationUpdated(station))

    @precondition(lambda self: not self.s.station.reachable)
    @rule()
    def outage_ends(self) -> None:
        self.go(k.StationUpdated(em.apply(self.s.station, "outage_end", {"until": T0.isoformat()}, T0)))

    # -- what holds everywhere -------------------------------------------------------------------
    @invariant()
    def no_confirmed_checkoff_is_dropped(self) -> None:
        c = self.s.checkoff
        kept = {u.request_id for u in c.unresolved}
        if c.phase in (co.Phase.CHECKING_OFF, co.Phase.UNCERTAIN) and c.request_id:
            kept.add(c.request_id)
        assert self.open <= kept, f"dropped: {self.open - kept}"

    @invariant()
    def idle_holds_no_voter(self) -> None:
        c = self.s.checkoff
        if c.phase is co.Phase.IDLE:
            assert c.status is None and c.manntallsnummer is None and c.search_hits == () and c.request_id is None

    @invariant()
    def every_state_has_a_screen(self) -> None:
        screen = k.route(self.s)
        if self.s.overlay is k.Overlay.PIN:
            assert screen is k.Screen.PIN
        if screen in (k.Screen.PIN, k.Screen.LOG):
            assert not k.shows_voter(self.s)


TestKiosk = Kiosk.TestCase
TestKiosk.settings = settings(max_examples=200, stateful_step_count=40, deadline=None)
