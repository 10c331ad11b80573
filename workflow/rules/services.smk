# Ecosystem-service accounting (GEP regulating services) per reach and per year.

SERVICE_RASTERS = ["carbon_stock_t", "soil_retention_t", "sand_fixation_t", "water_conservation_m3"]
OPTIONAL_SERVICE_INPUTS = [n for n in ("fvc", "soil_k", "sand_fraction", "wind_factor")
                           if n in STATIC_RASTERS]


rule services_reach:
    """Carbon stock, soil retention (RUSLE), sand fixation (RWEQ), water conservation rasters."""
    input:
        landuse=f"{RESULTS}/{{year}}/reaches/{{reach}}/landuse.tif",
        precipitation=f"{RESULTS}/{{year}}/reaches/{{reach}}/precipitation.tif",
        ls=f"{RESULTS}/{{year}}/reaches/{{reach}}/ls.tif",
        optional=[f"{RESULTS}/{{year}}/reaches/{{reach}}/{n}.tif" for n in OPTIONAL_SERVICE_INPUTS],
        carbon=ancient(config["inputs"]["tables"]["carbon_pools"]),
        prices=ancient(config["inputs"]["tables"]["prices"]),
    output:
        **{n: f"{RESULTS}/{{year}}/reaches/{{reach}}/services/{n}.tif" for n in SERVICE_RASTERS},
        meta=f"{RESULTS}/{{year}}/reaches/{{reach}}/services/services_meta.json",
    params:
        services=config["services"],
        classes_table=config["landuse"]["classes_table"],
        optional=OPTIONAL_SERVICE_INPUTS,
        version=NXGEO_VERSION,
    log:
        f"{RESULTS}/{{year}}/logs/services_{{reach}}.log",
    benchmark:
        f"{RESULTS}/{{year}}/benchmarks/services_{{reach}}.tsv"
    threads: 1
    resources:
        mem_mb=2000,
    script:
        "../scripts/services_reach.py"


rule services_year:
    """Per county and per reach: quantities, values (CNY) and the GEP regulating sum."""
    input:
        rasters=expand(f"{RESULTS}/{{{{year}}}}/reaches/{{reach}}/services/{{n}}.tif",
                       reach=REACHES, n=SERVICE_RASTERS),
        counties=expand(f"{RESULTS}/{{{{year}}}}/reaches/{{reach}}/zone_county.tif", reach=REACHES),
        vectors=f"{RESULTS}/common/vectors.gpkg",
        prices=ancient(config["inputs"]["tables"]["prices"]),
    output:
        county=f"{RESULTS}/{{year}}/tables/services_by_county.csv",
        reach=f"{RESULTS}/{{year}}/tables/services_by_reach.csv",
    params:
        reach_dir=lambda wc: f"{RESULTS}/{wc.year}/reaches",
        reaches=REACHES,
        co2_per_c=config["services"].get("co2_per_c"),
        version=NXGEO_VERSION,
    log:
        f"{RESULTS}/{{year}}/logs/services_year.log",
    benchmark:
        f"{RESULTS}/{{year}}/benchmarks/services_year.tsv"
    threads: 1
    resources:
        mem_mb=2000,
    script:
        "../scripts/services_year.py"
