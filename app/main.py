"""Build and launch the demo: the model is loaded once, then served by a queued gr.Blocks.

    slmlab app [--model PATH]      (or, from the repository's root: python -m app ...)
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

import gradio as gr

from app import ui
from app.session import DemoSession

log = logging.getLogger("slmlab.app")

CONCURRENCY = 2  # events run side by side (2 cores; the model itself runs one pass at a time)
QUEUE_MAX = 256  # waiting events beyond this are refused with "queue full"
MAX_FILE_SIZE = "20mb"  # uploads above this are refused by Gradio before reaching the model


MALLOC_ARENAS = 2  # glibc malloc arenas (default 8 per core): see limit_malloc_arenas
M_ARENA_MAX = -8  # mallopt's parameter number (glibc malloc.h)


def limit_malloc_arenas(n: int = MALLOC_ARENAS) -> bool:
    """Cap glibc's malloc arenas for this process (what MALLOC_ARENA_MAX=n does at start).

    Measured with benchmarks/bench_app_load.py (20 clients x 5 requests x 4 rounds, 2 cores):
    with glibc's default, each of Gradio's worker threads gets its own arena, and the freed
    memory of requests stays scattered across them: server RSS grew 164 MB after the first
    round; with 2 arenas it stays flat. No-op (False) where libc is not glibc."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    return hasattr(libc, "mallopt") and bool(libc.mallopt(M_ARENA_MAX, n))


def create_app(model: str | Path | None = None, session: Any = None,
               file_ttl: int = ui.FILE_TTL_S, **session_kw) -> gr.Blocks:
    """A queued gr.Blocks over `session` (or a DemoSession loaded from `model`)."""
    limit_malloc_arenas()  # before the model's and the server's threads allocate
    if session is None:
        t0 = time.perf_counter()
        session = DemoSession(model, **session_kw)
        log.info("model loaded in %.1f s from %s", time.perf_counter() - t0, session.ckpt)
    demo = ui.build(session, file_ttl=file_ttl)
    demo.queue(default_concurrency_limit=CONCURRENCY, max_size=QUEUE_MAX)
    demo.session = session  # type: ignore[attr-defined]  (benchmarks and tests read it)
    return demo


def sweep_file_cache(demo: gr.Blocks, ttl: float) -> int:
    """Delete the files this app put in Gradio's cache (uploads, outputs) that are older
    than `ttl` seconds; returns how many were deleted.

    Why not only Blocks(delete_cache=...): Gradio 6.31's scheduled cleaner iterates the live
    sets of cached files while request threads add to them; under load it dies at the first
    "set changed size during iteration" and nothing is deleted again (measured: 33 MB left
    after 4 load rounds). Here each set is copied first (one C-level call under the GIL)."""
    cutoff, n = time.time() - ttl, 0
    for files in demo.temp_file_sets:
        for f in list(files):
            try:
                if os.lstat(f).st_ctime >= cutoff:
                    continue
                os.remove(f)
                n += 1
            except FileNotFoundError:  # already gone (Gradio's own cleaner got there)
                pass
            files.discard(f)
    return n


def start_file_sweeper(demo: gr.Blocks, ttl: float) -> threading.Thread:
    """A daemon thread running `sweep_file_cache` every ttl / 4 seconds while `demo` runs."""
    def loop() -> None:
        while demo.is_running:
            time.sleep(max(0.5, ttl / 4))
            sweep_file_cache(demo, ttl)

    t = threading.Thread(target=loop, daemon=True, name="slmlab-file-sweeper")
    t.start()
    return t


def launch(model: str | Path | None = None, host: str = "127.0.0.1", port: int = 7860,
           share: bool = False, *, session: Any = None, block: bool = True,
           file_ttl: int = ui.FILE_TTL_S, **session_kw) -> gr.Blocks:
    """Create and serve the demo on host:port (127.0.0.1 unless told otherwise).

    block=False returns once the server is up (tests, benchmarks); `demo.local_url` is set."""
    demo = create_app(model, session=session, file_ttl=file_ttl, **session_kw)
    demo.launch(server_name=host, server_port=port, share=share, max_file_size=MAX_FILE_SIZE,
                prevent_thread_lock=True, show_error=True, quiet=not block, ssr_mode=False)
    start_file_sweeper(demo, file_ttl)
    if block:
        demo.block_thread()
    return demo


def main(argv: list[str] | None = None) -> int:
    from slmlab.cli import main as slmlab_main

    return slmlab_main(["app", *(sys.argv[1:] if argv is None else argv)])


