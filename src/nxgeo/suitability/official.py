"""The department's own 双评价 results as an input (issue #15; docs/suitability_official.md).

Three optional layers, each a class raster (``inputs.rasters.official_<kind>``) or polygons with
a class field (``inputs.vectors.official_<kind>``, field role ``class``):

- ``ecology``: 生态保护重要性 (ecological protection importance): very_important 极重要 /
  important 重要 / general 一般;
- ``agriculture``: 农业生产适宜性 and ``construction``: 城镇建设适宜性: suitable 适宜 /
  moderately_suitable 一般适宜 / unsuitable 不适宜.

``suitability.official.<kind>.values`` maps the raw class values (raster values or the field's
values) to those classes. A reach gets one coded raster per supplied layer,
``official/<kind>.tif`` (uint8: `CLASS_CODES`, 0 = not covered, `OFFICIAL_NODATA` outside
the reach). Polygons are burnt at pixel centres, the smallest ``values`` code (the most
important / most suitable class) winning where polygons overlap.

How suitability uses them (config decides, `apply_official`):

- ``exclude``: {class: [targets]}: those targets are excluded (grade 4, score 0, reason bit
  ``official_evaluation``) wherever the layer has that class, e.g. ``very_important:
  [cropland, solar_pv]`` (极重要 excludes development);
- ``grade_targets``: [targets] whose grade is the official one (agriculture -> cropland):
  wherever the official layer has a class and the target is not excluded or without data, the
  grade becomes the official class (1 / 2 / 3) and the score is moved into that grade's band
  (clipped to [suitable break, 100], [moderate break, suitable break - 1] or [0, moderate
  break - 1]), so score and grade still agree and the parcels' rules (grade 1-2 and score >=
  min_suitable_score) follow the official grade.

The disagreement (`disagreement_counts`): for every grade target, cells by computed grade (before
the official grade replaced it) x official class, per county; ``official_disagree_<target>.tif``
(uint8): 0 agree, 1 computed better than official, 2 computed worse, 3 computed excluded where
the official layer grades, 255 not compared (no official class or no computed grade).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..errors import InputError
from ..nodata import OFFICIAL_NODATA
from .codes import GRADE_EXCLUDED, GRADE_MODERATE, GRADE_NODATA, GRADE_SUITABLE, GRADE_UNSUITABLE

KINDS = ("ecology", "agriculture", "construction")
KIND_ZH = {
    "ecology": "生态保护重要性",
    "agriculture": "农业生产适宜性",
    "construction": "城镇建设适宜性",
}
CLASS_CODES = {
    "ecology": {"very_important": 1, "important": 2, "general": 3},
    "agriculture": {"suitable": 1, "moderately_suitable": 2, "unsuitable": 3},
    "construction": {"suitable": 1, "moderately_suitable": 2, "unsuitable": 3},
}
CLASS_ZH = {
    "very_important": "极重要",
    "important": "重要",
    "general": "一般",
    "suitable": "适宜",
    "moderately_suitable": "一般适宜",
    "unsuitable": "不适宜",
}
#: reason bit set where an official layer excludes a target (codes.REASONS bit 9)
OFFICIAL_BIT = 1 << 9
AGREE, BETTER, WORSE, EXCLUDED_HERE, NOT_COMPARED = 0, 1, 2, 3, 255
DISAGREE_COLUMNS = [
    "reach",
    "adcode",
    "layer",
    "layer_zh",
    "target",
    "computed_grade",
    "official_class",
    "official_class_zh",
    "agree",
    "cells",
    "area_ha",
]


def layer_path_key(kind: str) -> str:
    return f"official_{kind}"


def value_codes(kind: str, values: Mapping) -> dict[str, int]:
    """{raw value (as text): class code} of one layer's ``values`` map; errors name the key."""
    codes = CLASS_CODES[kind]
    out = {}
    for raw, cls in (values or {}).items():
        if cls not in codes:
            raise InputError(
                f"suitability.official.{kind}.values: {raw!r} -> {cls!r} is not a "
                f"class of {KIND_ZH[kind]}; use one of {', '.join(codes)}"
            )
        out[_key(raw)] = codes[cls]
    if not out:
        raise InputError(
            f"suitability.official.{kind}.values is empty: map the layer's class "
            f"values to {', '.join(codes)}"
        )
    return out


