"""The slmlab live demo (Gradio): widgets only; the logic is slmlab.demo.DemoSession.

    slmlab app [--model PATH] [--host 127.0.0.1] [--port 7860]

Files: `main.py` (build and launch), `ui.py` (layout), `actions.py` (one function per action),
`figures.py` (plotly figures of results).
"""
