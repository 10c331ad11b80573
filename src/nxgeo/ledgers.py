"""Yearly ledgers (docs/domain.md §8): greening-increment ledger with inter-county trades, and the
county carbon balance.

* `greening_increment` — per county, from the long transitions table of
  `nxgeo.transitions.compare_years`: gross (area that became a green class from a non-green
  class), loss (green → non-green), net = gross − loss. Changes between two green classes
  count for neither; pixels that are nodata in one of the years (class 0) are left out.
* `greening_ledger` — per county: increment vs target, surplus / deficit, and an exact set of
  trades from surplus to deficit counties of the trading group (scipy.optimize.milp, HiGHS):
  sellers sell at most their surplus (nobody falls below its own target), every trade
  balances (Σ bought = Σ sold), as much deficit as the group's surplus allows is covered, with
  the fewest trades (then the lowest cost) or the lowest cost (then the fewest trades). A
  deficit the group cannot cover is reported per county (uncovered_deficit_ha, status).
* `carbon_balance` — per county: land sink (t CO₂/yr, the services comparison's
  sequestration column) vs emissions (table + cropland coefficient × cropland area), surplus
  or deficit, forest area needed, and (`forest_need_context`) that area as a share of the
  county and of its afforestable land that has water, with ``cannot_offset_in_county``.
* `carbon_trades` — pairing of carbon-surplus with carbon-deficit counties (碳汇造林横向补偿),
  solved like the greening trades (same MILP: as much deficit covered as the surplus allows,
  fewest trades, then cheapest), tonnes and value at the CO₂ price.
* `cropland_protection` — per county (耕地进出平衡, 001 四): cropland that became a green
  class (``ledgers.cropland_to_green_classes``) and grassland that was ploughed (became
  cropland), each flagged above ``ledgers.cropland_flag_min_ha``.
* `ledgers_year` — the pipeline stage writing greening_ledger.csv (with the cropland
  protection columns), greening_trades.csv, carbon_balance.csv, carbon_trades.csv,
  cropland_protection.csv and greening_ledger.png.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from .atomic import atomic_path, write_csv
from .errors import InputError
from .keys import adcode_text

log = logging.getLogger("nxgeo.ledgers")

TOL_HA = 1e-6  # areas below this (ha) count as zero

STATUS_ZH = {
    "surplus": "有盈余",
    "met": "恰好完成",
    "deficit_covered": "缺口已通过交易补足",
    "deficit_partly_covered": "缺口部分补足",
    "deficit_uncovered": "缺口未补足",
    "no_target": "无目标",
    "carbon_surplus": "碳盈余",
    "carbon_deficit": "碳赤字",
    "no_emission_data": "无排放数据",
    "no_sink_data": "无碳汇数据",
    "cropland_to_green": "耕地转为林草地",
    "grassland_ploughed": "草地开垦为耕地",
}


def _need(df: pd.DataFrame, cols: Iterable[str], name: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise InputError(f"{name}: column(s) {missing} missing; has {list(df.columns)}")


# --------------------------------------------------------------------------------------------
# Greening increment
# --------------------------------------------------------------------------------------------


def greening_increment(transitions_df: pd.DataFrame, green_classes: Iterable[str]) -> pd.DataFrame:
    """Per county: gross_ha, loss_ha, net_ha (+ _mu is left to the caller) between two years.

    `transitions_df`: long table of `nxgeo.transitions.compare_years` (zone_kind, zone_id,
    zone_name, year_from, year_to, from_class, to_class, area_ha, from_name, to_name, ...);
    only rows with zone_kind == "county" are used. Green is judged on the canonical names
    (from_name / to_name); class id 0 (nodata in one year) counts for neither side.
    Columns: adcode, name, year_from, year_to, gross_ha, loss_ha, net_ha.
    """
    _need(
        transitions_df,
        ["zone_kind", "zone_id", "from_class", "to_class", "area_ha", "from_name", "to_name"],
        "transitions table",
    )
    green = {str(g) for g in green_classes}
    t = transitions_df[transitions_df["zone_kind"].astype(str) == "county"].copy()
    t["adcode"] = adcode_text(t["zone_id"]).to_numpy()
    data = (t["from_class"] != 0) & (t["to_class"] != 0)
    g_from = t["from_name"].astype(str).isin(green)
    g_to = t["to_name"].astype(str).isin(green)
    area = pd.to_numeric(t["area_ha"], errors="coerce").fillna(0.0)
    t["gross_ha"] = np.where(data & ~g_from & g_to, area, 0.0)
    t["loss_ha"] = np.where(data & g_from & ~g_to, area, 0.0)
    keys = ["adcode"]
    out = t.groupby(keys, sort=False)[["gross_ha", "loss_ha"]].sum().reset_index()
    names = (
        t.drop_duplicates("adcode").set_index("adcode")["zone_name"]
        if "zone_name" in t.columns
        else pd.Series(dtype=object)
    )
    out.insert(1, "name", out["adcode"].map(names))
    for col in ("year_from", "year_to"):
        if col in t.columns:
            yrs = sorted(pd.unique(t[col]))
            if len(yrs) > 1:
                raise InputError(
                    f"transitions table: several {col} values {yrs}; pass one comparison at a time"
                )
            out.insert(2 if col == "year_from" else 3, col, int(yrs[0]) if yrs else None)
    out["net_ha"] = out["gross_ha"] - out["loss_ha"]
    return out.sort_values("adcode", kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Greening ledger and trades
# --------------------------------------------------------------------------------------------


def _targets_for(targets_df: pd.DataFrame, year: int, year_from: int | None) -> pd.DataFrame:
    _need(targets_df, ["adcode", "year", "target_ha"], "greening targets table")
    t = targets_df.copy()
    t["adcode"] = adcode_text(t["adcode"]).to_numpy()
    t["year"] = pd.to_numeric(t["year"], errors="coerce").astype("Int64")
    years = list(range(int(year_from) + 1, int(year) + 1)) if year_from is not None else [year]
    t = t[t["year"].isin(years)]
    t["target_ha"] = pd.to_numeric(t["target_ha"], errors="coerce")
    if t["target_ha"].isna().any():
        bad = sorted(t.loc[t["target_ha"].isna(), "adcode"])
        raise InputError(f"greening targets: empty or non-numeric target_ha for {bad}")
    if t.duplicated(["adcode", "year"]).any():
        dup = sorted(t.loc[t.duplicated(["adcode", "year"]), "adcode"])
        raise InputError(f"greening targets: several rows for county(ies) {dup} in one year")
    g = t.groupby("adcode").agg(
        target_ha=("target_ha", "sum"),
        target_years=("year", lambda y: ",".join(map(str, sorted(y)))),
    )
    return g.reset_index()


def _solve_trades(
    surplus: np.ndarray, deficit: np.ndarray, price: np.ndarray, objective: str
) -> tuple[np.ndarray, str]:
    """Exact transfers t[i, j] (seller i -> buyer j) with scipy.optimize.milp.

    Coverage is fixed to its maximum min(Σ surplus, Σ deficit) (every seller can trade with
    every buyer, so that much is always reachable). Then lexicographic: min_trades → fewest
    trades, then lowest cost; min_cost → lowest cost, then fewest trades. The final transfers
    come from an LP with the chosen trade pattern fixed, so no big-M round-off remains.
    `price[i, j]` is CNY/ha.
    """
    from scipy.optimize import Bounds, LinearConstraint, linprog, milp

    ns, nb = surplus.size, deficit.size
    if ns == 0 or nb == 0:
        return np.zeros((ns, nb)), "nothing to trade"
    cover = float(min(surplus.sum(), deficit.sum()))
    if cover <= TOL_HA:
        return np.zeros((ns, nb)), "nothing to trade"
    n = ns * nb
    big_m = np.minimum(surplus[:, None], deficit[None, :]).ravel()
    cost = price.ravel().astype(float)
    # variables: t (n), y (n)
    a_sell = np.zeros((ns, 2 * n))
    a_buy = np.zeros((nb, 2 * n))
    for i in range(ns):
        a_sell[i, i * nb : (i + 1) * nb] = 1.0
    for j in range(nb):
        a_buy[j, j:n:nb] = 1.0
    a_link = np.hstack([np.eye(n), -np.diag(big_m)])
    a_cover = np.concatenate([np.ones(n), np.zeros(n)])[None, :]
    slack = max(TOL_HA, 1e-9 * cover)
    cons = [
        LinearConstraint(a_sell, -np.inf, surplus),
        LinearConstraint(a_buy, -np.inf, deficit),
        LinearConstraint(a_link, -np.inf, 0.0),
        LinearConstraint(a_cover, cover - slack, cover + slack),
    ]
    integrality = np.concatenate([np.zeros(n), np.ones(n)])
    bounds = Bounds(np.zeros(2 * n), np.concatenate([big_m, np.ones(n)]))
    opts = {"mip_rel_gap": 0.0, "time_limit": 600.0}
    c_trades = np.concatenate([np.zeros(n), np.ones(n)])
    # scale cost so the objective is O(cover) (HiGHS tolerances are absolute)
    scale = float(np.max(np.abs(cost))) if np.any(cost) else 1.0
    c_cost = np.concatenate([cost / scale, np.zeros(n)])
    first, second = (c_trades, c_cost) if objective == "min_trades" else (c_cost, c_trades)
    r1 = milp(first, constraints=cons, integrality=integrality, bounds=bounds, options=opts)
    if r1.x is None:
        raise RuntimeError(f"greening trades: MILP failed ({r1.message})")
    best = float(r1.fun)
    cap = best + (0.5 if objective == "min_trades" else max(1e-9 * abs(best), 1e-9))
    r2 = milp(
        second,
        constraints=[*cons, LinearConstraint(first[None, :], -np.inf, cap)],
        integrality=integrality,
        bounds=bounds,
        options=opts,
    )
    res = r2 if r2.x is not None else r1
    y = np.round(res.x[n:]).astype(bool)
    # final LP: transfers on the chosen pattern only, cheapest, exact coverage
    a_ub = np.vstack([a_sell[:, :n], a_buy[:, :n]])
    b_ub = np.concatenate([surplus, deficit])
    lp = linprog(
        cost / scale,
        A_ub=a_ub,
        b_ub=b_ub,
        A_eq=np.ones((1, n)),
        b_eq=[cover],
        bounds=list(zip(np.zeros(n), np.where(y, big_m, 0.0))),
        method="highs",
    )
    if lp.x is None:  # pragma: no cover - the MILP solution is feasible for this LP
        t = np.where(y, res.x[:n], 0.0)
    else:
        t = lp.x
    t = np.where(t > TOL_HA, t, 0.0)
    return t.reshape(ns, nb), str(r1.message)


def _settle(
    df: pd.DataFrame,
    trades: pd.DataFrame,
    qty: str,
    suffix: str,
    before: str,
    after: str,
    deficit: str,
) -> None:
    """Per county (in place): sold and bought (`sold{suffix}`, `bought{suffix}`), the quantity
    after trade, and the deficit the trades leave uncovered (`uncovered_deficit{suffix}`);
    the same bookkeeping for greening (ha) and carbon (t CO2) trades."""
    sold = trades.groupby("seller_adcode")[qty].sum()
    bought = trades.groupby("buyer_adcode")[qty].sum()
    df[f"sold{suffix}"] = df["adcode"].map(sold).fillna(0.0)
    df[f"bought{suffix}"] = df["adcode"].map(bought).fillna(0.0)
    df[after] = df[before] - df[f"sold{suffix}"] + df[f"bought{suffix}"]
    unc = np.maximum(df[deficit] - df[f"bought{suffix}"], 0.0)
    df[f"uncovered_deficit{suffix}"] = np.where(unc > TOL_HA, unc, 0.0)


def greening_ledger(
    increment_df: pd.DataFrame,
    targets_df: pd.DataFrame,
    year: int,
    group_adcodes: Iterable,
    price_per_ha,
    objective: str = "min_trades",
    *,
    year_from: int | None = None,
    basis: str = "net",
    mu_per_ha: float = 15.0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Greening ledger of every county and the trades inside the trading group.

    `increment_df`: `greening_increment` output (adcode, name, gross_ha, loss_ha, net_ha);
    `basis` picks the increment that counts (net or gross). `targets_df`: adcode, year,
    target_ha; the target is the one of `year`, or — with `year_from` — the sum over the years
    year_from+1 … year (the period the increment covers). `group_adcodes`: the counties that
    may trade. `price_per_ha`: CNY/ha, a number or a mapping seller adcode -> price (with an
    optional "default"). `objective`: "min_trades" or "min_cost" (see `_solve_trades`).

    Returns (trades, ledger). trades: trade_id, seller_adcode, seller_name, buyer_adcode,
    buyer_name, area_ha, area_mu, price_cny_per_ha, value_cny, year. ledger (one row per county
    of the increment or target tables): adcode, name, year, target_years, in_group,
    gross_ha, loss_ha, net_ha, increment_ha, target_ha, balance_ha, surplus_ha, deficit_ha,
    sold_ha, bought_ha, after_trade_ha, uncovered_deficit_ha, status, status_zh,
    group_status, and the areas in mu. Counties without a target are listed with status
    no_target and do not trade. Counties outside the group keep their deficit uncovered.
    """
    if objective not in ("min_trades", "min_cost"):
        raise ValueError(f"objective must be 'min_trades' or 'min_cost', got {objective!r}")
    if basis not in ("net", "gross"):
        raise ValueError(f"basis must be 'net' or 'gross', got {basis!r}")
    _need(increment_df, ["adcode", f"{basis}_ha"], "greening increment")
    inc = increment_df.copy()
    inc["adcode"] = adcode_text(inc["adcode"]).to_numpy()
    tg = _targets_for(targets_df, year, year_from)
    group = set(adcode_text(list(group_adcodes)))
    led = inc.merge(tg, on="adcode", how="outer")
    absent = sorted(group - set(led["adcode"]))
    if absent:  # group counties with neither increment nor target: listed, never dropped
        led = pd.concat([led, pd.DataFrame({"adcode": absent})], ignore_index=True)
    for col in ("gross_ha", "loss_ha", "net_ha"):
        if col in led.columns:
            led[col] = led[col].fillna(0.0)
    if "name" not in led.columns:
        led["name"] = None
    led["year"] = int(year)
    led["in_group"] = led["adcode"].isin(group)
    led["increment_ha"] = led[f"{basis}_ha"]
    has_target = led["target_ha"].notna()
    led["balance_ha"] = led["increment_ha"] - led["target_ha"]
    led["surplus_ha"] = np.where(has_target, np.maximum(led["balance_ha"].fillna(0.0), 0.0), 0.0)
    led["deficit_ha"] = np.where(has_target, np.maximum(-led["balance_ha"].fillna(0.0), 0.0), 0.0)
    led.loc[led["surplus_ha"] <= TOL_HA, "surplus_ha"] = 0.0
    led.loc[led["deficit_ha"] <= TOL_HA, "deficit_ha"] = 0.0
    led = led.sort_values("adcode", kind="stable").reset_index(drop=True)
    trade = led["in_group"] & has_target
    sellers = led[trade & (led["surplus_ha"] > 0)]
    buyers = led[trade & (led["deficit_ha"] > 0)]
    prices = _seller_prices(sellers["adcode"], price_per_ha)
    pmat = np.repeat(prices[:, None], len(buyers), axis=1)
    t, message = _solve_trades(
        sellers["surplus_ha"].to_numpy(float), buyers["deficit_ha"].to_numpy(float), pmat, objective
    )
    log.info("greening trades (%s): %s", objective, message)
    rows = []
    names = dict(zip(led["adcode"], led["name"]))
    for i, s in enumerate(sellers["adcode"]):
        for j, b in enumerate(buyers["adcode"]):
            if t[i, j] > 0:
                rows.append(
                    {
                        "seller_adcode": s,
                        "seller_name": names.get(s),
                        "buyer_adcode": b,
                        "buyer_name": names.get(b),
                        "area_ha": float(t[i, j]),
                        "price_cny_per_ha": float(prices[i]),
                    }
                )
    trades = pd.DataFrame(
        rows,
        columns=[
            "seller_adcode",
            "seller_name",
            "buyer_adcode",
            "buyer_name",
            "area_ha",
            "price_cny_per_ha",
        ],
    )
    trades.insert(0, "trade_id", np.arange(1, len(trades) + 1))
    trades["area_mu"] = trades["area_ha"] * mu_per_ha
    trades["value_cny"] = trades["area_ha"] * trades["price_cny_per_ha"]
    trades["year"] = int(year)
    _settle(led, trades, "area_ha", "_ha", "increment_ha", "after_trade_ha", "deficit_ha")
    led["status"] = np.select(
        [
            ~has_target,
            led["surplus_ha"] > 0,
            led["deficit_ha"] <= 0,
            led["uncovered_deficit_ha"] <= 0,
            led["bought_ha"] > TOL_HA,
        ],
        ["no_target", "surplus", "met", "deficit_covered", "deficit_partly_covered"],
        "deficit_uncovered",
    )
    led["status_zh"] = led["status"].map(STATUS_ZH)
    unc_group = float(led.loc[led["in_group"], "uncovered_deficit_ha"].sum())
    led["group_status"] = np.where(
        led["in_group"],
        "feasible"
        if unc_group <= TOL_HA
        else f"infeasible: group surplus too small, {unc_group:.4f} ha of deficit uncovered",
        "",
    )
    for col in (
        "increment_ha",
        "target_ha",
        "surplus_ha",
        "deficit_ha",
        "after_trade_ha",
        "uncovered_deficit_ha",
    ):
        led[col.replace("_ha", "_mu")] = led[col] * mu_per_ha
    front = ["adcode", "name", "year", "target_years", "in_group"]
    cols = (
        front
        + [c for c in ("year_from", "year_to") if c in led.columns]
        + [
            "gross_ha",
            "loss_ha",
            "net_ha",
            "increment_ha",
            "target_ha",
            "balance_ha",
            "surplus_ha",
            "deficit_ha",
            "sold_ha",
            "bought_ha",
            "after_trade_ha",
            "uncovered_deficit_ha",
            "status",
            "status_zh",
            "group_status",
            "increment_mu",
            "target_mu",
            "surplus_mu",
            "deficit_mu",
            "after_trade_mu",
            "uncovered_deficit_mu",
        ]
    )
    led = led[[c for c in cols if c in led.columns]]
    _check_ledger(led, trades)
    return trades, led


