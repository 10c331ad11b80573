"""Approval-ready map sheets for one survey year (PNG 300 dpi and PDF, matplotlib Agg).

`maps_year` makes, in ``results/{year}/maps/``:

- ``overview_{pathway}``: candidate parcels of one pathway over a hillshade, coloured by the
  recommended target, with county boundaries (Chinese names), reaches and rivers;
- ``county_{adcode}``: one sheet per county that has candidates (all pathways);
- ``best_use``: mosaic of the reaches' best use;
- ``suitability_{target}``: suitability grade of every target found;
- ``landuse``: the year's land use in the canonical classes.

Every sheet has a Chinese title with an English subtitle, a legend with units, a scale bar in
km, a north arrow, the CRS, data sources, survey year and the date the map was made. Files are
byte-reproducible: no timestamps in the PNG/PDF metadata; the date printed on the sheet is
`made_on` (a date, not a time; SOURCE_DATE_EPOCH or today by default) and provenance.json holds
the run time. An index ``maps/index.json`` lists every sheet with its titles and what was
skipped and why (read by the report).
"""

from __future__ import annotations

import datetime as _dt
import functools
import json
import logging
import multiprocessing as mp
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .. import __version__
from ..atomic import atomic_path, write_text
from ..layout import Layout
from ..progress import progress
from . import data as mdata
from . import elements as el
from . import style

if TYPE_CHECKING:
    import geopandas as gpd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.legend import Legend

log = logging.getLogger(__name__)

DPI = 300


# ---------------------------------------------------------------------------------------------
# context and page layout


@dataclass
class MapContext:
    """What every sheet of a year shares."""

    year: int | str
    region_name: str = ""
    crs: str = "EPSG:4507"
    made_on: str = ""
    version: str = __version__
    max_px: int = mdata.MAX_PX
    dpi: int = DPI
    counties: gpd.GeoDataFrame | None = None  # (id, name)
    reaches: gpd.GeoDataFrame | None = None  # (id, name)
    rivers: gpd.GeoDataFrame | None = None
    dem_path: Path | None = None
    target_names: dict[str, tuple[str, str]] = field(default_factory=dict)
    context: dict = field(default_factory=dict)  # layer -> GeoDataFrame (outlines)
    county_en: dict[str, str] = field(default_factory=dict)  # adcode -> English (pinyin) name
    pathways: list[str] = field(default_factory=list)  # configured pathways, in order
    hillshade: dict = field(
        default_factory=lambda: {"azdeg": 315.0, "altdeg": 45.0, "vert_exag": 2.0}
    )

    @property
    def region_zh(self) -> str:
        return split_bilingual(self.region_name)[0]

    @property
    def region_en(self) -> str:
        return split_bilingual(self.region_name)[1]


def split_bilingual(text: str) -> tuple[str, str]:
    """'宁夏回族自治区 / Ningxia' -> ('宁夏回族自治区', 'Ningxia')."""
    if " / " in text:
        zh, en = text.split(" / ", 1)
        return zh.strip(), en.strip()
    return text.strip(), text.strip()


def default_made_on() -> str:
    """Date printed on maps: SOURCE_DATE_EPOCH (reproducible builds) if set, else today."""
    sde = os.environ.get("SOURCE_DATE_EPOCH")
    if sde and sde.strip().isdigit():
        return _dt.datetime.fromtimestamp(int(sde), _dt.UTC).date().isoformat()
    return _dt.date.today().isoformat()


@dataclass
class Sheet:
    fig: Figure
    ax: Axes  # the map
    ax_legend: Axes
    ax_notes: Axes
    page: style.Page
    title_zh: str
    title_en: str
    legend: Legend | None = None


def choose_page(bounds: Sequence[float]) -> style.Page:
    width, height = bounds[2] - bounds[0], bounds[3] - bounds[1]
    return style.A4_LANDSCAPE if width > 1.2 * height else style.A4_PORTRAIT


def padded(bounds: Sequence[float], frac: float = 0.03) -> tuple[float, float, float, float]:
    left, bottom, right, top = bounds
    dx, dy = (right - left) * frac, (top - bottom) * frac
    d = max(dx, dy, 1.0)
    return (left - d, bottom - d, right + d, top + d)


def _canvas(fig):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    return fig.canvas.get_renderer()


def fit_text_width(text, renderer, max_width_px: float, min_size: float = 7.0) -> None:
    """Shrink a text artist's font until it is no wider than max_width_px."""
    size = text.get_fontsize()
    while text.get_window_extent(renderer).width > max_width_px and size > min_size:
        size *= 0.95
        text.set_fontsize(size)


def new_sheet(
    bounds: Sequence[float], title_zh: str, title_en: str, page: style.Page | None = None
) -> Sheet:
    """A figure with title, map axes (equal aspect, limits = bounds), legend and notes panels."""
    from matplotlib.figure import Figure

    from .fonts import setup_cjk_font

    setup_cjk_font()
    page = page or choose_page(bounds)
    fig = Figure(figsize=(page.width, page.height), dpi=page.dpi)
    renderer = _canvas(fig)
    fig.patch.set_facecolor("white")
    portrait = page.height >= page.width
    y_title, y_sub = (0.975, 0.948) if portrait else (0.965, 0.925)
    t1 = fig.text(0.5, y_title, title_zh, ha="center", va="top", fontsize=page.title_size)
    t2 = fig.text(
        0.5, y_sub, title_en, ha="center", va="top", fontsize=page.subtitle_size, color="#333333"
    )
    for t in (t1, t2):
        fit_text_width(t, renderer, 0.94 * fig.bbox.width)
    if portrait:  # legend and notes below the map, full width
        ax = fig.add_axes((0.06, 0.215, 0.88, 0.705))
        ax_legend = fig.add_axes((0.06, 0.083, 0.88, 0.117))
        ax_notes = fig.add_axes((0.06, 0.008, 0.88, 0.068))
    else:  # landscape: legend and notes on the right
        ax = fig.add_axes((0.035, 0.05, 0.64, 0.83))
        ax_legend = fig.add_axes((0.70, 0.31, 0.28, 0.57))
        ax_notes = fig.add_axes((0.70, 0.05, 0.28, 0.24))
    for a in (ax_legend, ax_notes):
        a.set_axis_off()
    left, bottom, right, top = bounds
    ax.set_xlim(left, right)
    ax.set_ylim(bottom, top)
    ax.set_aspect("equal", adjustable="box", anchor="C")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_linewidth(0.8)
    ax.set_facecolor("white")
    return Sheet(fig, ax, ax_legend, ax_notes, page, title_zh, title_en)


def fit_legend(
    ax,
    entries: Sequence[el.LegendEntry],
    title: str,
    fontsize: float,
    max_cols: int = 4,
    min_size: float = 5.0,
):
    """The legend with the fewest columns (and largest font) that fits the legend panel."""
    renderer = _canvas(ax.figure)
    box = ax.get_window_extent(renderer)
    size = fontsize
    while True:
        for ncol in range(1, max_cols + 1):
            leg = el.add_legend(ax, entries, title=title, fontsize=size, ncol=ncol)
            bb = leg.get_window_extent(renderer)
            if bb.height <= box.height + 1 and bb.width <= box.width + 1:
                return leg
            leg.remove()
        if size <= min_size:
            return el.add_legend(ax, entries, title=title, fontsize=size, ncol=max_cols)
        size -= 0.5


