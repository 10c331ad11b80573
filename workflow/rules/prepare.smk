# Input validation (before any compute) and, later, the analysis grid.


rule validate_scope:
    """Check one group of shared inputs (every vector layer; the counties; one raster; one
    table). Gates the steps that read them (see nxgeo.validate.scope); never fails itself."""
    input:
        unpack(lambda wc: scope_inputs(SCOPE_FILES[wc.scope])),
    output:
        json=OUT.validation_item("{scope}"),
    wildcard_constraints:
        scope="|".join(SCOPE_FILES),
    params:
        scope=lambda wc: SCOPE_FILES[wc.scope],
        # reruns when what the scope's inputs are changes (paths, fields, the grid ...)
        view=lambda wc: scope_view(SCOPE_FILES[wc.scope]),
        version=NXGEO_VERSION,
    log:
        OUT.common_log("validate_{scope}"),
    benchmark:
        OUT.common_benchmark("validate_{scope}")
    threads: 1
    resources:
        mem_mb=2000,
    priority: 100
    script:
        "../scripts/validate_scope.py"


rule validate_landuse:
    """Check one survey year's land use (codes, scheme, nodata, coverage); gates
    prepare_landuse of that year."""
    input:
        unpack(lambda wc: scope_inputs(f"landuse:{wc.year}")),
    output:
        json=OUT.validation("landuse.json"),
    params:
        scope=lambda wc: f"landuse:{wc.year}",
        view=lambda wc: scope_view(f"landuse:{wc.year}"),
        version=NXGEO_VERSION,
    log:
        OUT.log("validate_landuse"),
    benchmark:
        OUT.benchmark("validate_landuse")
    threads: 1
    resources:
        mem_mb=2000,
    priority: 100
    script:
        "../scripts/validate_landuse.py"


rule validate_common:
    """The report of every shared input (all problems at once); fails the run if any."""
    input:
        scopes=[scope_json(s) for s in SHARED_SCOPES],
    output:
        md=OUT.common_validation("report.md"),
        json=OUT.common_validation("report.json"),
    params:
        what="the shared inputs",
        version=NXGEO_VERSION,
    log:
        OUT.common_log("validate_common"),
    benchmark:
        OUT.common_benchmark("validate_common")
    threads: 1
    resources:
        mem_mb=500,
    priority: 100
    script:
        "../scripts/validate_common.py"


rule validate_inputs:
    """The report of what one survey year needs: its land use and the shared inputs."""
    input:
        scopes=lambda wc: [scope_json(s) for s in [*SHARED_SCOPES, f"landuse:{wc.year}"]],
    output:
        md=OUT.validation("report.md"),
        json=OUT.validation("report.json"),
    params:
        what=lambda wc: wc.year,
        version=NXGEO_VERSION,
    log:
        OUT.log("validate_inputs"),
    benchmark:
        OUT.benchmark("validate_inputs")
    threads: 1
    resources:
        mem_mb=500,
    priority: 100
    script:
        "../scripts/validate_inputs.py"


rule prepare_vectors:
    """Every vector layer repaired, fields standardised (id, name, status ...), in the grid CRS."""
    input:
        contract_inputs(config, kinds=("vector_",)),
        validated=scope_json("vectors"),
    output:
        gpkg=OUT.vectors(),
    params:
        vectors=config["inputs"]["vectors"],
        crs=config["grid"]["crs"],
        version=NXGEO_VERSION,
    log:
        OUT.common_log("prepare_vectors"),
    benchmark:
        OUT.common_benchmark("prepare_vectors")
    threads: 1
    resources:
        mem_mb=2000,
    script:
        "../scripts/prepare_vectors.py"


rule prepare_grid:
    """The analysis grid from the counties' extent (grid.json)."""
    input:
        counties=config["inputs"]["vectors"]["counties"]["path"],
        counties_sidecars=with_sidecars(config["inputs"]["vectors"]["counties"]["path"])[1:],
        validated=scope_json("counties"),
    output:
        grid=OUT.grid_json(),
    params:
        counties=config["inputs"]["vectors"]["counties"],
        grid=config["grid"],
        version=NXGEO_VERSION,
    log:
        OUT.common_log("prepare_grid"),
    benchmark:
        OUT.common_benchmark("prepare_grid")
    threads: 1
    resources:
        mem_mb=1000,
    script:
        "../scripts/prepare_grid.py"


