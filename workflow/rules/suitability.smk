# Development-suitability overlay per target use, best use, and the water-capacity summary.


rule suitability:
    """Score / grade / reason rasters per target use, best use and runner-up, legends."""
    input:
        unpack(suitability_layers),
        classes=CLASSES_TABLE,
    output:
        **{f"suit_{t}_{k}": f"{RESULTS}/{{year}}/reaches/{{reach}}/suitability/suit_{t}_{k}.tif"
           for t in TARGETS for k in ("score", "grade", "reason")},
        best_use=f"{RESULTS}/{{year}}/reaches/{{reach}}/suitability/best_use.tif",
        runner_up=f"{RESULTS}/{{year}}/reaches/{{reach}}/suitability/best_use_runner_up.tif",
        best_score=f"{RESULTS}/{{year}}/reaches/{{reach}}/suitability/best_use_score.tif",
        reason_legend=f"{RESULTS}/{{year}}/reaches/{{reach}}/suitability/reason_legend.csv",
        best_use_legend=f"{RESULTS}/{{year}}/reaches/{{reach}}/suitability/best_use_legend.csv",
    params:
        suitability=config["suitability"],
        classes_table=config["landuse"]["classes_table"],
        block_size=config["grid"].get("block_size", 512),
        version=NXGEO_VERSION,
    log:
        f"{RESULTS}/{{year}}/logs/suitability_{{reach}}.log",
    benchmark:
        f"{RESULTS}/{{year}}/benchmarks/suitability_{{reach}}.tsv"
    threads: 1
    resources:
        mem_mb=3000,
    script:
        "../scripts/suitability.py"


rule water_capacity:
    """Per county: potential water demand if all suitable land were converted, vs headroom."""
    input:
        best=expand(f"{RESULTS}/{{{{year}}}}/reaches/{{reach}}/suitability/best_use.tif",
                    reach=REACHES),
        counties=expand(f"{RESULTS}/{{{{year}}}}/reaches/{{reach}}/zone_county.tif", reach=REACHES),
        budgets=config["inputs"]["tables"]["water_budgets"],
        demand=config["inputs"]["tables"]["water_demand"],
        classes=CLASSES_TABLE,
        validated=table_gates("water_budgets", "water_demand"),
    output:
        summary=f"{RESULTS}/{{year}}/tables/water_capacity.csv",
        headroom=f"{RESULTS}/{{year}}/tables/water_headroom.csv",
    params:
        reaches=REACHES,
        order=TARGETS,
        water=config["water"],
        classes_table=config["landuse"]["classes_table"],
        reach_dir=lambda wc: f"{RESULTS}/{wc.year}/reaches",
        version=NXGEO_VERSION,
    log:
        f"{RESULTS}/{{year}}/logs/water_capacity.log",
    benchmark:
        f"{RESULTS}/{{year}}/benchmarks/water_capacity.tsv"
    threads: 1
    resources:
        mem_mb=2000,
    script:
        "../scripts/water_capacity.py"
