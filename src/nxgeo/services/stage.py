"""Pipeline stages of the ecosystem-service accounting and GEP (docs/gep.md).

* `services_reach` — per reach and year, block by block: the carbon stock (t C, an asset) and
  the yearly flows per pixel — carbon sequestration (t C/yr), soil retention (t/yr), sand
  fixation (t/yr), water conservation and flood regulation (m³/yr), climate regulation (kWh/yr)
  — as COGs.
* `services_year` — per county (by zone_county.tif) and per reach: physical quantities and values
  (services_by_*.csv), the GEP account (gep_accounts.csv: one row per zone × service) and the
  GEP per zone (gep_by_county.csv / gep_by_reach.csv, in CNY, 万元 and 亿元), each with a total
  row. Air and water purification come from the class areas of the zone (rates per ha).
* `compare_services` — the change of every service and of GEP between two years.
* `parcel_gains` (module `parcels`) — the change if a candidate parcel takes its target use.

The per-pixel models are `compute_services` (one call for any array shape); all parameters come
from `services:` of the config, the carbon-pool table, the prices table and the GEP coefficient
table (`load_params`).
"""

from __future__ import annotations

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
from ..layout import reach_file, reach_label
from ..nodata import FLOAT_NODATA
from ..raster_io import to_cog
from . import accounts as _acc
from . import carbon as _carbon
from . import rusle as _rusle
from . import rweq as _rweq
from . import water_conservation as _wc
from .coefficients import Coefficients, read_coefficients
from .params import (
    LUT_SIZE,
    cfg_get,
    class_lut,
    class_mask,
    lookup,
    read_classes,
    read_prices,
)
from .valuation import PHYSICAL_COLUMNS, check_prices, regulating_values

log = logging.getLogger("nxgeo.services")

NODATA = FLOAT_NODATA
# name of the output raster -> key of compute_services' result
SERVICE_LAYERS = {
    "carbon_stock_t": "carbon_t",
    "carbon_sequestration_t": "seq_t",
    "soil_retention_t": "soil_t",
    "sand_fixation_t": "sand_t",
    "water_conservation_m3": "water_m3",
    "flood_regulation_m3": "flood_m3",
    "climate_regulation_kwh": "climate_kwh",
}
# optional extra layers services_reach can write
EXTRA_LAYERS = {
    "soil_loss_t": "soil_loss_t",
    "soil_loss_potential_t": "soil_potential_t",
    "wind_erosion_t": "wind_loss_t",
    "wind_erosion_potential_t": "wind_potential_t",
}
OPTIONAL_RASTERS = ("fvc", "soil_k", "sand_fraction", "wind_factor", "slope", "nep")
META_NAME = "services_meta.json"
# raster layer -> physical column of the zone tables
LAYER_COLUMNS = {
    "carbon_stock_t": "carbon_stock_t_c",
    "carbon_sequestration_t": "carbon_sequestration_t_c",
    "soil_retention_t": "soil_retention_t",
    "sand_fixation_t": "sand_fixation_t",
    "water_conservation_m3": "water_conservation_m3",
    "flood_regulation_m3": "flood_regulation_m3",
    "climate_regulation_kwh": "climate_regulation_kwh",
}
# per-ha purification rates (coefficient table rows) -> physical column
PURIFICATION = {
    ("air_purification", "so2"): "air_so2_kg",
    ("air_purification", "nox"): "air_nox_kg",
    ("air_purification", "dust"): "air_dust_kg",
    ("water_purification", "cod"): "water_cod_kg",
    ("water_purification", "tn"): "water_tn_kg",
    ("water_purification", "tp"): "water_tp_kg",
}


# --------------------------------------------------------------------------------------------
# Parameters
# --------------------------------------------------------------------------------------------


@dataclass
class ServiceParams:
    """Lookup tables (indexed by canonical class id) and scalars of the service models."""

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
    rweq_excluded: np.ndarray
    wf: float
    texture: dict
    roughness_length_m: float
    random_roughness_cm: float
    fvc: np.ndarray
    runoff: np.ndarray
    et_ratio: np.ndarray
    et_mm: np.ndarray
    coef: Coefficients
    seq_rate: np.ndarray
    maturation_years: float
    loss_years: float
    storm_share: float
    reference_runoff: float
    storm_runoff: np.ndarray
    storage_depth_m: np.ndarray
    transpiration_share: np.ndarray
    hot_season_et_share: float
    latent_heat_mj_per_kg: float
    cooling_cop: float
    purification: dict
    include_oxygen: bool
    prices: dict = field(default_factory=dict)


