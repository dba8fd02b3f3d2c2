"""The web app end to end, in headless Chromium (Selenium + Debian's chromedriver) against the real
gateway (`therapybridge serve`), workers, Temporal and Postgres of the test stack.

Sign in, add a patient, upload a corpus session, watch the live bar reach 100 % (WebSocket, a dropped
connection recovered over SSE), see two coloured speakers and the notes, click a sentence, export SRT,
delete. Plus the risk banner, a failed session and the checks made before an upload is sent.
Screenshots of each page go to out/web-e2e/.
"""

from __future__ import annotations

import asyncio
import importlib.util
import re
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from tests.support.api import Account, Api, make_account
from tests.support.harness import CORPUS, REPO
from therapybridge import db
from therapybridge.document import (
    Denial,
    ExtractedNotes,
    RiskFlag,
    Segment,
    SessionDocument,
    Speaker,
    Word,
)

pytest_plugins = ["tests.support.api_fixtures"]

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SHOTS = REPO / "out" / "web-e2e"
PROCESSING_TIMEOUT_S = 600

# Records every value the progress bar shows and the connection states, from the page itself (the
# bar is replaced by the session view as soon as processing ends, so polling could miss 100 %).
RECORDER = """
window.__tb = {progress: [], states: []};
new MutationObserver((muts) => {
  for (const m of muts) {
    const el = m.target;
    if (m.attributeName === 'aria-valuenow' && el.id === 'progress-bar') {
      window.__tb.progress.push(+el.getAttribute('aria-valuenow'));
    }
    if (m.attributeName === 'data-state' && el.id === 'progress-connection') {
      window.__tb.states.push(el.dataset.state + ':' + el.dataset.transport);
    }
  }
}).observe(document.body, {subtree: true, attributes: true, attributeFilter: ['aria-valuenow', 'data-state']});
"""

# Accessibility floor of a page: every control labelled, buttons named, one h1, and text contrast of
# at least 4.5:1 (WCAG AA) for the coloured elements.
A11Y = """
const problems = [];
for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
  const named = (el.labels && el.labels.length) || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
  if (!named) problems.push('unlabelled ' + (el.id || el.name || el.type));
}
for (const el of document.querySelectorAll('button, [role=button], a[href]')) {
  const name = (el.getAttribute('aria-label') || el.textContent || '').trim();
  if (!name && el.offsetParent !== null) problems.push('unnamed ' + el.outerHTML.slice(0, 80));
}
const h1s = document.querySelectorAll('main h1').length;
if (h1s !== 1) problems.push('h1 count ' + h1s);
const rgb = (s) => (s.match(/[\\d.]+/g) || []).map(Number);
const channel = (c) => {
  c /= 255;
  return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
};
const lum = ([r, g, b]) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
const bgOf = (el) => {
  for (; el; el = el.parentElement) {
    const c = rgb(getComputedStyle(el).backgroundColor);
    if (c.length === 3 || c[3] > 0.5) return c.slice(0, 3);
  }
  return [255, 255, 255];
};
const selectors = [
  '.badge', '.speaker-chip', '.btn', '.tab', '.sev', '.muted', '.seg-time', '.crumbs', '.form-error',
  '.sentence', '.risk blockquote', '.conn', '.eta', '.tag', '.chip', 'a[href]',
].join(', ');
for (const el of document.querySelectorAll(selectors)) {
  if (el.offsetParent === null || !el.textContent.trim()) continue;
  const fg = rgb(getComputedStyle(el).color).slice(0, 3);
  const [a, b] = [lum(fg), lum(bgOf(el))];
  const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  const what = (el.className || el.tagName) + ' "' + el.textContent.trim().slice(0, 30) + '"';
  if (ratio < 4.5) problems.push('contrast ' + ratio.toFixed(2) + ' for ' + what);
}
return problems;
"""


@pytest.fixture(scope="module")
def shots() -> Path:
    shutil.rmtree(SHOTS, ignore_errors=True)
    SHOTS.mkdir(parents=True)
    return SHOTS


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-dev-shm-usage",
        "--window-size=1366,900",  # a laptop screen
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    driver.downloads = downloads  # type: ignore[attr-defined]
    try:
        yield driver
    finally:
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE" and "favicon" not in e["message"]]
        driver.quit()
    # Expected errors (a 409 the page shows as a message) are logged as failed requests; script errors
    # are not allowed.
    script_errors = [e["message"] for e in errors if "Uncaught" in e["message"] or "TypeError" in e["message"]]
    assert not script_errors, script_errors


