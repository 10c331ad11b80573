"""The yearly HTML report: one self-contained page a reviewer reads.

``results/{year}/report/index.html`` holds everything inline: CSS, the summary charts and the
maps as base64 PNG (maps re-sampled from the 300 dpi sheets to about 150 dpi, 256 colours), and
tables generated from the CSV files they come from (pandas -> HTML, escaped). It loads nothing
from elsewhere (no CDN, no web fonts, no external script); links to the PDF maps are relative.

Sections: summary figures (candidates by pathway and target, indicators, water allocated vs
headroom per county), inventory by county and class, transition matrix, candidates, ecosystem
services and ledgers, maps, input validation, parameters (the config as YAML), provenance.
A section whose inputs do not exist (yet) says so instead of failing.

A small inline script sets ``data-images-ok`` (every <img> decoded with naturalWidth > 0) and
``data-js-errors`` on <body> after load, so a headless browser can check the page.
"""

from __future__ import annotations

import base64
import html
import io
import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from . import __version__
from .atomic import write_text

log = logging.getLogger(__name__)

MAP_MAX_PX = 1754           # long side: ~150 dpi of an A4 sheet
CHART_DPI = 150

CSS = """
:root { --ink:#1f2933; --muted:#52606d; --line:#d9e2ec; --accent:#2e7d32; --bg:#f7f9fb; }
* { box-sizing: border-box; }
body { margin:0; color:var(--ink); background:#fff; line-height:1.5;
  font-family: "Noto Sans CJK SC","Noto Sans SC","Source Han Sans SC","PingFang SC",
  "Microsoft YaHei","WenQuanYi Micro Hei","Segoe UI",Arial,sans-serif; font-size:15px; }
header { background:#1b4332; color:#fff; padding:24px 40px; }
header h1 { margin:0 0 4px; font-size:26px; font-weight:600; }
header p { margin:2px 0; color:#d8f3dc; }
nav { background:var(--bg); border-bottom:1px solid var(--line); padding:8px 40px; }
nav a { margin-right:16px; color:#1b4332; text-decoration:none; font-size:14px; }
main { padding:8px 40px 40px; max-width:1400px; }
section { margin-top:28px; }
h2 { border-bottom:2px solid var(--accent); padding-bottom:4px; font-size:21px; }
h2 .en, h3 .en, figcaption .en { color:var(--muted); font-weight:400; font-size:0.8em; margin-left:8px; }
h3 { font-size:17px; margin-bottom:6px; }
.note { color:var(--muted); background:var(--bg); border-left:4px solid #bcccdc;
  padding:8px 12px; margin:8px 0; }
.ok { color:#1b5e20; font-weight:600; } .bad { color:#b71c1c; font-weight:600; }
.kpis { display:flex; flex-wrap:wrap; gap:12px; margin:12px 0; }
.kpi { border:1px solid var(--line); border-radius:6px; padding:10px 16px; min-width:180px; background:var(--bg); }
.kpi .v { font-size:22px; font-weight:600; } .kpi .k { color:var(--muted); font-size:13px; }
.charts { display:flex; flex-wrap:wrap; gap:16px; }
.charts figure { margin:0; flex:1 1 420px; max-width:640px; }
.charts img { width:100%; height:auto; border:1px solid var(--line); }
.tablewrap { overflow-x:auto; max-width:100%; }
table.data { border-collapse:collapse; font-size:12.5px; margin:6px 0 12px; }
table.data th, table.data td { border:1px solid var(--line); padding:3px 7px; text-align:right; white-space:nowrap; }
table.data th { background:#eef2f6; text-align:center; }
table.data td:first-child, table.data td:nth-child(2) { text-align:left; }
table.data tr:nth-child(even) td { background:#fafbfc; }
.maps { display:grid; grid-template-columns:repeat(auto-fill,minmax(420px,1fr)); gap:18px; }
.maps figure { margin:0; border:1px solid var(--line); padding:8px; background:#fff; }
.maps img { width:100%; height:auto; display:block; }
figcaption { font-size:13px; margin-top:4px; }
pre { background:#0f172a; color:#e2e8f0; padding:12px; overflow:auto; font-size:12px; max-height:520px; }
footer { color:var(--muted); font-size:12px; padding:16px 40px; border-top:1px solid var(--line); }
"""

CHECK_SCRIPT = """
(function () {
  var errors = [];
  window.addEventListener('error', function (e) {
    errors.push(String((e && e.message) || e));
    if (document.body) { document.body.setAttribute('data-js-errors', errors.join(' | ')); }
  });
  window.addEventListener('load', function () {
    var imgs = Array.prototype.slice.call(document.images);
    var ok = imgs.every(function (i) { return i.complete && i.naturalWidth > 0; });
    document.body.setAttribute('data-images-ok', ok ? 'true' : 'false');
    document.body.setAttribute('data-images-count', String(imgs.length));
    document.body.setAttribute('data-js-errors', errors.join(' | '));
  });
})();
"""

