"""The yearly report: one self-contained HTML page a reviewer reads, and its print-ready PDF.

``results/{year}/report/index.html`` is rendered from a Jinja2 template shipped with the package
(``nxgeo/templates/report/``): CSS, charts and maps inline (base64 PNG, maps re-sampled to about
150 dpi), tables generated from the CSV files they come from (escaped). It loads nothing from
elsewhere. ``report.pdf`` is that page printed by headless Chromium (`print_pdf`): A4 landscape,
every table split so that it fits the page width (no column is ever cut).

Every file the report reads is given by name (`REPORT_INPUTS`; the workflow declares each as an
input of the rule): nothing is found by walking folders. A section whose inputs do not exist
(yet) says so instead of failing.

Sections (`SECTIONS`; docs/report.md): the county scorecard (``county_scorecard.csv`` when the
workflow makes it, else the county indicators that exist) with a short generated narrative; GEP
by county; restoration candidates by pathway (charts: one panel per pathway); year-over-year
changes; the greening ledger, its chart and trades; carbon balance and trades; water; land-use
inventory; maps; parameters still marked placeholder; input validation; the configuration;
provenance. A section is a data function returning a `Section` (blocks: notes, KPIs, tables,
figures, lists) rendered by the template's ``section`` macro, or by its own template
``sections/<id>.html.j2`` when one exists: to add a section, write the function and register it.

Numbers: money in 万元 (tables) and 亿元 (totals), areas in ha with 万亩 beside, water in 万 m³,
years and codes without thousands separators; every column header is Chinese with English
beneath (`COLUMNS`).

A small inline script sets ``data-images-ok`` (every <img> decoded with naturalWidth > 0),
``data-js-errors`` and ``data-tables-overflow`` (tables wider than their box) on <body> after load,
so a headless browser can check the page.
"""

from __future__ import annotations

import base64
import html
import io
import json
import logging
import math
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import __version__
from .atomic import atomic_path, write_text
from .fields import DIFF_STATUS_VALUES

log = logging.getLogger(__name__)

MAP_MAX_PX = 1754  # long side: ~150 dpi of an A4 sheet
CHART_DPI = 150
MAX_TABLE_COLUMNS = 10  # a wider table is split into parts (key columns repeated)
MU_PER_HA = 15.0

PATHWAY_NAMES = {
    "homestead_greening": ("闲置宅基地复垦复绿", "Abandoned homestead greening"),
    "mine_remediation": (
        "矿山生态修复（历史遗留与矿权人责任）",
        "Mine remediation (legacy and operator)",
    ),
    "sand_control": ("防沙治沙", "Sand control"),
    "state_wasteland": ("国有荒地复绿", "State-owned waste land regreening"),
    "land_consolidation": ("土地综合整治", "Land consolidation"),
}

# Every file the report reads, by name (the rule's inputs; docs/report.md)
REPORT_INPUTS = (
    "provenance",
    "validation",
    "maps",
    "candidates",
    "candidates_summary",
    "candidates_pathways",
    "water_balance",
    "water_capacity",
    "inventory",
    "gep",
    "scorecard",
    "vectors",
    "gep_change",
    "services_change",
    "transition_matrix",
    "transitions",
    "greening_ledger",
    "greening_trades",
    "ledger_chart",
    "carbon_balance",
    "carbon_trades",
    "cropland_protection",
    "config_files",
    "config_tables",
    "programme_summary",
    "programme_reference",
    "candidates_diff",
    "candidates_diff_summary",
    "cumulative_progress",
)


# ---------------------------------------------------------------------------------------------
# column headers and number formats (one mapping for every table of the report)

# kind -> (unit zh, unit en, factor applied to the stored value)
KINDS: dict[str, tuple[str, str, float]] = {
    "text": ("", "", 1.0),
    "code": ("", "", 1.0),
    "year": ("", "", 1.0),
    "bool": ("", "", 1.0),
    "int": ("", "", 1.0),
    "num": ("", "", 1.0),
    "ha": ("公顷", "ha", 1.0),
    "mu_wan": ("万亩", "10⁴ mu", 1e-4),  # stored in mu
    "ha_wan_mu": ("万亩", "10⁴ mu", MU_PER_HA * 1e-4),  # stored in ha, shown in 万亩
    "cny_wan": ("万元", "10⁴ CNY", 1e-4),  # stored in CNY
    "wan": ("万元", "10⁴ CNY", 1.0),  # stored in 万元
    "yi": ("亿元", "10⁸ CNY", 1.0),  # stored in 亿元
    "cny_yi": ("亿元", "10⁸ CNY", 1e-8),  # stored in CNY
    "cny": ("元", "CNY", 1.0),
    "wan_per_km2": ("万元/km²", "10⁴ CNY/km²", 1.0),
    "m3_wan": ("万立方米", "10⁴ m³", 1e-4),  # stored in m3
    "t": ("吨", "t", 1.0),
    "t_wan": ("万吨", "10⁴ t", 1e-4),
    "tco2_wan": ("万吨CO₂", "10⁴ t CO₂", 1e-4),  # stored in t CO2
    "pct": ("%", "%", 1.0),
    "share_pct": ("%", "%", 100.0),  # stored as 0-1
    "mw": ("MW", "MW", 1.0),
    "cny_per_ha": ("元/公顷", "CNY/ha", 1.0),
    "cny_per_t": ("元/吨", "CNY/t", 1.0),
    "times": ("倍", "×", 1.0),
    "wan_mu": ("万亩", "10⁴ mu", 1.0),  # stored in 万亩
    "cny_per_mu": ("元/亩", "CNY/mu", 1.0),
}

# column -> (Chinese, English, kind). Columns not listed are named by `column_spec`.
COLUMNS: dict[str, tuple[str, str, str]] = {
    "adcode": ("代码", "Code", "code"),
    "zone_id": ("代码", "Code", "code"),
    "name": ("县（区）", "County", "text"),
    "county_name": ("县（区）", "County", "text"),
    "zone_name": ("名称", "Name", "text"),
    "year": ("年份", "Year", "year"),
    "year_from": ("起始年", "From year", "year"),
    "year_to": ("终止年", "To year", "year"),
    "target_years": ("目标年份", "Target year", "year"),
    "status_zh": ("状态", "Status", "text"),
    "flags_zh": ("标记", "Flags", "text"),
    "trade_id": ("交易号", "Trade", "code"),
    "seller_name": ("卖方", "Seller", "text"),
    "buyer_name": ("买方", "Buyer", "text"),
    "seller_adcode": ("卖方代码", "Seller code", "code"),
    "buyer_adcode": ("买方代码", "Buyer code", "code"),
    # GEP
    "gep_yi_cny": ("GEP", "GEP", "yi"),
    "gep_wan_cny": ("GEP", "GEP", "wan"),
    "material_products_cny": ("物质产品", "Material products", "cny_wan"),
    "regulating_services_cny": ("调节服务", "Regulating services", "cny_wan"),
    "cultural_services_cny": ("文化服务", "Cultural services", "cny_wan"),
    "gep_wan_cny_per_km2": ("单位面积GEP", "GEP per km²", "wan_per_km2"),
    "d_gep_wan_cny": ("较上期变化", "Change", "wan"),
    "d_gep_yi_cny": ("较上期变化", "Change", "yi"),
    "d_gep_pct": ("变化率", "Change", "pct"),
    "carbon_stock_value_cny": ("碳储量价值（资产）", "Carbon stock value (asset)", "cny_yi"),
    # greening ledger
    "gross_ha": ("新增绿地", "Gross greening", "ha"),
    "loss_ha": ("绿地减少", "Green loss", "ha"),
    "net_ha": ("净增", "Net", "ha"),
    "increment_ha": ("观测绿化增量", "Observed greening increment", "ha"),
    "target_ha": ("目标", "Target", "ha"),
    "balance_ha": ("盈缺", "Balance", "ha"),
    "surplus_ha": ("盈余", "Surplus", "ha"),
    "deficit_ha": ("缺口", "Deficit", "ha"),
    "sold_ha": ("售出", "Sold", "ha"),
    "bought_ha": ("购入", "Bought", "ha"),
    "after_trade_ha": ("交易后增量", "After trades", "ha"),
    "uncovered_deficit_ha": ("未补足缺口", "Uncovered deficit", "ha"),
    "increment_mu": ("观测绿化增量", "Observed increment", "mu_wan"),
    "target_mu": ("目标", "Target", "mu_wan"),
    "uncovered_deficit_mu": ("未补足缺口", "Uncovered deficit", "mu_wan"),
    # trades
    "area_ha": ("面积", "Area", "ha"),
    "area_mu": ("面积", "Area", "mu_wan"),
    "price_cny_per_ha": ("单价", "Price", "cny_per_ha"),
    "value_cny": ("金额", "Value", "cny_wan"),
    "t_co2": ("碳汇量", "Sink traded", "tco2_wan"),
    "price_cny_per_t": ("单价", "Price", "cny_per_t"),
    # carbon
    "sink_t_co2": ("碳汇", "Sink", "tco2_wan"),
    "emission_t_co2": ("排放", "Emissions", "tco2_wan"),
    "balance_t_co2": ("碳收支", "Balance", "tco2_wan"),
    "after_trade_balance_t_co2": ("交易后收支", "After trades", "tco2_wan"),
    "uncovered_deficit_t_co2": ("未补足赤字", "Uncovered deficit", "tco2_wan"),
    "forest_needed_ha": ("中和所需森林", "Forest needed for neutrality", "ha"),
    "forest_needed_share_of_county": ("所需森林/县域面积", "Forest needed / county area", "times"),
    "forest_needed_share_of_afforestable": (
        "所需森林/有水宜林地",
        "… / afforestable land with water",
        "times",
    ),
    # cropland protection
    "cropland_to_green_ha": ("耕地转林草", "Cropland to green", "ha"),
    "grassland_ploughed_ha": ("草地开垦", "Grassland ploughed", "ha"),
    "cropland_gain_ha": ("耕地增加", "Cropland gained", "ha"),
    "cropland_loss_ha": ("耕地减少", "Cropland lost", "ha"),
    "cropland_net_ha": ("耕地净变化", "Cropland net change", "ha"),
    # water
    "headroom_m3": ("可用水量余量", "Water headroom", "m3_wan"),
    "demand_m3": ("需水量", "Demand", "m3_wan"),
    "allocated_m3": ("已配置水量", "Allocated", "m3_wan"),
    "left_m3": ("配置后余量", "Left", "m3_wan"),
    "demand_total_m3": ("潜在需水", "Potential demand", "m3_wan"),
    "n_candidates": ("候选地块", "Candidates", "int"),
    # candidates
    "pathway": ("修复路径", "Pathway", "text"),
    "n_parcels": ("地块数", "Parcels", "int"),
    "n_eligible": ("符合条件", "Eligible", "int"),
    "n_allocated": ("已配水", "Allocated", "int"),
    "allocated_area_ha": ("已配水面积", "Allocated area", "ha"),
    "new_cultivated_ha": ("新增耕地（占补平衡）", "New cultivated land", "ha"),
    "freed_quota_ha": ("腾退建设用地指标（增减挂钩）", "Freed construction quota", "ha"),
    "greening_increment_ha": ("候选潜在绿化增量", "Potential greening (candidates)", "ha"),
    "closure_ha": ("封禁保护", "Closed protection", "ha"),
    "natural_recovery_ha": ("自然恢复（封育）", "Natural recovery", "ha"),
    "pv_mw": ("光伏装机", "Solar PV", "mw"),
    "water_allocated_m3": ("配置水量", "Water allocated", "m3_wan"),
    "n_hazard": ("削坡减荷地块", "Hazard parcels", "int"),
    "closure_share": ("封育占比", "Closure share", "share_pct"),
    "meets_three_north": ("符合三北比例", "Meets Three-North shares", "bool"),
    # services change
    "d_carbon_sequestration_t_co2_per_yr": ("固碳量变化", "Δ carbon sequestration", "tco2_wan"),
    "d_soil_retention_t": ("土壤保持变化", "Δ soil retention", "t_wan"),
    "d_sand_fixation_t": ("防风固沙变化", "Δ sand fixation", "t_wan"),
    "d_water_conservation_m3": ("水源涵养变化", "Δ water conservation", "m3_wan"),
    # budgeted programme (nxgeo.programme)
    "cost_wan_cny": ("费用", "Cost", "wan"),
    "cost_yi_cny": ("费用", "Cost", "yi"),
    "cost_per_mu_cny": ("亩均费用", "Cost per mu", "cny_per_mu"),
    "budget_share": ("占预算", "Share of budget", "share_pct"),
    "public_cost_wan_cny": ("财政资金", "Public funds", "wan"),
    "operator_cost_wan_cny": ("矿权人资金", "Operator funds", "wan"),
    "social_capital_cost_wan_cny": ("社会资本", "Social capital", "wan"),
    "item": ("项目", "Item", "text"),
    "observed_projects": ("001项目数", "Projects in 001", "int"),
    "observed_yi_cny": ("001投资", "Invested (001)", "yi"),
    "observed_wan_mu": ("001面积", "Area (001)", "wan_mu"),
    "observed_cost_per_mu_cny": ("001亩均", "Per mu (001)", "cny_per_mu"),
    "programme_parcels": ("方案地块", "Programme parcels", "int"),
    "programme_yi_cny": ("方案费用", "Programme cost", "yi"),
    "programme_wan_mu": ("方案面积", "Programme area", "wan_mu"),
    "programme_cost_per_mu_cny": ("方案亩均", "Programme per mu", "cny_per_mu"),
    "ratio_to_observed": ("与001之比", "Ratio to 001", "times"),
    "candidates_parcels": ("全部候选地块", "All candidates", "int"),
    "candidates_yi_cny": ("全部候选费用", "All candidates' cost", "yi"),
    "candidates_wan_mu": ("全部候选面积", "All candidates' area", "wan_mu"),
    "candidates_cost_per_mu_cny": ("全部候选亩均", "All candidates per mu", "cny_per_mu"),
    "water_m3": ("用水量", "Water", "m3_wan"),
    # placeholders
    "parameter": ("参数", "Parameter", "text"),
    "value": ("取值", "Value", "text"),
    "unit": ("单位", "Unit", "text"),
    "source": ("来源与说明", "Source and note", "text"),
    "where": ("位置", "Where", "text"),
}