def load_params(
    cfg_services: Mapping, carbon_csv, classes_table, prices_csv, coefficients_csv
) -> ServiceParams:
    """Read every parameter of the service models (config `services:`, the carbon, prices and
    GEP coefficient tables). Errors name the config key or table row that is missing."""
    cfg = dict(cfg_services or {})
    classes = read_classes(classes_table)
    coef = read_coefficients(coefficients_csv)
    problems: list[str] = []

    def lut(path: str, default=None, required: bool = True) -> np.ndarray:
        table = cfg_get(cfg, path)
        if table is None:
            if required:
                problems.append(f"services.{path}: missing (a table by canonical class)")
            return np.full(LUT_SIZE, np.nan if default is None else float(default))
        try:
            return class_lut(table, classes, f"services.{path}", default)
        except ConfigError as e:
            problems.extend(e.problems)
            return np.full(LUT_SIZE, np.nan)

    def mask(path: str) -> np.ndarray:
        try:
            return class_mask(cfg_get(cfg, path, []), classes, f"services.{path}")
        except ConfigError as e:
            problems.extend(e.problems)
            return np.zeros(LUT_SIZE, bool)

    def scalar(path: str) -> float:
        v = cfg_get(cfg, path)
        if v is None:
            problems.append(f"services.{path}: missing")
            return np.nan
        return float(v)

    for obsolete in ("rweq.ef_by_class", "rweq.scf_by_class", "rweq.k_prime_by_class"):
        if cfg_get(cfg, obsolete) is not None:
            problems.append(
                f"services.{obsolete}: no longer used — the RWEQ potential is the "
                f"soil's and the terrain's, not the land-cover class's (EF/SCF from "
                f"rweq.texture or the sand_fraction raster, K′ from the slope); "
                f"remove the key (docs/gep.md)"
            )
    rus_excl, rweq_excl = mask("rusle.exclude_classes"), mask("rweq.exclude_classes")
    try:
        rweq_p = _rweq.rweq_params(cfg.get("rweq"))
    except ConfigError as e:
        problems.extend(e.problems)
        rweq_p = {}
    texture = dict(cfg_get(cfg, "rweq.texture", {}) or {})
    for k in _rweq.TEXTURE_KEYS:
        if texture.get(k) is None:
            problems.append(f"services.rweq.texture.{k}: missing")
    c_coeff = lut("rweq.c_coeff")
    gep = dict(cfg.get("gep") or {})
    if "include_oxygen_release" not in gep:
        problems.append("services.gep.include_oxygen_release: missing (true or false)")
    params = ServiceParams(
        classes=classes,
        co2_per_c=scalar("co2_per_c"),
        carbon=_carbon.density_lut(_carbon.read_carbon_table(carbon_csv)),
        rusle=_rusle.rusle_params(cfg["rusle"]),
        k=lut("rusle.k_by_class"),
        c=lut("rusle.c_by_class"),
        p=lut("rusle.p_by_class", default=1.0, required=False),
        rusle_excluded=rus_excl,
        rweq=rweq_p,
        c_coeff=c_coeff,
        rweq_excluded=rweq_excl,
        wf=float(cfg_get(cfg, "rweq.wf_kg_per_m", np.nan)),
        texture=texture,
        roughness_length_m=scalar("rweq.roughness_length_m"),
        random_roughness_cm=scalar("rweq.random_roughness_cm"),
        fvc=lut("fvc_by_class"),
        runoff=lut("water_conservation.runoff_coeff"),
        et_ratio=lut(
            "water_conservation.et_ratio_by_class",
            required=not cfg_get(cfg, "water_conservation.et_mm_by_class"),
        ),
        et_mm=lut("water_conservation.et_mm_by_class", required=False),
        coef=coef,
        seq_rate=coef.lut("carbon_sequestration", "rate", classes),
        maturation_years=coef.scalar("carbon_sequestration", "maturation_years"),
        loss_years=coef.scalar("carbon_sequestration", "loss_years"),
        storm_share=coef.scalar("flood_regulation", "storm_share"),
        reference_runoff=coef.scalar("flood_regulation", "reference_runoff_coeff"),
        storm_runoff=coef.lut("flood_regulation", "storm_runoff_coeff", classes),
        storage_depth_m=coef.lut("flood_regulation", "storage_depth", classes),
        transpiration_share=coef.lut("climate_regulation", "transpiration_share", classes),
        hot_season_et_share=coef.scalar("climate_regulation", "hot_season_et_share"),
        latent_heat_mj_per_kg=coef.scalar("climate_regulation", "latent_heat"),
        cooling_cop=coef.scalar("climate_regulation", "cooling_cop"),
        purification={col: coef.lut(svc, par, classes) for (svc, par), col in PURIFICATION.items()},
        include_oxygen=bool(gep.get("include_oxygen_release")),
    )
    if np.nanmax(np.where(np.isnan(c_coeff), -1.0, c_coeff)) > 0:
        problems.append(
            "services.rweq.c_coeff: every coefficient must be <= 0 (C = exp(a·FVC%) "
            "must not grow with vegetation cover)"
        )
    if params.maturation_years <= 0 or params.loss_years <= 0:
        problems.append(
            f"{coef.source}: carbon_sequestration maturation_years and loss_years must be > 0"
        )
    if params.cooling_cop <= 0:
        problems.append(f"{coef.source}: climate_regulation.cooling_cop must be > 0")
    if problems:
        raise ConfigError(problems, source="config services")
    # excluded classes need no coefficients: give them neutral values so lookups never fail
    for arr in (params.k, params.c, params.p):
        arr[rus_excl & np.isnan(arr)] = 0.0
    for arr in (params.c_coeff, params.fvc):
        arr[rweq_excl & np.isnan(arr)] = 0.0
    params.prices = read_prices(prices_csv)
    check_prices(
        params.prices, str(prices_csv) if not isinstance(prices_csv, Mapping) else "prices"
    )
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


