"""The self-test screen: a small Textual app of its own, run by ``valgkiosk selftest``.

It runs :data:`valgkiosk.selftest.CHECKS` in a worker, shows each result as a row (tone,
symbol and words, as on the caretaker's screen), and is the operator the checks talk
to: a prompt line for what to do now (scan a card, watch the lamps) and J/N answers.
When the checks are done it prints the summary and writes the loggbok entry, then waits
for Enter; the app's return code is the self-test's exit code. Locked down like the
kiosk: no command palette, the terminal's quit keys do nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from valgkiosk import selftest as st
from valgkiosk.service import ServiceNotifier

from . import status, texts
from .app import LOCKDOWN_BINDINGS
from .widgets import plain

log = logging.getLogger("valgkiosk.selftest")

TONE = {st.Verdict.PASSED: "-ok", st.Verdict.FAILED: "-bad", st.Verdict.SKIPPED: "-unknown"}
SYMBOL = {st.Verdict.PASSED: status.SYMBOL[texts.OK], st.Verdict.FAILED: status.SYMBOL[texts.BAD],
          st.Verdict.SKIPPED: "–"}  # fmt: skip
HINTS_RUNNING = "J = ja   N = nei"
HINTS_DONE = "Enter Avslutt"


class SelftestScreen(Screen[None]):
    """The checks' rows as they come, the prompt for the operator and the result."""

    def compose(self) -> ComposeResult:
        yield Static("SELVTEST FOR IKT-TEAMET", id="selftest-title", markup=False)
        yield Static(id="selftest-identity", markup=False)
        yield VerticalScroll(id="selftest-rows")
        yield Static(id="selftest-prompt", markup=False)
        yield Static(id="selftest-result", markup=False)
        yield Static(HINTS_RUNNING, id="selftest-hints", markup=False)

    def add_result(self, result: st.CheckResult) -> None:
        """One more row: the check's name, its verdict in colour, symbol and word, the detail."""
        row = Horizontal(
            Static(result.title, classes="status-label", markup=False),
            Static(f"{SYMBOL[result.verdict]}  {st.VERDICT_NB[result.verdict]}", markup=False,
                   classes=f"status-state selftest-verdict {TONE[result.verdict]}"),  # fmt: skip
            Static(result.detail, classes="selftest-detail", markup=False),
            id=f"check-{result.key}",
            classes="selftest-row",
        )
        rows = self.query_one("#selftest-rows", VerticalScroll)
        rows.mount(row)
        rows.scroll_end(animate=False)

    def set_prompt(self, text: str) -> None:
        prompt = self.query_one("#selftest-prompt", Static)
        prompt.update(plain(text))
        prompt.set_class(bool(text), "-warn")

    def set_result(self, ok: bool, failed: int) -> None:
        result = self.query_one("#selftest-result", Static)
        if ok:
            result.update(plain("✔  BESTÅTT: alle påkrevde sjekker er i orden.", "bold"))
        else:
            result.update(plain(f"✖  IKKE BESTÅTT: {failed} sjekk{'er' if failed != 1 else ''} feilet. "
                                "Rett feilen og kjør selvtesten på nytt.", "bold"))  # fmt: skip
        result.set_class(ok, "-ok")
        result.set_class(not ok, "-bad")
        self.query_one("#selftest-hints", Static).update(HINTS_DONE)


class SelftestApp(App[int]):
    """The self-test. ``make_kit`` builds the kit with this app as its operator;
    ``sim_scan`` (sim mode) is what the S key does: a test scan on the simulated scanner."""

    CSS_PATH = "kiosk.tcss"
    ENABLE_COMMAND_PALETTE = False
    #: J/N answer a check's question, Enter (or F10) ends once the checks are done, S (sim
    #: mode) scans a test card; letters with Shift or Caps Lock too. Other keys do nothing.
    BINDINGS: ClassVar[list[BindingType]] = [
        *LOCKDOWN_BINDINGS,
        Binding("j,J", "answer(True)", show=False),
        Binding("n,N", "answer(False)", show=False),
        Binding("enter,f10", "finish", show=False),
        Binding("s,S", "sim_scan", show=False),
    ]
    TITLE = "Valgkiosk selvtest"

    def __init__(
        self,
        make_kit: Callable[[st.Operator], st.SelftestKit],
        *,
        checks: Sequence[st.Check] = st.CHECKS,
        sim_scan: Callable[[], None] | None = None,
        service: ServiceNotifier | None = None,
    ) -> None:
        super().__init__()
        # On the table (valgkiosk.devicetest, in the kiosk's own unit) systemd waits for
        # READY and watches the loop as it does the kiosk's; elsewhere these do nothing.
        self.service = service or ServiceNotifier()
        self.theme = "ansi-dark"
        self.kit = make_kit(self)
        self.checks = checks
        self.sim_scan = sim_scan
        self.results: list[st.CheckResult] = []
        self.done = False
        self.code = 1
        self._answer: asyncio.Future[bool] | None = None
        self._screen = SelftestScreen()

    async def on_mount(self) -> None:
        await self.push_screen(self._screen)
        self._screen.query_one("#selftest-identity", Static).update(self._identity())
        self.service.ready("selvtest")
        if self.service.watchdog_interval is not None:
            self.set_interval(self.service.watchdog_interval, self.service.alive)
        self.run_worker(self._run(), group="selftest", exit_on_error=False)

    def _identity(self) -> str:
        config = self.kit.config
        where = "Konfigurasjonen kan ikke leses." if config is None else (
            f"Kommune {config.station.kommune}, krets {config.station.krets}, bord {config.station.bord}")
        return f"{where}   Programvare: {self.kit.image_version}"

    async def _run(self) -> None:
        try:
            self.results = await st.run_checks(self.kit, self.checks, self._screen.add_result)
            for extra in await st.finish(self.kit, self.results):
                self.results.append(extra)
                self._screen.add_result(extra)
        except Exception:  # noqa: BLE001 - a bug must end as a failed self-test, not a traceback
            log.exception("the self-test failed")
            crash = st.CheckResult("crash", "Selvtesten", st.Verdict.FAILED, "Uventet feil i selvtesten (se loggen).")
            self.results.append(crash)
            self._screen.add_result(crash)
        self.code = st.exit_code(self.results)
        self.done = True
        self._screen.set_prompt("")
        self._screen.set_result(self.code == 0, sum(r.failed for r in self.results))

    # -- the operator ---------------------------------------------------------------------
    def show(self, prompt: str) -> None:
        """What the operator should do now ("" clears)."""
        self._screen.set_prompt(prompt)

    async def confirm(self, question: str) -> bool:
        """Wait for J or N."""
        self._answer = asyncio.get_running_loop().create_future()
        self.show(question)
        try:
            return await self._answer
        finally:
            self._answer = None
            self.show("")

    def action_answer(self, yes: bool) -> None:
        """J or N: the answer to the question on screen (nothing without one)."""
        if self._answer is not None and not self._answer.done():
            self._answer.set_result(yes)

    def action_finish(self) -> None:
        """Enter once the checks are done: the app ends with the self-test's exit code."""
        if self.done:
            self.exit(self.code, return_code=self.code)

    def action_sim_scan(self) -> None:
        """S in sim mode: a test scan on the simulated scanner."""
        if self.sim_scan is not None:
            self.sim_scan()

    def action_noop(self) -> None:
        """The locked keys end here."""

    async def on_unmount(self) -> None:
        await st.close(self.kit)
