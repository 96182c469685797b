"""The demo in a real browser: Debian's Chromium driven by Playwright (no browser download).

Uploads a 44.1 kHz stereo wav, continues it, and checks that audio comes back and the units
plot is drawn; records from Chromium's fake microphone (fed a file of espeak-ng speech) and
continues that; opens the map tab after a continuation; scores a cloze item. Every test
stands alone (none relies on another's page state) and waits on conditions, not on time.
Screenshots go to test-artifacts/app*.png (git-ignored).
Install the browser with `make browser` (apt-get install chromium).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from helpers import ROOT, speech_like, write_wav

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]
ARTIFACTS = ROOT / "test-artifacts"
TIMEOUT_MS = 90_000  # the shared 2-core machine can be slow; plotly loads lazily

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed at "
                       "/usr/bin/chromium: run `make browser` (apt-get install chromium)"),
]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("browser")


@pytest.fixture(scope="module")
def page(demo_server, workdir):
    sync_api = pytest.importorskip("playwright.sync_api")
    # the fake microphone plays real speech (a tone would be trimmed away as non-speech)
    mic = write_wav(workdir / "microphone.wav", speech_like(4.0, 48000), 48000, "PCM_16")
    with sync_api.sync_playwright() as p:
        # Playwright gives each launch a fresh temporary profile (user data dir)
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                    args=[*FLAGS, f"--use-file-for-fake-audio-capture={mic}"])
        ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
        ctx.grant_permissions(["microphone"])
        pg = ctx.new_page()
        pg.set_default_timeout(TIMEOUT_MS)
        pg.goto(demo_server.local_url)
        pg.wait_for_selector("text=Continue my recording")
        yield pg
        browser.close()


def _status(page) -> str:
    """The continuation tab's status line now ('' before the first continuation)."""
    s = page.get_by_text("continuation:")
    return s.first.inner_text() if s.count() else ""


def _new_status(page, before: str) -> str:
    """Wait until the status line differs from `before` (this request finished), return it."""
    page.wait_for_function(
        "(b) => [...document.querySelectorAll('p')].some(p => "
        "/Prompt: .*continuation:/.test(p.innerText) && p.innerText !== b)", arg=before)
    return _status(page)


def _upload(page, path: Path) -> None:
    """Put `path` into the prompt's audio input and wait until the server holds it (its
    file link appears), so the button is pressed on an uploaded file."""
    page.get_by_role("button", name="Upload file").click()
    page.locator("input[type=file]").first.set_input_files(str(path))
    page.wait_for_function(
        "(name) => [...document.querySelectorAll('a, audio, source')].some(e => "
        "(e.href || e.src || '').includes('gradio_api/file=') && (e.href || e.src).includes(name))",
        arg=path.name)


def _continue_typed(page, text: str, lang: str = "en") -> str:
    before = _status(page)
    page.get_by_role("tab", name="1 · Continue speech").click()
    page.get_by_label("…or type a sentence, spoken by a built-in voice").fill(text)
    page.locator(f"input[type=radio][value={lang}] >> visible=true").first.check()
    page.get_by_role("button", name="Speak it and continue").click()
    return _new_status(page, before)


def _wav_links(page, n: int) -> list[str]:
    """The page's file links to .wav files, once there are at least n."""
    js = ("[...document.querySelectorAll('a')].map(a => a.href)"
          ".filter(h => h.includes('gradio_api/file=') && h.endsWith('.wav'))")
    page.wait_for_function(f"{js}.length >= {n}")
    return page.evaluate(js)