def compute_services(
    params: ServiceParams,
    landuse,
    precip_mm,
    ls,
    pixel_ha,
    *,
    landuse_prev=None,
    slope=None,
    nep=None,
    fvc=None,
    soil_k=None,
    sand_fraction=None,
    wind_factor=None,
    rusle_c=None,
    fvc_for_rusle: bool | None = None,
) -> dict[str, np.ndarray]:
    """Every raster-based service for every element of `landuse` (any shape; arrays broadcast).

    `precip_mm`, `ls`: NaN where unknown (their services are then NaN). Optional per-pixel
    inputs (NaN where unknown → the documented fallback): `landuse_prev` (the earlier survey's
    classes, for carbon sequestration; None: every pixel counts as unchanged), `slope` (degrees,
    for the RWEQ roughness K′; None: flat, K′ = 1), `nep` (t C/ha/yr, replaces the class rate
    on unchanged land), `fvc` (0–1), `soil_k`, `sand_fraction` (0–1; else the regional
    texture), `wind_factor` (kg/m); `rusle_c` overrides the RUSLE C where finite. RUSLE C comes
    from `fvc` when `fvc_for_rusle` (default: whenever `fvc` is given), else from c_by_class.
    `pixel_ha`: area per element (ha). Returns float64 arrays, NaN where landuse is 0 (units per
    element): carbon_t (t C, asset), seq_t (t C/yr), soil_t, soil_loss_t, soil_potential_t
    (t/yr), sand_t, wind_loss_t, wind_potential_t (t/yr), water_m3, flood_m3 (m³/yr),
    climate_kwh (kWh/yr), air_so2_kg, air_nox_kg, air_dust_kg, water_cod_kg, water_tn_kg,
    water_tp_kg (kg/yr), plus the factors r, c_rusle, c_rweq, k_prime, fvc, et_mm.
    """
    lu = np.asarray(landuse)
    valid = lu != 0
    cls = params.classes
    idx = np.where(valid, lu, 0).astype(np.intp)

    def look(table, key):
        return lookup(table, lu, valid, key, cls)

    area = np.asarray(pixel_ha, dtype=np.float64)
    out: dict[str, np.ndarray] = {}
    out["carbon_t"] = _carbon.carbon_stock(lu, params.carbon, 1.0, valid) * area
    look(params.seq_rate, f"{params.coef.source} carbon_sequestration.rate")
    prev = None
    if landuse_prev is not None:
        prev = np.broadcast_to(np.asarray(landuse_prev), lu.shape)
        pv = prev != 0
        if pv.any():
            _carbon.carbon_stock(prev, params.carbon, 1.0, pv)  # unknown classes: error
    out["seq_t"] = (
        _carbon.sequestration_per_ha(
            lu,
            prev,
            params.carbon,
            params.seq_rate,
            params.maturation_years,
            params.loss_years,
            nep=nep,
            valid=valid,
        )
        * area
    )
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
    excl = params.rusle_excluded[idx]
    for key, name in (
        ("retention", "soil_t"),
        ("actual", "soil_loss_t"),
        ("potential", "soil_potential_t"),
    ):
        out[name] = np.where(excl & valid, 0.0, loss[key]) * area
    out["r"], out["c_rusle"] = r, np.where(valid, c, np.nan)

    # RWEQ: potential of the bare soil (texture, terrain, wind), actual with the cover's C
    fv = _finite_or(fvc, look(params.fvc, "services.fvc_by_class"))
    a = look(params.c_coeff, "services.rweq.c_coeff")
    c_w = _rweq.rweq_c(fv, a)
    sf_in = np.full(lu.shape, np.nan) if sand_fraction is None else sand_fraction
    ef, scf = _rweq.ef_scf_from_sand_fraction(sf_in, params.texture)
    kp = _rweq.k_prime_from_slope(
        np.zeros(lu.shape) if slope is None else np.nan_to_num(np.asarray(slope, dtype=np.float64)),
        params.roughness_length_m,
        params.random_roughness_cm,
    )
    wf = _finite_or(wind_factor, np.full(lu.shape, params.wf))
    if np.isnan(wf[valid]).any():
        raise ConfigError(
            [
                (
                    "services.rweq.wf_kg_per_m: missing, and no wind_factor raster value"
                    " for every pixel"
                )
            ]
        )
    sf = _rweq.sand_fixation(wf, ef, scf, kp, c_w, **params.rweq)
    excl_w = params.rweq_excluded[idx] & valid
    kg_to_t = _rweq.T_PER_HA_PER_KG_PER_M2
    out["sand_t"] = np.where(excl_w, 0.0, sf["fixed"] * kg_to_t) * area
    out["wind_loss_t"] = np.where(excl_w, 0.0, sf["actual"] * kg_to_t) * area
    out["wind_potential_t"] = np.where(excl_w, 0.0, sf["potential"] * kg_to_t) * area
    out["c_rweq"], out["fvc"] = np.where(valid, c_w, np.nan), np.where(valid, fv, np.nan)
    out["k_prime"] = np.where(valid, kp, np.nan)

    # water conservation: Q = P − R − ET
    runoff = look(params.runoff, "services.water_conservation.runoff_coeff")
    et_fixed = params.et_mm[idx]
    et_ratio = params.et_ratio[idx]
    missing = valid & np.isnan(et_fixed) & np.isnan(et_ratio)
    if missing.any():
        lookup(params.et_ratio, lu, missing, "services.water_conservation.et_ratio_by_class", cls)
    et = _wc.et_mm(p_mm, et_ratio, et_fixed)
    out["water_m3"] = _wc.mm_to_m3(_wc.water_conservation_mm(p_mm, runoff, et), area)
    out["et_mm"] = et

    # flood regulation: storm rain kept back relative to bare ground + surface storage
    rc = look(params.storm_runoff, f"{params.coef.source} flood_regulation.storm_runoff_coeff")
    depth = look(params.storage_depth_m, f"{params.coef.source} flood_regulation.storage_depth")
    out["flood_m3"] = flood_regulation_m3(
        p_mm, params.storm_share, params.reference_runoff, rc, depth, area
    )
    # climate regulation: energy of the transpired / evaporated water in the hot season
    ts = look(
        params.transpiration_share, f"{params.coef.source} climate_regulation.transpiration_share"
    )
    out["climate_kwh"] = climate_regulation_kwh(
        et, ts, params.hot_season_et_share, params.latent_heat_mj_per_kg, params.cooling_cop, area
    )
    # air and water purification: rates per ha by class
    for col, lut in params.purification.items():
        out[col] = look(lut, f"{params.coef.source} {col}") * area
    for key in (
        "carbon_t",
        "seq_t",
        "soil_t",
        "soil_loss_t",
        "soil_potential_t",
        "sand_t",
        "wind_loss_t",
        "wind_potential_t",
        "water_m3",
        "flood_m3",
        "climate_kwh",
        *params.purification,
    ):
        out[key] = np.where(valid, out[key], np.nan)
    return out


