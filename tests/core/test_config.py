"""The station configuration: the shipped examples load; every mistake is refused with a
Norwegian sentence naming the file, the key and what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from valgkiosk import config as cfg

ROOT = Path(__file__).resolve().parents[2]
GOOD = """
[station]
kommune = "0301"
krets = "0101"
bord = 3

[election]
year = 2025

[register]
url = "https://register.example.no"
credential = "abcdefghijklmnopqrstuvwxyz"

[scanner]
kind = "evdev"
vendor = 0x05e0
product = 0x1200
"""


def test_the_example_parses() -> None:
    c = cfg.parse((ROOT / "config" / "station.example.toml").read_text(encoding="utf-8"), "station.example.toml")
    assert (c.station.kommune, c.station.krets, c.station.bord) == ("0301", "0101", 3)
    assert c.scanner.kind == "evdev" and c.scanner.vendor == 0x05E0 and c.scanner.layout == "no"
    assert c.register_.credential_file == "/etc/valgkiosk/credential"


def test_the_offline_sim_config_loads() -> None:
    c = cfg.load(ROOT / "config" / "sim-offline.toml")
    assert c.scanner.kind == "sim" and c.register_.url == "memory:"


def test_sim_config_loads_with_its_credential_file(tmp_path: Path) -> None:
    text = (ROOT / "config" / "sim.toml").read_text(encoding="utf-8")
    (tmp_path / "sim.toml").write_text(text, encoding="utf-8")
    (tmp_path / "demo-credential").write_text("s3cret-credential-value\n", encoding="utf-8")
    c = cfg.load(tmp_path / "sim.toml")
    assert c.credential_value(tmp_path) == "s3cret-credential-value"


def test_defaults_and_timings() -> None:
    c = cfg.parse(GOOD)
    t = c.timings.timings()
    assert (t.personal_data, t.confirm, t.duplicate_window, t.register_timeout, t.retry_interval) == (
        15.0, 60.0, 1.0, 3.0, 2.0)
    assert c.printer.kind == "none"


@pytest.mark.parametrize(
    ("change", "key", "words"),
    [
        (('bord = 3', 'bord = "3"'), "station.bord", "heltall"),
        (('bord = 3', 'bord = 0'), "station.bord", "minst 1"),
        (('kommune = "0301"', 'kommune = 301'), "station.kommune", "tekst"),
        (('krets = "0101"', 'krets = "101"'), "station.krets", "fire sifre"),
        (('year = 2025', 'year = 1999'), "election.year", "minst 2000"),
        (('url = "https://register.example.no"', 'url = "ftp://x"'), "register.url", "må begynne med https://"),
        (('year = 2025', 'year = 2025\ntime_zone = "Europe/Atlantis"'), "[election]", "ukjent tidssone"),
        (('kind = "evdev"', 'kind = "usb"'), "scanner.kind", "en av"),
        (('[scanner]', '[scanner]\nfarge = "blå"'), "scanner.farge", "ikke en kjent nøkkel"),
        (('[station]\n', ''), "station", "mangler"),
        (('vendor = 0x05e0\nproduct = 0x1200', ''), "[scanner]", "evdev-skanner trenger"),
        (('credential = "abcdefghijklmnopqrstuvwxyz"', ''), "[register]", "nøyaktig én"),
        (('[scanner]', '[timings]\nregister_timeout_seconds = 0\n[scanner]'), "timings.register_timeout_seconds",
         "minst 0.5"),
    ],
)
def test_mistakes_are_named(change: tuple[str, str], key: str, words: str) -> None:
    text = GOOD.replace(*change)
    assert text != GOOD
    with pytest.raises(cfg.ConfigError) as caught:
        cfg.parse(text, "/etc/valgkiosk/station.toml")
    problems = caught.value.problems
    assert any(key in p and words in p for p in problems), problems
    assert all(p.startswith("/etc/valgkiosk/station.toml: ") for p in problems)


def test_every_problem_is_reported_at_once() -> None:
    text = GOOD.replace('bord = 3', 'bord = "3"').replace('year = 2025', 'year = "2025"')
    with pytest.raises(cfg.ConfigError) as caught:
        cfg.parse(text, "x.toml")
    assert len(caught.value.problems) == 2


def test_not_toml() -> None:
    with pytest.raises(cfg.ConfigError) as caught:
        cfg.parse("[station\nbord = 3", "x.toml")
    assert "ikke gyldig TOML" in caught.value.problems[0]


@pytest.mark.parametrize(("make", "words"), [
    (lambda p: None, "ikke finnes"),
    (lambda p: p.write_text("", encoding="utf-8"), "tom fil"),
])
def test_credential_file_problems(tmp_path: Path, make, words: str) -> None:  # type: ignore[no-untyped-def]
    text = GOOD.replace('credential = "abcdefghijklmnopqrstuvwxyz"', 'credential_file = "cred"')
    (tmp_path / "station.toml").write_text(text, encoding="utf-8")
    make(tmp_path / "cred")
    with pytest.raises(cfg.ConfigError) as caught:
        cfg.load(tmp_path / "station.toml")
    assert "register.credential_file" in caught.value.problems[0] and words in caught.value.problems[0]


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(cfg.ConfigError) as caught:
        cfg.load(tmp_path / "nope.toml")
    assert caught.value.problems == [f"{tmp_path / 'nope.toml'}: filen finnes ikke."]


# -- the caretaker box and the modem -------------------------------------------------------

GPIO = """
[gpio]
stable_seconds = 0.25

