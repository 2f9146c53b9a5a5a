"""Errors written for the user: what was wrong, where, and what to do."""

from __future__ import annotations


class ChurnError(Exception):
    """A problem the user can fix; the CLI prints the message without a stack trace."""


class ConfigError(ChurnError):
    """A config value that cannot work; the message names the key to change."""


class ValidationError(ChurnError):
    """Raw data that cannot be loaded; the message names the table, column and example rows."""

    def __init__(self, message: str, table: str | None = None, column: str | None = None):
        super().__init__(message)
        self.table = table
        self.column = column
