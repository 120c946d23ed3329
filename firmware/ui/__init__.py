"""The clerk's screen: a Textual app with one screen per mode of the check-off flow."""