@pytest_asyncio.fixture(scope="module")
async def account(api: Api) -> Account:
    return await make_account(api, patient_name="Sam Placeholder")


# --------------------------------------------------------------------------- helpers


def wait(driver: WebDriver, what: Callable[[WebDriver], Any], timeout: float = 30, message: str = "") -> Any:
    return WebDriverWait(
        driver, timeout, poll_frequency=0.2, ignored_exceptions=(StaleElementReferenceException,)
    ).until(what, message)


def find(driver: WebDriver, css: str, timeout: float = 30) -> WebElement:
    return wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, css), timeout, f"no element {css}")


def shot(driver: WebDriver, folder: Path, name: str) -> Path:
    """A full-page screenshot (the page's whole height, at the laptop width)."""
    time.sleep(0.3)  # let transitions settle
    height = driver.execute_script("return Math.max(document.body.scrollHeight, window.innerHeight)")
    metrics = {"width": 1366, "height": int(min(height, 6000)), "deviceScaleFactor": 1, "mobile": False}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    try:
        path = folder / f"{name}.png"
        driver.save_screenshot(str(path))
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    return path


def check_a11y(driver: WebDriver, page: str) -> None:
    problems = driver.execute_script(A11Y)
    assert not problems, f"{page}: {problems}"


def sign_in(driver: WebDriver, api: Api, who: Account, folder: Path | None = None) -> None:
    driver.get(api.base_url + "/")
    email = find(driver, "#login-email")
    if folder:
        check_a11y(driver, "sign in")
        shot(driver, folder, "01-sign-in")
    # Keyboard only: type, Tab, type, Enter.
    email.send_keys(who.email, Keys.TAB, who.password, Keys.ENTER)
    find(driver, "#patient-list table, #patient-list .empty")


# --------------------------------------------------------------------------- the main journey


