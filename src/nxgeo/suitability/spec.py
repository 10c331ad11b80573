"""Target specs from ``config.suitability.targets``: parse and validate (criteria are data,
never evaluated as code).

A target::

    forest:
      name_zh: 林地            # optional labels for legends
      name_en: Forest
      combine: weighted_sum    # weighted_sum | minimum | land_water_matrix
      normalise_weights: false # true: weights are divided by their sum (else they must sum to 1)
      criteria:
        - {layer: precipitation, transform: linear, low: 300, high: 600, weight: 0.4,
           override: {where: water_secured, score: 100}}
        - {layer: slope, transform: grades, breaks: slope_farming_breaks, weight: 0.6}
      constraints:
        not_convertible_from: [water, built]              # canonical classes       -> bit 0
        exclude_zones: [protected_core, basic_farmland]   # zone masks              -> bits 1-4
        max_slope_deg: 25          # number or the name of a number in `suitability` -> bit 5
        precipitation_rule: {min_mm: forest_min_precipitation_mm, unless: water_secured}  # bit 6
        buffers: [{layer: distance_water, min_m: 50}]     # and/or max_m              -> bit 7

Criterion keys: ``layer``, ``transform`` (grades | linear | fuzzy | lookup), ``weight``;
grades: ``breaks`` (4 numbers, or the name of a ``*_breaks`` list in `suitability`) and
``descending``; linear: ``low``, ``high``; fuzzy: ``points`` [a, b, c, d]; lookup (on the
``landuse`` layer): ``values`` {canonical class: score}, ``default``.
``override: {where: <mask>, score: S}`` replaces the criterion's score by S inside the mask
(e.g. precipitation counts as fully met where irrigation water is secured).
For ``combine: land_water_matrix`` every criterion is a ``grades`` criterion with a role:
exactly one ``role: land`` (the land grade) and one or more ``role: water``. The water grade is
the **best** (lowest) grade among the water criteria that apply at the pixel; ``where: <mask>``
makes a water criterion apply only inside the mask. The shipped cropland target uses the county
water-quota modulus grade ``where: water_secured`` (irrigated districts / canal buffer of the
Yellow River plain) and the precipitation grade everywhere, so inside the irrigated districts
the water grade is the better of the two and elsewhere it is the precipitation grade.
At least one water criterion must have no ``where`` (so every pixel has a water grade).

Nothing here is evaluated as code: layer, class and key names are looked up in fixed tables.

Shapes (types, enums, ranges, required and allowed keys) are the config schema's
(``workflow/schemas/config.schema.yaml``, checked at start-up and by ``nxgeo validate``): what
the schema enforces is not checked again here, a value of the wrong shape only stops the parse
(``_Ctx.shape``; library callers that bypass the schema get a pointer to it). Reported here is
what the schema cannot express: layers and classes that exist, the order of breaks and points,
weights summing to 1, roles of a land-water matrix, names of numbers and lists in
``suitability``, the matrix grades agreeing with grade_breaks. (Unknown keys of criteria and
constraints are also named here, with the allowed ones.)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from numbers import Real
from pathlib import Path
from typing import TypeGuard

import numpy as np
import pandas as pd

from ..errors import ConfigError
from .codes import ZONE_LAYERS, target_label
from .combine import WEIGHT_TOLERANCE

# --- layers ------------------------------------------------------------------------------
CONTINUOUS_LAYERS = (
    "slope",
    "elevation",
    "precipitation",
    "distance_water",
    "distance_roads",
    "distance_settlements",
    "ls",
    "water_quota_modulus",
    "soil_k",
    "sand_fraction",
)
CLASS_LAYERS = ("landuse",)
MASK_LAYERS = ZONE_LAYERS + ("water_secured",)
OPTIONAL_LAYERS = ("soil_k", "sand_fraction")  # present only when inputs.rasters.<name> is set
KNOWN_LAYERS = CONTINUOUS_LAYERS + CLASS_LAYERS + MASK_LAYERS

# Canonical classes of docs/domain.md §1 (used when the classes table cannot be read).
DEFAULT_CLASS_NAMES = (
    "cropland_irrigated",
    "cropland_dry",
    "orchard",
    "forest",
    "shrub",
    "grassland",
    "wetland",
    "water",
    "built",
    "rural_homestead",
    "mining",
    "sandy",
    "bare",
)

TRANSFORMS = ("grades", "linear", "fuzzy", "lookup")
COMBINES = ("weighted_sum", "minimum", "land_water_matrix")
CRITERION_KEYS = {
    "layer",
    "transform",
    "weight",
    "breaks",
    "descending",
    "low",
    "high",
    "points",
    "values",
    "default",
    "role",
    "where",
    "override",
}
TARGET_KEYS = {"combine", "criteria", "constraints", "normalise_weights", "name_zh", "name_en"}
CONSTRAINT_KEYS = {
    "not_convertible_from",
    "exclude_zones",
    "max_slope_deg",
    "precipitation_rule",
    "buffers",
}
DEFAULT_GRADE_BREAKS = (70.0, 40.0)
DEFAULT_MATRIX_SCORES = (100.0, 80.0, 60.0, 40.0, 0.0)


def config_layers(cfg: Mapping | None = None) -> list[str]:
    """Layer names the workflow provides for this config: all known layers, minus the optional
    rasters (soil_k, sand_fraction) whose ``inputs.rasters`` entry is null or absent."""
    rasters = ((cfg or {}).get("inputs") or {}).get("rasters") or {}
    return [n for n in KNOWN_LAYERS if n not in OPTIONAL_LAYERS or rasters.get(n)]


# --- parsed spec -------------------------------------------------------------------------
@dataclass(frozen=True)
class Criterion:
    index: int
    layer: str
    transform: str
    weight: float | None = None
    breaks: tuple[float, ...] | None = None
    descending: bool = False
    low: float | None = None
    high: float | None = None
    points: tuple[float, ...] | None = None
    values: dict = field(default_factory=dict)
    default: float = 0.0
    role: str | None = None
    where: str | None = None
    override: tuple[str, float] | None = None  # (mask layer, score)

    def layers(self) -> set[str]:
        out = {self.layer}
        if self.where:
            out.add(self.where)
        if self.override:
            out.add(self.override[0])
        return out


@dataclass(frozen=True)
class Buffer:
    layer: str
    min_m: float | None = None
    max_m: float | None = None


@dataclass(frozen=True)
class Constraints:
    not_convertible_from: tuple[str, ...] = ()
    exclude_zones: tuple[str, ...] = ()
    max_slope_deg: float | None = None
    precip_min_mm: float | None = None
    precip_unless: str | None = None
    buffers: tuple[Buffer, ...] = ()

    def layers(self) -> set[str]:
        out = {"landuse"} | set(self.exclude_zones) | {b.layer for b in self.buffers}
        if self.max_slope_deg is not None:
            out.add("slope")
        if self.precip_min_mm is not None:
            out.add("precipitation")
        if self.precip_unless:
            out.add(self.precip_unless)
        return out


@dataclass(frozen=True)
class SuitParams:
    suitable: float = DEFAULT_GRADE_BREAKS[0]
    moderately_suitable: float = DEFAULT_GRADE_BREAKS[1]
    matrix: tuple[tuple[int, ...], ...] = (
        (1, 1, 1, 2, 5),
        (1, 1, 2, 3, 5),
        (2, 2, 3, 4, 5),
        (3, 4, 4, 5, 5),
        (5, 5, 5, 5, 5),
    )
    matrix_scores: tuple[float, ...] = DEFAULT_MATRIX_SCORES


@dataclass(frozen=True)
class TargetSpec:
    name: str
    combine: str
    criteria: tuple[Criterion, ...]
    weights: tuple[float, ...]  # normalised when normalise_weights; () unless weighted_sum
    constraints: Constraints
    params: SuitParams
    name_zh: str = ""
    name_en: str = ""

    def layers(self) -> set[str]:
        out = set(self.constraints.layers())
        for c in self.criteria:
            out |= c.layers()
        return out


# --- parsing with problem collection -----------------------------------------------------
def _is_num(v) -> TypeGuard[float]:  # a real number (int, float, numpy), not bool or NaN
    return (
        isinstance(v, Real)
        and not isinstance(v, bool)
        and not (isinstance(v, float) and math.isnan(v))
    )


def _fmt(v) -> str:
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


class _Ctx:
    def __init__(self, suit: Mapping, layers: Iterable[str], class_names: Iterable[str]):
        self.suit = suit
        self.layers = list(layers)
        self.class_names = list(class_names)
        self.problems: list[str] = []
        self.shapes: list[str] = []  # values of a shape the config schema refuses

    def add(self, msg: str) -> None:
        self.problems.append(msg)

    def shape(self, where: str) -> None:
        """A value of the wrong shape: the config schema reports it (with its own message);
        the parse only stops. Library callers that bypass the schema get this pointer."""
        self.shapes.append(
            f"{where}: not of the form the config schema requires "
            "(workflow/schemas/config.schema.yaml; run `nxgeo validate` for the details)"
        )

    def known_layers(self) -> str:
        return ", ".join(self.layers)

    def number(self, value, where: str, what: str):
        """A number, or the name of a number in the suitability section."""
        if isinstance(value, str):
            ref = self.suit.get(value)
            if not _is_num(ref):
                self.add(
                    f"{where}: {what} {value!r} is neither a number nor the name of a number in "
                    "`suitability` (e.g. max_crop_slope_deg, forest_min_precipitation_mm)"
                )
                return None
            return float(ref)
        if not _is_num(value):
            self.shape(where)
            return None
        return float(value)

    def mask(self, value, where: str, what: str) -> str | None:
        if value not in MASK_LAYERS or value not in self.layers:
            known = [m for m in MASK_LAYERS if m in self.layers]
            self.add(
                f"{where}: {what} {value!r} is not a mask layer; known masks: {', '.join(known)}"
            )
            return None
        return value


def _parse_breaks(ctx: _Ctx, raw, descending: bool, where: str):
    label = ""
    if isinstance(raw, str):
        label = f" ({raw})"
        ref = ctx.suit.get(raw)
        if not isinstance(ref, list):
            ctx.add(
                f"{where}: breaks {raw!r} is neither a list nor the name of a list in "
                "`suitability` (e.g. slope_farming_breaks, precipitation_breaks)"
            )
            return None
        raw = ref
    if not isinstance(raw, list) or not all(_is_num(v) for v in raw):
        ctx.add(f"{where}: grades needs `breaks`, a list of 4 numbers, got {raw!r}")
        return None
    if len(raw) != 4:
        ctx.add(f"{where}: grades needs 4 breaks (grades 1..5), got {len(raw)}: {_fmt(raw)}{label}")
        return None
    diffs = np.diff(np.asarray(raw, dtype=float))
    if descending and not np.all(diffs < 0):
        ctx.add(
            f"{where}: breaks {_fmt(raw)}{label} are out of order: with descending: true they "
            "must fall strictly (best grade first, e.g. precipitation [1200, 800, 400, 200])"
        )
        return None
    if not descending and not np.all(diffs > 0):
        hint = " (did you mean descending: true?)" if np.all(diffs < 0) else ""
        ctx.add(
            f"{where}: breaks {_fmt(raw)}{label} are out of order: they must rise strictly "
            f"(e.g. slope [2, 6, 15, 25]){hint}"
        )
        return None
    return tuple(float(v) for v in raw)


def _parse_criterion(ctx: _Ctx, tname: str, i: int, raw, combine: str) -> Criterion | None:
    where0 = f"suitability.targets.{tname}.criteria[{i}]"
    if not isinstance(raw, Mapping):
        ctx.shape(where0)
        return None
    layer = raw.get("layer")
    where = f"{where0} (layer {layer!r})"
    ok = True
    extra = sorted(set(raw) - CRITERION_KEYS)
    if extra:
        ctx.add(
            f"{where}: unknown key(s) {', '.join(extra)} (check the spelling); allowed: "
            f"{', '.join(sorted(CRITERION_KEYS))}"
        )
        ok = False
    transform = raw.get("transform")
    if transform not in TRANSFORMS:
        ctx.shape(where)
        return None
    if not isinstance(layer, str) or layer not in ctx.layers:
        ctx.add(f"{where}: layer {layer!r} does not exist; known layers: {ctx.known_layers()}")
        ok = False
    elif transform == "lookup" and layer not in CLASS_LAYERS:
        ctx.add(
            f"{where}: transform lookup needs a class layer ({', '.join(CLASS_LAYERS)}), "
            f"not {layer!r}"
        )
        ok = False
    elif transform != "lookup" and layer not in CONTINUOUS_LAYERS:
        ctx.add(
            f"{where}: transform {transform} needs a continuous layer "
            f"({', '.join(c for c in CONTINUOUS_LAYERS if c in ctx.layers)}), not {layer!r}"
        )
        ok = False

    kw: dict = {}
    descending = raw.get("descending", False)
    if not isinstance(descending, bool):
        ctx.shape(where)
        ok = False
    if transform == "grades":
        kw["breaks"] = _parse_breaks(ctx, raw.get("breaks"), bool(descending), where)
        ok &= kw["breaks"] is not None
    elif transform == "linear":
        low, high = raw.get("low"), raw.get("high")
        if not (_is_num(low) and _is_num(high)):
            ctx.add(
                f"{where}: linear needs numbers `low` (score 0) and `high` (score 100), "
                f"got low={low!r}, high={high!r}"
            )
            ok = False
        elif low == high:
            ctx.add(
                f"{where}: linear low and high are both {_fmt(low)}; they must differ "
                "(low > high means decreasing)"
            )
            ok = False
        else:
            kw.update(low=float(low), high=float(high))
    elif transform == "fuzzy":
        pts = raw.get("points")
        if not (isinstance(pts, list) and len(pts) == 4 and all(_is_num(p) for p in pts)):
            ctx.add(f"{where}: fuzzy needs `points`, 4 numbers [a, b, c, d], got {pts!r}")
            ok = False
        elif not (pts[0] <= pts[1] <= pts[2] <= pts[3] and pts[0] < pts[3]):
            ctx.add(
                f"{where}: fuzzy points {_fmt(pts)} are not ascending; they must satisfy "
                "a <= b <= c <= d (0 below a, 100 from b to c, 0 above d)"
            )
            ok = False
        else:
            kw["points"] = tuple(float(p) for p in pts)
    elif transform == "lookup":
        values = raw.get("values")
        default = raw.get("default", 0)
        if not isinstance(values, Mapping) or not values:
            ctx.add(f"{where}: lookup needs `values`, a mapping {{canonical class: score}}")
            ok = False
        else:
            unknown = [k for k in values if k not in ctx.class_names]
            if unknown:
                ctx.add(
                    f"{where}: lookup values name unknown class(es) {', '.join(map(repr, unknown))}; "
                    f"known classes: {', '.join(ctx.class_names)}"
                )
                ok = False
            if not all(_is_num(v) and 0 <= v <= 100 for v in values.values()):
                ctx.shape(where)
                ok = False
            kw["values"] = {str(k): float(v) for k, v in values.items() if _is_num(v)}
        if not (_is_num(default) and 0 <= default <= 100):
            ctx.shape(where)
            ok = False
        else:
            kw["default"] = float(default)

    weight = raw.get("weight")
    if weight is not None and not (_is_num(weight) and weight >= 0):
        ctx.shape(where)
        ok = False
    role = raw.get("role")
    if combine == "land_water_matrix":
        if role not in ("land", "water"):
            ctx.add(
                f"{where}: with combine: land_water_matrix every criterion needs "
                f"role: land or role: water, got role={role!r}"
            )
            ok = False
        if transform != "grades":
            ctx.add(
                f"{where}: with combine: land_water_matrix criteria must use transform: grades "
                f"(the matrix combines grades 1..5), got {transform!r}"
            )
            ok = False
    elif role is not None:
        ctx.add(
            f"{where}: role {role!r} is only used with combine: land_water_matrix "
            f"(this target uses combine: {combine})"
        )
        ok = False
    where_mask = raw.get("where")
    if where_mask is not None:
        if combine != "land_water_matrix" or role != "water":
            ctx.add(
                f"{where}: `where` is only allowed on role: water criteria of a "
                "land_water_matrix target (use `override` to change a score inside a mask)"
            )
            ok = False
        elif ctx.mask(where_mask, where, "where") is None:
            ok = False
    override = raw.get("override")
    ov = None
    if override is not None:
        s = override.get("score") if isinstance(override, Mapping) else None
        if not (
            isinstance(override, Mapping)
            and set(override) == {"where", "score"}
            and _is_num(s)
            and 0 <= s <= 100
        ):
            ctx.shape(f"{where}.override")
            ok = False
        else:
            m = ctx.mask(override["where"], where, "override.where")
            if m is None:
                ok = False
            else:
                ov = (m, float(s))
            if combine == "land_water_matrix":
                ctx.add(
                    f"{where}: override is not used with land_water_matrix "
                    "(use `where` on a water criterion)"
                )
                ok = False
    if not ok:
        return None
    assert isinstance(layer, str)  # else ok is False (the layer check above)
    return Criterion(
        index=i,
        layer=layer,
        transform=transform,
        weight=None if weight is None else float(weight),
        descending=bool(descending),
        role=role,
        where=where_mask,
        override=ov,
        **kw,
    )


def _parse_constraints(ctx: _Ctx, tname: str, raw) -> Constraints | None:
    where = f"suitability.targets.{tname}.constraints"
    if raw is None:
        return Constraints()
    if not isinstance(raw, Mapping):
        ctx.shape(where)
        return None
    n0 = len(ctx.problems) + len(ctx.shapes)
    extra = sorted(set(raw) - CONSTRAINT_KEYS)
    if extra:
        ctx.add(
            f"{where}: unknown key(s) {', '.join(extra)} (check the spelling); allowed: "
            f"{', '.join(sorted(CONSTRAINT_KEYS))}"
        )
    ncf = raw.get("not_convertible_from") or []
    if not isinstance(ncf, list):
        ctx.shape(f"{where}.not_convertible_from")
        ncf = []
    unknown = [c for c in ncf if c not in ctx.class_names]
    if unknown:
        ctx.add(
            f"{where}.not_convertible_from: unknown class(es) {', '.join(map(repr, unknown))}; "
            f"known classes: {', '.join(ctx.class_names)}"
        )
    zones = raw.get("exclude_zones") or []
    if not isinstance(zones, list):
        ctx.shape(f"{where}.exclude_zones")
        zones = []
    for z in zones:
        if z not in ZONE_LAYERS or z not in ctx.layers:
            ctx.add(
                f"{where}.exclude_zones: {z!r} is not a zone layer; known zones: "
                f"{', '.join(zl for zl in ZONE_LAYERS if zl in ctx.layers)}"
            )
    max_slope = None
    if raw.get("max_slope_deg") is not None:
        max_slope = ctx.number(raw["max_slope_deg"], f"{where}.max_slope_deg", "value")
        if max_slope is not None and not 0 <= max_slope <= 90:
            ctx.add(f"{where}.max_slope_deg: {_fmt(max_slope)} is not a slope in degrees 0..90")
        if "slope" not in ctx.layers:
            ctx.add(f"{where}.max_slope_deg: needs the layer 'slope', which does not exist")
    pmin, punless = None, None
    pr = raw.get("precipitation_rule")
    if pr is not None:
        if not isinstance(pr, Mapping) or "min_mm" not in pr or set(pr) - {"min_mm", "unless"}:
            ctx.shape(f"{where}.precipitation_rule")
        else:
            pmin = ctx.number(pr["min_mm"], f"{where}.precipitation_rule.min_mm", "value")
            if pr.get("unless") is not None:
                punless = ctx.mask(pr["unless"], f"{where}.precipitation_rule", "unless")
            if "precipitation" not in ctx.layers:
                ctx.add(
                    f"{where}.precipitation_rule: needs the layer 'precipitation', which does not exist"
                )
    buffers = []
    raw_buffers = raw.get("buffers") or []
    if not isinstance(raw_buffers, list):
        ctx.shape(f"{where}.buffers")
        raw_buffers = []
    for j, b in enumerate(raw_buffers):
        bw = f"{where}.buffers[{j}]"
        lo, hi = (b.get("min_m"), b.get("max_m")) if isinstance(b, Mapping) else (None, None)
        if (
            not isinstance(b, Mapping)
            or set(b) - {"layer", "min_m", "max_m"}
            or "layer" not in b
            or any(v is not None and not (_is_num(v) and v >= 0) for v in (lo, hi))
        ):
            ctx.shape(bw)
            continue
        if b["layer"] not in CONTINUOUS_LAYERS or b["layer"] not in ctx.layers:
            ctx.add(
                f"{bw}: layer {b['layer']!r} does not exist; known layers: "
                f"{', '.join(c for c in CONTINUOUS_LAYERS if c in ctx.layers)}"
            )
            continue
        if lo is None and hi is None:
            ctx.add(f"{bw}: give min_m (exclude closer than) and/or max_m (exclude farther than)")
            continue
        if lo is not None and hi is not None and lo >= hi:
            ctx.add(f"{bw}: min_m {_fmt(lo)} must be below max_m {_fmt(hi)}")
            continue
        buffers.append(
            Buffer(b["layer"], None if lo is None else float(lo), None if hi is None else float(hi))
        )
    if len(ctx.problems) + len(ctx.shapes) > n0:
        return None
    return Constraints(
        not_convertible_from=tuple(ncf),
        exclude_zones=tuple(zones),
        max_slope_deg=max_slope,
        precip_min_mm=pmin,
        precip_unless=punless,
        buffers=tuple(buffers),
    )


def _parse_params(ctx: _Ctx, suit: Mapping) -> SuitParams:
    gb = suit["grade_breaks"]
    s, m = gb["suitable"], gb["moderately_suitable"]
    if not (_is_num(s) and _is_num(m) and 0 <= m <= s <= 100):
        ctx.add(
            f"suitability.grade_breaks: need 0 <= moderately_suitable <= suitable <= 100, got "
            f"suitable={s!r}, moderately_suitable={m!r}"
        )
        s, m = DEFAULT_GRADE_BREAKS
    matrix = suit["land_water_matrix"]
    arr = np.asarray(matrix, dtype=object)
    if not (arr.shape == (5, 5) and all(isinstance(v, int) and 1 <= v <= 5 for v in arr.ravel())):
        ctx.shape("suitability.land_water_matrix")
        matrix = SuitParams.matrix
    scores = suit["matrix_grade_scores"]
    if not (
        isinstance(scores, list)
        and len(scores) == 5
        and all(_is_num(v) and 0 <= v <= 100 for v in scores)
    ):
        ctx.shape("suitability.matrix_grade_scores")
        scores = list(DEFAULT_MATRIX_SCORES)
    classes = suit["matrix_grade_classes"]
    key_grade = {"suitable": 1, "moderately_suitable": 2, "unsuitable": 3}
    if isinstance(classes, Mapping) and set(classes) <= set(key_grade):
        for key, grades_ in classes.items():
            for g in grades_ or []:
                if not (isinstance(g, int) and 1 <= g <= 5):
                    ctx.shape(f"suitability.matrix_grade_classes.{key}")
                    continue
                sc = float(scores[g - 1])
                got = "suitable" if sc >= s else "moderately_suitable" if sc >= m else "unsuitable"
                if got != key:
                    ctx.add(
                        f"suitability.matrix_grade_scores: matrix grade {g} scores {_fmt(sc)}, which "
                        f"grade_breaks (suitable >= {_fmt(s)}, moderately_suitable >= {_fmt(m)}) "
                        f"class as {got}, but matrix_grade_classes says {key}"
                    )
        listed = sorted(g for gs in classes.values() for g in (gs or []) if isinstance(g, int))
        if listed != [1, 2, 3, 4, 5]:
            ctx.add(
                "suitability.matrix_grade_classes: every matrix grade 1..5 must be listed exactly "
                f"once, got {dict(classes)}"
            )
    else:
        ctx.shape("suitability.matrix_grade_classes")
    return SuitParams(
        suitable=float(s),
        moderately_suitable=float(m),
        matrix=tuple(tuple(int(v) for v in row) for row in matrix),
        matrix_scores=tuple(float(v) for v in scores),
    )


def _parse_target(ctx: _Ctx, name: str, tcfg, params: SuitParams) -> TargetSpec | None:
    where = f"suitability.targets.{name}"
    if not isinstance(tcfg, Mapping):
        ctx.shape(where)
        return None
    n0 = len(ctx.problems) + len(ctx.shapes)
    combine = tcfg.get("combine", "weighted_sum")
    raw_criteria = tcfg.get("criteria")
    if combine not in COMBINES or not isinstance(raw_criteria, list) or not raw_criteria:
        ctx.shape(where)
        return None
    normalise = tcfg.get("normalise_weights", False)
    if set(tcfg) - TARGET_KEYS or not isinstance(normalise, bool):
        ctx.shape(where)  # parsed on, so that the other problems are reported too
        normalise = False
    criteria = [_parse_criterion(ctx, name, i, c, combine) for i, c in enumerate(raw_criteria)]
    weights: tuple[float, ...] = ()
    if combine == "weighted_sum":
        missing = [
            i for i, c in enumerate(raw_criteria) if not (isinstance(c, Mapping) and "weight" in c)
        ]
        if missing:
            ctx.add(
                f"{where}: combine: weighted_sum needs a weight on every criterion; missing on "
                + ", ".join(
                    f"criteria[{i}] (layer {raw_criteria[i].get('layer')!r})"
                    if isinstance(raw_criteria[i], Mapping)
                    else f"criteria[{i}]"
                    for i in missing
                )
            )
        elif all(_is_num(c["weight"]) for c in raw_criteria):
            w = [float(c["weight"]) for c in raw_criteria]
            total = float(sum(w))
            if normalise:
                if total <= 0:
                    ctx.add(
                        f"{where}: weights sum to {total:g}; with normalise_weights they must sum to > 0"
                    )
                else:
                    weights = tuple(x / total for x in w)
            elif abs(total - 1.0) > WEIGHT_TOLERANCE:
                listing = ", ".join(f"{c.get('layer')} {_fmt(c['weight'])}" for c in raw_criteria)
                ctx.add(
                    f"{where}: weights sum to {total:g}, not 1 ({listing}); fix them or set "
                    "normalise_weights: true"
                )
            else:
                weights = tuple(w)
    if combine == "land_water_matrix":
        roles = [c.get("role") for c in raw_criteria if isinstance(c, Mapping)]
        n_land, n_water = roles.count("land"), roles.count("water")
        if n_land != 1 or n_water < 1:
            ctx.add(
                f"{where}: combine: land_water_matrix needs exactly one role: land criterion and "
                f"at least one role: water criterion; found {n_land} land and {n_water} water"
            )
        water_where = [
            c.get("where")
            for c in raw_criteria
            if isinstance(c, Mapping) and c.get("role") == "water"
        ]
        if n_water >= 1 and all(w is not None for w in water_where):
            ctx.add(
                f"{where}: every role: water criterion has a `where` mask, so pixels outside all "
                "masks would have no water grade; give one water criterion without `where`"
            )
    constraints = _parse_constraints(ctx, name, tcfg.get("constraints"))
    if (
        len(ctx.problems) + len(ctx.shapes) > n0
        or constraints is None
        or any(c is None for c in criteria)
    ):
        return None
    zh, en = target_label(name, tcfg)
    return TargetSpec(
        name=name,
        combine=combine,
        criteria=tuple(c for c in criteria if c is not None),  # none is (checked above)
        weights=weights,
        constraints=constraints,
        params=params,
        name_zh=zh,
        name_en=en,
    )


def class_names_from(classes_df: pd.DataFrame | None) -> list[str]:
    if classes_df is None:
        return list(DEFAULT_CLASS_NAMES)
    return [str(c) for c in classes_df["canonical"]]


def _class_names_from_cfg(cfg: Mapping) -> list[str]:
    path = (cfg.get("landuse") or {}).get("classes_table")
    if isinstance(path, str) and Path(path).exists():
        try:
            return class_names_from(pd.read_csv(path))
        except (OSError, ValueError, KeyError):
            pass
    return list(DEFAULT_CLASS_NAMES)


def best_use_order(suit: Mapping) -> list[str]:
    """``best_use_order`` (unknown names dropped, duplicates removed), then every other target
    in config order — so a newly added target always takes part in the best-use choice."""
    targets = list(suit["targets"])
    order: list[str] = []
    for n in suit["best_use_order"]:
        if n in targets and n not in order:
            order.append(n)
    return order + [t for t in targets if t not in order]


def _order_problems(ctx: _Ctx, suit: Mapping) -> None:
    targets = list(suit.get("targets") or {})
    seen = set()
    for n in suit.get("best_use_order") or []:
        if n not in targets:
            ctx.add(
                f"suitability.best_use_order: {n!r} is not a target use; known: {', '.join(targets)}"
            )
        elif n in seen:
            ctx.add(f"suitability.best_use_order: {n!r} is listed twice")
        seen.add(n)


def parse_suitability(
    suit: Mapping, layers: Iterable[str] | None = None, class_names: Iterable[str] | None = None
) -> tuple[dict[str, TargetSpec], list[str], list[str]]:
    """Parse every target of a ``suitability`` section: ({name: TargetSpec}, problems, the
    keys whose values have a shape the config schema refuses)."""
    ctx = _Ctx(
        suit or {},
        KNOWN_LAYERS if layers is None else layers,
        DEFAULT_CLASS_NAMES if class_names is None else class_names,
    )
    params = _parse_params(ctx, ctx.suit)
    targets = ctx.suit.get("targets") or {}
    if not isinstance(targets, Mapping) or not 1 <= len(targets) <= 254:
        ctx.shape("suitability.targets")  # 1..254 targets: the best-use raster's codes
        targets = {}
    specs = {}
    for name, tcfg in targets.items():
        spec = _parse_target(ctx, str(name), tcfg, params)
        if spec is not None:
            specs[str(name)] = spec
    _order_problems(ctx, ctx.suit)
    return specs, ctx.problems, ctx.shapes


def spec_problems(
    cfg: Mapping,
    available_layers: Iterable[str] | None = None,
    class_names: Iterable[str] | None = None,
) -> list[str]:
    """Every problem in the ``suitability`` section of a full config that the config schema
    cannot express, as messages naming the key path (target and criterion); the schema's own
    problems are not repeated. `available_layers` defaults to `config_layers(cfg)`;
    `class_names` to the canonical classes of ``landuse.classes_table`` (or DOMAIN's list)."""
    suit = (cfg or {}).get("suitability")
    if not isinstance(suit, Mapping):
        return []  # absent or not a mapping: the schema's problem
    layers = config_layers(cfg) if available_layers is None else list(available_layers)
    names = _class_names_from_cfg(cfg) if class_names is None else list(class_names)
    return parse_suitability(suit, layers, names)[1]


def parse_target(
    name: str,
    target_cfg,
    suit_cfg: Mapping,
    classes_df: pd.DataFrame | None = None,
    layers: Iterable[str] | None = None,
) -> TargetSpec:
    """One target's spec; raises ConfigError listing every problem."""
    ctx = _Ctx(
        suit_cfg or {}, KNOWN_LAYERS if layers is None else layers, class_names_from(classes_df)
    )
    params = _parse_params(ctx, ctx.suit)
    spec = _parse_target(ctx, name, target_cfg, params)
    if ctx.problems or ctx.shapes or spec is None:
        raise ConfigError(
            ctx.problems + ctx.shapes or [f"suitability.targets.{name}: invalid"],
            source="suitability",
        )
    return spec


def parse_all(
    suit_cfg: Mapping, classes_df: pd.DataFrame | None = None, layers: Iterable[str] | None = None
) -> dict[str, TargetSpec]:
    specs, problems, shapes = parse_suitability(suit_cfg, layers, class_names_from(classes_df))
    if problems or shapes:
        raise ConfigError(problems + shapes, source="suitability")
    return specs