def flood_regulation_m3(
    precip_mm, storm_share: float, reference_runoff: float, runoff_coeff, storage_depth_m, area_ha
) -> np.ndarray:
    """Flood regulation (m³/yr) = storm rain (P × storm_share, mm) × max(reference − class
    storm runoff coefficient, 0) × 10 m³/(mm·ha) × area + storage depth (m) × 10 000 m²/ha × area.
    """
    p = np.asarray(precip_mm, dtype=np.float64)
    held = np.maximum(float(reference_runoff) - np.asarray(runoff_coeff, dtype=np.float64), 0.0)
    veg = p * float(storm_share) * held * _wc.M3_PER_MM_HA
    return (veg + np.asarray(storage_depth_m, dtype=np.float64) * 10_000.0) * np.asarray(
        area_ha, dtype=np.float64
    )


KWH_PER_MJ = 1.0 / 3.6  # 1 kWh = 3.6 MJ (unit conversion)
KG_PER_M3_WATER = 1000.0


def climate_regulation_kwh(
    et_mm,
    transpiration_share,
    hot_season_et_share: float,
    latent_heat_mj_per_kg: float,
    cooling_cop: float,
    area_ha,
) -> np.ndarray:
    """Climate regulation (kWh/yr): the energy the transpired and evaporated water takes up in the
    hot season, as the electricity air conditioning would need to remove the same heat:
    ET (mm) × 10 m³/(mm·ha) × 1000 kg/m³ × transpiration share × hot-season share × latent heat
    (MJ/kg) ÷ 3.6 MJ/kWh ÷ COP × area (ha)."""
    water_kg = np.asarray(et_mm, dtype=np.float64) * _wc.M3_PER_MM_HA * KG_PER_M3_WATER
    mj = (
        water_kg
        * np.asarray(transpiration_share, dtype=np.float64)
        * float(hot_season_et_share)
        * float(latent_heat_mj_per_kg)
    )
    return mj * KWH_PER_MJ / float(cooling_cop) * np.asarray(area_ha, dtype=np.float64)


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
    from ..raster_io import gtiff_profile, uncompressed

    return uncompressed(gtiff_profile(grid, "float32", NODATA))


def services_reach(
    reach_dir,
    cfg_services: Mapping,
    carbon_csv,
    prices_csv,
    coefficients_csv,
    classes_table,
    out_dir,
    *,
    rasters: Mapping[str, str | Path | None] | None = None,
    landuse_prev=None,
    extra_layers=(),
    block_rows: int = 512,
) -> dict[str, Path]:
    """Service rasters of one reach and year (per pixel, float32 COG, nodata −9999):
    carbon_stock_t.tif (t C, asset), carbon_sequestration_t.tif (t C/yr), soil_retention_t.tif,
    sand_fixation_t.tif (t/yr), water_conservation_m3.tif, flood_regulation_m3.tif (m³/yr),
    climate_regulation_kwh.tif (kWh/yr) (+ `extra_layers` among EXTRA_LAYERS), and
    services_meta.json (parameters, prices, totals, coverage of the inputs).

    Reads landuse.tif, precipitation.tif and ls.tif of `reach_dir` (a reach folder, or
    {stem: path} of those three files: nxgeo.layout.reach_file); the optional rasters
    (OPTIONAL_RASTERS: fvc, soil_k, sand_fraction, wind_factor, slope, nep) from `rasters`
    (name -> path or None), or, when `rasters` is None, from `reach_dir/<name>.tif` where that
    file exists. `landuse_prev`: the same reach's land use of the earlier survey (None: the
    first survey — every pixel counts as unchanged for carbon sequestration). Processed in
    blocks of `block_rows` rows; all inputs must be on the land-use grid.
    """
    given = reach_dir if isinstance(reach_dir, Mapping) else None
    reach_dir, out_dir = Path(reach_label(reach_dir)), Path(out_dir)
    params = load_params(cfg_services, carbon_csv, classes_table, prices_csv, coefficients_csv)
    inputs = {
        name: reach_file(given or reach_dir, f"{name}.tif")
        for name in ("landuse", "precipitation", "ls")
    }
    for name, path in inputs.items():
        if not path.exists():
            raise InputError(f"{path}: {name} raster of the reach not found")
    if rasters is None and given is not None:
        raise ValueError("services_reach: with the files given, give the optional rasters too")
    if rasters is None:
        optional = {
            n: reach_dir / f"{n}.tif" for n in OPTIONAL_RASTERS if (reach_dir / f"{n}.tif").exists()
        }
    else:
        unknown = sorted(set(rasters) - set(OPTIONAL_RASTERS))
        if unknown:
            raise ValueError(f"unknown optional raster(s) {unknown}; known: {OPTIONAL_RASTERS}")
        optional = {n: Path(p) for n, p in rasters.items() if p}
    if landuse_prev:
        optional["landuse_prev"] = Path(landuse_prev)
    grid = Grid.from_raster(inputs["landuse"])
    for name, path in {**inputs, **optional}.items():
        if not path.exists():
            raise InputError(f"{path}: {name} raster not found")
        if not Grid.from_raster(path).matches(grid):
            raise InputError(f"{path}: {name} is not on the grid of {inputs['landuse']}")
    if "slope" not in optional:
        log.warning("%s: no slope raster: RWEQ terrain roughness K′ = 1 (flat)", reach_dir)
    layers = dict(SERVICE_LAYERS)
    for name in extra_layers:
        if name not in EXTRA_LAYERS:
            raise ValueError(f"unknown extra layer {name!r}; known: {list(EXTRA_LAYERS)}")
        layers[name] = EXTRA_LAYERS[name]
    px_ha = grid.pixel_area / 10_000.0
    totals = dict.fromkeys(layers, 0.0)
    counts = {"valid_px": 0, "no_precipitation_px": 0, "no_ls_px": 0, "changed_px": 0}
    out_dir.mkdir(parents=True, exist_ok=True)
    profile = _float_profile(grid)
    from ..raster_io import strip_rows

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

            def read_classes_block(ds, win):
                a = ds.read(1, window=win)
                if ds.nodata is not None and ds.nodata != 0:
                    a = np.where(a == ds.nodata, 0, a)
                return a

            for win in block_windows(grid.width, grid.height, rows):
                lu = read_classes_block(srcs["landuse"], win)
                valid = lu != 0
                prec = _read_float(srcs["precipitation"], win)
                ls = _read_float(srcs["ls"], win)
                opt = {n: _read_float(srcs[n], win) for n in optional if n != "landuse_prev"}
                prev = (
                    read_classes_block(srcs["landuse_prev"], win)
                    if "landuse_prev" in srcs
                    else None
                )
                res = compute_services(
                    params,
                    lu,
                    prec,
                    ls,
                    px_ha,
                    landuse_prev=prev,
                    slope=opt.get("slope"),
                    nep=opt.get("nep"),
                    fvc=opt.get("fvc"),
                    soil_k=opt.get("soil_k"),
                    sand_fraction=opt.get("sand_fraction"),
                    wind_factor=opt.get("wind_factor"),
                )
                counts["valid_px"] += int(valid.sum())
                counts["no_precipitation_px"] += int((valid & np.isnan(prec)).sum())
                counts["no_ls_px"] += int((valid & np.isnan(ls)).sum())
                if prev is not None:
                    counts["changed_px"] += int((valid & (prev != 0) & (prev != lu)).sum())
                for name, key in layers.items():
                    a = res[key]
                    totals[name] += float(np.nansum(a))
                    dsts[name].write(
                        np.where(np.isnan(a), NODATA, a).astype(np.float32), 1, window=win
                    )
        finally:
            for ds in (*srcs.values(), *dsts.values()):
                ds.close()
        written = {}
        for name, path in tmp.items():
            unit = (
                "m3 per pixel per year"
                if name.endswith("m3")
                else "kWh per pixel per year"
                if name.endswith("kwh")
                else "t C per pixel (stock)"
                if name == "carbon_stock_t"
                else "t C per pixel per year"
                if name == "carbon_sequestration_t"
                else "t per pixel per year"
            )
            with rasterio.open(path, "r+") as ds:
                ds.update_tags(unit=unit, service=name)
            written[name] = to_cog(path, out_dir / f"{name}.tif")
    if counts["no_precipitation_px"] or counts["no_ls_px"]:
        log.warning(
            "%s: %d land pixels without precipitation and %d without LS: their soil "
            "retention / water conservation are nodata (counted as 0 in sums)",
            reach_dir,
            counts["no_precipitation_px"],
            counts["no_ls_px"],
        )
    meta = {
        "reach_dir": str(reach_dir),
        "pixel_ha": px_ha,
        "co2_per_c": params.co2_per_c,
        "prices": dict(params.prices),
        "coefficients": str(coefficients_csv)
        if not isinstance(coefficients_csv, (pd.DataFrame, Coefficients))
        else "table",
        "optional_rasters": {k: str(v) for k, v in optional.items()},
        "earlier_survey": str(landuse_prev) if landuse_prev else None,
        "totals": totals,
        "counts": counts,
        "rusle": {k: v for k, v in params.rusle.items()},
        "rweq": params.rweq,
        "wf_kg_per_m": params.wf,
        "texture": params.texture,
    }
    write_json(meta, out_dir / META_NAME)
    written["meta"] = out_dir / META_NAME
    return written


