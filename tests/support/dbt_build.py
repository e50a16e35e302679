"""The dbt build of a fixture warehouse: the nightly DAG's (dags/itss_nightly.py).

The unit tests check the models' SQL against given rows, never the warehouse's data, so
every fixture build would repeat the same verdicts: they run once, in the build of
tests/transform/test_marts.py (and in each `itss warehouse rebuild`), as the night leaves
them out.
"""

NIGHTLY_BUILD = ("build", "--exclude-resource-type", "unit_test")
