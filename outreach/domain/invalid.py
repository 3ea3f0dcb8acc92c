"""The error every domain parser raises for a value it refuses (SIRET, phone...)."""

from __future__ import annotations


class InvalidValue(ValueError):
    """A typed value that cannot be accepted: `field` names it, `reason` says why, in French.

    Import code catches this one class to report any refused field of a row.
    """

    def __init__(self, field: str, value: str, reason: str) -> None:
        super().__init__(f"{field} {value!r} : {reason}")
        self.field = field
        self.value = value
        self.reason = reason
