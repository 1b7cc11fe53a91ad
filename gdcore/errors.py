"""The errors a user can cause: each is one line saying what was wrong and what is allowed."""
from __future__ import annotations


class ConfigError(ValueError):
    """A user's mistake in a run's configuration, a command's arguments or an input file."""


class DataError(ConfigError):
    """Data that are missing, unreadable, cannot be downloaded, or are corrupt."""