# --------------------------------------------------------------------------------------------
# Stage: one year, per county and reach
# --------------------------------------------------------------------------------------------


def _service_path(d, name: str, subdir: str) -> Path:
    if isinstance(d, Mapping):  # the files given: only those
        p = reach_file(d, f"{subdir}/{name}.tif")
        if p.exists():
            return p
        raise InputError(f"{p}: service raster {name}.tif of reach {reach_label(d)} not found")
    for p in (d / subdir / f"{name}.tif", d / f"{name}.tif"):
        if p.exists():
            return p
    raise InputError(
        f"{d}: service raster {name}.tif not found (looked in {d / subdir} and {d}); "
        f"run services_reach first"
    )


def _offsets(grids: dict[str, Grid]) -> dict[str, tuple[int, int]]:
    """(row, col) offset of every reach grid on the first one's lattice; error if not aligned."""
    names = list(grids)
    g0 = grids[names[0]]
    xres, yres = g0.resolution
    out = {}
    for n in names:
        g = grids[n]
        if g.rasterio_crs != g0.rasterio_crs or not np.allclose(g.resolution, g0.resolution):
            raise InputError(
                f"reach {n}: grid {g.crs} {g.resolution} differs from reach "
                f"{names[0]} ({g0.crs} {g0.resolution}); reaches must share the "
                f"analysis grid"
            )
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
                m[r0 - rj : r1 - rj, c0 - cj : c1 - cj] |= both
                log.warning(
                    "reaches %s and %s overlap on %d pixels; county sums count them once (in %s)",
                    ni,
                    nj,
                    int(both.sum()),
                    ni,
                )
    return claimed


def _total_row(df: pd.DataFrame, name: str = _acc.TOTAL_NAME) -> pd.DataFrame:
    """`df` with a total row (zone_kind region, zone_id total): the sum of every numeric
    column except year."""
    if df.empty:
        return df
    tot = {
        c: df[c].sum(min_count=1)
        for c in df.columns
        if c != "year" and pd.api.types.is_numeric_dtype(df[c])
    }
    tot.update(
        {
            "zone_kind": "region",
            "zone_id": _acc.TOTAL_ID,
            "zone_name": name,
            "year": int(df["year"].iloc[0]),
        }
    )
    return pd.concat([df, pd.DataFrame([tot])], ignore_index=True)


