"""Development suitability ("double evaluation" 双评价) overlay: pure numpy/rasterio, no Snakemake.

Modules: `transforms` (criterion -> score 0-100), `combine` (weighted sum, minimum, land x
water matrix), `constraints` (hard constraints with reason bits), `spec` (target specs from
config, `spec_problems`), `overlay` (arrays: `evaluate_target`, `grade`, `best_use`), `files`
(block-wise raster driver `suitability_files`), `codes` (grade / reason / best-use legends).
"""

from .codes import (
    GRADE_EXCLUDED,
    GRADE_MODERATE,
    GRADE_NODATA,
    GRADE_SUITABLE,
    GRADE_UNSUITABLE,
    NODATA_BIT,
    REASON_BIT,
    REASONS,
    decode_reasons,
    reason_legend_df,
    write_reason_legend,
)
from .combine import land_water_matrix, minimum, weighted_sum
from .files import suitability_files
from .overlay import best_use, evaluate_target, grade, round_score
from .spec import (
    KNOWN_LAYERS,
    MASK_LAYERS,
    TargetSpec,
    best_use_order,
    config_layers,
    parse_all,
    parse_target,
    spec_problems,
)
from .transforms import fuzzy, grade_score, grades, linear, lookup

__all__ = [
    "GRADE_EXCLUDED",
    "GRADE_MODERATE",
    "GRADE_NODATA",
    "GRADE_SUITABLE",
    "GRADE_UNSUITABLE",
    "KNOWN_LAYERS",
    "MASK_LAYERS",
    "NODATA_BIT",
    "REASONS",
    "REASON_BIT",
    "TargetSpec",
    "best_use",
    "best_use_order",
    "config_layers",
    "decode_reasons",
    "evaluate_target",
    "fuzzy",
    "grade",
    "grade_score",
    "grades",
    "land_water_matrix",
    "linear",
    "lookup",
    "minimum",
    "parse_all",
    "parse_target",
    "reason_legend_df",
    "round_score",
    "spec_problems",
    "suitability_files",
    "weighted_sum",
    "write_reason_legend",
]
