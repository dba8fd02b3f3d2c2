"""The review desk in headless Chromium (issue 16): every page fits a 390x844 phone (no horizontal
overflow, sign out on screen, forms whole, the transcript near the top), the "not a therapy
recording?" warning in place of the notes' prose, the page saying whether the recording is kept, and
patients edited, refused deletion while they have sessions, deleted, and labelled for an administrator;
a session no worker takes says since when it waits, and one terminated in the Temporal UI shows failed
and runs again from its Retry button.

Screenshots of each page at 1366x900 and 390x844 go to out/web-desk/ (the viewport, not the full page).
"""

from __future__ import annotations

import asyncio
import re
import uuid
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from temporalio.client import WorkflowExecutionStatus

from tests.support.api import Account, Api, make_account
from tests.support.harness import REPO
from tests.web.test_web_e2e import browser, check_a11y, find, sign_in, wait  # noqa: F401 (browser: a fixture)
from therapybridge import db
from therapybridge.document import ExtractedNotes, QualityWarning, Segment, SessionDocument, Speaker, Word

pytest_plugins = ["tests.support.api_fixtures"]
pytestmark = pytest.mark.slow

SHOTS = REPO / "out" / "web-desk"
# mobile=False: the layout viewport stays 390 px wide, so overflow shows in scrollWidth (mobile emulation
# widens the layout viewport to fit the content and hides it).
PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": False}
LAPTOP = {"width": 1366, "height": 900, "deviceScaleFactor": 1, "mobile": False}

# What "fits" means on a page: nothing wider than the screen, sign out reachable, every form control
# whole (its right edge on screen).
FIT = """
const w = document.documentElement.clientWidth;  // innerWidth less a vertical scrollbar
const out = [];
if (window.innerWidth !== arguments[0]) out.push('viewport ' + window.innerWidth + ' is not ' + arguments[0]);
if (document.documentElement.scrollWidth > w) out.push('page ' + document.documentElement.scrollWidth + ' > ' + w);
const controls = 'main input:not([type=hidden]):not(.visually-hidden), main select, main button, #signout';
for (const el of document.querySelectorAll(controls)) {
  if (el.offsetParent === null || el.closest('.table, .table-wrap, .tablist, dialog')) continue;
  const r = el.getBoundingClientRect();
  const name = el.id || el.textContent.trim().slice(0, 20) || el.tagName;
  if (r.right > w + 0.5 || r.left < -0.5) out.push(name + ' at ' + Math.round(r.left) + '..' + Math.round(r.right));
}
return out;
"""


def _shot(driver, name: str, metrics: dict[str, object]) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}-{metrics['width']}.png"
    driver.save_screenshot(str(path))
    return path


def _at(driver, metrics: dict[str, object]) -> None:
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    driver.tb_width = metrics["width"]


def _fits(driver, page: str) -> None:
    width = driver.tb_width
    problems = driver.execute_script(FIT, width)
    assert not problems, f"{page} at {width} px: {problems}"


def _meeting_document(account: Account, *, warnings: bool) -> SessionDocument:
    """A processed session: a long two-voice transcript, or (warnings) a short four-voice meeting."""
    segments, t = [], 0.0
    n, voices = (8, 4) if warnings else (60, 2)
    for i in range(n):
        spk = f"SPEAKER_0{i % voices}"
        text = "We should look at the quarterly numbers again before the meeting ends today."
        words = []
        for w in text.split():
            words.append(Word(start=t, end=t + 0.3, word=" " + w, speaker=spk, probability=0.9))
            t += 0.35
        role = None if warnings else ("therapist" if i % 2 == 0 else "client")
        segments.append(Segment(start=words[0].start, end=t, speaker=spk, role=role, text=text, words=words))  # type: ignore[arg-type]
        t += 0.5
    return SessionDocument(
        id=str(uuid.uuid4()),
        patient_id=account.patient_id,
        therapist_id=account.user_id,
        status="processed",
        progress=100,
        audio_filename="meeting-excerpt-with-a-rather-long-file-name-from-the-recorder.flac",
        duration_seconds=t,
        language="en",
        diarization="ok",
        speakers=[Speaker(label=f"SPEAKER_0{i}", talk_seconds=t / voices) for i in range(voices)],
        transcript_segments=segments,
        extracted_notes=ExtractedNotes(key_topics=["numbers"], patient_mood="Client presented as calm."),
        quality_warnings=[
            QualityWarning(code="speakers", message="4 voices were found, not a therapist and a client."),
            QualityWarning(code="little_speech", message="Only 30 s of speech (104 words)."),
        ]
        if warnings
        else [],
        audio_retained=False,
    )