PATHWAY_NAMES = {
    "homestead_greening": ("闲置宅基地复垦复绿", "Abandoned homestead greening"),
    "mine_remediation": ("矿山生态修复（历史遗留与矿权人责任）", "Mine remediation (legacy and operator)"),
    "sand_control": ("防沙治沙", "Sand control"),
    "state_wasteland": ("国有荒地复绿", "State-owned waste land regreening"),
    "land_consolidation": ("土地综合整治", "Land consolidation"),
}


# ---------------------------------------------------------------------------------------------
# small helpers

def esc(text) -> str:
    return html.escape(str(text), quote=True)


def heading(level: int, zh: str, en: str, anchor: str | None = None) -> str:
    aid = f' id="{esc(anchor)}"' if anchor else ""
    return f'<h{level}{aid}>{esc(zh)}<span class="en">{esc(en)}</span></h{level}>'


def note(text: str) -> str:
    return f'<p class="note">{esc(text)}</p>'


def read_csv(path: Path, **kw) -> pd.DataFrame | None:
    if not Path(path).is_file():
        return None
    return pd.read_csv(path, encoding="utf-8-sig", **kw)


PLAIN_INT = ("year", "code", "adcode", "zone_id", "class_id", "id", "rank")


def _plain_int_column(name: str) -> bool:
    n = str(name).lower()
    return any(n == k or n.endswith("_" + k) or n.startswith(k + "_") for k in PLAIN_INT)


def fmt_number(x) -> str:
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return ""
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, np.integer)):
        return f"{int(x):,}"
    if isinstance(x, (float, np.floating)):
        ax = abs(float(x))
        if ax != 0 and ax < 0.01:
            return f"{float(x):.4g}"
        return f"{float(x):,.2f}" if ax < 100 else f"{float(x):,.1f}"
    return str(x)


def table_html(df: pd.DataFrame, table_id: str, max_rows: int | None = None) -> str:
    """A DataFrame as an escaped HTML table (numbers formatted, thousands separated)."""
    shown = df if max_rows is None or len(df) <= max_rows else df.head(max_rows)
    formatters = {c: (str if _plain_int_column(c) and pd.api.types.is_integer_dtype(shown[c])
                      else fmt_number)
                  for c in shown.columns if pd.api.types.is_numeric_dtype(shown[c])}
    body = shown.to_html(index=False, escape=True, border=0, classes="data",
                         table_id=table_id, formatters=formatters, na_rep="")
    extra = ""
    if shown is not df:
        extra = note(f"前 {max_rows} 行 / first {max_rows} of {len(df)} rows; 全部见 CSV "
                     "/ all rows in the CSV.")
    return f'<div class="tablewrap">{body}</div>{extra}'


def png_data_uri(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def img_tag(data: bytes, alt: str, width: int | None = None) -> str:
    w = f' width="{width}"' if width else ""
    return f'<img src="{png_data_uri(data)}" alt="{esc(alt)}"{w}>'


def downscale_png(path: Path, max_px: int = MAP_MAX_PX) -> bytes:
    """A map sheet re-sampled to ~150 dpi, 256 colours (deterministic bytes)."""
    import math

    from PIL import Image

    with Image.open(path) as im:
        im = im.convert("RGB")
        factor = math.ceil(max(im.width, im.height) / max_px - 1e-3)
        if factor > 1:  # box-average by an integer factor: 300 dpi -> 150 dpi
            im = im.reduce(factor)
        q = im.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    buf = io.BytesIO()
    q.save(buf, format="PNG", compress_level=6)
    return buf.getvalue()


def figure_png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=CHART_DPI, metadata={"Software": None},
                bbox_inches="tight", pad_inches=0.1)
    return buf.getvalue()


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from .maps.fonts import setup_cjk_font

    setup_cjk_font()
    fig = Figure(figsize=(width, height), dpi=CHART_DPI)
    FigureCanvasAgg(fig)
    return fig


# ---------------------------------------------------------------------------------------------
# data of the year

def candidate_attributes(gpkg: Path) -> pd.DataFrame | None:
    """All candidate parcels (attributes only) or None when candidates.gpkg does not exist."""
    if not gpkg.is_file():
        return None
    import pyogrio

    frames = []
    layers = {str(n) for n, _ in pyogrio.list_layers(gpkg)}
    for layer in PATHWAY_NAMES:
        if layer in layers:
            df = pyogrio.read_dataframe(gpkg, layer=layer, read_geometry=False)
            df = pd.DataFrame(df)
            if "pathway" not in df.columns:
                df["pathway"] = layer
            frames.append(df)
    if not frames:
        return None
    return pd.concat(frames, ignore_index=True)


def _num(df: pd.DataFrame, col: str) -> pd.Series:
    if col not in df.columns:
        return pd.Series(0.0, index=df.index)
    return pd.to_numeric(df[col], errors="coerce").fillna(0.0)