async def test_clinician_journey(api: Api, account: Account, browser: WebDriver, shots: Path) -> None:
    d = browser
    sign_in(d, api, account, shots)

    # Patients: the account's patient is listed; add another through the form.
    find(d, f'tr[data-patient-id="{account.patient_id}"]')
    check_a11y(d, "patients")
    shot(d, shots, "02-patients")
    find(d, "#new-patient-name").send_keys("Robin E2E-Patient")
    find(d, "#new-patient-dob").send_keys("03141985")
    find(d, "#new-patient-ext").send_keys("MRN-E2E-7", Keys.ENTER)
    wait(d, lambda d: re.search(r"#/patients/[\w-]+$", d.current_url))
    patient_id = d.current_url.rsplit("/", 1)[1]
    find(d, "#upload-file")
    assert find(d, "main h1").text == "Robin E2E-Patient"
    assert "No sessions yet" in find(d, "#session-list").text

    # Upload: chosen through the file input (the drop zone's picker), checked, sent.
    find(d, "#upload-file").send_keys(str(CORPUS / "synthetic" / "d04.flac"))
    wait(d, lambda d: d.find_element(By.ID, "upload-submit").is_enabled(), message="upload never enabled")
    assert "d04.flac" in find(d, "#upload-file-info").text
    check_a11y(d, "patient")
    shot(d, shots, "03-patient-upload")
    find(d, "#upload-submit").click()

    # Live progress over WebSocket; one dropped connection, recovered over SSE.
    wait(d, lambda d: re.search(r"#/sessions/[\w-]+$", d.current_url), message="no session page after upload")
    session_id = d.current_url.rsplit("/", 1)[1]
    find(d, "#progress-bar")
    d.execute_script(RECORDER)
    live_ws = (
        "const c = document.getElementById('progress-connection');"
        "return !c || (c.dataset.state === 'live' && c.dataset.transport === 'ws')"
    )
    wait(d, lambda d: d.execute_script(live_ws), 60, "progress never went live over WebSocket")
    dropped = bool(d.find_elements(By.ID, "progress-bar"))  # False only if processing beat us to it
    if dropped:
        check_a11y(d, "progress")
        shot(d, shots, "04-progress")
        d.execute_script("window.dispatchEvent(new CustomEvent('tb:drop-connection', {detail: {next: 'sse'}}))")
    find(d, "#transcript", timeout=PROCESSING_TIMEOUT_S)
    record = d.execute_script("return window.__tb")
    values = record["progress"]
    assert values and values[-1] == 100, record
    assert values == sorted(values), f"progress went backwards: {values}"
    if dropped:
        states = record["states"]
        assert "reconnecting:sse" in states and "live:sse" in states, states
        assert states.index("live:sse") > states.index("reconnecting:sse")

    # The session: two coloured speakers, Therapist and Client.
    find(d, "#session-status .badge-ok")
    chips = d.find_elements(By.CSS_SELECTOR, "#speakers .speaker-chip")
    assert sorted(c.text for c in chips) == ["Client", "Therapist"]
    colours = {c.value_of_css_property("background-color") for c in chips}
    assert len(colours) == 2, colours
    segs = d.find_elements(By.CSS_SELECTOR, "#transcript .seg")
    assert len(segs) >= 10
    assert {s.get_attribute("data-role") for s in segs} == {"therapist", "client"}
    seg_colours = {s.value_of_css_property("border-left-color") for s in segs}
    assert seg_colours == {c.value_of_css_property("background-color") for c in chips}
    check_a11y(d, "session")
    shot(d, shots, "05-session-transcript")
    # Nothing comes from anywhere but this server (no CDN).
    origins = d.execute_script(
        "const urls = performance.getEntriesByType('resource').map((e) => e.name)"
        ".concat([...document.querySelectorAll('script[src], link[href], img[src]')].map((e) => e.src || e.href));"
        "return urls.filter((u) => !u.startsWith('data:')).map((u) => new URL(u).origin);"
    )
    assert set(origins) <= {api.base_url}, set(origins)

    # Click a sentence: it becomes the current one (and playback starts there when audio is served).
    sentences = d.find_elements(By.CSS_SELECTOR, "#transcript .sentence")
    target = sentences[len(sentences) // 2]
    d.execute_script("arguments[0].scrollIntoView({block: 'center'})", target)
    target.click()
    assert target.get_attribute("aria-current") == "true" and "current" in target.get_attribute("class")
    start = float(target.get_attribute("data-start"))
    players = d.find_elements(By.CSS_SELECTOR, "#player:not([hidden])")
    if players:
        wait(d, lambda d: abs(d.execute_script("return document.getElementById('player').currentTime") - start) < 0.5)
    # Keyboard: the next sentence with the arrow key.
    target.send_keys(Keys.ARROW_DOWN)
    assert d.switch_to.active_element.get_attribute("data-start") == sentences[len(sentences) // 2 + 1].get_attribute(
        "data-start"
    )
    shot(d, shots, "06-session-sentence")

    # Notes.
    d.execute_script("window.scrollTo(0, 0)")
    find(d, '[data-tab="notes"]').click()
    notes = find(d, "#notes")
    assert "Mood" in notes.text and "Topics" in notes.text and "Strategies" in notes.text
    assert find(d, "#notes-mood").text not in ("", "–")
    assert d.find_elements(By.CSS_SELECTOR, "#notes-topics .chip"), "no topics shown"
    shot(d, shots, "07-session-notes")
    find(d, '[data-tab="clinical"]').click()
    wait(d, lambda d: "S — Subjective" in find(d, "#clinical-output").text, 30, "no SOAP note")
    d.find_element(By.CSS_SELECTOR, '.clinical-head [data-format="dap"]').click()
    wait(d, lambda d: "D — Data" in find(d, "#clinical-output").text, 30, "no DAP note")
    dap = d.find_element(By.CSS_SELECTOR, '.clinical-head [data-format="dap"]')
    assert dap.get_attribute("aria-checked") == "true"
    shot(d, shots, "08-session-clinical-note")

    # Swap the two speakers' roles (saved on the server), then swap back.
    find(d, '[data-tab="transcript"]').click()

    def roles() -> dict[str, str]:
        rows = d.find_elements(By.CSS_SELECTOR, "#speakers li.speaker")
        return {r.get_attribute("data-label") or "": r.text for r in rows}

    async def saved_roles() -> dict[str, str]:
        async with api.client(account.token) as c:
            return {s["label"]: s["role"] for s in (await c.get(f"/api/sessions/{session_id}")).json()["speakers"]}

    before, roles_before = roles(), await saved_roles()
    find(d, "#speakers-swap").click()
    find(d, "#confirm-ok").click()  # a role change asks first (issue 16)
    wait(d, lambda d: roles() != before, 30, "roles did not change on screen")
    swapped = await saved_roles()
    assert sorted(swapped.values()) == ["client", "therapist"] and swapped != roles_before
    shot(d, shots, "08b-session-roles-swapped")
    find(d, "#speakers-swap").click()
    find(d, "#confirm-ok").click()
    wait(d, lambda d: roles() == before, 30, "roles did not swap back")

    # Export SRT.
    find(d, '[data-tab="transcript"]').click()
    find(d, '#exports [data-format="srt"]').click()
    srt = wait(d, lambda d: next((p for p in d.downloads.glob("*.srt") if p.stat().st_size), None), 30, "no SRT")
    text = srt.read_text()
    assert srt.name == f"session-{session_id}-transcript.srt"
    assert re.match(r"1\r?\n\d\d:\d\d:\d\d,\d{3} --> \d\d:\d\d:\d\d,\d{3}\r?\n", text), text[:200]

    # The patient's list shows the processed session.
    d.get(f"{api.base_url}/#/patients/{patient_id}")
    row = find(d, f'tr[data-session-id="{session_id}"]')
    assert row.get_attribute("data-status") == "processed"
    assert "Processed" in row.text
    shot(d, shots, "09-patient-sessions")

    # Delete, after confirming.
    row.find_element(By.CSS_SELECTOR, "a").click()
    find(d, "#delete-session").click()
    dialog = find(d, "#confirm[open]")
    assert "cannot be undone" in dialog.text
    assert d.switch_to.active_element.get_attribute("id") == "confirm-cancel"  # the safe choice first
    shot(d, shots, "10-delete-confirm")
    find(d, "#confirm-cancel").click()  # "Keep it" keeps it
    assert not d.find_elements(By.CSS_SELECTOR, "#confirm[open]")
    find(d, "#delete-session").click()
    find(d, "#confirm-ok").click()
    wait(d, lambda d: d.current_url.endswith(f"#/patients/{patient_id}"))
    find(d, "#session-list .empty")
    shot(d, shots, "11-after-delete")
    r = httpx.get(f"{api.base_url}/api/sessions/{session_id}", headers=account.headers)
    assert r.status_code == 404


# --------------------------------------------------------------------------- risk banner, failures, checks


def _flagged_document(account: Account) -> SessionDocument:
    def seg(start: float, speaker: str, role: str, text: str) -> Segment:
        words, t = [], start
        for w in text.split():
            words.append(Word(start=t, end=t + 0.3, word=w, speaker=speaker))
            t += 0.35
        return Segment(start=start, end=t, speaker=speaker, role=role, text=text, words=words)  # type: ignore[arg-type]

    segments = [
        seg(0.5, "SPEAKER_00", "therapist", "How have things been this week?"),
        seg(3.0, "SPEAKER_01", "client", "Hard. Sometimes I think everyone would be better off without me."),
        seg(9.0, "SPEAKER_00", "therapist", "Thank you for telling me. Have you hurt yourself?"),
        seg(13.0, "SPEAKER_01", "client", "No, I have never hurt myself."),
    ]
    flag_start = segments[1].words[1].start
    return SessionDocument(
        id=str(uuid.uuid4()),
        patient_id=account.patient_id,
        therapist_id=account.user_id,
        status="processed",
        progress=100,
        audio_filename="flagged.flac",
        duration_seconds=16.0,
        language="en",
        diarization="ok",
        speakers=[
            Speaker(label="SPEAKER_00", role="therapist", talk_seconds=6.0),
            Speaker(label="SPEAKER_01", role="client", talk_seconds=8.0),
        ],
        transcript_segments=segments,
        extracted_notes=ExtractedNotes(
            key_topics=["low mood"],
            patient_mood="low",
            risk_flags=[
                RiskFlag(
                    type="suicidal_ideation",
                    severity="high",
                    quote="Sometimes I think everyone would be better off without me.",
                    start=flag_start,
                    end=8.0,
                    speaker="SPEAKER_01",
                )
            ],
            documented_denials=[
                Denial(
                    type="self_harm", quote="No, I have never hurt myself.", start=13.0, end=15.0, speaker="SPEAKER_01"
                )
            ],
        ),
    )


async def test_risk_banner_links_into_the_transcript(
    api: Api, account: Account, browser: WebDriver, shots: Path
) -> None:
    doc = _flagged_document(account)
    await db.upsert_session(doc)
    sign_in(browser, api, account)
    browser.get(f"{api.base_url}/#/sessions/{doc.id}")
    banner = find(browser, "#risk-banner")
    assert "Safety flags (1)" in banner.text
    flag = banner.find_element(By.CSS_SELECTOR, '.risk[data-type="suicidal_ideation"][data-severity="high"]')
    assert "Suicidal ideation" in flag.text and "better off without me" in flag.text
    denials = find(browser, "#denials")
    assert "Self-harm" in denials.text and "never hurt myself" in denials.text
    assert "never hurt myself" not in flag.text  # denials are listed apart from flags
    check_a11y(browser, "risk banner")
    flag.find_element(By.CSS_SELECTOR, "button.link").click()
    current = find(browser, "#transcript .sentence.current")
    assert "better off without me" in current.text
    assert browser.switch_to.active_element == current
    shot(browser, shots, "12-risk-banner")


async def test_failed_session_shows_the_error_and_retry(
    api: Api, account: Account, browser: WebDriver, shots: Path
) -> None:
    doc = SessionDocument(
        id=str(uuid.uuid4()),
        patient_id=account.patient_id,
        therapist_id=account.user_id,
        status="failed",
        progress=40,
        error="transcription failed after 3 attempts: the model could not be loaded",
        audio_filename="broken.flac",
    )
    await db.upsert_session(doc)
    sign_in(browser, api, account)
    browser.get(f"{api.base_url}/#/sessions/{doc.id}")
    box = find(browser, "#session-error")
    assert "Processing failed" in box.text and "could not be loaded" in box.text
    find(browser, "#retry-session")
    find(browser, "#delete-session")
    check_a11y(browser, "failed session")
    shot(browser, shots, "13-failed-session")
    # This session has no stored upload: Retry answers with the server's reason.
    find(browser, "#retry-session").click()
    toast = wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, ".toast-error"))
    assert "upload" in toast.text


