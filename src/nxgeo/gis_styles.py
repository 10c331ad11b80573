"""How every raster of a run opens in QGIS (and any GDAL client): classes, colours, ramps (#17).

Categorical rasters (land use, source land-use codes, ownership, best use, suitability grades
and reason bits, zone masks, counties, the change raster) get

- ``<raster>.tif.aux.xml`` (GDAL PAM, read by QGIS, ArcGIS and ``gdalinfo``): a colour table
  and the category names (bilingual) — for Byte / UInt16 rasters;
- ``<raster>.qml``: a *paletted* renderer listing exactly the classes present, with the same
  colours and bilingual labels, loaded automatically by QGIS when the raster is opened.

Continuous rasters (scores, DEM, precipitation, slope, distances, services, ...) get a ``.qml``
with a single-band pseudocolour ramp from the 2nd to the 98th percentile of the valid pixels.

Colours have one source: land-use classes the classes table (``config/landuse/classes.csv``,
column ``color``); target uses and suitability grades `nxgeo.maps.style` (the maps use the same);
reason bits and zone masks are defined here (`REASON_COLORS`, `MASK_COLORS`). Excluded (grade 4)
is a grey class, not white; reason 0 (graded, no exclusion) and "unchanged" are transparent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path

import numpy as np
import pandas as pd
import rasterio
from rasterio.windows import Window

from .atomic import write_text

QGIS_VERSION = "3.22.16-Białowieża"

# --- colours defined here (everything else: maps.style / classes table) --------------------
# reason bits: the colour of a combination is that of its first bit in REASON_PRIORITY
REASON_COLORS = {
    "protected_core": "#00441b",
    "ecological_redline": "#b2182b",
    "protected_any": "#41ab5d",
    "basic_farmland": "#fdb863",
    "slope_limit": "#8c510a",
    "precipitation_rule": "#4393c3",
    "buffer": "#9970ab",
    "class_not_convertible": "#878787",
    "nodata": "#d9d9d9",
}
REASON_PRIORITY = (
    "protected_core",
    "ecological_redline",
    "protected_any",
    "basic_farmland",
    "slope_limit",
    "precipitation_rule",
    "buffer",
    "class_not_convertible",
    "nodata",
)
MASK_COLORS = {
    "protected_core": ("#00441b", "自然保护地核心保护区", "Protected-area core zone"),
    "protected_any": ("#41ab5d", "自然保护地", "Protected area"),
    "ecological_redline": ("#b2182b", "生态保护红线", "Ecological red line"),
    "basic_farmland": ("#fdb863", "永久基本农田", "Permanent basic farmland"),
    "water_secured": ("#4393c3", "有保障水源（灌区）", "Secured irrigation water"),
    "planned_construction": ("#d6604d", "规划建设用地", "Planned construction"),
}
OWNERSHIP = {
    0: ("#d9d9d9", "权属未知", "Ownership unknown", 120),
    1: ("#807dba", "国有", "State-owned", 255),
    2: ("#fdae6b", "集体", "Collective", 255),
}
# official_disagree_*.tif: computed vs the department's official grade (nxgeo.suitability.official)
DISAGREE = {
    0: ("#d9d9d9", "一致", "Agree", 160),
    1: ("#1a9641", "计算优于官方", "Computed better than official", 255),
    2: ("#d7191c", "计算劣于官方", "Computed worse than official", 255),
    3: ("#7b3294", "计算禁止而官方评级", "Computed excluded where official grades", 255),
}
COUNTY_COLORS = (
    "#8dd3c7",
    "#ffffb3",
    "#bebada",
    "#fb8072",
    "#80b1d3",
    "#fdb462",
    "#b3de69",
    "#fccde5",
    "#d9d9d9",
    "#bc80bd",
    "#ccebc5",
    "#ffed6f",
)
RAMPS = {  # ColorBrewer sequential ramps (5 stops)
    "score": ("#ffffcc", "#c2e699", "#78c679", "#31a354", "#006837"),
    "terrain": ("#1a9641", "#a6d96a", "#ffffbf", "#fdae61", "#d7191c"),
    "water": ("#f7fbff", "#c6dbef", "#6baed6", "#2171b5", "#08306b"),
    "dist": ("#fff5eb", "#fdd0a2", "#fd8d3c", "#d94801", "#7f2704"),
    "green": ("#f7fcf5", "#c7e9c0", "#74c476", "#238b45", "#00441b"),
    "soil": ("#fff7ec", "#fdd49e", "#fc8d59", "#d7301f", "#7f0000"),
    "purple": ("#fcfbfd", "#dadaeb", "#9e9ac8", "#6a51a3", "#3f007d"),
    "aspect": ("#d73027", "#fee08b", "#1a9850", "#4575b4", "#d73027"),
}


@dataclass(frozen=True)
class Category:
    value: int
    colour: str
    zh: str
    en: str
    alpha: int = 255

    @property
    def label(self) -> str:
        return f"{self.zh} {self.en}" if self.en and self.en != self.zh else self.zh


@dataclass(frozen=True)
class Ramp:
    vmin: float
    vmax: float
    colours: tuple[str, ...]
    title: str = ""


@dataclass
class StyleContext:
    """What the styles need besides the raster: the classes table, the land-use scheme table
    (source codes), county names (adcode -> name)."""

    classes: pd.DataFrame
    scheme: pd.DataFrame | None = None
    county_names: Mapping[str, str] | None = None


# --- which raster is what ------------------------------------------------------------------
MASK_NAMES = tuple(MASK_COLORS)
CONTINUOUS = {  # file stem (or prefix) -> (ramp, title)
    "dem": ("terrain", "高程（米）Elevation (m)"),
    "precipitation": ("water", "年降水量（毫米）Precipitation (mm/yr)"),
    "slope": ("terrain", "坡度（度）Slope (deg)"),
    "aspect": ("aspect", "坡向（度）Aspect (deg)"),
    "ls": ("soil", "坡长坡度因子 LS factor"),
    "distance_water": ("dist", "距水体距离（米）Distance to water (m)"),
    "distance_roads": ("dist", "距道路距离（米）Distance to roads (m)"),
    "distance_settlements": ("dist", "距居民点距离（米）Distance to settlements (m)"),
    "zone_water_quota_modulus": ("water", "用水定额模数 Water-quota modulus"),
    "carbon_stock_t": ("green", "碳储量（吨碳/像元）Carbon stock (t C/px)"),
    "carbon_sequestration_t": ("green", "年固碳量（吨碳/像元）Carbon sequestration (t C/px/yr)"),
    "soil_retention_t": ("soil", "土壤保持（吨/像元）Soil retention (t/px/yr)"),
    "sand_fixation_t": ("soil", "防风固沙（吨/像元）Sand fixation (t/px/yr)"),
    "water_conservation_m3": ("water", "水源涵养（立方米/像元）Water conservation (m3/px/yr)"),
    "flood_regulation_m3": ("water", "洪水调蓄（立方米/像元）Flood regulation (m3/px/yr)"),
    "climate_regulation_kwh": ("purple", "气候调节（千瓦时/像元）Climate regulation (kWh/px/yr)"),
}


def raster_kind(path: str | Path) -> str:
    """landuse | landuse_code | best_use | grade | reason | score | mask | county | change |
    ownership | continuous — from the file name."""
    stem = Path(path).name.removesuffix(".tif").removesuffix(".vrt")
    if stem == "landuse":
        return "landuse"
    if stem == "landuse_code":
        return "landuse_code"
    if stem in ("best_use", "best_use_runner_up"):
        return "best_use"
    if re.fullmatch(r"suit_.+_grade", stem):
        return "grade"
    if re.fullmatch(r"suit_.+_reason", stem):
        return "reason"
    if re.fullmatch(r"suit_.+_score", stem) or stem == "best_use_score":
        return "score"
    if stem == "zone_county":
        return "county"
    if stem.startswith("zone_") and stem[5:] in MASK_NAMES:
        return "mask"
    if stem == "change":
        return "change"
    if stem == "ownership":
        return "ownership"
    if stem.startswith("official_disagree_"):
        return "disagree"
    return "continuous"


CATEGORICAL = (
    "landuse",
    "landuse_code",
    "best_use",
    "grade",
    "reason",
    "mask",
    "county",
    "change",
    "ownership",
    "disagree",
)


# --- reading what a raster holds -------------------------------------------------------------
def _windows(ds, block: int = 1024):
    for r0 in range(0, ds.height, block):
        for c0 in range(0, ds.width, block):
            yield Window(c0, r0, min(block, ds.width - c0), min(block, ds.height - r0))


def distinct_values(a: np.ndarray) -> np.ndarray:
    """`np.unique(a)` of an integer array, by counting when its values span at most 65,536
    (land use, grades, codes: a count per value instead of sorting the block; 1.3 vs 3.3 ms
    on a 1024 x 1024 uint8 block, 1.9 vs 7.3 ms as int32)."""
    a = np.asarray(a).ravel()
    if not a.size or a.dtype.kind not in "iu":
        return np.unique(a)
    lo, hi = int(a.min()), int(a.max())
    if hi - lo >= 1 << 16:
        return np.unique(a)
    shifted = a if lo == 0 and a.dtype.kind == "u" else (a.astype(np.int64) - lo)
    return (np.flatnonzero(np.bincount(shifted, minlength=1)) + lo).astype(a.dtype)


def present_values(paths: Sequence[str | Path]) -> list[int]:
    """The distinct valid values of integer rasters (block-wise; nodata left out)."""
    seen: set[int] = set()
    for p in paths:
        with rasterio.open(p) as ds:
            nd = ds.nodata
            here: set[int] = set()
            for win in _windows(ds):
                here.update(int(v) for v in distinct_values(ds.read(1, window=win)))
            if nd is not None and float(nd).is_integer():
                here.discard(int(nd))
            seen |= here
    return sorted(seen)


def value_range(paths: Sequence[str | Path], max_px: int = 1 << 18) -> tuple[float, float]:
    """(2nd, 98th) percentile of the valid pixels of float rasters (decimated read, from the
    overviews: at most about `max_px` pixels per raster), rounded to 3 significant digits;
    (0, 1) when there is none."""
    vals = []
    for p in paths:
        with rasterio.open(p) as ds:
            f = max(1, int(np.ceil(np.sqrt(ds.width * ds.height / max_px))))
            shape = (max(1, ds.height // f), max(1, ds.width // f))
            a = ds.read(1, out_shape=shape)
            ok = np.isfinite(a)
            if ds.nodata is not None:
                ok &= a != ds.nodata
            vals.append(a[ok])
    v = np.concatenate(vals) if vals else np.array([])
    if not v.size:
        return 0.0, 1.0
    lo, hi = (float(x) for x in np.percentile(v, [2, 98]))
    if hi <= lo:
        hi = lo + 1.0
    return _round3(lo), _round3(hi)


def _round3(x: float) -> float:
    return float(f"{x:.3g}")


# --- classes of each kind ----------------------------------------------------------------------
def _maps_style():
    from .maps import style  # the colours the maps use (one source)

    return style


def landuse_categories(ctx: StyleContext) -> list[Category]:
    return [
        Category(int(r.class_id), str(r.color), str(r.name_zh), str(r.name_en))
        for r in ctx.classes.itertuples()
    ]


def landuse_code_categories(ctx: StyleContext, present: Sequence[int]) -> list[Category]:
    colour = dict(zip(ctx.classes["canonical"], ctx.classes["color"]))
    rows = {}
    if ctx.scheme is not None:
        for r in ctx.scheme.itertuples():
            rows[int(r.code)] = (
                str(getattr(r, "source_code", r.code)),
                str(r.name_zh),
                str(r.name_en),
                colour.get(str(r.canonical), "#9e9e9e"),
            )
    out = []
    for v in present:
        sc, zh, en, col = rows.get(int(v), (str(v), str(v), "unknown code", "#9e9e9e"))
        out.append(Category(int(v), col, f"{sc} {zh}", en))
    return out


def best_use_categories(legend: pd.DataFrame) -> list[Category]:
    st = _maps_style()
    known = tuple(str(t) for t in legend["target"])
    return [
        Category(int(r.code), st.target_color(str(r.target), known), str(r.name_zh), str(r.name_en))
        for r in legend.itertuples()
        if str(r.target) != "nodata"
    ]


def grade_categories() -> list[Category]:
    st = _maps_style()
    return [Category(g, st.GRADE_COLORS[g], *st.GRADE_NAMES[g]) for g in sorted(st.GRADE_COLORS)]


def reason_categories(present: Sequence[int]) -> list[Category]:
    from .fields import lookup
    from .suitability.codes import REASON_BIT

    f = lookup("reason_x")
    out = []
    for v in present:
        v = int(v)
        if v == 0:
            out.append(Category(0, "#ffffff", "无排除原因（已评价）", "No exclusion (graded)", 0))
            continue
        first = next(c for c in REASON_PRIORITY if v & REASON_BIT[c])
        zh, _, en = f.label(v).partition(" | ")
        out.append(Category(v, REASON_COLORS[first], zh, en))
    return out


def mask_categories(name: str) -> list[Category]:
    colour, zh, en = MASK_COLORS[name]
    return [
        Category(0, "#ffffff", f"{zh}以外", f"outside: {en}", 0),
        Category(1, colour, zh, en, 200),
    ]


def county_categories(present: Sequence[int], names: Mapping[str, str] | None) -> list[Category]:
    names = names or {}
    return [
        Category(
            int(v),
            COUNTY_COLORS[i % len(COUNTY_COLORS)],
            f"{names.get(str(v), '')} {v}".strip(),
            "",
        )
        for i, v in enumerate(present)
    ]


def change_categories(present: Sequence[int], ctx: StyleContext) -> list[Category]:
    cls = {
        int(r.class_id): (str(r.color), str(r.name_zh), str(r.name_en))
        for r in ctx.classes.itertuples()
    }
    out = []
    for v in present:
        v = int(v)
        if v == 0:
            out.append(Category(0, "#ffffff", "未变化", "Unchanged", 0))
            continue
        a, b = divmod(v, 100)
        ca, cb = cls.get(a, ("#9e9e9e", str(a), str(a))), cls.get(b, ("#9e9e9e", str(b), str(b)))
        out.append(Category(v, cb[0], f"{ca[1]}→{cb[1]}", f"{ca[2]} → {cb[2]}"))
    return out


def categories_for(
    kind: str, paths: Sequence[str | Path], ctx: StyleContext, present: Sequence[int] | None = None
) -> list[Category]:
    """The classes of a categorical raster (several paths: a mosaic), only those present."""
    present = present_values(paths) if present is None else list(present)
    stem = Path(paths[0]).name.removesuffix(".tif").removesuffix(".vrt")
    if kind == "landuse":
        cats = landuse_categories(ctx)
    elif kind == "landuse_code":
        return landuse_code_categories(ctx, present)
    elif kind == "best_use":
        legend = Path(paths[0]).with_name("best_use_legend.csv")
        cats = best_use_categories(pd.read_csv(legend, encoding="utf-8-sig"))
    elif kind == "grade":
        cats = grade_categories()
    elif kind == "reason":
        return reason_categories(present)
    elif kind == "mask":
        cats = mask_categories(stem.removeprefix("zone_"))
    elif kind == "county":
        return county_categories(present, ctx.county_names)
    elif kind == "change":
        return change_categories(present, ctx)
    elif kind == "ownership":
        cats = [Category(v, c, zh, en, a) for v, (c, zh, en, a) in OWNERSHIP.items()]
    elif kind == "disagree":
        cats = [Category(v, c, zh, en, a) for v, (c, zh, en, a) in DISAGREE.items()]
    else:
        raise ValueError(f"{kind!r} is not a categorical raster kind")
    have = set(present)
    return [c for c in cats if c.value in have]


def ramp_for(paths: Sequence[str | Path]) -> Ramp:
    stem = Path(paths[0]).name.removesuffix(".tif").removesuffix(".vrt")
    if raster_kind(paths[0]) == "score":
        return Ramp(0.0, 100.0, RAMPS["score"], "适宜性得分 Suitability score (0-100)")
    name, title = CONTINUOUS.get(stem, ("purple", stem))
    if stem == "aspect":
        return Ramp(0.0, 360.0, RAMPS["aspect"], title)
    lo, hi = value_range(paths)
    return Ramp(lo, hi, RAMPS[name], title)


# --- documents ---------------------------------------------------------------------------------
def _hex_rgba(colour: str, alpha: int = 255) -> tuple[int, int, int, int]:
    h = colour.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16), int(alpha)


# the parts every raster renderer <pipe> of the QGIS 3.x style shares
_MINMAX = """      <rasterTransparency/>
      <minMaxOrigin>
        <limits>None</limits>
        <extent>WholeRaster</extent>
        <statAccuracy>Estimated</statAccuracy>
        <cumulativeCutLower>0.02</cumulativeCutLower>
        <cumulativeCutUpper>0.98</cumulativeCutUpper>
        <stdDevFactor>2</stdDevFactor>
      </minMaxOrigin>
