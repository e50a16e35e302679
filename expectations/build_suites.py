"""Write the Great Expectations context under ``expectations/gx`` from the suites defined in
``itss_warehouse.validate.suites``; commit the regenerated JSON.

Usage: ``ITSS_WAREHOUSE_URL=… python expectations/build_suites.py`` (a warehouse whose raw
tables and marts exist, e.g. after ``make run``: ``itss warehouse url`` prints it).
"""

import os
from pathlib import Path

from itss_warehouse.validate.suites import build

if __name__ == "__main__":
    if "ITSS_WAREHOUSE_URL" not in os.environ:
        raise SystemExit("set ITSS_WAREHOUSE_URL to a warehouse whose raw tables and marts exist (itss warehouse url)")
    build(Path(__file__).resolve().parent)
