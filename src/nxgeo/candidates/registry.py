"""Which function builds the parcels of a pathway and which decides them.

One table each, for the five pathways (`parcels.PATHWAYS`): the builders and deciders live in
`parcels` and `decide` (A, B, C, W) and `consolidation` (D), which import each other only
downwards; this module, above them, puts them together for `stage`.
"""

from .consolidation import consolidation_parcels, decide_consolidation
from .decide import decide_homestead, decide_mine, decide_sand, decide_wasteland
from .parcels import homestead_parcels, mine_parcels, sand_parcels, wasteland_parcels

#: pathway -> f(ctx, cfg_pathways) -> (parcels, stats)
PARCEL_BUILDERS = {
    "homestead_greening": homestead_parcels,
    "mine_remediation": mine_parcels,
    "sand_control": sand_parcels,
    "state_wasteland": wasteland_parcels,
    "land_consolidation": consolidation_parcels,
}

#: pathway -> f(df, cfg_pathways, cfg_suitability, cfg_water) -> decided frame
DECIDERS = {
    "homestead_greening": decide_homestead,
    "mine_remediation": decide_mine,
    "sand_control": decide_sand,
    "state_wasteland": decide_wasteland,
    "land_consolidation": decide_consolidation,
}
