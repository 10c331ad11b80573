# Terrain and zone layers of one reach.


rule terrain:
    """Slope, aspect (Horn, as gdaldem), RUSLE LS (InVEST form), distances to water/roads/
    settlements. Year-independent (DEM and vectors are shared): computed once per reach in
    results/common/reaches/ and copied into every year's folder (rule reach_static)."""
    input:
        dem_grid=OUT.common_grid("dem"),
        template=rules.clip_static.output.dem,
        vectors=rules.prepare_vectors.output.gpkg,
    output:
        **{name: OUT.common_reach(name) for name in TERRAIN_LAYERS},
    params:
        terrain=config["terrain"],
        version=NXGEO_VERSION,
    log:
        OUT.common_log("terrain_{reach}"),
    benchmark:
        OUT.common_benchmark("terrain_{reach}")
    threads: 1
    resources:
        mem_mb=4000,
    script:
        "../scripts/terrain.py"


rule zones:
    """Constraint masks, county id and water-quota modulus of one reach and year."""
    input:
        template=rules.clip_reach.output.landuse,
        vectors=rules.prepare_vectors.output.gpkg,
        budgets=config["inputs"]["tables"]["water_budgets"],
        validated=table_gates("water_budgets"),
    output:
        **{name: OUT.zone(name) for name in ZONE_LAYERS},
    params:
        canal_buffer_m=config["water"]["secured_canal_buffer_m"],
        area_crs=config["water"]["area_crs"],
        version=NXGEO_VERSION,
    log:
        OUT.log("zones_{reach}"),
    benchmark:
        OUT.benchmark("zones_{reach}")
    threads: 1
    resources:
        mem_mb=2000,
    script:
        "../scripts/zones.py"
