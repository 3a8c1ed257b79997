# The image every service of docker-compose.yml runs: Airflow 3.3.2 on Python 3.11 (the pins of constraints.txt and
# pyproject.toml), with the project installed from the lock file. tests/test_orchestration_compose.py checks the pins.
FROM apache/airflow:3.3.2-python3.11

# Folders that named volumes mount: created here, owned by `airflow`, so new volumes start writable by it.
USER root
RUN mkdir -p /opt/sharewhy /opt/airflow/auth /data/drops /data/sharewhy /data/webhooks \
 && chown -R airflow:root /opt/sharewhy /opt/airflow/auth /data
USER airflow

COPY --chown=airflow:root . /opt/sharewhy
# Editable, so the code finds dags/ and dbt_project/ beside itself (sharewhy/settings.py: REPO_ROOT).
RUN pip install --no-cache-dir -c /opt/sharewhy/constraints.txt -e /opt/sharewhy \
 && python -c 'import pathlib, shutil, sys; print(pathlib.Path(sys.executable).with_name("dbt"), shutil.which("dbt"))' \
    > /tmp/dbt-link

# sharewhy runs the dbt that sits next to its Python (sharewhy/dbt.py); `pip install` as airflow puts it in
# ~/.local/bin, so link it there if it is not.
USER root
RUN set -- $(cat /tmp/dbt-link) && { [ -e "$1" ] || ln -s "$2" "$1"; } && rm /tmp/dbt-link
USER airflow
