"""A CJK font for matplotlib, installed from the package registry (no system fonts needed).

Order of preference:

1. ``pylopdf-fonts-zh-cn`` (PyPI, data-only, SIL Open Font License 1.1): Noto Sans SC Regular,
   the Simplified-Chinese subset OTF of Google/Adobe's Noto Sans CJK (``Sans/SubsetOTF/SC``).
   It is a dependency of nxgeo, so ``pip install nxgeo`` brings it.
2. The Debian/Ubuntu package ``fonts-noto-cjk`` (``/usr/share/fonts/opentype/noto/``) or any
   other CJK font matplotlib already knows (Noto Sans CJK, Source Han Sans, WenQuanYi).
3. Otherwise a clear error naming the package to install.

`setup_cjk_font()` registers the font with matplotlib's font manager and puts it first in
``font.sans-serif`` (DejaVu Sans after it, as a fallback for any symbol the CJK font lacks).
"""

from __future__ import annotations

import functools
from pathlib import Path

FONT_PACKAGE = "pylopdf-fonts-zh-cn"
SYSTEM_FONT_FILES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
)
KNOWN_FAMILIES = (
    "Noto Sans SC",
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Noto Sans CJK JP",
    "Source Han Sans CN",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
)


class CJKFontNotFound(RuntimeError):
    """No font with Chinese glyphs could be found for matplotlib."""


def packaged_font_file() -> Path | None:
    """Noto Sans SC from the `pylopdf-fonts-zh-cn` package, or None when not installed."""
    try:
        import pylopdf_fonts_zh_cn as pkg
    except ImportError:
        return None
    path = Path(pkg.sans_path())
    return path if path.is_file() else None


def system_font_file() -> Path | None:
    for p in SYSTEM_FONT_FILES:
        if Path(p).is_file():
            return Path(p)
    return None


def _family_of(path: Path) -> str:
    from matplotlib import font_manager

    font_manager.fontManager.addfont(str(path))
    return font_manager.FontProperties(fname=str(path)).get_name()


def _known_family() -> str | None:
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    return next((n for n in KNOWN_FAMILIES if n in names), None)


@functools.cache
def find_cjk_font() -> tuple[str, str]:
    """(family name, source) of the CJK font to use; registers it with matplotlib."""
    path = packaged_font_file()
    if path is not None:
        return _family_of(path), f"{FONT_PACKAGE} ({path.name})"
    path = system_font_file()
    if path is not None:
        return _family_of(path), f"system font {path}"
    family = _known_family()
    if family is not None:
        return family, "matplotlib font cache"
    raise CJKFontNotFound(
        "No CJK (Chinese) font found for the maps. Install the Python package "
        f"'{FONT_PACKAGE}' (pip install {FONT_PACKAGE}; it is a dependency of nxgeo, so "
        "reinstalling nxgeo also brings it) or the Debian package 'fonts-noto-cjk'."
    )


def setup_cjk_font() -> str:
    """Register the CJK font with matplotlib, make it the default sans-serif; return its family."""
    import matplotlib

    family, _source = find_cjk_font()
    rc = matplotlib.rcParams
    rest = [f for f in rc["font.sans-serif"] if f not in (family, "DejaVu Sans")]
    # A list of families (not the generic "sans-serif") so that matplotlib falls back glyph by
    # glyph to DejaVu Sans for a symbol the CJK font lacks.
    rc["font.family"] = [family, "DejaVu Sans"]
    rc["font.sans-serif"] = [family, "DejaVu Sans", *rest]
    return family


def font_source() -> str:
    """Where the CJK font came from (for provenance and the map notes)."""
    return find_cjk_font()[1]
