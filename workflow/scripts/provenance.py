"""Adapter: provenance.json of one survey year."""
from pathlib import Path

from nxgeo.logs import setup_logging
from nxgeo.provenance import provenance_year

setup_logging(snakemake.log[0], step=snakemake)
inputs = {k: v for k, v in snakemake.input.items() if k not in ("outputs", "maps")}
provenance_year(snakemake.params.config, inputs, int(snakemake.wildcards.year),
                Path(snakemake.log[0]).parent, snakemake.output[0])