def test_upload_a_wav_get_audio_back_and_see_the_units_plot(page, workdir):
    wav = write_wav(workdir / "browser_upload.wav", speech_like(2.0, 44100, 2), 44100, "PCM_16")
    page.get_by_role("tab", name="1 · Continue speech").click()
    before = _status(page)
    _upload(page, wav)
    page.get_by_role("button", name="Continue my recording").click()
    status = _new_status(page, before)
    assert re.search(r"Prompt: (1\.[5-9]|2\.0) s", status) and "units" in status  # trimmed
    # download links of the players: the upload, the prompt and the continuation
    links = _wav_links(page, 3)
    body = page.request.get(links[-1]).body()  # the continuation, served by the app
    assert body[:4] == b"RIFF" and len(body) > 24000  # a wav of about 5 s at 24 kHz, 16-bit
    page.wait_for_selector(".js-plotly-plot .scatterlayer .trace")  # the units over time
    assert page.locator("text=Traceback").count() == 0
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "app.png"), full_page=True)


def test_record_from_the_fake_microphone_and_continue(page):
    page.get_by_role("tab", name="1 · Continue speech").click()
    if page.get_by_role("button", name="Clear").count():
        page.get_by_role("button", name="Clear").first.click()
    page.get_by_role("button", name="Record audio").click()
    page.get_by_role("button", name="Record", exact=True).click()
    # the recording's length is what is asked for (1.5 s by the browser's own clock), not a
    # guess at how long something takes
    page.evaluate("() => { window.__recStart = performance.now(); }")
    page.wait_for_function("() => performance.now() - window.__recStart > 1500")
    page.get_by_role("button", name="Stop", exact=True).click()
    page.wait_for_function(  # the recording is uploaded: its server file is linked
        "[...document.querySelectorAll('a')].some(a => "
        "a.href.includes('gradio_api/file=') && a.href.endsWith('/audio.wav'))")
    before = _status(page)
    page.get_by_role("button", name="Continue my recording").click()
    status = _new_status(page, before)
    assert "Prompt: " in status and "Traceback" not in status


def test_map_tab_shows_the_projection_with_the_prompt(page):
    _continue_typed(page, "The little cat finds a red ball in the garden.")  # this test's own
    page.get_by_role("tab", name="3 · Representations").click()
    page.wait_for_selector("text=Nearest reference sentences")
    plot = page.locator(".js-plotly-plot >> visible=true").first
    plot.locator(".legend").wait_for()
    page.wait_for_function(  # the map is redrawn with the prompt as a star
        "[...document.querySelectorAll('.js-plotly-plot .legend')].some(l => "
        "l.textContent.includes('you'))")
    legend = plot.locator(".legend").text_content()
    assert "translations" in legend and "en" in legend and "fr" in legend and "you" in legend
    page.screenshot(path=str(ARTIFACTS / "app-map.png"), full_page=True)


def test_cloze_tab_scores_a_benchmark_item(page):
    page.get_by_role("tab", name="2 · Cross-lingual cloze").click()
    page.get_by_label("Benchmark item").click()
    page.get_by_role("option").first.click()
    page.wait_for_function("[...document.querySelectorAll('textarea')].some(t => t.value.length > 40)")
    page.get_by_role("button", name="Score both endings").click()
    page.wait_for_selector("text=The model prefers")
    page.wait_for_selector("text=another story")  # the controls' row
    page.locator(".js-plotly-plot >> visible=true").first.locator(".bars").first.wait_for()
    page.screenshot(path=str(ARTIFACTS / "app-cloze.png"), full_page=True)


def test_bad_upload_shows_a_message_and_the_page_keeps_working(page, workdir):
    bad = workdir / "browser_bad.wav"
    bad.write_bytes(b"this is not audio at all" * 40)
    page.get_by_role("tab", name="1 · Continue speech").click()
    if page.get_by_role("button", name="Clear").count():
        page.get_by_role("button", name="Clear").first.click()
    _upload(page, bad)
    page.get_by_role("button", name="Continue my recording").click()
    toast = page.get_by_text("not a readable audio file").first  # the error toast
    toast.wait_for()
    assert "browser_bad.wav" in toast.inner_text() and "/tmp/" not in toast.inner_text()
    assert page.locator("text=Traceback").count() == 0
    # the page and the server keep working: a typed French prompt is continued
    _continue_typed(page, "Le petit chat trouve une balle rouge dans le jardin.", "fr")
