"""GEP accounts per zone (docs/gep.md): the long table ``gep_accounts.csv`` (one row per zone ×
service), the wide ``gep_by_county.csv`` / ``gep_by_reach.csv`` (one row per zone) and the change
between two years.

* Regulating services and the carbon-stock asset come from the zone's physical sums
  (`valuation.regulating_values`).
* Material products and cultural services come from county statistics tables the user supplies
  (columns adcode, year, item, value; `read_statistics`). A table that is not supplied, a county
  without a row for an item, and every reach (statistics are per county) are **not accounted**:
  value empty, ``accounted`` False — never 0.
* GEP = Σ accounted services of the three GEP categories; the asset never enters it.
* Every table ends with a total row (``zone_kind = region``, ``zone_id = total``): the sum of the
  zones above it (for a service accounted in only some zones: the sum of those zones).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..keys import adcode_text
from .coefficients import Coefficients
from .valuation import (
    CULTURAL_ITEMS,
    GEP_CATEGORIES,
    GEP_SERVICES,
    MATERIAL_ITEMS,
    SERVICES,
    regulating_values,
)

ACCOUNT_COLUMNS = [
    "zone_kind",
    "zone_id",
    "zone_name",
    "year",
    "category",
    "service",
    "service_zh",
    "quantity",
    "unit",
    "value_cny",
    "value_wan_cny",
    "accounted",
]
ZONE_KEYS = ["zone_kind", "zone_id", "zone_name", "year"]
TOTAL_ID = "total"
TOTAL_NAME = "合计 Total"
UNIT_FACTORS = {"cny": 1.0, "wan_cny": 1.0e4, "yi_cny": 1.0e8}
WAN, YI = 1.0e4, 1.0e8


def read_statistics(path, kind: str, items, unit: str) -> pd.DataFrame:
    """A county statistics table (adcode, year, item, value; optional quantity, unit) as
    adcode, year, item, value_cny, quantity, quantity_unit. `unit` (cny | wan_cny | yi_cny,
    ``services.gep.statistics_unit``) is the unit of `value`. Unknown items, non-numeric or
    negative values and duplicate (adcode, year, item) rows are errors naming the lines."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: {kind} statistics table not found (services.gep.{kind})")
    if unit not in UNIT_FACTORS:
        raise InputError(
            f"services.gep.statistics_unit: {unit!r}; use one of {sorted(UNIT_FACTORS)}"
        )
    df = pd.read_csv(path, encoding="utf-8-sig", dtype={"adcode": str, "item": str})
    df.columns = [str(c).strip() for c in df.columns]
    missing = [c for c in ("adcode", "year", "item", "value") if c not in df.columns]
    if missing:
        raise InputError(
            f"{path}: column(s) {missing} missing; expected adcode, year, item, "
            f"value (value in {unit})"
        )
    df["adcode"] = adcode_text(df["adcode"]).to_numpy()
    bad_code = ~df["adcode"].str.fullmatch(r"[0-9]{6}")
    if bad_code.any():
        raise InputError(
            f"{path}: adcode must be a 6-digit county code (lines "
            f"{list(df.index[bad_code][:5] + 2)})"
        )
    df["item"] = df["item"].astype(str).str.strip()
    unknown = sorted(set(df["item"]) - set(items))
    if unknown:
        raise InputError(f"{path}: unknown item(s) {unknown}; {kind} items are {list(items)}")
    year = pd.to_numeric(df["year"], errors="coerce")
    val = pd.to_numeric(df["value"], errors="coerce")
    bad = year.isna() | val.isna() | (val < 0)
    if bad.any():
        raise InputError(
            f"{path}: year and value must be numbers, value >= 0 (lines "
            f"{list(df.index[bad][:5] + 2)})"
        )
    df["year"] = year.astype(int)
    dup = df.duplicated(["adcode", "year", "item"])
    if dup.any():
        raise InputError(
            f"{path}: duplicate adcode/year/item rows (lines {list(df.index[dup][:5] + 2)})"
        )
    out = pd.DataFrame(
        {
            "adcode": df["adcode"],
            "year": df["year"],
            "item": df["item"],
            "value_cny": val.astype(float) * UNIT_FACTORS[unit],
        }
    )
    out["quantity"] = pd.to_numeric(df["quantity"], errors="coerce") if "quantity" in df else np.nan
    out["quantity_unit"] = df["unit"].astype(str) if "unit" in df else "CNY"
    return out


def _svc_meta() -> dict[str, dict]:
    return {
        r.service: {"category": r.category, "zh": r.name_zh, "unit": r.unit}
        for r in SERVICES.itertuples()
    }


