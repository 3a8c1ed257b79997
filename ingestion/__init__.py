"""Ingestion: plain Python (no Airflow import) that pulls each source and lands it in `raw` with COPY."""
