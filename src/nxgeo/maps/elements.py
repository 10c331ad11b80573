"""Map furniture: scale bar, north arrow, legend, notes (CRS, data sources, dates).

Every function draws onto a given matplotlib Axes or Figure and returns what it drew, so tests
can inspect it (e.g. the legend texts).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Polygon, Rectangle
from matplotlib.transforms import blended_transform_factory

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.typing import LineStyleType


@dataclass(frozen=True)
class LegendEntry:
    """One legend row: a filled box (kind 'patch'), a line ('line') or a marker ('marker')."""

    label: str
    color: str
    kind: str = "patch"
    hatch: str | None = None
    edgecolor: str = "#666666"
    linestyle: LineStyleType = "-"
    linewidth: float = 1.0
    marker: str = "o"


def legend_handles(entries: Sequence[LegendEntry]) -> list[Artist]:
    handles: list[Artist] = []
    for e in entries:
        if e.kind == "line":
            handles.append(
                Line2D(
                    [],
                    [],
                    color=e.color,
                    linestyle=e.linestyle,
                    linewidth=e.linewidth,
                    label=e.label,
                )
            )
        elif e.kind == "marker":
            handles.append(
                Line2D(
                    [],
                    [],
                    color="none",
                    marker=e.marker,
                    markersize=5,
                    markerfacecolor=e.color,
                    markeredgecolor=e.edgecolor,
                    markeredgewidth=0.5,
                    label=e.label,
                )
            )
        else:
            handles.append(
                Patch(
                    facecolor=e.color,
                    edgecolor=e.edgecolor,
                    hatch=e.hatch,
                    linewidth=0.5,
                    label=e.label,
                )
            )
    return handles


def add_legend(
    ax,
    entries: Sequence[LegendEntry],
    title: str | None = None,
    loc: str = "upper left",
    ncol: int | None = None,
    fontsize: float = 7.5,
    bbox_to_anchor=(0.0, 1.0),
):
    """A legend on an (empty, axis-off) Axes; returns the matplotlib Legend."""
    handles = legend_handles(entries)
    if ncol is None:
        ncol = 1 if len(handles) <= 7 else 2
    leg = ax.legend(
        handles=handles,
        title=title,
        loc=loc,
        ncol=ncol,
        fontsize=fontsize,
        title_fontsize=fontsize + 0.5,
        frameon=False,
        borderaxespad=0.0,
        handlelength=1.8,
        handleheight=1.0,
        columnspacing=1.2,
        bbox_to_anchor=bbox_to_anchor,
        alignment="left",
    )
    return leg


def nice_length(target: float) -> float:
    """The 1-2-5 number nearest below `target` (> 0)."""
    if target <= 0:
        raise ValueError("scale bar length must be positive")
    exp = math.floor(math.log10(target))
    base = target / 10**exp
    step = 5 if base >= 5 else 2 if base >= 2 else 1
    return step * 10**exp


def check_metric_crs(crs) -> str:
    """Name of a projected CRS in metres; ValueError otherwise (a scale bar needs metres)."""
    from pyproj import CRS

    c = CRS.from_user_input(crs)
    if not c.is_projected:
        raise ValueError(f"{c.name}: the map CRS must be projected (metres) for a scale bar")
    unit = c.axis_info[0].unit_name if c.axis_info else ""
    if unit not in ("metre", "meter"):
        raise ValueError(f"{c.name}: map units are {unit!r}, not metres")
    return c.name


def map_scale_denominator(ax) -> float:
    """N of 1:N for the axes as drawn on paper (metres per metre)."""
    x0, x1 = ax.get_xlim()
    fig = ax.figure
    bbox = ax.get_window_extent().transformed(fig.dpi_scale_trans.inverted())
    return abs(x1 - x0) / (bbox.width * 0.0254)


def round_scale(n: float) -> int:
    """1:1,734,512 -> 1:1,730,000 (3 significant digits)."""
    if n <= 0:
        return 0
    digits = max(0, math.floor(math.log10(n)) - 2)
    return int(round(n / 10**digits) * 10**digits)


def add_scale_bar(
    ax,
    fraction: float = 0.25,
    x: float = 0.05,
    y: float = 0.04,
    height: float = 0.008,
    fontsize: float = 7.0,
    segments: int = 4,
    show_ratio: bool = True,
) -> dict:
    """Alternating black/white scale bar in km at axes position (x, y) in data metres.

    The axes must show a projected CRS in metres with aspect 'equal' (EPSG:4507 is: Gauss-
    Kruger, scale factor 1 on the central meridian, < 0.05 % off across Ningxia).
    Call after the axes limits and layout are final. Returns {"length_km", "scale"}.
    """
    x0, x1 = ax.get_xlim()
    width_m = abs(x1 - x0)
    length_m = nice_length(width_m * fraction)
    trans = blended_transform_factory(ax.transData, ax.transAxes)
    start = x0 + (x1 - x0) * x
    seg = length_m / segments
    bg = Rectangle(
        (start - width_m * 0.012, y - 0.012),
        length_m + width_m * 0.05,
        0.058,
        transform=trans,
        facecolor="white",
        edgecolor="none",
        alpha=0.75,
        zorder=20,
    )
    ax.add_patch(bg)
    for i in range(segments):
        ax.add_patch(
            Rectangle(
                (start + i * seg, y),
                seg,
                height,
                transform=trans,
                facecolor="black" if i % 2 == 0 else "white",
                edgecolor="black",
                linewidth=0.6,
                zorder=21,
            )
        )

    def km(v: float) -> str:
        v = v / 1000.0
        return f"{v:g}"

    for i, label in (
        (0, "0"),
        (segments // 2, km(seg * (segments // 2))),
        (segments, km(length_m)),
    ):
        ax.text(
            start + i * seg,
            y + height + 0.006,
            label,
            transform=trans,
            ha="center",
            va="bottom",
            fontsize=fontsize,
            zorder=22,
        )
    ax.text(
        start + length_m + width_m * 0.012,
        y + height / 2,
        "km",
        transform=trans,
        ha="left",
        va="center",
        fontsize=fontsize,
        zorder=22,
    )
    scale = round_scale(map_scale_denominator(ax))
    if show_ratio:
        ax.text(
            start,
            y + height + 0.026,
            f"比例尺 Scale 1:{scale:,}",
            transform=trans,
            ha="left",
            va="bottom",
            fontsize=fontsize - 0.5,
            zorder=22,
        )
    return {"length_km": length_m / 1000.0, "scale": scale}


def add_north_arrow(
    ax, x: float = 0.93, y: float = 0.90, size_pt: float = 28.0, fontsize: float = 9.0
):
    """A two-tone north arrow (grid north) at axes fraction (x, y); size in points."""
    from matplotlib.offsetbox import AnchoredOffsetbox, DrawingArea, TextArea, VPacker

    w, h = size_pt * 0.55, size_pt
    da = DrawingArea(w, h, 0, 0)
    da.add_artist(
        Polygon(
            [(w / 2, h), (0, 0), (w / 2, h * 0.3)],
            closed=True,
            facecolor="black",
            edgecolor="black",
            linewidth=0.6,
        )
    )
    da.add_artist(
        Polygon(
            [(w / 2, h), (w, 0), (w / 2, h * 0.3)],
            closed=True,
            facecolor="white",
            edgecolor="black",
            linewidth=0.6,
        )
    )
    label = TextArea("北 N", textprops={"fontsize": fontsize, "ha": "center"})
    box = VPacker(children=[label, da], align="center", pad=0, sep=2)
    anchored = AnchoredOffsetbox(
        loc="center",
        child=box,
        frameon=True,
        pad=0.3,
        borderpad=0,
        bbox_to_anchor=(x, y),
        bbox_transform=ax.transAxes,
    )
    anchored.patch.set_facecolor("white")
    anchored.patch.set_alpha(0.75)
    anchored.patch.set_edgecolor("none")
    anchored.set_zorder(22)
    ax.add_artist(anchored)
    return anchored


def crs_note(crs) -> str:
    """'CGCS2000 / Gauss-Kruger CM 105E (EPSG:4507)' from any CRS the map uses."""
    from pyproj import CRS

    c = CRS.from_user_input(crs)
    epsg = c.to_epsg()
    return f"{c.name} (EPSG:{epsg})" if epsg else c.name


def note_lines(
    *, crs, region_name: str, version: str, year, made_on: str, extra: Sequence[str] = ()
) -> list[str]:
    """The standard notes of every sheet (bilingual)."""
    lines = [
        f"坐标系 CRS: {crs_note(crs)}；高斯-克吕格投影，坐标北 grid north",
        f"数据来源 Data: {region_name}; nxgeo {version}",
        f"调查年份 Survey year: {year}",
        f"制图日期 Map made: {made_on}",
    ]
    lines.extend(extra)
    return lines


def display_width(text: str) -> int:
    """Columns a string takes: CJK and full-width characters count 2."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def wrap_mixed(text: str, width: int, indent: str = "  ") -> list[str]:
    """Wrap mixed Chinese/Latin text to `width` columns; break at spaces when possible, else
    between CJK characters (matplotlib's own wrap does not break Chinese)."""
    lines: list[str] = []
    rest = text
    while display_width(rest) > width:
        cols, cut, last_space = 0, len(rest), -1
        for i, ch in enumerate(rest):
            cols += display_width(ch)
            if ch == " ":
                last_space = i
            if cols > width:
                cut = i
                break
        # prefer a space in the last third of the line, else cut before the overflowing char
        if last_space > cut * 2 // 3:
            cut = last_space
        lines.append(rest[:cut].rstrip())
        rest = indent + rest[cut:].lstrip()
    lines.append(rest)
    return lines


