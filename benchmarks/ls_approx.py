"""How much the bounded flow routing of `nxgeo.terrain.terrain_reach` changes the LS factor.

A reach whose bounding box has more than ``terrain.flow_max_cells`` cells (2 M by default) is
routed on its DEM block-averaged over k x k cells, and the upslope count is refined bilinearly
(see `terrain_reach`). This script computes LS both ways on the same reach and reports the
relative difference per pixel:

- on the project's 250 m run (results/, if `make run` made it) and the 120 m bench run, with
  the coarsening forced (k = 2 and 3), where the exact routing is cheap;
- on the 30 m bench run, the largest reach the exact routing still handles in a few GB, with
  the default budget (what the pipeline does at 30 m).

    .venv/bin/python benchmarks/ls_approx.py            # prints a table
"""

from __future__ import annotations

import json
import math
import sys
import tempfile
from pathlib import Path

import numpy as np
import rasterio

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_lib import ROOT, RUNS

EXACT_LIMIT_CELLS = 12_000_000  # keeps the check short (the exact routing is tile-wise)
#: the budget the pipeline used by default before routing became exact (2026-12)
OLD_BUDGET = 2_000_000


def _ls(run: Path, year: str, reach: str, out: Path, flow_max_cells) -> np.ndarray:
    from nxgeo.config import fill_section
    from nxgeo.terrain import terrain_reach

    t = fill_section("terrain")  # the shipped defaults (terrain_reach has none of its own)
    terrain_reach(
        run / "common" / "grid" / "dem.tif",
        run / year / "reaches" / reach / "dem.tif",
        run / "common" / "vectors.gpkg",
        {"ls": out},
        distance_max_m=float(t["distance_max_m"]),
        s_method=t["s_method"],
        l_max=t["l_max"],
        flow_max_cells=flow_max_cells,
    )
    with rasterio.open(out) as ds:
        return ds.read(1)


def compare(run: Path, year: str, reach: str, k: int | None, label: str) -> dict:
    """LS exact vs bounded routing (k forced, or the old default budget when k is None)."""
    from nxgeo.terrain import flow_coarsening

    with rasterio.open(run / year / "reaches" / reach / "dem.tif") as ds:
        cells, res = ds.width * ds.height, abs(ds.transform.a)
    budget = OLD_BUDGET if k is None else max(1, math.ceil(cells / (k * k)))
    k_eff = flow_coarsening(cells, budget)
    with tempfile.TemporaryDirectory() as td:
        a = _ls(run, year, reach, Path(td) / "exact.tif", None)
        b = _ls(run, year, reach, Path(td) / "approx.tif", budget)
    v = (a != -9999) & (b != -9999)
    x, y = a[v].astype(np.float64), b[v].astype(np.float64)
    rel = np.abs(y - x) / np.maximum(np.abs(x), 1e-6)
    return {
        "data": label,
        "reach": reach,
        "cells": int(cells),
        "k": int(k_eff),
        "routing_m": res * k_eff,
        "median": float(np.median(rel)),
        "p90": float(np.percentile(rel, 90)),
        "p99": float(np.percentile(rel, 99)),
        "mean_exact": float(x.mean()),
        "mean_approx": float(y.mean()),
        "nodata_differs": int(((a == -9999) != (b == -9999)).sum()),
    }


def _reaches(run: Path, year: str) -> list[tuple[int, str]]:
    out = []
    for d in sorted((run / year / "reaches").iterdir()):
        p = d / "dem.tif"
        if p.exists():
            with rasterio.open(p) as ds:
                out.append((ds.width * ds.height, d.name))
    return sorted(out, reverse=True)


def check(runs_root: Path = RUNS, resolutions=(120, 30)) -> dict:
    rows = []
    sample_run = ROOT / "results"
    grid = sample_run / "common" / "grid.json"
    if grid.exists() and json.loads(grid.read_text()).get("resolution", [0])[0] == 250.0:
        years = sorted(p.name for p in sample_run.iterdir() if p.name.isdigit())
        if years:
            reach = _reaches(sample_run, years[0])[0][1]
            for k in (2, 3):
                rows.append(compare(sample_run, years[0], reach, k, "250 m sample (results/)"))
    for res in sorted(resolutions, reverse=True):
        run = runs_root / f"{res}m" / "results"
        if not (run / "common" / "grid" / "dem.tif").exists():
            continue
        year = min(p.name for p in run.iterdir() if p.name.isdigit())
        sizes = _reaches(run, year)
        if res >= 100:
            for k in (2, 3):
                rows.append(compare(run, year, sizes[0][1], k, f"{res} m bench run"))
        else:
            big = [(n, r) for n, r in sizes if OLD_BUDGET < n <= EXACT_LIMIT_CELLS]
            if big:
                rows.append(
                    compare(run, year, big[0][1], None, f"{res} m bench run (old default budget)")
                )
    text = (
        "The pipeline routes exactly (tile-wise) by default; the coarsened routing is an "
        "opt-in preview (terrain.flow_max_cells). What it would change: relative difference "
        "|LS_approx − LS_exact| / LS_exact over the valid pixels of a "
        "reach. The approximation changes only the contributing area (slope and S stay at "
        "full resolution); L is capped (l_max = 122) in channels, where the coarse routing "
        "differs most, so the large differences are few."
    )
    return {"text": text, "rows": rows}


if __name__ == "__main__":
    out = check()
    print(out["text"])
    for r in out["rows"]:
        print(json.dumps(r))