def _allocated(df: pd.DataFrame) -> pd.Series:
    if "allocated" not in df.columns:
        return pd.Series(True, index=df.index)
    return pd.to_numeric(df["allocated"], errors="coerce").fillna(0).astype(bool)


INDICATORS = [
    ("new_cultivated_ha", "新增耕地", "New cultivated land", "ha"),
    ("freed_quota_ha", "腾退建设用地指标", "Freed construction quota", "ha"),
    ("greening_increment_ha", "绿化增量", "Greening increment", "ha"),
    ("pv_mw", "光伏装机", "Solar PV capacity", "MW"),
    # closure counts as treatment beside the greening increment (#14; not in the 2x2 chart)
    ("closure_ha", "封禁保护（封育）", "Closed protection (closure)", "ha"),
]


def indicators_by_pathway(cands: pd.DataFrame | None, summary: pd.DataFrame | None
                          ) -> pd.DataFrame | None:
    """Per pathway: parcels, allocated, area, and the four indicators (allocated parcels)."""
    rows = []
    if summary is not None and len(summary) and "pathway" in summary.columns:
        g = summary.groupby("pathway", sort=False)
        for pw, sub in g:
            row = {"pathway": pw,
                   "n_parcels": int(_num(sub, "n_parcels").sum()),
                   "n_allocated": int(_num(sub, "n_allocated").sum()),
                   "area_ha": float(_num(sub, "area_ha").sum()),
                   "allocated_area_ha": float(_num(sub, "allocated_area_ha").sum())}
            for col, *_ in INDICATORS:
                row[col] = float(_num(sub, col).sum())
            rows.append(row)
    elif cands is not None and len(cands):
        alloc = _allocated(cands)
        for pw, sub in cands.groupby("pathway", sort=False):
            a = alloc.loc[sub.index]
            row = {"pathway": pw, "n_parcels": len(sub), "n_allocated": int(a.sum()),
                   "area_ha": float(_num(sub, "area_ha").sum()),
                   "allocated_area_ha": float(_num(sub, "area_ha")[a].sum())}
            for col, *_ in INDICATORS:
                row[col] = float(_num(sub, col)[a].sum())
            rows.append(row)
    if not rows:
        return None
    order = {p: i for i, p in enumerate(PATHWAY_NAMES)}
    df = pd.DataFrame(rows).sort_values("pathway", key=lambda s: s.map(order).fillna(99))
    return df.reset_index(drop=True)


def area_by_pathway_target(cands: pd.DataFrame) -> pd.DataFrame:
    """ha of allocated parcels per pathway (rows) and recommended target (columns)."""
    df = cands.copy()
    alloc = _allocated(df)
    target = df.get("recommended_target", pd.Series("", index=df.index)).fillna("").astype(str)
    df["_key"] = target.where(alloc & (target != ""), "not_allocated")
    df["_ha"] = _num(df, "area_ha")
    pv = df.pivot_table(index="pathway", columns="_key", values="_ha", aggfunc="sum",
                        fill_value=0.0)
    return pv


# ---------------------------------------------------------------------------------------------
# charts

def chart_area_by_target(pv: pd.DataFrame) -> bytes:
    """Stacked horizontal bars: ha per pathway, split by recommended target."""
    from .maps import style

    fig = _figure(7.0, 1.6 + 0.55 * len(pv))
    ax = fig.add_subplot()
    labels = [f"{PATHWAY_NAMES.get(p, (p, p))[0]}\n{PATHWAY_NAMES.get(p, (p, p))[1]}"
              for p in pv.index]
    left = np.zeros(len(pv))
    keys = [k for k in style.TARGET_COLORS if k in pv.columns]
    keys += sorted(set(pv.columns) - set(keys))
    for k in keys:
        vals = pv[k].to_numpy(dtype=float)
        ax.barh(labels, vals, left=left, color=style.target_color(k, tuple(pv.columns)),
                edgecolor="#333333", linewidth=0.3, label=style.target_label(k), height=0.6,
                hatch=style.NOT_ALLOCATED_HATCH if k == style.NOT_ALLOCATED else None)
        left += vals
    for i, total in enumerate(left):
        ax.text(total, i, f" {total:,.1f} ha", va="center", fontsize=7)
    ax.invert_yaxis()
    ax.margins(x=0.12)
    ax.set_xlabel("面积 Area (ha)", fontsize=8)
    ax.tick_params(labelsize=7.5)
    ax.grid(axis="x", color="#e0e0e0", linewidth=0.5)
    ax.set_axisbelow(True)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.28), frameon=False,
              ncol=3)
    return figure_png(fig)