# words of snake_case names, for columns not in COLUMNS (e.g. a new scorecard column)
WORDS_ZH = {
    "forest": "森林",
    "cover": "覆盖",
    "grass": "草原",
    "wetland": "湿地",
    "soil": "水土",
    "water": "水",
    "gep": "GEP",
    "cropland": "耕地",
    "greening": "绿化",
    "carbon": "碳",
    "target": "目标",
    "change": "变化",
    "share": "比例",
    "rate": "率",
    "area": "面积",
    "balance": "收支",
    "status": "状态",
    "trades": "交易",
    "headroom": "余量",
    "protection": "保护",
    "conservation": "保持",
    "kept": "保有量",
    "increment": "增量",
}


def column_spec(name: str) -> tuple[str, str, str]:
    """(Chinese, English, kind) of a column: from COLUMNS, else the candidates' field registry
    (nxgeo.fields: Chinese alias and English name), else from its name and unit suffix."""
    if name in COLUMNS:
        return COLUMNS[name]
    n = str(name)
    kind = "num"
    from .fields import CANDIDATE_FIELDS

    f = CANDIDATE_FIELDS.get(n)
    if f is not None:
        k = {"text": "text", "bool": "bool", "int": "int"}.get(f.type, "num")
        unit = f.unit.split(" ")[-1] if f.unit else ""
        k = {"ha": "ha", "MW": "mw", "m³/yr": "m3_wan", "mu": "mu_wan"}.get(unit, k)
        return f.zh, f.en, k
    for suffix, k in (
        ("_yi_cny", "yi"),
        ("_wan_cny", "wan"),
        ("_cny", "cny_wan"),
        ("_ha", "ha"),
        ("_mu", "mu_wan"),
        ("_m3", "m3_wan"),
        ("_t_co2", "tco2_wan"),
        ("_pct", "pct"),
        ("_share", "share_pct"),
        ("_mw", "mw"),
        ("_zh", "text"),
        ("adcode", "code"),
        ("year", "year"),
    ):
        if n.endswith(suffix):
            kind, n = k, n[: -len(suffix)] if suffix not in ("adcode", "year") else n
            break
    words = [w for w in n.split("_") if w]
    zh = "".join(WORDS_ZH.get(w, "") for w in words)
    en = " ".join(words).capitalize() or str(name)
    return (zh or en), en, kind


def header_of(name: str, override: tuple[str, str] | None = None) -> tuple[str, str]:
    """('GEP（亿元）', 'GEP (10⁸ CNY)') — header lines of a column, units included."""
    zh, en, kind = column_spec(name)
    if override is not None:
        zh, en = override
    uzh, uen, _ = KINDS[kind]
    return (f"{zh}（{uzh}）" if uzh else zh), (f"{en} ({uen})" if uen else en)


def _isnan(x) -> bool:
    try:
        return (
            x is None
            or (isinstance(x, (float, np.floating)) and math.isnan(float(x)))
            or x is pd.NA
        )
    except TypeError:
        return False


def fmt_number(x, decimals: int | None = None) -> str:
    """1234.5 -> '1,234.5'; below 1 three significant digits; NaN -> ''."""
    if _isnan(x):
        return ""
    if isinstance(x, (bool, np.bool_)):
        return "是" if x else "否"
    if isinstance(x, (int, np.integer)):
        return f"{int(x):,}"
    v = float(x)
    if decimals is not None:
        return f"{v:,.{decimals}f}"
    ax = abs(v)
    if ax == 0:
        return "0"
    if ax < 1:
        return f"{v:.3g}"
    if ax < 10:
        return f"{v:,.2f}"
    return f"{v:,.1f}"


def fmt_year(x) -> str:
    """2024 -> '2024' (never '2,024'); text stays text."""
    if _isnan(x):
        return ""
    try:
        f = float(x)
        return str(int(f)) if f.is_integer() else str(x)
    except (TypeError, ValueError):
        return str(x)


def fmt_cell(value, kind: str) -> str:
    if _isnan(value) or (isinstance(value, str) and value == "" and kind != "text"):
        return ""
    if kind in ("text",):
        return str(value)
    if kind in ("code", "year"):
        return fmt_year(value)
    if kind == "bool":
        if isinstance(value, str):
            return {"true": "是", "false": "否", "1": "是", "0": "否"}.get(value.lower(), value)
        return "是" if bool(value) else "否"
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if kind == "int":
        return f"{round(v):,}"
    return fmt_number(v * KINDS[kind][2])


def fmt_money_yi(cny: float) -> str:
    """CNY -> '12.34 亿元' (or '5,678.9 万元' below 0.1 亿)."""
    if _isnan(cny):
        return ""
    if abs(cny) >= 1e7:
        return f"{fmt_number(cny / 1e8)} 亿元"
    return f"{fmt_number(cny / 1e4)} 万元"


def fmt_area(ha: float) -> str:
    """ha -> '1,234.5 公顷（1.85 万亩）'."""
    if _isnan(ha):
        return ""
    return f"{fmt_number(ha)} 公顷（{fmt_number(ha * MU_PER_HA / 1e4)} 万亩）"


# ---------------------------------------------------------------------------------------------
# blocks a section is made of (rendered by the template)


@dataclass
class Table:
    id: str
    title: tuple[str, str] | None
    headers: list[tuple[str, str]]  # every column (zh, en)
    rows: list[list[str]]
    parts: list[list[int]]  # column indices per printed part (key columns repeated)
    numeric: list[bool]
    note: str = ""
    keys: int = 0  # key columns repeated in every part

    @property
    def n_columns(self) -> int:
        return len(self.headers)


@dataclass
class Block:
    kind: str  # note | kpis | table | figures | list | pre | html
    data: object


@dataclass
class Section:
    id: str
    zh: str
    en: str
    blocks: list[Block] = field(default_factory=list)

    def note(self, text: str):
        self.blocks.append(Block("note", text))

    def table(self, t: Table | None):
        if t is not None:
            self.blocks.append(Block("table", t))

    def heading(self, zh: str, en: str):
        self.blocks.append(Block("h3", (zh, en)))


def table_parts(n_cols: int, key_cols: int, max_cols: int = MAX_TABLE_COLUMNS) -> list[list[int]]:
    """Column indices of each printed part: the key columns, then at most max_cols - key_cols
    others (every column appears in exactly one part besides the repeated keys)."""
    key = list(range(min(key_cols, n_cols)))
    rest = list(range(len(key), n_cols))
    if n_cols <= max_cols or not rest:
        return [list(range(n_cols))]
    step = max(1, max_cols - len(key))
    return [key + rest[i : i + step] for i in range(0, len(rest), step)]


def make_table(
    df: pd.DataFrame,
    tid: str,
    title: tuple[str, str] | None = None,
    *,
    key_cols: int = 1,
    headers: Mapping[str, tuple[str, str]] | None = None,
    kinds: Mapping[str, str] | None = None,
    max_rows: int | None = None,
    max_cols: int = MAX_TABLE_COLUMNS,
) -> Table:
    """A DataFrame as a report table: headers from COLUMNS (or `headers`), numbers formatted by
    kind (units in the header), split into parts of at most max_cols columns."""
    headers = dict(headers or {})
    kinds = dict(kinds or {})
    shown = df if max_rows is None or len(df) <= max_rows else df.head(max_rows)
    cols = list(shown.columns)
    hdr, kk = [], []
    for c in cols:
        k = kinds.get(c) or column_spec(c)[2]
        kk.append(k)
        if c in headers:
            zh, en = headers[c]
            uzh, uen, _ = KINDS[k]
            hdr.append(
                (
                    f"{zh}（{uzh}）" if uzh and uzh not in zh else zh,
                    f"{en} ({uen})" if uen and f"({uen})" not in en else en,
                )
            )
        else:
            hdr.append(header_of(c))
    rows = [[fmt_cell(v, k) for v, k in zip(r, kk)] for r in shown.itertuples(index=False)]
    numeric = [k not in ("text", "code", "year") for k in kk]
    note = ""
    if shown is not df:
        note = (
            f"前 {max_rows} 行 / first {max_rows} of {len(df)} rows; 全部见 CSV "
            "/ all rows in the CSV."
        )
    parts = table_parts(len(cols), key_cols, max_cols)
    return Table(
        tid,
        title,
        hdr,
        rows,
        parts,
        numeric,
        note,
        keys=min(key_cols, len(cols)) if len(parts) > 1 else 0,
    )


def kpi(value: str, zh: str, en: str, hint: str = "") -> dict:
    return {"v": value, "zh": zh, "en": en, "hint": hint}