def zone_table(
    sums: pd.DataFrame,
    prices: Mapping[str, float],
    coef: Coefficients,
    co2_per_c: float,
    include_oxygen: bool,
) -> pd.DataFrame:
    """services_by_* table: zone keys, area, physical quantities (PHYSICAL_COLUMNS), the carbon
    stock (asset) in t CO₂ and CNY, the yearly sequestration in t CO₂, one value column per
    regulating service and their sum gep_regulating_cny (flows only; oxygen release only when
    accounted)."""
    vals = regulating_values(sums, prices, coef, co2_per_c, include_oxygen)
    out = sums[["zone_kind", "zone_id", "zone_name", "year", "area_ha"]].copy()
    out["carbon_stock_t_c"] = sums["carbon_stock_t_c"]
    out["carbon_stock_t_co2"] = vals["carbon_stock"][0]
    out["carbon_stock_value_cny"] = vals["carbon_stock"][1]
    out["carbon_sequestration_t_c_per_yr"] = sums["carbon_sequestration_t_c"]
    out["carbon_sequestration_t_co2_per_yr"] = vals["carbon_sequestration"][0]
    for c in PHYSICAL_COLUMNS:
        if c not in ("carbon_stock_t_c", "carbon_sequestration_t_c"):
            out[c] = sums[c]
    out["nutrient_retention_t"] = vals["nutrient_retention"][0]
    out["oxygen_release_t_o2"] = vals["oxygen_release"][0]
    reg: float | np.ndarray = 0.0
    for svc, (_, v, acc) in vals.items():
        if svc == "carbon_stock":
            continue
        out[f"{svc}_value_cny"] = v if acc else np.nan
        if acc:
            reg = reg + np.asarray(v, dtype=float)
    out["gep_regulating_cny"] = reg
    out["gep_regulating_yi_cny"] = out["gep_regulating_cny"] / _acc.YI
    return out


