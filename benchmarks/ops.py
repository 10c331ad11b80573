"""The nxgeo side of the side-by-side comparisons, one operation per sub-command, each run in
its own process by compare_tools.py (so it is timed and measured like the reference tool).

    python benchmarks/ops.py slope DEM OUT
    python benchmarks/ops.py overlay CONFIG REACH_DIR TARGET OUT [--dask-threads N]
    python benchmarks/ops.py polygonize IN_TIF OUT_GPKG
    python benchmarks/ops.py zonal RASTER PARCELS_GPKG OUT_CSV
    python benchmarks/ops.py clip RASTER VECTORS_GPKG REACH OUT
    python benchmarks/ops.py flowacc DEM OUT

Each prints one JSON line with the in-process seconds of the operation itself.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from pathlib import Path

_T_START = time.perf_counter()  # imports below count as import time, not as the operation

import numpy as np  # noqa: E402
import rasterio  # noqa: E402
from rasterio.windows import Window  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))

#: what the suitability step reads for each layer name (file in the reach folder)
LAYER_FILES = {
    "landuse": "landuse.tif",
    "precipitation": "precipitation.tif",
    "slope": "slope.tif",
    "elevation": "dem.tif",
    "ls": "ls.tif",
    "distance_water": "distance_water.tif",
    "distance_roads": "distance_roads.tif",
    "distance_settlements": "distance_settlements.tif",
}


def layer_path(reach_dir: Path, name: str) -> Path:
    return reach_dir / LAYER_FILES.get(name, f"zone_{name}.tif")


def op_slope(dem: str, out: str) -> None:
    from nxgeo.terrain import slope_file

    slope_file(dem, out)


def _overlay_block(task):
    """Score of one target on one block (a dask task)."""
    paths, comp, win = task
    from nxgeo.suitability.overlay import evaluate_compiled, prepare_layers

    raw = {}
    for n, p in paths.items():
        with rasterio.open(p) as ds:
            raw[n] = ds.read(1, window=Window(*win))
    nodata = {n: v for n, v in task_nodata(paths).items()}
    layers = prepare_layers(raw, list(paths), nodata)
    return evaluate_compiled(comp, layers)[0]


_ND_CACHE: dict = {}


def task_nodata(paths):
    key = tuple(sorted(paths.items()))
    if key not in _ND_CACHE:
        nd = {}
        for n, p in paths.items():
            with rasterio.open(p) as ds:
                nd[n] = ds.nodata
        _ND_CACHE[key] = nd
    return _ND_CACHE[key]


def op_overlay(
    config: str, reach_dir: str, target: str, out: str, dask_threads: int = 0, block_rows: int = 512
) -> None:
    """The suitability step's arithmetic for one target (transforms, weighted sum, hard
    constraints, rounding), written as the step writes its score raster — the same code path
    as nxgeo.suitability.suitability_files, one target, score only."""
    import pandas as pd
    import yaml

    from nxgeo.parallel import map_blocks
    from nxgeo.raster_io import GTIFF_OPTIONS
    from nxgeo.suitability.overlay import compile_target
    from nxgeo.suitability.spec import parse_all

    cfg = yaml.safe_load(Path(config).read_text(encoding="utf-8"))
    classes = pd.read_csv(cfg["landuse"]["classes_table"])
    suit = cfg["suitability"]
    reach_dir = Path(reach_dir)
    spec = parse_all(
        suit,
        classes,
        layers=list(LAYER_FILES)
        + [
            "protected_core",
            "protected_any",
            "ecological_redline",
            "basic_farmland",
            "water_secured",
            "water_quota_modulus",
        ],
    )[target]
    comp = compile_target(spec, classes)
    paths = {n: str(layer_path(reach_dir, n)) for n in sorted(comp.layers)}
    with rasterio.open(paths["landuse"]) as ref:
        profile = dict(GTIFF_OPTIONS)
        profile.update(
            height=ref.height,
            width=ref.width,
            count=1,
            dtype="uint8",
            crs=ref.crs,
            transform=ref.transform,
            nodata=255,
            predictor=2,
        )
        h, w = ref.height, ref.width
    from nxgeo.grid import block_windows

    # square blocks, as suitability_files reads them
    wins = [(x.col_off, x.row_off, x.width, x.height) for x in block_windows(w, h, block_rows)]
    with rasterio.open(out, "w", **profile) as dst:
        if dask_threads:  # blocks on the dask threads scheduler, as suitability_files does
            dask = {"scheduler": "threads", "num_workers": dask_threads}
            for win, score in zip(
                wins, map_blocks(_overlay_block, ((paths, comp, x) for x in wins), dask)
            ):
                dst.write(score, 1, window=Window(*win))
        else:  # in process, the datasets kept open, as suitability_files does
            from nxgeo.suitability.overlay import evaluate_compiled, prepare_layers

            srcs = {n: rasterio.open(p) for n, p in paths.items()}
            nodata = {n: ds.nodata for n, ds in srcs.items()}
            for win in wins:
                raw = {n: ds.read(1, window=Window(*win)) for n, ds in srcs.items()}
                layers = prepare_layers(raw, list(paths), nodata)
                dst.write(evaluate_compiled(comp, layers)[0], 1, window=Window(*win))
            for ds in srcs.values():
                ds.close()


def op_polygonize(src: str, out: str) -> None:
    """The candidates step's clumping and polygonising (8-connected clumps per county, one
    MultiPolygon each: nxgeo.candidates.clumps.clump_county_index) of a county-coded raster,
    read strip-wise into the step's county index, written to a GeoPackage."""
    from nxgeo.candidates.clumps import clump_county_index, read_county_index
    from nxgeo.vector_io import write_layers

    index, codes = read_county_index(src)
    with rasterio.open(src) as ds:
        transform, crs = ds.transform, ds.crs
    gdf = clump_county_index(index, codes, transform, crs)
    gdf["value"] = gdf["adcode"].astype(np.int64)
    write_layers(out, {"parcels": gdf})


