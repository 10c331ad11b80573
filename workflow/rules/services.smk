# Ecosystem services and the GEP account (docs/gep.md) per reach and per year.

SERVICE_RASTERS = ["carbon_stock_t", "carbon_sequestration_t", "soil_retention_t",
                   "sand_fixation_t", "water_conservation_m3", "flood_regulation_m3",
                   "climate_regulation_kwh"]
# actual water (RUSLE) and wind (RWEQ) erosion per pixel: the SL 190 intensity classes of the
# county scorecard (水土保持率, workflow/rules/scorecard.smk)
EROSION_RASTERS = ["soil_loss_t", "wind_erosion_t"]
OPTIONAL_SERVICE_INPUTS = [n for n in ("fvc", "soil_k", "sand_fraction", "wind_factor", "nep")
                           if n in STATIC_RASTERS]
# County statistics of material products and cultural services (services.gep), when supplied.
GEP_STATISTICS = {k: config["services"]["gep"][k] for k in ("material_products",
                                                            "cultural_services")
                  if config["services"]["gep"][k]}


rule services_reach:
    """Carbon stock (asset) and the yearly flows per pixel: sequestration, soil retention (RUSLE),
    sand fixation (RWEQ), water conservation, flood and climate regulation."""
    input:
        landuse=OUT.reach("landuse"),
        landuse_prev=earlier_landuse,
        precipitation=OUT.reach("precipitation"),
        ls=OUT.reach("ls"),
        slope=OUT.reach("slope"),
        optional=[OUT.reach(n) for n in OPTIONAL_SERVICE_INPUTS],
        carbon=config["inputs"]["tables"]["carbon_pools"],
        prices=config["inputs"]["tables"]["prices"],
        coefficients=config["inputs"]["tables"]["gep_coefficients"],
        classes=CLASSES_TABLE,
        validated=table_gates("carbon_pools", "prices", "gep_coefficients"),
    output:
        **{n: OUT.service(f"{n}.tif") for n in SERVICE_RASTERS},
        **{n: OUT.service(f"{n}.tif") for n in EROSION_RASTERS},
        meta=OUT.service("services_meta.json"),
    params:
        services=config["services"],
        optional=OPTIONAL_SERVICE_INPUTS,
        extra_layers=EROSION_RASTERS,
        version=NXGEO_VERSION,
    log:
        OUT.log("services_{reach}"),
    benchmark:
        OUT.benchmark("services_{reach}")
    threads: 1
    resources:
        mem_mb=2000,
    script:
        "../scripts/services_reach.py"


rule services_year:
    """Per county and per reach: quantities and values, the GEP account (one row per zone and
    service) and GEP per zone in CNY, 万元 and 亿元, each with a total row."""
    input:
        rasters=each_reach(OUT.service("{n}.tif"), n=SERVICE_RASTERS),
        landuse=each_reach(OUT.reach("landuse")),
        counties=each_reach(OUT.zone("county")),
        vectors=rules.prepare_vectors.output.gpkg,
        prices=config["inputs"]["tables"]["prices"],
        coefficients=config["inputs"]["tables"]["gep_coefficients"],
        classes=CLASSES_TABLE,
        **GEP_STATISTICS,
        validated=table_gates("prices", "gep_coefficients"),
    output:
        county=OUT.table("services_by_county"),
        reach=OUT.table("services_by_reach"),
        accounts=OUT.table("gep_accounts"),
        gep_county=OUT.table("gep_by_county"),
        gep_reach=OUT.table("gep_by_reach"),
    params:
        reaches=REACHES,
        services=config["services"],
        statistics=list(GEP_STATISTICS),
        version=NXGEO_VERSION,
    log:
        OUT.log("services_year"),
    benchmark:
        OUT.benchmark("services_year")
    threads: 1
    resources:
        mem_mb=2000,
    script:
        "../scripts/services_year.py"