def chart_indicators(ind: pd.DataFrame) -> bytes:
    """2 x 2 small bar charts: the four indicators by pathway."""
    fig = _figure(7.0, 4.2)
    axes = fig.subplots(2, 2).ravel()
    colors = ["#e8c95a", "#d64541", "#2e7d32", "#6a3d9a"]
    names = [PATHWAY_NAMES.get(p, (p, p))[0] for p in ind["pathway"]]
    for ax, (col, zh, en, unit), color in zip(axes, INDICATORS, colors):
        vals = ind[col].to_numpy(dtype=float)
        y = np.arange(len(vals))
        ax.barh(y, vals, color=color, edgecolor="#333333", linewidth=0.3, height=0.6)
        ax.set_yticks(y, names, fontsize=7)
        ax.invert_yaxis()
        ax.set_title(f"{zh} {en} ({unit})", fontsize=8)
        ax.tick_params(axis="x", labelsize=6.5)
        for i, v in enumerate(vals):
            ax.text(v, i, f" {v:,.1f}", va="center", fontsize=6.5)
        ax.margins(x=0.25)
        ax.grid(axis="x", color="#e0e0e0", linewidth=0.5)
        ax.set_axisbelow(True)
    fig.subplots_adjust(wspace=0.55, hspace=0.55)
    return figure_png(fig)


def water_frame(tables: Path) -> tuple[pd.DataFrame | None, str]:
    """Per county: headroom and allocated (water_balance.csv), else headroom and the potential
    demand of all suitable area (water_capacity.csv); with a note saying which."""
    wb = read_csv(tables / "water_balance.csv", dtype={"adcode": str})
    if wb is not None and {"adcode", "headroom_m3", "allocated_m3"} <= set(wb.columns):
        cols = [c for c in ("adcode", "county_name", "headroom_m3", "demand_m3", "allocated_m3",
                            "left_m3") if c in wb.columns]
        return wb[cols].copy(), "water_balance.csv: 候选地块配水 allocation of candidate parcels"
    wc = read_csv(tables / "water_capacity.csv", dtype={"adcode": str})
    if wc is not None and {"adcode", "headroom_m3", "demand_total_m3"} <= set(wc.columns):
        df = wc[["adcode", "headroom_m3", "demand_total_m3"]].rename(
            columns={"demand_total_m3": "demand_m3"})
        return df, ("water_balance.csv 尚未生成 not yet made: 显示 water_capacity.csv 中全部适宜"
                    "面积的潜在需水 potential demand of all suitable area")
    return None, "无水资源表 no water table (water_balance.csv / water_capacity.csv)"


def chart_water(df: pd.DataFrame, names: Mapping[str, str]) -> bytes:
    fig = _figure(6.4, 3.6)
    ax = fig.add_subplot()
    df = df.sort_values("adcode")
    labels = [names.get(a) or (df.loc[df["adcode"] == a, "county_name"].iloc[0]
                               if "county_name" in df.columns else a) for a in df["adcode"]]
    x = np.arange(len(df))
    second = "allocated_m3" if "allocated_m3" in df.columns else "demand_m3"
    second_label = "已配置 Allocated" if second == "allocated_m3" else "潜在需水 Potential demand"
    ax.bar(x - 0.2, _num(df, "headroom_m3") / 1e6, width=0.4, color="#4fb3bf",
           label="可用水量余量 Headroom")
    ax.bar(x + 0.2, _num(df, second) / 1e6, width=0.4, color="#e6ab02", label=second_label)
    ax.set_xticks(x, labels, rotation=65, ha="right", fontsize=7)
    ax.set_ylabel("百万立方米/年 million m³/yr", fontsize=8)
    ax.set_title("各县水量余量与配置 Water headroom vs allocation by county", fontsize=10)
    ax.legend(fontsize=7, frameon=False)
    ax.tick_params(axis="y", labelsize=7)
    ax.axhline(0, color="#333333", linewidth=0.5)
    return figure_png(fig)


# ---------------------------------------------------------------------------------------------
# tables of the year

def inventory_pivot(inv: pd.DataFrame, zone_kind: str = "county") -> pd.DataFrame:
    """Area (ha) by zone (rows) and class (columns, in class order), with totals."""
    df = inv[inv["zone_kind"].astype(str) == zone_kind].copy()
    df["zone_id"] = df["zone_id"].astype(str)
    order = (df[["class_id", "class", "class_zh", "class_en"]].drop_duplicates()
             .sort_values("class_id"))
    pv = df.pivot_table(index=["zone_id", "zone_name"], columns="class", values="area_ha",
                        aggfunc="sum", fill_value=0.0, sort=True)
    pv = pv[[c for c in order["class"] if c in pv.columns]]
    pv["total"] = pv.sum(axis=1)
    pv = pv.reset_index()
    total = {"zone_id": "合计", "zone_name": "Total"}
    total.update({c: pv[c].sum() for c in pv.columns if c not in ("zone_id", "zone_name")})
    pv = pd.concat([pv, pd.DataFrame([total])], ignore_index=True)
    names = {r["class"]: f"{r['class_zh']} {r['class_en']}" for _, r in order.iterrows()}
    rename = {"zone_id": "代码 Code", "zone_name": "名称 Name", "total": "合计 Total"}
    rename.update(names)
    return pv.rename(columns=rename)


