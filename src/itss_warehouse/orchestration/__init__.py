"""Orchestration: the DAGs' shared defaults, the tool environment, and running DAGs
through Airflow itself."""