def _key(v) -> str:
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    s = str(v).strip()
    if s.endswith(".0") and s[:-2].lstrip("-").isdigit():
        s = s[:-2]
    return s


def code_array(
    kind: str, raw: np.ndarray, values: Mapping, nodata=None, *, where: str
) -> np.ndarray:
    """A raw class raster (block) -> class codes (uint8); nodata -> 0 (not covered). A value
    not in ``values`` is an InputError naming `where`, the value and its pixel count."""
    raw = np.asarray(raw)
    codes = value_codes(kind, values)
    valid = np.ones(raw.shape, dtype=bool)
    if nodata is not None:
        valid &= ~((raw == nodata) | (np.isnan(raw) if raw.dtype.kind == "f" else False))
    elif raw.dtype.kind == "f":
        valid &= ~np.isnan(raw)
    out = np.zeros(raw.shape, dtype=np.uint8)
    if not valid.any():
        return out
    uniq, inv = np.unique(raw[valid], return_inverse=True)
    keys = [_key(u.item() if hasattr(u, "item") else u) for u in uniq]
    unknown = [(k, int((inv == i).sum())) for i, k in enumerate(keys) if k not in codes]
    if unknown:
        shown = ", ".join(f"{k} ({n} pixels)" for k, n in unknown[:8])
        raise InputError(
            f"{where}: class value(s) {shown} are not in "
            f"suitability.official.{kind}.values ({', '.join(codes)}); add them"
        )
    lut = np.asarray([codes[k] for k in keys], dtype=np.uint8)
    out[valid] = lut[inv.ravel()]
    return out


def burn_polygons(
    kind: str, gdf, values: Mapping, shape, transform, *, where: str, field: str = "class"
) -> np.ndarray:
    """Polygons with a class field -> class codes on a grid (pixel centres; where polygons
    overlap the smallest code, i.e. the most important / most suitable class, wins)."""
    from rasterio.features import rasterize

    if field not in gdf.columns:
        raise InputError(
            f"{where}: no field {field!r} (configure inputs.vectors.official_{kind}"
            f".fields.class); fields: {', '.join(map(str, gdf.columns))}"
        )
    codes = value_codes(kind, values)
    keys = [_key(v) for v in gdf[field]]
    unknown = sorted({k for k in keys if k not in codes})
    if unknown:
        n = {k: keys.count(k) for k in unknown}
        raise InputError(
            f"{where}: field {field!r} value(s) "
            f"{', '.join(f'{k} ({n[k]} polygons)' for k in unknown[:8])} are not in "
            f"suitability.official.{kind}.values ({', '.join(codes)}); add them"
        )
    code = np.asarray([codes[k] for k in keys], dtype=np.uint8)
    order = np.argsort(-code.astype(int), kind="stable")  # smallest code burnt last
    shapes = [
        (gdf.geometry.iloc[i], int(code[i]))
        for i in order
        if gdf.geometry.iloc[i] is not None and not gdf.geometry.iloc[i].is_empty
    ]
    if not shapes:
        return np.zeros(shape, dtype=np.uint8)
    return rasterize(shapes, out_shape=shape, transform=transform, fill=0, dtype="uint8")


def _band(score: np.ndarray, grade: np.ndarray, breaks: tuple[float, float]) -> np.ndarray:
    suit, mod = int(np.ceil(breaks[0])), int(np.ceil(breaks[1]))
    s = score.astype(np.int32)
    lo = np.select([grade == GRADE_SUITABLE, grade == GRADE_MODERATE], [suit, mod], 0)
    hi = np.select([grade == GRADE_SUITABLE, grade == GRADE_MODERATE], [100, suit - 1], mod - 1)
    return np.clip(s, lo, hi).astype(np.uint8)