def add_notes(ax, lines: Sequence[str], fontsize: float = 6.8, width: int = 52):
    """Notes as a left-aligned text block at the top-left of an axis-off Axes, each line
    wrapped to `width` columns."""
    wrapped = [w for line in lines for w in wrap_mixed(line, width)]
    return ax.text(
        0.0,
        1.0,
        "\n".join(wrapped),
        transform=ax.transAxes,
        ha="left",
        va="top",
        fontsize=fontsize,
        linespacing=1.4,
    )


# ---------------------------------------------------------------------------------------------
# vector geometries as matplotlib collections (faster than GeoDataFrame.plot, and it never
# triggers a redraw of the figure)


def _polygons(geom):
    if geom is None or geom.is_empty:
        return []
    kind = geom.geom_type
    if kind == "Polygon":
        return [geom]
    if kind in ("MultiPolygon", "GeometryCollection"):
        return [p for g in geom.geoms for p in _polygons(g)]
    return []


def _lines(geom):
    if geom is None or geom.is_empty:
        return []
    kind = geom.geom_type
    if kind in ("LineString", "LinearRing"):
        return [geom]
    if kind == "Polygon":
        return [geom.exterior, *geom.interiors]
    if kind in ("MultiLineString", "MultiPolygon", "GeometryCollection"):
        return [ln for g in geom.geoms for ln in _lines(g)]
    return []


