# Input validation (before any compute) and, later, the analysis grid.


rule validate_inputs:
    """Check every contract item one survey year needs; fail with all problems listed."""
    input:
        unpack(lambda wc: inputs_for_year(wc.year)),
    output:
        md=f"{RESULTS}/{{year}}/validation/report.md",
        json=f"{RESULTS}/{{year}}/validation/report.json",
    params:
        # Reruns when what this year's inputs are changes (paths, scheme, fields, grid, reaches),
        # not when an unrelated parameter (a weight, a price) does. The script reads the whole
        # config from snakemake.config for the checks (an intended exception to params-only).
        inputs=lambda wc: validation_view(config, wc.year),
        version=NXGEO_VERSION,
    log:
        f"{RESULTS}/{{year}}/logs/validate_inputs.log",
    benchmark:
        f"{RESULTS}/{{year}}/benchmarks/validate_inputs.tsv"
    threads: 1
    resources:
        mem_mb=2000,
    script:
        "../scripts/validate_inputs.py"


rule validate_common:
    """Check the shared inputs (every layer and table; no land use) before the year-independent
    preparation: the same checks as validate_inputs, reported once."""
    input:
        [ancient(v) for k, v in contract_files(config).items() if not k.startswith("landuse_")],
    output:
        md=f"{RESULTS}/common/validation/report.md",
        json=f"{RESULTS}/common/validation/report.json",
    params:
        inputs=lambda wc: validation_view(config, None),
        version=NXGEO_VERSION,
    log:
        f"{RESULTS}/common/logs/validate_common.log",
    benchmark:
        f"{RESULTS}/common/benchmarks/validate_common.tsv"
    threads: 1
    resources:
        mem_mb=2000,
    script:
        "../scripts/validate_common.py"


rule prepare_vectors:
    """Every vector layer repaired, fields standardised (id, name, status ...), in the grid CRS."""
    input:
        [ancient(v["path"]) for v in config["inputs"]["vectors"].values() if v],
        validated=ancient(f"{RESULTS}/common/validation/report.json"),
    output:
        gpkg=f"{RESULTS}/common/vectors.gpkg",
    params:
        vectors=config["inputs"]["vectors"],
        crs=config["grid"]["crs"],
        version=NXGEO_VERSION,
    log:
        f"{RESULTS}/common/logs/prepare_vectors.log",
    benchmark:
        f"{RESULTS}/common/benchmarks/prepare_vectors.tsv"
    threads: 1
    resources:
        mem_mb=2000,
    script:
        "../scripts/prepare_vectors.py"


rule prepare_grid:
    """The analysis grid from the counties' extent (grid.json)."""
    input:
        counties=ancient(config["inputs"]["vectors"]["counties"]["path"]),
        validated=ancient(f"{RESULTS}/common/validation/report.json"),
    output:
        grid=f"{RESULTS}/common/grid.json",
    params:
        counties=config["inputs"]["vectors"]["counties"],
        grid=config["grid"],
        version=NXGEO_VERSION,
    log:
        f"{RESULTS}/common/logs/prepare_grid.log",
    benchmark:
        f"{RESULTS}/common/benchmarks/prepare_grid.tsv"
    threads: 1
    resources:
        mem_mb=1000,
    script:
        "../scripts/prepare_grid.py"


rule prepare_raster:
    """One continuous raster (DEM, precipitation, optional ones) reprojected onto the grid;
    one job per raster, so they are warped in parallel."""
    input:
        src=lambda wc: ancient(STATIC_RASTERS[wc.name]),
        grid=f"{RESULTS}/common/grid.json",
        validated=ancient(f"{RESULTS}/common/validation/report.json"),
    output:
        f"{RESULTS}/common/grid/{{name}}.tif",
    wildcard_constraints:
        name="|".join(STATIC_RASTERS) or "-",
    params:
        path=lambda wc: STATIC_RASTERS[wc.name],
        block_size=config["grid"].get("block_size", 512),
        version=NXGEO_VERSION,
    log:
        f"{RESULTS}/common/logs/prepare_raster_{{name}}.log",
    benchmark:
        f"{RESULTS}/common/benchmarks/prepare_raster_{{name}}.tsv"
    threads: 1
    resources:
        mem_mb=1000,
    script:
        "../scripts/prepare_raster.py"


