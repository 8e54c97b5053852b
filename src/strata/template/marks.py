"""Where each node of a loaded template came from, so every later stage can point at file:line:column."""
from __future__ import annotations

from strata.errors import Location

Path = tuple  # a node's address in the data: keys (str) and list indexes (int), e.g. ("Resources", "Fn", "Type")


class Marks:
    """Maps a node's path to its 1-based (line, column).

    Mapping entries are marked at their key (that is where a reader looks for ``Handler: ...``); list items at the item.
    Lookups walk up to the nearest marked ancestor, so values built by later stages still get a useful place.
    """

    __slots__ = ("file", "_marks")

    def __init__(self, file: str, marks: dict[tuple, tuple[int, int]] | None = None) -> None:
        self.file = file
        self._marks: dict[tuple, tuple[int, int]] = marks if marks is not None else {}

    def __len__(self) -> int:
        return len(self._marks)

    def __contains__(self, path: object) -> bool:
        return path in self._marks

    def get(self, path: tuple) -> tuple[int, int] | None:
        """The exact mark of ``path``, or None."""
        return self._marks.get(path)

    def nearest(self, path: tuple) -> tuple[int, int] | None:
        """The mark of ``path`` or of its closest marked ancestor."""
        marks = self._marks
        for end in range(len(path), -1, -1):
            found = marks.get(path[:end])
            if found is not None:
                return found
        return None

    def locate(self, path: tuple, logical_id: str | None = None) -> Location:
        """A ``Location`` for ``path``; the logical id is inferred for paths under ``Resources``."""
        if logical_id is None and len(path) >= 2 and path[0] == "Resources":
            logical_id = str(path[1])
        found = self.nearest(path)
        if found is None:
            return Location(self.file, logical_id=logical_id)
        return Location(self.file, found[0], found[1], logical_id)
