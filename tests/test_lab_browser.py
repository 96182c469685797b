"""JupyterLab in a real browser: open a notebook, Run All, see its plotly figure.

Drives Debian's Chromium (`make browser` installs it) through Playwright; skipped with the
reason when chromium or playwright is missing. JupyterLab serves a temporary copy of the
notebooks (so nothing in notebooks/ is ever autosaved with outputs) with fresh config,
settings and workspace dirs, on a free port with a token; it is stopped at the end.
The screenshot goes to test-artifacts/jupyterlab.png.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from helpers import free_port

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
# fast (no speech, no training) and draws plotly figures; override to look at another one
NOTEBOOK = os.environ.get("SLMLAB_LAB_NOTEBOOK", "01_world.ipynb")
SHOT = ROOT / "test-artifacts" / ("jupyterlab.png" if NOTEBOOK.startswith("01") else f"jupyterlab-{NOTEBOOK[:2]}.png")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.timeout(180)]


def _wait_http(url: str, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"JupyterLab did not answer at {url} within {seconds:.0f} s")


@pytest.fixture
def lab(tmp_path):
    """(base url, token) of a JupyterLab serving a copy of notebooks/, stopped afterwards."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} missing: run `make browser` (apt-get install chromium)")
    pytest.importorskip("playwright.sync_api", reason="playwright (python) is not installed")
    root = tmp_path / "notebooks"
    shutil.copytree(ROOT / "notebooks", root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    settings = tmp_path / "settings" / "@jupyterlab"
    # no autosave, no news toast: a quiet, deterministic page
    for plugin, value in {"docmanager-extension/plugin": {"autosave": False},
                          "notebook-extension/tracker": {"autoStartDefaultKernel": True},
                          "apputils-extension/notification": {"fetchNews": "false",
                                                              "checkForUpdates": False}}.items():
        f = settings / f"{plugin}.jupyterlab-settings"
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(json.dumps(value))
    port, token = free_port(), secrets.token_hex(16)
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "cfg"),
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "rt"),
           "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "ws")}
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}",
           "--ip=127.0.0.1", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
           "--ServerApp.open_browser=False", "--LabApp.news_url=None"]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    log = open(tmp_path / "lab.log", "w")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_http(f"{base}/api/status?token={token}", 40)
        yield base, token
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # the server and the kernels it started
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def test_run_all_shows_the_plotly_figure(lab, tmp_path):
    from playwright.sync_api import sync_playwright

    base, token = lab
    SHOT.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        # a fresh profile dir (Playwright takes it as user_data_dir, not as a flag)
        ctx = p.chromium.launch_persistent_context(
            str(tmp_path / "chrome"), executable_path=CHROMIUM, headless=True, args=FLAGS,
            viewport={"width": 1400, "height": 1000})
        page = ctx.new_page()
        try:
            page.goto(f"{base}/lab/tree/{NOTEBOOK}?token={token}", timeout=60_000)
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
            # a "Select Kernel" dialog may still ask: take the notebook's own kernel
            dialog = page.locator(".jp-Dialog button:has-text('Select')")
            try:
                dialog.click(timeout=5_000)
            except Exception:  # no dialog: the kernel started by itself
                pass
            page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']",
                                   timeout=60_000)
            page.click(".lm-MenuBar-itemLabel:text-is('Run')", timeout=10_000)
            page.click(".lm-Menu-itemLabel:text-is('Run All Cells')", timeout=10_000)
            plot = page.wait_for_selector(".js-plotly-plot .main-svg", state="visible",
                                          timeout=90_000)
            # every cell done: no "[*]" prompt left
            page.wait_for_function("() => ![...document.querySelectorAll('.jp-InputPrompt')]"
                                   ".some(e => e.textContent.includes('*'))", timeout=60_000)
            plot.scroll_into_view_if_needed()
            page.wait_for_function(  # plotly has drawn its traces (not a fixed pause)
                "[...document.querySelectorAll('.js-plotly-plot')].some(p => "
                "p.querySelectorAll('.trace').length > 0)", timeout=30_000)
            page.screenshot(path=str(SHOT))
            errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.error']")
            assert errors.count() == 0, "a cell raised an error in JupyterLab"
            assert plot.bounding_box()["width"] > 200
        except Exception:
            page.screenshot(path=str(SHOT.with_name("jupyterlab-failed.png")))  # for a look
            raise
        finally:
            ctx.close()
    assert SHOT.stat().st_size > 10_000