def find_compare_dir(year_dir: Path) -> Path | None:
    cmp_root = year_dir / "compare"
    if not cmp_root.is_dir():
        return None
    dirs = sorted(d for d in cmp_root.iterdir() if d.is_dir())
    return dirs[-1] if dirs else None


def find_table(year_dir: Path, name: str) -> Path | None:
    """tables/<name>, else compare/<pair>/<name> (ledgers may live with the comparison)."""
    p = year_dir / "tables" / name
    if p.is_file():
        return p
    cmp_dir = find_compare_dir(year_dir)
    if cmp_dir is not None and (cmp_dir / name).is_file():
        return cmp_dir / name
    return None


# ---------------------------------------------------------------------------------------------
# sections

# ---------------------------------------------------------------------------------------------
# GEP lead section (issue #13; tables of nxgeo.services: gep_by_county.csv, gep_change_by_county)

GEP_LEAD_COLUMNS = [
    ("zone_name", "县（区） County"), ("gep_yi_cny", "GEP（亿元）"),
    ("gep_wan_cny", "GEP（万元）"), ("material_products_wan", "物质产品（万元）"),
    ("regulating_services_wan", "调节服务（万元）"), ("cultural_services_wan", "文化服务（万元）"),
    ("gep_wan_cny_per_km2", "单位面积GEP（万元/km²）"),
    ("d_gep_wan_cny", "较上期变化（万元） Change"), ("d_gep_pct", "变化率（%） Change %"),
]


def section_gep(year_dir: Path) -> str:
    """The report's lead: GEP per county in 亿元/万元, by category, with the change since the
    earlier survey year; services left out and placeholder prices are said, not hidden."""
    out = [heading(2, "生态产品总值（GEP）", "Gross ecosystem product by county", "gep")]
    gep = read_csv(year_dir / "tables" / "gep_by_county.csv", dtype={"zone_id": str})
    if gep is None:
        out.append(note("tables/gep_by_county.csv 尚未生成 not made yet: GEP skipped."))
        return "\n".join(out)
    cmp_dir = find_compare_dir(year_dir)
    change = (read_csv(cmp_dir / "gep_change_by_county.csv", dtype={"zone_id": str})
              if cmp_dir is not None else None)
    df = gep.copy()
    for c in ("material_products", "regulating_services", "cultural_services"):
        df[f"{c}_wan"] = df[f"{c}_cny"] / 1e4
    if change is not None:
        ch = change.set_index(["zone_kind", "zone_id"])
        idx = list(zip(df["zone_kind"], df["zone_id"]))
        df["d_gep_wan_cny"] = [ch["d_gep_wan_cny"].get(k, np.nan) for k in idx]
        df["d_gep_pct"] = [ch["d_gep_pct"].get(k, np.nan) for k in idx]
        since = cmp_dir.name.replace("_", "→")
    else:
        df["d_gep_wan_cny"] = np.nan
        df["d_gep_pct"] = np.nan
        since = None
    total = df[df["zone_kind"] == "region"]
    if len(total):
        t = total.iloc[0]
        kp = ['<div class="kpis">',
              (f'<div class="kpi"><div class="v">{esc(fmt_number(t["gep_yi_cny"]))} 亿元</div>'
               '<div class="k">全区GEP Region GEP</div></div>')]
        if "gep_wan_cny_per_km2" in t:
            kp.append(f'<div class="kpi"><div class="v">{esc(fmt_number(t["gep_wan_cny_per_km2"]))}'
                      ' 万元/km²</div><div class="k">单位面积GEP GEP per km²</div></div>')
        if since is not None and np.isfinite(t["d_gep_wan_cny"]):
            kp.append(f'<div class="kpi"><div class="v">{esc(fmt_number(t["d_gep_wan_cny"] / 1e4))}'
                      f' 亿元 ({esc(fmt_number(t["d_gep_pct"]))} %)</div><div class="k">'
                      f'较上期变化 Change {esc(since)}</div></div>')
        if "carbon_stock_value_cny" in t and np.isfinite(t["carbon_stock_value_cny"]):
            kp.append(f'<div class="kpi"><div class="v">'
                      f'{esc(fmt_number(t["carbon_stock_value_cny"] / 1e8))} 亿元</div>'
                      '<div class="k">碳储量（生态资产，不计入GEP） Carbon stock, an asset '
                      '(not in GEP)</div></div>')
        kp.append("</div>")
        out.append("".join(kp))
    cols = [c for c, _ in GEP_LEAD_COLUMNS if c in df.columns]
    shown = df[cols].rename(columns=dict(GEP_LEAD_COLUMNS))
    out.append(table_html(shown, "tbl-gep-county"))
    missing = sorted({s for v in gep["not_accounted"].fillna("") for s in str(v).split(";") if s})
    msgs = [("GEP = 物质产品 + 调节服务 + 文化服务（当年流量，《生态产品总值核算规范（试行）》2022）; "
             "碳储量为生态资产，不计入GEP / GEP counts the year's flows; the carbon stock is an asset.")]
    if missing:
        msgs.append("未核算 Not accounted (no input table or switched off): " + ", ".join(missing)
                    + " — 空白而非零 blank, not zero (docs/gep.md).")
    if since is None:
        msgs.append("无上期 GEP: no earlier survey year to compare with.")
    else:
        msgs.append(f"变化 Change: {since}（gep_change_by_county.csv）.")
    msgs.append("价格与系数多为占位值（config/tables/prices.csv, gep_coefficients.csv 的 placeholder 列）"
                " / most prices and coefficients are placeholders: replace them (docs/gep.md).")
    out.extend(note(m) for m in msgs)
    return "\n".join(out)