# ---------------------------------------------------------------------------------------------
# images


def png_data_uri(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def downscale_png(path: Path, max_px: int = MAP_MAX_PX) -> bytes:
    """A map sheet re-sampled to ~150 dpi, 256 colours (deterministic bytes)."""
    from PIL import Image

    with Image.open(path) as src:
        im = src.convert("RGB")
        factor = math.ceil(max(im.width, im.height) / max_px - 1e-3)
        if factor > 1:  # box-average by an integer factor: 300 dpi -> 150 dpi
            im = im.reduce(factor)
        q = im.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    buf = io.BytesIO()
    q.save(buf, format="PNG", compress_level=6)
    return buf.getvalue()


def figure_png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(
        buf,
        format="png",
        dpi=CHART_DPI,
        metadata={"Software": None},
        bbox_inches="tight",
        pad_inches=0.1,
    )
    return buf.getvalue()


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from .maps.fonts import setup_cjk_font

    setup_cjk_font()
    fig = Figure(figsize=(width, height), dpi=CHART_DPI)
    FigureCanvasAgg(fig)
    return fig


def fig_block(png: bytes, zh: str, en: str, link: str | None = None, anchor: str = "") -> dict:
    return {"src": png_data_uri(png), "zh": zh, "en": en, "link": link, "id": anchor}


# ---------------------------------------------------------------------------------------------
# reading the inputs


def read_csv(path, **kw) -> pd.DataFrame | None:
    if not path or not Path(path).is_file():
        return None
    return pd.read_csv(path, encoding="utf-8-sig", **kw)


CODE_DTYPES = {"adcode": str, "zone_id": str, "seller_adcode": str, "buyer_adcode": str}


def read_table(inputs: Mapping, key: str) -> pd.DataFrame | None:
    return read_csv(inputs.get(key), dtype=CODE_DTYPES)


def _num(df: pd.DataFrame, col: str) -> pd.Series:
    if col not in df.columns:
        return pd.Series(0.0, index=df.index)
    return pd.to_numeric(df[col], errors="coerce").fillna(0.0)


def pathway_order(config: Mapping, present: Iterable[str] = ()) -> list[str]:
    """The configured pathways (config order), then any other present in the data."""
    from .maps.sheets import configured_pathways

    conf = configured_pathways(config)
    extra = sorted(set(map(str, present)) - set(conf))
    return conf + extra


def pathway_label(p: str) -> tuple[str, str]:
    return PATHWAY_NAMES.get(p, (p, p.replace("_", " ").capitalize()))


def candidate_attributes(gpkg, pathways: Sequence[str]) -> pd.DataFrame | None:
    """All candidate parcels (attributes only) of the given layers, or None."""
    if not gpkg or not Path(gpkg).is_file():
        return None
    import pyogrio

    layers = {str(n) for n, _ in pyogrio.list_layers(gpkg)}
    frames = []
    for layer in pathways:
        if layer in layers:
            df = pd.DataFrame(pyogrio.read_dataframe(gpkg, layer=layer, read_geometry=False))
            if "pathway" not in df.columns:
                df["pathway"] = layer
            frames.append(df)
    return pd.concat(frames, ignore_index=True) if frames else None


def county_names(inputs: Mapping) -> dict[str, str]:
    gpkg = inputs.get("vectors")
    if not gpkg or not Path(gpkg).is_file():
        return {}
    try:
        import pyogrio

        df = pyogrio.read_dataframe(gpkg, layer="counties", read_geometry=False)
        return dict(zip(df["id"].astype(str), df["name"].astype(str)))
    except Exception:
        return {}


def compare_pair(inputs: Mapping) -> str | None:
    """'2023→2024' of the comparison whose tables are given, else None."""
    for k in ("greening_ledger", "gep_change", "transition_matrix"):
        p = inputs.get(k)
        if p and Path(p).is_file():
            return Path(p).parent.name.replace("_", "→")
    return None


# ---------------------------------------------------------------------------------------------
# charts (every pathway visible: one panel per pathway, each with its own scale)

INDICATOR_BARS = [
    ("new_cultivated_ha", "新增耕地", "New cultivated"),
    ("freed_quota_ha", "腾退指标", "Freed quota"),
    ("greening_increment_ha", "潜在绿化增量", "Potential greening"),
    ("closure_ha", "封禁保护", "Closure"),
    ("natural_recovery_ha", "自然恢复", "Natural recovery"),
]


def _short_key_label(k: str) -> str:
    from .fields import REASON_VALUES
    from .maps import style

    if k == style.NO_WATER:
        return "未配水 No water"
    if k.startswith(style.NOT_ELIGIBLE_PREFIX):
        r = k[len(style.NOT_ELIGIBLE_PREFIX) :]
        return f"不符合条件·{REASON_VALUES.get(r, (r, r))[0]}"
    return style.target_label(k)


def chart_pathway_targets(cands: pd.DataFrame, pathways: Sequence[str]) -> bytes:
    """Small multiples: for each pathway, ha by recommended use (not allocated hatched)."""
    from .maps import sheets as msheets

    present = [p for p in pathways if (cands["pathway"].astype(str) == p).any()]
    n = max(1, len(present))
    ncol = 2 if n > 1 else 1
    nrow = math.ceil(n / ncol)
    fig = _figure(7.2, 2.3 * nrow + 0.3)
    axes = np.atleast_1d(fig.subplots(nrow, ncol, squeeze=False).ravel())
    key = msheets.candidate_key(cands)  # the maps' classes: targets, no water, not eligible
    area = _num(cands, "area_ha")
    known = tuple(sorted(set(key)))
    for ax, pw in zip(axes, present):
        sel = cands["pathway"].astype(str) == pw
        s = area[sel].groupby(key[sel]).sum()
        order = msheets._target_order(s.index)
        vals = [float(s[k]) for k in order]
        y = np.arange(len(order))
        for i, k in enumerate(order):
            color, hatch = msheets.key_style(k, known)
            ax.barh(
                i,
                vals[i],
                color=color,
                edgecolor="#333333",
                linewidth=0.3,
                height=0.65,
                hatch=hatch,
            )
            ax.text(vals[i], i, f" {vals[i]:,.1f}", va="center", fontsize=6)
        ax.set_yticks(y, [_short_key_label(k) for k in order], fontsize=5.5)
        ax.invert_yaxis()
        zh, en = pathway_label(pw)
        ax.set_title(f"{zh}\n{en} (ha)", fontsize=7.5)
        ax.margins(x=0.3)
        ax.tick_params(axis="x", labelsize=6)
        ax.grid(axis="x", color="#e0e0e0", linewidth=0.5)
        ax.set_axisbelow(True)
    for ax in axes[len(present) :]:
        ax.set_axis_off()
    fig.subplots_adjust(wspace=0.9, hspace=0.6)
    return figure_png(fig)


def chart_pathway_indicators(ptab: pd.DataFrame) -> bytes:
    """Small multiples: for each pathway its indicators (ha, own scale) and PV (MW) in the
    title."""
    n = max(1, len(ptab))
    ncol = 2 if n > 1 else 1
    nrow = math.ceil(n / ncol)
    fig = _figure(7.2, 2.0 * nrow + 0.3)
    axes = np.atleast_1d(fig.subplots(nrow, ncol, squeeze=False).ravel())
    colors = ["#e8c95a", "#d64541", "#2e7d32", "#bdb6a8", "#a6d96a"]
    for ax, (_, row) in zip(axes, ptab.iterrows()):
        vals = [float(row.get(c, 0.0) or 0.0) for c, _, _ in INDICATOR_BARS]
        y = np.arange(len(vals))
        ax.barh(y, vals, color=colors, edgecolor="#333333", linewidth=0.3, height=0.65)
        for i, v in enumerate(vals):
            ax.text(v, i, f" {v:,.1f}", va="center", fontsize=6)
        ax.set_yticks(y, [f"{zh} {en}" for _, zh, en in INDICATOR_BARS], fontsize=6)
        ax.invert_yaxis()
        zh, en = pathway_label(str(row["pathway"]))
        pv = float(row.get("pv_mw", 0.0) or 0.0)
        ax.set_title(f"{zh}\n{en} (ha; 光伏 PV {pv:,.1f} MW)", fontsize=7.5)
        ax.margins(x=0.3)
        ax.tick_params(axis="x", labelsize=6)
        ax.grid(axis="x", color="#e0e0e0", linewidth=0.5)
        ax.set_axisbelow(True)
    for ax in axes[len(ptab) :]:
        ax.set_axis_off()
    fig.subplots_adjust(wspace=1.0, hspace=0.7)
    return figure_png(fig)


def chart_water(df: pd.DataFrame, names: Mapping[str, str]) -> bytes:
    """Two panels with their own scales: headroom, and allocated (or potential demand)."""
    df = df.sort_values("adcode")
    labels = [
        names.get(a) or (str(n) if isinstance(n, str) and n else a)
        for a, n in zip(df["adcode"], df.get("county_name", df["adcode"]))
    ]
    second = "allocated_m3" if "allocated_m3" in df.columns else "demand_m3"
    fig = _figure(7.2, 0.22 * len(df) + 1.2)
    ax1, ax2 = fig.subplots(1, 2, sharey=True)
    y = np.arange(len(df))
    for ax, col, color, zh, en in (
        (ax1, "headroom_m3", "#4fb3bf", "可用水量余量", "Headroom"),
        (
            ax2,
            second,
            "#e6ab02",
            "已配置" if second == "allocated_m3" else "潜在需水",
            "Allocated" if second == "allocated_m3" else "Demand",
        ),
    ):
        vals = _num(df, col).to_numpy() / 1e4
        ax.barh(y, vals, color=np.where(vals < 0, "#b71c1c", color), height=0.65)
        ax.set_title(f"{zh} {en}（万立方米 10⁴ m³）", fontsize=7.5)
        ax.axvline(0, color="#333333", linewidth=0.5)
        ax.tick_params(labelsize=6)
        ax.grid(axis="x", color="#e0e0e0", linewidth=0.5)
        ax.set_axisbelow(True)
    ax1.set_yticks(y, labels, fontsize=6)
    ax1.invert_yaxis()
    return figure_png(fig)


# ---------------------------------------------------------------------------------------------
# the narrative (a few generated sentences: deficits, what changed most)


def _names_list(names: Sequence[str], limit: int = 8) -> str:
    names = [str(n) for n in names]
    shown = "、".join(names[:limit])
    return shown + (f" 等 {len(names)} 个" if len(names) > limit else "")


def narrative(
    *,
    gep: pd.DataFrame | None = None,
    gep_change: pd.DataFrame | None = None,
    ledger: pd.DataFrame | None = None,
    trades: pd.DataFrame | None = None,
    water: pd.DataFrame | None = None,
    carbon: pd.DataFrame | None = None,
    transitions: pd.DataFrame | None = None,
    names: Mapping[str, str] | None = None,
    pair: str | None = None,
) -> list[str]:
    """Bilingual sentences on what a reviewer looks for first: which counties are short of
    water or of their greening target, carbon deficits, and what changed most."""
    names = dict(names or {})
    out: list[str] = []

    def nm(df, code_col="adcode", name_col="name"):
        if name_col in df.columns:
            return [str(v) for v in df[name_col]]
        return [names.get(str(a), str(a)) for a in df[code_col]]

    if gep is not None and len(gep) and "zone_kind" in gep.columns:
        reg = gep[gep["zone_kind"].astype(str) == "region"]
        if len(reg):
            s = f"全区GEP {fmt_number(float(reg['gep_yi_cny'].iloc[0]))} 亿元"
            if gep_change is not None and len(gep_change):
                rc = gep_change[gep_change["zone_kind"].astype(str) == "region"]
                if len(rc) and not _isnan(rc["d_gep_pct"].iloc[0]):
                    s += (
                        f"，较上期 {float(rc['d_gep_pct'].iloc[0]):+.2f}%"
                        f"（{fmt_number(float(rc['d_gep_yi_cny'].iloc[0]))} 亿元）"
                    )
            out.append(s + f" / Region GEP {fmt_number(float(reg['gep_yi_cny'].iloc[0]))} 10⁸ CNY.")
    if gep_change is not None and len(gep_change) and "d_gep_wan_cny" in gep_change.columns:
        cty = gep_change[gep_change["zone_kind"].astype(str) == "county"].copy()
        cty["_d"] = pd.to_numeric(cty["d_gep_wan_cny"], errors="coerce")
        cty = cty.dropna(subset=["_d"])
        if len(cty):
            hi, lo = cty.loc[cty["_d"].idxmax()], cty.loc[cty["_d"].idxmin()]
            out.append(
                f"GEP增加最多：{hi['zone_name']}（{fmt_number(hi['_d'])} 万元），减少最多："
                f"{lo['zone_name']}（{fmt_number(lo['_d'])} 万元） / largest GEP rise "
                f"{hi['zone_name']}, largest fall {lo['zone_name']}."
            )
    if ledger is not None and len(ledger):
        unc = _num(ledger, "uncovered_deficit_ha")
        short = ledger[unc > 0]
        if len(short):
            out.append(
                f"绿化增量缺口未补足的县（区）{len(short)} 个：{_names_list(nm(short))}"
                f"（合计缺口 {fmt_area(float(unc[unc > 0].sum()))}） / {len(short)} "
                "counties short of their greening target after trades."
            )
        else:
            out.append(
                "各县（区）绿化增量均达到目标（含交易） / every county meets its greening "
                "target (trades included)."
            )
        if trades is not None and len(trades):
            out.append(
                f"绿化增量交易 {len(trades)} 笔，{fmt_area(float(_num(trades, 'area_ha').sum()))}"
                f"，金额 {fmt_money_yi(float(_num(trades, 'value_cny').sum()))} / "
                f"{len(trades)} greening trades."
            )
    if water is not None and len(water) and "headroom_m3" in water.columns:
        dry = water[_num(water, "headroom_m3") <= 0]
        if len(dry):
            out.append(
                f"可用水量无余量（用水总量控制指标已用尽）的县（区）{len(dry)} 个："
                f"{_names_list(nm(dry, name_col='county_name'))}，其候选地块不能配水 / "
                f"{len(dry)} counties have no water headroom: no parcel there gets water."
            )
        else:
            out.append("各县（区）均有可用水量余量 / every county has water headroom.")
    if carbon is not None and len(carbon) and "status" in carbon.columns:
        deficit = carbon[carbon["status"].astype(str) == "carbon_deficit"]
        surplus = carbon[carbon["status"].astype(str) == "carbon_surplus"]
        out.append(
            f"碳赤字县（区）{len(deficit)} 个，碳盈余 {len(surplus)} 个"
            + (f"（盈余：{_names_list(nm(surplus))}）" if len(surplus) else "")
            + f" / {len(deficit)} counties in carbon deficit, {len(surplus)} in surplus."
        )
    if transitions is not None and len(transitions) and "changed" in transitions.columns:
        ch = transitions[transitions["changed"].astype(str).str.lower().isin(["true", "1"])]
        if len(ch):
            g = ch.groupby(["from_zh", "to_zh"])["area_ha"].sum().sort_values(ascending=False)
            (fz, tz), ha = g.index[0], float(g.iloc[0])
            span = f"（{pair}）" if pair else ""
            out.append(
                f"变化最大的地类转换{span}：{fz}→{tz} {fmt_area(ha)} / largest land-use "
                f"change: {fz} → {tz}."
            )
    return out


# ---------------------------------------------------------------------------------------------
# placeholders: config lines marked "(placeholder)" and table rows flagged placeholder

KEY_LINE = re.compile(r"^(\s*)(?:-\s+)?([A-Za-z_][\w-]*)\s*:\s*(.*)$")
# the config's convention: "(placeholder)", "(placeholder: …)", "(all placeholder)"
PLACEHOLDER_MARK = re.compile(r"\((?:all )?placeholder\b", re.IGNORECASE)


def config_placeholders(text: str, where: str = "config.yaml") -> list[dict]:
    """Keys of a YAML config whose line (or the comment lines just above) says 'placeholder'."""
    rows: list[dict] = []
    stack: list[tuple[int, str]] = []
    pending: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            pending = []
            continue
        if stripped.startswith("#"):
            pending.append(stripped.lstrip("# ").strip())
            continue
        m = KEY_LINE.match(line)
        if not m:
            pending = []
            continue
        indent, key, rest = len(m.group(1)), m.group(2), m.group(3)
        while stack and stack[-1][0] >= indent:
            stack.pop()
        stack.append((indent, key))
        value, _, comment = rest.partition(" #")
        notes = [c for c in pending if PLACEHOLDER_MARK.search(c)]
        if PLACEHOLDER_MARK.search(comment) or notes:
            rows.append(
                {
                    "parameter": ".".join(k for _, k in stack),
                    "value": value.strip(),
                    "unit": "",
                    "source": "; ".join([comment.strip()] + notes).strip("; "),
                    "where": where,
                }
            )
        pending = []
    return rows


def table_placeholders(path, name: str | None = None) -> list[dict]:
    """Rows of a parameter table flagged placeholder (column `placeholder` = yes, or a note /
    source saying 'placeholder')."""
    df = read_csv(path, dtype=str, keep_default_na=False)
    if df is None or not len(df):
        return []
    name = name or Path(path).name
    if "placeholder" in df.columns:
        flag = df["placeholder"].str.strip().str.lower().isin(["yes", "true", "1"])
    else:
        text = pd.Series("", index=df.index)
        for c in ("note", "source"):
            if c in df.columns:
                text = text + " " + df[c]
        flag = text.str.lower().str.contains("placeholder")
    keys = [c for c in df.columns if c not in ("value", "unit", "source", "note", "placeholder")]
    vcols = [c for c in df.columns if c not in keys]
    out = []
    for _, r in df[flag].iterrows():
        label = " / ".join(str(r[c]) for c in keys[:3] if str(r[c]))
        value = (
            r["value"]
            if "value" in df.columns
            else "; ".join(f"{c}={r[c]}" for c in keys[3:] if str(r[c]))
        )
        src = "; ".join(str(r[c]) for c in ("source", "note") if c in vcols and str(r[c]))
        out.append(
            {
                "parameter": label,
                "value": value,
                "unit": r["unit"] if "unit" in df.columns else "",
                "source": src,
                "where": Path(path).as_posix(),
            }
        )
    return out


# ---------------------------------------------------------------------------------------------
# sections (each: inputs -> Section)


@dataclass
class Ctx:
    year: int | str
    inputs: Mapping
    config: Mapping
    names: dict[str, str]
    pair: str | None
    cache: dict = field(default_factory=dict)

    def table(self, key: str) -> pd.DataFrame | None:
        if key not in self.cache:
            self.cache[key] = read_table(self.inputs, key)
        return self.cache[key]


def _missing(sec: Section, what: str, zh: str = "尚未生成", en: str = "not made yet"):
    sec.note(f"{what} {zh} {en}: 本节从略 section skipped.")


def county_indicators(c: Ctx) -> pd.DataFrame | None:
    """One row per county from the tables that exist: GEP and its change, observed greening vs
    target, carbon balance, cropland, water headroom and the candidates' indicators."""
    frames = []
    gep = c.table("gep")
    if gep is not None:
        g = gep[gep["zone_kind"].astype(str) == "county"].rename(columns={"zone_id": "adcode"})
        frames.append(
            g[["adcode", "zone_name", "gep_yi_cny"]].rename(columns={"zone_name": "name"})
        )
    ch = c.table("gep_change")
    if ch is not None:
        g = ch[ch["zone_kind"].astype(str) == "county"].rename(columns={"zone_id": "adcode"})
        frames.append(g[["adcode", "d_gep_pct"]])
    led = c.table("greening_ledger")
    if led is not None:
        cols = [
            x
            for x in ("adcode", "name", "increment_ha", "target_ha", "after_trade_ha", "status_zh")
            if x in led.columns
        ]
        frames.append(led[cols].rename(columns={"status_zh": "greening_status_zh"}))
    cb = c.table("carbon_balance")
    if cb is not None:
        cols = [x for x in ("adcode", "name", "balance_t_co2", "status_zh") if x in cb.columns]
        frames.append(cb[cols].rename(columns={"status_zh": "carbon_status_zh"}))
    cp = c.table("cropland_protection")
    if cp is not None and "cropland_net_ha" in cp.columns:
        frames.append(cp[["adcode", "cropland_net_ha"]])
    wb = c.table("water_balance")
    if wb is None:
        wb = c.table("water_capacity")
    if wb is not None and "headroom_m3" in wb.columns:
        frames.append(wb[["adcode", "headroom_m3"]])
    cs = c.table("candidates_summary")
    if cs is not None and len(cs):
        ind = ["new_cultivated_ha", "freed_quota_ha", "greening_increment_ha", "pv_mw"]
        s = cs.groupby("adcode")[[x for x in ind if x in cs.columns]].sum().reset_index()
        frames.append(s)
    if not frames:
        return None
    out = None
    for f in frames:
        f = f.copy()
        f["adcode"] = f["adcode"].astype(str)
        if out is None:
            out = f
            continue
        dup = [x for x in f.columns if x in out.columns and x != "adcode"]
        if "name" in dup:
            out["name"] = out["name"].fillna(out["adcode"].map(dict(zip(f["adcode"], f["name"]))))
            f = f.drop(columns=["name"])
        out = out.merge(
            f.drop(columns=[x for x in dup if x != "name"], errors="ignore"),
            on="adcode",
            how="outer",
        )
    assert out is not None  # frames is not empty
    if "name" not in out.columns:
        out.insert(1, "name", out["adcode"].map(c.names))
    out["name"] = out["name"].fillna(out["adcode"].map(c.names)).fillna("")
    out = out[out["adcode"].str.fullmatch(r"\d{6}")].sort_values("adcode")
    lead = ["adcode", "name"]
    return out[lead + [x for x in out.columns if x not in lead]].reset_index(drop=True)


SCORECARD_HEADERS = {
    "greening_status_zh": ("绿化目标状态", "Greening status"),
    "carbon_status_zh": ("碳收支状态", "Carbon status"),
    "balance_t_co2": ("碳收支", "Carbon balance"),
    "headroom_m3": ("可用水量余量", "Water headroom"),
}


def section_scorecard(c: Ctx) -> Section:
    sec = Section("scorecard", "县域考核指标与要点", "County scorecard and key findings")
    lines = narrative(
        gep=c.table("gep"),
        gep_change=c.table("gep_change"),
        ledger=c.table("greening_ledger"),
        trades=c.table("greening_trades"),
        water=c.table("water_balance"),
        carbon=c.table("carbon_balance"),
        transitions=c.table("transitions"),
        names=c.names,
        pair=c.pair,
    )
    if lines:
        sec.heading("要点", "Key findings")
        sec.blocks.append(Block("list", lines))
    sc = c.table("scorecard")
    if sc is not None:
        from .scorecard import report_table

        df, headers = report_table(sc)
        sec.heading(
            "县域考核评价指标表", "County scorecard (考核评价指标, 八(四); docs/indicators.md)"
        )
        sec.table(make_table(df, "tbl-scorecard", key_cols=1, headers=headers))
        sec.note(
            "绿化增量（候选）为已配水候选地块的规划增量，非两期调查之间的观测增量（见台账） / the "
            "candidates' greening is planned, not the observed increment of the ledger."
        )
        return sec
    ind = county_indicators(c)
    if ind is None:
        _missing(sec, "县域指标 county indicators")
        return sec
    sec.heading("县域指标（现有各表汇总）", "County indicators (from the tables that exist)")
    sec.table(make_table(ind, "tbl-county-indicators", key_cols=2, headers=SCORECARD_HEADERS))
    sec.note(
        "观测绿化增量 = 两期土地利用调查之间的净绿地增加（台账）；候选潜在绿化增量 = 已配水候选地块"
        "实施后的规划增量。两者不可相加 / observed increment = net green gain between the two "
        "surveys (ledger); potential = planned gain of the allocated candidates: not additive."
    )
    return sec


GEP_COLUMNS = [
    "zone_id",
    "zone_name",
    "gep_yi_cny",
    "material_products_cny",
    "regulating_services_cny",
    "cultural_services_cny",
    "gep_wan_cny_per_km2",
    "d_gep_wan_cny",
    "d_gep_pct",
]


def section_gep(c: Ctx) -> Section:
    """GEP per county in 亿元/万元, by category, with the change since the earlier survey year;
    services left out and placeholder prices are said, not hidden."""
    sec = Section("gep", "生态产品总值（GEP）", "Gross ecosystem product by county")
    gep = c.table("gep")
    if gep is None:
        _missing(sec, "tables/gep_by_county.csv")
        return sec
    change = c.table("gep_change")
    df = gep.copy()
    if change is not None:
        ch = change.set_index(["zone_kind", "zone_id"])
        idx = list(zip(df["zone_kind"], df["zone_id"]))
        df["d_gep_wan_cny"] = [ch["d_gep_wan_cny"].get(k, np.nan) for k in idx]
        df["d_gep_pct"] = [ch["d_gep_pct"].get(k, np.nan) for k in idx]
    else:
        df["d_gep_wan_cny"] = np.nan
        df["d_gep_pct"] = np.nan
    total = df[df["zone_kind"] == "region"]
    if len(total):
        t = total.iloc[0]
        k = [kpi(f"{fmt_number(t['gep_yi_cny'])} 亿元", "全区GEP", "Region GEP")]
        if "gep_wan_cny_per_km2" in t:
            k.append(
                kpi(
                    f"{fmt_number(t['gep_wan_cny_per_km2'])} 万元/km²", "单位面积GEP", "GEP per km²"
                )
            )
        if change is not None and not _isnan(t["d_gep_wan_cny"]):
            k.append(
                kpi(
                    f"{fmt_number(t['d_gep_wan_cny'] / 1e4)} 亿元（{t['d_gep_pct']:+.2f}%）",
                    f"较上期变化 {c.pair or ''}",
                    "Change",
                )
            )
        if "carbon_stock_value_cny" in t and not _isnan(t["carbon_stock_value_cny"]):
            k.append(
                kpi(
                    fmt_money_yi(t["carbon_stock_value_cny"]),
                    "碳储量（生态资产，不计入GEP）",
                    "Carbon stock, an asset (not in GEP)",
                )
            )
        sec.blocks.append(Block("kpis", k))
    cols = [x for x in GEP_COLUMNS if x in df.columns]
    shown = df[cols].copy()
    shown["zone_id"] = shown["zone_id"].where(df["zone_kind"] != "region", "合计")
    shown["zone_name"] = shown["zone_name"].where(df["zone_kind"] != "region", "合计 Total")
    sec.table(
        make_table(
            shown, "tbl-gep-county", key_cols=2, headers={"zone_name": ("县（区）", "County")}
        )
    )
    missing = sorted(
        {
            s
            for v in gep.get("not_accounted", pd.Series(dtype=str)).fillna("")
            for s in str(v).split(";")
            if s
        }
    )
    sec.note(
        "GEP = 物质产品 + 调节服务 + 文化服务（当年流量，《生态产品总值核算规范（试行）》2022）; "
        "碳储量为生态资产，不计入GEP / GEP counts the year's flows; the carbon stock is an asset."
    )
    if missing:
        sec.note(
            "未核算 Not accounted (no input table or switched off): "
            + ", ".join(missing)
            + " — 空白而非零 blank, not zero (docs/gep.md)."
        )
    if change is None:
        sec.note("无上期 GEP: no earlier survey year to compare with.")
    sec.note(
        "价格与系数多为占位值（见“占位参数”一节） / most prices and coefficients are "
        "placeholders: see the section on placeholder parameters."
    )
    return sec


def section_candidates(c: Ctx) -> Section:
    sec = Section("candidates", "修复候选地块", "Restoration candidates by pathway")
    summary = c.table("candidates_summary")
    ptab = c.table("candidates_pathways")
    present = set()
    for df in (summary, ptab):
        if df is not None and "pathway" in df.columns:
            present |= set(df["pathway"].astype(str))
    order = pathway_order(c.config, present)
    if ptab is None and summary is not None and len(summary):
        cols = [
            x
            for x in (
                "n_parcels",
                "n_eligible",
                "n_allocated",
                "area_ha",
                "allocated_area_ha",
                *(b for b, _, _ in INDICATOR_BARS),
                "pv_mw",
                "water_allocated_m3",
            )
            if x in summary.columns
        ]
        ptab = summary.groupby("pathway")[cols].sum().reset_index()
    if ptab is None or not len(ptab):
        _missing(sec, "候选地块 candidates (tables/candidates_pathways.csv)")
        return sec
    ptab = ptab.copy()
    ptab["_o"] = ptab["pathway"].astype(str).map({p: i for i, p in enumerate(order)})
    ptab = ptab.sort_values("_o").drop(columns="_o").reset_index(drop=True)
    tot = lambda col: float(_num(ptab, col).sum())
    n_alloc, n_all = int(tot("n_allocated")), int(tot("n_parcels"))
    observed = None
    led = c.table("greening_ledger")
    if led is not None and "increment_ha" in led.columns:
        observed = float(_num(led, "increment_ha").sum())
    k = [
        kpi(fmt_area(tot("new_cultivated_ha")), "新增耕地（占补平衡）", "New cultivated land"),
        kpi(
            fmt_area(tot("freed_quota_ha")),
            "腾退建设用地指标（增减挂钩）",
            "Freed construction quota",
        ),
        kpi(
            fmt_area(tot("greening_increment_ha")),
            "候选潜在绿化增量（规划）",
            "Potential greening increment of the allocated candidates (planned)",
            "已配水候选地块实施后 if the allocated parcels are restored",
        ),
        kpi(
            fmt_area(observed) if observed is not None else "—",
            f"观测净绿化增量（台账 {c.pair or ''}）",
            "Observed net greening increment (ledger, land-use survey change)",
            "两期调查之间已发生 happened between the surveys",
        ),
        kpi(fmt_area(tot("closure_ha")), "封禁保护（封育）", "Closed protection"),
        kpi(f"{fmt_number(tot('pv_mw'))} MW", "光伏装机", "Solar PV"),
        kpi(f"{n_alloc:,} / {n_all:,}", "已配水 / 候选地块", "Parcels allocated / candidates"),
    ]
    sec.blocks.append(Block("kpis", k))
    sec.note(
        "两个“绿化增量”含义不同：候选潜在绿化增量是规划（已配水候选地块若实施），观测净绿化增量是两期"
        "土地利用调查之间实际发生的净增加（绿化增量台账），不可相加 / the two greening figures "
        "differ: potential (planned, candidates) vs observed (ledger); do not add them."
    )
    shown = ptab.copy()
    shown["pathway"] = [" ".join(pathway_label(str(p))) for p in shown["pathway"]]
    keep = [
        x
        for x in (
            "pathway",
            "n_parcels",
            "n_allocated",
            "area_ha",
            "allocated_area_ha",
            "new_cultivated_ha",
            "freed_quota_ha",
            "greening_increment_ha",
            "closure_ha",
            "natural_recovery_ha",
            "pv_mw",
            "water_allocated_m3",
            "closure_share",
            "meets_three_north",
        )
        if x in shown.columns
    ]
    sec.table(make_table(shown[keep], "tbl-pathways", ("各路径汇总", "By pathway")))
    figs = []
    cands = candidate_attributes(c.inputs.get("candidates"), order)
    if cands is not None and len(cands):
        figs.append(
            fig_block(
                chart_pathway_targets(cands, order),
                "各路径推荐用途面积（各自比例尺）",
                "Area by recommended use, one panel per pathway (own scale)",
            )
        )
    figs.append(
        fig_block(
            chart_pathway_indicators(ptab),
            "各路径指标（各自比例尺）",
            "Indicators, one panel per pathway (own scale)",
        )
    )
    sec.blocks.append(Block("figures", figs))
    if summary is not None and len(summary):
        s = summary.copy()
        s["pathway"] = [pathway_label(str(p))[0] for p in s["pathway"]]
        keep = [
            x
            for x in (
                "adcode",
                "county_name",
                "pathway",
                "n_parcels",
                "n_eligible",
                "n_allocated",
                "area_ha",
                "allocated_area_ha",
                "new_cultivated_ha",
                "freed_quota_ha",
                "greening_increment_ha",
                "closure_ha",
                "natural_recovery_ha",
                "pv_mw",
                "water_allocated_m3",
            )
            if x in s.columns
        ]
        sec.table(
            make_table(
                s[keep],
                "tbl-candidates-summary",
                ("各县（区）各路径候选地块", "Candidates by county and pathway"),
                key_cols=3,
            )
        )
    return sec


def section_programme(c: Ctx) -> Section:
    """The budgeted restoration programme (rule programme, docs/programme.md) and its cost per
    亩 against seed 001's figures."""
    sec = Section("programme", "年度修复方案（预算约束）", "Budgeted restoration programme")
    summ = c.table("programme_summary")
    if summ is None:
        _missing(sec, "tables/programme_summary.csv")
        return sec
    df = summ.copy()
    df["pathway"] = [pathway_label(str(p))[0] if p != "合计" else "合计" for p in df["pathway"]]
    keep = [
        x
        for x in (
            "adcode",
            "county_name",
            "pathway",
            "n_parcels",
            "area_ha",
            "area_mu",
            "cost_wan_cny",
            "cost_per_mu_cny",
            "budget_share",
            "public_cost_wan_cny",
            "operator_cost_wan_cny",
            "social_capital_cost_wan_cny",
            "water_m3",
        )
        if x in df.columns
    ]
    sec.table(
        make_table(
            df[keep],
            "tbl-programme",
            ("方案汇总（县、路径）", "Programme by county and pathway"),
            key_cols=3,
        )
    )
    ref = c.table("programme_reference")
    if ref is not None and len(ref):
        r = ref.copy()
        r["pathway"] = [pathway_label(str(p))[0] if p != "合计" else "合计" for p in r["pathway"]]
        keep = [
            x
            for x in (
                "item",
                "pathway",
                "observed_projects",
                "observed_yi_cny",
                "observed_wan_mu",
                "observed_cost_per_mu_cny",
                "programme_parcels",
                "programme_yi_cny",
                "programme_wan_mu",
                "programme_cost_per_mu_cny",
                "ratio_to_observed",
                "candidates_yi_cny",
                "candidates_wan_mu",
            )
            if x in r.columns
        ]
        sec.table(
            make_table(
                r[keep],
                "tbl-programme-vs-001",
                ("方案与001文件对比", "Programme against seed 001's figures"),
                key_cols=2,
            )
        )
    return sec


def section_changes(c: Ctx) -> Section:
    sec = Section("changes", f"年际变化 {c.pair or ''}".strip(), "Year-over-year changes")
    if c.pair is None:
        sec.note("无上期调查 no earlier survey year to compare with (compare: in config).")
        return sec
    ch = c.table("gep_change")
    if ch is not None:
        df = ch[ch["zone_kind"].astype(str).isin(["county", "region"])].copy()
        df["zone_name"] = df["zone_name"].where(df["zone_kind"] != "region", "合计 Total")
        cols = [
            x
            for x in (
                "zone_id",
                "zone_name",
                "gep_yi_cny_from",
                "gep_yi_cny_to",
                "d_gep_wan_cny",
                "d_gep_pct",
                "d_regulating_services_cny",
            )
            if x in df.columns
        ]
        sec.table(
            make_table(
                df[cols],
                "tbl-gep-change",
                ("GEP变化", "Change of GEP"),
                key_cols=2,
                headers={
                    "zone_name": ("县（区）", "County"),
                    "gep_yi_cny_from": ("上期GEP", "GEP before"),
                    "gep_yi_cny_to": ("本期GEP", "GEP now"),
                },
                kinds={"gep_yi_cny_from": "yi", "gep_yi_cny_to": "yi"},
            )
        )
    sc = c.table("services_change")
    if sc is not None:
        df = sc[sc["zone_kind"].astype(str) == "county"]
        cols = [
            x
            for x in (
                "zone_id",
                "zone_name",
                "d_carbon_sequestration_t_co2_per_yr",
                "d_soil_retention_t",
                "d_sand_fixation_t",
                "d_water_conservation_m3",
            )
            if x in df.columns
        ]
        sec.table(
            make_table(
                df[cols],
                "tbl-services-change",
                ("生态系统服务物质量变化", "Change of ecosystem services (physical)"),
                key_cols=2,
                headers={"zone_name": ("县（区）", "County")},
            )
        )
    tm = c.table("transition_matrix")
    if tm is not None:
        zh = class_names_zh(c.table("inventory"))
        first = tm.columns[0]
        df = tm.copy()
        df[first] = [f"{zh.get(v, (v, v))[0]} {v}" for v in df[first]]
        headers = {first: ("由（行）→ 至（列）", "From (rows) → to (columns)")}
        headers.update({col: zh.get(col, (col, col)) for col in df.columns[1:]})
        sec.table(
            make_table(
                df,
                "tbl-transition-matrix",
                (f"地类转移矩阵 {c.pair}", "Transition matrix"),
                headers=headers,
                kinds={col: "ha" for col in df.columns[1:]} | {first: "text"},
            )
        )
    cp = c.table("cropland_protection")
    if cp is not None:
        cols = [
            x
            for x in (
                "adcode",
                "name",
                "cropland_to_green_ha",
                "grassland_ploughed_ha",
                "cropland_gain_ha",
                "cropland_loss_ha",
                "cropland_net_ha",
                "flags_zh",
            )
            if x in cp.columns
        ]
        sec.table(
            make_table(
                cp[cols], "tbl-cropland", ("耕地进出平衡", "Cropland protection"), key_cols=2
            )
        )
    return sec


STATUS_ZH = DIFF_STATUS_VALUES  # the tracking statuses and their labels


def section_tracking(c: Ctx) -> Section:
    """Since last year (docs/tracking.md): the candidate diff by status and county, why parcels
    dropped out, the cumulative progress since the first survey year, and how robust the
    selection is to the uncertain parameters."""
    sec = Section("tracking", "上年以来：地块跟踪", "Since last year: parcels tracked")
    summ = c.table("candidates_diff_summary")
    if summ is None:
        sec.note("无上期调查 no earlier survey year: parcels are tracked from the second year on.")
    else:
        tot = {s: int(_num(summ, f"n_{s}").sum()) for s in STATUS_ZH}
        ha = {s: float(_num(summ, f"{s}_ha").sum()) for s in STATUS_ZH}
        sec.blocks.append(
            Block(
                "kpis",
                [
                    kpi(
                        f"{tot[s]:,}",
                        f"{zh}地块",
                        f"Parcels {en}",
                        fmt_area(ha[s])
                        if s in ("restored", "in_progress", "new", "dropped")
                        else "",
                    )
                    for s, (zh, en) in STATUS_ZH.items()
                ],
            )
        )
        df = summ.copy()
        df["pathway"] = [pathway_label(str(p))[0] for p in df["pathway"]]
        keep = [
            x
            for x in [
                "adcode",
                "county_name",
                "pathway",
                *[f"n_{s}" for s in STATUS_ZH],
                "restored_ha",
                "in_progress_ha",
                "new_ha",
                "dropped_ha",
            ]
            if x in df.columns
        ]
        headers = {
            f"n_{s}": (f"{zh}（块）", f"{en} (parcels)") for s, (zh, en) in STATUS_ZH.items()
        }
        headers |= {
            f"{s}_ha": (f"{STATUS_ZH[s][0]}面积", f"{STATUS_ZH[s][1]} area")
            for s in ("restored", "in_progress", "new", "dropped")
        }
        sec.table(
            make_table(
                df[keep],
                "tbl-diff",
                (f"候选地块变化 {c.pair or ''}".strip(), "Candidate diff by county and pathway"),
                key_cols=3,
                headers=headers,
                kinds={k: "int" for k in headers if k.startswith("n_")}
                | {k: "ha" for k in headers if k.endswith("_ha")},
            )
        )
    d = c.table("candidates_diff")
    if d is not None and len(d) and "status" in d.columns:
        drop = d[d["status"] == "dropped"]
        if len(drop):
            why = drop["reason"].astype(str).str.split(" (", n=1, regex=False).str[0]
            r = (
                drop.assign(why=why)
                .groupby(["pathway", "why"], as_index=False)
                .agg(n=("parcel_id", "size"), area_ha=("area_ha", "sum"))
            )
            r["pathway"] = [pathway_label(str(p))[0] for p in r["pathway"]]
            sec.table(
                make_table(
                    r,
                    "tbl-dropped",
                    ("退出原因", "Why parcels dropped out"),
                    key_cols=2,
                    headers={"why": ("原因", "Reason"), "n": ("地块数", "Parcels")},
                    kinds={"n": "int", "area_ha": "ha", "why": "text"},
                )
            )
    prog = c.table("cumulative_progress")
    if prog is not None and len(prog):
        df = prog.copy()
        df["pathway"] = [pathway_label(str(p))[0] for p in df["pathway"]]
        keep = [
            x
            for x in (
                "adcode",
                "county_name",
                "pathway",
                "since_year",
                "to_year",
                "restored_ha",
                "in_progress_ha",
                "greening_target_ha",
                "county_restored_ha",
                "target_reached_share",
            )
            if x in df.columns
        ]
        sec.table(
            make_table(
                df[keep],
                "tbl-progress",
                ("首期调查以来累计修复", "Restored since the first survey year"),
                key_cols=3,
                headers={
                    "since_year": ("起始年", "Since"),
                    "to_year": ("截至年", "To"),
                    "greening_target_ha": ("绿化目标", "Greening target"),
                    "county_restored_ha": ("全县累计修复", "County restored"),
                    "target_reached_share": ("目标完成率", "Share of target"),
                },
                kinds={
                    "since_year": "year",
                    "to_year": "year",
                    "restored_ha": "ha",
                    "in_progress_ha": "ha",
                    "greening_target_ha": "ha",
                    "county_restored_ha": "ha",
                    "target_reached_share": "num",
                },
            )
        )
    cands = candidate_attributes(c.inputs.get("candidates"), pathway_order(c.config))
    if cands is not None and "selection_stability" in cands.columns and len(cands):
        sel = cands[_num(cands, "p_selected") > 0]
        robust = sel["selection_stability"].astype(str) == "robust"
        st = (
            sel.assign(robust=robust.astype(int), fragile=(~robust).astype(int))
            .groupby("pathway", as_index=False)[["robust", "fragile"]]
            .sum()
        )
        st["pathway"] = [pathway_label(str(p))[0] for p in st["pathway"]]
        cfg = c.config["stability"]  # the complete config: draws and robust_share required
        sec.note(
            f"入选稳健性 selection stability: {int(cfg['draws'])} 次参数抽样 "
            f"draws of the parameters marked uncertain (stability.uncertain); 稳健 robust = "
            f"≥ {float(cfg['robust_share']):.0%} 的抽样中结果一致 same outcome in "
            f"that share of draws. 不稳健地块的入选取决于占位参数 a fragile parcel's selection "
            f"depends on a placeholder value."
        )
        sec.table(
            make_table(
                st,
                "tbl-stability",
                ("入选稳健性（入选概率>0的地块）", "Selection stability (parcels ever selected)"),
                headers={"robust": ("稳健", "Robust"), "fragile": ("不稳健", "Fragile")},
                kinds={"robust": "int", "fragile": "int"},
            )
        )
    return sec


def class_names_zh(inv: pd.DataFrame | None) -> dict[str, tuple[str, str]]:
    if inv is None or "class" not in inv.columns:
        return {}
    d = inv[["class", "class_zh", "class_en"]].drop_duplicates("class")
    return {str(r["class"]): (str(r["class_zh"]), str(r["class_en"])) for _, r in d.iterrows()}


LEDGER_COLUMNS = [
    "adcode",
    "name",
    "target_years",
    "in_group",
    "gross_ha",
    "loss_ha",
    "increment_ha",
    "target_ha",
    "balance_ha",
    "sold_ha",
    "bought_ha",
    "after_trade_ha",
    "uncovered_deficit_ha",
    "status_zh",
    "increment_mu",
    "target_mu",
]


def section_ledgers(c: Ctx) -> Section:
    sec = Section(
        "ledgers", "绿化增量台账与交易、碳收支", "Greening ledger and trades, carbon balance"
    )
    led = c.table("greening_ledger")
    if led is None:
        _missing(sec, "greening_ledger.csv")
    else:
        cols = [x for x in LEDGER_COLUMNS if x in led.columns]
        sec.table(
            make_table(
                led[cols],
                "tbl-greening-ledger",
                (f"绿化增量台账 {c.pair or ''}", "Greening ledger"),
                key_cols=2,
                headers={"in_group": ("交易组", "In trading group")},
                kinds={"in_group": "bool"},
            )
        )
    chart = c.inputs.get("ledger_chart")
    if chart and Path(chart).is_file():
        sec.blocks.append(
            Block(
                "figures",
                [fig_block(Path(chart).read_bytes(), "绿化增量台账图", "Greening ledger chart")],
            )
        )
    tr = c.table("greening_trades")
    if tr is not None:
        cols = [
            x
            for x in (
                "trade_id",
                "seller_name",
                "buyer_name",
                "area_ha",
                "area_mu",
                "price_cny_per_ha",
                "value_cny",
            )
            if x in tr.columns
        ]
        if len(tr):
            sec.table(
                make_table(
                    tr[cols], "tbl-greening-trades", ("绿化增量交易", "Greening-increment trades")
                )
            )
        else:
            sec.note("无绿化增量交易 no greening trades.")
    cb = c.table("carbon_balance")
    if cb is None:
        _missing(sec, "carbon_balance.csv")
    else:
        cols = [
            x
            for x in (
                "adcode",
                "name",
                "sink_t_co2",
                "emission_t_co2",
                "balance_t_co2",
                "status_zh",
                "forest_needed_ha",
                "forest_needed_share_of_county",
                "forest_needed_share_of_afforestable",
                "after_trade_balance_t_co2",
                "uncovered_deficit_t_co2",
            )
            if x in cb.columns
        ]
        sec.table(
            make_table(
                cb[cols], "tbl-carbon-balance", ("碳收支", "County carbon balance"), key_cols=2
            )
        )
    ct = c.table("carbon_trades")
    if ct is not None and len(ct):
        cols = [
            x
            for x in (
                "trade_id",
                "seller_name",
                "buyer_name",
                "t_co2",
                "price_cny_per_t",
                "value_cny",
            )
            if x in ct.columns
        ]
        sec.table(make_table(ct[cols], "tbl-carbon-trades", ("碳汇交易", "Carbon-sink trades")))
    return sec


def section_water(c: Ctx) -> Section:
    sec = Section("water", "水资源配置", "Water headroom and allocation")
    wb = c.table("water_balance")
    if wb is not None and {"adcode", "headroom_m3", "allocated_m3"} <= set(wb.columns):
        cols = [
            x
            for x in (
                "adcode",
                "county_name",
                "headroom_m3",
                "demand_m3",
                "allocated_m3",
                "left_m3",
                "n_candidates",
                "n_allocated",
            )
            if x in wb.columns
        ]
        df = wb[cols].copy()
        sec.note("water_balance.csv: 候选地块配水 allocation of candidate parcels.")
    else:
        wc = c.table("water_capacity")
        if wc is None or not {"adcode", "headroom_m3", "demand_total_m3"} <= set(wc.columns):
            sec.note("无水资源表 no water table (water_balance.csv / water_capacity.csv).")
            return sec
        df = wc[["adcode", "headroom_m3", "demand_total_m3"]].rename(
            columns={"demand_total_m3": "demand_m3"}
        )
        sec.note(
            "water_balance.csv 尚未生成 not yet made: 显示全部适宜面积的潜在需水 potential "
            "demand of all suitable area (water_capacity.csv)."
        )
    if "county_name" not in df.columns:
        df.insert(1, "county_name", df["adcode"].astype(str).map(c.names).fillna(""))
    if len(df):
        sec.blocks.append(
            Block(
                "figures",
                [
                    fig_block(
                        chart_water(df, c.names),
                        "水量余量与配置（两图各自比例尺）",
                        "Water headroom and allocation by county (each panel its own scale)",
                    )
                ],
            )
        )
    sec.table(make_table(df, "tbl-water", key_cols=2))
    return sec


def inventory_pivot(inv: pd.DataFrame, zone_kind: str = "county") -> pd.DataFrame:
    """Area (ha) by zone (rows) and class (columns, in class order), with totals."""
    df = inv[inv["zone_kind"].astype(str) == zone_kind].copy()
    df["zone_id"] = df["zone_id"].astype(str)
    order = (
        df[["class_id", "class", "class_zh", "class_en"]].drop_duplicates().sort_values("class_id")
    )
    pv = df.pivot_table(
        index=["zone_id", "zone_name"],
        columns="class",
        values="area_ha",
        aggfunc="sum",
        fill_value=0.0,
        sort=True,
    )
    pv = pv[[x for x in order["class"] if x in pv.columns]]
    pv["total"] = pv.sum(axis=1)
    pv = pv.reset_index()
    total = {"zone_id": "合计", "zone_name": "Total"}
    total.update({x: pv[x].sum() for x in pv.columns if x not in ("zone_id", "zone_name")})
    pv = pd.concat([pv, pd.DataFrame([total])], ignore_index=True)
    pv.columns.name = None
    return pv


def section_inventory(c: Ctx) -> Section:
    sec = Section("inventory", "土地利用清查", "Land-use inventory")
    inv = c.table("inventory")
    if inv is None:
        _missing(sec, "tables/inventory_by_class.csv")
        return sec
    names = class_names_zh(inv)
    for kind, tid, zh, en in (
        ("county", "tbl-inventory-county", "各县（区）地类面积", "Area by county and class"),
        ("reach", "tbl-inventory-reach", "各河段地类面积", "Area by reach and class"),
    ):
        if not (inv["zone_kind"].astype(str) == kind).any():
            continue
        pv = inventory_pivot(inv, kind)
        headers = {
            "zone_id": ("代码", "Code"),
            "zone_name": ("名称", "Name"),
            "total": ("合计", "Total"),
        }
        headers.update(names)
        kinds = {x: "ha" for x in pv.columns if x not in ("zone_id", "zone_name")}
        sec.table(make_table(pv, tid, (zh, en), key_cols=2, headers=headers, kinds=kinds))
    total = inv[inv["zone_kind"].astype(str) == "county"]
    if len(total):
        by = total.groupby(["class_id", "class"], sort=True)["area_ha"].sum().reset_index()
        by["class_zh"] = [names.get(x, (x, x))[0] for x in by["class"]]
        by["area_wan_mu"] = by["area_ha"]
        df = by[["class_zh", "class", "area_ha", "area_wan_mu"]]
        sec.table(
            make_table(
                df,
                "tbl-inventory-region",
                ("全区地类面积", "Region by class"),
                headers={
                    "class_zh": ("地类", "Class"),
                    "class": ("代码名", "Name"),
                    "area_wan_mu": ("面积", "Area"),
                },
                kinds={"class_zh": "text", "class": "text", "area_wan_mu": "ha_wan_mu"},
            )
        )
    return sec


def section_maps(c: Ctx) -> Section:
    sec = Section("maps", "图件", "Maps")
    maps_dir = Path(c.inputs["maps"]) if c.inputs.get("maps") else None
    index_path = maps_dir / "index.json" if maps_dir is not None else None
    entries, skipped = [], []
    if index_path is not None and index_path.is_file():
        idx = json.loads(index_path.read_text(encoding="utf-8"))
        entries, skipped = idx.get("maps", []), idx.get("skipped", [])
    if not entries:
        sec.note("图件尚未生成 maps not made yet (results/{year}/maps/).")
    figs, details = [], []
    for e in entries:
        png = maps_dir / e["png"]
        if not png.is_file():
            continue
        if str(e["name"]).startswith("detail_"):  # large-scale sheets: listed, not embedded
            details.append(
                {
                    "title_zh": e["title_zh"],
                    "title_en": e.get("title_en", ""),
                    "pdf": (Path("..") / "maps" / e.get("pdf", "")).as_posix(),
                    "png": (Path("..") / "maps" / e["png"]).as_posix(),
                }
            )
            continue
        link = (
            (Path("..") / "maps" / e["pdf"]).as_posix()
            if (maps_dir / e.get("pdf", "")).is_file()
            else None
        )
        figs.append(
            fig_block(
                downscale_png(png), e["title_zh"], e.get("title_en", ""), link, f"map-{e['name']}"
            )
        )
    if figs:
        sec.blocks.append(Block("maps", figs))
    if details:
        sec.heading(
            "分幅详图（大比例尺，注记地块编号）", "Detail sheets (larger scale, parcel ids)"
        )
        sec.blocks.append(Block("links", details))
    for s in skipped:
        sec.note(f"未制图 not drawn: {s.get('map')} — {s.get('reason')}")
    return sec


def section_placeholders(c: Ctx) -> Section:
    sec = Section("placeholders", "占位参数（待替换）", "Parameters still marked placeholder")
    rows: list[dict] = []
    for p in c.inputs.get("config_files") or []:
        if Path(p).is_file():
            rows += config_placeholders(Path(p).read_text(encoding="utf-8"), Path(p).name)
    for p in c.inputs.get("config_tables") or []:
        rows += table_placeholders(p)
    if not rows:
        sec.note("没有标记为占位值的参数 no parameter is marked placeholder.")
        return sec
    sec.note(
        f"共 {len(rows)} 项参数仍为占位值（配置注释 “(placeholder)” 或参数表 placeholder 列），"
        "报批前应以本地实测或主管部门数值替换 / these values are placeholders: replace them "
        "with local or official values before approval."
    )
    df = pd.DataFrame(rows)[["parameter", "value", "unit", "source", "where"]]
    sec.table(make_table(df, "tbl-placeholders"))
    return sec


def section_validation(c: Ctx) -> Section:
    sec = Section("validation", "输入数据检查", "Input validation")
    rep = c.inputs.get("validation")
    if not rep or not Path(rep).is_file():
        sec.note("validation/report.json 不存在 not found.")
        return sec
    data = json.loads(Path(rep).read_text(encoding="utf-8"))
    sec.blocks.append(Block("status", (bool(data.get("ok")), str(data.get("summary", "")))))
    problems = data.get("problems") or []
    if problems:
        df = pd.DataFrame(problems).astype(str)
        keep = [x for x in ("severity", "item", "path", "message") if x in df.columns] or list(df)
        sec.table(
            make_table(
                df[keep],
                "tbl-validation-problems",
                ("问题", "Problems"),
                headers={
                    "severity": ("级别", "Severity"),
                    "item": ("项", "Item"),
                    "path": ("文件", "File"),
                    "message": ("说明", "Message"),
                },
                kinds=dict.fromkeys(keep, "text"),
            )
        )
    checked = data.get("checked") or []
    if checked:
        rows = [
            {
                "item": x.get("item"),
                "kind": x.get("kind"),
                "path": x.get("path"),
                "crs": x.get("crs") or "",
                "size": (
                    f"{x['features']} features"
                    if x.get("features") is not None
                    else " × ".join(str(v) for v in x.get("shape", []))
                    if x.get("shape")
                    else (f"{x['rows']} rows" if x.get("rows") is not None else "")
                ),
            }
            for x in checked
        ]
        sec.table(
            make_table(
                pd.DataFrame(rows).astype(str),
                "tbl-validation-checked",
                ("已检查的输入", "Inputs checked"),
                headers={
                    "item": ("项", "Item"),
                    "kind": ("类型", "Kind"),
                    "path": ("文件", "File"),
                    "crs": ("坐标系", "CRS"),
                    "size": ("规模", "Size"),
                },
                kinds=dict.fromkeys(("item", "kind", "path", "crs", "size"), "text"),
            )
        )
    return sec


def section_parameters(c: Ctx) -> Section:
    import yaml

    text = yaml.safe_dump(
        json.loads(json.dumps(c.config, default=str)),
        allow_unicode=True,
        sort_keys=False,
        width=100,
    )
    sec = Section("parameters", "参数", "Parameters used (config)")
    sec.blocks.append(Block("pre", text))
    return sec


def section_provenance(c: Ctx) -> Section:
    sec = Section("provenance", "数据溯源", "Provenance")
    path = c.inputs.get("provenance")
    if not path or not Path(path).is_file():
        sec.note("provenance.json 尚未生成 not written yet for this year.")
        return sec
    prov = json.loads(Path(path).read_text(encoding="utf-8"))
    txt = dict.fromkeys(("key", "value", "software", "version", "item", "path", "sha256"), "text")
    facts = pd.DataFrame(
        [
            {"key": "nxgeo", "value": prov.get("nxgeo_version")},
            {"key": "config SHA-256", "value": prov.get("config_sha256")},
            {"key": "inputs SHA-256", "value": prov.get("inputs_sha256")},
            {"key": "started", "value": prov.get("started")},
            {"key": "finished", "value": prov.get("finished")},
            {"key": "host", "value": (prov.get("host") or {}).get("hostname")},
        ]
    ).astype(str)
    sec.table(
        make_table(
            facts,
            "tbl-provenance",
            headers={"key": ("项", "Item"), "value": ("值", "Value")},
            kinds=txt,
        )
    )
    sw = prov.get("software") or {}
    if sw:
        sec.table(
            make_table(
                pd.DataFrame({"software": list(sw), "version": [str(v) for v in sw.values()]}),
                "tbl-software",
                ("软件版本", "Software versions"),
                headers={"software": ("软件", "Software"), "version": ("版本", "Version")},
                kinds=txt,
            )
        )
    inputs = prov.get("inputs") or {}
    if inputs:
        rows = [
            {"item": k, "path": v.get("path"), "bytes": v.get("bytes"), "sha256": v.get("sha256")}
            for k, v in inputs.items()
        ]
        sec.table(
            make_table(
                pd.DataFrame(rows),
                "tbl-inputs",
                ("输入文件", "Input files"),
                headers={
                    "item": ("项", "Item"),
                    "path": ("文件", "File"),
                    "bytes": ("字节", "Bytes"),
                    "sha256": ("SHA-256", "SHA-256"),
                },
                kinds=txt | {"bytes": "int"},
            )
        )
    return sec


# (id, data function): the report's sections in order. Add a section here.
SECTIONS = [
    ("scorecard", section_scorecard),
    ("gep", section_gep),
    ("candidates", section_candidates),
    ("programme", section_programme),
    ("changes", section_changes),
    ("tracking", section_tracking),
    ("ledgers", section_ledgers),
    ("water", section_water),
    ("inventory", section_inventory),
    ("maps", section_maps),
    ("placeholders", section_placeholders),
    ("validation", section_validation),
    ("parameters", section_parameters),
    ("provenance", section_provenance),
]


# ---------------------------------------------------------------------------------------------
# the page


def _env():
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("nxgeo", "templates/report"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def render_inputs(year, inputs: Mapping, config: Mapping, made_on: str | None = None) -> str:
    """The report page (HTML text) of one year from its named inputs (`REPORT_INPUTS`)."""
    from .maps.sheets import default_made_on, split_bilingual

    unknown = sorted(set(inputs) - set(REPORT_INPUTS))
    if unknown:
        raise ValueError(f"report: unknown input(s) {unknown}; known: {list(REPORT_INPUTS)}")
    region_zh, region_en = split_bilingual(str(config["region_name"]))
    made_on = made_on or default_made_on()
    c = Ctx(year, inputs, config, county_names(inputs), compare_pair(inputs))
    sections = [fn(c) for _, fn in SECTIONS]
    env = _env()
    own = set(env.list_templates())
    return env.get_template("report.html.j2").render(
        year=fmt_year(year),
        made_on=made_on,
        version=__version__,
        title_zh=f"{region_zh} 生态产品调查与修复选址年度报告（{fmt_year(year)}年）",
        title_en=f"Ecological survey, suitability and restoration siting — {region_en}, "
        f"{fmt_year(year)}",
        region_en=region_en,
        sections=sections,
        section_templates={s.id for s in sections if f"sections/{s.id}.html.j2" in own},
    )


def inputs_from_results(
    results_dir,
    year,
    compare: tuple[int, int] | None = None,
    config_files: Sequence = (),
    config_tables: Sequence = (),
) -> dict:
    """The report's inputs at their usual places in a results tree (nxgeo.layout; the workflow
    declares the same files; this is for tests and the command line). Without `compare`, the
    latest comparison folder of the year."""
    from .layout import Layout

    lay = Layout(results_dir)
    tables = {
        "candidates_summary": "candidates_summary",
        "candidates_pathways": "candidates_pathways",
        "water_balance": "water_balance",
        "water_capacity": "water_capacity",
        "inventory": "inventory_by_class",
        "gep": "gep_by_county",
        "scorecard": "county_scorecard",
    }
    out = {
        "provenance": Path(lay.provenance(year)),
        "validation": Path(lay.validation("report.json", year)),
        "maps": Path(lay.maps(year)),
        "candidates": Path(lay.candidates(year)),
        **{k: Path(lay.table(t, year)) for k, t in tables.items()},
        "vectors": Path(lay.vectors()),
        "programme_summary": Path(lay.table("programme_summary", year)),
        "programme_reference": Path(lay.table("programme_vs_001", year)),
        "config_files": list(config_files),
        "config_tables": list(config_tables),
    }
    if compare is None:
        found = sorted(d for d in Path(lay.year("compare", year)).glob("*_*") if d.is_dir())
        pair: tuple[str | int, ...] | None = tuple(found[-1].name.split("_", 1)) if found else None
    else:
        pair = (compare[0], compare[1])
    if pair is not None:
        files = {
            "gep_change": "gep_change_by_county.csv",
            "services_change": "services_change_by_county.csv",
            "transition_matrix": "transition_matrix.csv",
            "transitions": "transitions_by_county.csv",
            "greening_ledger": "greening_ledger.csv",
            "greening_trades": "greening_trades.csv",
            "ledger_chart": "greening_ledger.png",
            "carbon_balance": "carbon_balance.csv",
            "carbon_trades": "carbon_trades.csv",
            "cropland_protection": "cropland_protection.csv",
        }
        out.update({k: Path(lay.compare(f, pair[0], year)) for k, f in files.items()})
    return out


def render_report(
    year, results_dir, config: Mapping, report_dir=None, made_on: str | None = None
) -> str:
    """The page of a year from a results tree at its usual places (`inputs_from_results`)."""
    return render_inputs(year, inputs_from_results(results_dir, year), config, made_on=made_on)


def report_year(year, inputs, config: Mapping, out_html, *, made_on: str | None = None) -> Path:
    """Write the year's report (one self-contained HTML file) atomically; returns its path.
    `inputs` is the mapping of named inputs (`REPORT_INPUTS`) or a results root."""
    if not isinstance(inputs, Mapping):
        inputs = inputs_from_results(inputs, year)
    text = render_inputs(year, inputs, config, made_on=made_on)
    return write_text(Path(out_html), text)


# ---------------------------------------------------------------------------------------------
# the PDF (headless Chromium)


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        exe = shutil.which(name)
        if exe:
            return exe
    return None


def _fontconfig(tmp: Path) -> dict[str, str]:
    """FONTCONFIG_FILE for Chromium: the system fonts plus the CJK font the maps use (the pip
    package nxgeo depends on), so the PDF prints Chinese without a system CJK font."""
    from .maps.fonts import packaged_font_file

    font = packaged_font_file()
    if font is None:
        return {}
    conf = tmp / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n'
        '  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>\n'
        f"  <dir>{html.escape(str(font.parent))}</dir>\n"
        f"  <cachedir>{html.escape(str(tmp / 'fc-cache'))}</cachedir>\n</fontconfig>\n",
        encoding="utf-8",
    )
    return {"FONTCONFIG_FILE": str(conf)}


PDF_DATE = re.compile(rb"D:\d{14}[+-]\d{2}'\d{2}'")


def print_pdf(
    html_path,
    pdf_path,
    *,
    made_on: str | None = None,
    chromium: str | None = None,
    timeout: float = 600.0,
) -> Path | None:
    """Print the report page to PDF with headless Chromium (A4 landscape from the page's CSS);
    None, with a log line, when no Chromium is installed. The creation dates Chromium writes
    are replaced by `made_on` (same length, so offsets hold): same page -> same bytes."""
    from .maps.sheets import default_made_on

    exe = chromium or find_chromium()
    if exe is None:
        log.warning(
            "chromium not found: report.pdf not made (the HTML report is complete; "
            "install Debian's chromium to print it)"
        )
        return None
    html_path, pdf_path = Path(html_path).resolve(), Path(pdf_path)
    day = (made_on or default_made_on()).replace("-", "")
    stamp = f"D:{day}000000+00'00'".encode()
    with tempfile.TemporaryDirectory(prefix="nxgeo-chromium-") as ud, atomic_path(pdf_path) as tmp:
        cmd = [
            exe,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--no-pdf-header-footer",
            "--run-all-compositor-stages-before-draw",
            "--virtual-time-budget=10000",
            f"--user-data-dir={ud}",
            f"--print-to-pdf={tmp}",
            html_path.as_uri(),
        ]
        env = dict(os.environ, TZ="UTC", **_fontconfig(Path(ud)))
        p = subprocess.run(
            cmd, check=False, capture_output=True, text=True, timeout=timeout, env=env
        )
        if not Path(tmp).is_file() or Path(tmp).stat().st_size == 0:
            raise RuntimeError(f"chromium did not print {html_path}: {p.stderr[-2000:]}")
        data = PDF_DATE.sub(stamp, Path(tmp).read_bytes())
        Path(tmp).write_bytes(data)
    log.info("report PDF: %s (%d bytes)", pdf_path, pdf_path.stat().st_size)
    return pdf_path


# ---------------------------------------------------------------------------------------------
# reading the page back (tests)


def parse_tables(text: str) -> dict[str, list[list[str]]]:
    """{table id: rows of cell texts} of an HTML page (stdlib parser; used by the tests). A
    table printed in parts (ids ``<id>``, ``<id>-p2``, …) is joined back into one, the key
    columns once. Cell fragments (Chinese / English lines) are joined by a space."""
    from html.parser import HTMLParser

    class P(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.tables: dict[str, list[list[str]]] = {}
            self.keys: dict[str, int] = {}
            self.cur: str | None = None
            self.row: list[str] | None = None
            self.cell: list[str] | None = None

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if tag == "table":
                self.cur = a.get("id") or f"table{len(self.tables)}"
                self.tables[self.cur] = []
                self.keys[self.cur] = int(a.get("data-key-columns") or 0)
            elif tag == "tr" and self.cur is not None:
                self.row = []
            elif tag in ("td", "th") and self.row is not None:
                self.cell = []

        def handle_endtag(self, tag):
            if tag in ("td", "th") and self.cell is not None and self.row is not None:
                self.row.append(" ".join(s.strip() for s in self.cell if s.strip()))
                self.cell = None
            elif tag == "tr" and self.row is not None and self.cur is not None:
                self.tables[self.cur].append(self.row)
                self.row = None
            elif tag == "table":
                self.cur = None

        def handle_data(self, data):
            if self.cell is not None:
                self.cell.append(data)

    p = P()
    p.feed(text)
    out: dict[str, list[list[str]]] = {}
    for tid, rows in p.tables.items():
        m = re.fullmatch(r"(.+)-p(\d+)", tid)
        if m and m.group(1) in out:
            k = p.keys.get(tid, 0)
            base = out[m.group(1)]
            for i, r in enumerate(rows):
                if i < len(base):
                    base[i] = base[i] + r[k:]
        else:
            out[tid] = [list(r) for r in rows]
    return out


def numbers_of(cells: Sequence[str]) -> list[float | None]:
    """'1,234.5' -> 1234.5; text -> None (for comparing report tables with their CSV)."""
    out: list[float | None] = []
    for x in cells:
        try:
            out.append(float(x.replace(",", "")))
        except ValueError:
            out.append(None)
    return out
