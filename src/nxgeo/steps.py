"""One function per workflow rule, named exactly as the rule: rule ``X`` (workflow/rules/*.smk)
runs ``workflow/scripts/X.py``, which sets up the step's log and calls ``nxgeo.steps.X``; this
function is a thin call into the domain module, with the files of the rule's ``input:`` and
``output:`` and the values of its ``params:`` (every file a step reads is an input of its rule;
the paths come from nxgeo.layout). No Snakemake here: `input`, `output`, `params` and
`wildcards` are the job's named lists (any object with the same attributes works in a test);
`threads` and `config` are the job's (config only for what does not change the outputs, such as
the dask scheduler).

Each domain module is imported inside its step, so importing this module costs nothing.
"""

from __future__ import annotations


def sample(input, output, params, wildcards, threads=1, config=None, log=()):
    """Rule sample: build the embedded sample region."""
    from pathlib import Path

    from nxgeo.logs import progress_enabled
    from nxgeo.sample import build_sample

    s = params.sample
    build_sample(
        reference_dir=s["reference_dir"],
        out_dir=Path(s["out_dir"]),
        resolution=float(s["resolution"]),
        seed=int(s["seed"]),
        n_homesteads=int(s["n_homesteads"]),
        n_mines=int(s["n_mines"]),
        years=tuple(params.years),
        progress=progress_enabled(),
    )


def validate_scope(input, output, params, wildcards, threads=1, config=None, log=()):
    """Rule validate_scope: check one group of shared inputs (nxgeo.validate.scope); never fails."""
    from nxgeo.validate.scope import validate_scope

    validate_scope(config, params.scope, output.json)


def validate_landuse(input, output, params, wildcards, threads=1, config=None, log=()):
    """Rule validate_landuse: check one year's land use (nxgeo.validate.scope); never fails."""
    from nxgeo.validate.scope import validate_scope

    validate_scope(config, params.scope, output.json)


def validate_common(input, output, params, wildcards, threads=1, config=None, log=()):
    """Rule validate_common: the report of every shared input, from the scope checks; fails listing
    every problem."""
    from nxgeo.validate.scope import report_scopes

    ok = report_scopes(
        list(input.scopes),
        params.what,
        output.md,
        output.json,
        log_path=log[0],
    )
    if not ok:  # the report lists every problem; the job fails so the run stops
        raise SystemExit(1)


def validate_inputs(input, output, params, wildcards, threads=1, config=None, log=()):
    """Rule validate_inputs: the report of what one survey year needs (its land use and the shared
    inputs), from the scope checks; fails listing every problem."""
    from nxgeo.validate.scope import report_scopes

    ok = report_scopes(
        list(input.scopes),
        params.what,
        output.md,
        output.json,
        log_path=log[0],
    )
    if not ok:  # the report lists every problem; the job fails so the run stops
        raise SystemExit(1)


def prepare_vectors(input, output, params, wildcards, threads=1, config=None, log=()):
    """Rule prepare_vectors: prepare every vector layer (repaired, standardised, in the grid CRS)."""
    from nxgeo.prepare import prepare_vectors

    prepare_vectors(params.vectors, params.crs, output.gpkg)


def prepare_grid(input, output, params, wildcards, threads=1, config=None, log=()):
    """Rule prepare_grid: define the analysis grid from the counties (grid.json)."""
    from nxgeo.prepare import define_grid

    define_grid(params.counties, params.grid, output.grid)


def prepare_raster(input, output, params, wildcards, threads=1, config=None, log=()):
    """Rule prepare_raster: one continuous raster onto the analysis grid."""
    from nxgeo.parallel import for_job
    from nxgeo.prepare import prepare_raster

    prepare_raster(
        input.src,
        input.grid,
        output[0],
        block_size=params.block_size,
        dask=for_job(config["dask"], threads),
        categorical=params.categorical,
    )


def prepare_dltb(input, output, params, wildcards, threads=1, config=None, log=()):
    """Rule prepare_dltb: one year's DLTB (地类图斑) read, checked and standardised."""
    from nxgeo.prepare import prepare_dltb

    prepare_dltb(
        params.path,
        params.polygons,
        params.scheme,
        input.classes,
        input.vectors,
        params.crs,
        output.gpkg,
    )