def section_summary(year_dir: Path, county_names: Mapping[str, str]) -> str:
    out = [heading(2, "概要", "Summary", "summary")]
    tables = year_dir / "tables"
    cands = candidate_attributes(year_dir / "candidates.gpkg")
    summary = read_csv(tables / "candidates_summary.csv", dtype={"adcode": str})
    ind = indicators_by_pathway(cands, summary)
    charts = []
    if ind is None:
        out.append(note("候选地块尚未生成 (candidates.gpkg / tables/candidates_summary.csv 不存在)"
                        " — candidates not made yet: pathway figures skipped."))
    else:
        kp = ['<div class="kpis">']
        for col, zh, en, unit in INDICATORS:
            kp.append(f'<div class="kpi"><div class="v">{esc(fmt_number(ind[col].sum()))} '
                      f'{esc(unit)}</div><div class="k">{esc(zh)} {esc(en)}</div></div>')
        kp.append('<div class="kpi"><div class="v">'
                  f'{esc(fmt_number(int(ind["n_allocated"].sum())))} / '
                  f'{esc(fmt_number(int(ind["n_parcels"].sum())))}</div><div class="k">'
                  '已配水/候选地块 parcels allocated / candidates</div></div>')
        kp.append("</div>")
        out.append("".join(kp))
        shown = ind.copy()
        shown.insert(1, "路径 Pathway", [" ".join(PATHWAY_NAMES.get(p, (p, p)))
                                         for p in shown["pathway"]])
        out.append(table_html(shown, "tbl-indicators"))
        if cands is not None and len(cands):
            charts.append(("area_by_target", chart_area_by_target(area_by_pathway_target(cands)),
                           "各路径推荐用途面积 Area by pathway and recommended use (ha)"))
        charts.append(("indicators", chart_indicators(ind),
                       "新增耕地、腾退指标、绿化增量、光伏 Indicators by pathway"))
    wdf, wnote = water_frame(tables)
    if wdf is not None and "county_name" not in wdf.columns and county_names:
        wdf.insert(1, "county_name", wdf["adcode"].astype(str).map(county_names).fillna(""))
    if wdf is not None and len(wdf):
        charts.append(("water", chart_water(wdf, county_names),
                       "水量余量与配置 Water headroom and allocation (million m³/yr)"))
    if charts:
        figs = "".join(f'<figure>{img_tag(png, cap)}<figcaption>{esc(cap)}</figcaption></figure>'
                       for _, png, cap in charts)
        out.append(f'<div class="charts">{figs}</div>')
    out.append(note(wnote))
    if wdf is not None:
        out.append(table_html(wdf, "tbl-water"))
    return "\n".join(out)


def section_inventory(year_dir: Path) -> str:
    out = [heading(2, "土地利用清查", "Land-use inventory", "inventory")]
    inv = read_csv(year_dir / "tables" / "inventory_by_class.csv", dtype={"zone_id": str})
    if inv is None:
        out.append(note("tables/inventory_by_class.csv 不存在 not found: inventory skipped."))
    else:
        out.append(heading(3, "各县（区）地类面积（公顷）", "Area by county and class (ha)"))
        out.append(table_html(inventory_pivot(inv, "county"), "tbl-inventory-county"))
        if (inv["zone_kind"].astype(str) == "reach").any():
            out.append(heading(3, "各河段地类面积（公顷）", "Area by reach and class (ha)"))
            out.append(table_html(inventory_pivot(inv, "reach"), "tbl-inventory-reach"))
    cmp_dir = find_compare_dir(year_dir)
    tm = read_csv(cmp_dir / "transition_matrix.csv") if cmp_dir is not None else None
    if tm is None:
        out.append(note("无转移矩阵 no transition matrix (compare/*/transition_matrix.csv)."))
    else:
        out.append(heading(3, f"地类转移矩阵（公顷）{cmp_dir.name.replace('_', '→')}",
                           "Transition matrix (ha): rows from, columns to"))
        out.append(table_html(tm, "tbl-transition-matrix"))
    return "\n".join(out)