def finish_sheet(
    sheet: Sheet,
    entries: Sequence[el.LegendEntry],
    legend_title: str,
    ctx: MapContext,
    extra_notes: Sequence[str] = (),
):
    """Scale bar, north arrow, legend and notes; returns the Legend (also sheet.legend)."""
    sheet.ax.set_xlabel("")  # geopandas labels the axes with the CRS axis names
    sheet.ax.set_ylabel("")
    sheet.ax.apply_aspect()
    el.add_scale_bar(sheet.ax)
    el.add_north_arrow(sheet.ax)
    legend = fit_legend(sheet.ax_legend, entries, legend_title, sheet.page.legend_size)
    size = sheet.page.text_size - 0.9
    width_pt = sheet.ax_notes.get_position().width * sheet.page.width * 72.0
    el.add_notes(
        sheet.ax_notes,
        el.note_lines(
            crs=ctx.crs,
            region_name=ctx.region_name,
            version=ctx.version,
            year=ctx.year,
            made_on=ctx.made_on,
            extra=extra_notes,
        ),
        fontsize=size,
        width=int(width_pt / (size * 0.56)),
    )
    sheet.legend = legend
    return legend


# PNG zlib level of the sheets: measured on a 300 dpi A4 county sheet (RGB), level 2 writes in
# 0.28 s (2.7 MB) against 0.45 s (2.9 MB) for matplotlib's RGBA at level 3 and 0.72 s at 6.
PNG_COMPRESS_LEVEL = 2
HILLSHADE_LABEL = "hillshade"  # the artist label of `draw_hillshade`'s image (pdf_image_dpi)


def write_png(fig, path: str | Path, dpi: int) -> None:
    """The figure as an RGB PNG at `dpi`, without metadata but the resolution (same bytes for
    the same figure). The sheets' background is opaque white, so the alpha channel matplotlib
    writes carries nothing: dropping it makes the file smaller and faster to write."""
    from PIL import Image

    old_dpi = fig.dpi
    try:
        if dpi != old_dpi:
            fig.set_dpi(dpi)
        _canvas(fig)
        fig.canvas.draw()
        rgba = np.asarray(fig.canvas.buffer_rgba())
        if not (rgba[..., 3] == 255).all():  # a transparent figure: keep its alpha
            img = Image.fromarray(np.ascontiguousarray(rgba), "RGBA")
        else:
            img = Image.fromarray(np.ascontiguousarray(rgba[..., :3]), "RGB")
        img.save(path, format="png", dpi=(dpi, dpi), compress_level=PNG_COMPRESS_LEVEL)
    finally:
        if fig.dpi != old_dpi:
            fig.set_dpi(old_dpi)


def save_figure(fig, out_base: str | Path, dpi: int = DPI, title: str | None = None) -> list[Path]:
    """PNG (dpi) and PDF beside each other, atomically, without timestamps."""
    out_base = Path(out_base)
    out_base.parent.mkdir(parents=True, exist_ok=True)
    png, pdf = out_base.with_suffix(".png"), out_base.with_suffix(".pdf")
    with atomic_path(png) as tmp:
        write_png(fig, tmp, dpi)
    meta = {"CreationDate": None, "ModDate": None, "Creator": f"nxgeo {__version__}"}
    if title:
        meta["Title"] = title
    with atomic_path(pdf) as tmp:
        fig.savefig(tmp, format="pdf", dpi=pdf_image_dpi(fig, dpi), metadata=meta)
    return [png, pdf]


def pdf_image_dpi(fig, dpi: int = DPI) -> int:
    """The resolution of the images inside a sheet's PDF (text and lines are vectors at any
    dpi): `style.SHADE_PDF_DPI` when the only images are hillshades (`draw_hillshade`), else
    `dpi`, so class rasters keep every pixel."""
    images = [im for ax in fig.axes for im in ax.get_images()]
    if images and all(im.get_label() == HILLSHADE_LABEL for im in images):
        return min(int(dpi), style.SHADE_PDF_DPI)
    return int(dpi)


# ---------------------------------------------------------------------------------------------
# drawing helpers


def _rgba_lut(colors: Mapping[int, str]) -> np.ndarray:
    from matplotlib.colors import to_rgba

    lut = np.zeros((256, 4), dtype="float32")
    for code, color in colors.items():
        if 0 <= int(code) < 256:
            lut[int(code)] = to_rgba(color)
    return lut


def draw_categorical(ax, raster: mdata.MapRaster, colors: Mapping[int, str], zorder: int = 1):
    """Class raster as colours (nodata and unlisted codes transparent)."""
    arr = np.ma.filled(raster.array, 0)
    if arr.dtype.kind == "f":
        arr = np.nan_to_num(arr, nan=0.0)
    arr = np.clip(arr.astype("int64"), 0, 255)
    rgba = _rgba_lut(colors)[arr]
    rgba[np.ma.getmaskarray(raster.array)] = 0.0
    return ax.imshow(
        rgba,
        extent=raster.extent,
        interpolation="nearest",
        origin="upper",
        zorder=zorder,
        resample=False,
    )


def draw_hatch(
    ax, raster: mdata.MapRaster, code: int, hatch: str, zorder: int = 2, color: str = "#525252"
):
    """Hatch the pixels equal to `code` (vector hatching, for grades such as 'excluded')."""
    import matplotlib

    mask = (~np.ma.getmaskarray(raster.array)) & (np.ma.filled(raster.array, 0) == code)
    if not mask.any():
        return None
    rows, cols = mask.shape
    left, bottom, right, top = raster.bounds
    xs = left + (np.arange(cols) + 0.5) * (right - left) / cols
    ys = top - (np.arange(rows) + 0.5) * (top - bottom) / rows
    with matplotlib.rc_context({"hatch.color": color, "hatch.linewidth": 0.4}):
        cs = ax.contourf(
            xs,
            ys,
            mask.astype("float32"),
            levels=[0.5, 1.5],
            colors="none",
            hatches=[hatch],
            zorder=zorder,
            antialiased=False,
        )
    return cs


def draw_hillshade(ax, ctx: MapContext, bounds: Sequence[float] | None = None):
    """Grey hillshade of the common DEM under the map; faded outside the counties."""
    if ctx.dem_path is None or not Path(ctx.dem_path).is_file():
        return None
    dem = mdata.read_map_raster(
        ctx.dem_path, max_px=ctx.max_px, resampling="average", bounds=bounds
    )
    hs = mdata.hillshade(dem, **ctx.hillshade)
    hs = np.where(np.isnan(hs), 1.0, hs)
    shade = 0.55 + 0.45 * hs  # light: the parcels and lines on top must read clearly
    if ctx.counties is not None and len(ctx.counties):
        inside = mdata.inside_mask(dem, ctx.counties.geometry)
        shade = np.where(inside, shade, 0.92 + 0.08 * shade)
    return ax.imshow(
        shade,
        label=HILLSHADE_LABEL,
        extent=dem.extent,
        cmap="gray",
        vmin=0.0,
        vmax=1.0,
        interpolation="bilinear",
        origin="upper",
        zorder=0,
    )


