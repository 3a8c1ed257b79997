"""Development-only tools, not part of the production package (nor of its wheel): the embedded warehouse (pgserver),
the demo night and its summary, the night runner, and the local Airflow stack. They import the production `sharewhy`
package; production reaches them only through the lazy imports tests/test_layout.py allows (the CLI's dev commands,
the embedded-warehouse default of `sharewhy.settings.warehouse_url`)."""
