"""Pipeline stages of the ecosystem-service accounting (DOMAIN.md §7).

* `services_reach` — per reach and year, block by block: carbon stock (t C), soil retention
  (t/yr), sand fixation (t/yr) and water conservation (m³/yr) per pixel, as COGs.
* `services_year` — per county (by zone_county.tif) and per reach: physical quantities, values
  (CNY) and the GEP regulating sum, as CSV (UTF-8 with BOM).
* `compare_services` — carbon sequestration and the change of every service between two years.
* `parcel_gains` — the change in every service if a candidate parcel takes its recommended
  target use.

The per-pixel models are `compute_services` (one call for any array shape); all parameters come
from `services:` of the config, the carbon-pool table and the prices table (`load_params`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import rasterio

from ..atomic import temp_dir_beside, write_csv, write_json
from ..errors import ConfigError, InputError
from ..grid import Grid, block_windows
from ..raster_io import to_cog
from . import carbon as _carbon
from . import rusle as _rusle
from . import rweq as _rweq
from . import water_conservation as _wc
from .params import (
    cfg_get,
    class_ids,
    class_lut,
    class_mask,
    lookup,
    price,
    read_classes,
    read_prices,
)
from .valuation import PRICE_ITEMS, SERVICE_COLUMNS, add_values

log = logging.getLogger("nxgeo.services")

NODATA = -9999.0
# name of the output raster -> key of compute_services' result
SERVICE_LAYERS = {"carbon_stock_t": "carbon_t", "soil_retention_t": "soil_t",
                  "sand_fixation_t": "sand_t", "water_conservation_m3": "water_m3"}
# optional extra layers services_reach can write
EXTRA_LAYERS = {"soil_loss_t": "soil_loss_t", "soil_loss_potential_t": "soil_potential_t",
                "wind_erosion_t": "wind_loss_t"}
OPTIONAL_RASTERS = ("fvc", "soil_k", "sand_fraction", "wind_factor")
META_NAME = "services_meta.json"
PHYSICAL = {"carbon_t": "carbon_stock_t_c", "soil_t": "soil_retention_t",
            "sand_t": "sand_fixation_t", "water_m3": "water_conservation_m3"}


# --------------------------------------------------------------------------------------------
# Parameters
# --------------------------------------------------------------------------------------------


@dataclass
class ServiceParams:
    """Lookup tables (indexed by canonical class id) and scalars of the four service models."""

    classes: pd.DataFrame
    co2_per_c: float
    carbon: np.ndarray
    rusle: dict
    k: np.ndarray
    c: np.ndarray
    p: np.ndarray
    rusle_excluded: np.ndarray
    rweq: dict
    c_coeff: np.ndarray
    ef: np.ndarray
    scf: np.ndarray
    k_prime: np.ndarray
    rweq_excluded: np.ndarray
    wf: float
    texture: dict
    fvc: np.ndarray
    runoff: np.ndarray
    et_ratio: np.ndarray
    et_mm: np.ndarray
    prices: dict = field(default_factory=dict)


def load_params(cfg_services: Mapping, carbon_csv, classes_table, prices_csv=None
                ) -> ServiceParams:
    """Read every parameter of the service models (config `services:`, carbon and prices
    tables). Errors name the config key or table and what is missing."""
    cfg = dict(cfg_services or {})
    classes = read_classes(classes_table)
    problems: list[str] = []

    def lut(path: str, default=None, required: bool = True) -> np.ndarray:
        table = cfg_get(cfg, path)
        if table is None:
            if required:
                problems.append(f"services.{path}: missing (a table by canonical class)")
            return np.full(256, np.nan if default is None else float(default))
        try:
            return class_lut(table, classes, f"services.{path}", default)
        except ConfigError as e:
            problems.extend(e.problems)
            return np.full(256, np.nan)

    def mask(path: str) -> np.ndarray:
        try:
            return class_mask(cfg_get(cfg, path, []), classes, f"services.{path}")
        except ConfigError as e:
            problems.extend(e.problems)
            return np.zeros(256, bool)

    rus_excl, rweq_excl = mask("rusle.exclude_classes"), mask("rweq.exclude_classes")
    params = ServiceParams(
        classes=classes,
        co2_per_c=float(cfg.get("co2_per_c", _carbon.CO2_PER_C)),
        carbon=_carbon.density_lut(_carbon.read_carbon_table(carbon_csv)),
        rusle=_rusle.rusle_params(cfg.get("rusle")),
        k=lut("rusle.k_by_class"), c=lut("rusle.c_by_class"),
        p=lut("rusle.p_by_class", default=1.0, required=False),
        rusle_excluded=rus_excl,
        rweq=_rweq.rweq_params(cfg.get("rweq")),
        c_coeff=lut("rweq.c_coeff"), ef=lut("rweq.ef_by_class"), scf=lut("rweq.scf_by_class"),
        k_prime=lut("rweq.k_prime_by_class"), rweq_excluded=rweq_excl,
        wf=float(cfg_get(cfg, "rweq.wf_kg_per_m", np.nan)),
        texture=dict(cfg_get(cfg, "rweq.texture", {}) or {}),
        fvc=lut("fvc_by_class"),
        runoff=lut("water_conservation.runoff_coeff"),
        et_ratio=lut("water_conservation.et_ratio_by_class",
                     required=not cfg_get(cfg, "water_conservation.et_mm_by_class")),
        et_mm=lut("water_conservation.et_mm_by_class", required=False),
    )
    if problems:
        raise ConfigError(problems, source="config services")
    # excluded classes need no coefficients: give them neutral values so lookups never fail
    for arr in (params.k, params.c, params.p):
        arr[rus_excl & np.isnan(arr)] = 0.0
    for arr in (params.c_coeff, params.ef, params.scf, params.k_prime, params.fvc):
        arr[rweq_excl & np.isnan(arr)] = 0.0
    if prices_csv is not None:
        params.prices = read_prices(prices_csv)
        for item in PRICE_ITEMS.values():
            price(params.prices, item, str(prices_csv))
    return params


# --------------------------------------------------------------------------------------------
# Per-pixel models
# --------------------------------------------------------------------------------------------


def _finite_or(arr, fallback: np.ndarray) -> np.ndarray:
    """`arr` where finite, else `fallback` (arr may be None)."""
    if arr is None:
        return fallback
    a = np.asarray(arr, dtype=np.float64)
    return np.where(np.isfinite(a), a, fallback)


def compute_services(params: ServiceParams, landuse, precip_mm, ls, pixel_ha, *,
                     fvc=None, soil_k=None, sand_fraction=None, wind_factor=None,
                     rusle_c=None, fvc_for_rusle: bool | None = None) -> dict[str, np.ndarray]:
    """The four services for every element of `landuse` (any shape; arrays broadcast).

    `precip_mm`, `ls`: NaN where unknown (their services are then NaN). Optional per-pixel
    inputs (NaN where unknown → the class fallback): `fvc` (0–1), `soil_k`, `sand_fraction`
    (0–1), `wind_factor` (kg/m); `rusle_c` overrides the RUSLE C where finite. RUSLE C comes
    from `fvc` when `fvc_for_rusle` (default: whenever `fvc` is given), else from c_by_class.
    `pixel_ha`: area per element (ha). Returns float64 arrays, NaN where landuse is 0:
    carbon_t (t C), soil_t, soil_loss_t, soil_potential_t (t/yr), sand_t, wind_loss_t (t/yr),
    water_m3 (m³/yr), plus the factors r, c_rusle, c_rweq, fvc for inspection.
    """
    lu = np.asarray(landuse)
    valid = lu != 0
    cls = params.classes

    def look(table, key):
        return lookup(table, lu, valid, key, cls)

    area = np.asarray(pixel_ha, dtype=np.float64)
    out: dict[str, np.ndarray] = {}
    out["carbon_t"] = _carbon.carbon_stock(lu, params.carbon, 1.0, valid) * area
    p_mm = np.where(valid, np.asarray(precip_mm, dtype=np.float64), np.nan)
    ls_v = np.where(valid, np.asarray(ls, dtype=np.float64), np.nan)

    # RUSLE
    rp = params.rusle
    r = _rusle.erosivity(p_mm, rp["a"], rp["b"], rp["switch_mm"], rp["quadratic"])
    k = _finite_or(soil_k, look(params.k, "services.rusle.k_by_class"))
    c_cls = look(params.c, "services.rusle.c_by_class")
    if fvc_for_rusle is None:
        fvc_for_rusle = fvc is not None
    if fvc_for_rusle and fvc is not None:
        c_cls = _finite_or(_rusle.c_from_fvc(fvc, **rp["c_fvc"]), c_cls)
    c = _finite_or(rusle_c, c_cls)
    pf = look(params.p, "services.rusle.p_by_class")
    loss = _rusle.soil_loss(r, k, ls_v, c, pf)
    excl = params.rusle_excluded[np.where(valid, lu, 0).astype(np.intp)]
    for key, name in (("retention", "soil_t"), ("actual", "soil_loss_t"),
                      ("potential", "soil_potential_t")):
        v = np.where(excl & valid, 0.0, loss[key]) * area
        out[name] = v
    out["r"], out["c_rusle"] = r, np.where(valid, c, np.nan)

    # RWEQ
    fv = _finite_or(fvc, look(params.fvc, "services.fvc_by_class"))
    a = look(params.c_coeff, "services.rweq.c_coeff")
    c_w = _rweq.rweq_c(fv, a)
    if sand_fraction is not None:
        ef_t, scf_t = _rweq.ef_scf_from_sand_fraction(sand_fraction, params.texture)
    else:
        ef_t = scf_t = None
    ef = _finite_or(ef_t, look(params.ef, "services.rweq.ef_by_class"))
    scf = _finite_or(scf_t, look(params.scf, "services.rweq.scf_by_class"))
    kp = look(params.k_prime, "services.rweq.k_prime_by_class")
    wf = _finite_or(wind_factor, np.full(lu.shape, params.wf))
    if np.isnan(params.wf) and (wind_factor is None or np.isnan(wf[valid]).any()):
        raise ConfigError([("services.rweq.wf_kg_per_m: missing, and no wind_factor raster value"
                           " for every pixel")])
    sf = _rweq.sand_fixation(wf, ef, scf, kp, c_w, **params.rweq)
    excl_w = params.rweq_excluded[np.where(valid, lu, 0).astype(np.intp)] & valid
    kg_to_t = _rweq.T_PER_HA_PER_KG_PER_M2
    out["sand_t"] = np.where(excl_w, 0.0, sf["fixed"] * kg_to_t) * area
    out["wind_loss_t"] = np.where(excl_w, 0.0, sf["actual"] * kg_to_t) * area
    out["c_rweq"], out["fvc"] = np.where(valid, c_w, np.nan), np.where(valid, fv, np.nan)

    # water conservation
    runoff = look(params.runoff, "services.water_conservation.runoff_coeff")
    et_fixed = params.et_mm[np.where(valid, lu, 0).astype(np.intp)]
    et_ratio = params.et_ratio[np.where(valid, lu, 0).astype(np.intp)]
    missing = valid & np.isnan(et_fixed) & np.isnan(et_ratio)
    if missing.any():
        lookup(params.et_ratio, lu, missing, "services.water_conservation.et_ratio_by_class", cls)
    et = _wc.et_mm(p_mm, et_ratio, et_fixed)
    out["water_m3"] = _wc.mm_to_m3(_wc.water_conservation_mm(p_mm, runoff, et), area)
    for key in ("carbon_t", "soil_t", "soil_loss_t", "soil_potential_t", "sand_t",
                "wind_loss_t", "water_m3"):
        out[key] = np.where(valid, out[key], np.nan)
    return out


# --------------------------------------------------------------------------------------------
# Stage: one reach
# --------------------------------------------------------------------------------------------


def _read_float(ds, window) -> np.ndarray:
    a = ds.read(1, window=window).astype(np.float64)
    if ds.nodata is not None and not np.isnan(ds.nodata):
        a[a == ds.nodata] = np.nan
    a[~np.isfinite(a)] = np.nan
    return a


def _float_profile(grid: Grid) -> dict:
    """Temporary float32 GeoTIFF, copied to a COG at the end (uncompressed: see
    raster_io.uncompressed)."""
    from ..prepare import gtiff_profile
    from ..raster_io import uncompressed

    return uncompressed(gtiff_profile(grid, "float32", NODATA))


def services_reach(reach_dir, cfg_services: Mapping, carbon_csv, prices_csv, classes_table,
                   out_dir, *, rasters: Mapping[str, str | Path | None] | None = None,
                   extra_layers=(), block_rows: int = 512) -> dict[str, Path]:
    """Service rasters of one reach and year (t or m³ per pixel, float32 COG, nodata −9999):
    carbon_stock_t.tif, soil_retention_t.tif, sand_fixation_t.tif, water_conservation_m3.tif
    (+ `extra_layers` among soil_loss_t, soil_loss_potential_t, wind_erosion_t), and
    services_meta.json (parameters, prices, totals, coverage of the inputs).

    Reads landuse.tif, precipitation.tif and ls.tif of `reach_dir`; the optional rasters
    (fvc, soil_k, sand_fraction, wind_factor) from `rasters` (name -> path or None), or, when
    `rasters` is None, from `reach_dir/<name>.tif` where that file exists. Processed in square
    blocks of `block_rows` pixels a side (memory bounded by the block, not by the reach); all
    inputs must be on the land-use grid.
    """
    reach_dir, out_dir = Path(reach_dir), Path(out_dir)
    params = load_params(cfg_services, carbon_csv, classes_table, prices_csv)
    inputs = {"landuse": reach_dir / "landuse.tif",
              "precipitation": reach_dir / "precipitation.tif", "ls": reach_dir / "ls.tif"}
    for name, path in inputs.items():
        if not path.exists():
            raise InputError(f"{path}: {name} raster of the reach not found")
    if rasters is None:
        optional = {n: reach_dir / f"{n}.tif" for n in OPTIONAL_RASTERS
                    if (reach_dir / f"{n}.tif").exists()}
    else:
        unknown = sorted(set(rasters) - set(OPTIONAL_RASTERS))
        if unknown:
            raise ValueError(f"unknown optional raster(s) {unknown}; known: {OPTIONAL_RASTERS}")
        optional = {n: Path(p) for n, p in rasters.items() if p}
    grid = Grid.from_raster(inputs["landuse"])
    for name, path in {**inputs, **optional}.items():
        if not path.exists():
            raise InputError(f"{path}: {name} raster not found")
        if not Grid.from_raster(path).matches(grid):
            raise InputError(f"{path}: {name} is not on the grid of {inputs['landuse']}")
    layers = dict(SERVICE_LAYERS)
    for name in extra_layers:
        if name not in EXTRA_LAYERS:
            raise ValueError(f"unknown extra layer {name!r}; known: {list(EXTRA_LAYERS)}")
        layers[name] = EXTRA_LAYERS[name]
    px_ha = grid.pixel_area / 10_000.0
    totals = dict.fromkeys(layers, 0.0)
    counts = {"valid_px": 0, "no_precipitation_px": 0, "no_ls_px": 0}
    out_dir.mkdir(parents=True, exist_ok=True)
    profile = _float_profile(grid)
    from ..prepare import strip_rows

    rows = strip_rows(profile, block_rows)
    srcs = {}
    with temp_dir_beside(out_dir / "services") as td:
        tmp = {name: Path(td) / f"{name}.tif" for name in layers}
        dsts = {}
        try:
            for name, path in {**inputs, **optional}.items():
                srcs[name] = rasterio.open(path)
            for name, path in tmp.items():
                dsts[name] = rasterio.open(path, "w", **profile)
            for win in block_windows(grid.width, grid.height, rows):
                lu_ds = srcs["landuse"]
                lu = lu_ds.read(1, window=win)
                if lu_ds.nodata is not None and lu_ds.nodata != 0:
                    lu = np.where(lu == lu_ds.nodata, 0, lu)
                valid = lu != 0
                prec = _read_float(srcs["precipitation"], win)
                ls = _read_float(srcs["ls"], win)
                opt = {n: _read_float(srcs[n], win) for n in optional}
                res = compute_services(params, lu, prec, ls, px_ha, fvc=opt.get("fvc"),
                                       soil_k=opt.get("soil_k"),
                                       sand_fraction=opt.get("sand_fraction"),
                                       wind_factor=opt.get("wind_factor"))
                counts["valid_px"] += int(valid.sum())
                counts["no_precipitation_px"] += int((valid & np.isnan(prec)).sum())
                counts["no_ls_px"] += int((valid & np.isnan(ls)).sum())
                for name, key in layers.items():
                    a = res[key]
                    totals[name] += float(np.nansum(a))
                    dsts[name].write(np.where(np.isnan(a), NODATA, a).astype(np.float32), 1,
                                     window=win)
        finally:
            for ds in (*srcs.values(), *dsts.values()):
                ds.close()
        written = {}
        for name, path in tmp.items():
            with rasterio.open(path, "r+") as ds:
                ds.update_tags(unit="m3 per pixel" if name.endswith("m3") else "t per pixel",
                               service=name)
            written[name] = to_cog(path, out_dir / f"{name}.tif")
    if counts["no_precipitation_px"] or counts["no_ls_px"]:
        log.warning("%s: %d land pixels without precipitation and %d without LS: their soil "
                    "retention / water conservation are nodata (counted as 0 in sums)",
                    reach_dir, counts["no_precipitation_px"], counts["no_ls_px"])
    meta = {
        "reach_dir": str(reach_dir), "pixel_ha": px_ha, "co2_per_c": params.co2_per_c,
        "prices": {k: params.prices[k] for k in PRICE_ITEMS.values()},
        "optional_rasters": {k: str(v) for k, v in optional.items()},
        "totals": totals, "counts": counts,
        "rusle": {k: v for k, v in params.rusle.items()}, "rweq": params.rweq,
        "wf_kg_per_m": params.wf,
    }
    write_json(meta, out_dir / META_NAME)
    written["meta"] = out_dir / META_NAME
    return written


# --------------------------------------------------------------------------------------------
# Stage: one year, per county and reach
# --------------------------------------------------------------------------------------------


def _service_path(d: Path, name: str, subdir: str) -> Path:
    for p in (d / subdir / f"{name}.tif", d / f"{name}.tif"):
        if p.exists():
            return p
    raise InputError(f"{d}: service raster {name}.tif not found (looked in {d / subdir} and {d}); "
                     f"run services_reach first")


def _offsets(grids: dict[str, Grid]) -> dict[str, tuple[int, int]]:
    """(row, col) offset of every reach grid on the first one's lattice; error if not aligned."""
    names = list(grids)
    g0 = grids[names[0]]
    xres, yres = g0.resolution
    out = {}
    for n in names:
        g = grids[n]
        if g.rasterio_crs != g0.rasterio_crs or not np.allclose(g.resolution, g0.resolution):
            raise InputError(f"reach {n}: grid {g.crs} {g.resolution} differs from reach "
                             f"{names[0]} ({g0.crs} {g0.resolution}); reaches must share the "
                             f"analysis grid")
        col = (g.transform.c - g0.transform.c) / xres
        row = (g0.transform.f - g.transform.f) / yres
        if abs(col - round(col)) > 1e-6 or abs(row - round(row)) > 1e-6:
            raise InputError(f"reach {n}: grid is not aligned with reach {names[0]}'s pixels")
        out[n] = (round(row), round(col))
    return out