def prepare_landuse(input, output, params, wildcards, threads=1, config=None, log=()):
    """Rule prepare_landuse: one year's land use on the analysis grid (codes, canonical classes, ownership)."""
    from nxgeo.parallel import for_job
    from nxgeo.prepare import prepare_landuse

    prepare_landuse(
        input.landuse,
        input.grid,
        params.scheme,
        input.classes,
        input.vectors,
        output.codes,
        output.canonical,
        block_size=params.block_size,
        # the scheduler does not change the output: from the config, not a param
        dask=for_job(config["dask"], threads),
        out_ownership=output.ownership,
        fmt=params.format,
        ownership_src=params.ownership,
        supersample=params.supersample,
    )


def clip_static(input, output, params, wildcards, threads=1, config=None, log=()):
    """Rule clip_static: the year-independent grid rasters cut to one reach (COGs)."""
    from pathlib import Path

    from nxgeo.clip import clip_reach

    by_name = {Path(p).stem: p for p in input if str(p).endswith(".tif")}
    clip_reach(
        {name: by_name[name] for name in output.keys()},
        input.vectors,
        wildcards.reach,
        dict(output.items()),
        block_size=params.block_size,
    )


def clip_reach(input, output, params, wildcards, threads=1, config=None, log=()):
    """Rule clip_reach: one year's land-use rasters cut to one reach (COGs)."""
    from pathlib import Path

    from nxgeo.clip import clip_reach

    by_name = {Path(p).stem: p for p in input if str(p).endswith(".tif")}
    clip_reach(
        {name: by_name[name] for name in output.keys()},
        input.vectors,
        wildcards.reach,
        dict(output.items()),
        block_size=params.block_size,
    )


def reach_static(input, output, params, wildcards, threads=1, config=None, log=()):
    """Rule reach_static: copy a reach's year-independent layers into a year's folder (atomic copies)."""
    from nxgeo.atomic import copy_atomic

    for name, dst in output.items():
        copy_atomic(input[name], dst)


def terrain(input, output, params, wildcards, threads=1, config=None, log=()):
    """Rule terrain: terrain layers of one reach."""
    from nxgeo.terrain import DISTANCE_TILE_CELLS, terrain_reach

    t = params.terrain
    terrain_reach(
        input.dem_grid,
        input.template,
        input.vectors,
        dict(output.items()),
        distance_max_m=float(t["distance_max_m"]),
        s_method=t["s_method"],
        l_max=t["l_max"],
        flow_max_cells=t["flow_max_cells"],
        flow_tile=int(t["flow_tile"]),
        # no schema default (a tuning knob, same result for any value): a default would be
        # filled into this rule's params and change the stamp of every terrain raster
        distance_tile_cells=int(t.get("distance_tile_cells", DISTANCE_TILE_CELLS)),
    )


def zones(input, output, params, wildcards, threads=1, config=None, log=()):
    """Rule zones: zone layers (constraint masks, county, water-quota modulus) of one reach."""
    from nxgeo.zones import reach_zone_layers

    outputs = {k: v for k, v in output.items()}
    reach_zone_layers(
        input.template,
        input.vectors,
        input.budgets,
        int(wildcards.year),
        outputs,
        canal_buffer_m=float(params.canal_buffer_m),
        area_crs=params.area_crs,
    )


def inventory(input, output, params, wildcards, threads=1, config=None, log=()):
    """Rule inventory: the survey inventory of one year (per county and per reach)."""
    from nxgeo.inventory import inventory_year

    inventory_year(
        input.canonical,
        input.codes,
        input.vectors,
        input.classes,
        params.scheme,
        output.by_class,
        output.by_code,
        output.reconcile,
        mu_per_ha=params.mu_per_ha,
        ownership_path=input.ownership,
        out_ownership_csv=output.ownership,
    )


def inventory_polygons(input, output, params, wildcards, threads=1, config=None, log=()):
    """Rule inventory_polygons: the inventory of one year from the DLTB polygon areas."""
    from nxgeo.survey.inventory import inventory_polygons_year

    inventory_polygons_year(
        input.dltb,
        input.vectors,
        input.classes,
        params.scheme,
        params.county_from,
        input.raster_by_class,
        dict(output.items()),
        mu_per_ha=params.mu_per_ha,
    )


def ownership_change(input, output, params, wildcards, threads=1, config=None, log=()):
    """Rule ownership_change: the change of ownership (权属) per county between two survey years."""
    from nxgeo.survey.inventory import ownership_change_year

    ownership_change_year(
        input,
        output,
        int(wildcards.year_a),
        int(wildcards.year_b),
        mu_per_ha=params.mu_per_ha,
        block_size=params.block_size,
    )


