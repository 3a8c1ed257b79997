"""Development-only tools, not part of the production package (nor of its wheel): the embedded warehouse (pgserver),
the demo night and its summary, the night runner, and the local Airflow stack. They import the production `sharewhy`
package; production reaches them only through the lazy imports tests/test_layout.py lists (LAZY_DEV_IMPORTS: the
CLI's development commands, and the embedded warehouse as the default when SHAREWHY_WAREHOUSE_URL is unset)."""
