"""`opsbundle dashboards upload` against a local server answering like Grafana's HTTP API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dashboards.build import build_all
from dashboards.exceptions import UploadError
from dashboards.upload import DashboardUploader
from opsbundle.cli import main
from opsbundle.exceptions import ConfigError
from tests.integration.dashboards.grafana_emulator import GrafanaEmulator
from tests.integration.dashboards.stack import free_port

TOKEN = "glsa_test_0123456789abcdef"
BOARDS = build_all()


@pytest.fixture
def grafana() -> Iterator[GrafanaEmulator]:
    with GrafanaEmulator(token=TOKEN) as emulator:
        yield emulator


@pytest.fixture(autouse=True)
def grafana_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GRAFANA_URL", "GRAFANA_TOKEN", "GRAFANA_TOKEN_SECRET_ARN", "GRAFANA_FOLDER"):
        monkeypatch.delenv(name, raising=False)


def test_upload_creates_the_folder_and_saves_every_dashboard_with_a_message(
    grafana: GrafanaEmulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GRAFANA_TOKEN", TOKEN)
    code = main(
        [
            "dashboards",
            "upload",
            "--grafana-url",
            grafana.url,
            "--folder",
            "Ops",
            "--message",
            "release 1.4",
        ]
    )
    assert code == 0, capsys.readouterr().err
    assert list(grafana.folders.values()) == ["Ops"]
    (folder_uid,) = grafana.folders
    assert set(grafana.dashboards) == {b["uid"] for b in BOARDS.values()}
    for saved in grafana.dashboards.values():
        assert saved.folder_uid == folder_uid and saved.version == 1
        assert saved.messages == ["release 1.4"]
        assert saved.dashboard["schemaVersion"] >= 39
    saves = grafana.requests_to("/api/dashboards/db")
    assert all(r.body["overwrite"] is True for r in saves)
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in saves)
    out = capsys.readouterr().out
    assert f"RDS: version 1, {grafana.url}/d/opsbundle-rds/rds" in out


def test_upload_again_overwrites_into_the_existing_folder(
    grafana: GrafanaEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRAFANA_TOKEN", TOKEN)
    monkeypatch.setenv("GRAFANA_URL", grafana.url)
    monkeypatch.setenv("GRAFANA_FOLDER", "Ops")
    assert main(["dashboards", "upload"]) == 0
    assert main(["dashboards", "upload", "--message", "second"]) == 0
    assert len(grafana.folders) == 1  # found by title, not created twice
    assert {s.version for s in grafana.dashboards.values()} == {2}
    assert grafana.dashboards["opsbundle-self"].messages[-1] == "second"


def test_without_a_folder_dashboards_go_to_general(grafana: GrafanaEmulator) -> None:
    uploader = DashboardUploader(url=grafana.url, token=TOKEN)
    assert uploader.folder_uid(None) is None
    done = uploader.upload(BOARDS["rds"], folder_uid=None, message="m")
    assert (done.uid, done.version, done.url) == (
        "opsbundle-rds",
        1,
        f"{grafana.url}/d/opsbundle-rds/rds",
    )
    assert "folderUid" not in grafana.requests_to("/api/dashboards/db")[0].body


def test_a_bad_token_is_a_configuration_error_naming_the_token(
    grafana: GrafanaEmulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GRAFANA_TOKEN", "glsa_wrong")
    assert main(["dashboards", "upload", "--grafana-url", grafana.url]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("opsbundle: configuration error: GRAFANA_TOKEN: Grafana at ")
    assert "refused the token (HTTP 401: Invalid API key)" in err
    assert "glsa_wrong" not in err
    assert len(err.splitlines()) == 1


def test_a_401_on_save_is_reported_the_same_way(grafana: GrafanaEmulator) -> None:
    grafana.fail_next(
        401,
        {"message": "Invalid API key", "messageId": "api-key.invalid"},
        path="/api/dashboards/db",
    )
    uploader = DashboardUploader(url=grafana.url, token=TOKEN)
    with pytest.raises(ConfigError, match=r"GRAFANA_TOKEN: .*HTTP 401"):
        uploader.upload(BOARDS["rds"], folder_uid=None, message="m")


def test_a_412_version_mismatch_fails_the_upload_with_the_reason(
    grafana: GrafanaEmulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Someone saved a dashboard in Grafana while the upload ran."""
    grafana.fail_next(
        412,
        {"message": "The dashboard has been changed by someone else", "status": "version-mismatch"},
        path="/api/dashboards/db",
    )
    monkeypatch.setenv("GRAFANA_TOKEN", TOKEN)
    assert main(["dashboards", "upload", "--grafana-url", grafana.url]) == 1
    err = capsys.readouterr().err
    assert (
        "opsbundle: failed: Grafana refused \"save 'Lambda health'\" (HTTP 412): "
        "version-mismatch: The dashboard has been changed by someone else; someone saved it "
        "in Grafana meanwhile" in err
    )


def test_the_emulator_answers_412_itself_without_overwrite(grafana: GrafanaEmulator) -> None:
    """The emulator's own rule, which the upload avoids by always sending overwrite."""
    import requests

    headers = {"Authorization": f"Bearer {TOKEN}"}
    board = dict(BOARDS["rds"], version=1)
    first = requests.post(
        f"{grafana.url}/api/dashboards/db", json={"dashboard": board}, headers=headers, timeout=5
    )
    assert first.status_code == 200
    grafana.dashboards["opsbundle-rds"].version = 5  # edited in the UI meanwhile
    again = requests.post(
        f"{grafana.url}/api/dashboards/db", json={"dashboard": board}, headers=headers, timeout=5
    )
    assert again.status_code == 412 and again.json()["status"] == "version-mismatch"
    uploader = DashboardUploader(url=grafana.url, token=TOKEN)
    assert uploader.upload(board, folder_uid=None, message="m").version == 6


def test_a_name_clash_in_the_folder_is_explained(grafana: GrafanaEmulator) -> None:
    uploader = DashboardUploader(url=grafana.url, token=TOKEN)
    uploader.upload(dict(BOARDS["rds"], uid="someone-elses-rds"), folder_uid=None, message="m")
    with pytest.raises(UploadError, match=r"name-exists.*rename or move it"):
        uploader.upload(BOARDS["rds"], folder_uid=None, message="m")


def test_an_unreachable_grafana_names_the_url(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRAFANA_TOKEN", TOKEN)
    url = f"http://127.0.0.1:{free_port()}"
    assert main(["dashboards", "upload", "--grafana-url", url]) == 2
    err = capsys.readouterr().err
    assert f"GRAFANA_URL: could not reach Grafana at {url}" in err


def test_a_url_that_is_not_grafana_names_the_url(
    grafana: GrafanaEmulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GRAFANA_TOKEN", TOKEN)
    assert (
        main(["dashboards", "upload", "--grafana-url", grafana.url + "/wrong", "--folder", "Ops"])
        == 2
    )
    assert "GRAFANA_URL: no Grafana API at" in capsys.readouterr().err