def official_layer(input, output, params, wildcards, threads=1, config=None, log=()):
    """Rule official_layer: one official 双评价 layer coded on a reach's grid."""
    from nxgeo.suitability.official import official_layer_file

    i, p = input, params
    src = {"raster": i.source} if p.source == "raster" else {"vectors_gpkg": i.source}
    official_layer_file(
        wildcards.kind,
        p.values,
        i.landuse,
        output[0],
        strip_rows=p.block_size,
        **src,
    )


def official_disagreement(input, output, params, wildcards, threads=1, config=None, log=()):
    """Rule official_disagreement: the reaches' computed-vs-official disagreement tables as one year table."""
    from nxgeo.suitability.official import gather_disagreement

    gather_disagreement(list(input), output[0])


def suitability(input, output, params, wildcards, threads=1, config=None, log=()):
    """Rule suitability: suitability overlay of one reach."""
    from pathlib import Path

    import pandas as pd

    from nxgeo.parallel import for_job
    from nxgeo.suitability import suitability_files

    layers = dict(input.items())
    official = {k: layers.pop(f"official_{k}") for k in params.official}
    county = layers.pop("zone_county", None)
    suitability_files(
        layers,
        Path(output.best_use).parent,
        params.suitability,
        pd.read_csv(input.classes),
        block_rows=params.block_size,
        # the scheduler does not change the output: from the config, not a param
        dask=for_job(config["dask"], threads),
        official=official or None,
        county=county,
        reach=wildcards.reach,
    )


def water_capacity(input, output, params, wildcards, threads=1, config=None, log=()):
    """Rule water_capacity: per-county potential water demand of all suitable land vs headroom."""
    from nxgeo.layout import files_by_reach
    from nxgeo.water import water_capacity_year

    p = params
    water_capacity_year(
        files_by_reach(input, p.reaches),
        list(p.order),
        int(wildcards.year),
        input.budgets,
        input.demand,
        input.classes,
        p.water,
        output.summary,
        output.headroom,
    )


def services_reach(input, output, params, wildcards, threads=1, config=None, log=()):
    """Rule services_reach: ecosystem-service rasters of one reach and year."""
    from pathlib import Path

    from nxgeo.services import services_reach

    i, p = input, params
    optional = dict(zip(p.optional, i.optional))
    optional["slope"] = i.slope
    services_reach(
        {"landuse": i.landuse, "precipitation": i.precipitation, "ls": i.ls},
        p.services,
        i.carbon,
        i.prices,
        i.coefficients,
        i.classes,
        Path(output.meta).parent,
        rasters=optional,
        landuse_prev=i.landuse_prev[0] if i.landuse_prev else None,
        extra_layers=p.extra_layers,
    )


def services_year(input, output, params, wildcards, threads=1, config=None, log=()):
    """Rule services_year: service quantities, values and the GEP account per county and reach for one year."""
    from nxgeo.layout import files_by_reach
    from nxgeo.services import services_year

    i, o, p = input, output, params
    stats = {
        k: getattr(i, k) if k in p.statistics else None
        for k in ("material_products", "cultural_services")
    }
    services_year(
        files_by_reach(input, p.reaches),
        int(wildcards.year),
        i.vectors,
        o.county,
        o.reach,
        cfg_services=p.services,
        prices_csv=i.prices,
        coefficients_csv=i.coefficients,
        classes_table=i.classes,
        out_accounts_csv=o.accounts,
        out_gep_county_csv=o.gep_county,
        out_gep_reach_csv=o.gep_reach,
        material_csv=stats["material_products"],
        cultural_csv=stats["cultural_services"],
    )


def candidates(input, output, params, wildcards, threads=1, config=None, log=()):
    """Rule candidates: candidate parcels of one reach (before the water allocation)."""
    from pathlib import Path

    from nxgeo.candidates.stage import candidates_reach, reach_rasters
    from nxgeo.suitability import best_use_order

    p = params
    names = [Path(rel).name for rel in reach_rasters(best_use_order(p.suitability))]
    candidates_reach(
        {n: input[n] for n in names},
        input.vectors,
        wildcards.reach,
        int(wildcards.year),
        p.pathways,
        p.suitability,
        input.classes,
        output.gpkg,
        demand_csv=input.demand,
        water_cfg=p.water,
        mu_per_ha=p.mu_per_ha,
        out_stats=output.stats,
        hazard_dem=input.hazard_dem,
    )


