# The embedded sample region: built when the configured inputs live in sample.out_dir and are
# missing, or when what it is made from changed (the reference layers, the sample parameters).
SAMPLE_FILES = sample_outputs(config)
# The sample's survey years: those of the configured land-use files (not `years`, so that
# processing fewer years never regenerates the sample).
SAMPLE_YEARS = sorted(int(y) for y in config["inputs"]["landuse"]["files"])

if SAMPLE_FILES:

    rule sample:
        input:
            reference=sorted(str(f) for f in Path(config["sample"]["reference_dir"]).rglob("*")
                             if f.is_file()),
        output:
            SAMPLE_FILES,
        params:
            sample=config["sample"],
            years=SAMPLE_YEARS,
        log:
            OUT.root_log("sample"),
        benchmark:
            OUT.root_benchmark("sample")
        threads: 1
        resources:
            mem_mb=4000,
        script:
            "../scripts/sample.py"
