"""Pure core: rules and state machines with no I/O and no clock reads."""
