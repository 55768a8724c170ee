"""A name -> function registry that refuses duplicates (one registry, no second source of truth)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

F = TypeVar("F", bound=Callable[..., object])


class Registry(Generic[F]):
    """Functions registered by name with a decorator; a second registration of a name raises."""

    def __init__(self, what: str) -> None:
        self.what = what
        self._items: dict[str, F] = {}

    def register(self, name: str) -> Callable[[F], F]:
        """Decorator: register the function under ``name``."""
        def deco(fn: F) -> F:
            if name in self._items:
                raise ValueError(f"duplicate {self.what} registration for '{name}'")
            if not (fn.__doc__ or "").strip():
                raise ValueError(f"{self.what} '{name}' needs a docstring stating its convention")
            self._items[name] = fn
            return fn
        return deco

    def __getitem__(self, name: str) -> F:
        return self._items[name]

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def doc(self, name: str) -> str:
        """First line of the registered function's docstring."""
        return (self._items[name].__doc__ or "").strip().splitlines()[0]