rule prepare_landuse:
    """One year's land use on the grid: source codes and canonical classes (after validation)."""
    input:
        landuse=lambda wc: config["inputs"]["landuse"]["files"][landuse_key(wc.year)],
        validated=f"{RESULTS}/{{year}}/validation/report.json",
        grid=f"{RESULTS}/common/grid.json",
        vectors=f"{RESULTS}/common/vectors.gpkg",
    output:
        codes=f"{RESULTS}/{{year}}/grid/landuse_code.tif",
        canonical=f"{RESULTS}/{{year}}/grid/landuse.tif",
    params:
        scheme=config["inputs"]["landuse"]["scheme"],
        classes_table=config["landuse"]["classes_table"],
        block_size=config["grid"].get("block_size", 512),
        version=NXGEO_VERSION,
    log:
        f"{RESULTS}/{{year}}/logs/prepare_landuse.log",
    benchmark:
        f"{RESULTS}/{{year}}/benchmarks/prepare_landuse.tsv"
    threads: 1
    resources:
        mem_mb=2000,
    script:
        "../scripts/prepare_landuse.py"


rule clip_static:
    """The year-independent rasters (DEM, precipitation, optional ones) cut to one reach, once
    for all survey years (each year's folder gets a copy: rule reach_static)."""
    input:
        rasters=[f"{RESULTS}/common/grid/{name}.tif" for name in STATIC_RASTERS],
        vectors=f"{RESULTS}/common/vectors.gpkg",
    output:
        **{name: f"{RESULTS}/common/reaches/{{reach}}/{name}.tif" for name in STATIC_RASTERS},
    params:
        block_size=config["grid"].get("block_size", 512),
        version=NXGEO_VERSION,
    log:
        f"{RESULTS}/common/logs/clip_static_{{reach}}.log",
    benchmark:
        f"{RESULTS}/common/benchmarks/clip_static_{{reach}}.tsv"
    threads: 1
    resources:
        mem_mb=2000,
    script:
        "../scripts/clip_reach.py"


rule clip_reach:
    """One year's land use (canonical classes and source codes) cut to one reach, as COGs."""
    input:
        landuse=f"{RESULTS}/{{year}}/grid/landuse.tif",
        landuse_code=f"{RESULTS}/{{year}}/grid/landuse_code.tif",
        vectors=f"{RESULTS}/common/vectors.gpkg",
    output:
        **{name: f"{RESULTS}/{{year}}/reaches/{{reach}}/{name}.tif" for name in YEAR_LAYERS},
    params:
        block_size=config["grid"].get("block_size", 512),
        version=NXGEO_VERSION,
    log:
        f"{RESULTS}/{{year}}/logs/clip_reach_{{reach}}.log",
    benchmark:
        f"{RESULTS}/{{year}}/benchmarks/clip_reach_{{reach}}.tsv"
    threads: 1
    resources:
        mem_mb=2000,
    script:
        "../scripts/clip_reach.py"


rule reach_static:
    """A year's copy of the year-independent layers of one reach (clipped DEM, precipitation
    ..., terrain), computed once in results/common/reaches/: every year's folder stays
    complete on its own, and a new survey year costs a copy, not a recomputation."""
    input:
        **{name: f"{RESULTS}/common/reaches/{{reach}}/{name}.tif"
           for name in [*STATIC_RASTERS, *TERRAIN_LAYERS]},
    output:
        **{name: f"{RESULTS}/{{year}}/reaches/{{reach}}/{name}.tif"
           for name in [*STATIC_RASTERS, *TERRAIN_LAYERS]},
    log:
        f"{RESULTS}/{{year}}/logs/reach_static_{{reach}}.log",
    benchmark:
        f"{RESULTS}/{{year}}/benchmarks/reach_static_{{reach}}.tsv"
    threads: 1
    resources:
        mem_mb=500,
    script:
        "../scripts/copy_files.py"
