"""Adapter: the reaches' computed-vs-official disagreement tables as one year table."""

from nxgeo.logs import setup_logging
from nxgeo.suitability.official import gather_disagreement

setup_logging(snakemake.log[0], step=snakemake)
gather_disagreement(list(snakemake.input), snakemake.output[0])