def _overlap_masks(landuse_paths: dict[str, Path]) -> dict[str, np.ndarray]:
    """Pixels of a reach already covered by an earlier reach (reaches may overlap): a bool
    array per reach with any such pixel. County sums count those pixels once (first reach)."""
    grids = {n: Grid.from_raster(p) for n, p in landuse_paths.items()}
    offs = _offsets(grids)
    names = list(grids)
    claimed: dict[str, np.ndarray] = {}
    for j, nj in enumerate(names):
        rj, cj = offs[nj]
        hj, wj = grids[nj].shape
        for ni in names[:j]:
            ri, ci = offs[ni]
            hi, wi = grids[ni].shape
            r0, r1 = max(ri, rj), min(ri + hi, rj + hj)
            c0, c1 = max(ci, cj), min(ci + wi, cj + wj)
            if r0 >= r1 or c0 >= c1:
                continue
            win_i = rasterio.windows.Window(c0 - ci, r0 - ri, c1 - c0, r1 - r0)
            win_j = rasterio.windows.Window(c0 - cj, r0 - rj, c1 - c0, r1 - r0)
            with rasterio.open(landuse_paths[ni]) as a, rasterio.open(landuse_paths[nj]) as b:
                both = (a.read_masks(1, window=win_i) > 0) & (b.read_masks(1, window=win_j) > 0)
            if both.any():
                m = claimed.setdefault(nj, np.zeros((hj, wj), bool))
                m[r0 - rj:r1 - rj, c0 - cj:c1 - cj] |= both
                log.warning("reaches %s and %s overlap on %d pixels; county sums count them "
                            "once (in %s)", ni, nj, int(both.sum()), ni)
    return claimed


