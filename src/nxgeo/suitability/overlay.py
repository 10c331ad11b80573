"""The overlay on arrays: one target -> (score, grade, reasons); all targets -> best use.

Outputs of `evaluate_target`:

- score uint8 0..100 (255 = no data). The combined float score is rounded half up
  (floor(x + 0.5)). An **excluded** pixel has score 0 (its reasons say why); a pixel whose only
  reason is nodata has score 255.
- grade uint8 (see `codes`): 1 suitable if score >= grade_breaks.suitable, 2 moderately suitable
  if score >= grade_breaks.moderately_suitable, else 3 unsuitable; 4 excluded (any reason bit
  other than nodata, even where some input is missing); 255 no data (only the nodata bit; always
  where land use is 0, i.e. outside the study area).
  The grade is computed from the rounded uint8 score, so score and grade always agree.
- reasons uint16 bit-field (`codes.REASONS`).

`best_use`: among the targets graded suitable or moderately suitable at a pixel, the one with
the highest score; **ties go to the target listed first** in ``best_use_order`` (config order
for targets not listed there). Codes: 1..n = position in the order (1-based), 0 = no target
suitable or moderately suitable, 255 = every target has no data. The runner-up is the next
target by the same ranking (0 if fewer than two qualify).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .codes import (
    BEST_NODATA,
    BEST_NONE,
    GRADE_EXCLUDED,
    GRADE_MODERATE,
    GRADE_NODATA,
    GRADE_SUITABLE,
    GRADE_UNSUITABLE,
    NODATA_BIT,
    SCORE_NODATA,
)
from .combine import best_grade, land_water_matrix, minimum, weighted_sum, worst_grade
from .constraints import class_ids, constraint_reasons, is_excluded
from .spec import CLASS_LAYERS, MASK_LAYERS, Criterion, TargetSpec, parse_target
from .transforms import apply_lut, fuzzy, grade_score, grades, linear, lookup_table


# --- layers ------------------------------------------------------------------------------
def prepare_layer(name: str, arr, nodata=None) -> np.ndarray:
    """Normalise one layer: masks -> bool (1 = inside; anything else, incl. nodata, outside),
    landuse -> uint8 (nodata -> 0), continuous -> float32 (nodata -> NaN)."""
    a = np.asarray(arr)
    if name in MASK_LAYERS:
        if a.dtype == bool:
            return a
        return a == 1
    if name in CLASS_LAYERS:
        out = a
        if nodata is not None:
            out = np.where(a == nodata, 0, a)
        if out.dtype.kind == "f":
            out = np.where(np.isnan(out), 0, out)
        return np.where((out >= 0) & (out < 256), out, 0).astype(np.uint8)
    out = a.astype(np.float32, copy=True)
    if nodata is not None and not (isinstance(nodata, float) and np.isnan(nodata)):
        out[a == nodata] = np.nan
    return out


def prepare_layers(layers: Mapping[str, np.ndarray], needed, nodata: Mapping | None = None) -> dict:
    nodata = nodata or {}
    missing = sorted(set(needed) - set(layers))
    if missing:
        raise KeyError(f"missing layer(s) {', '.join(missing)}; given: {', '.join(sorted(layers))}")
    out = {n: prepare_layer(n, layers[n], nodata.get(n)) for n in needed}
    shapes = {n: a.shape for n, a in out.items()}
    if len(set(shapes.values())) > 1:
        raise ValueError(f"layers differ in shape: {shapes}")
    return out


# --- scoring -----------------------------------------------------------------------------
def round_score(score) -> np.ndarray:
    """Float score (NaN = nodata) -> uint8 0..100, rounded half up; NaN -> 255."""
    s = np.array(score, dtype=np.float64)  # a copy: worked on in place
    nan = np.isnan(s)
    s[nan] = 0.0
    np.clip(s, 0.0, 100.0, out=s)
    s += 0.5
    np.floor(s, out=s)
    r = s.astype(np.uint8)
    r[nan] = SCORE_NODATA
    return r


def grade(score, reasons=None, grade_breaks=(70, 40)) -> np.ndarray:
    """Score -> grade code uint8 (1 suitable, 2 moderately, 3 unsuitable, 4 excluded, 255 nodata).

    `score`: uint8 (255 = nodata) or float (NaN = nodata; rounded like `round_score`).
    `grade_breaks`: (suitable, moderately_suitable) or the config mapping.
    `reasons`: optional uint16 reason bits; any bit but nodata -> 4, the nodata bit alone -> 255.
    """
    if isinstance(grade_breaks, Mapping):
        grade_breaks = (grade_breaks["suitable"], grade_breaks["moderately_suitable"])
    t_suit, t_mod = (float(v) for v in grade_breaks)
    score = np.asarray(score)
    s = score if score.dtype == np.uint8 else round_score(score)
    nodata = s == SCORE_NODATA
    g = np.where(
        s >= t_suit, GRADE_SUITABLE, np.where(s >= t_mod, GRADE_MODERATE, GRADE_UNSUITABLE)
    )
    if reasons is not None:
        reasons = np.asarray(reasons, dtype=np.uint16)
        nodata |= (reasons & np.uint16(NODATA_BIT)) != 0
        g = np.where(nodata, GRADE_NODATA, g)
        g = np.where(is_excluded(reasons), GRADE_EXCLUDED, g)
    else:
        g = np.where(nodata, GRADE_NODATA, g)
    return g.astype(np.uint8)


class _Compiled:
    """A TargetSpec with its lookup tables resolved against the classes table."""

    def __init__(self, spec: TargetSpec, classes_df: pd.DataFrame):
        self.spec = spec
        self.luts = {
            c.index: lookup_table(c.values, c.default, classes_df)
            for c in spec.criteria
            if c.transform == "lookup"
        }
        self.not_convertible = class_ids(spec.constraints.not_convertible_from, classes_df)
        self.layers = spec.layers() | {"landuse"}


def compile_target(spec: TargetSpec, classes_df: pd.DataFrame) -> _Compiled:
    return _Compiled(spec, classes_df)


def criterion_score(c, layers: Mapping[str, np.ndarray], lut=None) -> np.ndarray:
    x = layers[c.layer]
    if c.transform == "grades":
        s = grade_score(grades(x, c.breaks, c.descending))
    elif c.transform == "linear":
        s = linear(x, c.low, c.high)
    elif c.transform == "fuzzy":
        s = fuzzy(x, c.points)
    elif c.transform == "lookup":
        s = apply_lut(x, lut)
    else:  # pragma: no cover - the spec parser rejects other transforms
        raise ValueError(f"unknown transform {c.transform!r}")
    if c.override:
        mask, value = c.override
        s = np.where(layers[mask], np.float32(value), s).astype(np.float32)
    return s


def _graded(c: Criterion, layers: Mapping[str, np.ndarray]) -> np.ndarray:
    assert c.breaks is not None  # land_water_matrix criteria are grades criteria (the parser)
    return grades(layers[c.layer], c.breaks, c.descending)


def raw_score(comp: _Compiled, layers: Mapping[str, np.ndarray]) -> np.ndarray:
    """Combined float32 score 0..100 before constraints (NaN = nodata)."""
    spec = comp.spec
    if spec.combine == "land_water_matrix":
        land = [_graded(c, layers) for c in spec.criteria if c.role == "land"]
        water = [c for c in spec.criteria if c.role == "water"]
        wg = best_grade(
            [_graded(c, layers) for c in water],
            [layers[c.where] if c.where else None for c in water],
        )
        g = land_water_matrix(worst_grade(land), wg, spec.params.matrix)
        return grade_score(g, spec.params.matrix_scores)
    scores = [criterion_score(c, layers, comp.luts.get(c.index)) for c in spec.criteria]
    if spec.combine == "minimum":
        return minimum(scores)
    return weighted_sum(scores, spec.weights)


def evaluate_compiled(comp: _Compiled, layers: Mapping[str, np.ndarray]):
    """(score uint8, grade uint8, reasons uint16) from prepared layers."""
    reasons = constraint_reasons(layers, comp.spec.constraints, comp.not_convertible)
    s = raw_score(comp, layers)
    reasons[np.isnan(s)] |= np.uint16(NODATA_BIT)
    score = round_score(s)
    p = comp.spec.params
    g = grade(score, reasons, (p.suitable, p.moderately_suitable))
    score[g == GRADE_EXCLUDED] = 0
    score[g == GRADE_NODATA] = SCORE_NODATA
    return score, g, reasons


def evaluate_target(
    layers: Mapping[str, np.ndarray],
    target_name: str,
    target_cfg,
    suit_cfg: Mapping,
    classes_df: pd.DataFrame,
):
    """Evaluate one target on arrays sharing one grid.

    `layers`: {layer name: array}: masks bool or uint8 (1 = inside), ``landuse`` canonical class
    ids uint8 (0 = nodata), continuous layers float (NaN = nodata).
    `target_cfg`: the target's config mapping (or a parsed `TargetSpec`).
    Returns (score uint8 0..100 / 255, grade uint8, reasons uint16).
    Raises ConfigError for a bad spec, KeyError for a missing layer.
    """
    spec = (
        target_cfg
        if isinstance(target_cfg, TargetSpec)
        else parse_target(target_name, target_cfg, suit_cfg, classes_df, layers=list(layers))
    )
    comp = compile_target(spec, classes_df)
    return evaluate_compiled(comp, prepare_layers(layers, comp.layers))


# --- best use ----------------------------------------------------------------------------
def best_use(
    scores: Mapping[str, np.ndarray], grades_: Mapping[str, np.ndarray], order: Sequence[str]
):
    """(best uint8, runner_up uint8, best_score uint8); see the module doc for codes and ties.

    best_score is the best target's score, 0 where no target qualifies, 255 where no data.
    """
    order = list(order)
    if not order:
        raise ValueError("best_use needs at least one target in `order`")
    if len(order) > 254:
        raise ValueError("at most 254 targets fit the uint8 best-use code")
    n = len(order)
    s = np.stack([np.asarray(scores[t]).astype(np.int32) for t in order])
    g = np.stack([np.asarray(grades_[t]) for t in order])
    eligible = (g == GRADE_SUITABLE) | (g == GRADE_MODERATE)
    # rank key: higher score first, then earlier in the order; -1 = not eligible
    rank = (n - np.arange(n, dtype=np.int32)).reshape((n,) + (1,) * (s.ndim - 1))
    key = np.where(eligible, s * (n + 1) + rank, -1)
    first = np.argmax(key, axis=0)
    first_key = np.take_along_axis(key, first[None], axis=0)[0]
    np.put_along_axis(key, first[None], -1, axis=0)
    second = np.argmax(key, axis=0)
    second_key = np.take_along_axis(key, second[None], axis=0)[0]
    all_nodata = (g == GRADE_NODATA).all(axis=0)

    best = np.where(first_key >= 0, first + 1, BEST_NONE)
    runner = np.where(second_key >= 0, second + 1, BEST_NONE)
    best_score = np.where(first_key >= 0, np.take_along_axis(s, first[None], axis=0)[0], 0)
    best = np.where(all_nodata, BEST_NODATA, best).astype(np.uint8)
    runner = np.where(all_nodata, BEST_NODATA, runner).astype(np.uint8)
    best_score = np.where(all_nodata, SCORE_NODATA, best_score).astype(np.uint8)
    return best, runner, best_score
