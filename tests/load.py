"""Load-test pieces shared by tests/test_app_load.py and benchmarks/bench_app_load.py.

`one_client(url, i, n, n_layers, downloads)` plays one user: n requests alternating a short
spoken continuation (1 s from a typed sentence, EN or FR) and a projection, checking every
answer; it returns the errors as lines (none expected). `rss_mb(pid)` and `dir_bytes(path)`
measure the server's memory and Gradio's file cache.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

TEXTS = [("The little cat finds a red ball.", "en"), ("Le petit chat trouve une balle rouge.", "fr")]


def one_client(url: str, i: int, n: int, n_layers: int, downloads: Path) -> list[str]:
    """n requests of client i against the demo at `url` -> error lines (empty when all good)."""
    import soundfile as sf
    from gradio_client import Client

    errors: list[str] = []
    try:
        cl = Client(url, verbose=False, analytics_enabled=False, download_files=str(downloads))
    except Exception as e:  # a refused connection is an error of the run, counted like others
        return [f"client {i}: cannot connect: {type(e).__name__}: {e}"]
    for j in range(n):
        try:
            if (i + j) % 2 == 0:
                text, lang = TEXTS[(i + j) // 2 % 2]
                prompt, cont, _, status, heard = cl.predict(text, lang, 1.0, 0.8, 50, i * 10 + j,
                                                            api_name="/continue_text")
                wav, sr = sf.read(prompt)
                if sr != 24000 or len(wav) == 0 or len(sf.read(heard)[0]) == 0:
                    errors.append(f"client {i} request {j}: bad prompt audio ({len(wav)} samples)")
                # an untrained stand-in may predict EOS first: no audio, and the status says so
                if cont is None and "stopped early" not in status:
                    errors.append(f"client {i} request {j}: no continuation and no reason")
                elif cont is not None and len(sf.read(cont)[0]) == 0:
                    errors.append(f"client {i} request {j}: empty continuation file")
            else:
                _, text = cl.predict(j % n_layers, api_name="/project")
                if "layer" not in text.lower():
                    errors.append(f"client {i} request {j}: no projection text")
        except Exception as e:  # every failure is counted, none may happen
            errors.append(f"client {i} request {j}: {type(e).__name__}: {e}")
    cl.close()
    return errors


def rss_mb(pid: int | None = None) -> float:
    """Resident memory of a process (default this one) in MB, from /proc."""
    status = Path(f"/proc/{pid or os.getpid()}/status").read_text()
    kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
    return kb / 1024


def dir_bytes(path: str | Path) -> int:
    """Total size of the files under `path` (0 when it does not exist)."""
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.stat(os.path.join(root, f)).st_size
            except FileNotFoundError:  # deleted while walking: the cache cleaner at work
                pass
    return total


def start_server(model: str | None, port: int, env: dict, log: Path, file_ttl: int):
    cmd = [sys.executable, "-m", "slmlab", "app", "--port", str(port), "--no-umap",
           "--file-ttl", str(file_ttl)] + (["--model", model] if model else [])
    return subprocess.Popen(cmd, cwd=Path(__file__).resolve().parents[1], env=env, stdout=open(log, "w"), stderr=subprocess.STDOUT)


def wait_up(proc, url: str, timeout: float = 300) -> None:
    import httpx

    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"the app exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise TimeoutError("the app did not come up")
