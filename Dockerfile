# The pipeline image: the locked environment and the project, installed at build time
# (nothing is installed when a container starts).
FROM python:3.11-slim-bookworm

ENV UV_PROJECT_ENVIRONMENT=/opt/itss/.venv \
    PATH=/opt/itss/.venv/bin:$PATH \
    ITSS_PROJECT_DIR=/opt/itss \
    ITSS_HOME=/var/lib/itss

# PDF reports: WeasyPrint's Pango, a font covering Chinese, HarfBuzz's subsetter.
RUN apt-get update && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fontconfig fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*
RUN pip install --no-cache-dir uv
WORKDIR /opt/itss
COPY pyproject.toml uv.lock README.md ./
COPY src ./src
RUN uv sync --frozen --no-dev
COPY dags ./dags
COPY dbt_project ./dbt_project
COPY expectations ./expectations
COPY reports ./reports
# cosmos renders the dbt tasks from the parsed manifest; parsing needs no database.
RUN ITSS_DBT_HOST=unused ITSS_DBT_PORT=5432 ITSS_DBT_USER=unused ITSS_DBT_DATABASE=unused \
    dbt parse --project-dir dbt_project --profiles-dir dbt_project
