"""Networks in notebook outputs, drawn by the explorer's own renderer (`api.views.network`).

The drawing is a standalone HTML document with vis-network inlined, put in an iframe's
`srcdoc`: nothing is fetched from a URL, so it works with no internet and no server, in
JupyterLab, classic Notebook and VS Code alike, and its scripts and styles cannot clash with
the notebook page's.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

from api.views.network import NODE_CAP_DEFAULT, render_network

NETWORK_HEIGHT = 520
# The legend above the drawing, and a margin.
_FRAME_EXTRA = 90


def notebook_frame(
    nodes: Sequence[Mapping[str, Any]],
    edges: Sequence[Mapping[str, Any]],
    *,
    height: int = NETWORK_HEIGHT,
    cap: int = NODE_CAP_DEFAULT,
) -> str:
    """HTML for one output: the first `cap` nodes and the edges between them, drawn as the
    explorer draws them, with a line saying what the cap left out."""
    document = render_network(nodes[:cap], edges, assets="inline", title="ruralkg", height=f"{height}px")
    note = ""
    if len(nodes) > cap:
        note = (
            f'<p class="ruralkg-network-note">drawn: the first {cap} of {len(nodes)} nodes '
            "(the table holds them all)</p>"
        )
    return (
        '<div class="ruralkg-network-output">'
        f'<iframe class="ruralkg-network" title="ruralkg network" sandbox="allow-scripts" '
        f'style="width: 100%; height: {height + _FRAME_EXTRA}px; border: 1px solid #ddd; border-radius: 4px" '
        f'srcdoc="{html.escape(document, quote=True)}"></iframe>{note}</div>'
    )