def draw_reference(
    ax,
    ctx: MapContext,
    labels: bool = True,
    label_ids: set | None = None,
    highlight: str | None = None,
    fontsize: float = 6.5,
) -> list[el.LegendEntry]:
    """County boundaries (with Chinese names), reach outlines, rivers; their legend entries."""
    from matplotlib import patheffects

    entries: list[el.LegendEntry] = []
    halo = [patheffects.withStroke(linewidth=2.0, foreground="white")]
    if ctx.counties is not None and len(ctx.counties):
        el.plot_lines(ax, ctx.counties.geometry, style.COUNTY_EDGE, linewidth=0.5, zorder=3)
        entries.append(
            el.LegendEntry("县（区）界 County boundary", style.COUNTY_EDGE, "line", linewidth=0.8)
        )
        if highlight is not None and "id" in ctx.counties.columns:
            sel = ctx.counties[ctx.counties["id"].astype(str) == str(highlight)]
            if len(sel):
                el.plot_lines(ax, sel.geometry, "black", linewidth=1.4, zorder=4)
        if labels and "name" in ctx.counties.columns:
            xmin, xmax = ax.get_xlim()
            ymin, ymax = ax.get_ylim()
            for _, row in ctx.counties.iterrows():
                if label_ids is not None and str(row.get("id")) not in label_ids:
                    continue
                pt = row.geometry.representative_point()
                if not (xmin <= pt.x <= xmax and ymin <= pt.y <= ymax):
                    continue
                ax.text(
                    pt.x,
                    pt.y,
                    str(row["name"]),
                    ha="center",
                    va="center",
                    fontsize=fontsize,
                    color="#222222",
                    zorder=7,
                    path_effects=halo,
                    clip_on=True,
                )
    if ctx.reaches is not None and len(ctx.reaches):
        el.plot_lines(
            ax,
            ctx.reaches.geometry,
            style.REACH_EDGE,
            linewidth=0.7,
            linestyle=(0, (4, 2)),
            zorder=3,
        )
        entries.append(
            el.LegendEntry(
                "河段（评价单元）Reach", style.REACH_EDGE, "line", linestyle="--", linewidth=0.9
            )
        )
    if ctx.rivers is not None and len(ctx.rivers):
        el.plot_lines(ax, ctx.rivers.geometry, style.RIVER_COLOR, linewidth=1.0, zorder=3)
        entries.append(el.LegendEntry("河流 River", style.RIVER_COLOR, "line", linewidth=1.2))
    return entries


def share_label(label: str, count: int, total: int) -> str:
    pct = 100.0 * count / total if total else 0.0
    return f"{label}  {pct:.1f}%"


# ---------------------------------------------------------------------------------------------
# raster sheets


def read_classes(classes_table) -> pd.DataFrame:
    """The canonical classes table (class_id, canonical, name_zh, name_en, color)."""
    if isinstance(classes_table, pd.DataFrame):
        df = classes_table.copy()
    else:
        df = pd.read_csv(classes_table, encoding="utf-8-sig")
    need = {"class_id", "name_zh", "name_en", "color"}
    missing = need - set(df.columns)
    if missing:
        raise ValueError(f"classes table: missing column(s) {sorted(missing)}")
    df["class_id"] = df["class_id"].astype(int)
    return df


def landuse_legend_entries(
    counts: Mapping[int, int], classes: pd.DataFrame
) -> list[el.LegendEntry]:
    """One entry per class present (count > 0), in class order, labelled with its share."""
    total = sum(counts.values())
    entries = []
    for row in classes.sort_values("class_id").itertuples():
        n = counts.get(int(row.class_id), 0)
        if n > 0:
            entries.append(
                el.LegendEntry(
                    share_label(f"{row.name_zh} {row.name_en}", n, total), str(row.color)
                )
            )
    unknown = sorted(set(counts) - set(classes["class_id"].astype(int)))
    for code in unknown:
        entries.append(
            el.LegendEntry(share_label(f"代码 code {code}", counts[code], total), "#000000")
        )
    return entries


def landuse_figure(
    paths: Sequence[str | Path],
    classes_table,
    ctx: MapContext,
    title_zh: str | None = None,
    title_en: str | None = None,
) -> Sheet:
    """Land-use sheet of one or more (aligned) canonical-class rasters."""
    classes = read_classes(classes_table)
    raster = (
        mdata.read_map_raster(paths[0], ctx.max_px)
        if len(paths) == 1
        else mdata.mosaic_map_raster(paths, ctx.max_px)
    )
    # shares of the region (the grid-wide raster also holds land use outside the counties)
    counts = mdata.class_counts(
        paths, None if ctx.counties is None or not len(ctx.counties) else ctx.counties.geometry
    )
    bounds = _region_bounds(ctx, raster)
    sheet = new_sheet(
        padded(bounds),
        title_zh or f"{ctx.region_zh}土地利用现状图（{ctx.year}年）",
        title_en or f"Land use, {ctx.region_en}, {ctx.year}",
    )
    colors = {int(r.class_id): str(r.color) for r in classes.itertuples()}
    draw_categorical(sheet.ax, raster, colors)
    ref = draw_reference(sheet.ax, _without_rivers(ctx), labels=True, fontsize=5.5)
    entries = landuse_legend_entries(counts, classes)
    finish_sheet(
        sheet,
        entries + ref,
        "土地利用类型（占制图面积）Land-use class (% of mapped area)",
        ctx,
        extra_notes=["地类：三调/规划用途分类归并的 13 个基本类 canonical classes"],
    )
    return sheet


def target_legend_entries(
    counts: Mapping[int, int], legend: pd.DataFrame, names: Mapping[str, tuple[str, str]]
) -> list[el.LegendEntry]:
    total = sum(counts.values())
    entries = []
    for row in legend.sort_values("code").itertuples():
        code = int(row.code)
        if code == 255 or counts.get(code, 0) == 0:
            continue
        target = str(row.target)
        zh, en = names.get(target) or (str(row.name_zh), str(row.name_en))
        if target == "none":
            zh, en = style.TARGET_NAMES["none"]
        entries.append(
            el.LegendEntry(
                share_label(f"{zh} {en}", counts[code], total),
                style.target_color(target, tuple(legend["target"])),
            )
        )
    return entries


