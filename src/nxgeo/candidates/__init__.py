"""Candidate parcels for the restoration pathways (docs/domain.md §6): pure library, no Snakemake.

Modules: `parcels` (parcels per pathway and reach: layer polygons or clumped pixels; `clumps`
the clumping of pixels into parcels, `units` the project units, `consolidation` pathway D),
`attributes` (zonal attributes with exactextract), `decide` (decision rules per pathway,
indicators), `allocation` (water allocation per county: greedy and exact MILP), `ids` (stable
parcel ids), `styles` (QGIS styles in the GeoPackage), `outputs` (schema, GeoPackage writer,
summaries), `registry` (the builder and the decider of each pathway), `stage` (the workflow's
stage functions).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy_exports

#: public name -> the submodule defining it (imported on first use: nxgeo.lazy)
_EXPORTS = {
    "CORE_FIELDS": "outputs",
    "PATHWAYS": "parcels",
    "add_layer_styles": "styles",
    "allocate": "allocation",
    "allocate_year": "stage",
    "build_options": "allocation",
    "candidates_reach": "stage",
    "clump_county_index": "clumps",
    "clump_parcels": "clumps",
    "decide_homestead": "decide",
    "decide_mine": "decide",
    "decide_sand": "decide",
    "decide_wasteland": "decide",
    "finalize": "decide",
    "location_ids": "ids",
    "qml": "styles",
    "resolve_collisions": "ids",
    "sand_priority": "decide",
    "schema": "outputs",
    "source_ids": "ids",
    "summary_by_county": "outputs",
    "wasteland_mask": "parcels",
    "wasteland_parcels": "parcels",
    "water_balance": "outputs",
    "write_candidates_gpkg": "outputs",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:  # the same names, for type checkers
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
    from .outputs import (
        CORE_FIELDS,
        schema,
        summary_by_county,
        water_balance,
        write_candidates_gpkg,
    )
    from .parcels import PATHWAYS, wasteland_mask, wasteland_parcels
    from .stage import allocate_year, candidates_reach
    from .styles import add_layer_styles, qml