"""
_PIPE_TAIL = """    <brightnesscontrast brightness="0" contrast="0" gamma="1"/>
    <huesaturation saturation="0" grayscaleMode="0" colorizeOn="0" colorizeStrength="100"/>
    <rasterresampler maxOversampling="2"/>
    <resamplingStage>resamplingFilter</resamplingStage>
  </pipe>"""


def paletted_pipe(cats: Sequence[Category], opacity: float = 1.0) -> str:
    """The <pipe> of a paletted raster renderer (QGIS 3.x)."""
    entries = "\n".join(
        f'        <paletteEntry value="{c.value}" color="{c.colour}" alpha="{c.alpha}" '
        f'label="{escape(c.label, quote=True)}"/>'
        for c in cats
    )
    return f'''  <pipe>
    <rasterrenderer type="paletted" band="1" opacity="{opacity}" alphaBand="-1" nodataColor="">
{_MINMAX}      <colorPalette>
{entries}
      </colorPalette>
    </rasterrenderer>
{_PIPE_TAIL}'''


def pseudocolor_pipe(ramp: Ramp, opacity: float = 1.0) -> str:
    """The <pipe> of a single-band pseudocolour renderer: the ramp's colours evenly from vmin
    to vmax (interpolated)."""
    n = len(ramp.colours)
    items = []
    for i, col in enumerate(ramp.colours):
        v = _round3(ramp.vmin + (ramp.vmax - ramp.vmin) * i / (n - 1))
        items.append(f'          <item value="{v:g}" color="{col}" alpha="255" label="{v:g}"/>')
    return f'''  <pipe>
    <rasterrenderer type="singlebandpseudocolor" band="1" opacity="{opacity}" alphaBand="-1" classificationMin="{ramp.vmin:g}" classificationMax="{ramp.vmax:g}" nodataColor="">
{_MINMAX}      <rastershader>
        <colorrampshader colorRampType="INTERPOLATED" classificationMode="1" clip="0" minimumValue="{ramp.vmin:g}" maximumValue="{ramp.vmax:g}" labelPrecision="3">
{chr(10).join(items)}
        </colorrampshader>
      </rastershader>
    </rasterrenderer>
{_PIPE_TAIL}'''


def hillshade_pipe(opacity: float = 1.0) -> str:
    return f'''  <pipe>
    <rasterrenderer type="hillshade" band="1" opacity="{opacity}" alphaBand="-1" zfactor="1" azimuth="315" angle="45" multidirection="0" nodataColor="">
{_MINMAX}    </rasterrenderer>
{_PIPE_TAIL}'''


def qml_document(pipe: str) -> str:
    return (
        f"<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
        f'<qgis version="{QGIS_VERSION}" styleCategories="AllStyleCategories">\n'
        f"{pipe}\n  <blendMode>0</blendMode>\n</qgis>\n"
    )


def pam_document(cats: Sequence[Category], dtype: str) -> str | None:
    """GDAL PAM (.aux.xml) with a colour table and category names for values 0..max (integer
    rasters with values 0..65535: land-use codes included); None for float rasters or an empty
    class list (then the .aux.xml holds no classes)."""
    if not cats or np.dtype(dtype).kind not in "ui":
        return None
    by = {c.value: c for c in cats}
    top = 255 if dtype == "uint8" else max(by)
    if top > 65535 or min(by) < 0:
        return None
    names, colours = [], []
    for v in range(top + 1):
        c = by.get(v)
        names.append(f"      <Category>{escape(c.label) if c else ''}</Category>")
        r, g, b, a = _hex_rgba(c.colour, c.alpha) if c else (0, 0, 0, 0)
        colours.append(f'      <Entry c1="{r}" c2="{g}" c3="{b}" c4="{a}"/>')
    return (
        '<PAMDataset>\n  <PAMRasterBand band="1">\n    <ColorInterp>Palette</ColorInterp>\n'
        "    <CategoryNames>\n" + "\n".join(names) + "\n    </CategoryNames>\n"
        "    <ColorTable>\n" + "\n".join(colours) + "\n    </ColorTable>\n"
        "  </PAMRasterBand>\n</PAMDataset>\n"
    )


@dataclass
class RasterStyle:
    kind: str
    pipe: str
    categories: list[Category] | None = None
    ramp: Ramp | None = None

    @property
    def renderer(self) -> str:
        return "paletted" if self.categories is not None else "singlebandpseudocolor"


def style_for(
    paths: Sequence[str | Path],
    ctx: StyleContext,
    present: Sequence[int] | None = None,
    ramp: Ramp | None = None,
) -> RasterStyle:
    """The style of a raster (or of a mosaic of rasters of one kind). `present` (the values
    present) and `ramp` may be given when already known."""
    paths = [Path(p) for p in paths]
    kind = raster_kind(paths[0])
    if kind in CATEGORICAL:
        cats = categories_for(kind, paths, ctx, present)
        return RasterStyle(kind, paletted_pipe(cats), categories=cats)
    ramp = ramp or ramp_for(paths)
    return RasterStyle(kind, pseudocolor_pipe(ramp), ramp=ramp)


def has_pam(raster: str | Path) -> bool:
    """Whether `raster` gets a ``.aux.xml`` (categorical rasters except the county codes, whose
    values, adcodes, are too large for a colour table)."""
    kind = raster_kind(raster)
    return kind in CATEGORICAL and kind != "county"


def sidecar_paths(raster: str | Path) -> list[Path]:
    """The sidecars of raster ``x.tif``: ``x.qml``, and ``x.tif.aux.xml`` when `has_pam`."""
    raster = Path(raster)
    out = [raster.with_suffix(".qml")]
    if has_pam(raster):
        out.append(Path(str(raster) + ".aux.xml"))
    return out


EMPTY_PAM = '<PAMDataset>\n  <PAMRasterBand band="1"/>\n</PAMDataset>\n'


def write_sidecars(raster: str | Path, ctx: StyleContext) -> RasterStyle:
    """Write the `sidecar_paths` of `raster` (atomically): the ``.qml``, and for categorical
    rasters the ``.tif.aux.xml`` with colour table and category names."""
    raster = Path(raster)
    st = style_for([raster], ctx)
    paths = sidecar_paths(raster)
    write_text(paths[0], qml_document(st.pipe))
    if len(paths) > 1:
        with rasterio.open(raster) as ds:
            dtype = ds.dtypes[0]
        write_text(paths[1], pam_document(st.categories or [], dtype) or EMPTY_PAM)
    return st


# --- CSV column types for QGIS / OGR (.csvt) ---------------------------------------------------
#: columns that hold codes, never numbers (county codes, ids, land-use codes)
TEXT_COLUMNS = re.compile(
    r"^(adcode|zone_id|parcel_id|source_id|code|source_code|id|reach|"
    r".*_id|.*adcode.*)$"
)


def csvt_types(csv_path: str | Path) -> list[str]:
    """The OGR type of every column of a CSV written by nxgeo: ``Integer`` / ``Integer64`` /
    ``Real`` for numbers, ``Integer(Boolean)`` for True/False, ``String`` for text and for code
    columns (`TEXT_COLUMNS`: adcode, ids, land-use codes), in column order."""
    df = pd.read_csv(csv_path, encoding="utf-8-sig", low_memory=False, keep_default_na=True)
    out = []
    for c in df.columns:
        s = df[c]
        if TEXT_COLUMNS.match(str(c)):
            out.append("String")
        elif s.dtype == bool or (
            s.dtype == object
            and set(s.dropna().astype(str)) <= {"True", "False"}
            and s.notna().any()
        ):
            out.append("Integer(Boolean)")
        elif pd.api.types.is_integer_dtype(s):
            big = s.abs().max() > 2**31 - 1 if len(s) else False
            out.append("Integer64" if big else "Integer")
        elif pd.api.types.is_float_dtype(s):
            out.append("Real")
        else:
            out.append("String")
    return out


def write_csvt(csv_path: str | Path) -> Path:
    """``<table>.csvt`` beside ``<table>.csv`` (one line: the quoted OGR types), atomically."""
    csv_path = Path(csv_path)
    types = csvt_types(csv_path)
    return write_text(csv_path.with_suffix(".csvt"), ",".join(f'"{t}"' for t in types) + "\n")