def _prices_from_meta(reach_dirs: Mapping[str, Path], subdir: str) -> tuple[dict, float]:
    found = []
    for name, d in reach_dirs.items():
        for p in (Path(d) / subdir / META_NAME, Path(d) / META_NAME):
            if p.exists():
                meta = json.loads(p.read_text(encoding="utf-8"))
                found.append((name, meta["prices"], float(meta["co2_per_c"])))
                break
    if not found:
        raise InputError(f"no {META_NAME} in the reach folders and no prices_csv given")
    first = found[0]
    for name, pr, co2 in found[1:]:
        if pr != first[1] or co2 != first[2]:
            raise InputError(f"reaches {first[0]} and {name} were computed with different prices "
                             f"or co2_per_c; rerun services_reach for all reaches")
    return first[1], first[2]


def services_year(reach_dirs: Mapping[str, str | Path], year: int, vectors_gpkg,
                  out_county_csv, out_reach_csv, *, prices_csv=None, co2_per_c: float | None = None,
                  subdir: str = "services", block_rows: int = 512) -> tuple[pd.DataFrame,
                                                                              pd.DataFrame]:
    """Per county and per reach: area, physical quantities, values (CNY) and the GEP regulating
    sum of one year (CSV, UTF-8 with BOM).

    `reach_dirs`: reach id -> folder with landuse.tif, zone_county.tif and the service rasters
    (in `<dir>/<subdir>/` or `<dir>/`). Prices and co2_per_c: `prices_csv` / `co2_per_c`, else
    the ones recorded by `services_reach` (services_meta.json; all reaches must agree).
    Counties are attributed by zone_county.tif (pixel centre rule), summed with np.bincount;
    pixels outside every county form a row ``zone_id = "none"``; pixels shared by overlapping
    reaches count once in the county sums. Every county of the vectors appears (0 when no reach
    covers it); reach rows follow `reach_dirs`.
    """
    from ..vector_io import read_vector

    dirs = {k: Path(v) for k, v in reach_dirs.items()}
    if not dirs:
        raise InputError("services_year: no reach folders given")
    if prices_csv is not None:
        prices = read_prices(prices_csv)
        for item in PRICE_ITEMS.values():
            price(prices, item, str(prices_csv))
        meta_co2 = None
    else:
        prices, meta_co2 = _prices_from_meta(dirs, subdir)
    if co2_per_c is None:
        co2_per_c = meta_co2 if meta_co2 is not None else _carbon.CO2_PER_C
    counties = read_vector(vectors_gpkg, "counties")
    reaches_v = read_vector(vectors_gpkg, "reaches")
    c_ids = counties["id"].astype(str).str.strip()
    c_names = dict(zip(c_ids, counties["name"].astype(str) if "name" in counties else c_ids))
    code_list = sorted({int(c) for c in c_ids})
    codes = np.array(code_list, dtype=np.int64)
    r_names = dict(zip(reaches_v["id"].astype(str),
                       reaches_v["name"].astype(str) if "name" in reaches_v else reaches_v["id"]))
    lu_paths = {n: d / "landuse.tif" for n, d in dirs.items()}
    for n, p in lu_paths.items():
        if not p.exists():
            raise InputError(f"{p}: land use of reach {n} not found")
    claimed = _overlap_masks(lu_paths)
    keys = ["area_ha", *PHYSICAL.values()]
    n_c = len(codes) + 1  # last bucket: outside every county
    county_sums = {k: np.zeros(n_c) for k in keys}
    reach_rows = []
    unknown_codes: set[int] = set()
    for name, d in dirs.items():
        paths = {"county": d / "zone_county.tif"}
        if not paths["county"].exists():
            raise InputError(f"{paths['county']}: county zone raster of reach {name} not found")
        for key, layer in (("carbon_t", "carbon_stock_t"), ("soil_t", "soil_retention_t"),
                           ("sand_t", "sand_fixation_t"), ("water_m3", "water_conservation_m3")):
            paths[key] = _service_path(d, layer, subdir)
        grid = Grid.from_raster(lu_paths[name])
        for p in paths.values():
            if not Grid.from_raster(p).matches(grid):
                raise InputError(f"{p}: not on the grid of {lu_paths[name]}")
        px_ha = grid.pixel_area / 10_000.0
        rsum = dict.fromkeys(keys, 0.0)
        ds = {k: rasterio.open(p) for k, p in {**paths, "landuse": lu_paths[name]}.items()}
        try:
            for win in block_windows(grid.width, grid.height, block_rows):
                valid = ds["landuse"].read_masks(1, window=win) > 0
                if name in claimed:
                    r0, c0 = int(win.row_off), int(win.col_off)
                    own = ~claimed[name][r0:r0 + int(win.height), c0:c0 + int(win.width)]
                else:
                    own = np.ones(valid.shape, bool)
                county = ds["county"].read(1, window=win).astype(np.int64)
                idx = np.searchsorted(codes, county)
                idx_c = np.minimum(idx, len(codes) - 1) if len(codes) else idx
                known = (county != 0) & (len(codes) > 0)
                if len(codes):
                    known &= codes[idx_c] == county
                bad = valid & (county != 0) & ~known
                if bad.any():
                    unknown_codes |= set(np.unique(county[bad]).tolist())
                bucket = np.where(known, idx_c, len(codes))
                vals = {"area_ha": np.where(valid, px_ha, 0.0)}
                for key, col in PHYSICAL.items():
                    a = _read_float(ds[key], win)
                    vals[col] = np.where(valid & np.isfinite(a), a, 0.0)
                sel = valid & own
                b = bucket[sel]
                for col in keys:
                    rsum[col] += float(vals[col].sum())
                    county_sums[col] += np.bincount(b, weights=vals[col][sel], minlength=n_c)
        finally:
            for x in ds.values():
                x.close()
        reach_rows.append({"zone_kind": "reach", "zone_id": str(name),
                           "zone_name": r_names.get(str(name), str(name)), "year": int(year),
                           **rsum})
    if unknown_codes:
        raise InputError(f"zone_county rasters hold county code(s) {sorted(unknown_codes)} that "
                         f"are not in the counties layer of {vectors_gpkg}")
    rows = [{"zone_kind": "county", "zone_id": str(code),
             "zone_name": c_names.get(str(code), str(code)), "year": int(year),
             **{k: float(county_sums[k][i]) for k in keys}} for i, code in enumerate(code_list)]
    if county_sums["area_ha"][-1] > 0:
        log.warning("%.1f ha of land in the reaches lie outside every county polygon",
                    county_sums["area_ha"][-1])
        rows.append({"zone_kind": "county", "zone_id": "none",
                     "zone_name": "县界外 outside counties", "year": int(year),
                     **{k: float(county_sums[k][-1]) for k in keys}})
    county_df = add_values(pd.DataFrame(rows), prices, co2_per_c)
    reach_df = add_values(pd.DataFrame(reach_rows), prices, co2_per_c)
    write_csv(county_df, out_county_csv)
    write_csv(reach_df, out_reach_csv)
    return county_df, reach_df


