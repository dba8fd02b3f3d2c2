// A patient: upload a recording (drag and drop or file picker, checked before sending, with upload
// progress), and the patient's sessions with their status.

import { request, uploadConfig, uploadSession } from "../api.js";
import { navigate } from "../app.js";
import { FINAL, bytes, clear, confirmDialog, date, dateTime, duration, h, statusBadge, toast } from "../ui.js";

const MAGIC = [
  // [offset, bytes] signatures of the accepted containers; a mismatch is caught before uploading.
  [0, [0x52, 0x49, 0x46, 0x46]], // RIFF (wav)
  [0, [0x49, 0x44, 0x33]], // ID3 (mp3)
  [0, [0xff]], // MPEG audio frame sync (mp3, aac adts)
  [0, [0x66, 0x4c, 0x61, 0x43]], // fLaC
  [0, [0x4f, 0x67, 0x67, 0x53]], // OggS
  [4, [0x66, 0x74, 0x79, 0x70]], // ....ftyp (m4a, mp4)
  [0, [0x1a, 0x45, 0xdf, 0xa3]], // EBML (webm)
];

async function looksLikeAudio(file) {
  const head = new Uint8Array(await file.slice(0, 16).arrayBuffer());
  return MAGIC.some(([offset, sig]) => sig.every((b, i) => head[offset + i] === b));
}

