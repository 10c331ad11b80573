"""Service gains of candidate parcels (the ``d_*`` fields of candidates.gpkg), docs/gep.md.

The same per-pixel models as the rasters (`stage.compute_services`), evaluated per ha at the
parcel's mean precipitation, LS and slope: before = Σ share_c × service(class c, unchanged);
after = Σ share_c × service(target class, converted from c) — so a regreened parcel gains the
yearly sequestration of converted land (stock difference ÷ maturation period), never its full
density, and a sand parcel planted to shrub gains sand fixation (the RWEQ potential is the
soil's; only the cover changes). The carbon stock change is reported as an asset (d_carbon_t),
outside d_gep_cny.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ConfigError, InputError
from ..nodata import FLOAT_NODATA
from .accounts import WAN
from .params import cfg_get, class_ids
from .stage import compute_services, load_params
from .valuation import REGULATING, regulating_values

PARCEL_FIELDS = {
    "target": ["recommended_target", "target"],
    "area": ["area_ha"],
    "precipitation": [
        "precip_mean_mm",
        "precipitation_mean",
        "mean_precipitation",
        "precip_mean",
        "precipitation",
    ],
    "ls": ["ls_mean", "mean_ls", "ls"],
    "slope": ["slope_mean", "mean_slope", "slope"],
    "water_secured": ["water_secured"],
    "water_secured_share": ["water_secured_share"],
    "current_class": ["current_class"],
    "soil_k": ["soil_k_mean", "soil_k"],
    "sand_fraction": ["sand_fraction_mean", "sand_fraction"],
    "wind_factor": ["wind_factor_mean", "wind_factor"],
}
GAIN_COLUMNS = [
    "target_key",
    "target_class",
    "d_carbon_t",
    "d_carbon_t_co2",
    "d_carbon_stock_value_cny",
    "d_carbon_seq_t_co2_per_yr",
    "d_soil_t",
    "d_nutrient_t",
    "d_sand_t",
    "d_water_m3",
    "d_flood_m3",
    "d_climate_kwh",
    "d_air_kg",
    "d_water_purif_kg",
    *[f"d_{s}_value_cny" for s in REGULATING],
    "d_gep_cny",
    "d_gep_wan_cny",
]
# compute_services key -> physical column of the valuation
_PHYS = {
    "carbon_t": "carbon_stock_t_c",
    "seq_t": "carbon_sequestration_t_c",
    "soil_t": "soil_retention_t",
    "sand_t": "sand_fixation_t",
    "water_m3": "water_conservation_m3",
    "flood_m3": "flood_regulation_m3",
    "climate_kwh": "climate_regulation_kwh",
    "air_so2_kg": "air_so2_kg",
    "air_nox_kg": "air_nox_kg",
    "air_dust_kg": "air_dust_kg",
    "water_cod_kg": "water_cod_kg",
    "water_tn_kg": "water_tn_kg",
    "water_tp_kg": "water_tp_kg",
}
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
    out: list[str | None] = []
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


def parcel_gains(
    parcels: pd.DataFrame,
    cfg_services: Mapping,
    carbon_csv,
    prices_csv,
    classes_table,
    coefficients_csv,
    *,
    fields: Mapping[str, str] | None = None,
    share_prefix: str = "share_",
    s_method: str = "invest",
) -> pd.DataFrame:
    """Yearly change in every service if each parcel takes its recommended target use.

    Per ha, at the parcel's mean precipitation, LS and slope (and mean soil_k / sand_fraction /
    wind_factor when such fields exist): before = Σ share_c × service(class c, unchanged);
    after = Σ share_c × service(target class, converted from class c); gain = (after − before)
    × area_ha. Without an LS field, LS comes from the mean slope as the LS of one slope of
    length ``services.parcel_slope_length_m`` (L = (λ/22.13)^m, S by `s_method` —
    nxgeo.terrain.ls_factor). The slope field also gives the RWEQ roughness K′ (flat when
    absent). Current class shares: columns ``<share_prefix><canonical>`` (any scale; normalised
    per parcel), else a ``current_class`` column (canonical name, share 1).

    Targets (``recommended_target``; empty = none) map to canonical classes by
    ``services.parcel_targets``: ``class`` (or ``current``: the parcel keeps its classes, e.g.
    closed protection of sand and bare land, with the spec's new cover), optional
    ``class_not_secured`` (cropland → cropland_irrigated where irrigation water is secured —
    field ``water_secured`` true, or ``water_secured_share`` ≥ ``services.parcel_water_
    secured_share`` — else cropland_dry), optional ``fvc`` (0–1) and ``rusle_c`` for the state
    after conversion (otherwise the class tables), optional ``refine_by`` / ``refine``.
    Parcels without a target get NaN gains; an unmapped target is an error naming it.

    Returns a copy of `parcels` with GAIN_COLUMNS: d_carbon_t / d_carbon_t_co2 /
    d_carbon_stock_value_cny — the change of the carbon *stock* (an asset, one-off, not in
    GEP); d_carbon_seq_t_co2_per_yr — the yearly sequestration gained (converted land:
    stock difference ÷ maturation period, minus what the current land sequesters); the yearly
    physical gains of the other services; d_<service>_value_cny per regulating service and
    d_gep_cny / d_gep_wan_cny, their sum (accounted services only; flows, per year).
    """
    from ..terrain import ls_factor

    cfg = dict(cfg_services or {})
    params = load_params(cfg, carbon_csv, classes_table, prices_csv, coefficients_csv)
    ids = class_ids(params.classes)
    inv = {v: k for k, v in ids.items()}
    specs = dict(cfg["parcel_targets"])
    df = parcels.copy()
    n = len(df)
    area = _num(_field(df, "area", fields, True))
    prec = _num(_field(df, "precipitation", fields, True))
    slope_col = _field(df, "slope", fields, False)
    slope = None if slope_col is None else _num(slope_col)
    ls_col = _field(df, "ls", fields, False)
    if ls_col is not None:
        ls = _num(ls_col)
    else:
        if slope is None:
            raise InputError(
                f"parcels: no ls field and no slope field; expected one of "
                f"{PARCEL_FIELDS['ls'] + PARCEL_FIELDS['slope']}"
            )
        lam = float(cfg_get(cfg, "parcel_slope_length_m", required=True))
        ls = ls_factor(
            slope,
            np.where(np.isfinite(slope), 1.0, np.nan),
            lam,
            aspect_deg=np.zeros(n),
            s_method=s_method,
            l_max=None,
        ).astype(float)
        ls[ls == FLOAT_NODATA] = np.nan
    opt: dict[str, Any] = {}  # optional inputs of compute_services (array or None)
    for key in ("soil_k", "sand_fraction", "wind_factor"):
        col = _field(df, key, fields, False)
        opt[key] = None if col is None else _num(col)
    opt["slope"] = slope
    secured = np.zeros(n, bool)
    sec = _field(df, "water_secured", fields, False)
    if sec is not None:
        secured |= (
            sec.fillna(False).astype(str).str.lower().isin(["true", "1", "1.0", "yes"]).to_numpy()
        )
    share_sec = _field(df, "water_secured_share", fields, False)
    if share_sec is not None:
        thr = float(cfg_get(cfg, "parcel_water_secured_share", required=True))
        secured |= np.nan_to_num(_num(share_sec)) >= thr
    keys_t = _resolve_targets(df, _field(df, "target", fields, True), specs)
    has_t = np.array([k is not None for k in keys_t], dtype=bool)
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
                raise ConfigError(
                    [
                        (
                            f"services.parcel_targets.{name}.class: {cls!r} is not a "
                            f"canonical class (or {KEEP_CLASS!r})"
                        )
                    ]
                )
            ids_here = np.full(n, ids[cls])
            alt = spec.get("class_not_secured")
            if alt is not None:
                if alt not in ids:
                    raise ConfigError(
                        [
                            (
                                f"services.parcel_targets.{name}.class_not_secured: "
                                f"{alt!r} is not a canonical class"
                            )
                        ]
                    )
                ids_here = np.where(secured, ids[cls], ids[alt])
            t_id[sel] = ids_here[sel]
        if spec.get("fvc") is not None:
            t_fvc[sel] = float(spec["fvc"])
        if spec.get("rusle_c") is not None:
            t_c[sel] = float(spec["rusle_c"])
    # current class shares
    share_cols = {
        c[len(share_prefix) :]: c
        for c in df.columns
        if str(c).startswith(share_prefix) and c[len(share_prefix) :] in ids
    }
    if share_cols:
        shares = np.column_stack([np.nan_to_num(_num(df[c])) for c in share_cols.values()])
        cls_ids = [ids[k] for k in share_cols]
    else:
        cur = _field(df, "current_class", fields, False)
        if cur is None:
            raise InputError(
                f"parcels: no class-share columns ({share_prefix}<class>) and no "
                f"current_class column"
            )
        names = sorted({str(c) for c in cur.dropna() if str(c).strip()})
        bad = [c for c in names if c not in ids]
        if bad:
            raise InputError(f"parcels: current_class value(s) {bad} are not canonical classes")
        cls_ids = [ids[k] for k in names]
        shares = (
            np.column_stack([(cur.astype(str) == k).to_numpy(float) for k in names])
            if names
            else np.zeros((n, 0))
        )
    tot = shares.sum(axis=1)
    shares = np.where(tot[:, None] > 0, shares / np.where(tot > 0, tot, 1.0)[:, None], 0.0)
    before = {k: np.zeros(n) for k in _PHYS}
    after = {k: np.zeros(n) for k in _PHYS}
    for j, cid in enumerate(cls_ids):
        w = shares[:, j]
        on = (w > 0) & has_t
        if not on.any():
            continue
        lu_c = np.where(on, cid, 0)
        res_b = compute_services(params, lu_c, prec, ls, 1.0, **opt)
        lu_a = np.where(on, np.where(keep, cid, t_id), 0)
        res_a = compute_services(
            params,
            lu_a,
            prec,
            ls,
            1.0,
            landuse_prev=lu_c,
            fvc=t_fvc,
            rusle_c=t_c,
            fvc_for_rusle=False,
            **opt,
        )
        for k in _PHYS:
            before[k] += np.where(on, np.nan_to_num(res_b[k]) * w, 0.0)
            after[k] += np.where(on, np.nan_to_num(res_a[k]) * w, 0.0)
    df["target_key"] = keys_t
    df["target_class"] = [
        KEEP_CLASS if kp else (inv.get(int(i)) if i else None) for kp, i in zip(keep, t_id)
    ]
    valid = has_t & (tot > 0) & np.isfinite(area)
    d = {col: np.where(valid, (after[k] - before[k]) * area, np.nan) for k, col in _PHYS.items()}
    vals = regulating_values(d, params.prices, params.coef, params.co2_per_c, params.include_oxygen)
    df["d_carbon_t"] = d["carbon_stock_t_c"]
    df["d_carbon_t_co2"] = vals["carbon_stock"][0]
    df["d_carbon_stock_value_cny"] = vals["carbon_stock"][1]
    df["d_carbon_seq_t_co2_per_yr"] = vals["carbon_sequestration"][0]
    df["d_soil_t"] = d["soil_retention_t"]
    df["d_nutrient_t"] = vals["nutrient_retention"][0]
    df["d_sand_t"] = d["sand_fixation_t"]
    df["d_water_m3"] = d["water_conservation_m3"]
    df["d_flood_m3"] = d["flood_regulation_m3"]
    df["d_climate_kwh"] = d["climate_regulation_kwh"]
    df["d_air_kg"] = vals["air_purification"][0]
    df["d_water_purif_kg"] = vals["water_purification"][0]
    gep = np.where(valid, 0.0, np.nan)
    for svc in REGULATING:
        _, v, acc = vals[svc]
        df[f"d_{svc}_value_cny"] = v if acc else np.nan
        if acc:
            gep = gep + np.asarray(v, dtype=float)
    df["d_gep_cny"] = gep
    df["d_gep_wan_cny"] = gep / WAN
    return df
