"""Pure domain rules and reference data: no I/O, imports nothing else of outreach."""
