"""The import rules of the layout, read statically (`ast` over the source files, nothing imported):

- `ingestion` and `expectations` import no `airflow`: the DAGs (dags/) are the only Airflow code.
- Production (`sharewhy`, `ingestion`, `expectations`, `dags`, `bi_tool`) imports no development code (`sharewhy_dev`,
  `simulator`, `bench`, `tests`) and never `pgserver`, except the lazy hooks of LAZY_DEV_IMPORTS: an import inside a
  function, in the one file and for the one reason listed (and in the CLI, only in a `@_dev_command`).
- No cycle between the top-level packages, where two modules every layer may read count as packages of their own:
  `sharewhy.settings`, the configuration, which imports no project code (it must not import the simulator, say) but
  the lazy hook of its embedded-warehouse default; and `sharewhy.warehouse_access`, the BI role and its grants (the
  publish and the BI tool use it), which imports the settings only. The lazy hooks are not edges: a production
  install has no dev package.
"""

from __future__ import annotations

import ast
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

from sharewhy import settings

ROOT = settings.REPO_ROOT
PRODUCTION = ("sharewhy", "ingestion", "expectations", "dags", "bi_tool")
DEVELOPMENT = ("sharewhy_dev", "simulator", "bench", "tests")
#: The top-level packages the cycle rule is about (the DAGs folder's `pipeline` package counts as `dags`).
#: Modules of `sharewhy` that count as packages of their own (see the module's docstring), by file.
SHARED_MODULES = {
    "sharewhy/settings.py": "sharewhy.settings",
    "sharewhy/warehouse_access.py": "sharewhy.warehouse_access",
}
UNITS = (*PRODUCTION, *DEVELOPMENT, *SHARED_MODULES.values())
#: Production's lazy imports of development code, by (file, package): why each is there.
LAZY_DEV_IMPORTS = {
    ("sharewhy/cli.py", "sharewhy_dev"): "the development commands: `sharewhy warehouse`, `airflow`, `demo`",
    ("sharewhy/cli.py", "simulator"): "the development command `sharewhy simulate`",
    ("sharewhy/settings.py", "sharewhy_dev"): "warehouse_url()'s default, the embedded warehouse",
    ("bi_tool/docs.py", "sharewhy_dev"): "`make docs` without SHAREWHY_WAREHOUSE_URL starts the embedded warehouse",
    ("bi_tool/provision.py", "sharewhy_dev"): "`make bi` without SHAREWHY_WAREHOUSE_URL starts the embedded warehouse",
}


@dataclass(frozen=True)
class Import:
    file: str  # relative to the repository root
    module: str  # the module imported (`from a import b` names a.b when b is a module of ours, a otherwise)
    line: int
    function: ast.FunctionDef | ast.AsyncFunctionDef | None  # the innermost function it sits in; None: module level


