"""The clerk's screen: a Textual app with one screen per mode of the check-off flow.

Textual batches screen updates at most ``TEXTUAL_FPS`` times a second (default 60): a
verdict can wait up to a whole frame before it is drawn. The kiosk's screen changes only
when something happens, so a 120 Hz cap halves that wait at no cost while idle. It must
be set before Textual is first imported; an explicit setting in the environment wins.
"""

import os

os.environ.setdefault("TEXTUAL_FPS", "120")