def allocate_water(input, output, params, wildcards, threads=1, config=None, log=()):
    """Rule allocate_water: water allocation over all reaches of a year, with service gains per parcel."""
    from functools import partial

    from nxgeo.candidates import allocate_year
    from nxgeo.services import parcel_gains
    from nxgeo.vector_io import county_names

    i, o, p = input, output, params
    gains = partial(
        parcel_gains,
        cfg_services=p.services,
        carbon_csv=i.carbon,
        prices_csv=i.prices,
        classes_table=input.classes,
        coefficients_csv=i.coefficients,
        s_method=p.s_method,
    )
    allocate_year(
        i.reaches,
        i.budgets,
        i.demand,
        int(wildcards.year),
        p.water,
        o.gpkg,
        o.summary,
        o.water_balance,
        cfg_pathways=p.pathways,
        county_names=county_names(i.vectors),
        gains=gains,
        out_gains_csv=o.gains,
        out_pathways_csv=o.pathways,
        unit_costs=i.unit_costs,
        previous_gpkg=i.previous[0] if i.previous else None,
        tracking_cfg=p.tracking,
        stability_cfg=p.stability,
    )


def maps(input, output, params, wildcards, threads=1, config=None, log=()):
    """Rule maps: the maps of one survey year."""
    from nxgeo.maps import maps_year

    i, p = input, params
    files = {
        "vectors": i.vectors,
        "grid": i.grid,
        "dem": i.dem,
        "candidates": i.candidates,
        "landuse": [i.landuse],
        "best_use": list(i.best_use),
        "best_use_legend": i.best_use_legend,
        "grades": {t: list(i[f"grade_{t}"]) for t in p.targets},
    }
    maps_year(
        int(wildcards.year),
        files,
        input.classes,
        p.subset,
        output[0],
        county_names=getattr(input, "county_names", None),
        workers=threads,
    )


def provenance(input, output, params, wildcards, threads=1, config=None, log=()):
    """Rule provenance: provenance.json of one survey year."""
    from pathlib import Path

    from nxgeo.provenance import provenance_year

    inputs = {}
    for key, value in input.items():
        if key in ("outputs", "maps"):
            continue
        if isinstance(value, str):
            inputs[key] = value
        elif key == "landuse_tables":  # the class table and every scheme table
            inputs.update({f"landuse_table_{Path(f).stem}": f for f in value})
        else:  # a data file and its sidecars: provenance hashes the sidecars with the file
            inputs[key] = value[0] if len(value) else None
    provenance_year(
        params.config,
        inputs,
        int(wildcards.year),
        Path(log[0]).parent,
        output[0],
    )


def report(input, output, params, wildcards, threads=1, config=None, log=()):
    """Rule report: the yearly report (one self-contained HTML page) from its declared inputs."""
    import logging

    from nxgeo.report import REPORT_INPUTS, report_year

    inputs = {k: getattr(input, k) for k in input.keys() if k in REPORT_INPUTS}
    report_year(int(wildcards.year), inputs, params.config, output[0])
    if not params.chromium:
        logging.getLogger("nxgeo.report").warning(
            "chromium not found: report.pdf is not made, the HTML report is complete"
        )


def report_pdf(input, output, params, wildcards, threads=1, config=None, log=()):
    """Rule report_pdf: the yearly report printed to PDF by headless Chromium."""
    from nxgeo.report import print_pdf

    if print_pdf(input[0], output[0], chromium=params.chromium) is None:
        raise SystemExit("chromium not found: install Debian's chromium to print the report")


def transitions(input, output, params, wildcards, threads=1, config=None, log=()):
    """Rule transitions: land-use transitions between two survey years."""
    from nxgeo.transitions import compare_years

    compare_years(
        input.a,
        input.b,
        input.vectors,
        input.classes,
        int(wildcards.year_a),
        int(wildcards.year_b),
        output.county,
        output.reach,
        output.matrix,
        output.change,
        mu_per_ha=params.mu_per_ha,
        block_size=params.block_size,
    )


def services_compare(input, output, params, wildcards, threads=1, config=None, log=()):
    """Rule services_compare: change of every service and of GEP between two years."""
    from nxgeo.services import compare_services

    i, o, w = input, output, wildcards
    compare_services(
        i.county_a,
        i.county_b,
        i.reach_a,
        i.reach_b,
        int(w.year_a),
        int(w.year_b),
        o.county,
        o.reach,
        gep_county_a=i.gep_county_a,
        gep_county_b=i.gep_county_b,
        gep_reach_a=i.gep_reach_a,
        gep_reach_b=i.gep_reach_b,
        out_gep_county_csv=o.gep_county,
        out_gep_reach_csv=o.gep_reach,
    )


