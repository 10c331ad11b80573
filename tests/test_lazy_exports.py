"""Lazy package exports (nxgeo.lazy): every public name still resolves, to the same object as
its submodule's, and importing one submodule no longer imports the rest of the package."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import types

import pytest

from nxgeo.lazy import lazy_exports

LAZY_PACKAGES = ["nxgeo.candidates", "nxgeo.terrain"]


@pytest.mark.parametrize("package", LAZY_PACKAGES)
def test_every_public_name_resolves_to_its_submodules_object(package):
    pkg = importlib.import_module(package)
    assert pkg.__all__, package
    for name in pkg.__all__:
        sub = importlib.import_module(f"{package}.{pkg._EXPORTS[name]}")
        assert getattr(pkg, name) is getattr(sub, name), name
        assert name in dir(pkg)


@pytest.mark.parametrize("package", LAZY_PACKAGES)
def test_unknown_name_is_an_attribute_error(package):
    pkg = importlib.import_module(package)
    with pytest.raises(AttributeError, match="no attribute 'not_a_name'"):
        _ = pkg.not_a_name
    assert not hasattr(pkg, "not_a_name")


def test_star_import_gives_every_public_name():
    ns: dict = {}
    exec("from nxgeo.terrain import *", ns)
    assert {"flow_accumulation_tiled", "slope_file", "terrain_reach"} <= set(ns)


def _modules_after(statement: str) -> set[str]:
    code = f"import sys, json\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    return set(json.loads(out.splitlines()[-1]))


def test_one_submodule_does_not_import_the_package():
    """The polygonise step (benchmarks/ops.py polygonize) needs only the clumps: before the
    lazy exports it imported the MILP allocation, the terrain library and the styles too."""
    mods = _modules_after("import nxgeo.candidates.clumps")
    assert "nxgeo.candidates.clumps" in mods
    for other in ("nxgeo.candidates.allocation", "nxgeo.candidates.stage", "nxgeo.terrain"):
        assert other not in mods, other
    mods = _modules_after("import nxgeo.terrain.horn")
    assert "nxgeo.terrain.distance" not in mods and "nxgeo.terrain.reach" not in mods


def test_lazy_exports_by_hand(monkeypatch):
    """A fake package: the name comes from the submodule on first use and is then cached in the
    package (a second lookup does not import again)."""
    pkg, sub = types.ModuleType("fakepkg"), types.ModuleType("fakepkg.sub")
    sub.value = object()
    monkeypatch.setitem(sys.modules, "fakepkg", pkg)
    monkeypatch.setitem(sys.modules, "fakepkg.sub", sub)
    get, listing = lazy_exports("fakepkg", {"value": "sub"})
    assert "value" not in pkg.__dict__ and "value" in listing()
    assert get("value") is sub.value
    assert pkg.__dict__["value"] is sub.value
    with pytest.raises(AttributeError, match="module 'fakepkg' has no attribute 'missing'"):
        get("missing")