# --------------------------------------------------------------------------------------------
# Stage: comparison of two years
# --------------------------------------------------------------------------------------------

_CHANGE_COLS = ["area_ha", "soil_retention_t", "soil_retention_value_cny", "sand_fixation_t",
                "sand_fixation_value_cny", "water_conservation_m3",
                "water_conservation_value_cny", "carbon_value_cny", "gep_regulating_cny"]


def _read_services_csv(path) -> pd.DataFrame:
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: services table not found")
    df = pd.read_csv(path, dtype={"zone_id": str}, encoding="utf-8-sig")
    need = {"zone_kind", "zone_id", "carbon_stock_t_c", *_CHANGE_COLS}
    missing = sorted(need - set(df.columns))
    if missing:
        raise InputError(f"{path}: column(s) {missing} missing; expected a services_year table")
    return df


def compare_tables(a: pd.DataFrame, b: pd.DataFrame, year_a: int, year_b: int,
                   carbon_price: float | None = None, co2_per_c: float = _carbon.CO2_PER_C
                   ) -> pd.DataFrame:
    """Change of every service between two services_year tables (zones matched by kind+id).

    carbon_sequestration_t_c = stock(B) − stock(A), also in t CO₂, per year (÷ (year_b −
    year_a)) and valued at `carbon_price` (CNY/t CO₂; default: the price implied by table B).
    ``d_<col>`` = B − A for every other quantity and value; ``gep_regulating_flow_cny`` = the
    yearly sequestration value + soil, sand and water values of year B (a flow-only GEP).
    Zones found in only one table get status ``only_in_<year>`` and NaN changes.
    """
    if int(year_b) <= int(year_a):
        raise ValueError(f"year_b ({year_b}) must be after year_a ({year_a})")
    years = int(year_b) - int(year_a)
    if carbon_price is None:
        co2 = b["carbon_stock_t_co2"].sum() if "carbon_stock_t_co2" in b else 0.0
        carbon_price = float(b["carbon_value_cny"].sum() / co2) if co2 > 0 else 0.0
    m = a.merge(b, on=["zone_kind", "zone_id"], how="outer", suffixes=("_a", "_b"),
                indicator=True, sort=False)
    out = pd.DataFrame({"zone_kind": m["zone_kind"], "zone_id": m["zone_id"],
                        "zone_name": m["zone_name_b"].fillna(m["zone_name_a"]),
                        "year_from": int(year_a), "year_to": int(year_b)})
    out["status"] = np.select([m["_merge"] == "left_only", m["_merge"] == "right_only"],
                              [f"only_in_{year_a}", f"only_in_{year_b}"], "ok")
    out["carbon_stock_t_c_from"] = m["carbon_stock_t_c_a"]
    out["carbon_stock_t_c_to"] = m["carbon_stock_t_c_b"]
    seq = m["carbon_stock_t_c_b"] - m["carbon_stock_t_c_a"]
    out["carbon_sequestration_t_c"] = seq
    out["carbon_sequestration_t_co2"] = seq * float(co2_per_c)
    out["carbon_sequestration_t_co2_per_yr"] = out["carbon_sequestration_t_co2"] / years
    out["carbon_sequestration_value_cny"] = out["carbon_sequestration_t_co2"] * carbon_price
    for col in _CHANGE_COLS:
        out[f"{col}_from"] = m[f"{col}_a"]
        out[f"{col}_to"] = m[f"{col}_b"]
        out[f"d_{col}"] = m[f"{col}_b"] - m[f"{col}_a"]
    out["gep_regulating_flow_cny"] = (out["carbon_sequestration_value_cny"] / years
                                      + m["soil_retention_value_cny_b"]
                                      + m["sand_fixation_value_cny_b"]
                                      + m["water_conservation_value_cny_b"])
    return out.reset_index(drop=True)