async def test_every_page_fits_a_phone_and_the_desk_says_what_it_knows(
    api: Api,
    browser,  # noqa: F811
) -> None:
    who = await make_account(api, patient_name="Robin Longname-Placeholder")
    meeting, long_session = _meeting_document(who, warnings=True), _meeting_document(who, warnings=False)
    for doc in (meeting, long_session):
        await db.upsert_session(doc)
    failed = SessionDocument(
        id=str(uuid.uuid4()), patient_id=who.patient_id, therapist_id=who.user_id, status="failed", error="x"
    )
    await db.upsert_session(failed)

    _at(browser, PHONE)
    browser.get(api.base_url + "/")
    find(browser, "#login-email")
    _fits(browser, "sign in")
    _shot(browser, "01-sign-in", PHONE)
    sign_in(browser, api, who)

    pages = [
        ("02-patients", "#/patients", "#patient-list table"),
        ("03-patient", f"#/patients/{who.patient_id}", "#session-list table"),
        ("04-session-warning", f"#/sessions/{meeting.id}", "#quality-warning"),
        ("05-session", f"#/sessions/{long_session.id}", "#transcript .sentence"),
        ("06-session-failed", f"#/sessions/{failed.id}", "#session-error"),
    ]
    for metrics in (PHONE, LAPTOP):
        _at(browser, metrics)
        for name, route, ready in pages:
            browser.get(f"{api.base_url}/{route}")
            find(browser, ready)
            _fits(browser, name)
            signout = find(browser, "#signout")
            assert signout.is_displayed() and signout.rect["x"] + signout.rect["width"] <= metrics["width"]
            _shot(browser, name, metrics)
        # Every tab of a processed session fits too.
        browser.get(f"{api.base_url}/#/sessions/{long_session.id}")
        find(browser, "#transcript .sentence")
        for tab in browser.find_elements("css selector", ".tab"):
            tab.click()
            _fits(browser, f"session tab {tab.text}")

    # On the phone the transcript starts near the top, not ~1,900 px down, and one tap reaches it.
    _at(browser, PHONE)
    browser.get(f"{api.base_url}/#/sessions/{long_session.id}")
    first = find(browser, "#transcript .sentence")
    top = browser.execute_script("return arguments[0].getBoundingClientRect().top + window.scrollY", first)
    assert top < 900, f"the transcript starts {top:.0f} px down"
    browser.get(f"{api.base_url}/#/sessions/{meeting.id}")
    find(browser, "#jump-transcript").click()
    wait(browser, lambda d: d.execute_script("return window.scrollY") > 0, 10, "the jump link did not scroll")

    # Not a therapy recording: the warnings instead of the prose; the recording not kept, said plainly.
    _at(browser, LAPTOP)
    browser.get(f"{api.base_url}/#/sessions/{meeting.id}")
    warning = find(browser, "#quality-warning")
    assert "4 voices" in warning.text and "Only 30 s" in warning.text
    assert find(browser, "#transcript-hint").get_attribute("data-audio") == "none"
    assert "not kept" in find(browser, "#transcript-hint").text
    assert "Not kept" in find(browser, "#player-unavailable").text
    find(browser, '[data-tab="notes"]').click()
    assert "does not look like a two-person therapy session" in find(browser, "#notes-withheld").text
    assert not find(browser, "#notes-mood").is_displayed()  # behind "show anyway"
    check_a11y(browser, "session with a quality warning")
    browser.get(f"{api.base_url}/#/sessions/{long_session.id}")
    find(browser, "#transcript .sentence")
    assert browser.find_elements("css selector", "#quality-warning") == []

    # The upload form offers the clinic's default (RETAIN_AUDIO off) and says what it means.
    browser.get(f"{api.base_url}/#/patients/{who.patient_id}")
    keep = find(browser, "#upload-keep-audio")
    assert not keep.is_selected() and "deleted once it is processed" in find(browser, "#upload-keep-audio-help").text
    keep.click()
    assert "kept on the server" in find(browser, "#upload-keep-audio-help").text

    # Edit the patient; deleting is refused while sessions exist.
    find(browser, "#edit-patient-open").click()
    name = find(browser, "#edit-patient-name")
    name.clear()
    name.send_keys("Robin Renamed")
    find(browser, "#edit-patient-save").click()
    wait(browser, lambda d: d.find_element("css selector", "#patient-name").text == "Robin Renamed", 10)
    find(browser, "#delete-patient").click()
    dialog = find(browser, "#confirm")
    assert "still has sessions" in dialog.text and "3 sessions" in dialog.text
    find(browser, "#confirm-cancel").click()
    _shot(browser, "07-patient-edited", LAPTOP)


async def test_delete_a_patient_and_the_admin_view(
    api: Api,
    admin: Account,
    browser,  # noqa: F811
) -> None:
    who = await make_account(api, patient_name="Kim Placeholder")
    async with api.client(who.token) as c:
        spare = (await c.post("/api/patients", json={"name": "Zed Spare"})).json()
    sign_in(browser, api, who)
    browser.get(f"{api.base_url}/#/patients/{spare['id']}")
    find(browser, "#session-list .empty")
    find(browser, "#delete-patient").click()
    assert "deleted for good" in find(browser, "#confirm").text
    find(browser, "#confirm-ok").click()
    wait(browser, lambda d: d.current_url.endswith("#/patients"), 10, "not back on the patient list")
    wait(browser, lambda d: "Zed Spare" not in d.find_element("css selector", "#patient-list").text, 10)

    # An administrator's own patients and the others' are listed apart, the others' labelled.
    find(browser, "#signout").click()
    sign_in(browser, api, admin)
    others = find(browser, "#other-patients")
    wait(browser, lambda d: "Kim Placeholder" in others.text, 10)
    assert "Kim Placeholder" not in find(browser, "#patient-list").text
    assert "Another therapist" in others.text
    for metrics in (LAPTOP, PHONE):
        _at(browser, metrics)
        _fits(browser, "admin patients")
        _shot(browser, "08-admin-patients", metrics)


