"""Ports: the small interfaces the kiosk's core and shell need, one module per role."""