def compare_services(county_csv_a, county_csv_b, reach_csv_a, reach_csv_b, year_a: int,
                     year_b: int, out_county_csv, out_reach_csv, *, prices_csv=None,
                     co2_per_c: float | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Carbon sequestration (t C, t CO₂, per year, CNY) and the change of every service per
    county and per reach between two services_year tables (see `compare_tables`). The carbon
    price is the prices table's carbon_co2 when `prices_csv` is given, else the one implied by
    year B's table; co2_per_c likewise (default 44/12 or the ratio in table B)."""
    tables = []
    for pa, pb in ((county_csv_a, county_csv_b), (reach_csv_a, reach_csv_b)):
        a, b = _read_services_csv(pa), _read_services_csv(pb)
        cp = None
        if prices_csv is not None:
            cp = price(read_prices(prices_csv), PRICE_ITEMS["carbon"], str(prices_csv))
        c2c = co2_per_c
        if c2c is None:
            tot = b["carbon_stock_t_c"].sum()
            c2c = (float(b["carbon_stock_t_co2"].sum() / tot) if tot > 0
                   else _carbon.CO2_PER_C)
        tables.append(compare_tables(a, b, year_a, year_b, cp, c2c))
    write_csv(tables[0], out_county_csv)
    write_csv(tables[1], out_reach_csv)
    return tables[0], tables[1]


# --------------------------------------------------------------------------------------------
# Parcel gains
# --------------------------------------------------------------------------------------------

PARCEL_FIELDS = {
    "target": ["recommended_target", "target"],
    "area": ["area_ha"],
    "precipitation": ["precip_mean_mm", "precipitation_mean", "mean_precipitation",
                      "precip_mean", "precipitation"],
    "ls": ["ls_mean", "mean_ls", "ls"],
    "slope": ["slope_mean", "mean_slope", "slope"],
    "water_secured": ["water_secured"],
    "water_secured_share": ["water_secured_share"],
    "current_class": ["current_class"],
    "soil_k": ["soil_k_mean", "soil_k"],
    "sand_fraction": ["sand_fraction_mean", "sand_fraction"],
    "wind_factor": ["wind_factor_mean", "wind_factor"],
}
GAIN_COLUMNS = ["target_key", "target_class", "d_carbon_t", "d_carbon_t_co2", "d_soil_t",
                "d_sand_t", "d_water_m3", "d_carbon_value_cny", "d_soil_value_cny",
                "d_sand_value_cny", "d_water_value_cny", "d_value_cny"]
KEEP_CLASS = "current"  # parcel_targets class meaning "the current classes, with new cover"


def _field(df: pd.DataFrame, key: str, fields: Mapping | None, required: bool):
    cands = [fields[key]] if fields and key in fields else PARCEL_FIELDS[key]
    for c in cands:
        if c in df.columns:
            return df[c]
    if required:
        raise InputError(f"parcels: no {key} field; expected one of {cands}")
    return None


def _num(series) -> np.ndarray:
    return pd.to_numeric(series, errors="coerce").to_numpy(float)


def _resolve_targets(df: pd.DataFrame, target: pd.Series, specs: Mapping) -> list:
    """Target key per parcel (None: no target). A spec with ``refine_by: <field>`` and
    ``refine: {value: other key}`` hands the parcel to another key by that field (e.g.
    for_profit by sub_mode pv -> solar_pv; ecological by green_use forest -> forest)."""
    out = []
    for i, t in enumerate(target.tolist()):
        if t is None or (isinstance(t, float) and np.isnan(t)) or str(t).strip() == "":
            out.append(None)
            continue
        key = str(t).strip()
        spec = dict(specs.get(key) or {})
        field_name = spec.get("refine_by")
        if field_name and field_name in df.columns:
            v = df[field_name].iloc[i]
            v = None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v).strip()
            key = str((spec.get("refine") or {}).get(v, key)) if v else key
        out.append(key)
    unknown = sorted({k for k in out if k is not None and k not in specs})
    if unknown:
        raise ConfigError([f"services.parcel_targets: no entry for target(s) {unknown}"])
    return out


