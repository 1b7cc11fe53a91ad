"""A registry: named entries declared once; every list of choices (config checks, CLI help, tests, charts) is
read from one."""
from __future__ import annotations

from typing import Generic, Iterable, Iterator, TypeVar

from .errors import ConfigError

T = TypeVar("T")


class Registry(Generic[T]):
    """Entries with a `name`, in the order they were declared."""

    def __init__(self, what: str, entries: Iterable[T] = ()):
        self.what = what
        self._entries: dict[str, T] = {}
        for e in entries:
            self.add(e)

    def add(self, entry: T) -> T:
        name = entry.name
        if name in self._entries:
            raise ValueError(f"{self.what} {name!r} is registered twice")
        self._entries[name] = entry
        return entry

    def names(self) -> tuple[str, ...]:
        return tuple(self._entries)

    def __getitem__(self, name: str) -> T:
        if not isinstance(name, str) or name not in self._entries:
            raise ConfigError(f"unknown {self.what} {name!r}; allowed: {', '.join(self._entries)}")
        return self._entries[name]

    def get(self, name, default=None):
        return self._entries.get(name, default) if isinstance(name, str) else default

    def __contains__(self, name) -> bool:
        return isinstance(name, str) and name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def values(self):
        return self._entries.values()

    def items(self):
        return self._entries.items()
