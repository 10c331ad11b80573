"""The embedded sample region: a synthetic but plausible Ningxia, deterministic from a seed.

``build_sample`` writes every sample input the configuration points to (DEM, precipitation,
land use per year, vector layers and county tables) from the reference layers in
``data/reference/ningxia/``; ``quicklook`` renders a PNG to check it by eye.
"""

from .build import build_sample, sample_files
from .quicklook import quicklook

__all__ = ["build_sample", "quicklook", "sample_files"]
