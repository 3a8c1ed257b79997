"""docker-compose.yml without a Docker engine: it interpolates with .env.example, validates against the Compose
Specification's JSON schema, and its images and versions match the project's pins.

The schema is vendored, not downloaded: `tests/schemas/compose_spec.json` is `compose/config/compose_spec.json` from
the `docker-compose==1.29.2` wheel on PyPI (docker_compose-1.29.2-py2.py3-none-any.whl, sha256 8d558937…c94cef809),
the schema Compose itself validated files with. Compose interpolates `${VAR}` before it validates, and so do we.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
import subprocess
import tomllib
from pathlib import Path

import jsonschema
import pytest
import yaml

from sharewhy import settings

ROOT = settings.REPO_ROOT
COMPOSE = ROOT / "docker-compose.yml"
SCHEMA = ROOT / "tests" / "schemas" / "compose_spec.json"
SCHEMA_SHA256 = "0dc04bd346dcfee1b1419628fff79937bbf076925f298f272a2b490e2b112bac"
AIRFLOW_SERVICES = (
    "airflow-init",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
)
LONG_RUNNING = (
    "airflow-db",
    "warehouse",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "webhooks",
    "simulator",
    "superset-db",
    "superset",
    "dbt-docs",
    "redis",
    "airflow-worker",
    "flower",
)
#: Profile `celery`: the broker, the workers and Flower.
CELERY_SERVICES = {"redis", "airflow-worker", "flower"}
#: Profile `bi`: Superset with its metadata database and one-shot provisioning, and the dbt docs site.
BI_SERVICES = {"superset-db", "superset-init", "superset", "dbt-docs"}
#: Services that run once per `up` and exit (the others wait for them with service_completed_successfully).
ONE_SHOT = {"airflow-init", "superset-init"}
#: ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}; $$ is a literal $.
_VARIABLE = re.compile(r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


def _env_example() -> dict[str, str]:
    values = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value
    return values


def _interpolate(value, env: dict[str, str], referenced: set[str]):
    """Compose's interpolation of every string in the parsed file (as Compose does it: after YAML parsing, so a
    JSON value stays a string). A required variable that is unset raises ValueError."""
    if isinstance(value, dict):
        return {key: _interpolate(item, env, referenced) for key, item in value.items()}
    if isinstance(value, list):
        return [_interpolate(item, env, referenced) for item in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match["name"], match["op"], match["arg"]
        referenced.add(name)
        current = env.get(name)
        if op in (":?", "?") and (current is None or (op == ":?" and current == "")):
            raise ValueError(f"{name}: {arg}")
        if op in (":-", "-") and (current is None or (op == ":-" and current == "")):
            return arg
        return current or ""

    return _VARIABLE.sub(substitute, value)


def _load(env: dict[str, str]) -> tuple[dict, set[str]]:
    referenced: set[str] = set()
    return _interpolate(yaml.safe_load(COMPOSE.read_text()), env, referenced), referenced


@pytest.fixture(scope="module")
def filled_env() -> dict[str, str]:
    """.env.example with every empty value filled, as a user's .env would be."""
    return {name: value or f"filled-{name.lower()}" for name, value in _env_example().items()}


@pytest.fixture(scope="module")
def compose(filled_env) -> dict:
    return _load(filled_env)[0]


def test_the_vendored_schema_is_the_one_from_the_registry_package():
    assert hashlib.sha256(SCHEMA.read_bytes()).hexdigest() == SCHEMA_SHA256


def test_the_file_is_valid_against_the_compose_specification(compose):
    schema = json.loads(SCHEMA.read_text())
    validator = jsonschema.Draft7Validator(schema)  # the schema's keywords are all draft-07 ones
    errors = sorted(validator.iter_errors(compose), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors)


def test_the_schema_check_catches_a_broken_file(compose):
    schema = json.loads(SCHEMA.read_text())
    broken = json.loads(json.dumps(compose))
    broken["services"]["webhooks"]["healthcheck"]["interval"] = {"not": "a duration"}
    broken["services"]["warehouse"]["restart_policy"] = "always"  # not a service key
    assert len(list(jsonschema.Draft7Validator(schema).iter_errors(broken))) >= 2


def test_every_variable_it_reads_is_in_env_example_and_nothing_secret_is_committed(filled_env):
    example = _env_example()
    _, referenced = _load(filled_env)
    assert referenced, "the secrets come from .env"
    missing = {name for name in referenced if name not in example}
    assert not missing, f"add to .env.example: {sorted(missing)}"
    for name, value in example.items():
        if {"PASSWORD", "SECRET", "KEY", "TOKEN"} & set(name.split("_")):
            assert value == "", f"{name} must be empty in .env.example"
        assert "<" in value or value == "", f"{name}: only placeholders in .env.example"


