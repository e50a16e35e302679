#!/bin/sh
# One-shot set-up, safe to re-run: Superset's metadata schema, its admin (from the
# environment; an existing admin is kept), its roles and permissions, and the warehouse
# as a database reached as the read-only BI login (marts only).
set -eu
superset db upgrade
superset fab create-admin --username "$SUPERSET_ADMIN_USERNAME" --password "$SUPERSET_ADMIN_PASSWORD" \
    --email "$SUPERSET_ADMIN_EMAIL" --firstname Superset --lastname Admin
superset init
superset set-database-uri -d "ITSS warehouse" -u "$SUPERSET_WAREHOUSE_URI"