function today() {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

export async function renderPatient(main, patientId) {
  let [patient, config] = await Promise.all([request("GET", `/api/patients/${encodeURIComponent(patientId)}`), uploadConfig()]);
  let timer = null;
  let currentUpload = null;
  let file = null;

  // --- upload -----------------------------------------------------------------------------------
  const exts = config.allowed_extensions;
  const fileInput = h("input", { id: "upload-file", type: "file", class: "visually-hidden", accept: [...exts, "audio/*"].join(",") });
  const fileInfo = h("p", { class: "file-info", id: "upload-file-info" }, "No file chosen.");
  const fileError = h("p", { class: "form-error", role: "alert", id: "upload-error" });
  const sessionDate = h("input", { id: "upload-date", type: "date", value: today(), max: today() });
  // Session type: individual (therapist + client, 2 voices) is the common case and the default;
  // couple = 3; family / group = a range the server resolves; "Other" leaves the count to the
  // diarizer unless a number is picked below.
  const sessionType = h(
    "select",
    { id: "upload-session-type" },
    h("option", { value: "individual", selected: true }, "Individual (2 people)"),
    h("option", { value: "couple" }, "Couple (3 people)"),
    h("option", { value: "family" }, "Family (3–6 people)"),
    h("option", { value: "group" }, "Group (3 or more)"),
    h("option", { value: "" }, "Other / not sure"),
  );
  const speakers = h(
    "select",
    { id: "upload-speakers" },
    h("option", { value: "" }, "From the session type"),
    [1, 2, 3, 4, 5, 6, 7, 8].map((n) => h("option", { value: String(n) }, n === 1 ? "1 person" : `${n} people`)),
  );
  // Audio retention: the clinic's default (RETAIN_AUDIO), which this upload may change.
  const keepAudio = h("input", { id: "upload-keep-audio", type: "checkbox", checked: Boolean(config.retain_audio) });
  const keepAudioHelp = h("p", { class: "muted small", id: "upload-keep-audio-help" });
  const describeKeep = () => {
    keepAudioHelp.textContent = keepAudio.checked
      ? "The recording is kept on the server, so you can play the transcript back."
      : "The recording is deleted once it is processed; the transcript and notes stay, without playback.";
  };
  keepAudio.addEventListener("change", describeKeep);
  describeKeep();
  const submit = h("button", { type: "submit", class: "btn btn-primary", disabled: true, id: "upload-submit" }, "Upload and process");
  const cancelUpload = h("button", { type: "button", class: "btn", hidden: true, onclick: () => currentUpload && currentUpload.abort() }, "Cancel upload");
  const bar = h("progress", { id: "upload-progress", max: "100", value: "0", "aria-labelledby": "upload-progress-label" });
  const barLabel = h("span", { id: "upload-progress-label" }, "Uploading");
  const progressBox = h("div", { class: "upload-progress", hidden: true, "aria-live": "polite" }, barLabel, bar);

  async function choose(f) {
    file = null;
    submit.disabled = true;
    fileError.textContent = "";
    if (!f) {
      fileInfo.textContent = "No file chosen.";
      return;
    }
    fileInfo.textContent = `${f.name} · ${bytes(f.size)}`;
    const ext = f.name.includes(".") ? f.name.slice(f.name.lastIndexOf(".")).toLowerCase() : "";
    if (!exts.includes(ext)) {
      fileError.textContent = `This file type is not supported. Use one of: ${exts.join(", ")}.`;
      return;
    }
    if (f.size === 0) {
      fileError.textContent = "The file is empty.";
      return;
    }
    if (f.size > config.max_upload_size_mb * 1024 * 1024) {
      fileError.textContent = `The file is ${bytes(f.size)}; the largest accepted is ${config.max_upload_size_mb} MB.`;
      return;
    }
    if (!(await looksLikeAudio(f))) {
      fileError.textContent = "This file does not look like an audio recording (its content does not match its type).";
      return;
    }
    file = f;
    submit.disabled = false;
  }

  fileInput.addEventListener("change", () => choose(fileInput.files[0]));
  const drop = h(
    "div",
    { class: "dropzone", id: "dropzone" },
    h("p", { class: "dropzone-title" }, "Drop a recording here"),
    h("p", {}, "or ", h("label", { for: "upload-file", class: "btn" }, "Choose a file…"), fileInput),
    h("p", { class: "muted" }, `${exts.join(" ")} · up to ${config.max_upload_size_mb} MB`),
    fileInfo,
  );
  drop.addEventListener("dragover", (e) => {
    e.preventDefault();
    drop.classList.add("dragging");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("dragging"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("dragging");
    if (e.dataTransfer.files.length > 1) toast("One recording at a time: the first file was taken.");
    choose(e.dataTransfer.files[0]);
  });

  const form = h(
    "form",
    {
      class: "upload-form",
      "aria-labelledby": "upload-heading",
      onsubmit: async (e) => {
        e.preventDefault();
        if (!file) return;
        submit.disabled = true;
        fileInput.disabled = true;
        progressBox.hidden = false;
        cancelUpload.hidden = false;
        fileError.textContent = "";
        currentUpload = uploadSession(file, { patient_id: patientId, session_date: sessionDate.value, session_type: sessionType.value, num_speakers: speakers.value, keep_audio: keepAudio.checked ? "true" : "false" }, (fraction) => {
          const pct = Math.round(fraction * 100);
          bar.value = pct;
          barLabel.textContent = pct < 100 ? `Uploading · ${pct}%` : "Checking the recording…";
        });
        try {
          const doc = await currentUpload.promise;
          toast("Uploaded. Processing has started.");
          navigate(`#/sessions/${doc.id}`);
        } catch (err) {
          fileError.textContent = err.message;
          progressBox.hidden = true;
          submit.disabled = false;
        } finally {
          currentUpload = null;
          cancelUpload.hidden = true;
          fileInput.disabled = false;
        }
      },
    },
    drop,
    h(
      "div",
      { class: "row" },
      h("div", { class: "field" }, h("label", { for: "upload-date" }, "Session date"), sessionDate),
      h("div", { class: "field" }, h("label", { for: "upload-session-type" }, "Session type"), sessionType),
      h("div", { class: "field" }, h("label", { for: "upload-speakers" }, "People speaking"), speakers),
    ),
    h("div", { class: "check" }, keepAudio, h("label", { for: "upload-keep-audio" }, "Keep the recording for playback", config.retain_audio ? " (this clinic's default)" : "")),
    keepAudioHelp,
    fileError,
    progressBox,
    h("div", { class: "actions" }, submit, cancelUpload),
  );

  // --- sessions -----------------------------------------------------------------------------------
  const tableBody = h("tbody", {});
  const listBox = h("div", { id: "session-list" }, h("p", { class: "loading" }, "Loading sessions…"));
  const more = h("button", { type: "button", class: "btn", hidden: true }, "Show older sessions");
  let sessions = [];
  let cursor = null;

  function renderSessions() {
    if (!sessions.length) {
      clear(listBox, h("p", { class: "empty" }, "No sessions yet. Upload a recording above."));
      return;
    }
    clear(
      tableBody,
      sessions.map((s) =>
        h(
          "tr",
          { dataset: { sessionId: s.id, status: s.status, noteStatus: s.note_status || "", openFlags: String(s.open_flags ?? "") } },
          h("th", { scope: "row" }, h("a", { href: `#/sessions/${s.id}` }, date(s.session_date || s.created_at))),
          h("td", {}, statusBadge(s.status, s.progress)),
          h("td", { class: "risk-cell" }, riskBadge(s)),
          h("td", { class: "signoff-cell" }, signoffBadges(s)),
          h("td", {}, duration(s.duration_seconds)),
          h("td", { class: "filename" }, s.audio_filename),
          h("td", {}, dateTime(s.created_at)),
        ),
      ),
    );
    clear(
      listBox,
      h(
        "div",
        { class: "table-wrap" }, // scrolls inside the panel rather than widening the page
        h(
          "table",
          { class: "table" },
          h("caption", { class: "visually-hidden" }, `Sessions of ${patient.name}`),
          h("thead", {}, h("tr", {}, ["Session", "Status", "Risk", "Sign-off", "Length", "File", "Uploaded"].map((t) => h("th", { scope: "col" }, t)))),
          tableBody,
        ),
      ),
    );
  }

  async function load(reset = true) {
    const page = await request("GET", "/api/sessions", { query: { patient_id: patientId, limit: 20, cursor: reset ? null : cursor } });
    if (reset) {
      // Keep the older pages already shown; refresh the newest.
      const fresh = new Map(page.data.map((s) => [s.id, s]));
      const older = sessions.filter((s) => !fresh.has(s.id) && sessions.indexOf(s) >= 20);
      sessions = [...page.data, ...older];
      if (!older.length) cursor = page.next_cursor;
    } else {
      sessions.push(...page.data);
      cursor = page.next_cursor;
    }
    more.hidden = !cursor;
    renderSessions();
    // While something runs, refresh the list now and then (the session page has the live bar).
    clearTimeout(timer);
    if (sessions.some((s) => !FINAL.has(s.status))) timer = setTimeout(() => load(true).catch(() => {}), 5000);
  }
  more.addEventListener("click", () => load(false));

  // --- the patient's details: edit, delete ----------------------------------------------------------
  const title = h("h1", { id: "patient-name" });
  const details = h("p", { class: "muted", id: "patient-details" });
  const showDetails = () => {
    title.textContent = patient.name;
    details.textContent = [patient.date_of_birth ? `Born ${date(patient.date_of_birth)}` : null, patient.external_id ? `Record ${patient.external_id}` : null].filter(Boolean).join(" · ");
  };
  showDetails();
  const editName = h("input", { id: "edit-patient-name", required: true, maxlength: "200", autocomplete: "off" });
  const editDob = h("input", { id: "edit-patient-dob", type: "date" });
  const editExt = h("input", { id: "edit-patient-ext", maxlength: "100", autocomplete: "off" });
  const editError = h("p", { class: "form-error", role: "alert" });
  const editForm = h(
    "form",
    {
      class: "inline-form",
      id: "edit-patient",
      hidden: true,
      "aria-label": "Edit the patient's details",
      onsubmit: async (e) => {
        e.preventDefault();
        editError.textContent = "";
        try {
          patient = await request("PATCH", `/api/patients/${encodeURIComponent(patientId)}`, {
            json: { name: editName.value.trim(), date_of_birth: editDob.value || null, external_id: editExt.value.trim() || null },
          });
          showDetails();
          editForm.hidden = true;
          toast("Saved.");
        } catch (err) {
          editError.textContent = err.message;
        }
      },
    },
    h("div", { class: "field" }, h("label", { for: "edit-patient-name" }, "Name"), editName),
    h("div", { class: "field" }, h("label", { for: "edit-patient-dob" }, "Date of birth"), editDob),
    h("div", { class: "field" }, h("label", { for: "edit-patient-ext" }, "Record ID"), editExt),
    h("div", { class: "field field-submit" }, h("button", { type: "submit", class: "btn btn-primary", id: "edit-patient-save" }, "Save"), " ", h("button", { type: "button", class: "btn", onclick: () => (editForm.hidden = true) }, "Cancel")),
    editError,
  );
  const openEdit = () => {
    editName.value = patient.name;
    editDob.value = patient.date_of_birth || "";
    editExt.value = patient.external_id || "";
    editForm.hidden = false;
    editName.focus();
  };
  // Delete means delete, so a patient with sessions is not deleted behind the clinician's back: their
  // sessions (recordings, transcripts, notes) are deleted one by one first, each with its own confirmation.
  async function removePatient() {
    if (sessions.length) {
      await confirmDialog({
        title: "This patient still has sessions",
        body: `${patient.name} has ${sessions.length}${cursor ? " or more" : ""} session${sessions.length > 1 ? "s" : ""}. Delete each session first (that removes its recording, transcript and notes for good); then the patient can be deleted.`,
        confirmLabel: "OK",
        cancelLabel: "Close",
      });
      return;
    }
    const ok = await confirmDialog({
      title: `Delete ${patient.name}?`,
      body: "The patient's details are deleted for good. This cannot be undone.",
      confirmLabel: "Delete patient",
      cancelLabel: "Keep",
      danger: true,
    });
    if (!ok) return;
    try {
      await request("DELETE", `/api/patients/${encodeURIComponent(patientId)}`);
      toast("Patient deleted.");
      navigate("#/patients");
    } catch (err) {
      toast(err.message, "error");
    }
  }

  main.append(
    h(
      "div",
      { class: "page-head" },
      h("p", { class: "crumbs" }, h("a", { href: "#/patients" }, "Patients"), " / "),
      title,
      details,
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", class: "btn", id: "edit-patient-open", onclick: openEdit }, "Edit details"),
        h("button", { type: "button", class: "btn btn-danger-outline", id: "delete-patient", onclick: removePatient }, "Delete patient"),
      ),
      h("p", { class: "muted small" }, "A patient can be deleted once they have no sessions; deleting a session removes its recording, transcript and notes."),
      editForm,
    ),
    h("div", { class: "grid-2" },
      h("section", { class: "panel" }, h("h2", { id: "upload-heading" }, "Upload a session recording"), form),
      h("section", { class: "panel", "aria-labelledby": "sessions-heading" }, h("h2", { id: "sessions-heading" }, "Sessions"), listBox, more),
    ),
  );
  await load(true);

  return () => {
    clearTimeout(timer);
    if (currentUpload) currentUpload.abort();
  };
}

/** The session list's sign-off column: whether the note is signed. */
export function signoffBadges(s) {
  if (s.note_status === "unsigned") return h("span", { class: "badge badge-busy note-unsigned" }, "Unsigned");
  if (s.note_status === "signed") return h("span", { class: "badge badge-ok note-signed" }, "Signed");
  return "–";
}

/** The session list's risk column: safety flags nobody has acknowledged or dismissed yet. */
export function riskBadge(s) {
  if (s.open_flags) return h("span", { class: "badge badge-bad open-flags" }, `⚠ ${s.open_flags} open risk flag${s.open_flags > 1 ? "s" : ""}`);
  if (s.open_flags === 0) return h("span", { class: "badge badge-muted" }, "None open");
  return "–";
}