async def test_upload_is_checked_before_sending(api: Api, account: Account, browser: WebDriver, tmp_path: Path) -> None:
    sign_in(browser, api, account)
    browser.get(f"{api.base_url}/#/patients/{account.patient_id}")
    picker = find(browser, "#upload-file")
    cases = {
        "notes.txt": (b"not audio at all", "not supported"),
        "fake.flac": (b"this is text pretending to be flac", "does not look like an audio recording"),
        "empty.wav": (b"", "empty"),
    }
    for name, (content, message) in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        picker.send_keys(str(path))
        wait(browser, lambda d, m=message: m in d.find_element(By.ID, "upload-error").text, 10, name)
        assert not find(browser, "#upload-submit").is_enabled(), name
    # Dropped on the drop zone: the same checks.
    browser.execute_script(
        "const dt = new DataTransfer();"
        "dt.items.add(new File(['plain text'], 'dropped-notes.txt', {type: 'text/plain'}));"
        "document.getElementById('dropzone').dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true}));"
    )
    wait(browser, lambda d: "dropped-notes.txt" in d.find_element(By.ID, "upload-file-info").text, 10)
    assert "not supported" in find(browser, "#upload-error").text
    assert not find(browser, "#upload-submit").is_enabled()
    with pytest.raises(NoSuchElementException):
        browser.find_element(By.CSS_SELECTOR, ".upload-progress:not([hidden])")

    # Sign out: the tokens are gone, and any page asks to sign in again.
    find(browser, "#signout").click()
    find(browser, "#login-email")
    assert browser.execute_script("return sessionStorage.getItem('tb.tokens')") is None
    browser.get(f"{api.base_url}/#/patients/{account.patient_id}")
    find(browser, "#login-email")
    assert browser.current_url.endswith("#/login")


