# The embedded sample region: built only when the configured inputs live in sample.out_dir
# and are missing. Outputs are ancient() downstream, so a code change never rebuilds data.
SAMPLE_FILES = sample_outputs(config)

if SAMPLE_FILES:

    rule sample:
        output:
            SAMPLE_FILES,
        params:
            sample=config.get("sample", {}),
            years=YEARS,
        log:
            f"{RESULTS}/logs/sample.log",
        benchmark:
            f"{RESULTS}/benchmarks/sample.tsv"
        threads: 1
        resources:
            mem_mb=4000,
        script:
            "../scripts/make_sample.py"
