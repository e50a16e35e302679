# The pipeline image shared by every Airflow service of docker-compose.yml: the locked
# environment and the project, installed at build time (nothing is installed when a
# container starts).
FROM python:3.11-slim-bookworm

ENV UV_PROJECT_ENVIRONMENT=/opt/itss/.venv \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    PATH=/opt/itss/.venv/bin:$PATH \
    ITSS_PROJECT_DIR=/opt/itss \
    ITSS_HOME=/var/lib/itss \
    AIRFLOW_HOME=/opt/airflow

# PDF reports: WeasyPrint's Pango, a font covering Chinese, HarfBuzz's subsetter.
RUN apt-get update && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fontconfig fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*
# The uv that wrote uv.lock: a newer one could refuse or rewrite the lock.
RUN pip install --no-cache-dir uv==0.13.9
WORKDIR /opt/itss
# Dependencies first, in their own layer: a code change does not reinstall them.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project --no-cache
COPY src ./src
RUN uv sync --frozen --no-dev --no-cache
COPY dags ./dags
COPY dbt_project ./dbt_project
COPY expectations ./expectations
COPY reports ./reports

# Run as an unprivileged user. What it writes: the shared data under ITSS_HOME (landing,
# output, outbox, Great Expectations' results and data docs) and Airflow's home (logs);
# named volumes mounted on these paths start with this ownership. The code stays read-only.
RUN useradd --uid 50000 --gid 0 --home-dir /opt/airflow --create-home --shell /usr/sbin/nologin itss \
    && mkdir -p /var/lib/itss/landing /var/lib/itss/output /var/lib/itss/outbox /opt/airflow/logs \
    && chown -R itss:0 /var/lib/itss /opt/airflow
USER itss
