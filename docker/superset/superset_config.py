"""Superset's settings in docker-compose.yml: secrets and the metadata database come from
the environment (.env), so a missing one stops Superset instead of falling back to a
default key or a SQLite file."""

import os

SECRET_KEY = os.environ["SUPERSET_SECRET_KEY"]
SQLALCHEMY_DATABASE_URI = os.environ["SUPERSET_SQLALCHEMY_DATABASE_URI"]
