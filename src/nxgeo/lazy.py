"""Lazy package exports (PEP 562): a package's public names are imported from their submodule
on first use, so importing one submodule does not import every other one.

Why: each pipeline job is a fresh Python process. ``from nxgeo.candidates.clumps import …``
first runs ``nxgeo/candidates/__init__.py``; when that imported every submodule eagerly, the
candidates package alone cost ~1.1 s of imports (the MILP allocation, the terrain library,
the styles …) in a job that needs 0.4 s of them (measured 2026-12-03, `python -X importtime`;
benchmarks/report.md's polygonise comparison counts a process's imports). Names stay where
they were: ``from nxgeo.candidates import allocate`` works as before.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping


def lazy_exports(
    package: str, exports: Mapping[str, str]
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """(``__getattr__``, ``__dir__``) for `package`'s ``__init__``: `exports` maps each public
    name to the submodule (relative, without the dot) that defines it. An unknown name raises
    AttributeError as a module attribute would."""
    exports = dict(exports)

    def __getattr__(name: str) -> object:
        try:
            sub = exports[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        value = getattr(importlib.import_module(f"{package}.{sub}"), name)
        importlib.import_module(package).__dict__[name] = value  # later lookups skip this
        return value

    def __dir__() -> list[str]:
        return sorted(set(importlib.import_module(package).__dict__) | set(exports))

    return __getattr__, __dir__