def services_year(
    reach_dirs: Mapping[str, str | Path],
    year: int,
    vectors_gpkg,
    out_county_csv,
    out_reach_csv,
    *,
    cfg_services: Mapping,
    prices_csv,
    coefficients_csv,
    classes_table,
    out_accounts_csv=None,
    out_gep_county_csv=None,
    out_gep_reach_csv=None,
    material_csv=None,
    cultural_csv=None,
    subdir: str = "services",
    block_rows: int = 512,
) -> dict[str, pd.DataFrame]:
    """Per county and per reach of one year: area, physical quantities, values and the GEP
    account (CSV, UTF-8 with BOM; every table with a total row).

    `reach_dirs`: reach id -> folder with landuse.tif, zone_county.tif and the service rasters
    (in `<dir>/<subdir>/` or `<dir>/`), or {file stem: path} of exactly those files
    (nxgeo.layout.reach_file: the workflow gives the files its rule declares). Counties are attributed by zone_county.tif (pixel
    centre rule), summed with np.bincount; pixels outside every county form a row
    ``zone_id = "none"``; pixels shared by overlapping reaches count once in the county sums.
    Air and water purification: Σ class area × rate per ha (GEP coefficient table).
    `material_csv` / `cultural_csv`: the county statistics tables (services.gep.*), None when
    not supplied (those parts are then *not accounted*). Writes services_by_county/reach
    (`out_county_csv`, `out_reach_csv`) and, when given, gep_accounts (county and reach rows),
    gep_by_county and gep_by_reach. Returns the tables by name.
    """
    from ..vector_io import read_vector

    cfg = dict(cfg_services or {})
    gep_cfg = dict(cfg.get("gep") or {})
    dirs = {k: v if isinstance(v, Mapping) else Path(v) for k, v in reach_dirs.items()}
    if not dirs:
        raise InputError("services_year: no reach folders given")
    prices = read_prices(prices_csv)
    check_prices(prices, str(prices_csv))
    coef = read_coefficients(coefficients_csv)
    if cfg.get("co2_per_c") is None:
        raise ConfigError(["services.co2_per_c: missing"])
    co2_per_c = float(cfg["co2_per_c"])
    if "include_oxygen_release" not in gep_cfg:
        raise ConfigError(["services.gep.include_oxygen_release: missing (true or false)"])
    include_oxygen = bool(gep_cfg["include_oxygen_release"])
    counties = read_vector(vectors_gpkg, "counties")
    reaches_v = read_vector(vectors_gpkg, "reaches")
    c_ids = counties["id"].astype(str).str.strip()
    c_names = dict(zip(c_ids, counties["name"].astype(str) if "name" in counties else c_ids))
    code_list = sorted({int(c) for c in c_ids})
    codes = np.array(code_list, dtype=np.int64)
    r_names = dict(
        zip(
            reaches_v["id"].astype(str),
            reaches_v["name"].astype(str) if "name" in reaches_v else reaches_v["id"],
        )
    )
    lu_paths = {n: reach_file(d, "landuse.tif") for n, d in dirs.items()}
    for n, p in lu_paths.items():
        if not p.exists():
            raise InputError(f"{p}: land use of reach {n} not found")
    claimed = _overlap_masks(lu_paths)
    layer_cols = list(LAYER_COLUMNS.values())
    keys = ["area_ha", *layer_cols]
    n_c = len(codes) + 1  # last bucket: outside every county
    county_sums = {k: np.zeros(n_c) for k in keys}
    county_cls = np.zeros((n_c, LUT_SIZE))
    reach_rows, reach_cls = [], []
    unknown_codes: set[int] = set()
    for name, d in dirs.items():
        paths = {"county": reach_file(d, "zone_county.tif")}
        if not paths["county"].exists():
            raise InputError(f"{paths['county']}: county zone raster of reach {name} not found")
        for layer in LAYER_COLUMNS:
            paths[layer] = _service_path(d, layer, subdir)
        grid = Grid.from_raster(lu_paths[name])
        for p in paths.values():
            if not Grid.from_raster(p).matches(grid):
                raise InputError(f"{p}: not on the grid of {lu_paths[name]}")
        px_ha = grid.pixel_area / 10_000.0
        rsum = dict.fromkeys(keys, 0.0)
        rcls = np.zeros(LUT_SIZE)
        ds = {k: rasterio.open(p) for k, p in {**paths, "landuse": lu_paths[name]}.items()}
        try:
            for win in block_windows(grid.width, grid.height, block_rows):
                valid = ds["landuse"].read_masks(1, window=win) > 0
                lu = ds["landuse"].read(1, window=win).astype(np.intp)
                valid &= (lu > 0) & (lu < LUT_SIZE)
                if name in claimed:
                    r0, c0 = int(win.row_off), int(win.col_off)
                    own = ~claimed[name][r0 : r0 + int(win.height), c0 : c0 + int(win.width)]
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
                for layer, col in LAYER_COLUMNS.items():
                    a = _read_float(ds[layer], win)
                    vals[col] = np.where(valid & np.isfinite(a), a, 0.0)
                sel = valid & own
                b = bucket[sel]
                for col in keys:
                    rsum[col] += float(vals[col].sum())
                    county_sums[col] += np.bincount(b, weights=vals[col][sel], minlength=n_c)
                rcls += np.bincount(lu[valid], minlength=LUT_SIZE) * px_ha
                county_cls += (
                    np.bincount(b * LUT_SIZE + lu[sel], minlength=n_c * LUT_SIZE).reshape(
                        n_c, LUT_SIZE
                    )
                    * px_ha
                )
        finally:
            for x in ds.values():
                x.close()
        reach_rows.append(
            {
                "zone_kind": "reach",
                "zone_id": str(name),
                "zone_name": r_names.get(str(name), str(name)),
                "year": int(year),
                **rsum,
            }
        )
        reach_cls.append(rcls)
    if unknown_codes:
        raise InputError(
            f"zone_county rasters hold county code(s) {sorted(unknown_codes)} that "
            f"are not in the counties layer of {vectors_gpkg}"
        )
    rows = [
        {
            "zone_kind": "county",
            "zone_id": str(code),
            "zone_name": c_names.get(str(code), str(code)),
            "year": int(year),
            **{k: float(county_sums[k][i]) for k in keys},
        }
        for i, code in enumerate(code_list)
    ]
    cls_rows = [county_cls[i] for i in range(len(code_list))]
    if county_sums["area_ha"][-1] > 0:
        log.warning(
            "%.1f ha of land in the reaches lie outside every county polygon",
            county_sums["area_ha"][-1],
        )
        rows.append(
            {
                "zone_kind": "county",
                "zone_id": "none",
                "zone_name": "县界外 outside counties",
                "year": int(year),
                **{k: float(county_sums[k][-1]) for k in keys},
            }
        )
        cls_rows.append(county_cls[-1])
    out = {}
    cls_df = read_classes(classes_table)
    purif = {col: coef.lut(svc, par, cls_df) for (svc, par), col in PURIFICATION.items()}
    for kind, zrows, zcls, path in (
        ("county", rows, cls_rows, out_county_csv),
        ("reach", reach_rows, reach_cls, out_reach_csv),
    ):
        sums = pd.DataFrame(zrows)
        area_by_class = np.vstack(zcls) if zcls else np.zeros((0, LUT_SIZE))
        for col, lut in purif.items():
            used = area_by_class.sum(axis=0) > 0
            if (used & np.isnan(lut)).any():
                ids = sorted(np.flatnonzero(used & np.isnan(lut)).tolist())
                raise InputError(
                    f"{coef.source}: no {col} rate for class id(s) {ids}; add rows "
                    f"or a `default` row"
                )
            sums[col] = area_by_class @ np.nan_to_num(lut)
        table = _total_row(
            zone_table(sums, prices, coef, co2_per_c, include_oxygen),
            _acc.TOTAL_NAME if kind == "county" else "合计 Total (sum of reaches)",
        )
        write_csv(table, path)
        out[f"services_by_{kind}"] = table
        out[f"_sums_{kind}"] = sums
    unit = str(gep_cfg["statistics_unit"])
    material = (
        None
        if not material_csv
        else _acc.read_statistics(material_csv, "material_products", _acc.MATERIAL_ITEMS, unit)
    )
    cultural = (
        None
        if not cultural_csv
        else _acc.read_statistics(cultural_csv, "cultural_services", _acc.CULTURAL_ITEMS, unit)
    )
    for t, kind in ((material, "material products"), (cultural, "cultural services")):
        if t is not None and not (t["year"] == int(year)).any():
            log.warning("%s statistics have no rows for %s: not accounted this year", kind, year)
    accs = []
    for kind in ("county", "reach"):
        sums = out.pop(f"_sums_{kind}")
        acc = _acc.zone_accounts(
            sums, prices, coef, co2_per_c, include_oxygen, material=material, cultural=cultural
        )
        if kind == "reach":
            acc.loc[acc["zone_kind"] == "region", "zone_name"] = "合计 Total (sum of reaches)"
        wide = _acc.gep_wide(
            acc, _total_row(sums[["zone_kind", "zone_id", "zone_name", "year", "area_ha"]])
        )
        out[f"gep_by_{kind}"] = wide
        if kind == "reach":  # one file holds both: the reaches' total gets its own id
            acc = acc.assign(
                zone_id=np.where(acc["zone_kind"] == "region", "total_reaches", acc["zone_id"])
            )
        accs.append(acc)
        target = out_gep_county_csv if kind == "county" else out_gep_reach_csv
        if target is not None:
            write_csv(wide, target)
    out["gep_accounts"] = pd.concat(accs, ignore_index=True)
    if out_accounts_csv is not None:
        write_csv(out["gep_accounts"], out_accounts_csv)
    return out


# --------------------------------------------------------------------------------------------
# Stage: comparison of two years
# --------------------------------------------------------------------------------------------

