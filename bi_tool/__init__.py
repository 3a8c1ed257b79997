"""The BI tool for stakeholders: Apache Superset over the published `bi` schema, dashboards as code.

- `dashboards.py`: the stakeholder dashboard as code (datasets over `bi.*`, charts, layout, fixed UUIDs) and the
  writer of the committed YAML bundle in `bundle/` (run in .venv).
- `provision.py`: provisioning and serving (run in .venv): the `bi_reader` role, Superset's home, metadata
  database and admin, the import of the bundle, Superset on 127.0.0.1.
- `import_assets.py`, `screenshot.py`, `superset_config.py`: run inside .venv-superset (Superset's own virtual
  environment, see requirements.txt and the lock file constraints.txt); they import nothing from sharewhy.
- `docs.py`: the dbt docs site for analysts.
"""
