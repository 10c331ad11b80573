"""`snakemake --lint` on the real workflow (a tiny config): no lint but the one the Snakefile
explains (no conda environment or container per rule: nxgeo runs in its own virtual
environment, made by `make env`)."""

import re

import pytest
from conftest import run_snakemake, tiny_config

pytestmark = pytest.mark.workflow

ALLOWED = {"Specify a conda environment or container for each rule."}


def test_snakemake_lint_finds_nothing_but_the_explained_item(tmp_path):
    tiny_config(tmp_path)
    proc = run_snakemake(tmp_path, "--lint", check=False)
    out = proc.stdout + proc.stderr
    items = set(re.findall(r"^    \* (.+?):?$", out, flags=re.M))
    if not items:  # a clean workflow: Snakemake says so
        assert proc.returncode == 0 and "good condition" in out, out[-3000:]
    assert items <= ALLOWED, sorted(items - ALLOWED)
