"""The compose files as Compose itself reads them (`docker compose config`), and the image.

Each file is parsed by the real client (the v2 plugin, else docker-compose 1.29), so what is
checked here is what `up` would run: networks, published ports, healthchecks, start order.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]  # PyYAML (via uvicorn[standard]) ships no stubs

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
COMPOSE_FILES = ("docker-compose.yml", "compose.api.yml", "compose.worker.yml", "compose.dev.yml")
# The variables the files require (`${VAR:?…}`); the values only need to be recognisable.
REQUIRED_ENV = {
    "ENGLOG_JWT_SECRET": "j" * 40,
    "ENGLOG_METRICS_TOKEN": "metrics-token-for-tests",
    "POSTGRES_PASSWORD": "pgpassword",
    "GRAFANA_ADMIN_PASSWORD": "grafanapassword",
    "ENGLOG_GRPC_PUBLIC_HOST": "api.example.com",
    "ENGLOG_API_GRPC_ADDRESS": "api.example.com:50051",
}
API_MACHINE = {
    "caddy",
    "api1",
    "api2",
    "migrate",
    "postgres",
    "redis",
    "prometheus",
    "grafana",
}


@functools.cache
def compose_command() -> tuple[str, ...]:
    docker = shutil.which("docker")
    if docker is not None:
        probe = subprocess.run(  # noqa: S603 - a fixed command line
            [docker, "compose", "version"], capture_output=True, check=False
        )
        if probe.returncode == 0:
            return (docker, "compose")
    legacy = shutil.which("docker-compose")
    if legacy is not None:
        return (legacy,)
    reason = (
        "neither `docker compose` (the v2 plugin) nor `docker-compose` is installed, so the "
        "compose files cannot be checked: install one (Debian: apt-get install -y docker-compose)"
    )
    # CI installs a client and sets ENGLOG_REQUIRE_COMPOSE (.ci/run): there, a missing client
    # fails. A newcomer's `just test` without Docker tools skips these, saying why.
    if os.environ.get("ENGLOG_REQUIRE_COMPOSE"):
        pytest.fail(reason)
    pytest.skip(reason)


def run_config(name: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {key: value for key, value in os.environ.items() if not key.startswith("ENGLOG_")}
    clean.pop("COMPOSE_FILE", None)
    clean.pop("COMPOSE_PROFILES", None)
    return subprocess.run(  # noqa: S603 - a fixed command line
        [*compose_command(), "-f", str(ROOT / name), "config"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**clean, **env},
        check=False,
        timeout=60,
    )


@functools.cache
def config(name: str) -> dict[str, Any]:
    result = run_config(name, REQUIRED_ENV)
    assert result.returncode == 0, result.stderr
    parsed: dict[str, Any] = yaml.safe_load(result.stdout)
    return parsed


def services(name: str) -> dict[str, Any]:
    found: dict[str, Any] = config(name)["services"]
    return found


def networks_of(name: str) -> dict[str, set[str]]:
    """Network → the services on it (services with network_mode have none)."""
    members: dict[str, set[str]] = {net: set() for net in config(name).get("networks", {})}
    for service, spec in services(name).items():
        for net in spec.get("networks") or {}:
            members[net].add(service)
    return members


def published(spec: dict[str, Any]) -> list[tuple[str, int, int]]:
    """(host ip, host port, container port) of each published port, short or long syntax."""
    ports = []
    for port in spec.get("ports", []):
        if isinstance(port, dict):
            ports.append((port.get("host_ip", ""), int(port["published"]), int(port["target"])))
            continue
        match = re.fullmatch(r"(?:(?P<ip>[\d.]+):)?(?P<host>\d+):(?P<target>\d+)(?:/\w+)?", port)
        assert match is not None, port
        ports.append((match["ip"] or "", int(match["host"]), int(match["target"])))
    return ports


def mounts(spec: dict[str, Any]) -> set[str]:
    """SOURCE:TARGET[:ro] of each volume: v1 prints strings, v2 the long syntax."""
    found = set()
    for volume in spec.get("volumes", []):
        if isinstance(volume, dict):
            volume = f"{volume['source']}:{volume['target']}" + (
                ":ro" if volume.get("read_only") else ""
            )
        found.add(volume.replace(str(ROOT), ".").removesuffix(":rw"))
    return found


def conditions(spec: dict[str, Any]) -> dict[str, str]:
    return {dep: value["condition"] for dep, value in spec.get("depends_on", {}).items()}


def internal(name: str, network: str) -> bool:
    return bool((config(name)["networks"][network] or {}).get("internal", False))


@pytest.mark.parametrize("name", COMPOSE_FILES)
def test_compose_file_is_valid_for_compose(name: str) -> None:
    assert set(services(name))


@pytest.mark.parametrize(
    ("name", "variable"),
    [
        ("docker-compose.yml", "ENGLOG_JWT_SECRET"),
        ("docker-compose.yml", "POSTGRES_PASSWORD"),
        ("compose.api.yml", "ENGLOG_METRICS_TOKEN"),
        ("compose.api.yml", "ENGLOG_GRPC_PUBLIC_HOST"),
        ("compose.worker.yml", "ENGLOG_API_GRPC_ADDRESS"),
    ],
)
def test_compose_refuses_to_run_without_a_required_variable(name: str, variable: str) -> None:
    env = {key: value for key, value in REQUIRED_ENV.items() if key != variable}
    result = run_config(name, env)
    assert result.returncode != 0
    assert f"set {variable}" in result.stderr


def test_whole_system_has_every_service_on_the_network_of_its_machine() -> None:
    assert networks_of("docker-compose.yml") == {
        "api": API_MACHINE | {"api-grpc"},
        "worker": {"worker", "ollama", "api-grpc"},
        "egress": {"ollama-pull"},
    }
    assert services("docker-compose.yml")["certs"]["network_mode"] == "none"


def test_worker_network_is_internal_and_holds_no_database() -> None:
    members = networks_of("docker-compose.yml")["worker"]
    assert internal("docker-compose.yml", "worker") is True
    assert not members & {"postgres", "redis", "api1", "api2", "caddy"}


def test_only_door_from_worker_network_forwards_the_grpc_port_alone() -> None:
    on_both = {
        service
        for service, spec in services("docker-compose.yml").items()
        if set(spec.get("networks") or {}) >= {"api", "worker"}
    }
    assert on_both == {"api-grpc"}
    haproxy = (INFRA / "haproxy" / "haproxy.cfg").read_text()
    binds = re.findall(r"^\s*bind\s+(\S+)", haproxy, flags=re.MULTILINE)
    servers = re.findall(r"^\s*server\s+\S+\s+(\S+)", haproxy, flags=re.MULTILINE)
    modes = re.findall(r"^\s*mode\s+(\w+)", haproxy, flags=re.MULTILINE)
    # The health frontend listens on the gateway's own loopback, unreachable from the network.
    assert binds == ["127.0.0.1:8405", ":50051"]
    assert servers == ["api1:50051", "api2:50051"]
    assert modes == ["tcp", "http"]  # tcp by default: TLS passes through to the API
    worker_env = services("docker-compose.yml")["worker"]["environment"]
    assert worker_env["ENGLOG_API_GRPC_ADDRESS"] == "api-grpc:50051"


def test_whole_system_publishes_only_https_and_loopback_grafana() -> None:
    ports = {
        service: published(spec)
        for service, spec in services("docker-compose.yml").items()
        if published(spec)
    }
    assert ports == {
        "caddy": [("", 80, 80), ("", 443, 443), ("", 443, 443)],
        "grafana": [("127.0.0.1", 3000, 3000)],
    }
    udp = [
        port
        for port in services("docker-compose.yml")["caddy"]["ports"]
        if (port.get("protocol") if isinstance(port, dict) else port.rpartition("/")[2]) == "udp"
    ]
    assert len(udp) == 1  # HTTP/3


def test_two_api_replicas_sit_behind_caddy() -> None:
    all_services = services("docker-compose.yml")
    assert [name for name in all_services if re.fullmatch(r"api\d", name)] == ["api1", "api2"]
    assert all_services["api1"]["environment"] == all_services["api2"]["environment"]
    caddyfile = (INFRA / "caddy" / "Caddyfile").read_text()
    assert re.search(r"^\s*reverse_proxy api1:8000 api2:8000 \{", caddyfile, re.MULTILINE)
    assert re.search(r"^\s*respond @internal 404$", caddyfile, re.MULTILINE)
    assert conditions(all_services["caddy"]) == {
        "api1": "service_healthy",
        "api2": "service_healthy",
    }


def test_api_replicas_run_in_production_with_grpc_mtls_from_the_certs_volume() -> None:
    spec = services("docker-compose.yml")["api1"]
    env = spec["environment"]
    assert env["ENGLOG_ENV"] == "production"
    assert env["ENGLOG_JWT_SECRET"] == REQUIRED_ENV["ENGLOG_JWT_SECRET"]
    assert env["ENGLOG_HTTP_HOST"] == "0.0.0.0"  # noqa: S104 - inside the container
    assert env["ENGLOG_GRPC_HOST"] == "0.0.0.0"  # noqa: S104
    assert {
        env["ENGLOG_GRPC_TLS_CERT_FILE"],
        env["ENGLOG_GRPC_TLS_KEY_FILE"],
        env["ENGLOG_GRPC_TLS_CA_FILE"],
    } == {"/certs/server.pem", "/certs/server-key.pem", "/certs/ca.pem"}
    assert env["ENGLOG_DATABASE_URL"] == "postgresql://englog:pgpassword@postgres:5432/englog"
    assert "certs:/certs:ro" in mounts(spec)
    certs = services("docker-compose.yml")["certs"]
    assert "englog certs /certs --host api-grpc" in " ".join(certs["command"])


def test_start_order_waits_for_health_and_migrations() -> None:
    all_services = services("docker-compose.yml")
    assert conditions(all_services["migrate"]) == {
        "certs": "service_completed_successfully",
        "postgres": "service_healthy",
    }
    for replica in ("api1", "api2"):
        assert conditions(all_services[replica]) == {
            "migrate": "service_completed_successfully",
            "redis": "service_healthy",
        }
    assert conditions(all_services["worker"]) == {
        "certs": "service_completed_successfully",
        "api-grpc": "service_healthy",
        "ollama": "service_healthy",
    }
    assert conditions(all_services["grafana"]) == {"prometheus": "service_healthy"}


@pytest.mark.parametrize("name", ["docker-compose.yml", "compose.api.yml", "compose.worker.yml"])
def test_long_running_services_have_healthchecks(name: str) -> None:
    # One-shot jobs end; the worker has no port to ask (it only dials out).
    exempt = {"certs", "migrate", "ollama-pull", "worker"}
    missing = [
        service
        for service, spec in services(name).items()
        if service not in exempt and not spec.get("healthcheck", {}).get("test")
    ]
    assert missing == []
    api_check = services(name).get("api1", {}).get("healthcheck", {}).get("test", [])
    if api_check:
        assert "http://127.0.0.1:8000/ready" in api_check[-1]


def test_api_machine_file_holds_the_api_side_and_publishes_grpc() -> None:
    assert networks_of("compose.api.yml") == {"api": API_MACHINE | {"api-grpc"}}
    ports = {
        service: published(spec)
        for service, spec in services("compose.api.yml").items()
        if published(spec)
    }
    assert ports == {
        "caddy": [("", 80, 80), ("", 443, 443), ("", 443, 443)],
        "grafana": [("127.0.0.1", 3000, 3000)],
        "api-grpc": [("", 50051, 50051)],
    }
    certs = " ".join(services("compose.api.yml")["certs"]["command"])
    assert "--host api.example.com" in certs


def test_worker_machine_file_publishes_nothing_and_keeps_ollama_internal() -> None:
    assert networks_of("compose.worker.yml") == {
        "worker": {"worker", "ollama"},
        "uplink": {"worker", "ollama-pull"},
    }
    assert internal("compose.worker.yml", "worker") is True
    assert {
        service: published(spec) for service, spec in services("compose.worker.yml").items()
    } == {
        "certs": [],
        "worker": [],
        "ollama": [],
        "ollama-pull": [],
    }
    env = services("compose.worker.yml")["worker"]["environment"]
    assert env["ENGLOG_API_GRPC_ADDRESS"] == "api.example.com:50051"
    assert env["ENGLOG_TLS_KEY_FILE"] == "/certs/client-key.pem"
    assert not any(key.startswith(("ENGLOG_DATABASE", "ENGLOG_REDIS")) for key in env)


def test_two_machine_files_together_are_the_whole_system() -> None:
    whole = set(services("docker-compose.yml"))
    assert set(services("compose.api.yml")) | set(services("compose.worker.yml")) == whole
    # The API machine's file may not drift from the whole system's.
    for service in ("api1", "api2", "migrate", "postgres", "caddy", "grafana", "prometheus"):
        assert services("compose.api.yml")[service] == services("docker-compose.yml")[service]
    worker_env = dict(services("compose.worker.yml")["worker"]["environment"])
    whole_env = dict(services("docker-compose.yml")["worker"]["environment"])
    assert worker_env.pop("ENGLOG_API_GRPC_ADDRESS") == "api.example.com:50051"
    assert whole_env.pop("ENGLOG_API_GRPC_ADDRESS") == "api-grpc:50051"
    assert worker_env == whole_env


@pytest.mark.parametrize("name", COMPOSE_FILES)
def test_postgres_redis_worker_and_ollama_are_never_published(name: str) -> None:
    for service in ("postgres", "redis", "worker", "ollama", "ollama-pull", "api1", "api2"):
        spec = services(name).get(service)
        if spec is None or name == "compose.dev.yml":
            continue
        assert published(spec) == [], service


def test_development_services_listen_on_loopback_only() -> None:
    assert {service: published(spec) for service, spec in services("compose.dev.yml").items()} == {
        "postgres": [("127.0.0.1", 5432, 5432)],
        "redis": [("127.0.0.1", 6379, 6379)],
        "ollama": [("127.0.0.1", 11434, 11434)],
    }


def test_prometheus_scrapes_both_replicas_with_the_metrics_token() -> None:
    scrape = yaml.safe_load((INFRA / "prometheus" / "prometheus.yml").read_text())
    (job,) = [job for job in scrape["scrape_configs"] if job["job_name"] == "englog-api"]
    assert job["authorization"] == {
        "type": "Bearer",
        "credentials_file": "/prometheus/metrics_token",
    }
    assert [target for group in job["static_configs"] for target in group["targets"]] == [
        "api1:8000",
        "api2:8000",
    ]
    prometheus = services("docker-compose.yml")["prometheus"]
    assert "> /prometheus/metrics_token" in prometheus["command"][0]
    assert prometheus["environment"]["ENGLOG_METRICS_TOKEN"] == "metrics-token-for-tests"


def test_grafana_dashboard_shows_the_required_metrics() -> None:
    panels = json.loads((INFRA / "grafana" / "dashboards" / "englog.json").read_text())["panels"]
    dashboard = "\n".join(target["expr"] for panel in panels for target in panel.get("targets", []))
    for metric in (
        "englog_http_requests_total",  # request rate
        "englog_http_request_duration_seconds_bucket",  # latency
        "englog_subscriptions",
        'englog_tasks{status="queued"}',  # queue depth
        "englog_insight_generation_seconds_bucket",  # insight time
    ):
        assert metric in dashboard, metric
    provider = yaml.safe_load(
        (INFRA / "grafana" / "provisioning" / "dashboards" / "englog.yml").read_text()
    )
    assert provider["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"
    grafana = services("docker-compose.yml")["grafana"]
    assert "./infra/grafana/dashboards:/var/lib/grafana/dashboards:ro" in mounts(grafana)


def test_image_runs_englog_as_a_non_root_user() -> None:
    dockerfile = (INFRA / "Dockerfile").read_text()
    stages = re.findall(r"^FROM \S+ AS (\w+)$", dockerfile, flags=re.MULTILINE)
    assert stages == ["build", "runtime"]
    runtime = dockerfile.split("AS runtime", 1)[1]
    users = re.findall(r"^USER (\S+)$", runtime, flags=re.MULTILINE)
    assert users == ["englog:englog"]
    assert re.search(r"useradd --system --uid 10001 ", runtime)
    assert '\nENTRYPOINT ["englog"]\n' in runtime
    compose = services("docker-compose.yml")
    for service in ("api1", "api2", "migrate", "worker", "certs"):
        assert compose[service].get("user") in (None, "englog", "10001"), service