async def _run_nobody_works_on(api: Api, who: Account) -> str:
    """An uploaded session whose run waits forever: its normal run is cancelled, and a new one sends its
    windows to a task queue no worker polls. Returns the session id."""
    import dataclasses

    from tests.support.api import upload
    from tests.support.harness import CORPUS
    from therapybridge.api.runs import session_input
    from therapybridge.db import SessionRecord, session_scope
    from therapybridge.temporal import WORKFLOW_NAME, workflow_config, workflow_id

    r = await upload(api, who, CORPUS / "real" / "jfk.flac")
    assert r.status_code == 202, r.text
    sid = r.json()["id"]
    async with api.client(who.token) as c:  # stop the normal run; the upload stays for a new one
        assert (await c.post(f"/api/sessions/{sid}/cancel")).status_code in (200, 202)
    client, settings = api.stack.client, api.stack.settings
    deadline = asyncio.get_running_loop().time() + 120
    while (await client.get_workflow_handle(workflow_id(sid)).describe()).status == WorkflowExecutionStatus.RUNNING:
        assert asyncio.get_running_loop().time() < deadline, "the cancelled run did not close"
        await asyncio.sleep(0.5)
    async with session_scope() as s:
        row = await s.get(SessionRecord, sid)
        assert row is not None
        row.status, row.progress, row.error = "queued", 0, None
        s.add(row)
        await s.commit()
        inp = session_input(row)
    config = dataclasses.replace(workflow_config(settings), gpu_task_queue=f"nobody-polls-{uuid.uuid4().hex[:8]}")
    await client.start_workflow(
        WORKFLOW_NAME, args=[inp, config], id=workflow_id(sid), task_queue=settings.io_task_queue
    )
    return sid


async def test_a_session_no_worker_takes_says_so(
    api: Api,
    browser,  # noqa: F811
) -> None:
    """No countdown while nobody works on a session: its windows go to a task queue no worker polls, and
    after STALL_AFTER_S the page says "Waiting for a transcription worker since …"."""
    who = await make_account(api)
    sid = await _run_nobody_works_on(api, who)
    try:
        sign_in(browser, api, who)
        browser.get(f"{api.base_url}/#/sessions/{sid}")
        eta = find(browser, "#progress-eta")
        # STALL_AFTER_S (120 s by default) after the windows were scheduled, plus preprocessing and the
        # monitor's next check on a loaded machine: a generous deadline.
        wait(browser, lambda d: eta.get_attribute("data-waiting") == "true", 600, "no waiting message")
        assert re.fullmatch(r"Waiting for a transcription worker since \d{1,2}:\d{2}( [AP]M)?", eta.text), eta.text
        for metrics in (LAPTOP, PHONE):
            _at(browser, metrics)
            _fits(browser, "waiting for a worker")
            _shot(browser, "09-waiting-for-a-worker", metrics)
    finally:
        async with api.client(who.token) as c:
            assert (await c.delete(f"/api/sessions/{sid}")).status_code == 204  # terminates the workflow


async def test_terminated_in_temporal_then_retried_on_the_page(
    api: Api,
    browser,  # noqa: F811
) -> None:
    """An operator's Terminate in the Temporal UI: the page shows the session failed, "stopped by an
    operator", and its Retry button runs the recording again to the end."""
    from therapybridge.temporal import workflow_id

    who = await make_account(api)
    sid = await _run_nobody_works_on(api, who)
    handle = api.stack.client.get_workflow_handle(workflow_id(sid))
    await handle.terminate(reason="stopped from the Temporal UI")
    try:
        sign_in(browser, api, who)
        browser.get(f"{api.base_url}/#/sessions/{sid}")
        # The gateway's monitor records the outcome within STALL_CHECK_S; a loaded machine: generous.
        box = wait(browser, lambda d: d.find_element(By.ID, "session-error"), 300, "no failed session shown")
        assert "Processing failed" in box.text and "stopped by an operator" in box.text, box.text
        find(browser, "#retry-session").click()
        # Accepted: the page leaves the failed view (a refused retry keeps it, with an error toast).
        wait(browser, lambda d: not d.find_elements(By.ID, "retry-session"), 60, "the retry was not accepted")

        async def processed() -> bool:
            async with api.client(who.token) as c:
                return (await c.get(f"/api/sessions/{sid}")).json()["status"] == "processed"

        deadline = asyncio.get_running_loop().time() + 600
        while not await processed():
            assert asyncio.get_running_loop().time() < deadline, "the retried session did not finish"
            await asyncio.sleep(1)
        wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#transcript .sentence"), 120, "no transcript")
    finally:
        async with api.client(who.token) as c:
            assert (await c.delete(f"/api/sessions/{sid}")).status_code == 204