def section_tables(year_dir: Path) -> str:
    out = [heading(2, "候选地块、生态系统服务与台账", "Candidates, ecosystem services, ledgers",
                   "ledgers")]
    items = [
        ("candidates_summary.csv", "候选地块汇总（县、路径）", "Candidates by county and pathway",
         "tbl-candidates-summary"),
        ("services_by_county.csv", "生态系统服务（县）", "Ecosystem services by county",
         "tbl-services"),
        ("greening_ledger.csv", "绿化增量台账", "Greening ledger", "tbl-greening-ledger"),
        ("carbon_balance.csv", "碳收支", "County carbon balance", "tbl-carbon-balance"),
    ]
    for name, zh, en, tid in items:
        out.append(heading(3, zh, en))
        path = find_table(year_dir, name)
        if path is None:
            out.append(note(f"{name} 尚未生成 not made yet: section skipped."))
            continue
        df = read_csv(path, dtype={"adcode": str, "zone_id": str})
        out.append(table_html(df, tid, max_rows=200))
    return "\n".join(out)


def section_maps(year_dir: Path, report_dir: Path) -> str:
    out = [heading(2, "图件", "Maps", "maps")]
    maps_dir = year_dir / "maps"
    index_path = maps_dir / "index.json"
    entries, skipped = [], []
    if index_path.is_file():
        idx = json.loads(index_path.read_text(encoding="utf-8"))
        entries, skipped = idx.get("maps", []), idx.get("skipped", [])
    elif maps_dir.is_dir():
        entries = [{"name": p.stem, "title_zh": p.stem, "title_en": "", "png": p.name,
                    "pdf": p.with_suffix(".pdf").name} for p in sorted(maps_dir.glob("*.png"))]
    if not entries:
        out.append(note("图件尚未生成 maps not made yet (results/{year}/maps/)."))
    figs = []
    for e in entries:
        png = maps_dir / e["png"]
        if not png.is_file():
            continue
        pdf_rel = Path("..") / "maps" / e.get("pdf", "")
        link = (f' <a href="{esc(pdf_rel.as_posix())}">PDF</a>'
                if (maps_dir / e.get("pdf", "")).is_file() else "")
        figs.append(f'<figure id="map-{esc(e["name"])}">{img_tag(downscale_png(png), e["title_zh"])}'
                    f'<figcaption>{esc(e["title_zh"])}<span class="en">{esc(e["title_en"])}'
                    f'</span>{link}</figcaption></figure>')
    if figs:
        out.append(f'<div class="maps">{"".join(figs)}</div>')
    for s in skipped:
        out.append(note(f"未制图 not drawn: {s.get('map')} — {s.get('reason')}"))
    return "\n".join(out)


def section_validation(year_dir: Path) -> str:
    out = [heading(2, "输入数据检查", "Input validation", "validation")]
    rep = year_dir / "validation" / "report.json"
    if not rep.is_file():
        out.append(note("validation/report.json 不存在 not found."))
        return "\n".join(out)
    data = json.loads(rep.read_text(encoding="utf-8"))
    cls = "ok" if data.get("ok") else "bad"
    out.append(f'<p class="{cls}">{esc(data.get("summary", ""))}</p>')
    problems = data.get("problems") or []
    if problems:
        out.append(heading(3, "问题", "Problems"))
        out.append(table_html(pd.DataFrame(problems).astype(str), "tbl-validation-problems"))
    checked = data.get("checked") or []
    if checked:
        rows = [{"item": c.get("item"), "kind": c.get("kind"), "path": c.get("path"),
                 "layer": c.get("layer") or "", "crs": c.get("crs") or "",
                 "size": (f"{c['features']} features" if c.get("features") is not None else
                          " × ".join(str(v) for v in c.get("shape", [])) if c.get("shape")
                          else (f"{c['rows']} rows" if c.get("rows") is not None else ""))}
                for c in checked]
        out.append(heading(3, "已检查的输入", "Inputs checked"))
        out.append(table_html(pd.DataFrame(rows).astype(str), "tbl-validation-checked"))
    return "\n".join(out)


def section_parameters(config: Mapping) -> str:
    import yaml

    text = yaml.safe_dump(json.loads(json.dumps(config, default=str)), allow_unicode=True,
                          sort_keys=False, width=100)
    return "\n".join([heading(2, "参数", "Parameters used (config)", "parameters"),
                      f"<pre>{esc(text)}</pre>"])


