# Shared helpers for all rules: paths from config, wildcard constraints.
from pathlib import Path

from nxgeo.paths import contract_files, sample_outputs

RESULTS = config.get("results_dir", "results")
YEARS = [int(y) for y in config["years"]]
REACHES = list(config["reaches"])
NXGEO_VERSION = nxgeo.__version__


wildcard_constraints:
    year=r"\d{4}",
    reach=r"[a-z][a-z0-9_]*",


def inputs_for_year(year):
    """Every contract file one year needs (static layers wrapped in ancient())."""
    files = contract_files(config, year)
    return {k: ancient(v) for k, v in files.items()}
