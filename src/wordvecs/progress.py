"""Progress bars that cost nothing when silent."""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Any

__all__ = ["Progress", "progress_enabled"]

#: Inputs smaller than this show no bar unless asked.
MIN_BYTES = 8 << 20


def progress_enabled(flag: bool | None, total: int | None = None) -> bool:
    """``flag`` when given; else on for a terminal and an input of more than a few MB."""
    if flag is not None:
        return flag
    return sys.stderr.isatty() and (total is None or total >= MIN_BYTES)


class Progress:
    """A tqdm bar over ``total`` units, or a no-op when disabled."""

    def __init__(self, total: int | None, desc: str, *, enabled: bool, unit: str = "B",
                 **kw: Any) -> None:
        self._bar = None
        if enabled:
            from tqdm.auto import tqdm

            scale = unit == "B"
            self._bar = tqdm(total=total, desc=desc, unit=unit, unit_scale=scale,
                             unit_divisor=1024 if scale else 1000, leave=False,
                             dynamic_ncols=True, file=sys.stderr, **kw)

    @property
    def active(self) -> bool:
        """Whether a bar is shown."""
        return self._bar is not None

    def set_description(self, desc: str) -> None:
        if self._bar is not None:
            self._bar.set_description(desc)

    def set_postfix(self, **kw: Any) -> None:
        if self._bar is not None:
            self._bar.set_postfix(**kw)

    def update(self, n: int) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
