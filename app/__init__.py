"""The slmlab live demo (Gradio), outside the library: it uses slmlab, slmlab does not know it.

    slmlab app [--model PATH] [--host 127.0.0.1] [--port 7860]      (or: python -m app ...)

Files: `session.py` (the engine: model, tokenizer and reference set loaded once; one method per
action), `reference.py` (the reference sentences and their 2-D maps, cached as arrays),
`actions.py` (one function per widget action), `ui.py` (layout), `figures.py` (plotly figures
and markdown of results), `main.py` (build and launch, memory and file-cache hygiene),
`model/` (the committed default model).
"""