_CHANGE_COLS = [
    "area_ha",
    "carbon_sequestration_t_co2_per_yr",
    "soil_retention_t",
    "nutrient_retention_t",
    "sand_fixation_t",
    "water_conservation_m3",
    "flood_regulation_m3",
    "climate_regulation_kwh",
    "air_so2_kg",
    "air_nox_kg",
    "air_dust_kg",
    "water_cod_kg",
    "water_tn_kg",
    "water_tp_kg",
    "water_conservation_value_cny",
    "soil_retention_value_cny",
    "nutrient_retention_value_cny",
    "sand_fixation_value_cny",
    "flood_regulation_value_cny",
    "air_purification_value_cny",
    "water_purification_value_cny",
    "carbon_sequestration_value_cny",
    "climate_regulation_value_cny",
    "gep_regulating_cny",
]


def _read_table(path, need, what: str) -> pd.DataFrame:
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: {what} not found")
    df = pd.read_csv(path, dtype={"zone_id": str}, encoding="utf-8-sig")
    missing = sorted(set(need) - set(df.columns))
    if missing:
        raise InputError(
            f"{path}: column(s) {missing} missing; expected a {what} made by this "
            f"version of nxgeo (rerun services_year)"
        )
    return df


def compare_tables(a: pd.DataFrame, b: pd.DataFrame, year_a: int, year_b: int) -> pd.DataFrame:
    """Change of every service between two services_year tables (zones matched by kind+id).

    carbon_stock_change_t_c = stock(B) − stock(A) (the asset's change over the period);
    carbon_sequestration_t_c_per_yr / _t_co2_per_yr / _value_cny = the yearly sequestration
    flow of year B (what land sequestered in the accounting year; ledgers' sink);
    ``<col>_from`` / ``<col>_to`` / ``d_<col>`` for every other quantity and value. Zones found
    in only one table get status ``only_in_<year>`` and NaN changes."""
    if int(year_b) <= int(year_a):
        raise ValueError(f"year_b ({year_b}) must be after year_a ({year_a})")
    m = a.merge(
        b,
        on=["zone_kind", "zone_id"],
        how="outer",
        suffixes=("_a", "_b"),
        indicator=True,
        sort=False,
    )
    out = pd.DataFrame(
        {
            "zone_kind": m["zone_kind"],
            "zone_id": m["zone_id"],
            "zone_name": m["zone_name_b"].fillna(m["zone_name_a"]),
            "year_from": int(year_a),
            "year_to": int(year_b),
        }
    )
    out["status"] = np.select(
        [m["_merge"] == "left_only", m["_merge"] == "right_only"],
        [f"only_in_{year_a}", f"only_in_{year_b}"],
        "ok",
    )
    out["carbon_stock_t_c_from"] = m["carbon_stock_t_c_a"]
    out["carbon_stock_t_c_to"] = m["carbon_stock_t_c_b"]
    out["carbon_stock_change_t_c"] = m["carbon_stock_t_c_b"] - m["carbon_stock_t_c_a"]
    out["carbon_sequestration_t_c_per_yr"] = m["carbon_sequestration_t_c_per_yr_b"]
    out["carbon_sequestration_t_co2_per_yr"] = m["carbon_sequestration_t_co2_per_yr_b"]
    out["carbon_sequestration_value_cny"] = m["carbon_sequestration_value_cny_b"]
    for col in _CHANGE_COLS:
        out[f"{col}_from"] = m[f"{col}_a"]
        out[f"{col}_to"] = m[f"{col}_b"]
        out[f"d_{col}"] = m[f"{col}_b"] - m[f"{col}_a"]
    return out.reset_index(drop=True)


_GEP_NEED = [
    "zone_kind",
    "zone_id",
    "zone_name",
    "gep_cny",
    "not_accounted",
    *[f"{c}_cny" for c in ("material_products", "regulating_services", "cultural_services")],
]


def compare_services(
    county_csv_a,
    county_csv_b,
    reach_csv_a,
    reach_csv_b,
    year_a: int,
    year_b: int,
    out_county_csv,
    out_reach_csv,
    *,
    gep_county_a=None,
    gep_county_b=None,
    gep_reach_a=None,
    gep_reach_b=None,
    out_gep_county_csv=None,
    out_gep_reach_csv=None,
) -> dict[str, pd.DataFrame]:
    """The change of every service per county and per reach between two years
    (`compare_tables`: services_change_by_*.csv) and, with the gep_by_* tables of both years,
    the GEP change (`accounts.gep_change`: gep_change_by_*.csv, in CNY, 万元, 亿元 and %)."""
    need = [
        "zone_kind",
        "zone_id",
        "zone_name",
        "carbon_stock_t_c",
        "carbon_sequestration_t_c_per_yr",
        *_CHANGE_COLS,
    ]
    out = {}
    for kind, pa, pb, path in (
        ("county", county_csv_a, county_csv_b, out_county_csv),
        ("reach", reach_csv_a, reach_csv_b, out_reach_csv),
    ):
        t = compare_tables(
            _read_table(pa, need, "services table"),
            _read_table(pb, need, "services table"),
            year_a,
            year_b,
        )
        write_csv(t, path)
        out[f"services_change_by_{kind}"] = t
    for kind, pa, pb, path in (
        ("county", gep_county_a, gep_county_b, out_gep_county_csv),
        ("reach", gep_reach_a, gep_reach_b, out_gep_reach_csv),
    ):
        if pa is None or pb is None:
            continue
        t = _acc.gep_change(
            _read_table(pa, _GEP_NEED, "GEP table"),
            _read_table(pb, _GEP_NEED, "GEP table"),
            year_a,
            year_b,
        )
        if path is not None:
            write_csv(t, path)
        out[f"gep_change_by_{kind}"] = t
    return out


__all__ = [
    "EXTRA_LAYERS",
    "SERVICE_LAYERS",
    "ServiceParams",
    "compare_services",
    "compare_tables",
    "compute_services",
    "load_params",
    "services_reach",
    "services_year",
]