def test_required_secrets_fail_loudly_when_unset():
    with pytest.raises(ValueError, match=r"set \w+ in \.env"):
        _load({})


def test_images_and_versions_match_the_project_pins(compose):
    constraints = dict(
        line.split("==", 1)
        for line in (ROOT / "constraints.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    )
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    base = re.search(r"^FROM\s+(\S+)", (ROOT / "Dockerfile").read_text(), re.M)[1]
    image, tag = base.split(":")
    airflow_version, python = re.fullmatch(r"(\d+\.\d+\.\d+)-python(\d+\.\d+)", tag).groups()
    assert image == "apache/airflow"
    assert airflow_version == constraints["apache-airflow"] == constraints["apache-airflow-core"]
    assert f"apache-airflow=={airflow_version}" in pyproject["project"]["dependencies"]
    assert pyproject["project"]["requires-python"] == f">={python},<3.{int(python.split('.')[1]) + 1}"

    ours = f"sharewhy-airflow:{pyproject['project']['version']}"
    for name in (*AIRFLOW_SERVICES, "webhooks", "dbt-docs"):
        assert compose["services"][name]["image"] == ours, name
        assert compose["services"][name]["build"] == {"context": ".", "target": "production"}, name
    assert compose["services"]["simulator"]["image"] == f"sharewhy-simulator:{pyproject['project']['version']}"
    assert compose["services"]["simulator"]["build"] == {"context": ".", "target": "simulator"}

    # the embedded warehouse's PostgreSQL (the binaries the pgserver wheel carries)
    postgres = Path(importlib.util.find_spec("pgserver").origin).parent / "pginstall" / "bin" / "postgres"
    embedded_major = re.search(
        r"(\d+)\.", subprocess.run([str(postgres), "--version"], capture_output=True, text=True, check=True).stdout
    )[1]
    for name in ("airflow-db", "warehouse", "superset-db"):
        assert compose["services"][name]["image"] == f"postgres:{embedded_major}", name
    for name, service in compose["services"].items():
        image = service.get("image", "")
        assert ":" in image and not image.endswith(":latest"), f"{name}: pin the image tag"


def test_the_stack_is_airflow_3_with_local_executor_and_health_checks(filled_env):
    services = _load({**filled_env, "AIRFLOW_EXECUTOR": ""})[0]["services"]  # as .env.example leaves it
    assert set(services) == {
        "airflow-db",
        "warehouse",
        *AIRFLOW_SERVICES,
        "webhooks",
        "simulator",
        *BI_SERVICES,
        *CELERY_SERVICES,
    }
    env = services["airflow-scheduler"]["environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].endswith("@airflow-db:5432/airflow")
    assert env["SHAREWHY_WAREHOUSE_URL"].endswith("@warehouse:5432/sharewhy")  # analytics apart from metadata
    for name in AIRFLOW_SERVICES:
        service_env = services[name]["environment"]
        assert service_env["AIRFLOW__API_AUTH__JWT_SECRET"] == env["AIRFLOW__API_AUTH__JWT_SECRET"], name
    commands = {name: " ".join(services[name]["command"]) for name in AIRFLOW_SERVICES}
    assert "standalone" not in " ".join(commands.values())
    assert commands["airflow-apiserver"].startswith("airflow api-server")
    assert commands["airflow-dag-processor"] == "airflow dag-processor"
    assert commands["airflow-triggerer"] == "airflow triggerer"
    assert "pools import /opt/sharewhy/dags/pipeline/pools.json" in commands["airflow-init"]
    assert "airflow db migrate" in commands["airflow-init"]
    for name in ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer"):
        assert services[name]["depends_on"]["airflow-init"] == {"condition": "service_completed_successfully"}
    for name in LONG_RUNNING:
        assert services[name]["healthcheck"]["test"], name
    assert services["simulator"]["profiles"] == ["simulator"]
    assert "profiles" not in services["webhooks"]


def test_the_celery_profile_is_redis_workers_and_flower_under_the_executor_env_chooses(filled_env):
    celery, _ = _load({**filled_env, "AIRFLOW_EXECUTOR": "CeleryExecutor"})
    services = celery["services"]
    assert {name for name, service in services.items() if "celery" in service.get("profiles", [])} == CELERY_SERVICES
    for name in (*AIRFLOW_SERVICES, "airflow-worker", "flower"):
        env = services[name]["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert env["AIRFLOW__CELERY__BROKER_URL"] == "redis://redis:6379/0", name
        assert env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql://airflow:"), name
        assert env["AIRFLOW__CELERY__RESULT_BACKEND"].endswith("@airflow-db:5432/airflow"), name
    worker = services["airflow-worker"]
    assert worker["command"] == ["airflow", "celery", "worker"]
    assert worker["deploy"]["replicas"] >= 2
    assert worker["depends_on"]["redis"] == {"condition": "service_healthy"}
    assert worker["depends_on"]["airflow-init"] == {"condition": "service_completed_successfully"}
    assert "inspect ping" in " ".join(worker["healthcheck"]["test"])
    assert services["redis"]["image"].startswith("redis:7.2")
    assert "redis-cli" in services["redis"]["healthcheck"]["test"] and "ports" not in services["redis"]
    assert services["flower"]["ports"] == ["127.0.0.1:5555:5555"]


def test_the_bi_profile_is_superset_and_the_dbt_docs_each_health_checked(compose):
    services = compose["services"]
    assert {name for name, service in services.items() if "bi" in service.get("profiles", [])} == BI_SERVICES
    for name in BI_SERVICES - ONE_SHOT:
        check = services[name]["healthcheck"]
        assert check["test"] and not check.get("disable"), name
    for name in ONE_SHOT:
        assert services[name]["restart"] == "no", f"{name} runs once"
    superset = services["superset"]
    assert superset["depends_on"] == {
        "superset-db": {"condition": "service_healthy"},
        "superset-init": {"condition": "service_completed_successfully"},
    }
    assert "http://127.0.0.1:8088/health" in " ".join(superset["healthcheck"]["test"])
    assert superset["ports"] == ["127.0.0.1:8088:8088"]
    assert '"0.0.0.0:8088"' in (ROOT / "bi_tool" / "Dockerfile").read_text()  # gunicorn's bind, what is published
    docs = services["dbt-docs"]
    assert "--host 0.0.0.0 --port 8081" in " ".join(docs["command"]) and docs["ports"] == ["127.0.0.1:8081:8081"]
    assert "http://127.0.0.1:8081/" in " ".join(docs["healthcheck"]["test"])
    for name in ("superset", "superset-init"):
        assert services[name]["environment"]["SHAREWHY_SUPERSET_METADATA_URI"].endswith("@superset-db:5432/superset")


def test_superset_reads_the_warehouse_as_bi_reader_with_the_password_the_publish_sets(compose):
    from urllib.parse import urlsplit

    from bi_tool import dashboards

    services = compose["services"]
    init = services["superset-init"]
    reader = urlsplit(init["environment"]["SHAREWHY_SUPERSET_DB_URI"])
    assert (reader.username, reader.password, reader.hostname, reader.path) == (
        "bi_reader",
        None,
        "warehouse",
        "/sharewhy",
    )
    # the password the publish gives bi_reader (sharewhy/warehouse_access.py) is the one Superset logs in with
    publishing = services["airflow-scheduler"]["environment"]["SHAREWHY_BI_READER_PASSWORD"]
    assert publishing and init["environment"]["SHAREWHY_BI_READER_PASSWORD"] == publishing
    command = " ".join(init["command"])
    assert "superset db upgrade" in command and "superset init" in command
    assert f"import_assets.py /app/bi_tool/bundle {dashboards.DATABASE_FILE}" in command
    assert services["superset"]["environment"]["SHAREWHY_SUPERSET_LANDING"] == (
        f"/superset/dashboard/{dashboards.DASHBOARD_SLUG}/"
    )
    warehouse_users = {
        urlsplit(service["environment"]["SHAREWHY_WAREHOUSE_URL"]).username
        for service in services.values()
        if "SHAREWHY_WAREHOUSE_URL" in service.get("environment", {})
    }
    assert "bi_reader" not in warehouse_users  # only BI tools read as bi_reader; the pipeline owns the warehouse


def test_every_image_built_here_has_build_so_up_never_pulls_it(compose):
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    built = {name: service for name, service in compose["services"].items() if service["image"].startswith("sharewhy-")}
    version = pyproject["project"]["version"]
    assert {service["image"] for service in built.values()} == {
        f"sharewhy-airflow:{version}",
        f"sharewhy-simulator:{version}",
        f"sharewhy-superset:{version}",
    }
    for name, service in built.items():
        build = service.get("build")
        assert build, f"{name}: {service['image']} is built here, give it build:"
        if isinstance(build, str):
            build = {"context": build}
        context, dockerfile = build["context"], build.get("dockerfile", "Dockerfile")
        assert (ROOT / context / dockerfile).is_file(), name
        if "target" in build:
            assert build["target"] in _stages((ROOT / context / dockerfile).read_text()), name
    superset_dockerfile = (ROOT / "bi_tool" / "Dockerfile").read_text()
    assert "-c /app/bi_tool/constraints.txt -r /app/bi_tool/requirements.txt" in superset_dockerfile
    assert re.search(r"^FROM python:3\.11", superset_dockerfile, re.M)  # .venv-superset's Python


def test_docker_compose_config_accepts_the_file_with_every_profile(tmp_path, filled_env):
    """What Docker Compose itself says of the file, with .env filled; `config` needs no Docker engine."""
    import shutil

    if subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        command = ["docker", "compose"]
    elif shutil.which("docker-compose"):
        command = ["docker-compose"]  # Debian's docker-compose (1.29): profiles and completion conditions too
    else:
        pytest.skip("neither `docker compose` nor `docker-compose` is installed (apt-get install docker-compose)")
    env_file = tmp_path / ".env"
    env_file.write_text("".join(f"{name}={value}\n" for name, value in filled_env.items()))
    result = subprocess.run(
        [
            *command,
            "--env-file",
            str(env_file),
            "--project-directory",
            str(ROOT),
            "-f",
            str(COMPOSE),
            "--profile",
            "bi",
            "--profile",
            "simulator",
            "--profile",
            "celery",
            "config",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    rendered = yaml.safe_load(result.stdout)
    assert set(rendered["services"]) >= BI_SERVICES | CELERY_SERVICES
    assert rendered["services"]["superset"]["build"]


def test_volumes_are_named_and_ports_bound_to_localhost(compose):
    declared = set(compose["volumes"])
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            assert source in declared, f"{name}: {volume} is not a named volume"
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond localhost"
            assert "0.0.0.0" not in str(port), f"{name} publishes {port} on every interface"
    assert {"airflow-db", "warehouse", "airflow-logs", "drops", "webhooks"} <= declared


def test_the_image_installs_the_project_from_the_lock_file():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "-c /opt/sharewhy/constraints.txt" in dockerfile
    assert "-e /opt/sharewhy" in dockerfile  # editable: the code finds dags/ and dbt_project/ beside itself
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", ".sharewhy", ".git", ".env"} <= set(ignored)


def _stages(dockerfile: str) -> dict[str, dict]:
    """The Dockerfile's stages by name: the image or stage each starts FROM and the sources its COPY lines take from
    the build context (COPY --from=… takes from another image, not from the context)."""
    stages: dict[str, dict] = {}
    current = None
    for line in dockerfile.replace("\\\n", " ").splitlines():
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        if words[0] == "FROM":
            name = words[3] if len(words) > 3 and words[2].upper() == "AS" else f"stage{len(stages)}"
            current = stages[name] = {"from": words[1], "copies": []}
        elif words[0] == "COPY" and not any(word.startswith("--from") for word in words):
            current["copies"] += [word.rstrip("/") for word in words[1:-1] if not word.startswith("--")]
    return stages


def _context_of(stages: dict[str, dict], name: str) -> list[str]:
    """What a stage's image holds from the build context: its COPYs and those of the stages it is built FROM."""
    copies = []
    while name in stages:
        copies += stages[name]["copies"]
        name = stages[name]["from"]
    return copies


def test_the_production_image_carries_no_tests_bench_or_development_code():
    dockerfile = (ROOT / "Dockerfile").read_text()
    stages = _stages(dockerfile)
    assert list(stages)[-1] == "production", "the last stage is what a plain `docker build .` gives"
    production = _context_of(stages, "production")
    for folder in (".", "tests", "bench", "simulator", "sharewhy_dev"):
        assert folder not in production, f"the production image copies {folder}"
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    shipped = {
        name
        for name in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
        if "*" not in name and "." not in name
    }
    assert shipped == {"sharewhy", "ingestion", "expectations"}  # the wheel's packages: production's only
    assert shipped | {"dags", "dbt_project", "pyproject.toml", "constraints.txt"} <= set(production)
    # the simulator profile's image: production plus the simulator, and nothing else of development
    simulator = _context_of(stages, "simulator")
    assert set(simulator) - set(production) == {"simulator"}


def test_the_stage_parser_sees_a_copy_of_everything():
    stages = _stages("FROM apache/airflow:3 AS base\nCOPY --chown=a:b . /opt/x\nFROM base AS production\n")
    assert _context_of(stages, "production") == ["."]