rule prepare_raster:
    """One continuous raster (DEM, precipitation, optional ones) reprojected onto the grid;
    one job per raster, so they are warped in parallel."""
    input:
        src=lambda wc: STATIC_RASTERS[wc.name],
        src_sidecars=lambda wc: with_sidecars(STATIC_RASTERS[wc.name])[1:],
        grid=rules.prepare_grid.output.grid,
        validated=lambda wc: scope_json(f"raster:{wc.name}"),
    output:
        OUT.common_grid(),
    wildcard_constraints:
        name="|".join(STATIC_RASTERS) or "-",
    params:
        path=lambda wc: STATIC_RASTERS[wc.name],
        # class rasters (the department's own 双评价 layers): nearest neighbour
        categorical=lambda wc: wc.name.startswith("official_"),
        block_size=config["grid"]["block_size"],
        version=NXGEO_VERSION,
    log:
        OUT.common_log("prepare_raster_{name}"),
    benchmark:
        OUT.common_benchmark("prepare_raster_{name}")
    threads: 1
    resources:
        mem_mb=1000,
    script:
        "../scripts/prepare_raster.py"


if LANDUSE_FORMAT == "polygons":

    rule prepare_dltb:
        """One year's 地类图斑 (DLTB) read and checked: standard fields, areas (TBDLMJ or the
        ellipsoidal area), ownership, county; in the grid CRS (nxgeo.survey, docs/survey.md)."""
        input:
            dltb=lambda wc: with_sidecars(config["inputs"]["landuse"]["files"][landuse_key(wc.year)]),
            validated=lambda wc: scope_json(f"landuse:{wc.year}"),
            vectors=rules.prepare_vectors.output.gpkg,
            classes=CLASSES_TABLE,
            scheme_table=SCHEME_TABLE,
        output:
            gpkg=OUT.dltb(),
        params:
            path=lambda wc: config["inputs"]["landuse"]["files"][landuse_key(wc.year)],
            polygons=config["inputs"]["landuse"]["polygons"],
            scheme=config["inputs"]["landuse"]["scheme"],
            crs=config["grid"]["crs"],
            version=NXGEO_VERSION,
        log:
            OUT.log("prepare_dltb"),
        benchmark:
            OUT.benchmark("prepare_dltb")
        threads: 1
        resources:
            mem_mb=4000,
        script:
            "../scripts/prepare_dltb.py"


rule prepare_landuse:
    """One year's land use on the grid: source codes and canonical classes (after validation),
    and the ownership raster (1 state-owned, 2 collective, 0 unknown; nodata 255)."""
    input:
        unpack(landuse_source),
        validated=lambda wc: scope_json(f"landuse:{wc.year}"),
        grid=rules.prepare_grid.output.grid,
        vectors=rules.prepare_vectors.output.gpkg,
        classes=CLASSES_TABLE,
        scheme_table=SCHEME_TABLE,
    output:
        codes=OUT.grid("landuse_code"),
        canonical=OUT.grid("landuse"),
        ownership=OUT.grid("ownership"),
    params:
        scheme=config["inputs"]["landuse"]["scheme"],
        block_size=config["grid"]["block_size"],
        format=LANDUSE_FORMAT,
        ownership=lambda wc: ownership_file(wc.year),
        supersample=config["inputs"]["landuse"]["polygons"]["supersample"],
        version=NXGEO_VERSION,
    log:
        OUT.log("prepare_landuse"),
    benchmark:
        OUT.benchmark("prepare_landuse")
    threads: 1
    resources:
        mem_mb=2000,
    script:
        "../scripts/prepare_landuse.py"


rule clip_static:
    """The year-independent rasters (DEM, precipitation, optional ones) cut to one reach, once
    for all survey years (each year's folder gets a copy: rule reach_static)."""
    input:
        rasters=[OUT.common_grid(name) for name in STATIC_RASTERS],
        vectors=rules.prepare_vectors.output.gpkg,
    output:
        **{name: OUT.common_reach(name) for name in STATIC_RASTERS},
    params:
        block_size=config["grid"]["block_size"],
        version=NXGEO_VERSION,
    log:
        OUT.common_log("clip_static_{reach}"),
    benchmark:
        OUT.common_benchmark("clip_static_{reach}")
    threads: 1
    resources:
        mem_mb=2000,
    script:
        "../scripts/clip_static.py"


rule clip_reach:
    """One year's land use (canonical classes and source codes) and ownership cut to one
    reach, as COGs."""
    input:
        **{name: OUT.grid(name) for name in YEAR_LAYERS},
        vectors=rules.prepare_vectors.output.gpkg,
    output:
        **{name: OUT.reach(name) for name in YEAR_LAYERS},
    params:
        block_size=config["grid"]["block_size"],
        version=NXGEO_VERSION,
    log:
        OUT.log("clip_reach_{reach}"),
    benchmark:
        OUT.benchmark("clip_reach_{reach}")
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
        **{name: OUT.common_reach(name)
           for name in [*STATIC_RASTERS, *TERRAIN_LAYERS]},
    output:
        **{name: OUT.reach(name)
           for name in [*STATIC_RASTERS, *TERRAIN_LAYERS]},
    log:
        OUT.log("reach_static_{reach}"),
    benchmark:
        OUT.benchmark("reach_static_{reach}")
    threads: 1
    resources:
        mem_mb=500,
    script:
        "../scripts/reach_static.py"
