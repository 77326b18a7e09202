"""The README's course command (`make lab`) really starts JupyterLab serving the notebooks, on
the welcome notebook, without asking about news."""

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=5) as response:  # 127.0.0.1 only
        return json.load(response)


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make (apt-get install make)")
def test_make_lab_serves_the_notebooks(tmp_path):
    port, token = free_port(), "course-test-token"
    lab_args = " ".join([
        "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
        f"--LabApp.user_settings_dir={tmp_path / 'settings'}",
    ])  # fmt: skip
    env = dict(os.environ)
    for name in ("config", "runtime", "data"):  # keep the user's Jupyter folders untouched
        env[f"JUPYTER_{name.upper()}_DIR"] = str(tmp_path / name)
    venv = Path(sys.prefix)
    # `-o` keeps make from (re)installing: the test runs inside an environment already set up.
    command = ["make", "-C", str(REPO), "lab", f"VENV={venv}", "-o", f"{venv}/.installed",
               f"LAB_ARGS={lab_args}"]  # fmt: skip
    log = open(tmp_path / "lab.log", "wb")
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env,
                              start_new_session=True)  # fmt: skip
    try:
        status, deadline = None, time.monotonic() + 90
        while status is None and time.monotonic() < deadline:
            assert server.poll() is None, (tmp_path / "lab.log").read_text()
            try:
                status = get_json(f"http://127.0.0.1:{port}/api/status?token={token}")
            except OSError:
                time.sleep(0.5)
        assert status is not None, "JupyterLab did not answer within 90 s"
        assert "started" in status
        listing = get_json(f"http://127.0.0.1:{port}/api/contents?token={token}")
        names = {item["name"] for item in listing["content"]}
        assert "00_welcome.ipynb" in names  # it serves the course's notebooks folder
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/lab?token={token}", timeout=10) as r:
            assert r.status == 200 and b"JupyterLab" in r.read()
        # It opens on the welcome notebook ...
        home = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        home.request("GET", f"/?token={token}")
        answer = home.getresponse()
        assert answer.status in (301, 302, 303, 307)
        assert answer.getheader("Location").split("?")[0].endswith("/lab/tree/00_welcome.ipynb")
        home.close()
        # ... and does not ask about news: the course changes the default, not the user's settings.
        plugin = "@jupyterlab/apputils-extension:notification"
        setting = get_json(f"http://127.0.0.1:{port}/lab/api/settings/{plugin}?token={token}")
        defaults = {k: v.get("default") for k, v in setting["schema"]["properties"].items()}
        assert defaults["fetchNews"] == "false" and defaults["checkForUpdates"] is False
        assert not list((tmp_path / "settings").rglob("notification*"))
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # make and the server it started, by PID
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()