async def test_container_health_check_against_the_gateway(api: Api) -> None:
    """docker-compose's API health check (docker/healthcheck.py `api`) against the real gateway."""
    spec = importlib.util.spec_from_file_location("tb_healthcheck", REPO / "docker" / "healthcheck.py")
    assert spec and spec.loader
    healthcheck = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(healthcheck)
    ok, detail = await asyncio.to_thread(healthcheck.check_api, f"{api.base_url}/api/health", 10.0)
    assert ok, detail
    ok, detail = await asyncio.to_thread(healthcheck.check_api, f"{api.base_url}/api/auth/me", 10.0)
    assert not ok and detail == "not a health report"  # a 401 is no health report
    ok, detail = await asyncio.to_thread(healthcheck.check_http, f"{api.base_url}/", 10.0)
    assert ok, detail  # the web app's entry page


async def test_sign_a_note_and_dismiss_a_flag(api: Api, account: Account, browser: WebDriver, shots: Path) -> None:
    """Issue 17 in the page: dismiss the risk flag with a reason, edit and sign the note (then it is
    locked and amended), approve the client summary and download it; the history and the session
    list show it all."""
    doc = _flagged_document(account)
    assert doc.extracted_notes is not None
    doc.extracted_notes.patient_summary = "We talked about how hard this week has been."
    await db.upsert_session(doc)
    d = browser
    sign_in(d, api, account)
    d.get(f"{api.base_url}/#/sessions/{doc.id}")

    # The flag: open, then dismissed with a reason.
    review = find(d, '#risk-banner .flag-review[data-status="open"]')
    wait(d, lambda d: "1 open" in d.find_element(By.ID, "flags-open").text, message="no open-flag count")
    review.find_element(By.CSS_SELECTOR, ".flag-dismiss").click()
    find(d, "#flag-reason-0").send_keys("Passive thought, discussed; safety plan in place")
    find(d, "#risk-banner .flag-submit").click()
    dismissed = find(d, '#risk-banner .flag-review[data-status="dismissed"]')
    assert "safety plan in place" in dismissed.text
    wait(d, lambda d: "all reviewed" in d.find_element(By.ID, "flags-open").text, message="flag count not updated")

    # The note: the engine's draft, edited and signed.
    find(d, '[data-tab="signoff"]').click()
    find(d, '#note-status[data-status="draft"]')
    editor = find(d, "#note-text")
    assert "S — Subjective" in editor.get_attribute("value")
    editor.send_keys(Keys.CONTROL, Keys.END)
    editor.send_keys("\nReviewed in session; plan agreed.")
    check_a11y(d, "sign-off")
    shot(d, shots, "14-signoff-draft")
    find(d, "#note-sign").click()
    find(d, "#confirm[open]")
    find(d, "#confirm-ok").click()
    signed = find(d, '#note-status[data-status="signed"]')
    assert "signed by" in signed.text and account.email in signed.text
    assert "Reviewed in session; plan agreed." in find(d, "#note-signed").text
    assert not d.find_elements(By.ID, "note-text")  # locked: no editor

    async with api.client(account.token) as c:
        state = (await c.get(f"/api/sessions/{doc.id}/signoff")).json()
    assert state["note"]["final"]["version"] == 2 and state["note_status"] == "signed"
    assert state["note"]["final"]["text"].rstrip().endswith("Reviewed in session; plan agreed.")
    assert [(f["status"], f["reason"]) for f in state["flags"]] == [
        ("dismissed", "Passive thought, discussed; safety plan in place")
    ]

    # The history shows both, with who did it.
    wait(d, lambda d: d.find_elements(By.CSS_SELECTOR, '#history [data-action="note.sign"]'), message="no history")
    history = find(d, "#history").text
    assert "Signed the note" in history and "Dismissed a risk flag" in history and account.email in history

    # An amendment keeps the signed version.
    find(d, "#note-amend").click()
    find(d, "#amend-reason").send_keys("Late entry")
    find(d, "#amend-start").click()
    status = find(d, '#note-status[data-status="draft"]')
    assert "Signed version 2 is kept" in status.text and "Late entry" in find(d, "#signoff-note").text

    # The client summary: approved, then it can be downloaded for the client.
    assert not find(d, "#summary-export").is_enabled()
    find(d, "#summary-approve").click()
    find(d, '#summary-status[data-status="approved"]')
    wait(d, lambda d: d.find_element(By.ID, "summary-export").is_enabled(), message="export never enabled")
    find(d, "#summary-export").click()
    name = f"session-{doc.id}-client-summary.txt"
    got = wait(d, lambda d: next((p for p in d.downloads.glob(name) if p.stat().st_size), None), 30, "no summary")
    assert got.read_text() == "We talked about how hard this week has been.\n"
    shot(d, shots, "15-signoff-signed")

    # The session list: signed note, no open flag (this session), next to the unreviewed ones.
    d.get(f"{api.base_url}/#/patients/{account.patient_id}")
    row = find(d, f'tr[data-session-id="{doc.id}"]')
    assert row.get_attribute("data-note-status") == "unsigned"  # the amendment is an unsigned draft
    assert row.get_attribute("data-open-flags") == "0"
    assert "Unsigned" in row.text and "open flag" not in row.text
    check_a11y(d, "patient with sign-off")
    # The patients page lists what awaits sign-off, across patients.
    d.get(f"{api.base_url}/#/patients")
    waiting = find(d, f'#review-list tr[data-session-id="{doc.id}"]')
    assert "Sam Placeholder" in waiting.text and waiting.get_attribute("data-note-status") == "unsigned"
    check_a11y(d, "patients with sign-off")
