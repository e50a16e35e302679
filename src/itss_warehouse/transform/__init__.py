"""Transform: running dbt on the warehouse, and the statutory calendar seed it reads."""
