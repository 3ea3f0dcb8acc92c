"""Services: the only way the TUI, the CLI and the scripts touch the database.

They take a `Database` (session factories), return plain dataclasses, never ORM rows, and
never import Textual.
"""
