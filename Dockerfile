# The images of docker-compose.yml: Airflow 3.3.2 on Python 3.11 (the pins of constraints.txt and pyproject.toml),
# with the project installed from the lock file. tests/test_orchestration_compose.py checks the pins and the stages.
#   production (the last stage, what `docker build .` gives): what the pipeline runs — sharewhy, ingestion,
#              expectations, the DAGs, the dbt project and bi_tool; no tests, bench, simulator or sharewhy_dev.
#   simulator  (`--target simulator`, compose's `simulator` profile): production plus the source simulator.
FROM apache/airflow:3.3.2-python3.11 AS base

# Folders that named volumes mount: created here, owned by `airflow`, so new volumes start writable by it.
USER root
RUN mkdir -p /opt/sharewhy /opt/airflow/auth /data/drops /data/sharewhy /data/webhooks \
 && chown -R airflow:root /opt/sharewhy /opt/airflow/auth /data
USER airflow

# Production's folders only (the wheel's packages plus what they read beside themselves).
COPY --chown=airflow:root pyproject.toml constraints.txt /opt/sharewhy/
COPY --chown=airflow:root sharewhy /opt/sharewhy/sharewhy
COPY --chown=airflow:root ingestion /opt/sharewhy/ingestion
COPY --chown=airflow:root expectations /opt/sharewhy/expectations
COPY --chown=airflow:root dags /opt/sharewhy/dags
COPY --chown=airflow:root dbt_project /opt/sharewhy/dbt_project
COPY --chown=airflow:root bi_tool /opt/sharewhy/bi_tool
# Editable, so the code finds dags/ and dbt_project/ beside itself (sharewhy/settings.py: REPO_ROOT).
RUN pip install --no-cache-dir -c /opt/sharewhy/constraints.txt -e /opt/sharewhy \
 && python -c 'import pathlib, shutil, sys; print(pathlib.Path(sys.executable).with_name("dbt"), shutil.which("dbt"))' \
    > /tmp/dbt-link

# sharewhy runs the dbt that sits next to its Python (sharewhy/dbt.py); `pip install` as airflow puts it in
# ~/.local/bin, so link it there if it is not.
USER root
RUN set -- $(cat /tmp/dbt-link) && { [ -e "$1" ] || ln -s "$2" "$1"; } && rm /tmp/dbt-link
USER airflow

# The local stand-in for every source API (`sharewhy simulate serve`): a development package, not in the wheel, so
# it runs from its folder on PYTHONPATH.
FROM base AS simulator
COPY --chown=airflow:root simulator /opt/sharewhy/simulator
ENV PYTHONPATH=/opt/sharewhy

FROM base AS production
