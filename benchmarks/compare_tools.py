"""Side-by-side comparisons of nxgeo raster steps with the established tools, on the files of
one pipeline run (the same inputs for both sides, measured in the same session):

- slope: `nxgeo.terrain.slope_file` vs ``gdaldem slope`` (both tiled 256, deflate, predictor 3);
- weighted overlay: the suitability step's arithmetic for one target vs ``gdal_calc.py`` doing
  the same arithmetic (transforms, weighted sum, hard constraints, rounding);
- polygonising parcels: `clump_parcels` + GeoPackage vs ``gdal_polygonize.py -8`` to GeoPackage
  with OGR_SQLITE_JOURNAL=MEMORY (its fastest configuration);
- zonal statistics of parcels: nxgeo uses exactextract, so it is compared with rasterstats;
- clipping to a reach: `nxgeo.clip.clip_to_polygon` vs ``gdalwarp -cutline -crop_to_cutline``
  (both write the same COG);
- D8 flow accumulation of the largest reach: `nxgeo.terrain.flow_accumulation_tiled` (exact,
  tile-wise) vs pygeoprocessing's fill_pits -> flow_dir_d8 -> flow_accumulation_d8 (InVEST
  SDR's routing; in the peers environment .venv-peers, scripts/install_peers.sh).

Every side runs as its own process (`bench_lib.run_timed`: wall, CPU, peak RSS), and the
outputs are checked equal within a stated tolerance.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import rasterio
from bench_lib import BENCH, PYTHON, run_timed

from nxgeo.raster_io import DEFLATE_LEVEL  # the references compress as nxgeo does (equal output)

OPS = BENCH / "ops.py"
GTIFF_CO = [
    "-co",
    "TILED=YES",
    "-co",
    "BLOCKXSIZE=256",
    "-co",
    "BLOCKYSIZE=256",
    "-co",
    "COMPRESS=DEFLATE",
    "-co",
    f"ZLEVEL={DEFLATE_LEVEL}",
    "-co",
    "BIGTIFF=IF_SAFER",
]
COG_CO = [
    "-co",
    "BLOCKSIZE=512",
    "-co",
    "COMPRESS=DEFLATE",
    "-co",
    f"LEVEL={DEFLATE_LEVEL}",
    "-co",
    "PREDICTOR=YES",
    "-co",
    "OVERVIEWS=AUTO",
    "-co",
    "OVERVIEW_RESAMPLING=AVERAGE",
    "-co",
    "BIGTIFF=IF_SAFER",
    "-co",
    "NUM_THREADS=1",
]


def _best(cmd, repeat: int, **kw):
    """The fastest of `repeat` runs (all must succeed)."""
    runs = [run_timed(cmd, **kw).check() for _ in range(max(1, repeat))]
    return min(runs, key=lambda t: t.wall_s)


def _pair(name: str, nx_cmd, ref_cmd, repeat: int, ref_env=None) -> dict:
    # alternate the two sides so that a slow moment of the machine does not hit one side only
    nx_runs, ref_runs = [], []
    for _ in range(max(1, repeat)):
        nx_runs.append(run_timed(nx_cmd).check())
        ref_runs.append(run_timed(ref_cmd, env=ref_env).check())
    nx = min(nx_runs, key=lambda t: t.wall_s)
    ref = min(ref_runs, key=lambda t: t.wall_s)
    inproc = imports = None
    try:
        line = json.loads(nx.stdout.strip().splitlines()[-1])
        inproc, imports = line["seconds"], line.get("import_seconds")
    except (ValueError, IndexError, KeyError):
        pass
    return {
        "name": name,
        "nxgeo": nx.summary(),
        "ref": ref.summary(),
        "nxgeo_inprocess_s": inproc,
        "nxgeo_import_s": imports,
        "ratio": round(nx.wall_s / max(ref.wall_s, 1e-9), 3),
        "ratio_inprocess": (
            round(inproc / max(ref.wall_s, 1e-9), 3) if inproc is not None else None
        ),
    }


def _pixels(path) -> int:
    with rasterio.open(path) as ds:
        return ds.width * ds.height


def _compare_rasters(a_path, b_path, atol: float) -> dict:
    """Block-wise comparison: same grid, same nodata mask, max |a - b| over valid pixels."""
    with rasterio.open(a_path) as a, rasterio.open(b_path) as b:
        same_grid = a.shape == b.shape and a.transform.almost_equals(b.transform) and a.crs == b.crs
        if not same_grid:
            return {
                "same_grid": False,
                "grid_a": [a.shape, tuple(a.transform)[:6]],
                "grid_b": [b.shape, tuple(b.transform)[:6]],
                "ok": False,
            }
        n = n_diff = n_mask = 0
        maxd = 0.0
        for _, win in a.block_windows(1):
            x = a.read(1, window=win).astype(np.float64)
            y = b.read(1, window=win).astype(np.float64)
            mx = (x == a.nodata) | np.isnan(x) if a.nodata is not None else np.isnan(x)
            my = (y == b.nodata) | np.isnan(y) if b.nodata is not None else np.isnan(y)
            n += x.size
            n_mask += int((mx != my).sum())
            v = ~mx & ~my
            d = np.abs(x[v] - y[v])
            if d.size:
                maxd = max(maxd, float(d.max()))
                n_diff += int((d > atol).sum())
    return {
        "same_grid": True,
        "pixels": n,
        "nodata_mask_differs": n_mask,
        "max_abs_diff": maxd,
        "n_over_tolerance": n_diff,
        "ok": n_mask == 0 and n_diff == 0,
    }


# --------------------------------------------------------------------------------------------


def compare_slope(run: Path, work: Path, repeat: int = 1) -> dict:
    dem = run / "results" / "common" / "grid" / "dem.tif"
    a, b = work / "slope_nxgeo.tif", work / "slope_gdaldem.tif"
    res = _pair(
        "slope (whole region DEM)",
        [PYTHON, OPS, "slope", dem, a],
        [
            "gdaldem",
            "slope",
            dem,
            b,
            "-of",
            "GTiff",
            *GTIFF_CO,
            "-co",
            "PREDICTOR=3",
            "-co",
            "NUM_THREADS=ALL_CPUS",
            "-q",
        ],
        repeat,
    )
    res["data"] = f"{dem.relative_to(run)} ({_pixels(dem):,} px)"
    res["reference"] = (
        f"gdaldem slope (Horn), GTiff tiled 256 deflate level {DEFLATE_LEVEL} predictor 3, "
        "NUM_THREADS=ALL_CPUS"
    )
    res["check"] = _compare_rasters(a, b, atol=1e-4)
    res["tolerance"] = "same grid and nodata; |Δslope| ≤ 1e-4° on every pixel (expected: identical)"
    return res


def _largest_reach(run: Path, year: int) -> str:
    best, size = None, -1
    for d in sorted((run / "results" / str(year) / "reaches").iterdir()):
        p = d / "landuse.tif"
        if p.exists() and _pixels(p) > size:
            best, size = d.name, _pixels(p)
    return best


def gdal_calc_expression(cfg: dict, target: str, letters: dict, nodata: dict) -> str:
    """gdal_calc.py expression computing the score of a weighted-sum target of linear criteria
    with class and zone exclusions, exactly as nxgeo.suitability does (float32 criteria, float
    weighted sum, round half up, excluded -> 0, no data -> 255)."""
    import pandas as pd

    t = cfg["suitability"]["targets"][target]
    assert t.get("combine") == "weighted_sum", "only weighted_sum targets are translated"
    cons = t.get("constraints") or {}
    assert set(cons) <= {"not_convertible_from", "exclude_zones"}, cons
    classes = pd.read_csv(cfg["landuse"]["classes_table"])
    ids = dict(zip(classes["canonical"], classes["class_id"]))
    L = letters
    terms, nodatas = [], [f"({L['landuse']}==0)"]
    for c in t["criteria"]:
        assert c["transform"] == "linear" and "override" not in c and "where" not in c, c
        x = L[c["layer"]]
        lo, hi = float(c["low"]), float(c["high"])
        terms.append(
            f"float32({float(c['weight'])!r})*clip(({x}-{lo!r})/({hi!r}-{lo!r})*100.0,0.0,100.0)"
        )
        nd = nodata.get(c["layer"])
        nodatas.append(f"isnan({x})" if nd is None else f"({x}=={float(nd)!r})|isnan({x})")
    raw = "clip(" + "+".join(terms) + ",0.0,100.0)"
    score = f"floor({raw}.astype(float64)+0.5)"
    excl = [f"isin({L['landuse']},{[int(ids[k]) for k in cons.get('not_convertible_from', [])]})"]
    excl += [f"({L[z]}==1)" for z in cons.get("exclude_zones", [])]
    return f"where({'|'.join(excl)},0,where({'|'.join(nodatas)},255,{score}))"


def compare_overlay(
    run: Path, work: Path, cfg: dict, year: int, target: str = "grass", repeat: int = 1
) -> dict:
    from ops import layer_path

    reach = _largest_reach(run, year)
    rdir = run / "results" / str(year) / "reaches" / reach
    t = cfg["suitability"]["targets"][target]
    layers = (
        ["landuse"]
        + [c["layer"] for c in t["criteria"]]
        + list((t.get("constraints") or {}).get("exclude_zones", []))
    )
    letters = {n: chr(ord("A") + i) for i, n in enumerate(dict.fromkeys(layers))}
    nodata = {}
    for n in letters:
        with rasterio.open(layer_path(rdir, n)) as ds:
            nodata[n] = ds.nodata
    expr = gdal_calc_expression(cfg, target, letters, nodata)
    a, b = work / "overlay_nxgeo.tif", work / "overlay_gdal_calc.tif"
    ref_cmd = [
        "gdal_calc.py",
        "--quiet",
        "--overwrite",
        "--hideNoData",
        "--type=Byte",
        "--NoDataValue=255",
        "--format=GTiff",
        f"--outfile={b}",
        f"--calc={expr}",
    ]
    for n, letter in letters.items():
        ref_cmd.append(f"-{letter}")
        ref_cmd.append(str(layer_path(rdir, n)))
    for co in (
        "TILED=YES",
        "BLOCKXSIZE=256",
        "BLOCKYSIZE=256",
        "COMPRESS=DEFLATE",
        f"ZLEVEL={DEFLATE_LEVEL}",
        "PREDICTOR=2",
        "BIGTIFF=IF_SAFER",
    ):
        ref_cmd.append(f"--co={co}")
    res = _pair(
        f"weighted overlay ({target}, reach {reach})",
        [PYTHON, OPS, "overlay", run / "config.yaml", rdir, target, a],
        ref_cmd,
        repeat,
    )
    dask2 = run_timed(
        [
            PYTHON,
            OPS,
            "overlay",
            run / "config.yaml",
            rdir,
            target,
            work / "overlay_nxgeo_dask.tif",
            "--dask-threads",
            "2",
        ]
    ).check()
    res["nxgeo_dask_threads2"] = dask2.summary()
    res["data"] = (
        f"{rdir.relative_to(run)}: {', '.join(letters)} ({_pixels(rdir / 'landuse.tif'):,} px)"
    )
    res["reference"] = (
        "gdal_calc.py, same arithmetic as one numpy expression (--hideNoData, tiled deflate "
        f"level {DEFLATE_LEVEL})"
    )
    res["expression"] = expr
    res["check"] = _compare_rasters(a, b, atol=1.0)
    res["check"]["dask_output_identical"] = (
        Path(a).read_bytes() == Path(work / "overlay_nxgeo_dask.tif").read_bytes()
    )
    # exact-equality count too (float32 vs float64 half-way cases may differ by one point)
    with rasterio.open(a) as x, rasterio.open(b) as y:
        ne = int((x.read(1) != y.read(1)).sum())
    res["check"]["pixels_differing"] = ne
    res["check"]["ok"] = res["check"]["ok"] and ne <= 1e-4 * res["check"]["pixels"]
    res["tolerance"] = (
        "same nodata; |Δscore| ≤ 1 point, on ≤ 0.01 % of the pixels (rounding of half-way cases)"
    )
    return res


def _sand_index(run: Path, cfg: dict, year: int, reach: str):
    """The sand-control candidate pixels of one reach as the candidates step builds them:
    (county index raster, county codes, reach transform, crs)."""
    import pandas as pd

    from nxgeo.candidates.parcels import ReachContext

    base = run / "results" / str(year) / "reaches"
    classes = pd.read_csv(cfg["landuse"]["classes_table"])
    ctx = ReachContext.load(
        base / reach, run / "results" / "common" / "vectors.gpkg", reach, classes
    )
    sc = cfg["pathways"]["sand_control"]
    index, codes = ctx.pixel_counties(
        sc.get("classes", ["sandy", "bare"]),
        [str(c) for c in sc.get("counties") or []],
        ctx.layer("sand_areas", required=True).geometry,
    )
    return index, codes, ctx.transform, ctx.crs


def _as_county_raster(index, codes) -> np.ndarray:
    """County adcode where a candidate pixel is, 0 elsewhere (int32)."""
    return np.concatenate([[0], np.asarray(codes, dtype=np.int64)])[index].astype(np.int32)


def _polygonize_input(run: Path, work: Path, cfg: dict, year: int) -> tuple[Path, str]:
    """The sand-control candidate pixels of the reach with the most sand clumps: county code
    where a parcel pixel is, 0 elsewhere (int32 GeoTIFF)."""
    from nxgeo.raster_io import write_raster

    base = run / "results" / str(year) / "reaches"
    best, n = None, -1
    for d in sorted(base.iterdir()):
        st = d / "candidates_stats.json"
        if st.exists():
            sand = json.loads(st.read_text()).get("sand_control", {})
            # sand control is cut into management units (docs/pathways.md); "clumps" before
            c = int(sand.get("units", sand.get("clumps", 0)) or 0)
            if c > n:
                best, n = d.name, c
    if best is None or n <= 0:
        raise RuntimeError(f"no reach of {base} has sand-control units to polygonise")
    index, codes, transform, crs = _sand_index(run, cfg, year, best)
    out = work / "parcels_in.tif"
    write_raster(out, _as_county_raster(index, codes), crs, transform, nodata=0)
    return out, best


def _polygonize_region_input(run: Path, work: Path, cfg: dict, year: int) -> tuple[Path, str]:
    """The same for every reach, put together on the region grid (152 M px at 30 m; the size
    of the issue's own reference measurements, 10,000² px): parcels of all reaches at once."""
    from rasterio.windows import Window

    with rasterio.open(run / "results" / "common" / "grid" / "dem.tif") as g:
        profile = {
            "driver": "GTiff",
            "width": g.width,
            "height": g.height,
            "count": 1,
            "dtype": "int32",
            "nodata": 0,
            "crs": g.crs,
            "transform": g.transform,
            "tiled": True,
            "blockxsize": 512,
            "blockysize": 512,
            "compress": "deflate",
        }
        gt = g.transform
    out = work / "parcels_region_in.tif"
    with rasterio.open(out, "w+", **profile) as dst:
        for reach in cfg["reaches"]:
            index, codes, t, _ = _sand_index(run, cfg, year, reach)
            col, row = round((t.c - gt.c) / gt.a), round((t.f - gt.f) / gt.e)
            win = Window(col, row, index.shape[1], index.shape[0])
            cur = dst.read(1, window=win)  # reaches own disjoint pixels: fill, never overwrite
            arr = _as_county_raster(index, codes)
            dst.write(np.where(arr > 0, arr, cur), 1, window=win)
    return out, "all reaches, region grid"


def _areas_by_value(path, value_col="value") -> tuple[int, dict, np.ndarray]:
    from nxgeo.vector_io import read_vector

    g = read_vector(path)
    areas = g.geometry.area.to_numpy()
    vals = g[value_col].astype(np.int64).to_numpy()
    by = {int(v): float(areas[vals == v].sum()) for v in np.unique(vals)}
    return len(g), by, np.sort(areas)


def compare_polygonize(
    run: Path, work: Path, cfg: dict, year: int, repeat: int = 1, region: bool = False
) -> dict:
    src, reach = (_polygonize_region_input if region else _polygonize_input)(run, work, cfg, year)
    a, b = work / f"{src.stem}_nxgeo.gpkg", work / f"{src.stem}_gdal.gpkg"
    for p in (a, b):
        if p.exists():
            p.unlink()
    ref_cmd = ["gdal_polygonize.py", "-q", "-8", src, "-f", "GPKG", b, "parcels", "value"]
    res = _pair(
        f"polygonise parcels (sand control, {'' if region else 'reach '}{reach})",
        [PYTHON, OPS, "polygonize", src, a],
        ref_cmd,
        repeat,
        ref_env={"OGR_SQLITE_JOURNAL": "MEMORY"},
    )
    # repeated runs append to an existing GeoPackage: the last run wrote into a fresh file
    na, by_a, ar_a = _areas_by_value(a)
    if repeat > 1:
        b.unlink()
        run_timed(ref_cmd, env={"OGR_SQLITE_JOURNAL": "MEMORY"}).check()
    nb, by_b, ar_b = _areas_by_value(b)
    with rasterio.open(src) as ds:
        n_px = int((ds.read(1) > 0).sum())
        px_area = abs(ds.transform.a * ds.transform.e)
    rel = max(
        (
            abs(by_a.get(k, 0) - by_b.get(k, 0)) / max(by_b.get(k, 1), 1)
            for k in set(by_a) | set(by_b)
        ),
        default=0.0,
    )
    areas_match = na == nb and np.allclose(ar_a, ar_b, rtol=1e-9, atol=1e-3)
    res["data"] = f"{src.relative_to(run)}: {n_px:,} parcel pixels ({_pixels(src):,} px raster)"
    res["reference"] = (
        "gdal_polygonize.py -8 to GeoPackage, OGR_SQLITE_JOURNAL=MEMORY (set in "
        "the environment: GDAL 3.6's script has no --config)"
    )
    res["check"] = {
        "features_nxgeo": na,
        "features_gdal": nb,
        "max_rel_area_diff_per_county": rel,
        "area_total_vs_pixels": sum(by_a.values()) / (n_px * px_area),
        "sorted_areas_equal": bool(areas_match),
        "ok": bool(na == nb and rel < 1e-9 and areas_match),
    }
    res["tolerance"] = (
        "same number of parcels (8-connected clumps per county), every parcel's "
        "area equal (sorted, 1e-3 m²), per-county area equal (1e-9 relative)"
    )
    return res


def compare_zonal(run: Path, work: Path, year: int, repeat: int = 1) -> dict:
    import geopandas as gpd
    import pandas as pd

    from nxgeo.vector_io import list_layers, read_vector, write_layers

    base = run / "results" / str(year) / "reaches"
    best, n = None, -1
    for d in sorted(base.iterdir()):
        g = d / "candidates.gpkg"
        if g.exists():
            k = sum(len(read_vector(g, lay)) for lay in list_layers(g))
            if k > n:
                best, n = d.name, k
    g = base / best / "candidates.gpkg"
    parts = [read_vector(g, lay)[["geometry"]] for lay in list_layers(g)]
    parcels = gpd.GeoDataFrame(
        pd.concat([p for p in parts if len(p)], ignore_index=True),
        geometry="geometry",
        crs=parts[0].crs,
    )
    pp = work / "parcels.gpkg"
    write_layers(pp, {"parcels": parcels})
    raster = base / best / "slope.tif"
    a, b = work / "zonal_exactextract.csv", work / "zonal_rasterstats.csv"
    rs_code = (
        "import sys, json, time, numpy as np, pandas as pd, geopandas as gpd\n"
        "from rasterstats import zonal_stats\n"
        "t = time.perf_counter()\n"
        "g = gpd.read_file(sys.argv[2])\n"
        "r = zonal_stats(g, sys.argv[1], stats=['mean', 'min', 'max', 'count'])\n"
        "df = pd.DataFrame(r); df.insert(0, 'pidx', np.arange(len(df)))\n"
        "df.to_csv(sys.argv[3], index=False)\n"
        "print(json.dumps({'seconds': round(time.perf_counter() - t, 3)}))\n"
    )
    res = _pair(
        f"zonal statistics of parcels ({len(parcels):,} parcels, reach {best})",
        [PYTHON, OPS, "zonal", raster, pp, a],
        [PYTHON, "-c", rs_code, raster, pp, b],
        repeat,
    )
    ea = pd.read_csv(a).sort_values("pidx")
    rb = pd.read_csv(b).sort_values("pidx")
    big = rb["count"].fillna(0).to_numpy() >= 20
    d = np.abs(ea["mean"].to_numpy() - rb["mean"].to_numpy())
    d_big = d[big & np.isfinite(d)]
    res["data"] = f"{raster.relative_to(run)} ({_pixels(raster):,} px), {len(parcels):,} parcels"
    res["reference"] = (
        "rasterstats.zonal_stats (nxgeo's zonal statistics ARE exactextract, so "
        "the comparison is exactextract vs rasterstats)"
    )
    res["check"] = {
        "parcels": len(parcels),
        "parcels_ge_20px": int(big.sum()),
        "median_abs_diff_mean_deg": float(np.median(d_big)) if d_big.size else None,
        "p95_abs_diff_mean_deg": float(np.percentile(d_big, 95)) if d_big.size else None,
        "min_equal_share": float(np.mean(np.isclose(ea["min"], rb["min"]) | ~big)),
    }
    res["check"]["ok"] = bool(d_big.size and res["check"]["p95_abs_diff_mean_deg"] <= 1.0)
    res["tolerance"] = (
        "different boundary rules (exactextract weights edge pixels by their "
        "covered fraction, rasterstats takes pixels whose centre is inside): "
        "mean slope within 1° for 95 % of the parcels of ≥ 20 pixels"
    )
    return res


def compare_clip(run: Path, work: Path, repeat: int = 1) -> dict:
    from nxgeo.clip import reach_polygon
    from nxgeo.vector_io import read_vector, write_layers

    year_dirs = sorted(p for p in (run / "results").iterdir() if p.name.isdigit())
    reach = _largest_reach(run, int(year_dirs[-1].name))
    vectors = run / "results" / "common" / "vectors.gpkg"
    src = run / "results" / "common" / "grid" / "dem.tif"
    poly = reach_polygon(vectors, reach)
    reaches = read_vector(vectors, "reaches")
    import geopandas as gpd
    from rasterio.windows import bounds as window_bounds

    from nxgeo.clip import polygon_window

    cut = work / "cutline.gpkg"
    write_layers(
        cut, {"cutline": gpd.GeoDataFrame({"id": [reach]}, geometry=[poly], crs=reaches.crs)}
    )
    with rasterio.open(src) as ds:
        win = polygon_window(poly, ds.transform, ds.width, ds.height)
        te = window_bounds(win, ds.transform)
        res_xy = (abs(ds.transform.a), abs(ds.transform.e))
    a, b = work / "clip_nxgeo.tif", work / "clip_gdalwarp.tif"
    # -crop_to_cutline snaps the extent inwards by a pixel on the sample's reaches; -te with the
    # cutline's bounds snapped outwards to the source pixels (nxgeo's rule) gives the same grid
    ref_cmd = [
        "gdalwarp",
        "-q",
        "-overwrite",
        "-cutline",
        cut,
        "-te",
        *[repr(float(v)) for v in te],
        "-tr",
        *[repr(float(v)) for v in res_xy],
        "-dstnodata",
        "-9999",
        "-of",
        "COG",
        *COG_CO,
        src,
        b,
    ]
    res = _pair(
        f"clip to a reach ({reach})", [PYTHON, OPS, "clip", src, vectors, reach, a], ref_cmd, repeat
    )
    res["data"] = f"{src.relative_to(run)} ({_pixels(src):,} px) cut to reach {reach}"
    res["reference"] = (
        "gdalwarp -cutline, -te = the cutline's bounds snapped outwards to the "
        "source pixels, -of COG (same COG creation options)"
    )
    res["check"] = _compare_rasters(a, b, atol=0.0)
    res["tolerance"] = (
        "same grid (extent snapped to the source pixels), same nodata, identical values"
    )
    return res


#: the peers environment (scripts/install_peers.sh; PEERS_VENV as there)
PEERS_PYTHON = Path(os.environ.get("PEERS_VENV", BENCH.parent / ".venv-peers")) / "bin" / "python"


def _peers_ok() -> bool:
    import subprocess

    if not PEERS_PYTHON.exists():
        return False
    return (
        subprocess.run(
            [str(PEERS_PYTHON), "-c", "import pygeoprocessing.routing"], capture_output=True
        ).returncode
        == 0
    )


def compare_flow(run: Path, work: Path, repeat: int = 1) -> dict:
    """Flow accumulation of the largest reach's DEM: nxgeo vs pygeoprocessing (same file)."""
    from nxgeo.terrain.hydrology import _D8, _boundary_mask, _valid_mask

    best, size = None, -1
    for d in sorted((run / "results" / "common" / "reaches").iterdir()):
        p = d / "dem.tif"
        if p.exists() and _pixels(p) > size:
            best, size = d.name, _pixels(p)
    dem = run / "results" / "common" / "reaches" / best / "dem.tif"
    a, b, pw = work / "flowacc_nxgeo.tif", work / "flowacc_pgp.tif", work / "pgp_routing"
    res = _pair(
        f"D8 flow accumulation (reach {best})",
        [PYTHON, OPS, "flowacc", dem, a],
        [str(PEERS_PYTHON), str(BENCH / "peer_flow.py"), dem, b, pw],
        repeat,
    )
    res["data"] = f"{dem.relative_to(run)} ({size:,} px)"
    res["reference"] = (
        "pygeoprocessing 2.4 fill_pits -> flow_dir_d8 -> flow_accumulation_d8 "
        "(InVEST SDR's D8 routing)"
    )
    with rasterio.open(dem) as ds:
        z, nd, (xr, yr) = ds.read(1), ds.nodata, ds.res
    valid = _valid_mask(z, nd)
    with (
        rasterio.open(a) as x,
        rasterio.open(b) as y,
        rasterio.open(pw / "filled.tif") as f,
        rasterio.open(pw / "flow_dir.tif") as fd,
    ):
        ours, theirs = x.read(1), y.read(1)
        their_fill, their_dir = f.read(1), fd.read(1)
    from nxgeo.terrain.hydrology import _d8_codes, _fill_tiled

    fill = _fill_tiled(z, valid, 1024)
    code = _d8_codes(fill, valid, _boundary_mask(valid), abs(xr), abs(yr))
    # plateau cells: no strictly lower neighbour on the filled DEM
    fz = np.where(valid, fill, np.inf)
    pad = np.pad(fz, 1, constant_values=np.inf)
    lower = np.zeros_like(valid)
    for dr, dc in _D8:
        lower |= pad[1 + dr : 1 + dr + z.shape[0], 1 + dc : 1 + dc + z.shape[1]] < fz
    flat = valid & ~lower
    n = int(valid.sum())
    eq = valid & (ours == theirs)
    res["check"] = {
        "cells": n,
        "filled_dem_identical": bool(np.array_equal(fill[valid], their_fill[valid])),
        "directions_equal_off_plateaus": float(
            np.mean(code[valid & ~flat] == their_dir[valid & ~flat])
        ),
        "plateau_cells": int(flat.sum()),
        "accumulation_equal_share": round(float(eq.sum()) / max(n, 1), 4),
        "max_accumulation_nxgeo": float(ours[valid].max()),
        "max_accumulation_pgp": float(theirs[valid].max()),
    }
    res["tolerance"] = (
        "same filled DEM and the same D8 direction on every cell with a lower "
        "neighbour; plateaus are resolved differently (nxgeo: breadth-first "
        "to the nearest drain; pygeoprocessing: its plateau-distance walk), so "
        "accumulations below a plateau differ"
    )
    res["check"]["ok"] = (
        res["check"]["filled_dem_identical"]
        and res["check"]["directions_equal_off_plateaus"] == 1.0
    )
    return res


def run_all(
    run: Path, cfg: dict, year: int, repeat: int = 1, log=print, only: list[str] | None = None
) -> list[dict]:
    work = run / "compare"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    have = {
        t: shutil.which(t) is not None
        for t in ("gdaldem", "gdal_calc.py", "gdal_polygonize.py", "gdalwarp")
    }
    have["pygeoprocessing"] = _peers_ok()
    steps = [
        ("slope", "gdaldem", lambda: compare_slope(run, work, repeat)),
        ("overlay", "gdal_calc.py", lambda: compare_overlay(run, work, cfg, year, repeat=repeat)),
        (
            "polygonize",
            "gdal_polygonize.py",
            lambda: compare_polygonize(run, work, cfg, year, repeat),
        ),
        (
            "polygonize",
            "gdal_polygonize.py",
            lambda: compare_polygonize(run, work, cfg, year, repeat, region=True),
        ),
        ("zonal", None, lambda: compare_zonal(run, work, year, repeat)),
        ("clip", "gdalwarp", lambda: compare_clip(run, work, repeat)),
        ("flow", "pygeoprocessing", lambda: compare_flow(run, work, repeat)),
    ]
    out = []
    for key, tool, fn in steps:
        if only and key not in only:
            continue
        if tool and not have[tool]:
            hint = (
                "make peers"
                if tool == "pygeoprocessing"
                else "apt-get install gdal-bin python3-gdal"
            )
            out.append({"name": key, "skipped": f"{tool} not found ({hint})"})
            continue
        if key == "zonal":
            try:
                import rasterstats  # noqa: F401
            except ImportError:
                out.append(
                    {"name": key, "skipped": "rasterstats not installed (pip install rasterstats)"}
                )
                continue
        log(f"comparison: {key}")
        try:
            out.append(fn())
        except Exception as exc:
            out.append({"name": key, "error": f"{type(exc).__name__}: {exc}"})
        os.sync()
    return out
