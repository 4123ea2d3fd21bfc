"""crisiskg: a research knowledge graph of conflict events, built from annotated documents."""

__version__ = "0.1.0"
__all__ = ["__version__"]