def op_zonal(raster: str, parcels: str, out: str) -> None:
    """Zonal mean/min/max of parcels as nxgeo computes them (exactextract, coverage-weighted)."""
    from exactextract import exact_extract

    from nxgeo.vector_io import read_vector

    gdf = read_vector(parcels)[["geometry"]].reset_index(drop=True)
    gdf["pidx"] = np.arange(len(gdf))
    res = exact_extract(raster, gdf, ["mean", "min", "max"], include_cols=["pidx"], output="pandas")
    res.to_csv(out, index=False)


def op_clip(raster: str, vectors: str, reach: str, out: str) -> None:
    from nxgeo.clip import clip_to_polygon, reach_polygon

    clip_to_polygon(raster, reach_polygon(vectors, reach), out, name=reach)


#: modules each operation imports (timed apart from the operation)
IMPORTS = {
    "slope": ["nxgeo.terrain"],
    "overlay": [
        "pandas",
        "yaml",
        "nxgeo.parallel",
        "nxgeo.raster_io",
        "nxgeo.suitability.overlay",
        "nxgeo.suitability.spec",
        "nxgeo.grid",
    ],
    "polygonize": ["nxgeo.candidates.clumps", "nxgeo.vector_io"],
    "zonal": ["exactextract", "nxgeo.vector_io"],
    "clip": ["nxgeo.clip"],
    "flowacc": ["nxgeo.terrain"],
}


#: positional arguments of each operation (the op_* function's parameters)
ARGS = {
    "slope": ["dem", "out"],
    "overlay": ["config", "reach_dir", "target", "out"],
    "polygonize": ["src", "out"],
    "zonal": ["raster", "parcels", "out"],
    "clip": ["raster", "vectors", "reach", "out"],
    "flowacc": ["dem", "out"],
}


def op_flowacc(dem: str, out: str) -> None:
    """Exact D8 flow accumulation of a DEM (pits filled), as the terrain step routes a reach."""
    from nxgeo.terrain import flow_accumulation_tiled

    with rasterio.open(dem) as ds:
        z = ds.read(1)
        prof = {
            "driver": "GTiff",
            "height": ds.height,
            "width": ds.width,
            "count": 1,
            "dtype": "float64",
            "crs": ds.crs,
            "transform": ds.transform,
            "nodata": -1.0,
            "tiled": True,
            "compress": "deflate",
        }
        acc = flow_accumulation_tiled(z, ds.nodata, xres=ds.res[0], yres=ds.res[1])
    acc[~np.isfinite(acc)] = -1.0
    with rasterio.open(out, "w", **prof) as dst:
        dst.write(acc, 1)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="op", required=True)
    for op, args in ARGS.items():
        p = sub.add_parser(op)
        for name in args:
            p.add_argument(name)
    sub.choices["overlay"].add_argument("--dask-threads", type=int, default=0)
    a = vars(ap.parse_args(argv))
    op = a.pop("op")
    # the libraries an operation needs are imported first and timed apart: the in-process
    # time is the work itself (the process wall time has both)
    for mod in IMPORTS[op]:
        importlib.import_module(mod)
    t_import = time.perf_counter() - _T_START
    t0 = time.perf_counter()
    {
        "slope": op_slope,
        "overlay": op_overlay,
        "polygonize": op_polygonize,
        "zonal": op_zonal,
        "clip": op_clip,
        "flowacc": op_flowacc,
    }[op](**a)
    print(
        json.dumps(
            {
                "op": op,
                "seconds": round(time.perf_counter() - t0, 3),
                "import_seconds": round(t_import, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
