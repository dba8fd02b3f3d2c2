"""Issue 16 in the page (items 1, 5, 8), headless Chromium against the real stack: correct a misheard
line and give a line to the other speaker, see the notes and risk flags rebuilt by the real
RenotesWorkflow; swap roles with a confirmation, see the names stay with the role, undo it; download
the clinical note as PDF. Screenshots at 1366×900 and 390×844 go to out/web-e2e/ (the ones in
docs/screenshots/ were taken from them)."""

from __future__ import annotations

import io
import uuid
from pathlib import Path

import pypdf
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.select import Select

from tests.support.api import Account, Api
from tests.web.test_web_e2e import SHOTS, account, browser, check_a11y, find, sign_in, wait  # noqa: F401 (fixtures)
from therapybridge import db
from therapybridge.document import ExtractedNotes, Segment, SessionDocument, Speaker

pytest_plugins = ["tests.support.api_fixtures"]

MISHEARD = "Sometimes I think everyone would be better off with me."
CORRECTED = "Sometimes I think everyone would be better off without me."
PLAN = "Let us keep a panic log this week and look at it together next time."
THERAPIST = "Dr. Ann Lee"
RENOTES_TIMEOUT_S = 300  # the real workflow on a loaded machine; returns as soon as it is done


def _document(who: Account) -> SessionDocument:
    def seg(start: float, speaker: str, role: str, text: str) -> Segment:
        return Segment(start=start, end=start + 4.0, speaker=speaker, role=role, text=text)  # type: ignore[arg-type]

    return SessionDocument(
        id=str(uuid.uuid4()),
        therapist_id=who.user_id,
        patient_id=who.patient_id,
        status="processed",
        progress=100,
        audio_filename="corrections.flac",
        duration_seconds=20.0,
        diarization="ok",
        speakers=[
            Speaker(label="SPEAKER_00", role="therapist", talk_seconds=8.0, name=THERAPIST),
            Speaker(label="SPEAKER_01", role="client", talk_seconds=8.0),
        ],
        transcript_segments=[
            seg(0.5, "SPEAKER_00", "therapist", "How have things been this week?"),
            seg(5.0, "SPEAKER_01", "client", MISHEARD),
            seg(10.0, "SPEAKER_01", "client", PLAN),  # the therapist said this
        ],
        extracted_notes=ExtractedNotes(key_topics=["the week"], patient_mood="tired"),
    )


def click(driver: WebDriver, css: str, timeout: float = 30) -> None:
    """Click what `css` names, again if the page re-rendered it in between (a stale element)."""
    wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, css).click() or True, timeout, f"could not click {css}")


def viewport_shot(driver: WebDriver, name: str, width: int, height: int, css: str | None = None) -> Path:
    """The visible page at one screen size (a phone is `mobile`), scrolled to `css`."""
    metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    try:
        if css:
            driver.execute_script("document.querySelector(arguments[0]).scrollIntoView({block: 'start'})", css)
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"{name}-{width}x{height}.png"
        wait(driver, lambda d: d.execute_script("return document.readyState") == "complete")
        driver.save_screenshot(str(path))
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    return path


def both_sizes(driver: WebDriver, name: str, css: str | None = None) -> None:
    viewport_shot(driver, name, 1366, 900, css)
    viewport_shot(driver, name, 390, 844, css)


async def test_correct_a_line_and_see_the_notes_rebuilt(api: Api, account: Account, browser: WebDriver) -> None:  # noqa: F811
    doc = _document(account)
    await db.upsert_session(doc)
    d = browser
    sign_in(d, api, account)
    d.get(f"{api.base_url}/#/sessions/{doc.id}")
    find(d, '#corrections[data-loaded] #transcript-version[data-version="1"]')
    assert not d.find_elements(By.ID, "risk-banner")  # the misheard line hides the risk

    # Correct the misheard words, and give the plan line to the therapist.
    click(d, "#transcript-edit")
    text = find(d, "#line-text-1")
    text.clear()
    text.send_keys(CORRECTED)
    Select(find(d, "#line-speaker-2")).select_by_value("SPEAKER_00")
    check_a11y(d, "transcript editor")
    both_sizes(d, "16-transcript-correct", "#session-tabs")
    click(d, "#transcript-save")

    # The real RenotesWorkflow rebuilds the notes; the page says so and reloads them.
    find(d, '#transcript-version[data-version="2"]')
    wait(
        d,
        lambda d: d.find_elements(By.CSS_SELECTOR, '#renotes-status[data-status="done"]'),
        RENOTES_TIMEOUT_S,
        "the notes were not rebuilt",
    )
    banner = find(d, "#risk-banner")
    assert CORRECTED in banner.text  # the rebuilt risk flags see the corrected words
    transcript = find(d, "#transcript").text
    assert CORRECTED in transcript and MISHEARD not in transcript
    plan = find(d, '#transcript article[data-speaker="SPEAKER_00"]:last-child')
    assert PLAN in plan.text and plan.get_attribute("data-role") == "therapist"
    check_a11y(d, "corrected transcript")
    both_sizes(d, "17-transcript-notes-rebuilt", "#session-tabs")

    async with api.client(account.token) as c:
        state = (await c.get(f"/api/sessions/{doc.id}/transcript/versions")).json()
        assert [v["source"] for v in state["versions"]] == ["machine", "edit"] and state["notes_status"] == "done"
        machine = (await c.get(f"/api/sessions/{doc.id}/transcript", params={"version": 1})).json()
        assert machine["segments"][1]["text"] == MISHEARD  # the machine transcript is kept
        signoff = (await c.get(f"/api/sessions/{doc.id}/signoff")).json()
        assert signoff["open_flags"] == 1

    # Swap the roles: asked first, names stay with the role, then undone.
    click(d, "#speakers-swap")
    dialog = find(d, "#confirm[open]")
    assert "Names stay with their role" in dialog.text and "undo" in dialog.text
    both_sizes(d, "18-role-swap-confirm")
    click(d, "#confirm-ok")

    async def speakers() -> dict[str, tuple[str, str | None]]:
        async with api.client(account.token) as c:
            got = (await c.get(f"/api/sessions/{doc.id}")).json()["speakers"]
            return {s["label"]: (s["role"], s["name"]) for s in got}

    wait(d, lambda d: "role change" in d.find_element(By.ID, "transcript-undo").text, 60, "no undo of the swap")
    assert (await speakers()) == {"SPEAKER_00": ("client", None), "SPEAKER_01": ("therapist", THERAPIST)}
    assert "Names belong to the role" in find(d, "#names-rule").text
    both_sizes(d, "19-role-swap-undo", "#session-tabs")
    click(d, "#transcript-undo")
    find(d, '#transcript-version[data-version="4"]')
    assert (await speakers()) == {"SPEAKER_00": ("therapist", THERAPIST), "SPEAKER_01": ("client", None)}

    # The clinical note as a PDF.
    click(d, '#exports [data-format="pdf"]')
    pdf = wait(d, lambda d: next((p for p in d.downloads.glob("*.pdf") if p.stat().st_size), None), 60, "no PDF")
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf.read_bytes())).pages)
    assert "Clinical note (SOAP)" in text and "DRAFT" in text