[gpio.mains]
pin = 17
pull = "none"
active_high = true

[gpio.router]
pin = 27

[gpio.alarm_led]
pin = 13

[gpio.buzzer]
pin = 19
active_high = false
"""


def test_gpio_and_modem_are_absent_unless_configured() -> None:
    c = cfg.parse(GOOD)
    assert c.gpio is None and c.modem is None


def test_a_gpio_section_with_some_parts_not_fitted() -> None:
    g = cfg.parse(GOOD + GPIO).gpio
    assert g is not None and g.stable_seconds == 0.25
    assert g.mains is not None and (g.mains.pin, g.mains.pull, g.mains.active_high) == (17, "none", True)
    assert g.router is not None and (g.router.pin, g.router.pull, g.router.active_high) == (27, "up", False)
    assert g.simula is None and g.power_led is None and g.network_led is None
    assert g.buzzer is not None and (g.buzzer.pin, g.buzzer.active_high) == (19, False)
    assert g.alarm_led is not None and g.alarm_led.active_high is True


def test_the_example_documents_the_standard_wiring_and_a_modem() -> None:
    text = (ROOT / "config" / "station.example.toml").read_text(encoding="utf-8")
    assert cfg.parse(text).modem is None  # commented out: not every kiosk has one
    text = text.replace("# [modem]\n# device", "[modem]\ndevice").replace("# baudrate = 115200", "baudrate = 115200")
    c = cfg.parse(text, "station.example.toml")
    g = c.gpio
    assert g is not None and g.stable_seconds == 0.5
    pins = {name: getattr(g, name).pin for name in ("mains", "router", "simula", "power_led", "network_led",
                                                     "alarm_led", "buzzer")}  # fmt: skip
    assert pins == {"mains": 17, "router": 27, "simula": 22, "power_led": 5, "network_led": 6, "alarm_led": 13,
                    "buzzer": 19}  # fmt: skip
    assert c.modem is not None and c.modem.device.startswith("/dev/serial/by-id/") and c.modem.baudrate == 115200


def test_a_modem_section() -> None:
    m = cfg.parse(GOOD + '\n[modem]\ndevice = "/dev/ttyUSB2"\n').modem
    assert m is not None and (m.device, m.baudrate, m.timeout_seconds, m.poll_seconds) == (
        "/dev/ttyUSB2", 115200, 1.0, 5.0)


@pytest.mark.parametrize(
    ("change", "key", "words"),
    [
        (("pin = 17", "pin = 40"), "gpio.mains.pin", "høyst 27"),
        (("pin = 17", 'pin = "GPIO17"'), "gpio.mains.pin", "heltall"),
        (('pull = "none"', 'pull = "opp"'), "gpio.mains.pull", "en av"),
        (("active_high = true", 'active_high = "ja"'), "gpio.mains.active_high", "true eller false"),
        (("stable_seconds = 0.25", "stable_seconds = -1"), "gpio.stable_seconds", "minst 0"),
        (("[gpio.router]\npin = 27", "[gpio.router]\npin = 17"), "[gpio]", "«mains» og «router» bruker samme pinne"),
        (("[gpio.buzzer]", "[gpio.buzer]"), "gpio.buzer", "ikke en kjent nøkkel"),
        (("pin = 13", ""), "gpio.alarm_led.pin", "mangler"),
    ],
)
def test_gpio_mistakes_are_named(change: tuple[str, str], key: str, words: str) -> None:
    text = (GOOD + GPIO).replace(*change)
    assert text != GOOD + GPIO
    with pytest.raises(cfg.ConfigError) as caught:
        cfg.parse(text, "station.toml")
    assert any(key in p and words in p for p in caught.value.problems), caught.value.problems


@pytest.mark.parametrize(
    ("section", "key", "words"),
    [
        ("[modem]\nbaudrate = 9600\n", "modem.device", "mangler"),
        ('[modem]\ndevice = ""\n', "modem.device", "for kort"),
        ('[modem]\ndevice = "/dev/ttyUSB2"\npoll_seconds = 0.1\n', "modem.poll_seconds", "minst 1"),
    ],
)
def test_modem_mistakes_are_named(section: str, key: str, words: str) -> None:
    with pytest.raises(cfg.ConfigError) as caught:
        cfg.parse(GOOD + "\n" + section, "station.toml")
    assert any(key in p and words in p for p in caught.value.problems), caught.value.problems


def test_the_watchdog_and_emergency_sections() -> None:
    from valgkiosk.config import parse
    from valgkiosk.pin import hash_pin

    stored = hash_pin("1357")
    base = ('[station]\nkommune = "0301"\nkrets = "0101"\nbord = 2\n[election]\nyear = 2025\n'
            '[register]\nurl = "memory:"\n[scanner]\nkind = "sim"\n')
    config = parse(base + f'[network]\ninterface = "enp1s0"\nfail_after = 4\n[emergency]\nchair_pin_hash = "{stored}"\n')
    assert config.network.timings().fail_after == 4 and config.network.interface == "enp1s0"
    assert config.emergency.chair_pin_hash == stored
    with pytest.raises(cfg.ConfigError) as bad:
        parse(base + '[emergency]\nchair_pin_hash = "1357"\n', "station.toml")
    assert "chair_pin_hash" in str(bad.value) and "valgkiosk pin-hash" in str(bad.value)
    with pytest.raises(cfg.ConfigError) as bad:
        parse(base + '[network]\nfail_after = 0\n', "station.toml")
    assert "network.fail_after" in str(bad.value) and "minst 1" in str(bad.value)


# -- [printer] (issue 5) ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("section", "key", "words"),
    [
        ('kind = "lpt"', "printer.kind", "en av"),
        ('kind = "usb"\nvendor = 0x04b8', "[printer]", "USB-skriver trenger «vendor» og «product»"),
        ('kind = "serial"', "[printer]", "«serial» trenger «device»"),
        ('kind = "file"', "[printer]", "«file» trenger «device»"),
        ('kind = "network"', "[printer]", "nettverksskriver trenger «host»"),
        ('kind = "network"\nhost = "10.0.0.5"\nport = 0', "printer.port", "minst 1"),
        ('kind = "serial"\ndevice = "/dev/ttyUSB0"\nbaudrate = "9600"', "printer.baudrate", "heltall"),
        ('kind = "usb"\nvendor = 1\nproduct = 2\ntimeout = 0', "printer.timeout", "større enn 0"),
        ('kind = "usb"\nvendor = 1\nproduct = 2\ncolumns = 80', "printer.columns", "høyst 64"),
        ('kind = "usb"\nvendor = 1\nproduct = 2\ncheck_status = "ja"', "printer.check_status", "true eller false"),
        ('kind = "usb"\nvendor = 1\nproduct = 2\nqueue = "/tmp"', "printer.queue", "ikke en kjent nøkkel"),
    ],
)
def test_printer_mistakes_are_named(section: str, key: str, words: str) -> None:
    with pytest.raises(cfg.ConfigError) as caught:
        cfg.parse(GOOD + "\n[printer]\n" + section + "\n", "/etc/valgkiosk/station.toml")
    assert any(key in p and words in p for p in caught.value.problems), caught.value.problems


def test_printer_keys_reach_the_driver_settings() -> None:
    from valgkiosk.drivers.printer import PrinterSettings

    c = cfg.parse((ROOT / "config" / "station.example.toml").read_text(encoding="utf-8"))
    assert c.printer.kind == "usb" and c.printer.queue_dir == "/var/lib/valgkiosk/print-queue"
    s = PrinterSettings.from_config(c.printer)
    assert (s.kind, s.vendor, s.product, s.profile, s.timeout, s.check_status) == (
        "usb", 0x04B8, 0x0E15, "TM-T20II", 5.0, True)
    network = cfg.parse(GOOD + '\n[printer]\nkind = "network"\nhost = "10.0.0.5"\nprofile = "TM-T88V"\n').printer
    s = PrinterSettings.from_config(network)
    assert (s.kind, s.host, s.port, s.profile, s.columns) == ("network", "10.0.0.5", 9100, "TM-T88V", None)
    assert cfg.parse(GOOD).printer.kind == "none"
