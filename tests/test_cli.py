"""The `hub` command as an operator uses it, on a fresh SQLite data directory."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from core.cli import main
from core.config import get_settings


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    for name in ("HUB_DATABASE_URL", "HUB_REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HUB_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_demo_is_idempotent(runner: CliRunner) -> None:
    first = runner.invoke(main, ["demo"])
    second = runner.invoke(main, ["demo"])
    assert first.exit_code == 0 and "demo city loaded" in first.output
    assert second.exit_code == 0 and "already present" in second.output


def test_import_reports_bad_rows_and_writes_nothing(runner: CliRunner, tmp_path: Path) -> None:
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    good = tmp_path / "departments.csv"
    good.write_text("\ufeffcode,name_en,name_ru\nparks,Parks,Парки\n", encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text("code,name_en\nzoo,Zoo\n,Nameless\n", encoding="utf-8")

    assert "created 1" in runner.invoke(main, ["import", "departments", str(good)]).output
    assert "unchanged 1" in runner.invoke(main, ["import", "departments", str(good)]).output
    rejected = runner.invoke(main, ["import", "departments", str(bad)])
    assert rejected.exit_code == 1
    assert "line 3: code is required" in rejected.output and "nothing imported" in rejected.output
    again = runner.invoke(main, ["import", "departments", str(good)])
    assert "created 0" in again.output  # zoo was not half-imported


def test_api_keys_and_staff_accounts(runner: CliRunner) -> None:
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    key = runner.invoke(main, ["apikey", "create", "--name", "crm", "--role", "agent"])
    assert key.exit_code == 0 and key.output.startswith("hub_")
    narrow = runner.invoke(
        main, ["apikey", "create", "--name", "x", "--role", "agent", "--scope", "district"]
    )
    assert narrow.exit_code == 1 and "--scope-id is required" in narrow.output
    args = ["staff", "create", "--username", "olga", "--role", "dispatcher"]
    password = "correct horse battery\ncorrect horse battery\n"
    assert runner.invoke(main, args, input=password).exit_code == 0
    duplicate = runner.invoke(main, args, input=password)
    assert duplicate.exit_code == 1 and "already exists" in duplicate.output
    short = runner.invoke(
        main, ["staff", "create", "--username", "ivan", "--role", "agent"], input="short\nshort\n"
    )
    assert short.exit_code == 1 and "at least 10 characters" in short.output


def test_worker_refuses_to_start_without_redis(runner: CliRunner) -> None:
    result = runner.invoke(main, ["worker"])
    assert result.exit_code == 1 and "HUB_REDIS_URL" in result.output


def test_billing_from_the_shell(runner: CliRunner, tmp_path: Path) -> None:
    samples = Path(__file__).parents[1] / "core" / "billing" / "demo_data"
    # The demo bills its 120 flats (6 services each) and loads the sample files.
    assert runner.invoke(main, ["demo"]).exit_code == 0
    for what in ("suppliers", "services", "tariffs", "accounts", "meters", "balances"):
        result = runner.invoke(main, ["import", what, str(samples / f"{what}.csv")])
        assert result.exit_code == 0 and "created 0, updated 0" in result.output, result.output
    run = runner.invoke(main, ["billing", "charge-run", "2026-10"])
    # 120 flats × 6 + 7800001: 6, 7800002: 6, 7800003 (an office): 3.
    assert run.exit_code == 0 and run.output.startswith("735 charges"), run.output
    report = runner.invoke(main, ["billing", "report", "suppliers", "--period", "2026-10"])
    assert report.exit_code == 0 and report.output.splitlines()[0] == (
        "supplier,billed,recalculated,paid,debt"
    )
    assert runner.invoke(main, ["billing", "charge-run", "2026-13"]).exit_code == 2
    statement = tmp_path / "bank.csv"
    statement.write_text("external_id,account,paid_on,amount\nP1,7800001,2026-10-03,100.00\n")
    assert "recorded 1" in runner.invoke(main, ["billing", "statement", str(statement)]).output
    assert (
        "already recorded 1" in runner.invoke(main, ["billing", "statement", str(statement)]).output
    )


def test_every_importer_is_offered_and_a_grid_imports_from_geojson(
    runner: CliRunner, tmp_path: Path
) -> None:
    from core.cli import IMPORT_KINDS
    from core.imports import importers

    assert set(IMPORT_KINDS) == set(importers())
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    cells = tmp_path / "cells.geojson"
    square = [[37.0, 55.0], [37.001, 55.0], [37.001, 55.001], [37.0, 55.001], [37.0, 55.0]]
    cells.write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", '
        '"properties": {"code": "X0001"}, '
        f'"geometry": {{"type": "Polygon", "coordinates": [{square}]}}}}]}}'
    )
    result = runner.invoke(main, ["import", "grid", str(cells)])
    assert result.exit_code == 0, result.output
    assert "created 1" in result.output
    assert "unchanged 1" in runner.invoke(main, ["import", "grid", str(cells)]).output


def test_serve_stops_promptly_with_a_live_stream_open(tmp_path: Path) -> None:
    """An open event stream never ends by itself; a stop must not wait for it forever."""
    import os
    import signal
    import socket
    import subprocess
    import sys
    import time

    import httpx

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("HUB_DATABASE_URL", "HUB_REDIS_URL")
    }
    env["HUB_DATA_DIR"] = str(tmp_path)
    hub = Path(sys.executable).with_name("hub")
    server = subprocess.Popen(  # noqa: S603 (our own command, from this venv)
        [str(hub), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(120):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.5)
        with httpx.Client(base_url=base, timeout=30) as client:
            login = {"username": "dispatcher", "password": "dispatcher-demo"}
            assert client.post("/api/v1/session", json=login).status_code == 200
            with client.stream("GET", "/api/v1/events") as stream:
                assert stream.status_code == 200
                server.send_signal(signal.SIGTERM)
                # Without a bounded shutdown it waits for the stream for ever: this raises.
                server.wait(timeout=30)
        assert server.returncode is not None
    finally:
        if server.poll() is None:
            server.kill()