def section_provenance(year_dir: Path) -> str:
    out = [heading(2, "数据溯源", "Provenance", "provenance")]
    path = year_dir / "provenance.json"
    if not path.is_file():
        out.append(note("provenance.json 尚未生成 not written yet for this year."))
        return "\n".join(out)
    prov = json.loads(path.read_text(encoding="utf-8"))
    facts = pd.DataFrame([
        {"key": "nxgeo", "value": prov.get("nxgeo_version")},
        {"key": "config SHA-256", "value": prov.get("config_sha256")},
        {"key": "inputs SHA-256", "value": prov.get("inputs_sha256")},
        {"key": "started", "value": prov.get("started")},
        {"key": "finished", "value": prov.get("finished")},
        {"key": "host", "value": (prov.get("host") or {}).get("hostname")},
    ]).astype(str)
    out.append(table_html(facts, "tbl-provenance"))
    sw = prov.get("software") or {}
    if sw:
        out.append(heading(3, "软件版本", "Software versions"))
        out.append(table_html(pd.DataFrame({"software": list(sw), "version": [str(v) for v in
                                                                            sw.values()]}),
                              "tbl-software"))
    inputs = prov.get("inputs") or {}
    if inputs:
        out.append(heading(3, "输入文件", "Input files (SHA-256)"))
        rows = [{"item": k, "path": v.get("path"), "bytes": v.get("bytes"),
                 "sha256": v.get("sha256")} for k, v in inputs.items()]
        out.append(table_html(pd.DataFrame(rows), "tbl-inputs"))
    return "\n".join(out)


def _county_names(results_dir: Path) -> dict[str, str]:
    gpkg = results_dir / "common" / "vectors.gpkg"
    if not gpkg.is_file():
        return {}
    try:
        import pyogrio

        df = pyogrio.read_dataframe(gpkg, layer="counties", read_geometry=False)
        return dict(zip(df["id"].astype(str), df["name"].astype(str)))
    except Exception:  # noqa: BLE001 - names are a nicety
        return {}


# ---------------------------------------------------------------------------------------------
# the page

def render_report(year, results_dir: str | Path, config: Mapping, report_dir: Path,
                  made_on: str | None = None) -> str:
    from .maps.sheets import default_made_on, split_bilingual

    results_dir = Path(results_dir)
    year_dir = results_dir / str(year)
    region_zh, region_en = split_bilingual(str(config.get("region_name", "")))
    made_on = made_on or default_made_on()
    names = _county_names(results_dir)
    sections = [
        section_gep(year_dir),
        section_summary(year_dir, names),
        section_inventory(year_dir),
        section_tables(year_dir),
        section_maps(year_dir, report_dir),
        section_validation(year_dir),
        section_parameters(config),
        section_provenance(year_dir),
    ]
    nav = "".join(f'<a href="#{a}">{esc(t)}</a>' for a, t in [
        ("gep", "GEP 生态产品总值"), ("summary", "概要 Summary"), ("inventory", "清查 Inventory"),
        ("ledgers", "台账 Tables"), ("maps", "图件 Maps"), ("validation", "检查 Validation"),
        ("parameters", "参数 Parameters"), ("provenance", "溯源 Provenance")])
    title_zh = f"{region_zh} 生态产品调查与修复选址年度报告（{year}年）"
    title_en = f"Ecological survey, suitability and restoration siting — {region_en}, {year}"
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="nxgeo {esc(__version__)}">
<title>{esc(title_zh)}</title>
<script>{CHECK_SCRIPT}</script>
<style>{CSS}</style>
</head>
<body>
<header><h1>{esc(title_zh)}</h1><p>{esc(title_en)}</p>
<p>调查年份 Survey year: {esc(year)} · 生成日期 Made: {esc(made_on)} · nxgeo {esc(__version__)}</p>
</header>
<nav>{nav}</nav>
<main>
{chr(10).join(sections)}
</main>
<footer>nxgeo {esc(__version__)} · {esc(region_en)} · 本页为自包含文件 self-contained page: no
external resources.</footer>
</body>
</html>
"""


def report_year(year, results_dir: str | Path, config: Mapping, out_html: str | Path,
                *, made_on: str | None = None) -> Path:
    """Write the year's report (one self-contained HTML file) atomically; returns its path.

    `results_dir` is the results root (holding ``common/`` and ``{year}/``).
    """
    out_html = Path(out_html)
    text = render_report(year, results_dir, config, out_html.parent, made_on=made_on)
    return write_text(out_html, text)


def parse_tables(text: str) -> dict[str, list[list[str]]]:
    """{table id: rows of cell texts} of an HTML page (stdlib parser; used by the tests)."""
    from html.parser import HTMLParser

    class P(HTMLParser):
        def __init__(self):
            super().__init__()
            self.tables: dict[str, list[list[str]]] = {}
            self.cur: str | None = None
            self.row: list[str] | None = None
            self.cell: list[str] | None = None

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if tag == "table":
                self.cur = a.get("id") or f"table{len(self.tables)}"
                self.tables[self.cur] = []
            elif tag == "tr" and self.cur is not None:
                self.row = []
            elif tag in ("td", "th") and self.row is not None:
                self.cell = []

        def handle_endtag(self, tag):
            if tag in ("td", "th") and self.cell is not None and self.row is not None:
                self.row.append("".join(self.cell).strip())
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
    return p.tables


def numbers_of(cells: Sequence[str]) -> list[float | None]:
    """'1,234.5' -> 1234.5; text -> None (for comparing report tables with their CSV)."""
    out: list[float | None] = []
    for c in cells:
        try:
            out.append(float(c.replace(",", "")))
        except ValueError:
            out.append(None)
    return out
