# The embedded sample region: built only when the configured inputs live in sample.out_dir
# and are missing. Outputs are ancient() downstream, so a code change never rebuilds data.
SAMPLE_FILES = sample_outputs(config)
# The sample's survey years: those of the configured land-use files (not `years`, so that
# processing fewer years never regenerates the sample).
SAMPLE_YEARS = sorted(int(y) for y in config["inputs"]["landuse"]["files"])

if SAMPLE_FILES:

    rule sample:
        output:
            SAMPLE_FILES,
        params:
            sample=config.get("sample", {}),
            years=SAMPLE_YEARS,
        log:
            f"{RESULTS}/logs/sample.log",
        benchmark:
            f"{RESULTS}/benchmarks/sample.tsv"
        threads: 1
        resources:
            mem_mb=4000,
        script:
            "../scripts/make_sample.py"
