"""One module per screen, each with its .tcss beside it (a supervisor dashboard can join here)."""
