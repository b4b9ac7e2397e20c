"""The query catalog: importing this package registers every entry in `queries.catalog.CATALOG`."""

from queries import analysis, explore, regions
from queries.catalog import CATALOG, get_entry, run, run_async

__all__ = ["CATALOG", "analysis", "explore", "get_entry", "regions", "run", "run_async"]
