"""Candidate parcels for the restoration pathways (DOMAIN.md §6): pure library, no Snakemake.

Modules: `parcels` (parcels per pathway and reach: layer polygons or clumped pixels; `clumps`
the clumping of pixels into parcels, `units` the project units, `consolidation` pathway D),
`attributes` (zonal attributes with exactextract), `decide` (decision rules per pathway,
indicators), `allocation` (water allocation per county: greedy and exact MILP), `ids` (stable
parcel ids), `styles` (QGIS styles in the GeoPackage), `outputs` (schema, GeoPackage writer,
summaries), `registry` (the builder and the decider of each pathway), `stage` (the workflow's
stage functions).
"""

import importlib

# Names re-exported from the submodules, imported on first use (PEP 562): a step that needs only
# `parcels` does not pay for scipy.optimize, the GeoPackage styles, etc. at start-up.
_EXPORTS = {
    "allocate": "allocation",
    "build_options": "allocation",
    "decide_homestead": "decide",
    "decide_mine": "decide",
    "decide_sand": "decide",
    "decide_wasteland": "decide",
    "wasteland_mask": "parcels",
    "wasteland_parcels": "parcels",
    "finalize": "decide",
    "sand_priority": "decide",
    "location_ids": "ids",
    "resolve_collisions": "ids",
    "source_ids": "ids",
    "CORE_FIELDS": "outputs",
    "schema": "outputs",
    "summary_by_county": "outputs",
    "water_balance": "outputs",
    "write_candidates_gpkg": "outputs",
    "PATHWAYS": "parcels",
    "clump_county_index": "clumps",
    "clump_parcels": "clumps",
    "allocate_year": "stage",
    "candidates_reach": "stage",
    "add_layer_styles": "styles",
    "qml": "styles",
}


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
