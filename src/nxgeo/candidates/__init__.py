"""Candidate parcels for the restoration pathways (docs/domain.md §6): pure library, no Snakemake.

Modules: `parcels` (parcels per pathway and reach: layer polygons or clumped pixels; `clumps`
the clumping of pixels into parcels, `units` the project units, `consolidation` pathway D),
`attributes` (zonal attributes with exactextract), `decide` (decision rules per pathway,
indicators), `allocation` (water allocation per county: greedy and exact MILP), `ids` (stable
parcel ids), `styles` (QGIS styles in the GeoPackage), `outputs` (schema, GeoPackage writer,
summaries), `registry` (the builder and the decider of each pathway), `stage` (the workflow's
stage functions).
"""

from .allocation import allocate, build_options
from .clumps import clump_county_index, clump_parcels
from .decide import (
    decide_homestead,
    decide_mine,
    decide_sand,
    decide_wasteland,
    finalize,
    sand_priority,
)
from .ids import location_ids, resolve_collisions, source_ids
from .outputs import CORE_FIELDS, schema, summary_by_county, water_balance, write_candidates_gpkg
from .parcels import PATHWAYS, wasteland_mask, wasteland_parcels
from .stage import allocate_year, candidates_reach
from .styles import add_layer_styles, qml

__all__ = [
    "CORE_FIELDS",
    "PATHWAYS",
    "add_layer_styles",
    "allocate",
    "allocate_year",
    "build_options",
    "candidates_reach",
    "clump_county_index",
    "clump_parcels",
    "decide_homestead",
    "decide_mine",
    "decide_sand",
    "decide_wasteland",
    "finalize",
    "location_ids",
    "qml",
    "resolve_collisions",
    "sand_priority",
    "schema",
    "source_ids",
    "summary_by_county",
    "wasteland_mask",
    "wasteland_parcels",
    "water_balance",
    "write_candidates_gpkg",
]
