"""Servers (JupyterLab, Notebook 7, Voila, marimo) for the browser tier: 127.0.0.1 only, isolated, always
stopped."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from .timeouts import SERVER_START_S


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def jupyter_env(root: Path) -> dict[str, str]:
    """Environment isolating Jupyter's config, data and runtime dirs under ``root``."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1")
    for name in ("CONFIG", "DATA", "RUNTIME"):
        path = root / f"jupyter_{name.lower()}"
        path.mkdir(parents=True, exist_ok=True)
        env[f"JUPYTER_{name}_DIR"] = str(path)
    env["IPYTHONDIR"] = str(root / "ipython")
    return env


class Server:
    """A Jupyter server process on 127.0.0.1:port, stopped (process group) on ``stop``."""

    def __init__(self, args: list[str], cwd: Path, env: dict[str, str], port: int, ready_path: str = "/",
                 any_status: bool = False) -> None:
        """Start ``python -m args`` and wait until ``ready_path`` answers 200 (any HTTP status with
        ``any_status``, for servers whose cheap pages do not exist)."""
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log = cwd / f"server-{port}.log"
        self._log_file = open(self.log, "wb")  # noqa: SIM115 - open while the server runs, closed in stop()
        self.process = subprocess.Popen([sys.executable, "-m", *args], cwd=cwd, env=env, stdout=self._log_file,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + SERVER_START_S
        while True:
            if self.process.poll() is not None:
                self.stop()
                raise RuntimeError(f"{args[0]} exited with {self.process.returncode}:\n{self.log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(self.url + ready_path, timeout=2) as response:
                    if response.status == 200:
                        return
            except urllib.error.HTTPError:
                if any_status:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{args[0]} did not answer in {SERVER_START_S} s:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.2)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait()
        self._log_file.close()


@contextlib.contextmanager
def jupyter_server(folder: Path, app: str, options: list[str]) -> Iterator[Server]:
    """A fresh, isolated Jupyter front end (``jupyter lab`` or ``jupyter notebook``, with its own ``options``) on
    127.0.0.1 serving ``folder``: no token, no announcements; stopped afterwards."""
    env = jupyter_env(folder)
    subprocess.run([sys.executable, "-m", "jupyter", "labextension", "disable",
                    "@jupyterlab/apputils-extension:announcements"], env=env, check=True, capture_output=True)
    port = free_port()
    with Server(["jupyter", app, "--allow-root", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
                 "--IdentityProvider.token=", "--ServerApp.password=", "--ServerApp.disable_check_xsrf=True",
                 f"--ServerApp.root_dir={folder}", *options],
                cwd=folder, env=env, port=port, ready_path="/api/status") as server:
        yield server


def lab_server(folder: Path) -> contextlib.AbstractContextManager[Server]:
    """A fresh, isolated JupyterLab serving ``folder`` (no news, no update checks, a read-only extension manager)."""
    return jupyter_server(folder, "lab", [
        "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly", f"--LabServerApp.workspaces_dir={folder / 'workspaces'}"])


def notebook7_server(folder: Path) -> contextlib.AbstractContextManager[Server]:
    """A fresh, isolated Jupyter Notebook 7 serving ``folder`` (no news, no update checks)."""
    return jupyter_server(folder, "notebook", [
        "--JupyterNotebookApp.news_url=None",
        "--JupyterNotebookApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"])


@contextlib.contextmanager
def marimo_server(app: Path, mode: str = "run") -> Iterator[Server]:
    """``marimo run app`` on 127.0.0.1 (read-only app mode, no token, no telemetry), stopped afterwards;
    ``mode="edit"``: ``marimo edit app`` (the notebook editor, its cells run when the page opens)."""
    env = jupyter_env(app.parent)
    env.update(MARIMO_SKIP_UPDATE_CHECK="1", XDG_CONFIG_HOME=str(app.parent / "config"))
    config = app.parent / "config" / "marimo" / "marimo.toml"  # the theme follows prefers-color-scheme
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('[display]\ntheme = "system"\n[runtime]\nauto_instantiate = true\n')  # edit: run on open
    port = free_port()
    with Server(["marimo", mode, str(app), "--headless", "--host", "127.0.0.1", "--port", str(port), "--no-sandbox",
                 "--no-token"], cwd=app.parent, env=env, port=port, ready_path="/health", any_status=True) as server:
        yield server
