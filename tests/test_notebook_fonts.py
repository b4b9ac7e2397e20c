"""matplotlib draws Chinese in the notebooks even when its font cache predates the CJK font."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from matplotlib import font_manager, pyplot
from matplotlib.font_manager import FontProperties

from ruralkg.notebook import CJK_FONT_FILES, use_cjk_font


@pytest.fixture
def stale_cache() -> Iterator[None]:
    """The font list as a cache built before fonts-noto-cjk was installed: no CJK font in it."""
    manager = font_manager.fontManager
    kept, sans = list(manager.ttflist), list(pyplot.rcParams["font.sans-serif"])
    manager.ttflist = [f for f in kept if not any(m in Path(f.fname).name for m in CJK_FONT_FILES)]
    if hasattr(manager, "_findfont_cached"):
        manager._findfont_cached.cache_clear()
    yield
    manager.ttflist = kept
    pyplot.rcParams["font.sans-serif"] = sans


def cjk_installed() -> bool:
    return any(any(m in Path(p).name for m in CJK_FONT_FILES) for p in font_manager.findSystemFonts())


@pytest.mark.usefixtures("stale_cache")
def test_a_stale_font_list_gets_the_cjk_font_back() -> None:
    if not cjk_installed():
        pytest.fail("no CJK font installed: `apt-get install -y fonts-noto-cjk` (.ci/run does it)")
    before = font_manager.findfont(FontProperties(family=["sans-serif"]))
    assert not any(m in Path(before).name for m in CJK_FONT_FILES)
    families = use_cjk_font()
    assert families and pyplot.rcParams["font.sans-serif"][0] == families[0]
    font_manager.fontManager._findfont_cached.cache_clear()
    chosen = font_manager.findfont(FontProperties(family=["sans-serif"]))
    assert any(m in Path(chosen).name for m in CJK_FONT_FILES), chosen
    # and it has the characters: drawing them warns of no missing glyph
    fig, ax = pyplot.subplots()
    ax.set_title("芹溪村 党建联盟")
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fig.canvas.draw()
    pyplot.close(fig)
    assert not [w for w in seen if "missing from font" in str(w.message)]
