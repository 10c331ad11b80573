"""Approval-ready maps (matplotlib Agg): fonts, styles, map furniture and the sheets of a year."""

from .fonts import CJKFontNotFound, setup_cjk_font
from .sheets import maps_year, save_figure

__all__ = ["CJKFontNotFound", "maps_year", "save_figure", "setup_cjk_font"]
