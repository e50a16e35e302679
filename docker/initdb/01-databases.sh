#!/bin/bash
# First start of the server only (an empty data volume): Airflow's and Superset's metadata
# live beside the warehouse, each in its own database owned by its own login, which no
# other login may connect to. The warehouse's roles and logins come from `itss setup-roles`.
set -euo pipefail
psql --no-psqlrc -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    --set airflow_password="$AIRFLOW_DB_PASSWORD" --set superset_password="$SUPERSET_DB_PASSWORD" <<'SQL'
create role airflow login password :'airflow_password';
create database airflow owner airflow;
revoke connect on database airflow from public;
create role superset login password :'superset_password';
create database superset owner superset;
revoke connect on database superset from public;
SQL