def parcel_gains(parcels: pd.DataFrame, cfg_services: Mapping, carbon_csv, prices_csv,
                 classes_table, *, fields: Mapping[str, str] | None = None,
                 share_prefix: str = "share_", s_method: str = "invest") -> pd.DataFrame:
    """Change in every service if each parcel takes its recommended target use.

    Per parcel and per ha, at the parcel's mean precipitation and LS (and mean soil_k /
    sand_fraction / wind_factor when such fields exist): current = Σ share_c × service(class
    c); after = service(target class), × area_ha. Without an LS field, LS comes from the mean
    slope as the LS of one slope of length ``services.parcel_slope_length_m`` (no
    upslope area: L = (λ/22.13)^m, S by `s_method` — nxgeo.terrain.ls_factor).
    Current class shares: columns ``<share_prefix><canonical>`` (any scale; normalised per
    parcel), else a ``current_class`` column (canonical name, share 1).

    Targets (``recommended_target``; empty = none) map to canonical classes by
    ``services.parcel_targets``: ``class`` (or ``current``: the parcel keeps its classes, e.g.
    closed protection of sand and bare land, with the spec's new cover), optional
    ``class_not_secured`` (cropland → cropland_irrigated where irrigation water is secured —
    field ``water_secured`` true, or ``water_secured_share`` ≥ ``services.parcel_water_
    secured_share`` (0.5) — else cropland_dry), optional ``fvc`` (0–1, RWEQ) and ``rusle_c``
    for the state after conversion (otherwise the class tables), optional ``refine_by`` /
    ``refine`` (e.g. for_profit by sub_mode: pv → solar_pv; ecological by green_use).
    Parcels without a target get NaN gains; an unmapped target is an error naming it.

    Returns a copy of `parcels` with GAIN_COLUMNS: target_key, target_class, d_carbon_t (t C),
    d_carbon_t_co2, d_soil_t, d_sand_t (t/yr), d_water_m3 (m³/yr), their values and
    d_value_cny (carbon at the CO₂ price — a one-off stock gain — plus the yearly soil, sand
    and water values).
    """
    from ..terrain import ls_factor

    cfg = dict(cfg_services or {})
    params = load_params(cfg, carbon_csv, classes_table, prices_csv)
    ids = class_ids(params.classes)
    inv = {v: k for k, v in ids.items()}
    specs = dict(cfg.get("parcel_targets") or {})
    df = parcels.copy()
    n = len(df)
    area = _num(_field(df, "area", fields, True))
    prec = _num(_field(df, "precipitation", fields, True))
    ls_col = _field(df, "ls", fields, False)
    if ls_col is not None:
        ls = _num(ls_col)
    else:
        slope = _num(_field(df, "slope", fields, True))
        lam = float(cfg_get(cfg, "parcel_slope_length_m", required=True))
        ls = ls_factor(slope, np.where(np.isfinite(slope), 1.0, np.nan), lam,
                       aspect_deg=np.zeros(n), s_method=s_method, l_max=None).astype(float)
        ls[ls == -9999.0] = np.nan
    opt = {}
    for key in ("soil_k", "sand_fraction", "wind_factor"):
        col = _field(df, key, fields, False)
        opt[key] = None if col is None else _num(col)
    secured = np.zeros(n, bool)
    sec = _field(df, "water_secured", fields, False)
    if sec is not None:
        secured |= sec.fillna(False).astype(str).str.lower().isin(["true", "1", "1.0", "yes"]
                                                                   ).to_numpy()
    share_sec = _field(df, "water_secured_share", fields, False)
    if share_sec is not None:
        thr = float(cfg.get("parcel_water_secured_share", 0.5))
        secured |= np.nan_to_num(_num(share_sec)) >= thr
    keys_t = _resolve_targets(df, _field(df, "target", fields, True), specs)
    has_t = np.array([k is not None for k in keys_t])
    t_id = np.zeros(n, dtype=np.int64)
    keep = np.zeros(n, bool)
    t_fvc = np.full(n, np.nan)
    t_c = np.full(n, np.nan)
    for name in sorted({k for k in keys_t if k is not None}):
        sel = np.array([k == name for k in keys_t])
        spec = dict(specs[name] or {})
        cls = spec.get("class")
        if cls == KEEP_CLASS:
            keep |= sel
        else:
            if cls not in ids:
                raise ConfigError([(f"services.parcel_targets.{name}.class: {cls!r} is not a "
                                   f"canonical class (or {KEEP_CLASS!r})")])
            ids_here = np.full(n, ids[cls])
            alt = spec.get("class_not_secured")
            if alt is not None:
                if alt not in ids:
                    raise ConfigError([(f"services.parcel_targets.{name}.class_not_secured: "
                                       f"{alt!r} is not a canonical class")])
                ids_here = np.where(secured, ids[cls], ids[alt])
            t_id[sel] = ids_here[sel]
        if spec.get("fvc") is not None:
            t_fvc[sel] = float(spec["fvc"])
        if spec.get("rusle_c") is not None:
            t_c[sel] = float(spec["rusle_c"])
    # current class shares
    share_cols = {c[len(share_prefix):]: c for c in df.columns if str(c).startswith(share_prefix)
                  and c[len(share_prefix):] in ids}
    if share_cols:
        shares = np.column_stack([np.nan_to_num(_num(df[c])) for c in share_cols.values()])
        cls_ids = [ids[k] for k in share_cols]
    else:
        cur = _field(df, "current_class", fields, False)
        if cur is None:
            raise InputError(f"parcels: no class-share columns ({share_prefix}<class>) and no "
                             f"current_class column")
        names = sorted({str(c) for c in cur.dropna() if str(c).strip()})
        bad = [c for c in names if c not in ids]
        if bad:
            raise InputError(f"parcels: current_class value(s) {bad} are not canonical classes")
        cls_ids = [ids[k] for k in names]
        shares = (np.column_stack([(cur.astype(str) == k).to_numpy(float) for k in names])
                  if names else np.zeros((n, 0)))
    tot = shares.sum(axis=1)
    shares = np.where(tot[:, None] > 0, shares / np.where(tot > 0, tot, 1.0)[:, None], 0.0)
    keys = ("carbon_t", "soil_t", "sand_t", "water_m3")
    current = {k: np.zeros(n) for k in keys}
    kept = {k: np.zeros(n) for k in keys}
    for j, cid in enumerate(cls_ids):
        w = shares[:, j]
        if not (w > 0).any():
            continue
        lu = np.where(w > 0, cid, 0)
        res = compute_services(params, lu, prec, ls, 1.0, **opt)
        for k in keys:
            current[k] += np.where(w > 0, res[k] * w, 0.0)
        if (keep & (w > 0)).any():
            res_k = compute_services(params, np.where(keep & (w > 0), cid, 0), prec, ls, 1.0,
                                     fvc=t_fvc, rusle_c=t_c, fvc_for_rusle=False, **opt)
            for k in keys:
                kept[k] += np.where(keep & (w > 0), res_k[k] * w, 0.0)
    after = compute_services(params, t_id, prec, ls, 1.0, fvc=t_fvc, rusle_c=t_c,
                             fvc_for_rusle=False, **opt)
    df["target_key"] = keys_t
    df["target_class"] = [KEEP_CLASS if kp else (inv.get(int(i)) if i else None)
                          for kp, i in zip(keep, t_id)]
    valid = has_t & (tot > 0)
    d = {}
    for k in keys:
        a = np.where(keep, kept[k], after[k])
        d[k] = np.where(valid, (a - current[k]) * area, np.nan)
    pr = params.prices
    df["d_carbon_t"] = d["carbon_t"]
    df["d_carbon_t_co2"] = d["carbon_t"] * params.co2_per_c
    df["d_soil_t"] = d["soil_t"]
    df["d_sand_t"] = d["sand_t"]
    df["d_water_m3"] = d["water_m3"]
    df["d_carbon_value_cny"] = df["d_carbon_t_co2"] * price(pr, PRICE_ITEMS["carbon"])
    df["d_soil_value_cny"] = df["d_soil_t"] * price(pr, PRICE_ITEMS["soil"])
    df["d_sand_value_cny"] = df["d_sand_t"] * price(pr, PRICE_ITEMS["sand"])
    df["d_water_value_cny"] = df["d_water_m3"] * price(pr, PRICE_ITEMS["water"])
    df["d_value_cny"] = (df["d_carbon_value_cny"] + df["d_soil_value_cny"]
                         + df["d_sand_value_cny"] + df["d_water_value_cny"])
    return df


__all__ = ["EXTRA_LAYERS", "GAIN_COLUMNS", "SERVICE_COLUMNS", "SERVICE_LAYERS", "ServiceParams",
           "compare_services", "compare_tables", "compute_services", "load_params",
           "parcel_gains", "services_reach", "services_year"]
