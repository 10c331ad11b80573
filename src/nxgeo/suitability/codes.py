"""Codes written into the suitability rasters, and their legends.

Grade raster (uint8, nodata 255)::

    1 suitable 适宜 | 2 moderately suitable 一般适宜 | 3 unsuitable 不适宜 |
    4 excluded 禁止（硬约束）| 255 no data 无数据

Reason raster (uint16): one bit per hard-constraint cause; an excluded pixel keeps **every**
bit that applies (e.g. 2 + 16 = 18: protected-area core zone and basic farmland). 0 = no
reason (the pixel was graded). Bit 8 (``nodata``) alone means "not evaluated" (grade 255); any
other bit means "excluded" (grade 4), even where some input is missing too. Pixels with land
use 0 (outside the study area) carry the nodata bit only.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from ..atomic import write_csv, write_json
from ..nodata import BEST_NODATA as BEST_NODATA
from ..nodata import GRADE_NODATA as GRADE_NODATA
from ..nodata import SCORE_NODATA as SCORE_NODATA

# --- grades ------------------------------------------------------------------------------
GRADE_SUITABLE = 1
GRADE_MODERATE = 2
GRADE_UNSUITABLE = 3
GRADE_EXCLUDED = 4

GRADE_LEGEND = [
    (GRADE_SUITABLE, "suitable", "适宜", "Suitable"),
    (GRADE_MODERATE, "moderately_suitable", "一般适宜", "Moderately suitable"),
    (GRADE_UNSUITABLE, "unsuitable", "不适宜", "Unsuitable"),
    (GRADE_EXCLUDED, "excluded", "禁止（硬约束排除）", "Excluded by a hard constraint"),
    (GRADE_NODATA, "nodata", "无数据", "No data"),
]

# --- reasons -----------------------------------------------------------------------------
# (bit, code, name_zh, name_en, description)
REASONS = [
    (
        0,
        "class_not_convertible",
        "现状地类不可转换",
        "Class not convertible",
        "the current land-use class is listed in the target's constraints.not_convertible_from",
    ),
    (
        1,
        "protected_core",
        "自然保护地核心保护区",
        "Protected-area core zone",
        "inside the core zone of a protected area (layer protected_core)",
    ),
    (
        2,
        "protected_any",
        "自然保护地",
        "Protected area",
        "inside any zone of a protected area (layer protected_any)",
    ),
    (
        3,
        "ecological_redline",
        "生态保护红线",
        "Ecological red line",
        "inside the ecological protection red line (layer ecological_redline)",
    ),
    (
        4,
        "basic_farmland",
        "永久基本农田",
        "Permanent basic farmland",
        "on permanent basic farmland (layer basic_farmland)",
    ),
    (
        5,
        "slope_limit",
        "坡度超限",
        "Slope above limit",
        "slope (deg) above the target's constraints.max_slope_deg",
    ),
    (
        6,
        "precipitation_rule",
        "降水不足（四水四定）",
        "Precipitation below minimum",
        (
            "precipitation below constraints.precipitation_rule.min_mm, outside the `unless` mask "
            "(forest: < 400 mm without secured irrigation water; shrub: < 250 mm)"
        ),
    ),
    (
        7,
        "buffer",
        "缓冲距离",
        "Distance rule",
        "closer than min_m to (or farther than max_m from) a distance layer in constraints.buffers",
    ),
    (
        8,
        "nodata",
        "无数据",
        "No data",
        (
            "an input layer the target uses has no data here (NaN / raster nodata), or land use 0 "
            "(outside the study area: then this is the only bit)"
        ),
    ),
    (
        9,
        "official_evaluation",
        "官方双评价成果排除",
        "Excluded by the official evaluation",
        (
            "the department's own evaluation layer (suitability.official.<layer>.exclude) has a "
            "class here that excludes the target, e.g. 生态保护极重要区"
        ),
    ),
]
REASON_BIT = {code: 1 << bit for bit, code, *_ in REASONS}
NODATA_BIT = REASON_BIT["nodata"]
ZONE_LAYERS = ("protected_core", "protected_any", "ecological_redline", "basic_farmland")

# --- best use ----------------------------------------------------------------------------
BEST_NONE = 0

# Bilingual labels of the shipped targets; a target may override them with name_zh / name_en.
TARGET_LABELS = {
    "cropland": ("耕地", "Cropland"),
    "forest": ("林地", "Forest"),
    "shrub": ("灌木林地", "Shrubland"),
    "grass": ("草地", "Grassland"),
    "wetland": ("湿地", "Wetland"),
    "solar_pv": ("光伏", "Solar PV"),
    "wine_grape": ("酿酒葡萄", "Wine grape"),
    "goji": ("枸杞", "Goji (wolfberry)"),
    "forage": ("饲草", "Forage"),
    "ecotourism": ("生态旅游", "Ecotourism"),
}


def reason_legend_df() -> pd.DataFrame:
    rows = [
        {"bit": b, "value": 1 << b, "code": c, "name_zh": zh, "name_en": en, "description": d}
        for b, c, zh, en, d in REASONS
    ]
    return pd.DataFrame(rows)


def reason_legend_dict() -> dict:
    return {
        "raster": "suit_<target>_reason.tif",
        "dtype": "uint16",
        "rule": (
            "bit-field: value = sum of 2**bit over every cause that applies; 0 = no reason. "
            "Only the nodata bit -> grade 255 (not evaluated); any other bit -> grade 4 "
            "(excluded). Decode: (value >> bit) & 1."
        ),
        "bits": reason_legend_df().to_dict(orient="records"),
    }


def write_reason_legend(path: str | Path) -> tuple[Path, Path]:
    """Write the reason-bit legend as `<path>.csv` and `<path>.json` (suffix of `path` ignored).

    Returns (csv_path, json_path).
    """
    path = Path(path)
    stem = path.with_suffix("") if path.suffix.lower() in (".csv", ".json") else path
    csv_path, json_path = stem.with_suffix(".csv"), stem.with_suffix(".json")
    write_csv(reason_legend_df(), csv_path)
    write_json(reason_legend_dict(), json_path)
    return csv_path, json_path


def decode_reasons(value: int) -> list[str]:
    """Reason codes set in one reason-raster value (for reports and tests)."""
    return [code for bit, code, *_ in REASONS if (int(value) >> bit) & 1]


def grade_legend_df() -> pd.DataFrame:
    return pd.DataFrame(GRADE_LEGEND, columns=["code", "key", "name_zh", "name_en"])


def target_label(name: str, target_cfg: Mapping | None = None) -> tuple[str, str]:
    target_cfg = target_cfg or {}
    zh, en = TARGET_LABELS.get(name, (name, name.replace("_", " ").capitalize()))
    return str(target_cfg.get("name_zh") or zh), str(target_cfg.get("name_en") or en)


def best_use_legend_df(order: list[str], targets_cfg: dict | None = None) -> pd.DataFrame:
    """Codes of best_use.tif / best_use_runner_up.tif: 1..n = order[0..n-1]."""
    targets_cfg = targets_cfg or {}
    rows = [
        {
            "code": BEST_NONE,
            "target": "none",
            "name_zh": "无适宜用途",
            "name_en": "No suitable or moderately suitable use",
        }
    ]
    for i, name in enumerate(order, start=1):
        zh, en = target_label(name, targets_cfg.get(name))
        rows.append({"code": i, "target": name, "name_zh": zh, "name_en": en})
    rows.append(
        {"code": BEST_NODATA, "target": "nodata", "name_zh": "无数据", "name_en": "No data"}
    )
    return pd.DataFrame(rows)
