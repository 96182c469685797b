"""Build and launch the demo: the model is loaded once, then served by a queued gr.Blocks.

    python app/main.py [--model PATH]      (or: slmlab app ...)
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `app` and `slmlab` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import gradio as gr  # noqa: E402

log = logging.getLogger("slmlab.app")

CONCURRENCY = 2  # events run side by side (2 cores; the model itself runs one pass at a time)
QUEUE_MAX = 256  # waiting events beyond this are refused with "queue full"
MAX_FILE_SIZE = "20mb"  # uploads above this are refused by Gradio before reaching the model


def create_app(model: str | Path | None = None, session: Any = None, **session_kw) -> gr.Blocks:
    """A queued gr.Blocks over `session` (or a DemoSession loaded from `model`)."""
    from app import ui
    from slmlab.demo import DemoSession

    if session is None:
        t0 = time.perf_counter()
        session = DemoSession(model, **session_kw)
        log.info("model loaded in %.1f s from %s", time.perf_counter() - t0, session.ckpt)
    demo = ui.build(session)
    demo.queue(default_concurrency_limit=CONCURRENCY, max_size=QUEUE_MAX)
    demo.session = session  # type: ignore[attr-defined]  (benchmarks and tests read it)
    return demo


def launch(model: str | Path | None = None, host: str = "127.0.0.1", port: int = 7860,
           share: bool = False, *, session: Any = None, block: bool = True, **session_kw) -> gr.Blocks:
    """Create and serve the demo on host:port (127.0.0.1 unless told otherwise).

    block=False returns once the server is up (tests, benchmarks); `demo.local_url` is set."""
    demo = create_app(model, session=session, **session_kw)
    demo.launch(server_name=host, server_port=port, share=share, max_file_size=MAX_FILE_SIZE,
                prevent_thread_lock=not block, show_error=True, quiet=not block, ssr_mode=False)
    return demo


def main(argv: list[str] | None = None) -> int:
    from slmlab.cli import main as slmlab_main

    return slmlab_main(["app", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    raise SystemExit(main())