def _seller_prices(adcodes: pd.Series, price_per_ha) -> np.ndarray:
    if isinstance(price_per_ha, Mapping):
        table = {str(k): float(v) for k, v in price_per_ha.items()}
        default = table.get("default")
        out = []
        for a in adcodes:
            if a in table:
                out.append(table[a])
            elif default is not None:
                out.append(default)
            else:
                raise InputError(f"greening price: no price for seller county {a} and no default")
        return np.array(out, dtype=float)
    return np.full(len(adcodes), float(price_per_ha))


def _check_ledger(led: pd.DataFrame, trades: pd.DataFrame) -> None:
    """Invariants: no seller ends below its target, trades balance, buyers never over-buy."""
    tol = 1e-6
    sellers = led[led["sold_ha"] > 0]
    if (sellers["after_trade_ha"] < sellers["target_ha"] - tol).any():  # pragma: no cover
        raise RuntimeError("greening ledger: a seller would fall below its target")
    if (led["bought_ha"] > led["deficit_ha"] + tol).any():  # pragma: no cover
        raise RuntimeError("greening ledger: a buyer bought more than its deficit")
    if abs(led["sold_ha"].sum() - led["bought_ha"].sum()) > tol * max(1.0, len(trades)):
        raise RuntimeError("greening ledger: trades do not balance")  # pragma: no cover


