"""The demo's line to the election office: a key for the dashboard, and the demo table
as its station's messenger (texts through the simulated modem)."""

from __future__ import annotations

from pathlib import Path

from valgkiosk import config as cfg
from valgkiosk.demo import prepare, write_kiosk_config
from valgkiosk.register.credentials import token_hash
from valgkiosk.register.model import Role
from valgkiosk.register.store import open_store


def test_the_demo_has_an_office_key_and_a_messenger(tmp_path: Path) -> None:
    demo = prepare(tmp_path, voters=200)
    key = tmp_path / "valgstyret.key"
    assert key.stat().st_mode & 0o077 == 0
    store = open_store(demo.db_url)
    try:
        kiosk = store.kiosk_for(token_hash(key.read_text().strip()))
    finally:
        store.close()
    assert kiosk is not None and kiosk.role is Role.ADMIN
    loaded = cfg.load(write_kiosk_config(demo, "http://127.0.0.1:8470"))
    assert loaded.office.messenger_table == loaded.station.bord and loaded.office.sms_numbers


def test_the_demo_kiosk_reports_and_is_the_messenger(tmp_path: Path) -> None:
    import asyncio

    from valgkiosk import bootstrap

    demo = prepare(tmp_path, voters=200)
    path = write_kiosk_config(demo, "http://127.0.0.1:8470")
    app = bootstrap.build_app(cfg.load(path), sim=True, base=tmp_path)
    try:
        assert len(app.shell.background) == 2  # the status reporter and the SMS sender
        assert app.sms_sender is not None and app.sms_sender.settings.numbers == ("+4799999999",)
        assert type(app.sms_modem).__name__ == "SimModem"
        assert app.shell.office_note() == ""  # nothing to say while all is well
    finally:
        asyncio.run(app.shell.register.aclose())
