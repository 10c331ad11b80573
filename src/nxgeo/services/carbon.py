"""Carbon storage, with the semantics of the InVEST carbon model (natcap.invest.carbon).

Stock of a pixel (t C) = (C_above + C_below + C_soil + C_dead)[lucode] × pixel area (ha), with
the densities (t C/ha = Mg C/ha) of the InVEST carbon-pool table (columns lucode, C_above,
C_below, C_soil, C_dead; lucode = canonical class id). As in InVEST, a land-use code present in
the raster but absent from the table is an error, nodata stays nodata, and the total is the
plain sum of the pixel stocks. CO₂ = C × 44/12 (`services.co2_per_c`); value = CO₂ × price
(prices table item ``carbon_co2``, CNY/t CO₂). The stock is an ecological asset (生态资产),
never part of GEP; the yearly flow (固碳) is `sequestration_per_ha`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from .params import LUT_SIZE

POOLS = ("C_above", "C_below", "C_soil", "C_dead")
CO2_PER_C = 44.0 / 12.0  # only the fallback when the config gives no `co2_per_c`


def read_carbon_table(carbon_csv: str | Path | pd.DataFrame) -> pd.DataFrame:
    """The InVEST carbon-pool table; every pool column must be present and numeric."""
    if isinstance(carbon_csv, pd.DataFrame):
        df = carbon_csv.copy()
        src = "carbon table"
    else:
        path = Path(carbon_csv)
        if not path.exists():
            raise InputError(f"{path}: carbon table not found")
        df = pd.read_csv(path, encoding="utf-8-sig")
        src = str(path)
    df.columns = [str(c).strip() for c in df.columns]
    # InVEST matches column names case-insensitively
    rename = {c: p for c in df.columns for p in ("lucode", *POOLS) if c.lower() == p.lower()}
    df = df.rename(columns=rename)
    missing = [c for c in ("lucode", *POOLS) if c not in df.columns]
    if missing:
        raise InputError(
            f"{src}: column(s) {missing} missing (InVEST carbon table format: "
            f"lucode, C_above, C_below, C_soil, C_dead)"
        )
    for c in ("lucode", *POOLS):
        vals = pd.to_numeric(df[c], errors="coerce")
        if vals.isna().any():
            rows = list(df.index[vals.isna()][:5] + 2)
            raise InputError(f"{src}: column {c} has empty or non-numeric values (lines {rows})")
        df[c] = vals
    if df["lucode"].duplicated().any():
        dup = sorted(df.loc[df["lucode"].duplicated(), "lucode"].astype(int).unique())
        raise InputError(f"{src}: duplicate lucode(s) {dup}")
    df["lucode"] = df["lucode"].astype(int)
    return df


def density_lut(carbon_df: pd.DataFrame) -> np.ndarray:
    """Total carbon density (t C/ha) per lucode as a lookup array (NaN where not in the table)."""
    df = read_carbon_table(carbon_df)
    if ((df["lucode"] < 0) | (df["lucode"] >= LUT_SIZE)).any():
        raise InputError("carbon table: lucode must be 0..255 (canonical class ids)")
    lut = np.full(LUT_SIZE, np.nan)
    lut[df["lucode"].to_numpy()] = df[list(POOLS)].sum(axis=1).to_numpy(dtype=float)
    return lut


def carbon_stock(
    landuse: np.ndarray, lut: np.ndarray, pixel_ha: float, valid: np.ndarray | None = None
) -> np.ndarray:
    """Carbon stock per pixel (t C, float64); NaN where `valid` is False (default: landuse != 0).

    A valid pixel whose class has no row in the table raises InputError naming the codes (as
    InVEST's carbon model does).
    """
    lu = np.asarray(landuse)
    if valid is None:
        valid = lu != 0
    dens = lut[np.where(valid, lu, 0).astype(np.intp)]
    dens[~valid] = np.nan
    bad = valid & np.isnan(dens)
    if bad.any():
        codes = sorted(np.unique(lu[bad]).astype(int).tolist())
        raise InputError(
            f"land-use code(s) {codes} are in the raster but not in the carbon "
            f"table; add a row per code"
        )
    return dens * float(pixel_ha)


def to_co2(carbon_t: np.ndarray | float, co2_per_c: float = CO2_PER_C):
    """t C -> t CO₂."""
    return (
        np.asarray(carbon_t) * float(co2_per_c)
        if np.ndim(carbon_t)
        else float(carbon_t) * float(co2_per_c)
    )


def carbon_value(carbon_t, price_per_t_co2: float, co2_per_c: float = CO2_PER_C):
    """Value (CNY) of a carbon amount in t C at a price per t CO₂."""
    return to_co2(carbon_t, co2_per_c) * float(price_per_t_co2)


def sequestration_per_ha(
    landuse,
    landuse_prev,
    density: np.ndarray,
    rate: np.ndarray,
    maturation_years: float,
    loss_years: float,
    nep=None,
    valid: np.ndarray | None = None,
) -> np.ndarray:
    """Yearly carbon sequestration (t C/ha/yr, a flow) of every pixel, docs/gep.md §固碳.

    * Land whose class did not change (or whose earlier class is unknown: `landuse_prev` None
      or 0): the sequestration rate of its class (`rate`, t C/ha/yr, by class id), or the
      NEP raster (t C/ha/yr) where `nep` is finite.
    * Land that changed class: the stock difference (`density`, t C/ha, by class id) spread
      over the years it takes to build up — gains ÷ `maturation_years`, losses ÷ `loss_years`
      (negative: the land emits) — never the whole difference in one year.

    Hence per ha and year: sequestration ≤ max(rate, NEP) + max(Δdensity)/maturation_years.
    NaN where `valid` is False (default landuse != 0).
    """
    if maturation_years <= 0 or loss_years <= 0:
        raise ValueError("maturation_years and loss_years must be > 0")
    lu = np.asarray(landuse)
    if valid is None:
        valid = lu != 0
    idx = np.where(valid, lu, 0).astype(np.intp)
    r = rate[idx]
    if nep is not None:
        n = np.asarray(nep, dtype=np.float64)
        r = np.where(np.isfinite(n), n, r)
    if landuse_prev is None:
        changed = np.zeros(lu.shape, bool)
        prev_idx = idx
    else:
        prev = np.asarray(landuse_prev)
        changed = valid & (prev != 0) & (prev != lu)
        prev_idx = np.where(changed, prev, 0).astype(np.intp)
    d = density[idx] - density[prev_idx]
    step = np.where(d >= 0, d / float(maturation_years), d / float(loss_years))
    out = np.where(changed, step, r)
    return np.where(valid, out, np.nan)