def apply_official(
    target: str,
    score: np.ndarray,
    grade: np.ndarray,
    reason: np.ndarray,
    official: Mapping[str, np.ndarray],
    cfg: Mapping,
    breaks: tuple[float, float],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
    """One target's (score, grade, reason) with the official layers applied (module rules).

    `official`: {kind: class codes} of the supplied layers; `cfg`: ``suitability.official``.
    Returns the new arrays and {kind: computed grade before the override} of the layers whose
    ``grade_targets`` hold `target` (for `disagreement_counts`)."""
    original = grade
    score, grade, reason = score.copy(), grade.copy(), reason.copy()
    before = {}
    for kind, codes in official.items():
        kc = cfg[kind]
        for cls, targets in kc["exclude"].items():
            if target not in targets:
                continue
            m = (codes == CLASS_CODES[kind][cls]) & (grade != GRADE_NODATA)
            reason[m] |= np.uint16(OFFICIAL_BIT)
            grade[m] = GRADE_EXCLUDED
            score[m] = 0
    for kind, codes in official.items():
        if target not in cfg[kind]["grade_targets"]:
            continue
        before[kind] = original
        m = (
            (codes > 0)
            & (codes != OFFICIAL_NODATA)
            & np.isin(grade, (GRADE_SUITABLE, GRADE_MODERATE, GRADE_UNSUITABLE))
        )
        grade[m] = codes[m]
        score[m] = _band(score[m], codes[m], breaks)
    return score, grade, reason, before


def disagreement_raster(computed: np.ndarray, official: np.ndarray) -> np.ndarray:
    """Module codes: agree / computed better / worse / excluded here / not compared."""
    graded = (official > 0) & (official != OFFICIAL_NODATA)
    ok = graded & np.isin(computed, (GRADE_SUITABLE, GRADE_MODERATE, GRADE_UNSUITABLE))
    out = np.full(computed.shape, NOT_COMPARED, dtype=np.uint8)
    out[ok & (computed == official)] = AGREE
    out[ok & (computed < official)] = BETTER
    out[ok & (computed > official)] = WORSE
    out[graded & (computed == GRADE_EXCLUDED)] = EXCLUDED_HERE
    return out


def disagreement_counts(
    computed: np.ndarray, official: np.ndarray, county: np.ndarray
) -> pd.DataFrame:
    """Cells by (adcode, computed grade, official class) where the official layer has a class
    and the computed grade is not nodata (vectorised; one block)."""
    m = (official > 0) & (official != OFFICIAL_NODATA) & (computed != GRADE_NODATA)
    if not m.any():
        return pd.DataFrame(columns=["adcode", "computed_grade", "official_code", "cells"])
    df = pd.DataFrame(
        {
            "adcode": county[m].astype(np.int64),
            "computed_grade": computed[m].astype(np.int64),
            "official_code": official[m].astype(np.int64),
        }
    )
    return df.value_counts().rename("cells").reset_index()


def disagreement_table(
    counts: Mapping[tuple[str, str], pd.DataFrame], reach: str, pixel_ha: float
) -> pd.DataFrame:
    """The per-reach table (`DISAGREE_COLUMNS`) from {(kind, target): summed counts}."""
    rows = []
    for (kind, target), c in counts.items():
        if not len(c):
            continue
        c = c.groupby(["adcode", "computed_grade", "official_code"], as_index=False)["cells"].sum()
        names = {v: k for k, v in CLASS_CODES[kind].items()}
        for r in c.itertuples(index=False):
            cls = names[int(r.official_code)]
            rows.append(
                {
                    "reach": reach,
                    "adcode": str(int(r.adcode)),
                    "layer": kind,
                    "layer_zh": KIND_ZH[kind],
                    "target": target,
                    "computed_grade": int(r.computed_grade),
                    "official_class": cls,
                    "official_class_zh": CLASS_ZH[cls],
                    "agree": int(int(r.computed_grade) == int(r.official_code)),
                    "cells": int(r.cells),
                    "area_ha": float(r.cells) * pixel_ha,
                }
            )
    out = pd.DataFrame(rows, columns=DISAGREE_COLUMNS)
    return out.sort_values(
        ["layer", "target", "adcode", "computed_grade", "official_class"], kind="stable"
    ).reset_index(drop=True)


def check_config(cfg: Mapping, targets) -> list[str]:
    """Problems of ``suitability.official`` (unknown classes or targets)."""
    problems = []
    targets = set(targets)
    for kind in KINDS:
        kc = (cfg or {}).get(kind) or {}
        for cls, ts in (kc.get("exclude") or {}).items():
            if cls not in CLASS_CODES[kind]:
                problems.append(
                    f"suitability.official.{kind}.exclude: {cls!r} is not a class "
                    f"({', '.join(CLASS_CODES[kind])})"
                )
            problems += [
                f"suitability.official.{kind}.exclude.{cls}: {t!r} is not a target of "
                f"suitability.targets"
                for t in ts
                if t not in targets
            ]
        problems += [
            f"suitability.official.{kind}.grade_targets: {t!r} is not a target of "
            f"suitability.targets"
            for t in kc.get("grade_targets") or []
            if t not in targets
        ]
    return problems


def official_layer_file(
    kind: str,
    values: Mapping,
    landuse_tif,
    out_tif,
    *,
    raster=None,
    vectors_gpkg=None,
    strip_rows: int = 512,
) -> dict:
    """One reach's coded official layer (module docstring) on the grid of `landuse_tif`, from
    the reach's class raster `raster` (on that grid: prepared with nearest neighbour) or from
    the layer ``official_<kind>`` of `vectors_gpkg` (field ``class``), strip by strip. Pixels
    outside the reach (land-use nodata) are `OFFICIAL_NODATA`. Returns cells per class."""
    import rasterio
    from affine import Affine
    from rasterio.windows import Window

    from ..atomic import atomic_path
    from ..raster_io import plain_profile
    from ..vector_io import read_vector

    if (raster is None) == (vectors_gpkg is None):
        raise ValueError("official_layer_file: give exactly one of raster, vectors_gpkg")
    counts = {c: 0 for c in CLASS_CODES[kind]}
    counts["not_covered"] = 0
    names = {v: k for k, v in CLASS_CODES[kind].items()}
    with rasterio.open(landuse_tif) as lu:
        h, w = lu.height, lu.width
        profile = plain_profile((h, w), "uint8", lu.crs, lu.transform, OFFICIAL_NODATA)
        gdf = None
        if vectors_gpkg is not None:
            gdf = read_vector(vectors_gpkg, layer_path_key(kind))
            if gdf.crs is not None and lu.crs is not None and gdf.crs != lu.crs:
                gdf = gdf.to_crs(lu.crs)
        src = rasterio.open(raster) if raster is not None else None
        try:
            if src is not None and (
                (src.height, src.width) != (h, w) or not src.transform.almost_equals(lu.transform)
            ):
                raise InputError(f"{raster}: not on the grid of {landuse_tif}")
            with atomic_path(out_tif) as tmp, rasterio.open(tmp, "w", **profile) as dst:
                dst.update_tags(
                    layer=kind,
                    codes="; ".join(f"{c} {k} {CLASS_ZH[k]}" for k, c in CLASS_CODES[kind].items())
                    + f"; 0 not covered; {OFFICIAL_NODATA} outside",
                )
                for r0 in range(0, h, strip_rows):
                    win = Window(0, r0, w, min(strip_rows, h - r0))
                    inside = lu.read_masks(1, window=win) > 0
                    if src is not None:
                        code = code_array(
                            kind, src.read(1, window=win), values, src.nodata, where=str(raster)
                        )
                    else:
                        code = burn_polygons(
                            kind,
                            gdf,
                            values,
                            (win.height, w),
                            lu.transform @ Affine.translation(0, r0),
                            where=f"{vectors_gpkg} (official_{kind})",
                        )
                    code = np.where(inside, code, OFFICIAL_NODATA).astype(np.uint8)
                    dst.write(code, 1, window=win)
                    vals, n = np.unique(code[inside], return_counts=True)
                    for v, k in zip(vals, n):
                        counts[names.get(int(v), "not_covered")] += int(k)
        finally:
            if src is not None:
                src.close()
    return counts


def gather_disagreement(reach_csvs, out_csv) -> pd.DataFrame:
    """The reaches' tables as one (rows by layer, target, county, reach), plus a row per
    (layer, target, county) with reach ``all``; written as CSV (UTF-8 with BOM)."""
    from ..atomic import write_csv

    frames = [
        pd.read_csv(p, dtype={"adcode": str, "reach": str}, encoding="utf-8-sig")
        for p in reach_csvs
    ]
    frames = [f for f in frames if len(f)]
    if not frames:
        out = pd.DataFrame(columns=DISAGREE_COLUMNS)
    else:
        df = pd.concat(frames, ignore_index=True)
        keys = [c for c in DISAGREE_COLUMNS if c not in ("reach", "cells", "area_ha")]
        total = df.groupby(keys, as_index=False)[["cells", "area_ha"]].sum()
        total.insert(0, "reach", "all")
        out = (
            pd.concat([df, total[DISAGREE_COLUMNS]], ignore_index=True)
            .sort_values(
                ["layer", "target", "adcode", "reach", "computed_grade", "official_class"],
                kind="stable",
            )
            .reset_index(drop=True)
        )
    write_csv(out, out_csv)
    return out