def best_use_figure(paths: Sequence[str | Path], legend_csv: str | Path, ctx: MapContext) -> Sheet:
    legend = pd.read_csv(legend_csv, encoding="utf-8-sig")
    raster = mdata.mosaic_map_raster(paths, ctx.max_px)
    counts = mdata.class_counts(paths)
    sheet = new_sheet(
        padded(_region_bounds(ctx, raster)),
        f"{ctx.region_zh}国土空间最适用途图（{ctx.year}年）",
        f"Best use of land by suitability (双评价), {ctx.region_en}, {ctx.year}",
    )
    colors = {
        int(r.code): style.target_color(str(r.target), tuple(legend["target"]))
        for r in legend.itertuples()
        if int(r.code) != 255
    }
    draw_categorical(sheet.ax, raster, colors)
    ref = draw_reference(sheet.ax, _without_rivers(ctx), labels=True, fontsize=5.5)
    entries = target_legend_entries(counts, legend, ctx.target_names)
    finish_sheet(
        sheet,
        entries + ref,
        "最适用途（占评价面积）Best use (% of evaluated area)",
        ctx,
        extra_notes=["最适用途：适宜或一般适宜的用途中得分最高者 highest-scoring suitable use"],
    )
    return sheet


def grade_legend_entries(counts: Mapping[int, int]) -> list[el.LegendEntry]:
    total = sum(n for g, n in counts.items() if g != style.GRADE_NODATA)
    entries = []
    for grade, (zh, en) in style.GRADE_NAMES.items():
        n = counts.get(grade, 0)
        if n:
            hatch = style.EXCLUDED_HATCH if grade == style.EXCLUDED_GRADE else None
            entries.append(
                el.LegendEntry(
                    share_label(f"{zh} {en}", n, total), style.GRADE_COLORS[grade], hatch=hatch
                )
            )
    return entries


def grade_figure(paths: Sequence[str | Path], target: str, ctx: MapContext) -> Sheet:
    raster = mdata.mosaic_map_raster(paths, ctx.max_px)
    counts = mdata.class_counts(paths)
    zh, en = ctx.target_names.get(target) or style.TARGET_NAMES.get(target) or (target, target)
    sheet = new_sheet(
        padded(_region_bounds(ctx, raster)),
        f"{ctx.region_zh}{zh}适宜性评价图（{ctx.year}年）",
        f"Suitability for {en}, {ctx.region_en}, {ctx.year}",
    )
    draw_categorical(sheet.ax, raster, style.GRADE_COLORS)
    draw_hatch(sheet.ax, raster, style.EXCLUDED_GRADE, style.EXCLUDED_HATCH)
    ref = draw_reference(sheet.ax, _without_rivers(ctx), labels=True, fontsize=5.5)
    finish_sheet(
        sheet,
        grade_legend_entries(counts) + ref,
        f"{zh}适宜性等级（占评价面积）Suitability grade (% of evaluated area)",
        ctx,
        extra_notes=["等级：双评价 适宜/一般适宜/不适宜；禁止 = 保护区、生态红线等硬约束"],
    )
    return sheet


# ---------------------------------------------------------------------------------------------
# candidate sheets


def candidate_key(gdf: pd.DataFrame) -> pd.Series:
    """Map class of each parcel: its recommended target when allocated; ``not_eligible:<reason>``
    when it is not eligible (operating mine, already restored, no data…); ``no_water`` when it
    is eligible but got no water (the county's headroom is used up)."""
    idx = gdf.index
    target = gdf.get("recommended_target", pd.Series([""] * len(gdf), index=idx))
    target = target.fillna("").astype(str)
    if "allocated" in gdf.columns:
        alloc = pd.to_numeric(gdf["allocated"], errors="coerce").fillna(0).astype(bool)
    else:
        alloc = pd.Series(True, index=idx)
    if "eligible" in gdf.columns:
        elig = pd.to_numeric(gdf["eligible"], errors="coerce").fillna(1).astype(bool)
    else:
        elig = pd.Series(True, index=idx)
    reason = gdf.get("reason", pd.Series([""] * len(gdf), index=idx)).fillna("").astype(str)
    first = reason.str.split(";").str[0].str.strip().replace("", "other")
    key = target.where(alloc & (target != ""), style.NO_WATER)
    return key.where(elig, style.NOT_ELIGIBLE_PREFIX + first)


def _target_order(keys) -> list[str]:
    keys = set(keys)
    special = {k for k in keys if k == style.NO_WATER or k.startswith(style.NOT_ELIGIBLE_PREFIX)}
    order = list(style.TARGET_COLORS)
    known = [k for k in order if k in keys and k not in special]
    other = sorted(keys - set(order) - special)
    tail = ([style.NO_WATER] if style.NO_WATER in keys else []) + sorted(
        k for k in special if k != style.NO_WATER
    )
    return known + other + tail


def key_style(k: str, known: tuple[str, ...] = ()) -> tuple[str, str | None]:
    """(fill colour, hatch) of a candidate map class."""
    if k == style.NO_WATER:
        return style.NO_WATER_COLOR, style.NO_WATER_HATCH
    if k.startswith(style.NOT_ELIGIBLE_PREFIX):
        reason = k[len(style.NOT_ELIGIBLE_PREFIX) :]
        return style.NOT_ELIGIBLE_COLORS.get(
            reason, style.NOT_ELIGIBLE_COLOR
        ), style.NOT_ELIGIBLE_HATCH
    return style.target_color(k, known), None


def key_label(k: str, names: Mapping[str, tuple[str, str]]) -> str:
    """'林地 Forest', '不符合条件：生产矿山 Not eligible: operating mine', '未配水…'."""
    from ..fields import REASON_VALUES

    if k == style.NO_WATER:
        return "符合条件但未配水（县域水量不足） Eligible, no water allocated"
    if k.startswith(style.NOT_ELIGIBLE_PREFIX):
        reason = k[len(style.NOT_ELIGIBLE_PREFIX) :]
        zh, en = REASON_VALUES.get(reason, (reason, reason.replace("_", " ")))
        zh, en = zh.replace("（不符合条件）", ""), en.replace(" (not eligible)", "")
        return f"不符合条件：{zh} Not eligible: {en}"
    return style.target_label(k, dict(names))


def candidate_legend_entries(
    gdf: pd.DataFrame, names: Mapping[str, tuple[str, str]]
) -> list[el.LegendEntry]:
    keys = candidate_key(gdf)
    area = pd.to_numeric(
        gdf.get("area_ha", pd.Series(0.0, index=gdf.index)), errors="coerce"
    ).fillna(0.0)
    entries = []
    all_keys = tuple(sorted(set(keys)))
    for k in _target_order(keys.unique()):
        sel = keys == k
        text = f"{key_label(k, names)}：{int(sel.sum())} 块 parcels，{area[sel].sum():,.1f} ha"
        if "funding" in gdf.columns:  # mines: legacy (public money) vs operator (#14)
            fund = gdf["funding"].fillna("").astype(str)[sel]
            parts = [
                f"{style.FUNDING_NAMES[f][0]} {int((fund == f).sum())}"
                for f in style.FUNDING_NAMES
                if (fund == f).any()
            ]
            if parts:
                text += "（" + "，".join(parts) + "）"
        color, hatch = key_style(k, all_keys)
        entries.append(el.LegendEntry(text, color, hatch=hatch))
    return entries


