"""What the DAG files share: Assets, default arguments, and the glue from Airflow to the plain-Python steps."""