def zone_accounts(
    zones: pd.DataFrame,
    prices: Mapping[str, float],
    coef: Coefficients,
    co2_per_c: float,
    include_oxygen: bool,
    *,
    material: pd.DataFrame | None = None,
    cultural: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The long account table of one year for the zones of `zones` (one row per zone with
    ZONE_KEYS and valuation.PHYSICAL_COLUMNS), plus the total rows. `material` / `cultural`:
    statistics (`read_statistics`) or None when not supplied (not accounted); they apply to
    ``zone_kind == county`` rows, matched by adcode and year."""
    meta = _svc_meta()
    vals = regulating_values(zones, prices, coef, co2_per_c, include_oxygen)
    blocks = []
    keys = zones[ZONE_KEYS].reset_index(drop=True)
    n = len(keys)
    for svc, (q, v, acc) in vals.items():
        m = meta[svc]
        b = keys.copy()
        b["category"], b["service"], b["service_zh"] = m["category"], svc, m["zh"]
        b["quantity"] = np.broadcast_to(np.asarray(q, dtype=float), (n,)).copy()
        b["unit"] = m["unit"] if svc != "carbon_sequestration" else "t CO2/yr"
        val = np.broadcast_to(np.asarray(v, dtype=float), (n,)).copy()
        b["value_cny"] = val if acc else np.nan
        b["accounted"] = bool(acc)
        blocks.append(b)
    is_county = keys["zone_kind"].astype(str).eq("county") & keys["zone_id"].astype(
        str
    ).str.fullmatch(r"[0-9]{6}")
    for items, table in ((MATERIAL_ITEMS, material), (CULTURAL_ITEMS, cultural)):
        for svc in items:
            m = meta[svc]
            b = keys.copy()
            b["category"], b["service"], b["service_zh"] = m["category"], svc, m["zh"]
            b["quantity"], b["unit"], b["value_cny"], b["accounted"] = np.nan, "CNY", np.nan, False
            if table is not None:
                t = table[table["item"] == svc]
                key = t["adcode"] + "|" + t["year"].astype(str)
                v = dict(zip(key, t["value_cny"]))
                q = dict(zip(key, t["quantity"]))
                u = dict(zip(key, t["quantity_unit"]))
                zk = keys["zone_id"].astype(str) + "|" + keys["year"].astype(int).astype(str)
                got = is_county & zk.isin(v.keys())
                b.loc[got, "value_cny"] = zk[got].map(v).astype(float)
                b.loc[got, "quantity"] = zk[got].map(q).astype(float)
                b.loc[got, "unit"] = zk[got].map(u).astype(str)
                b.loc[got, "accounted"] = True
            blocks.append(b)
    acc = pd.concat(blocks, ignore_index=True)
    order = {s: i for i, s in enumerate(SERVICES["service"])}
    zorder = {
        z: i
        for i, z in enumerate(keys["zone_kind"].astype(str) + "|" + keys["zone_id"].astype(str))
    }
    acc["_z"] = (acc["zone_kind"].astype(str) + "|" + acc["zone_id"].astype(str)).map(zorder)
    acc["_s"] = acc["service"].map(order)
    acc = acc.sort_values(["_z", "_s"], kind="stable").drop(columns=["_z", "_s"])
    acc = pd.concat([acc, _total_rows(acc)], ignore_index=True)
    acc["value_wan_cny"] = acc["value_cny"] / WAN
    acc["accounted"] = acc["accounted"].astype(bool)
    return acc[ACCOUNT_COLUMNS].reset_index(drop=True)


def _total_rows(acc: pd.DataFrame) -> pd.DataFrame:
    """One total row per service: sums over the zones (quantities of accounted zones only)."""
    if acc.empty:
        return acc.iloc[0:0]
    rows = []
    year = int(acc["year"].iloc[0])
    for svc, g in acc.groupby("service", sort=False):
        a = g["accounted"].astype(bool)
        units = g.loc[a, "unit"].unique() if a.any() else g["unit"].unique()
        rows.append(
            {
                "zone_kind": "region",
                "zone_id": TOTAL_ID,
                "zone_name": TOTAL_NAME,
                "year": year,
                "category": g["category"].iloc[0],
                "service": svc,
                "service_zh": g["service_zh"].iloc[0],
                "quantity": g.loc[a, "quantity"].sum(min_count=1) if len(units) <= 1 else np.nan,
                "unit": units[0] if len(units) else "",
                "value_cny": g.loc[a, "value_cny"].sum(min_count=1) if a.any() else np.nan,
                "accounted": bool(a.any()),
            }
        )
    return pd.DataFrame(rows)


def gep_wide(accounts: pd.DataFrame, areas: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per zone (total row last): gep_cny, gep_wan_cny, gep_yi_cny, gep per km² (万元),
    the three category sums, ``<service>_cny`` for every GEP service (empty when not
    accounted), ``not_accounted`` (the services left out), and the asset columns
    carbon_stock_t_co2 / carbon_stock_value_cny (not in GEP). `areas`: zone_kind, zone_id,
    area_ha (the total row gets the sum)."""
    keys = accounts[ZONE_KEYS].drop_duplicates().reset_index(drop=True)
    gep_rows = accounts[accounts["service"].isin(GEP_SERVICES)]
    idx = ["zone_kind", "zone_id"]
    val = gep_rows.pivot_table(
        index=idx, columns="service", values="value_cny", aggfunc="sum", dropna=False, sort=False
    )
    accd = gep_rows.assign(a=gep_rows["accounted"].astype(bool)).pivot_table(
        index=idx, columns="service", values="a", aggfunc="max", dropna=False, sort=False
    )
    val = val.where(accd.astype(bool))
    out = keys.copy()
    if areas is not None:
        ar = areas.set_index(idx)["area_ha"]
        out["area_ha"] = [ar.get((k, i), np.nan) for k, i in zip(out["zone_kind"], out["zone_id"])]
        tot = out["zone_id"].astype(str).eq(TOTAL_ID) & out["zone_kind"].eq("region")
        out.loc[tot, "area_ha"] = out.loc[~tot, "area_ha"].sum()
    mi = pd.MultiIndex.from_frame(out[idx])
    v = val.reindex(mi)
    cat_of = dict(zip(SERVICES["service"], SERVICES["category"]))
    gep = np.zeros(len(out))
    any_acc = np.zeros(len(out), bool)
    cats = {}
    for c in GEP_CATEGORIES:
        cols = [s for s in GEP_SERVICES if cat_of[s] == c and s in v.columns]
        sub = v[cols]
        cats[c] = sub.sum(axis=1, min_count=1).to_numpy(float)
        gep += np.nan_to_num(cats[c])
        any_acc |= np.isfinite(cats[c])
    out["gep_cny"] = np.where(any_acc, gep, np.nan)
    out["gep_wan_cny"] = out["gep_cny"] / WAN
    out["gep_yi_cny"] = out["gep_cny"] / YI
    if "area_ha" in out:
        km2 = out["area_ha"].to_numpy(float) / 100.0
        with np.errstate(divide="ignore", invalid="ignore"):
            out["gep_wan_cny_per_km2"] = np.where(km2 > 0, out["gep_wan_cny"] / km2, np.nan)
    for c in GEP_CATEGORIES:
        out[f"{c}_cny"] = cats[c]
    for s in GEP_SERVICES:
        out[f"{s}_cny"] = v[s].to_numpy(float) if s in v.columns else np.nan
    out["not_accounted"] = [
        ";".join(s for s in GEP_SERVICES if not (s in v.columns and np.isfinite(v[s].iloc[i])))
        for i in range(len(out))
    ]
    asset = accounts[accounts["service"] == "carbon_stock"].set_index(idx)
    out["carbon_stock_t_co2"] = asset["quantity"].reindex(mi).to_numpy(float)
    out["carbon_stock_value_cny"] = asset["value_cny"].reindex(mi).to_numpy(float)
    return out


def gep_change(
    wide_a: pd.DataFrame, wide_b: pd.DataFrame, year_a: int, year_b: int
) -> pd.DataFrame:
    """GEP and every service of two years per zone (matched by zone_kind + zone_id): the two
    values, d_gep_cny / d_gep_wan_cny / d_gep_yi_cny, d_gep_pct (% of year A), d_<service>_cny.
    ``comparable`` is False where the two years account different services (their GEP then
    differs by what was accounted, not only by what changed); ``status`` names zones found in
    one year only."""
    idx = ["zone_kind", "zone_id"]
    m = wide_a.merge(wide_b, on=idx, how="outer", suffixes=("_a", "_b"), indicator=True, sort=False)
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
    ga, gb = m["gep_cny_a"], m["gep_cny_b"]
    out["gep_cny_from"], out["gep_cny_to"] = ga, gb
    out["gep_yi_cny_from"], out["gep_yi_cny_to"] = ga / YI, gb / YI
    out["d_gep_cny"] = gb - ga
    out["d_gep_wan_cny"] = out["d_gep_cny"] / WAN
    out["d_gep_yi_cny"] = out["d_gep_cny"] / YI
    with np.errstate(divide="ignore", invalid="ignore"):
        out["d_gep_pct"] = np.where(ga.abs() > 0, 100.0 * (gb - ga) / ga.abs(), np.nan)
    for c in GEP_CATEGORIES:
        out[f"d_{c}_cny"] = m[f"{c}_cny_b"] - m[f"{c}_cny_a"]
    for s in GEP_SERVICES:
        out[f"d_{s}_cny"] = m[f"{s}_cny_b"] - m[f"{s}_cny_a"]
    out["comparable"] = (m["_merge"] == "both") & (
        m["not_accounted_a"].fillna("") == m["not_accounted_b"].fillna("")
    )
    return out.reset_index(drop=True)
