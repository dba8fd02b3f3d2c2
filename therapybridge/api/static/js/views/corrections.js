// Issue 16: correcting a processed session's transcript. Fix misheard words and give a line to the
// other speaker; every change is a version (the machine transcript stays as version 1) and can be
// undone. The notes and risk flags are then rebuilt on the server (RenotesWorkflow); this shows that
// as it happens and reloads the session when it is done. A signed note is never overwritten: the
// rebuilt note is a new draft beside it (Sign-off tab).

import { request } from "../api.js";
import { clear, clock, confirmDialog, h, toast } from "../ui.js";

const POLL_MS = 1500;
const STATUS_TEXT = {
  pending: "Rebuilding the notes and risk flags from the corrected transcript…",
  done: "Notes and risk flags rebuilt from the corrected transcript. A signed note is kept; the rebuilt one is a draft beside it.",
  failed: "The notes could not be rebuilt from the corrections.",
  not_started: "The notes have not been rebuilt yet (the workflow service was unavailable).",
};

/**
 * One controller per session page. `getDoc()` is the current session document; `setDoc(doc)` re-renders
 * the page with a new one. Returns { bar(who), editor(who), editing(), refresh(), close() }.
 */
export function corrections({ base, getDoc, setDoc, canEdit }) {
  let state = null; // {version, notes_status, versions}
  let editing = false;
  let timer = null;
  let closed = false;
  let lastStatus = null;
  const barEl = h("section", { class: "corrections", id: "corrections", "aria-label": "Transcript corrections" });

  async function refresh() {
    try {
      state = await request("GET", `${base}/transcript/versions`);
    } catch {
      state = null;
    }
    paint();
    if (state && state.notes_status === "pending") schedule();
    return state;
  }

  function schedule() {
    clearTimeout(timer);
    if (!closed) timer = setTimeout(poll, POLL_MS);
  }

  async function poll() {
    const was = state && state.notes_status;
    await refresh();
    if (was === "pending" && state && state.notes_status !== "pending") {
      lastStatus = state.notes_status;
      setDoc(await request("GET", base)); // the rebuilt notes and flags
    }
  }

  async function undo() {
    const current = state && state.versions[state.versions.length - 1];
    if (!current || !current.based_on) return;
    try {
      const doc = await request("POST", `${base}/transcript/revert`, { json: { version: current.based_on, base_version: state.version } });
      toast(`Undone: back to the transcript of version ${current.based_on}.`);
      await afterChange(doc);
    } catch (err) {
      toast(err.message, "error");
    }
  }

  async function afterChange(doc) {
    editing = false;
    lastStatus = null;
    await refresh();
    setDoc(doc);
  }

  function paint() {
    const doc = getDoc();
    const v = state ? state.version : 1;
    const current = state && state.versions.length ? state.versions[state.versions.length - 1] : null;
    const status = state && state.notes_status ? state.notes_status : lastStatus;
    if (state) barEl.dataset.loaded = "1"; // the server's versions are shown (tests wait for this)
    const label = v === 1 ? "Machine transcript" : `Corrected transcript, version ${v} (the machine transcript is version 1)`;
    clear(
      barEl,
      h("p", { class: "small", id: "transcript-version", dataset: { version: String(v) } }, label),
      status ? h("p", { class: `small renotes renotes-${status}`, id: "renotes-status", role: "status", "aria-live": "polite", dataset: { status } }, STATUS_TEXT[status] || status) : null,
      h(
        "div",
        { class: "actions" },
        canEdit && doc.transcript_segments && doc.transcript_segments.length
          ? h("button", { type: "button", class: "btn", id: "transcript-edit", "aria-pressed": String(editing), onclick: () => { editing = !editing; setDoc(getDoc()); } }, editing ? "Stop correcting" : "Correct the transcript")
          : null,
        canEdit && current && current.based_on
          ? h("button", { type: "button", class: "btn", id: "transcript-undo", onclick: undo }, current.source === "roles" ? "Undo the role change" : "Undo last change")
          : null,
        state && ["failed", "not_started"].includes(state.notes_status)
          ? h("button", { type: "button", class: "btn", id: "renotes-retry", onclick: retryNotes }, "Rebuild the notes")
          : null,
      ),
    );
  }

  async function retryNotes() {
    try {
      state = await request("POST", `${base}/transcript/renotes`);
      paint();
      if (state.notes_status === "pending") schedule();
    } catch (err) {
      toast(err.message, "error");
    }
  }

  function editor(who) {
    const doc = getDoc();
    const speakers = doc.speakers || [];
    const lines = (doc.transcript_segments || []).map((seg, i) => {
      const text = h("textarea", { id: `line-text-${i}`, rows: "2", maxlength: "5000", "aria-label": `Words of line ${i + 1}, at ${clock(seg.start)}` }, seg.text);
      text.value = seg.text;
      const speaker = h(
        "select",
        { id: `line-speaker-${i}`, "aria-label": `Speaker of line ${i + 1}` },
        speakers.map((s) => {
          const { display, roleName } = who(s.label);
          return h("option", { value: s.label, selected: s.label === seg.speaker }, display === roleName ? display : `${display} (${roleName})`);
        }),
      );
      return { seg, text, speaker, el: h("li", { class: `line ${who(seg.speaker).cls}`, dataset: { index: String(i) } }, h("div", { class: "line-head" }, h("span", { class: "seg-time" }, clock(seg.start)), speaker), text) };
    });
    async function save() {
      const edits = [];
      lines.forEach(({ seg, text, speaker }, index) => {
        const edit = { index };
        if (text.value.trim() !== seg.text) edit.text = text.value;
        if (speaker.value && speaker.value !== seg.speaker) edit.speaker = speaker.value;
        if (edit.text !== undefined || edit.speaker !== undefined) edits.push(edit);
      });
      if (!edits.length) {
        toast("Nothing changed.");
        return;
      }
      try {
        const updated = await request("PATCH", `${base}/transcript`, { json: { base_version: state ? state.version : 1, edits } });
        toast(`${edits.length} line${edits.length === 1 ? "" : "s"} corrected; the notes are being rebuilt.`);
        await afterChange(updated);
      } catch (err) {
        toast(err.message, "error");
      }
    }
    return h(
      "form",
      { class: "transcript-editor", id: "transcript-editor", onsubmit: (e) => { e.preventDefault(); save(); } },
      h("p", { class: "muted small" }, "Correct misheard words, or give a line to the other speaker. The machine transcript is kept; the notes and risk flags are rebuilt from your corrections."),
      h("ol", { class: "lines" }, lines.map((l) => l.el)),
      h("div", { class: "actions" }, h("button", { type: "submit", class: "btn btn-primary", id: "transcript-save" }, "Save corrections"), h("button", { type: "button", class: "btn", onclick: () => { editing = false; setDoc(getDoc()); } }, "Cancel")),
    );
  }

  /** Ask before a role change: what moves, that the notes are rebuilt, that it can be undone. */
  async function confirmRoles(before, after, who) {
    const moves = after
      .filter((s) => (before.find((b) => b.label === s.label) || {}).role !== s.role)
      .map((s) => `${who(s.label).display} becomes the ${s.role || "unknown role"}`);
    return confirmDialog({
      title: "Change the speakers' roles?",
      body: `${moves.join("; ")}. Names stay with their role (the therapist's name stays on the therapist). The notes and risk flags are rebuilt from the new roles. You can undo this.`,
      confirmLabel: "Change roles",
      cancelLabel: "Keep them",
    });
  }

  return {
    bar: () => {
      paint();
      return barEl;
    },
    editor,
    editing: () => editing,
    refresh,
    confirmRoles,
    close: () => {
      closed = true;
      clearTimeout(timer);
    },
  };
}
