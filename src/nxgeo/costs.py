"""Unit costs of the restoration measures and the cost and funding of every candidate parcel
(issue #16, seed 001; docs/programme.md §1).

The unit-cost table (``inputs.tables.unit_costs``, default ``config/tables/unit_costs.csv``)
has one row per pathway and measure: ``unit_cost_cny_per_mu`` (CNY per 亩), ``funding`` (who
pays: ``public``, ``operator``, ``social_capital`` or ``legacy`` = the mine's own field:
public for legacy mines 历史遗留, operator for the others 矿山地质环境治理恢复基金), ``source``,
``placeholder`` (yes/no), ``note``.

The **measure** of a parcel is what is done on it (`parcel_measure`):

- sand control: its target (``closed_protection``, ``public_benefit``, ``natural_recovery``),
  for-profit units ``for_profit_<sub_mode>`` (pv, shrub, tourism);
- any other pathway: ``construction`` for construction land, ``closed_protection`` for closure,
  else the use implemented (``water_use``: cropland, cropland_dry, forest, shrub, grass,
  wetland, solar_pv, natural_recovery ...);
- a parcel without a target (not eligible) has no measure and no cost (NULL).

**Cost** (CNY) = area_mu x unit cost of (pathway, measure), plus, for a mine with
``hazard_flag`` 1 (削坡减荷), area_mu x unit cost of (mine_remediation, ``slope_cutting``).
``cost_wan_cny`` = cost / 1e4. **Funding** = the row's ``funding``; ``legacy`` keeps the
mine's field set from the legacy attribute (empty when the layer gives no legacy value).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .errors import InputError
from .validate.report import fmt_num

HAZARD_MEASURE = "slope_cutting"
FUNDING_VALUES = ("public", "operator", "social_capital", "legacy")
#: measures a candidate of each pathway can get from the shipped rules (the validation asks
#: for a unit cost of each; a pathway added later lists its measures here)
MEASURES = {
    "homestead_greening": (
        "cropland",
        "cropland_dry",
        "forest",
        "shrub",
        "grass",
        "natural_recovery",
    ),
    "mine_remediation": (
        "forest",
        "shrub",
        "grass",
        "natural_recovery",
        "cropland",
        "cropland_dry",
        "solar_pv",
        "construction",
        HAZARD_MEASURE,
    ),
    "sand_control": (
        "closed_protection",
        "natural_recovery",
        "public_benefit",
        "for_profit_shrub",
        "for_profit_pv",
        "for_profit_tourism",
    ),
    "state_wasteland": (
        "forest",
        "shrub",
        "grass",
        "wetland",
        "cropland",
        "cropland_dry",
        "natural_recovery",
    ),
    "land_consolidation": (
        "cropland",
        "cropland_dry",
        "forest",
        "shrub",
        "grass",
        "natural_recovery",
    ),
}
COST_FIELDS = ["measure", "unit_cost_cny_per_mu", "cost_cny", "cost_wan_cny"]
TARGET_MEASURES = ("construction", "closed_protection")


def read_unit_costs(table) -> pd.DataFrame:
    """The unit-cost table as a frame (path or frame), checked: the columns, a number >= 0 for
    every cost, a known funding, one row per (pathway, measure). Raises InputError naming the
    row (data rows count from 1) and what to write."""
    if isinstance(table, pd.DataFrame):
        df, src = table.copy(), "unit-cost table"
    else:
        src = str(table)
        df = pd.read_csv(Path(table), dtype=str, keep_default_na=False, encoding="utf-8-sig")
    need = ["pathway", "measure", "unit_cost_cny_per_mu", "funding"]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise InputError(
            f"{src}: missing column(s) {', '.join(missing)} (expected pathway, "
            "measure, unit_cost_cny_per_mu, funding, source, placeholder, note)"
        )
    df["pathway"] = df["pathway"].astype(str).str.strip()
    df["measure"] = df["measure"].astype(str).str.strip()
    df["funding"] = df["funding"].astype(str).str.strip()
    cost = pd.to_numeric(df["unit_cost_cny_per_mu"], errors="coerce")
    problems = []
    for i in np.flatnonzero(~np.isfinite(cost.to_numpy(float))):
        problems.append(
            f"row {i + 1} ({df['pathway'].iat[i]}, {df['measure'].iat[i]}): "
            f"unit_cost_cny_per_mu {df['unit_cost_cny_per_mu'].iat[i]!r} is not a "
            "number"
        )
    for i in np.flatnonzero((cost < 0).to_numpy()):
        problems.append(
            f"row {i + 1} ({df['pathway'].iat[i]}, {df['measure'].iat[i]}): "
            f"unit_cost_cny_per_mu {fmt_num(float(cost.iat[i]))} is negative; "
            "a cost is >= 0 CNY/亩"
        )
    for i in np.flatnonzero(~df["funding"].isin(FUNDING_VALUES).to_numpy()):
        problems.append(
            f"row {i + 1} ({df['pathway'].iat[i]}, {df['measure'].iat[i]}): funding "
            f"{df['funding'].iat[i]!r} is not one of {', '.join(FUNDING_VALUES)}"
        )
    dup = df.duplicated(["pathway", "measure"], keep=False)
    if dup.any():
        keys = sorted(set(zip(df.loc[dup, "pathway"], df.loc[dup, "measure"])))
        problems.append(
            "duplicate rows for (pathway, measure) " + "; ".join(f"({p}, {m})" for p, m in keys)
        )
    if problems:
        raise InputError(f"{src}: " + "; ".join(problems))
    df["unit_cost_cny_per_mu"] = cost.astype(float)
    return df


def missing_measures(table: pd.DataFrame, pathways=None) -> list[tuple[str, str]]:
    """(pathway, measure) pairs of `MEASURES` (for `pathways`, default all) with no row."""
    have = set(
        zip(table["pathway"].astype(str).str.strip(), table["measure"].astype(str).str.strip())
    )
    return [
        (p, m) for p in (pathways or MEASURES) for m in MEASURES.get(p, ()) if (p, m) not in have
    ]


def _col(df: pd.DataFrame, name: str) -> pd.Series:
    if name in df.columns:
        return df[name].fillna("").astype(str)
    return pd.Series([""] * len(df), index=df.index, dtype=object)


def parcel_measure(df: pd.DataFrame) -> np.ndarray:
    """The measure of every parcel (module docstring); "" where it has no target."""
    pathway = _col(df, "pathway").to_numpy()
    target = _col(df, "recommended_target").to_numpy()
    use = _col(df, "water_use").to_numpy()
    sub = _col(df, "sub_mode").to_numpy()
    sand = pathway == "sand_control"
    profit = sand & (target == "for_profit")
    by_target = np.isin(target, TARGET_MEASURES) | (sand & ~profit)
    out = np.where(
        profit, np.char.add("for_profit_", sub.astype(str)), np.where(by_target, target, use)
    ).astype(object)
    out[(target == "") | ((out == "none") & ~sand)] = ""
    return out


def parcel_costs(df: pd.DataFrame, unit_costs) -> pd.DataFrame:
    """`df` with ``measure``, ``unit_cost_cny_per_mu``, ``cost_cny``, ``cost_wan_cny`` and
    ``funding`` (module docstring). Needs pathway, area_mu (or area_ha), recommended_target,
    water_use, sub_mode, hazard_flag; raises InputError listing every (pathway, measure)
    without a row in the table, with the number of parcels and the line to add."""
    table = read_unit_costs(unit_costs)
    out = df.copy()
    if not len(out):
        for c in COST_FIELDS:
            out[c] = pd.Series([], dtype=object if c == "measure" else float)
        out["funding"] = _col(out, "funding")
        return out
    measure = parcel_measure(out)
    pathway = _col(out, "pathway").to_numpy()
    unit = dict(zip(zip(table["pathway"], table["measure"]), table["unit_cost_cny_per_mu"]))
    fund = dict(zip(zip(table["pathway"], table["measure"]), table["funding"]))
    has = measure != ""
    keys = list(zip(pathway, measure))
    absent: dict[tuple[str, str], int] = {}
    for k, h in zip(keys, has):
        if h and k not in unit:
            absent[k] = absent.get(k, 0) + 1
    hazard = (
        pd.to_numeric(out["hazard_flag"], errors="coerce").fillna(0).to_numpy() > 0
        if "hazard_flag" in out.columns
        else np.zeros(len(out), dtype=bool)
    ) & has
    for p in sorted(set(pathway[hazard])):
        if (p, HAZARD_MEASURE) not in unit:
            absent[(p, HAZARD_MEASURE)] = int((hazard & (pathway == p)).sum())
    if absent:
        rows = "; ".join(
            f"({p}, {m}) for {n} parcel(s): add a line `{p},{m},<CNY per 亩>,"
            f"<public|operator|social_capital|legacy>,<source>,<yes|no>,`"
            for (p, m), n in sorted(absent.items())
        )
        raise InputError(f"unit-cost table: no unit cost for measure(s) {rows}")
    if "area_mu" in out.columns:
        mu = pd.to_numeric(out["area_mu"], errors="coerce").to_numpy(float)
    else:
        mu = pd.to_numeric(out["area_ha"], errors="coerce").to_numpy(float) * 15.0
    per_mu = np.array([unit.get(k, np.nan) if h else np.nan for k, h in zip(keys, has)], float)
    extra = np.array(
        [unit.get((p, HAZARD_MEASURE), 0.0) if hz else 0.0 for p, hz in zip(pathway, hazard)], float
    )
    cost = mu * (per_mu + extra)
    out["measure"] = measure
    out["unit_cost_cny_per_mu"] = per_mu + extra
    out["cost_cny"] = cost
    out["cost_wan_cny"] = cost / 1e4
    old = _col(out, "funding").to_numpy()
    new = np.array([fund.get(k, "") if h else "" for k, h in zip(keys, has)], dtype=object)
    out["funding"] = np.where(new == "legacy", old, np.where(new == "", old, new))
    return out
