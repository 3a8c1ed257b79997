"""What dbt gives a model's Jinja, for sqlfluff's jinja templater (`make lint`; the dbt templater would need a live
warehouse): `ref`, `source` and `this` render relation names, `var` reads the vars of dbt_project.yml (a var set
only on the command line renders as 1), `is_incremental()` is false (the full-refresh branch is linted), and
`dbt.current_timestamp()` renders `now()`. Each function here is a Jinja global of the templater."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

_PROJECT_VARS: dict[str, Any] = yaml.safe_load(
    (Path(__file__).resolve().parents[1] / "dbt_project.yml").read_text()
).get("vars", {})


def var(name: str, default: Any = None) -> Any:
    if name in _PROJECT_VARS:
        return _PROJECT_VARS[name]
    return 1 if default is None else default


def ref(*names: str, **_: Any) -> str:
    return names[-1]


def source(source_name: str, table_name: str) -> str:
    return f"{source_name}.{table_name}"


def config(*_: Any, **__: Any) -> str:
    return ""


def is_incremental() -> bool:
    return False


this = "this_model"


class _Dbt:
    @staticmethod
    def current_timestamp() -> str:
        return "now()"


dbt = _Dbt()


class _Exceptions:
    @staticmethod
    def raise_compiler_error(message: str) -> str:
        raise ValueError(message)


exceptions = _Exceptions()


class _Target:
    schema = "target_schema"


target = _Target()
