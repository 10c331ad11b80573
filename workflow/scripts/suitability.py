"""Adapter: suitability overlay of one reach."""
from pathlib import Path

import pandas as pd

from nxgeo.logs import setup_logging
from nxgeo.suitability import suitability_files

setup_logging(snakemake.log[0])
suitability_files(dict(snakemake.input.items()), Path(snakemake.output.best_use).parent,
                  snakemake.params.suitability, pd.read_csv(snakemake.params.classes_table),
                  block_rows=snakemake.params.block_size)