def draw_candidates(
    ax, gdf, markers: bool = True, marker_size: float = 9.0, by_pathway: bool = False
):
    """Parcels filled by target colour (not eligible / no water: hatched, underneath) plus a
    marker per parcel (parcels are far smaller than a printed millimetre at region scale)."""
    import matplotlib

    if gdf is None or not len(gdf):
        return
    keys = candidate_key(gdf)
    all_keys = tuple(sorted(set(keys)))
    order = _target_order(keys.unique())
    special = [k for k in order if key_style(k)[1] is not None]
    order = special + [k for k in order if k not in special]  # underneath the allocated ones
    for k in order:
        sub = gdf[keys == k]
        color, hatch = key_style(k, all_keys)
        if hatch is not None:
            with matplotlib.rc_context({"hatch.color": "#525252", "hatch.linewidth": 0.3}):
                el.plot_polygons(
                    ax,
                    sub.geometry,
                    facecolor=color,
                    edgecolor="#525252",
                    linewidth=0.3,
                    hatch=hatch,
                    zorder=5,
                )
        else:
            el.plot_polygons(
                ax, sub.geometry, facecolor=color, edgecolor="#333333", linewidth=0.25, zorder=5
            )
        if markers:
            pts = sub.geometry.representative_point()
            if by_pathway and "pathway" in sub.columns:
                for pw, idx in sub.groupby("pathway").groups.items():
                    p = pts.loc[idx]
                    ax.scatter(
                        p.x,
                        p.y,
                        s=marker_size,
                        c=color,
                        zorder=6,
                        marker=style.PATHWAY_MARKERS.get(str(pw), "o"),
                        edgecolors="#222222",
                        linewidths=0.3,
                    )
            else:
                ax.scatter(
                    pts.x,
                    pts.y,
                    s=marker_size,
                    c=color,
                    zorder=6,
                    marker="o",
                    edgecolors="#222222",
                    linewidths=0.3,
                )


def draw_context(
    ax, ctx: MapContext, bounds: Sequence[float] | None = None
) -> list[el.LegendEntry]:
    """Outlines of the reserves (by zone), the red line, emigration, mining and sand areas
    that reach into the view; a legend entry for each one drawn."""
    from shapely.geometry import box as _box

    view = _box(*bounds) if bounds is not None else None
    entries: list[el.LegendEntry] = []

    def visible(gdf):
        if view is None:
            return gdf
        return gdf.iloc[gdf.sindex.query(view, predicate="intersects")]

    pa = ctx.context.get("protected_areas")
    if pa is not None and len(pa):
        pa = visible(pa)
        zone = (
            pa["zone"].fillna("").astype(str)
            if "zone" in pa.columns
            else pd.Series("", index=pa.index)
        )
        for z in [*style.RESERVE_ZONES, *sorted(set(zone) - set(style.RESERVE_ZONES))]:
            sub = pa[zone == z]
            if not len(sub):
                continue
            zh, en, color, ls, lw = style.RESERVE_ZONES.get(z, style.RESERVE_OTHER)
            el.plot_lines(ax, sub.geometry, color, linewidth=lw, linestyle=ls, zorder=4)
            entries.append(
                el.LegendEntry(f"{zh} {en}", color, "line", linestyle=ls, linewidth=lw + 0.2)
            )
    for layer, (zh, en, color, ls, lw) in style.CONTEXT_LAYERS.items():
        gdf = ctx.context.get(layer)
        if gdf is None or not len(gdf):
            continue
        gdf = visible(gdf)
        if not len(gdf):
            continue
        el.plot_lines(ax, gdf.geometry, color, linewidth=lw, linestyle=ls, zorder=4)
        entries.append(
            el.LegendEntry(f"{zh} {en}", color, "line", linestyle=ls, linewidth=lw + 0.2)
        )
    return entries


