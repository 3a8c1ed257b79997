"""A port already in use: `make airflow`, `make bi` and `make docs` say which port, who holds it and how to choose
another, and exit 1 before starting anything (no traceback, no "see the log")."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time

import pytest

from sharewhy import ports, settings
from sharewhy_dev.processes import free_port


@pytest.fixture
def taken_port():
    """A loopback port this test process listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def _run(command: list[str], tmp_path, **env: str) -> tuple[subprocess.CompletedProcess, float]:
    started = time.monotonic()
    result = subprocess.run(
        command,
        env={**os.environ, "SHAREWHY_HOME": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=settings.REPO_ROOT,
    )
    return result, time.monotonic() - started


def _assert_refused(result: subprocess.CompletedProcess, port: int, how: str, exit_code: int = 1) -> None:
    expected = f"port {port} on 127.0.0.1 is already in use by pid {os.getpid()}; choose another with `{how}"
    assert result.returncode == exit_code, result.stdout + result.stderr
    assert expected in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and "see the log" not in result.stderr + result.stdout


@pytest.mark.parametrize(
    ("command", "env", "how"),
    [
        ([sys.executable, "-m", "bi_tool.docs", "--port", "{port}"], {}, "make docs PORT="),
        ([sys.executable, "-m", "bi_tool.provision", "serve", "--port", "{port}"], {}, "make bi PORT="),
        (
            [sys.executable, "-m", "sharewhy.cli", "airflow", "up"],
            {"SHAREWHY_AIRFLOW_PORT": "{port}"},
            "make airflow PORT=",
        ),
        (
            [sys.executable, "-m", "sharewhy.cli", "airflow", "up"],
            {"SHAREWHY_AIRFLOW_PORT": "{free}", "SHAREWHY_WEBHOOK_PORT": "{port}"},
            "SHAREWHY_WEBHOOK_PORT=",
        ),
    ],
    ids=["docs", "bi", "airflow api-server", "airflow webhooks"],
)
def test_a_port_in_use_is_named_with_its_owner_and_how_to_choose_another(taken_port, tmp_path, command, env, how):
    fill = {"port": taken_port, "free": free_port()}
    result, seconds = _run(
        [part.format(**fill) for part in command],
        tmp_path,
        **{name: value.format(**fill) for name, value in env.items()},
    )
    _assert_refused(result, taken_port, how)
    assert seconds < 30  # refused before a warehouse, a dbt run or a Superset start
    assert not (tmp_path / "warehouse").exists()


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
@pytest.mark.parametrize("target", ["docs", "bi", "airflow"])
def test_make_passes_port_on(taken_port, tmp_path, target):
    if target == "bi" and not (settings.REPO_ROOT / ".venv-superset" / ".installed").exists():
        pytest.skip("`make bi` would install Superset's venv first")
    result, _ = _run(["make", "--no-print-directory", target, f"PORT={taken_port}"], tmp_path)
    _assert_refused(result, taken_port, f"make {target} PORT=", exit_code=2)  # make's own code for a failed recipe


def test_a_port_held_on_every_ipv6_address_is_taken_and_its_owner_named():
    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")
    with socket.socket(socket.AF_INET6) as sock:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)  # dual-stack, as most servers bind "::"
        sock.bind(("::", 0))
        sock.listen()
        port = sock.getsockname()[1]
        with pytest.raises(ports.PortInUse, match=f"port {port} on 127.0.0.1 is already in use by pid {os.getpid()};"):
            ports.require_free(port, "make docs PORT={port}")


def test_the_suggested_port_is_free(taken_port):
    with pytest.raises(ports.PortInUse) as refused:
        ports.require_free(taken_port, "make bi PORT={port}")
    suggested = int(str(refused.value).rsplit("PORT=", 1)[1].rstrip("`"))
    assert suggested != taken_port and ports.is_free(suggested)
    ports.require_free(suggested, "make bi PORT={port}")  # free: no error
