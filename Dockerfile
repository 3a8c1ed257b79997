# The image every Airflow service of docker-compose.yml runs: Airflow 3.3.2 with the project installed from the lock file.
FROM apache/airflow:3.3.2-python3.11
COPY --chown=airflow:root . /opt/sharewhy
RUN pip install --no-cache-dir -c /opt/sharewhy/constraints.txt /opt/sharewhy