def polygon_paths(geoms) -> list:
    """One matplotlib Path per polygon (holes as counter-oriented sub-paths)."""
    import numpy as np
    from matplotlib.path import Path
    from shapely.geometry.polygon import orient

    paths = []
    for geom in geoms:
        for poly in _polygons(geom):
            poly = orient(poly, 1.0)
            rings = [poly.exterior, *poly.interiors]
            parts = [
                Path(np.asarray(r.coords)[:, :2], closed=True) for r in rings if len(r.coords) >= 3
            ]
            if parts:
                paths.append(Path.make_compound_path(*parts))
    return paths


def plot_polygons(
    ax, geoms, facecolor, edgecolor="none", linewidth=0.3, hatch=None, zorder=5, alpha=None
):
    from matplotlib.collections import PathCollection

    paths = polygon_paths(geoms)
    if not paths:
        return None
    coll = PathCollection(
        paths,
        facecolors=facecolor,
        edgecolors=edgecolor,
        linewidths=linewidth,
        hatch=hatch,
        zorder=zorder,
        alpha=alpha,
    )
    coll.set_transform(ax.transData)
    ax.add_collection(coll, autolim=False)
    return coll


def plot_lines(ax, geoms, color, linewidth=0.5, linestyle="-", zorder=3):
    """Lines, or the boundaries of polygons."""
    import numpy as np
    from matplotlib.collections import LineCollection

    segs = [np.asarray(ln.coords)[:, :2] for g in geoms for ln in _lines(g)]
    if not segs:
        return None
    coll = LineCollection(
        segs,
        colors=color,
        linewidths=linewidth,
        linestyles=linestyle,
        zorder=zorder,
        capstyle="round",
        joinstyle="round",
    )
    ax.add_collection(coll, autolim=False)
    return coll