def ledgers(input, output, params, wildcards, threads=1, config=None, log=()):
    """Rule ledgers: greening ledger (with trades) and county carbon balance."""
    from pathlib import Path

    from nxgeo.ledgers import ledgers_year

    i, w = input, wildcards
    ledgers_year(
        i.transitions,
        i.services,
        i.inventory,
        i.targets,
        i.emissions,
        int(w.year_a),
        int(w.year_b),
        params.ledgers,
        params.landuse,
        i.prices,
        Path(output.ledger).parent,
        water_capacity_csv=i.water_capacity,
        demand_csv=i.demand,
    )


def programme(input, output, params, wildcards, threads=1, config=None, log=()):
    """Rule programme: the year's budgeted restoration programme (nxgeo.programme)."""
    from nxgeo.programme import programme_year

    i, o, p = input, output, params
    programme_year(
        i.candidates,
        i.water_balance,
        int(wildcards.year),
        p.programme,
        o.table,
        o.gpkg,
        o.summary,
        o.marginal,
        o.reference,
    )


def candidates_diff(input, output, params, wildcards, threads=1, config=None, log=()):
    """Rule candidates_diff: the candidate diff of two survey years (nxgeo.tracking)."""
    from nxgeo.tracking import candidates_diff

    i, o, p = input, output, params
    candidates_diff(
        i.a,
        i.b,
        i.landuse_a,
        i.landuse_b,
        input.classes,
        p.parcel_targets,
        p.tracking,
        p.mu_per_ha,
        o.gpkg,
        o.csv,
        o.summary,
    )


def progress(input, output, params, wildcards, threads=1, config=None, log=()):
    """Rule progress: cumulative progress since the first survey year (nxgeo.tracking)."""
    from nxgeo.tracking import progress_table

    progress_table(
        input.summaries,
        params.pairs,
        input.targets,
        int(wildcards.year),
        params.mu_per_ha,
        output[0],
    )


def county_scorecard(input, output, params, wildcards, threads=1, config=None, log=()):
    """Rule county_scorecard: the county assessment scorecard of one year."""
    from nxgeo.layout import files_by_reach
    from nxgeo.scorecard import county_scorecard

    i, p = input, params
    county_scorecard(
        files_by_reach(input, p.reaches),
        int(wildcards.year),
        i.vectors,
        i.classes,
        output[0],
        cfg_scorecard=p.scorecard,
        fvc_by_class=p.fvc_by_class,
        gep_csv=i.gep,
        candidates_gpkg=i.candidates,
        water_balance_csv=i.water_balance,
        compare_from=p.compare_from,
        gep_change_csv=i.get("gep_change"),
        cropland_csv=i.get("cropland"),
        greening_csv=i.get("greening"),
        carbon_csv=i.get("carbon"),
        programme_csv=i.programme,
        mu_per_ha=p.mu_per_ha,
    )


def export(input, output, params, wildcards, threads=1, config=None, log=()):
    """Rule export: the year's candidate layers and county tables in the formats the department files."""
    from nxgeo.export import export_year

    i, o, p = input, output, params
    export_year(i.candidates, dict(zip(p.tables, i.tables)), o[0], pathways=p.pathways, crs=p.crs)


def gis_compare(input, output, params, wildcards, threads=1, config=None, log=()):
    """Rule gis_compare: styles of a comparison's change raster and .csvt of its tables."""
    from nxgeo.qgis_project import gis_files

    gis_files(
        input.rasters,
        input.tables,
        input.classes,
        expected=list(output.sidecars) + list(output.csvt),
    )


def qgis_project(input, output, params, wildcards, threads=1, config=None, log=()):
    """Rule qgis_project: the year's QGIS project, raster styles, VRT mosaics and .csvt files."""
    from nxgeo.qgis_project import qgis_year

    qgis_year(
        int(wildcards.year),
        output.qgz.rsplit("/", 1)[0],
        input.rasters,
        input.tables,
        input.classes,
        input.scheme,
        input.vectors,
        input.candidates,
        input.dem,
        output.qgz,
        params.targets,
        params.target_cfg,
        params.region["region_name"],
        expected=list(output.sidecars) + list(output.csvt) + list(output.mosaics),
        change_rasters=[p for p in input.compare if p.endswith(".tif")],
    )