def _cjk_font() -> str | None:
    """Name of an installed font that covers Chinese, if matplotlib knows one."""
    from matplotlib import font_manager

    known = (
        "Noto Sans CJK SC",
        "Noto Sans SC",
        "Noto Serif CJK SC",
        "Source Han Sans SC",
        "Source Han Sans CN",
        "WenQuanYi Zen Hei",
        "WenQuanYi Micro Hei",
        "SimHei",
        "Microsoft YaHei",
        "PingFang SC",
        "Heiti SC",
        "STHeiti",
        "AR PL UMing CN",
        "AR PL UKai CN",
        "Droid Sans Fallback",
        "Noto Sans CJK JP",
        "Noto Sans CJK TC",
    )
    have = {f.name for f in font_manager.fontManager.ttflist}
    for name in known:
        if name in have:
            return name
    for name in sorted(have):
        if any(k in name for k in ("CJK", "Han Sans", "Hei", "Song", "WenQuanYi")):
            return name
    return None


def ledger_chart(ledger_df: pd.DataFrame, path_png) -> Path:
    """Bar chart of increment vs target (and after trades) per county, PNG (Agg, atomic).

    Chinese labels with a CJK font when matplotlib has one; otherwise English labels and the
    county codes (never boxes of missing glyphs)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    df = ledger_df[ledger_df["target_ha"].notna() | (ledger_df["increment_ha"] != 0)]
    font = _cjk_font()
    zh = font is not None
    group = df["in_group"].astype(bool) if "in_group" in df else pd.Series(False, index=df.index)
    labels = [
        (f"{n}\n{a}" if zh and isinstance(n, str) and n else str(a)) + ("*" if g else "")
        for a, n, g in zip(df["adcode"], df.get("name", df["adcode"]), group)
    ]
    fig = Figure(figsize=(min(14.0, max(6.0, 0.5 * len(df) + 2.0)), 4.8), dpi=150)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    x = np.arange(len(df))
    w = 0.27
    ax.bar(
        x - w,
        df["increment_ha"],
        w,
        label="绿化增量" if zh else "Greening increment",
        color="#4caf50",
    )
    ax.bar(x, df["target_ha"].fillna(0.0), w, label="目标" if zh else "Target", color="#9e9e9e")
    if "after_trade_ha" in df:
        ax.bar(
            x + w,
            df["after_trade_ha"],
            w,
            label="交易后" if zh else "After trades",
            color="#1e88e5",
        )
    ax.axhline(0.0, color="black", linewidth=0.6)
    ax.set_xticks(x)
    ax.set_xticklabels(
        labels,
        fontsize=7,
        rotation=45 if len(df) > 10 else 0,
        ha="right" if len(df) > 10 else "center",
    )
    if group.any():
        ax.text(
            0.0,
            -0.32 if len(df) > 10 else -0.16,
            "* 交易组成员" if zh else "* member of the trading group",
            transform=ax.transAxes,
            fontsize=7,
        )
    ax.set_ylabel("面积 (公顷 ha)" if zh else "Area (ha)")
    year = int(df["year"].iloc[0]) if len(df) and "year" in df else ""
    ax.set_title(
        f"{year} 绿化增量与目标（县）" if zh else f"{year} Greening increment vs target by county"
    )
    legend = ax.legend(fontsize=8)
    if font is not None:  # = zh
        for item in (ax.title, ax.yaxis.label, *ax.get_xticklabels(), *legend.get_texts()):
            item.set_fontfamily(font)
    fig.tight_layout()
    with atomic_path(path_png) as tmp:
        fig.savefig(tmp, format="png")
    return Path(path_png)


# --------------------------------------------------------------------------------------------
# Carbon balance
# --------------------------------------------------------------------------------------------


def _by_adcode(obj, value_cols: Iterable[str], name: str) -> pd.Series:
    if isinstance(obj, pd.Series):
        s = obj.copy()
        s.index = adcode_text(pd.Series(s.index)).to_numpy()
        return pd.to_numeric(s, errors="coerce").groupby(level=0).sum()
    df = obj
    key = next((c for c in ("adcode", "zone_id") if c in df.columns), None)
    if key is None:
        raise InputError(f"{name}: needs an adcode (or zone_id) column")
    if "zone_kind" in df.columns:
        df = df[df["zone_kind"].astype(str) == "county"]
    col = next((c for c in value_cols if c in df.columns), None)
    if col is None:
        raise InputError(f"{name}: needs one of the columns {list(value_cols)}")
    s = pd.Series(
        pd.to_numeric(df[col], errors="coerce").to_numpy(), index=adcode_text(df[key]).to_numpy()
    )
    return s.groupby(level=0).sum(min_count=1)


def carbon_balance(
    sequestration_by_county_df: pd.DataFrame,
    emissions_df: pd.DataFrame,
    cropland_area_by_county,
    year: int,
    cropland_emission_t_co2_per_ha: float,
    forest_sequestration_t_co2_per_ha: float,
    *,
    mu_per_ha: float = 15.0,
) -> pd.DataFrame:
    """County carbon balance of `year`.

    sink_t_co2 = land sequestration per year (t CO₂/yr; the compare_services column
    carbon_sequestration_t_co2_per_yr, or sink_t_co2 / carbon_sequestration_t_co2); negative
    when the land lost carbon. emission_t_co2 = emissions table (adcode, year, emission_t_co2)
    of `year` + cropland_emission_t_co2_per_ha × cropland area (ha; a Series by adcode or a
    frame with adcode/zone_id and cropland_ha/area_ha). balance = sink − emission;
    status carbon_surplus (≥ 0) / carbon_deficit; forest_needed_ha = deficit /
    forest_sequestration_t_co2_per_ha. Every county of any input is listed; missing data gives
    NaN and status no_emission_data / no_sink_data.
    """
    if forest_sequestration_t_co2_per_ha <= 0:
        raise ValueError("forest_sequestration_t_co2_per_ha must be > 0")
    sink = _by_adcode(
        sequestration_by_county_df,
        ("carbon_sequestration_t_co2_per_yr", "sink_t_co2", "carbon_sequestration_t_co2"),
        "sequestration table",
    )
    names = {}
    if "zone_name" in sequestration_by_county_df.columns:
        sq = sequestration_by_county_df
        if "zone_kind" in sq.columns:
            sq = sq[sq["zone_kind"].astype(str) == "county"]
        names = dict(zip(adcode_text(sq["zone_id"]), sq["zone_name"]))
    _need(emissions_df, ["adcode", "year", "emission_t_co2"], "emissions table")
    em = emissions_df[pd.to_numeric(emissions_df["year"], errors="coerce") == int(year)]
    if em.empty:
        log.warning("emissions table has no rows for year %s", year)
    emis = _by_adcode(em, ("emission_t_co2",), "emissions table")
    crop = _by_adcode(cropland_area_by_county, ("cropland_ha", "area_ha"), "cropland area")
    codes = sorted((set(sink.index) | set(emis.index) | set(crop.index)) - {"none"})
    out = pd.DataFrame({"adcode": codes})
    out["name"] = out["adcode"].map(names)
    out["year"] = int(year)
    out["sink_t_co2"] = out["adcode"].map(sink)
    out["emission_table_t_co2"] = out["adcode"].map(emis)
    out["cropland_ha"] = out["adcode"].map(crop).fillna(0.0)
    out["cropland_emission_t_co2"] = out["cropland_ha"] * float(cropland_emission_t_co2_per_ha)
    out["emission_t_co2"] = out["emission_table_t_co2"] + out["cropland_emission_t_co2"]
    out["balance_t_co2"] = out["sink_t_co2"] - out["emission_t_co2"]
    bal = out["balance_t_co2"]
    out["surplus_t_co2"] = np.maximum(bal, 0.0)
    out["deficit_t_co2"] = np.maximum(-bal, 0.0)
    out["status"] = np.select(
        [out["sink_t_co2"].isna(), out["emission_table_t_co2"].isna(), bal >= 0],
        ["no_sink_data", "no_emission_data", "carbon_surplus"],
        "carbon_deficit",
    )
    out["status_zh"] = out["status"].map(STATUS_ZH)
    out["forest_needed_ha"] = out["deficit_t_co2"] / float(forest_sequestration_t_co2_per_ha)
    out["forest_needed_mu"] = out["forest_needed_ha"] * mu_per_ha
    return out


def forest_need_context(balance: pd.DataFrame, county_area_ha, afforestable_ha) -> pd.DataFrame:
    """`carbon_balance` with the forest area needed put in context: ``county_area_ha``,
    ``afforestable_with_water_ha`` (`afforestable_with_water`), ``forest_needed_share_of_county``
    and ``forest_needed_share_of_afforestable`` (NaN where the denominator is 0), and
    ``cannot_offset_in_county`` (forest needed > afforestable land with water)."""
    out = balance.copy()
    area = _by_adcode(county_area_ha, ("area_ha",), "county area")
    aff = _by_adcode(afforestable_ha, ("afforestable_with_water_ha",), "afforestable land")
    out["county_area_ha"] = out["adcode"].map(area)
    out["afforestable_with_water_ha"] = out["adcode"].map(aff).fillna(0.0)
    need = out["forest_needed_ha"]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["forest_needed_share_of_county"] = np.where(
            out["county_area_ha"] > 0, need / out["county_area_ha"], np.nan
        )
        out["forest_needed_share_of_afforestable"] = np.where(
            out["afforestable_with_water_ha"] > 0, need / out["afforestable_with_water_ha"], np.nan
        )
    out["cannot_offset_in_county"] = (
        need > out["afforestable_with_water_ha"] + TOL_HA
    ) & need.notna()
    return out


def afforestable_with_water(
    capacity_df: pd.DataFrame, forest_demand_m3_per_ha: float
) -> pd.DataFrame:
    """Afforestable land that has water, per county, from the water-capacity table
    (water_capacity.csv: land whose best use is forest, ``area_forest_ha``, the water it
    needs, ``demand_forest_m3``, and the county's ``headroom_m3``): the rain-fed part
    (area − demand / demand per ha) plus what the headroom can irrigate
    (min(irrigated part, max(headroom, 0) / demand per ha)). Columns adcode,
    afforestable_ha, rainfed_ha, irrigable_ha, afforestable_with_water_ha."""
    _need(
        capacity_df,
        ["adcode", "area_forest_ha", "demand_forest_m3", "headroom_m3"],
        "water capacity table",
    )
    c = capacity_df
    area = pd.to_numeric(c["area_forest_ha"], errors="coerce").fillna(0.0).to_numpy()
    dem = pd.to_numeric(c["demand_forest_m3"], errors="coerce").fillna(0.0).to_numpy()
    head = np.maximum(pd.to_numeric(c["headroom_m3"], errors="coerce").fillna(0.0).to_numpy(), 0)
    per = float(forest_demand_m3_per_ha)
    irrigated = np.minimum(area, dem / per) if per > 0 else np.zeros_like(area)
    rainfed = area - irrigated
    irrigable = np.minimum(irrigated, head / per) if per > 0 else irrigated
    return pd.DataFrame(
        {
            "adcode": adcode_text(c["adcode"]).to_numpy(),
            "afforestable_ha": area,
            "rainfed_ha": rainfed,
            "irrigable_ha": irrigable,
            "afforestable_with_water_ha": rainfed + irrigable,
        }
    )


CARBON_TRADE_COLUMNS = [
    "trade_id",
    "seller_adcode",
    "seller_name",
    "buyer_adcode",
    "buyer_name",
    "t_co2",
    "price_cny_per_t",
    "value_cny",
    "year",
]


def carbon_trades(
    balance: pd.DataFrame,
    group_adcodes: Iterable,
    price_cny_per_t: float,
    objective: str = "min_trades",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Carbon-sink compensation (碳汇造林横向补偿): surplus counties sell sink to deficit
    counties of the group (empty group: every county with data), solved by the MILP of the
    greening trades (`_solve_trades`: sellers sell at most their surplus, as much deficit as
    the surplus allows is covered, fewest trades then cheapest, or cheapest then fewest).

    Returns (trades: CARBON_TRADE_COLUMNS, balance with sold_t_co2, bought_t_co2,
    after_trade_balance_t_co2 and uncovered_deficit_t_co2)."""
    if objective not in ("min_trades", "min_cost"):
        raise ValueError(f"objective must be 'min_trades' or 'min_cost', got {objective!r}")
    b = balance.copy()
    group = set(adcode_text(list(group_adcodes))) if list(group_adcodes) else set(b["adcode"])
    ok = b["adcode"].isin(group) & b["status"].isin(["carbon_surplus", "carbon_deficit"])
    sellers = b[ok & (b["surplus_t_co2"] > TOL_HA)]
    buyers = b[ok & (b["deficit_t_co2"] > TOL_HA)]
    price = float(price_cny_per_t)
    pmat = np.full((len(sellers), len(buyers)), price)
    t, message = _solve_trades(
        sellers["surplus_t_co2"].to_numpy(float),
        buyers["deficit_t_co2"].to_numpy(float),
        pmat,
        objective,
    )
    log.info("carbon trades (%s): %s", objective, message)
    names = dict(zip(b["adcode"], b["name"]))
    rows = [
        {
            "seller_adcode": s,
            "seller_name": names.get(s),
            "buyer_adcode": c,
            "buyer_name": names.get(c),
            "t_co2": float(t[i, j]),
            "price_cny_per_t": price,
        }
        for i, s in enumerate(sellers["adcode"])
        for j, c in enumerate(buyers["adcode"])
        if t[i, j] > 0
    ]
    trades = pd.DataFrame(
        rows,
        columns=[
            "seller_adcode",
            "seller_name",
            "buyer_adcode",
            "buyer_name",
            "t_co2",
            "price_cny_per_t",
        ],
    )
    trades.insert(0, "trade_id", np.arange(1, len(trades) + 1))
    trades["value_cny"] = trades["t_co2"] * trades["price_cny_per_t"]
    year = int(b["year"].iloc[0]) if len(b) else None
    trades["year"] = year
    _settle(
        b, trades, "t_co2", "_t_co2", "balance_t_co2", "after_trade_balance_t_co2", "deficit_t_co2"
    )
    if (b["sold_t_co2"] > b["surplus_t_co2"] + 1e-6).any():  # pragma: no cover
        raise RuntimeError("carbon trades: a seller sold more than its surplus")
    return trades[CARBON_TRADE_COLUMNS], b


CROPLAND_COLUMNS = [
    "adcode",
    "name",
    "year_from",
    "year_to",
    "cropland_to_green_ha",
    "grassland_ploughed_ha",
    "cropland_gain_ha",
    "cropland_loss_ha",
    "cropland_net_ha",
    "cropland_to_green_flag",
    "grassland_ploughed_flag",
    "flags",
    "flags_zh",
]


def cropland_protection(
    transitions_df: pd.DataFrame,
    cropland_classes: Iterable[str],
    green_classes: Iterable[str],
    grassland_classes: Iterable[str],
    flag_min_ha: float,
    *,
    mu_per_ha: float = 15.0,
) -> pd.DataFrame:
    """Per county from the transitions table (rows zone_kind county): cropland that became
    one of `green_classes` (``cropland_to_green_ha``), `grassland_classes` that became cropland
    (``grassland_ploughed_ha``), all cropland gained / lost / net; a flag where either area
    exceeds `flag_min_ha` (``flags``: cropland_to_green;grassland_ploughed)."""
    _need(
        transitions_df,
        ["zone_kind", "zone_id", "from_class", "to_class", "area_ha", "from_name", "to_name"],
        "transitions table",
    )
    t = transitions_df[transitions_df["zone_kind"].astype(str) == "county"].copy()
    t["adcode"] = adcode_text(t["zone_id"]).to_numpy()
    data = (t["from_class"] != 0) & (t["to_class"] != 0)
    crop, green, grass = (
        {str(c) for c in x} for x in (cropland_classes, green_classes, grassland_classes)
    )
    f, to = t["from_name"].astype(str), t["to_name"].astype(str)
    area = pd.to_numeric(t["area_ha"], errors="coerce").fillna(0.0)
    t["cropland_to_green_ha"] = np.where(data & f.isin(crop) & to.isin(green), area, 0.0)
    t["grassland_ploughed_ha"] = np.where(data & f.isin(grass) & to.isin(crop), area, 0.0)
    t["cropland_gain_ha"] = np.where(data & ~f.isin(crop) & to.isin(crop), area, 0.0)
    t["cropland_loss_ha"] = np.where(data & f.isin(crop) & ~to.isin(crop), area, 0.0)
    cols = ["cropland_to_green_ha", "grassland_ploughed_ha", "cropland_gain_ha", "cropland_loss_ha"]
    out = t.groupby("adcode", sort=True)[cols].sum().reset_index()
    names = (
        t.drop_duplicates("adcode").set_index("adcode")["zone_name"]
        if "zone_name" in t.columns
        else pd.Series(dtype=object)
    )
    out.insert(1, "name", out["adcode"].map(names))
    for col in ("year_from", "year_to"):
        out[col] = int(t[col].iloc[0]) if col in t.columns and len(t) else None
    out["cropland_net_ha"] = out["cropland_gain_ha"] - out["cropland_loss_ha"]
    thr = float(flag_min_ha)
    out["cropland_to_green_flag"] = out["cropland_to_green_ha"] > thr
    out["grassland_ploughed_flag"] = out["grassland_ploughed_ha"] > thr
    out["flags"] = [
        ";".join(k for k, v in (("cropland_to_green", a), ("grassland_ploughed", b)) if v)
        for a, b in zip(out["cropland_to_green_flag"], out["grassland_ploughed_flag"])
    ]
    out["flags_zh"] = [";".join(STATUS_ZH[k] for k in f.split(";") if k) for f in out["flags"]]
    out = out[CROPLAND_COLUMNS]
    for col in ("cropland_to_green_ha", "grassland_ploughed_ha", "cropland_net_ha"):
        out[col.replace("_ha", "_mu")] = out[col] * mu_per_ha
    return out


# --------------------------------------------------------------------------------------------
# Stage
# --------------------------------------------------------------------------------------------


def _read_csv(path, what: str, **kw) -> pd.DataFrame:
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: {what} not found")
    return pd.read_csv(path, encoding="utf-8-sig", **kw)


def ledgers_year(
    transitions_county_csv,
    services_compare_county_csv,
    inventory_by_class_csv,
    targets_csv,
    emissions_csv,
    year_a: int,
    year_b: int,
    cfg_ledgers: Mapping,
    cfg_landuse: Mapping,
    prices_csv,
    out_dir,
    *,
    water_capacity_csv,
    demand_csv,
) -> dict[str, Path]:
    """Greening ledger and trades, carbon balance and the ledger chart for the comparison
    year_a → year_b (targets of the years year_a+1 … year_b, emissions and cropland of year_b).

    Config: ledgers.greening_trading_group, greening_objective (min_trades), greening_increment
    _basis (net), greening_price_factor (by seller adcode, default 1.0; × prices item
    greening_increment), cropland_classes, cropland_emission_t_co2_per_ha,
    forest_sequestration_t_co2_per_ha, carbon_trading_group, carbon_objective,
    cropland_to_green_classes, grassland_classes, cropland_flag_min_ha; landuse.green_classes,
    mu_per_ha. `water_capacity_csv` (water_capacity.csv of year_b) and `demand_csv` (water
    demand table: forest's m3/ha) give the afforestable land that has water.
    Writes greening_ledger.csv, greening_trades.csv, carbon_balance.csv, carbon_trades.csv,
    cropland_protection.csv, greening_ledger.png in `out_dir`.
    """
    from .services.params import price, read_prices

    cfg = dict(cfg_ledgers or {})
    lu_cfg = dict(cfg_landuse or {})
    mu = float(lu_cfg["mu_per_ha"])
    out_dir = Path(out_dir)
    trans = _read_csv(transitions_county_csv, "transitions table", dtype={"zone_id": str})
    if {"year_from", "year_to"} <= set(trans.columns):
        pairs = set(zip(trans["year_from"].astype(int), trans["year_to"].astype(int)))
        if pairs and pairs != {(int(year_a), int(year_b))}:
            raise InputError(
                f"{transitions_county_csv}: holds years {sorted(pairs)}, expected "
                f"{year_a} -> {year_b}"
            )
    green = lu_cfg["green_classes"]
    if not green:
        raise InputError("landuse.green_classes is empty; list the green classes")
    inc = greening_increment(trans, green)
    targets = _read_csv(targets_csv, "greening targets table", dtype={"adcode": str})
    base = price(read_prices(prices_csv), "greening_increment", str(prices_csv))
    factors = dict(cfg["greening_price_factor"])
    price_map = {str(k): base * float(v) for k, v in factors.items()}
    price_map.setdefault("default", base)
    trades, ledger = greening_ledger(
        inc,
        targets,
        int(year_b),
        cfg["greening_trading_group"],
        price_map,
        cfg["greening_objective"],
        year_from=int(year_a),
        basis=cfg["greening_increment_basis"],
        mu_per_ha=mu,
    )
    seq = _read_csv(
        services_compare_county_csv, "services comparison table", dtype={"zone_id": str}
    )
    inv = _read_csv(inventory_by_class_csv, "inventory by class table", dtype={"zone_id": str})
    _need(inv, ["zone_kind", "zone_id", "class", "area_ha"], str(inventory_by_class_csv))
    crop_classes = cfg["cropland_classes"]
    inv = inv[(inv["zone_kind"].astype(str) == "county") & inv["class"].isin(crop_classes)]
    crop = inv.groupby("zone_id")["area_ha"].sum()
    emissions = _read_csv(emissions_csv, "emissions table", dtype={"adcode": str})
    cb = carbon_balance(
        seq,
        emissions,
        crop,
        int(year_b),
        float(cfg["cropland_emission_t_co2_per_ha"]),
        float(cfg["forest_sequestration_t_co2_per_ha"]),
        mu_per_ha=mu,
    )
    cb.insert(3, "year_from", int(year_a))
    names = dict(zip(ledger["adcode"], ledger["name"]))
    cb["name"] = cb["name"].fillna(cb["adcode"].map(names))
    # forest needed in context: share of the county and of its afforestable land with water
    allinv = _read_csv(inventory_by_class_csv, "inventory by class table", dtype={"zone_id": str})
    allinv = allinv[allinv["zone_kind"].astype(str) == "county"]
    county_area = allinv.groupby("zone_id")["area_ha"].sum()
    cap = _read_csv(water_capacity_csv, "water capacity table", dtype={"adcode": str})
    dem = _read_csv(demand_csv, "water demand table")
    forest_per_ha = pd.to_numeric(
        dem.loc[dem["use"] == "forest", "demand_m3_per_ha"], errors="coerce"
    )
    if forest_per_ha.empty or forest_per_ha.isna().any():
        raise InputError(
            f"{demand_csv}: no row for use forest (needed for the afforestable land that has water)"
        )
    cb = forest_need_context(
        cb, county_area, afforestable_with_water(cap, float(forest_per_ha.iloc[0]))
    )
    carbon_price = price(read_prices(prices_csv), "carbon_co2", str(prices_csv))
    ctrades, cb = carbon_trades(
        cb, cfg["carbon_trading_group"], carbon_price, cfg["carbon_objective"]
    )
    # cropland protection (耕地进出平衡) beside the greening ledger
    crop_cls = cfg["cropland_classes"]
    cp = cropland_protection(
        trans,
        crop_cls,
        cfg["cropland_to_green_classes"],
        cfg["grassland_classes"],
        float(cfg["cropland_flag_min_ha"]),
        mu_per_ha=mu,
    )
    cpi = cp.set_index("adcode")
    for col in ("cropland_to_green_ha", "grassland_ploughed_ha", "flags"):
        ledger[f"cropland_{col}" if col == "flags" else col] = (
            ledger["adcode"].map(cpi[col]).fillna("" if col == "flags" else 0.0)
        )
    paths = {
        "greening_ledger": out_dir / "greening_ledger.csv",
        "greening_trades": out_dir / "greening_trades.csv",
        "carbon_balance": out_dir / "carbon_balance.csv",
        "carbon_trades": out_dir / "carbon_trades.csv",
        "cropland_protection": out_dir / "cropland_protection.csv",
        "chart": out_dir / "greening_ledger.png",
    }
    write_csv(ledger, paths["greening_ledger"])
    write_csv(trades, paths["greening_trades"])
    write_csv(cb, paths["carbon_balance"])
    write_csv(ctrades, paths["carbon_trades"])
    write_csv(cp, paths["cropland_protection"])
    ledger_chart(ledger, paths["chart"])
    return paths
