"""valgkiosk: the check-off kiosk's firmware (this package) and its register service."""

__version__ = "0.1.0"
