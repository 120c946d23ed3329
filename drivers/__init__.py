"""Adapters for the kiosk's hardware, each with a simulated twin."""
