"""Pick the text kernel: the compiled one when it was built, else the pure-Python one.

``WORDVECS_PURE_PYTHON=1`` forces the pure-Python kernel (the tests run both).
"""

from __future__ import annotations

import os
from types import ModuleType

from wordvecs.errors import UsageError
from wordvecs.formats import _pykernel

__all__ = ["compiled_kernel", "get_kernel", "set_kernel"]


def compiled_kernel() -> ModuleType | None:
    """The compiled kernel module, or None when it was not built or cannot be imported."""
    try:
        from wordvecs import _ckernel  # type: ignore[attr-defined]
    except ImportError:
        return None
    return _ckernel


_active: ModuleType | None = None


def get_kernel() -> ModuleType:
    """The kernel in use."""
    global _active
    if _active is None:
        ck = None if os.environ.get("WORDVECS_PURE_PYTHON") else compiled_kernel()
        _active = ck if ck is not None else _pykernel
    return _active


def set_kernel(name: str | None) -> ModuleType:
    """Select ``"c"``, ``"python"``, or ``None`` (automatic); returns the kernel now in use."""
    global _active
    if name is None:
        _active = None
        return get_kernel()
    if name == "python":
        _active = _pykernel
    elif name == "c":
        ck = compiled_kernel()
        if ck is None:
            raise ImportError("the compiled kernel wordvecs._ckernel is not built")
        _active = ck
    else:
        raise UsageError(f"kernel must be 'c', 'python' or None, not {name!r}")
    return _active
