"""`slmlab app`: serve the live Gradio demo (app/) on 127.0.0.1:7860 by default."""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

APP_DIR = Path(__file__).resolve().parents[1] / "app"


def import_app(module: str = "main"):
    """Import `app.<module>` from the repository (app/ sits next to the slmlab package)."""
    if not (APP_DIR / "__init__.py").exists():
        raise FileNotFoundError(f"the demo's code is not at {APP_DIR}: run slmlab app from a "
                                "checkout of the repository (pip install -e .)")
    root = str(APP_DIR.parent)
    if root not in sys.path:
        sys.path.insert(0, root)
    return importlib.import_module(f"app.{module}")


def _yes_no(value: str) -> bool:
    v = value.lower()
    if v in ("yes", "y", "true", "1"):
        return True
    if v in ("no", "n", "false", "0"):
        return False
    raise argparse.ArgumentTypeError(f"expected yes or no; got {value!r}")


def _port(value: str) -> int:
    p = int(value)
    if not 0 <= p <= 65535:
        raise argparse.ArgumentTypeError(f"port must be in 0..65535; got {p}")
    return p


def _run(args: argparse.Namespace) -> int:
    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    main = import_app("main")
    print(f"slmlab app: loading {args.model or 'app/model (default)'} ...", flush=True)
    main.launch(args.model, host=args.host, port=args.port, share=args.share,
                umap=not args.no_umap)
    return 0


def add_cli(subparsers) -> None:
    p = subparsers.add_parser(
        "app", help="serve the live demo (Gradio) on 127.0.0.1:7860",
        description="Serve the live demo: continue spoken prompts, cross-lingual cloze, and "
                    "the representation map of a checkpoint. Binds to 127.0.0.1 unless --host "
                    "says otherwise.")
    p.add_argument("--model", default=None,
                   help="checkpoint dir (or run dir with `latest`); default app/model/")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (0.0.0.0 = every interface)")
    p.add_argument("--port", type=_port, default=7860, help="TCP port (0 = any free port)")
    p.add_argument("--share", type=_yes_no, default=False, metavar="yes|no",
                   help="also open a public gradio.live link (needs the internet; default no)")
    p.add_argument("--no-umap", action="store_true", help="PCA maps only (skip UMAP fitting)")
    p.set_defaults(func=_run)
