"""The demo's layout: three tabs (continue speech, cross-lingual cloze, representations).

API names (for gradio_client): continue_text, continue_audio, cloze, pick_cloze, project.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from app.actions import TYPED, Actions
from slmlab.generate import MAX_CONTINUATION_SECONDS, MAX_PROMPT_SECONDS

INTRO = """# slmlab — a speech-only language model, live
Speak (or type) a prompt in **English or French**: the model hears it as discrete units and
continues it. It was trained on speech units only, never on text, with English and French
sentences interleaved — the cloze and map tabs show what that does across the two languages."""

MAP_HELP = """Each dot is a sentence of the reference set (hover for its text): **blue = English,
red = French**; grey lines join a sentence and its translation. Points come from the model's
hidden states at the chosen layer (mean over the sentence's units), mapped to 2-D by UMAP (PCA
while UMAP is still being fitted in the background). Your last prompt is the black star."""


FILE_TTL_S = 600  # Gradio's upload/output file cache: files older than this are deleted


def build(session: Any, file_ttl: int = FILE_TTL_S) -> gr.Blocks:
    """The gr.Blocks of the demo over a loaded DemoSession.

    file_ttl: seconds a file stays in Gradio's cache (checked every file_ttl / 2 s), so a
    server that runs all day keeps a bounded cache (each request adds ~0.8 MB)."""
    act = Actions(session)
    examples = session.examples()
    with gr.Blocks(title="slmlab demo", analytics_enabled=False,
                   delete_cache=(max(1, file_ttl // 2), file_ttl)) as demo:
        gr.Markdown(INTRO)
        with gr.Accordion("What model is this?", open=True):
            gr.Markdown(session.card)
        # {"units": [...], "label": str} of the last prompt; dropped after an hour unused
        state = gr.State(None, time_to_live=3600)
        layer = gr.Slider(0, session.n_layers - 1, value=session.default_layer, step=1,
                          label="Layer for the map (0 = embeddings)", render=False)
        proj_plot = gr.Plot(label="Representation map", render=False)
        neighbours = gr.Markdown(render=False)
        with gr.Tabs():
            with gr.Tab("1 · Continue speech"):
                _continuation_tab(act, examples, state, layer, proj_plot, neighbours)
            with gr.Tab("2 · Cross-lingual cloze"):
                _cloze_tab(act)
            with gr.Tab("3 · Representations"):
                gr.Markdown(MAP_HELP + f"\n\nReference set: `{session.reference_source}` "
                            f"({len(session.reference)} EN/FR pairs).")
                layer.render()
                proj_plot.render()
                neighbours.render()
        layer.release(act.project, [state, layer], [proj_plot, neighbours], api_name="project")
        demo.load(act.project, [state, layer], [proj_plot, neighbours], api_visibility="private")
    return demo


def _continuation_tab(act: Actions, examples: dict, state, layer, proj_plot, neighbours) -> dict:
    with gr.Row():
        with gr.Column():
            audio_in = gr.Audio(sources=["microphone", "upload"], type="filepath", format=None,
                                label=f"Record or upload a prompt (wav/flac/ogg/mp3, any sample "
                                      f"rate, up to {MAX_PROMPT_SECONDS:g} s)")
            btn_audio = gr.Button("Continue my recording", variant="primary")
            text_in = gr.Textbox(label="…or type a sentence, spoken by a built-in voice",
                                 placeholder="The little cat finds a red ball in the garden.")
            lang = gr.Radio(["en", "fr"], value="en", label="Language of the text")
            btn_text = gr.Button("Speak it and continue", variant="primary")
            for code, name in (("en", "English"), ("fr", "French")):
                gr.Examples([[t, code] for t in examples.get(code, [])], [text_in, lang],
                            label=f"{name} examples")
            with gr.Accordion("Sampling options", open=False):
                seconds = gr.Slider(1, MAX_CONTINUATION_SECONDS, value=5, step=0.5,
                                    label="Continuation length (s)")
                temperature = gr.Slider(0, 2, value=0.8, step=0.05, label="Temperature (0 = greedy)")
                top_k = gr.Slider(0, 200, value=50, step=1, label="Top-k (0 = off)")
                seed = gr.Number(0, precision=0, label="Seed")
        with gr.Column():
            status = gr.Markdown("Record, upload or type a prompt, then press a button.")
            prompt_out = gr.Audio(label="Prompt (trimmed and normalised, 24 kHz)",
                                  interactive=False, format="wav")
            heard_out = gr.Audio(label="The prompt as the model heard it (its units, resynthesised)",
                                 interactive=False, format="wav")
            cont_out = gr.Audio(label="Continuation by the model", interactive=False, format="wav")
            units_plot = gr.Plot(label="Units over time")
    outputs = [prompt_out, cont_out, units_plot, status, heard_out, state]  # API order kept
    opts = [seconds, temperature, top_k, seed]
    # the map follows only a successful continuation (a failed one must not mark it as failed)
    for i, (event, fn, inputs, api) in enumerate((
            (btn_text.click, act.continue_from_text, [text_in, lang], dict(api_name="continue_text")),
            (text_in.submit, act.continue_from_text, [text_in, lang], dict(api_visibility="private")),
            (btn_audio.click, act.continue_from_audio, [audio_in], dict(api_name="continue_audio")))):
        event(fn, [*inputs, *opts], outputs, **api).success(
            act.project, [state, layer], [proj_plot, neighbours], api_name=f"map_after_{i}",
            api_visibility="private")
    return {"audio_in": audio_in, "cont_out": cont_out, "units_plot": units_plot, "status": status}


def _cloze_tab(act: Actions) -> None:
    items = list(act.cloze_by_label)
    gr.Markdown("A story context and two endings, in either language: the model scores each "
                "whole spoken sequence by its mean log-likelihood per unit and prefers the higher. "
                "Benchmark items come from held-out stories; their right ending is marked. The "
                "same endings are also scored with no context and after another story's context: "
                "if the preference does not change, the model is not using the story.")
    pick = gr.Dropdown([*items, TYPED], value=TYPED, label="Benchmark item")
    with gr.Row():
        context = gr.Textbox(lines=4, label="Story context", scale=4)
        ctx_lang = gr.Radio(["en", "fr"], value="en", label="Context language", scale=1)
    with gr.Row():
        ending_a = gr.Textbox(label="Ending A", scale=2)
        ending_b = gr.Textbox(label="Ending B", scale=2)
        end_lang = gr.Radio(["en", "fr"], value="fr", label="Endings language", scale=1)
    btn = gr.Button("Score both endings", variant="primary")
    with gr.Row():
        bars = gr.Plot(label="Scores")
        verdict = gr.Markdown()
    fields = [context, ctx_lang, ending_a, ending_b, end_lang]
    pick.change(act.pick_cloze, [pick], fields, api_name="pick_cloze")
    btn.click(act.cloze, fields, [bars, verdict], api_name="cloze")