def draw_parcel_labels(
    ax, gdf, fontsize: float = style.LABEL_SIZE, only_if_legible: bool = False
) -> int:
    """Parcel ids beside each parcel's representative point (white halo). With
    `only_if_legible`, a label is placed only where it overlaps no label placed before (larger
    parcels first; label boxes estimated from the font size). Returns how many were drawn."""
    from matplotlib import patheffects

    if gdf is None or not len(gdf) or "parcel_id" not in gdf.columns:
        return 0
    halo = [patheffects.withStroke(linewidth=1.2, foreground="white")]
    pts = gdf.geometry.representative_point()
    ids = gdf["parcel_id"].astype(str).to_numpy()
    order = np.arange(len(gdf))
    if only_if_legible:
        area = (
            pd.to_numeric(gdf.get("area_ha", pd.Series(0.0, index=gdf.index)), errors="coerce")
            .fillna(0.0)
            .to_numpy()
        )
        order = np.lexsort((order, -area))
    ax.apply_aspect()
    xy = ax.transData.transform(np.column_stack([pts.x.to_numpy(), pts.y.to_numpy()]))
    bbox = ax.get_window_extent()
    px = ax.figure.dpi / 72.0
    h = fontsize * px * 1.25
    placed: list[tuple[float, float, float, float]] = []
    cell = max(h * 4, 1.0)
    grid: dict[tuple[int, int], list[int]] = {}
    n = 0
    for i in order:
        x0, y0 = xy[i][0] + 2.5 * px, xy[i][1] + 2.5 * px
        box_ = (x0, y0, x0 + len(ids[i]) * fontsize * px * 0.58, y0 + h)
        if not (bbox.x0 <= xy[i][0] <= bbox.x1 and bbox.y0 <= xy[i][1] <= bbox.y1):
            continue
        if only_if_legible:
            keys = [
                (gx, gy)
                for gx in range(int(box_[0] // cell), int(box_[2] // cell) + 1)
                for gy in range(int(box_[1] // cell), int(box_[3] // cell) + 1)
            ]
            clash = any(
                not (b[2] < box_[0] or b[0] > box_[2] or b[3] < box_[1] or b[1] > box_[3])
                for k in keys
                for b in (placed[j] for j in grid.get(k, ()))
            )
            if clash:
                continue
            for k in keys:
                grid.setdefault(k, []).append(len(placed))
            placed.append(box_)
        ax.annotate(
            ids[i],
            (pts.iloc[i].x, pts.iloc[i].y),
            xytext=(2.5, 2.5),
            textcoords="offset points",
            fontsize=fontsize,
            color="#111111",
            zorder=8,
            path_effects=halo,
            annotation_clip=True,
        )
        n += 1
    return n


def detail_groups(gdf, max_parcels: int = style.DETAIL_MAX_PARCELS) -> list[np.ndarray]:
    """Positions (iloc) of compact groups of at most max_parcels parcels: the set is cut at the
    median of its longer side until every group is small enough (deterministic)."""
    pts = gdf.geometry.representative_point()
    xy = np.column_stack([pts.x.to_numpy(), pts.y.to_numpy()])
    out: list[np.ndarray] = []

    def split(ix: np.ndarray):
        if len(ix) <= max_parcels:
            out.append(ix)
            return
        sub = xy[ix]
        axis = 0 if np.ptp(sub[:, 0]) >= np.ptp(sub[:, 1]) else 1
        order = ix[np.lexsort((ix, sub[:, axis]))]
        half = len(order) // 2
        split(np.sort(order[:half]))
        split(np.sort(order[half:]))

    split(np.arange(len(gdf)))
    return out


def county_english(ctx: MapContext, adcode: str) -> str:
    """'Yanchi County (640323)' from the county-names table, else the code."""
    en = ctx.county_en.get(str(adcode))
    return f"{en} ({adcode})" if en else f"county {adcode}"


def overview_figure(pathway: str, gdf, ctx: MapContext) -> Sheet:
    zh, en = pathway_names(pathway)
    bounds = _region_bounds(ctx, None, extra=gdf)
    sheet = new_sheet(
        padded(bounds),
        f"{ctx.region_zh}{zh}候选地块分布图（{ctx.year}年）",
        f"Candidate parcels: {en}, {ctx.region_en}, {ctx.year}",
    )
    draw_hillshade(sheet.ax, ctx)
    ref = draw_reference(sheet.ax, ctx, labels=True)
    ref = draw_context(sheet.ax, ctx) + ref
    draw_candidates(sheet.ax, gdf, markers=True, marker_size=10.0)
    entries = candidate_legend_entries(gdf, ctx.target_names)
    finish_sheet(
        sheet,
        entries + ref,
        "推荐用途（地块数，面积 ha）Recommended use (parcels, area ha)",
        ctx,
        extra_notes=["底图：DEM 山体阴影 hillshade；圆点标示地块位置 dots locate parcels"],
    )
    return sheet


def pathway_names(pathway: str) -> tuple[str, str]:
    from ..fields import PATHWAY_VALUES

    return (
        style.PATHWAYS.get(pathway)
        or PATHWAY_VALUES.get(pathway)
        or (pathway, pathway.replace("_", " ").capitalize())
    )


def _pathway_entries(gdf) -> list[el.LegendEntry]:
    out: list[el.LegendEntry] = []
    if "pathway" not in gdf.columns:
        return out
    pw_all = gdf["pathway"].astype(str)
    for pw in [*style.PATHWAYS, *sorted(set(pw_all) - set(style.PATHWAYS))]:
        n = int((pw_all == pw).sum())
        if n:
            zh, en = pathway_names(pw)
            out.append(
                el.LegendEntry(
                    f"{zh} {en}（{n}）",
                    "#ffffff",
                    "marker",
                    marker=style.PATHWAY_MARKERS.get(pw, "o"),
                    edgecolor="#222222",
                )
            )
    return out


def county_figure(adcode: str, name: str, gdf, ctx: MapContext) -> Sheet:
    bounds = None
    if ctx.counties is not None and "id" in ctx.counties.columns:
        sel = ctx.counties[ctx.counties["id"].astype(str) == str(adcode)]
        if len(sel):
            bounds = tuple(sel.total_bounds)
    if bounds is None:
        bounds = tuple(gdf.total_bounds)
    view = padded(bounds, 0.06)
    sheet = new_sheet(
        view,
        f"{name}生态修复候选地块图（{ctx.year}年）",
        f"Restoration candidate parcels, {county_english(ctx, adcode)}, {ctx.year}",
    )
    draw_hillshade(sheet.ax, ctx, bounds=view)
    ref = draw_reference(sheet.ax, ctx, labels=True, highlight=str(adcode), fontsize=7.5)
    ref = draw_context(sheet.ax, ctx, view) + ref
    draw_candidates(sheet.ax, gdf, markers=True, marker_size=14.0, by_pathway=True)
    notes = [f"县（区）代码 County code: {adcode}"]
    n = draw_parcel_labels(sheet.ax, gdf, only_if_legible=True)
    if n == len(gdf):
        notes.append("图上注记为地块编号 labels are parcel ids (parcel_id)")
    else:
        notes.append(
            f"注记地块编号 {n}/{len(gdf)} 块（图面可读者）；其余见分幅详图 detail_{adcode}_* "
            f"parcel ids where legible ({n} of {len(gdf)}), all on the detail sheets"
        )
    entries = candidate_legend_entries(gdf, ctx.target_names) + _pathway_entries(gdf)
    finish_sheet(
        sheet,
        entries + ref,
        "推荐用途与路径 Recommended use and pathway (parcels, ha)",
        ctx,
        extra_notes=notes,
    )
    return sheet


def detail_figure(
    adcode: str, name: str, pathway: str, k: int, n: int, group, others, ctx: MapContext
) -> Sheet:
    """A larger-scale sheet of one group of a county's parcels of one pathway, ids labelled
    (other parcels in view drawn, unlabelled)."""
    zh, en = pathway_names(pathway)
    view = padded(tuple(group.total_bounds), 0.08)
    w, h = view[2] - view[0], view[3] - view[1]
    side = max(w, h, 2000.0)  # at least 2 km across
    cx, cy = (view[0] + view[2]) / 2, (view[1] + view[3]) / 2
    if w < side and h < side:
        view = (cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)
    sheet = new_sheet(
        view,
        f"{name}{zh}候选地块分幅详图（{k}/{n}）（{ctx.year}年）",
        f"Candidate parcels: {en}, {county_english(ctx, adcode)}, sheet {k} of {n}, {ctx.year}",
    )
    draw_hillshade(sheet.ax, ctx, bounds=view)
    ref = draw_reference(
        sheet.ax, _without_rivers(ctx), labels=True, highlight=str(adcode), fontsize=7.5
    )
    ref = draw_context(sheet.ax, ctx, view) + ref
    if others is not None and len(others):
        from shapely.geometry import box as _box

        near = others.iloc[others.sindex.query(_box(*view), predicate="intersects")]
        draw_candidates(sheet.ax, near, markers=False)
    draw_candidates(sheet.ax, group, markers=False)
    draw_parcel_labels(sheet.ax, group, fontsize=style.LABEL_SIZE + 1.0)
    entries = candidate_legend_entries(group, ctx.target_names)
    finish_sheet(
        sheet,
        entries + ref,
        "推荐用途（本幅地块数，面积 ha）Recommended use (parcels of this sheet, ha)",
        ctx,
        extra_notes=[
            (f"县（区）代码 County code: {adcode}；图上注记为地块编号 labels are parcel ids"),
            f"本幅 {len(group)} 块 parcels on this sheet",
        ],
    )
    return sheet


# ---------------------------------------------------------------------------------------------
# the year


def _region_bounds(ctx: MapContext, raster: mdata.MapRaster | None, extra=None):
    if ctx.counties is not None and len(ctx.counties):
        b = list(ctx.counties.total_bounds)
    elif raster is not None:
        b = list(raster.bounds)
    elif extra is not None and len(extra):
        b = list(extra.total_bounds)
    else:
        raise ValueError("nothing to map: no counties, raster or parcels")
    return tuple(b)


def _to_crs(gdf, crs: str):
    """A layer in the map CRS (reprojected when stored in another one)."""
    if gdf is None or gdf.crs is None:
        return gdf
    from pyproj import CRS

    return gdf if CRS.from_user_input(gdf.crs) == CRS.from_user_input(crs) else gdf.to_crs(crs)


def _without_rivers(ctx: MapContext) -> MapContext:
    from dataclasses import replace

    return replace(ctx, rivers=None)


def _target_names(config: Mapping) -> dict[str, tuple[str, str]]:
    targets = (config.get("suitability") or {}).get("targets") or {}
    out = {}
    for k, v in targets.items():
        if isinstance(v, Mapping) and v.get("name_zh"):
            out[str(k)] = (str(v["name_zh"]), str(v.get("name_en", k)))
    return out


def _reach_dirs(year_dir: Path, reaches: Sequence[str] | None) -> list[Path]:
    root = year_dir / "reaches"
    if reaches:
        return [root / r for r in reaches if (root / r).is_dir()]
    return sorted(p for p in root.glob("*") if p.is_dir()) if root.is_dir() else []


def _grade_targets(reach_dirs: Sequence[Path], order: Sequence[str]) -> list[str]:
    found: set[str] = set()
    for d in reach_dirs:
        for p in (d / "suitability").glob("suit_*_grade.tif"):
            found.add(p.name[len("suit_") : -len("_grade.tif")])
    return [t for t in order if t in found] + sorted(found - set(order))


def read_county_names(path) -> dict[str, str]:
    """adcode -> English name ('Yanchi County') of the county-names table (adcode, name_zh,
    name_pinyin, name_en; config/tables/county_names.csv); {} without a table."""
    if path is None:
        return {}
    if isinstance(path, pd.DataFrame):
        df = path
    else:
        if not Path(path).is_file():
            return {}
        df = pd.read_csv(path, encoding="utf-8-sig", dtype={"adcode": str})
    col = "name_en" if "name_en" in df.columns else "name_pinyin"
    return {str(a): str(n) for a, n in zip(df["adcode"], df[col]) if isinstance(n, str) and n}


def configured_pathways(config: Mapping) -> list[str]:
    """The pathways of config `pathways:` (its entries that configure a candidate layer)."""
    from ..candidates.parcels import PATHWAYS

    conf = config.get("pathways")
    if isinstance(conf, Mapping):
        return [str(k) for k, v in conf.items() if isinstance(v, Mapping) and k in PATHWAYS]
    return [str(k) for k in conf or []]


def map_inputs(results_dir: str | Path, year, config: Mapping) -> dict:
    """The files the maps of `year` read, at their places under a results folder
    (nxgeo.layout), for a results tree outside the workflow (the maps rule declares the same
    files and gives them to `maps_year` itself): vectors, grid, dem, candidates, landuse (the
    grid raster, else the reaches'), best_use (per reach), best_use_legend and grades ({target:
    per-reach paths}). Reach rasters that do not exist are left out."""
    lay = Layout(results_dir)
    year_dir = Path(lay.year("", year))
    reach_dirs = _reach_dirs(year_dir, config.get("reaches"))
    order = list((config.get("suitability") or {}).get("best_use_order") or [])
    best = [p for p in (d / "suitability" / "best_use.tif" for d in reach_dirs) if p.is_file()]
    grades = {
        t: [
            p
            for p in (d / "suitability" / f"suit_{t}_grade.tif" for d in reach_dirs)
            if p.is_file()
        ]
        for t in _grade_targets(reach_dirs, order)
    }
    lu = Path(lay.grid("landuse", year))
    return {
        "vectors": lay.vectors(),
        "grid": lay.grid_json(),
        "dem": lay.common_grid("dem"),
        "candidates": lay.candidates(year),
        "landuse": [lu]
        if lu.is_file()
        else [d / "landuse.tif" for d in reach_dirs if (d / "landuse.tif").is_file()],
        "best_use": best,
        "best_use_legend": best[0].parent / "best_use_legend.csv" if best else None,
        "grades": grades,
        "root": results_dir,
    }


def build_context(
    year,
    results_dir: str | Path | Mapping,
    config: Mapping,
    made_on: str | None = None,
    max_px: int = mdata.MAX_PX,
    county_names=None,
) -> MapContext:
    """`results_dir`: the files the maps read (`map_inputs`; vectors, grid and dem are used
    here) or a results folder holding them."""
    files = (
        results_dir if isinstance(results_dir, Mapping) else map_inputs(results_dir, year, config)
    )
    gpkg = Path(files["vectors"])
    maps_cfg = dict(config.get("maps") or {})
    max_px = int(maps_cfg.get("max_px", max_px))
    crs = str(config["grid"]["crs"])
    el.check_metric_crs(crs)
    # simplify vector outlines to about half a map pixel (keeps PDFs small at 30 m)
    grid_json = Path(files["grid"])
    tol = None
    if grid_json.is_file():
        g = json.loads(grid_json.read_text(encoding="utf-8"))
        b = g.get("bounds")
        if b:
            tol = max(b[2] - b[0], b[3] - b[1]) / (2.0 * max_px)
    ctx = MapContext(
        year=year,
        region_name=str(config["region_name"]),
        crs=crs,
        made_on=str(made_on or maps_cfg.get("made_on") or default_made_on()),
        max_px=max_px,
        counties=_to_crs(mdata.read_layer(gpkg, "counties", tol), crs),
        reaches=_to_crs(mdata.read_layer(gpkg, "reaches", tol), crs),
        rivers=_to_crs(mdata.read_layer(gpkg, "rivers", tol), crs),
        dem_path=Path(files["dem"]),
        target_names=_target_names(config),
        context={
            k: _to_crs(v, crs)
            for k, v in mdata.read_context(
                gpkg, ["protected_areas", *style.CONTEXT_LAYERS], tol
            ).items()
        },
        pathways=configured_pathways(config),
    )
    ctx.county_en = read_county_names(county_names)
    if not ctx.county_en and ctx.counties is not None and "name_en" in ctx.counties.columns:
        ctx.county_en = dict(
            zip(ctx.counties["id"].astype(str), ctx.counties["name_en"].astype(str))
        )
    return ctx


# (jobs, out_dir, dpi) of the running maps_year (read by forked workers)
_JOBS: tuple[list[tuple[str, Callable[[], Sheet]]], Path, int] | None = None


def _make_sheet(i: int) -> tuple[dict, list[Path]]:
    assert _JOBS is not None, "maps_year sets _JOBS before it makes any sheet"
    jobs, out_dir, dpi = _JOBS
    name, make = jobs[i]
    sheet = make()
    files = save_figure(
        sheet.fig, out_dir / name, dpi=dpi, title=f"{sheet.title_zh} / {sheet.title_en}"
    )
    entry = {
        "name": name,
        "title_zh": sheet.title_zh,
        "title_en": sheet.title_en,
        "png": files[0].name,
        "pdf": files[1].name,
    }
    sheet.fig.clear()
    return entry, files


def maps_year(
    year,
    results_dir: str | Path,
    classes_table,
    config_subset: Mapping,
    out_dir: str | Path,
    *,
    made_on: str | None = None,
    max_px: int = mdata.MAX_PX,
    county_names=None,
    workers: int = 1,
) -> list[Path]:
    """Every map of one survey year into `out_dir` (PNG 300 dpi + PDF); returns the files.

    `results_dir`: the files the maps read ({name: path}, `map_inputs`; the maps rule gives
    exactly the files it declares), or the results root holding them at their places
    (``common/`` and ``{year}/``; found by `map_inputs`). `config_subset`
    needs only: region_name, grid.crs, reaches, suitability.targets (names) and
    suitability.best_use_order (both optional), pathways (the configured ones get an overview,
    in config order); an optional ``maps:`` mapping may set max_px and made_on. Layers that do
    not exist yet are skipped with a note in ``maps/index.json``. `county_names` is the
    county-names table (English names in the subtitles).

    A county sheet labels parcel ids where they are legible; a county with more than
    `style.LABEL_MAX_PARCELS` parcels also gets ``detail_{adcode}_{pathway}_{k}`` sheets
    (`detail_groups`). `workers` > 1 draws sheets in that many forked processes (same files).
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    files = (
        dict(results_dir)
        if isinstance(results_dir, Mapping)
        else map_inputs(results_dir, year, config_subset)
    )
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ctx = build_context(
        year, files, config_subset, made_on=made_on, max_px=max_px, county_names=county_names
    )
    order = list(config_subset["suitability"]["best_use_order"])

    jobs: list[tuple[str, Callable[[], Sheet]]] = []  # (name, makes the sheet)
    skipped: list[dict] = []

    cand_path = Path(files["candidates"])
    cands = {pw: _to_crs(g, ctx.crs) for pw, g in mdata.read_candidates(cand_path).items()}
    if not cands:
        shown = cand_path.relative_to(files["root"]) if files.get("root") else cand_path
        skipped.append(
            {
                "map": "overview_*, county_*",
                "reason": f"{shown} not found (candidates not made yet)",
            }
        )
    order = ctx.pathways + [p for p in cands if p not in ctx.pathways]
    for pw in order:
        gdf = cands.get(pw)
        if gdf is None:
            if cands:
                skipped.append(
                    {"map": f"overview_{pw}", "reason": f"layer {pw} not in candidates.gpkg"}
                )
            continue
        if not len(gdf):
            skipped.append({"map": f"overview_{pw}", "reason": f"layer {pw} has no parcels"})
            continue
        jobs.append((f"overview_{pw}", functools.partial(overview_figure, pw, gdf, ctx)))
    if cands:
        import geopandas as gpd

        allc = gpd.GeoDataFrame(
            pd.concat([g for g in cands.values() if len(g)], ignore_index=True),
            crs=next(iter(cands.values())).crs,
        )
        if len(allc) and "adcode" in allc.columns:
            allc["adcode"] = allc["adcode"].astype(str)
            allc = allc[~allc["adcode"].isin(["", "nan", "None", "<NA>"])]
            for adcode, sub in allc.groupby("adcode", sort=True):
                name = str(sub["county_name"].iloc[0]) if "county_name" in sub.columns else adcode
                jobs.append(
                    (
                        f"county_{adcode}",
                        functools.partial(county_figure, adcode, name, sub, ctx),
                    )
                )
                if len(sub) <= style.LABEL_MAX_PARCELS or "pathway" not in sub.columns:
                    continue
                for pw in [p for p in order if (sub["pathway"].astype(str) == p).any()]:
                    sel = sub["pathway"].astype(str) == pw
                    if int(sel.sum()) < style.DETAIL_MIN_PARCELS:
                        continue  # few (larger) parcels: labelled on the county sheet first
                    part = sub[sel].reset_index(drop=True)
                    rest = sub[~sel].reset_index(drop=True)
                    groups = detail_groups(part, style.DETAIL_MAX_PARCELS)
                    n = len(groups)
                    for k, ix in enumerate(groups[: style.DETAIL_MAX_SHEETS], start=1):
                        others = pd.concat([rest, part.drop(index=part.index[ix])])
                        others = gpd.GeoDataFrame(others, crs=sub.crs)
                        jobs.append(
                            (
                                f"detail_{adcode}_{pw}_{k}",
                                functools.partial(
                                    detail_figure,
                                    adcode,
                                    name,
                                    pw,
                                    k,
                                    n,
                                    part.iloc[ix],
                                    others,
                                    ctx,
                                ),
                            )
                        )
                    if n > style.DETAIL_MAX_SHEETS:
                        left = sum(len(ix) for ix in groups[style.DETAIL_MAX_SHEETS :])
                        first, more = style.DETAIL_MAX_SHEETS + 1, n - style.DETAIL_MAX_SHEETS
                        skipped.append(
                            {
                                "map": f"detail_{adcode}_{pw}_{first}"
                                + (f"…{n}" if more > 1 else ""),
                                "reason": (
                                    f"{left} parcels of {more} more detail sheet(s) not drawn "
                                    "(maps.style.DETAIL_MAX_SHEETS); see candidates.gpkg"
                                ),
                            }
                        )

    best = [Path(p) for p in files["best_use"] if Path(p).is_file()]
    if best:
        legend_csv = Path(files["best_use_legend"])
        jobs.append(("best_use", lambda: best_use_figure(best, legend_csv, ctx)))
    else:
        skipped.append({"map": "best_use", "reason": "no reaches/*/suitability/best_use.tif"})
    grades = {t: [Path(p) for p in ps if Path(p).is_file()] for t, ps in files["grades"].items()}
    grades = {t: ps for t, ps in grades.items() if ps}
    for target in [t for t in order if t in grades] + sorted(set(grades) - set(order)):
        paths = grades[target]
        jobs.append((f"suitability_{target}", functools.partial(grade_figure, paths, target, ctx)))

    lu_paths = [Path(p) for p in files["landuse"]]
    if lu_paths:
        jobs.append(("landuse", lambda: landuse_figure(lu_paths, classes_table, ctx)))
    else:
        skipped.append({"map": "landuse", "reason": "no grid/landuse.tif"})

    written: list[Path] = []
    index = []
    global _JOBS
    _JOBS = (jobs, out_dir, ctx.dpi)
    try:
        if workers > 1 and len(jobs) > 1 and "fork" in mp.get_all_start_methods():
            # sheets are independent: forked workers inherit the jobs (closures over the
            # year's data); results come back in job order, so the files do not depend on it
            with mp.get_context("fork").Pool(min(workers, len(jobs))) as pool:
                done = list(
                    progress(
                        pool.imap(_make_sheet, range(len(jobs))),
                        desc=f"maps {year}",
                        total=len(jobs),
                    )
                )
        else:
            done = [
                _make_sheet(i)
                for i in progress(range(len(jobs)), desc=f"maps {year}", total=len(jobs))
            ]
    finally:
        _JOBS = None
    for entry, sheet_files in done:
        written.extend(sheet_files)
        index.append(entry)
    for s in skipped:
        log.info("map skipped: %s (%s)", s["map"], s["reason"])
    idx_path = out_dir / "index.json"
    write_text(
        idx_path,
        json.dumps(
            {"year": str(year), "made_on": ctx.made_on, "maps": index, "skipped": skipped},
            ensure_ascii=False,
            indent=2,
        )
        + "\n",
    )
    written.append(idx_path)
    return written
