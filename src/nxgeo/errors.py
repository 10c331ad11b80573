"""Errors that carry a message a GIS user can act on."""

from __future__ import annotations


class NxgeoError(Exception):
    """Base class: the message names the file/key/value and says what to do."""


class ConfigError(NxgeoError):
    """The configuration is invalid. `problems` lists every problem found, not just the first."""

    def __init__(self, problems: list[str], source: str = "config"):
        self.problems = list(problems)
        self.source = source
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{len(self.problems)} problem(s) in {source}:\n{lines}")


class InputError(NxgeoError):
    """An input file is missing, unreadable or violates the data contract."""


class OutputError(NxgeoError):
    """An output cannot be written (disk full, read-only folder)."""
