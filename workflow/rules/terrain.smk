# Terrain and zone layers of one reach.


rule terrain:
    """Slope, aspect (Horn, as gdaldem), RUSLE LS (InVEST form), distances to water/roads/
    settlements. Year-independent (DEM and vectors are shared): computed once per reach in
    results/common/reaches/ and copied into every year's folder (rule reach_static)."""
    input:
        dem_grid=f"{RESULTS}/common/grid/dem.tif",
        template=f"{RESULTS}/common/reaches/{{reach}}/dem.tif",
        vectors=f"{RESULTS}/common/vectors.gpkg",
    output:
        **{name: f"{RESULTS}/common/reaches/{{reach}}/{name}.tif" for name in TERRAIN_LAYERS},
    params:
        terrain=config.get("terrain", {}),
        version=NXGEO_VERSION,
    log:
        f"{RESULTS}/common/logs/terrain_{{reach}}.log",
    benchmark:
        f"{RESULTS}/common/benchmarks/terrain_{{reach}}.tsv"
    threads: 1
    resources:
        mem_mb=4000,
    script:
        "../scripts/terrain.py"


rule zones:
    """Constraint masks, county id and water-quota modulus of one reach and year."""
    input:
        template=f"{RESULTS}/{{year}}/reaches/{{reach}}/landuse.tif",
        vectors=f"{RESULTS}/common/vectors.gpkg",
        budgets=config["inputs"]["tables"]["water_budgets"],
        validated=table_gates("water_budgets"),
    output:
        **{name: f"{RESULTS}/{{year}}/reaches/{{reach}}/zone_{name}.tif" for name in ZONE_LAYERS},
    params:
        canal_buffer_m=config["water"].get("secured_canal_buffer_m", 3000),
        area_crs=config["water"].get("area_crs", "EPSG:4507"),
        version=NXGEO_VERSION,
    log:
        f"{RESULTS}/{{year}}/logs/zones_{{reach}}.log",
    benchmark:
        f"{RESULTS}/{{year}}/benchmarks/zones_{{reach}}.tsv"
    threads: 1
    resources:
        mem_mb=2000,
    script:
        "../scripts/zones.py"
