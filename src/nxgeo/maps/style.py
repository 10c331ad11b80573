"""Colours, names and page layout shared by every map (one place to change them).

Land-use colours come from the classes table (config/landuse/classes.csv); target-use colours,
suitability-grade colours and pathway names live here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..nodata import GRADE_NODATA as GRADE_NODATA
from ..suitability.codes import TARGET_LABELS

if TYPE_CHECKING:
    from matplotlib.typing import LineStyleType

# Target uses (best use, suitability targets, candidates' recommended_target). The candidate
# targets use the same colours as the QGIS styles stored in candidates.gpkg.
TARGET_COLORS: dict[str, str] = {
    "cropland": "#f5e37a",
    "forest": "#2e7d32",
    "shrub": "#7cb342",
    "grass": "#b5d77a",
    "wetland": "#4fb3bf",
    "solar_pv": "#6a3d9a",
    "wine_grape": "#b2182b",
    "forage": "#fdae61",
    "ecological": "#1b9e77",
    "natural": "#a6d96a",
    "natural_recovery": "#a6d96a",
    "construction": "#d64541",
    "closed_protection": "#bdb6a8",
    "public_benefit": "#e6ab02",
    "for_profit": "#a6761d",
    "tourism": "#f4a582",
    "none": "#e0e0e0",
    "not_allocated": "#9e9e9e",
}
# Target uses: the suitability labels; pathway modes and map-only categories added here.
TARGET_NAMES: dict[str, tuple[str, str]] = {
    **TARGET_LABELS,
    "ecological": ("生态用地", "Ecological land"),
    "natural": ("自然恢复", "Natural restoration"),
    "natural_recovery": ("自然恢复（封育）", "Natural recovery (closure)"),
    "construction": ("建设用地", "Construction land"),
    "closed_protection": ("封禁保护", "Closed protection"),
    "public_benefit": ("公益性治沙", "Public-benefit sand control"),
    "for_profit": ("营利性治沙", "For-profit sand control"),
    "tourism": ("沙漠旅游", "Desert tourism"),
    "none": ("无适宜用途", "No suitable use"),
    "not_allocated": ("未配置水量或不符合条件", "Not allocated / not eligible"),
}
NOT_ALLOCATED = "not_allocated"
# Candidate parcels that get no target, in two kinds of class (legend and map):
# not eligible (with the reason, nxgeo.fields.REASON_VALUES) and eligible but no water.
NO_WATER = "no_water"
NO_WATER_COLOR = "#9ecae1"  # pale blue, hatched: eligible, the county's water is used up
NO_WATER_HATCH = "////"
NOT_ELIGIBLE_PREFIX = "not_eligible:"
NOT_ELIGIBLE_HATCH = "xxxx"
NOT_ELIGIBLE_COLORS = {
    "operating": "#8d6e63",
    "already_restored": "#c7e9c0",
    "no_data": "#f0f0f0",
    "status_occupied": "#bcaaa4",
    "status_active": "#bcaaa4",
    "status_unknown": "#d9d9d9",
}
NOT_ELIGIBLE_COLOR = "#bdbdbd"  # any other reason
# Extra colours for a target that is not listed above (stable: by sorted name).
FALLBACK_COLORS = (
    "#8dd3c7",
    "#bebada",
    "#fb8072",
    "#80b1d3",
    "#b3de69",
    "#fccde5",
    "#bc80bd",
    "#ccebc5",
    "#ffed6f",
    "#d9d9d9",
)

# Suitability grades (1 suitable, 2 moderately, 3 unsuitable, 4 excluded, 255 nodata):
# ordered, colour-blind-safe single-hue sequence (ColorBrewer YlGn) plus hatched grey.
GRADE_COLORS: dict[int, str] = {1: "#238443", 2: "#78c679", 3: "#f7fcb9", 4: "#bdbdbd"}
GRADE_NAMES: dict[int, tuple[str, str]] = {
    1: ("适宜", "Suitable"),
    2: ("一般适宜", "Moderately suitable"),
    3: ("不适宜", "Unsuitable"),
    4: ("禁止（硬约束排除）", "Excluded (hard constraint)"),
}
EXCLUDED_GRADE = 4
EXCLUDED_HATCH = "////"


PATHWAYS: dict[str, tuple[str, str]] = {
    "homestead_greening": ("闲置宅基地复垦复绿", "Abandoned homestead greening"),
    "mine_remediation": (
        "矿山生态修复（历史遗留与矿权人责任）",
        "Mine remediation (legacy and operator)",
    ),
    "sand_control": ("防沙治沙", "Sand control"),
    "state_wasteland": ("国有荒地复绿", "State-owned waste land regreening"),
    "land_consolidation": ("土地综合整治", "Land consolidation"),
}
# Mine funding (legend): legacy mines with public money, the others by the operator
FUNDING_NAMES = {
    "public": ("历史遗留·财政资金", "legacy, public"),
    "operator": ("矿权人·治理恢复基金", "operator fund"),
}
PATHWAY_MARKERS = {
    "homestead_greening": "o",
    "mine_remediation": "s",
    "sand_control": "^",
    "state_wasteland": "D",
    "land_consolidation": "P",
}

# Context outlines on the candidate sheets (why a parcel is closed, excluded or a candidate):
# layer of common/vectors.gpkg -> (label zh, label en, colour, line style, width); reserves by
# zone (field `zone`).
CONTEXT_LAYERS: dict[str, tuple[str, str, str, LineStyleType, float]] = {
    "ecological_redline": (
        "生态保护红线",
        "Ecological red line",
        "#e7298a",
        (0, (6, 2, 1, 2)),
        0.9,
    ),
    "emigration_areas": ("移民迁出区", "Emigration area", "#6a51a3", (0, (1, 1.5)), 0.9),
    "mining_areas": ("矿区", "Mining area", "#8c510a", (0, (5, 2)), 0.9),
    "sand_areas": ("沙化土地区", "Sand area", "#d8b365", (0, (3, 1.5)), 1.1),
}
RESERVE_ZONES: dict[str, tuple[str, str, str, LineStyleType, float]] = {
    "core": ("自然保护区核心区", "Nature reserve, core zone", "#a50f15", "-", 1.2),
    "buffer": ("自然保护区缓冲区", "Nature reserve, buffer zone", "#de2d26", (0, (4, 1.5)), 0.9),
    "experimental": (
        "自然保护区实验区",
        "Nature reserve, experimental zone",
        "#fb6a4a",
        (0, (1.5, 1.5)),
        0.8,
    ),
}
RESERVE_OTHER: tuple[str, str, str, LineStyleType, float] = (
    "自然保护地",
    "Protected area",
    "#de2d26",
    "-",
    0.9,
)

# County sheets print a parcel's id where it overlaps no other label; a county with more than
# LABEL_MAX_PARCELS parcels also gets larger-scale detail sheets per pathway, each with at most
# DETAIL_MAX_PARCELS parcels (a group split along its longer side at the median), and no more
# than DETAIL_MAX_SHEETS per county and pathway (the rest are listed in maps/index.json).
LABEL_MAX_PARCELS = 60
DETAIL_MIN_PARCELS = 30  # a pathway with fewer parcels in the county gets no detail sheet
DETAIL_MAX_PARCELS = 150
DETAIL_MAX_SHEETS = 4
LABEL_SIZE = 4.5

# Reference layers
COUNTY_EDGE = "#4d4d4d"
REACH_EDGE = "#c51b7d"
RIVER_COLOR = "#2b8cbe"


def target_color(target: str, known: tuple[str, ...] = ()) -> str:
    """Colour of a target use; unknown targets get a stable colour from FALLBACK_COLORS."""
    t = str(target)
    if t in TARGET_COLORS:
        return TARGET_COLORS[t]
    pool = sorted(set(known) - set(TARGET_COLORS)) or [t]
    i = pool.index(t) if t in pool else len(pool)
    return FALLBACK_COLORS[i % len(FALLBACK_COLORS)]


def target_label(target: str, names: dict[str, tuple[str, str]] | None = None) -> str:
    """'林地 Forest' — Chinese and English name of a target (config names first)."""
    zh, en = (names or {}).get(target) or TARGET_NAMES.get(target) or (target, target)
    return f"{zh} {en}" if zh != en else zh


def pathway_label(pathway: str) -> str:
    zh, en = PATHWAYS.get(pathway, (pathway, pathway))
    return f"{zh} {en}"


# Resolution of the hillshade inside the PDF of a sheet whose only raster it is (overview,
# county and detail sheets; the PNG stays at 300 dpi, and text, lines and parcels are vectors):
# a grey relief background needs no more for print, and at 150 dpi the PDF is written in 0.85 s
# instead of 1.4 s (a detail sheet at 120 m; 1.0 MB -> 0.7 MB). The image's placement moves by
# under 0.1 mm (whole pixels at 150 dpi).
SHADE_PDF_DPI = 150


@dataclass(frozen=True)
class Page:
    """Figure size (inches) and the fractions used by the sheet layout."""

    width: float
    height: float
    dpi: int = 300
    title_size: float = 17.0
    subtitle_size: float = 10.5
    text_size: float = 7.5
    legend_size: float = 7.5


A4_PORTRAIT = Page(8.27, 11.69)
A4_LANDSCAPE = Page(11.69, 8.27)
