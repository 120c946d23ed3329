"""Øvingsmodus (issue 18): the real kiosk app against an embedded training register, with
drills written as data (``drills/*.toml``), scored from the kiosk core's own events.

- :mod:`.drills` reads the drill files (the package's and a municipality's own folder);
- :mod:`.scoring` turns what the trainee did (actions recognised from the core's events
  and effects, and from the loggbok) into a score and Norwegian feedback: pure;
- :mod:`.register` makes the embedded training register (the real register service on
  SQLite, in process) and the guard by which a training kiosk refuses a real register;
- :mod:`.app` is the training kiosk: the kiosk app with the drill's panel in place of the
  dev dock, the training mark on every screen and receipt, and the session report.
"""

#: On every screen's header and every receipt of a training kiosk.
TRAINING_MARK = "ØVING – ikke et ekte valg"

#: A training credential starts with this (the register's ``credentials.TRAINING_PREFIX``;
#: the kiosk imports nothing from the register, so the protocol's prefix is named twice).
TRAINING_CREDENTIAL_PREFIX = "vk1ovning_"