def _project_module(name: str, root: Path) -> bool:
    path = root.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imports_of(source: str, file: str, root: Path = ROOT) -> list[Import]:
    """Every import statement of a source file, wherever it sits (module level, functions, `if TYPE_CHECKING`)."""
    package = file.removesuffix(".py").split("/")[:-1]
    found: list[Import] = []

    def visit(node: ast.AST, function) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                found.extend(Import(file, alias.name, child.lineno, function) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = ".".join(package[: len(package) - child.level + 1] if child.level else [])
                module = ".".join(part for part in (base, child.module or "") if part)
                for alias in child.names:
                    candidate = f"{module}.{alias.name}"
                    found.append(
                        Import(file, candidate if _project_module(candidate, root) else module, child.lineno, function)
                    )
            visit(child, child if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else function)

    visit(ast.parse(source, filename=file), None)
    return found


def unit_of_module(module: str) -> str | None:
    """The top-level package a module counts in, or None for the standard library and third parties."""
    for shared in SHARED_MODULES.values():
        if module == shared or module.startswith(f"{shared}."):
            return shared
    head = module.split(".")[0]
    if head == "pipeline":  # dags/pipeline: Airflow (and pytest) put dags/ on sys.path
        return "dags"
    return head if head in UNITS else None


def unit_of_file(file: str) -> str:
    return SHARED_MODULES.get(file, file.split("/")[0])


def _source_files() -> list[str]:
    return sorted(
        str(path.relative_to(ROOT))
        for top in (*PRODUCTION, *DEVELOPMENT)
        for path in (ROOT / top).rglob("*.py")
        if "__pycache__" not in path.parts
    )


@pytest.fixture(scope="module")
def all_imports() -> list[Import]:
    return [found for file in _source_files() for found in imports_of((ROOT / file).read_text(), file)]


def violations(imports: list[Import]) -> list[str]:
    """Production's imports of development code (or pgserver) that are not an allowed lazy hook."""
    wrong = []
    for found in imports:
        if unit_of_file(found.file) not in (*PRODUCTION, *SHARED_MODULES.values()):
            continue
        head = found.module.split(".")[0]
        if head not in (*DEVELOPMENT, "pgserver"):
            continue
        where = f"{found.file}:{found.line} imports {found.module}"
        if (found.file, head) not in LAZY_DEV_IMPORTS:
            wrong.append(f"{where}: production imports no development code")
        elif found.function is None:
            wrong.append(f"{where} at module level: the allowed hook is a lazy import, inside a function")
        elif found.file == "sharewhy/cli.py" and "_dev_command" not in {
            ast.unparse(decorator) for decorator in found.function.decorator_list
        }:
            wrong.append(f"{where} in {found.function.name}, which is not a @_dev_command")
    return wrong


def unit_graph(imports: list[Import]) -> dict[str, set[str]]:
    """Which top-level package imports which, the allowed lazy hooks left out."""
    graph: dict[str, set[str]] = {unit: set() for unit in UNITS}
    for found in imports:
        source, target = unit_of_file(found.file), unit_of_module(found.module)
        if target is None or target == source or (found.file, found.module.split(".")[0]) in LAZY_DEV_IMPORTS:
            continue
        graph[source].add(target)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as the path around it, or None."""
    state: dict[str, str] = {}

    def walk(node: str, path: list[str]) -> list[str] | None:
        state[node] = "open"
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "open":
                return [*path[path.index(target) :], target]
            if target not in state and (cycle := walk(target, [*path, target])):
                return cycle
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state and (cycle := walk(start, [start])):
            return cycle
    return None


def test_ingestion_and_expectations_import_no_airflow(all_imports):
    wrong = [
        f"{found.file}:{found.line} imports {found.module}"
        for found in all_imports
        if found.file.split("/")[0] in ("ingestion", "expectations") and found.module.split(".")[0] == "airflow"
    ]
    assert not wrong, "\n".join(wrong)


def test_production_imports_no_development_code_but_the_lazy_hooks(all_imports):
    assert not (wrong := violations(all_imports)), "\n".join(wrong)


def test_every_allowed_lazy_hook_is_still_used(all_imports):
    used = {(found.file, found.module.split(".")[0]) for found in all_imports}
    assert not (stale := set(LAZY_DEV_IMPORTS) - used), f"no longer imported, drop from LAZY_DEV_IMPORTS: {stale}"


def test_only_the_development_package_imports_pgserver(all_imports):
    importers = {found.file.split("/")[0] for found in all_imports if found.module.split(".")[0] == "pgserver"}
    assert importers == {"sharewhy_dev"}


def test_settings_imports_no_project_code_but_its_embedded_warehouse_hook(all_imports):
    ours = {
        found.module
        for found in all_imports
        if found.file == "sharewhy/settings.py" and unit_of_module(found.module) is not None
    }
    assert ours == {"sharewhy_dev.warehouse"}  # nothing of sharewhy, ingestion, … nor the simulator


def test_no_cycle_between_top_level_packages(all_imports):
    graph = unit_graph(all_imports)
    shared = set(SHARED_MODULES.values())
    assert graph["ingestion"] <= shared and graph["expectations"] <= shared
    assert graph["sharewhy.warehouse_access"] <= {"sharewhy.settings"}
    assert not (cycle := find_cycle(graph)), " → ".join(cycle)


def test_the_wheel_ships_production_only_and_pgserver_is_a_development_extra():
    from setuptools import find_packages

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    include = project["tool"]["setuptools"]["packages"]["find"]["include"]
    assert {name.split(".")[0] for name in find_packages(ROOT, include=include)} == {
        "sharewhy",
        "ingestion",
        "expectations",
    }
    assert not [need for need in project["project"]["dependencies"] if need.startswith("pgserver")]
    assert [need for need in project["project"]["optional-dependencies"]["dev"] if need.startswith("pgserver")]


def test_the_rules_catch_what_they_forbid(tmp_path):
    (tmp_path / "simulator").mkdir()
    (tmp_path / "simulator" / "server.py").write_text("")
    module_level = imports_of("from simulator import server\n", "sharewhy/webhooks.py", tmp_path)
    assert module_level[0].module == "simulator.server"
    assert "production imports no development code" in violations(module_level)[0]
    eager_hook = imports_of("import sharewhy_dev.warehouse\n", "sharewhy/settings.py", tmp_path)
    assert "at module level" in violations(eager_hook)[0]
    undecorated = imports_of("def _serve(args):\n    from simulator import server\n", "sharewhy/cli.py", tmp_path)
    assert "not a @_dev_command" in violations(undecorated)[0]
    allowed = imports_of("@_dev_command\ndef _simulate(args):\n    import simulator\n", "sharewhy/cli.py", tmp_path)
    assert violations(allowed) == []
    assert violations(imports_of("def f():\n    import pgserver\n", "bi_tool/docs.py", tmp_path))
    assert find_cycle(
        {"sharewhy": {"ingestion"}, "ingestion": {"sharewhy.settings"}, "sharewhy.settings": {"sharewhy"}}
    ) == ["ingestion", "sharewhy.settings", "sharewhy", "ingestion"]
    assert find_cycle({"sharewhy": {"ingestion"}, "ingestion": {"sharewhy.settings"}}) is None
