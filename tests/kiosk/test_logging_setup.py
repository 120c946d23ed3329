"""The kiosk's logging: the register client's every request is not a journal line (the
health probe runs all day), but what goes wrong with it is."""

from __future__ import annotations

import logging

from valgkiosk import bootstrap


def test_http_requests_are_not_logged_but_their_warnings_are() -> None:
    saved = logging.getLogger().handlers[:], logging.getLogger().level
    try:
        bootstrap._setup_logging(None)
        assert logging.getLogger("valgkiosk.anything").isEnabledFor(logging.INFO)
        for name in ("httpx", "httpcore"):
            assert not logging.getLogger(name).isEnabledFor(logging.INFO), name
            assert logging.getLogger(name).isEnabledFor(logging.WARNING), name
    finally:
        root = logging.getLogger()
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        for name in ("httpx", "httpcore"):
            logging.getLogger(name).setLevel(logging.NOTSET)
