"""Drawing a flow: its graph, a layered layout, Mermaid text and SVG."""

from .mermaid import to_mermaid
from .svg import to_svg

__all__ = ["to_mermaid", "to_svg"]
