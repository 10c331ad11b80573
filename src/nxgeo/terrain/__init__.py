"""Terrain library (transitional: the module moved into this package; split in the next commit)."""

from .hydrology import *  # noqa: F403
from .hydrology import (  # noqa: F401
    DISTANCE_SOURCES,
    DISTANCE_TILE_CELLS,
    FLOW_MAX_CELLS,
    FLOW_TILE,
    TERRAIN_LAYERS,
    coarse_flow_length,
    flow_coarsening,
    terrain_reach,
)
