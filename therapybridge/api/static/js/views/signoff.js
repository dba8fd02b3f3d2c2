// Sign-off of a processed session (issue 17): the clinical note (edit, sign, amend a signed one),
// the client summary (edit, approve; only an approved one downloads for the client), the review of
// each risk flag (acknowledge or dismiss, with a reason) and the session's history: who did what,
// when, with the changes. The state comes from GET /api/sessions/{id}/signoff and is reloaded after
// every action, so every part of the page shows the same thing.

import { download, fetchRaw, request } from "../api.js";
import { RISK_LABELS, clear, confirmDialog, dateTime, h, toast } from "../ui.js";

const NOTE_FORMATS = [
  ["soap", "SOAP"],
  ["dap", "DAP"],
  ["birp", "BIRP"],
  ["girp", "GIRP"],
];
const ACTIONS = {
  "note.edit": "Edited the note",
  "note.sign": "Signed the note",
  "note.amend": "Started an amendment",
  "note.reprocess": "New engine draft of the note (reprocessed)",
  "summary.edit": "Edited the client summary",
  "summary.approve": "Approved the client summary",
  "summary.reprocess": "New engine draft of the client summary (reprocessed)",
  "summary.export": "Downloaded the client summary",
  "flag.acknowledge": "Acknowledged a risk flag",
  "flag.dismiss": "Dismissed a risk flag",
  "session.update": "Changed speakers",
  "transcript.edit": "Corrected the transcript",
  "transcript.revert": "Undid a transcript change",
  "transcript.renotes": "Rebuilt the notes from the transcript",
  "session.export": "Exported the transcript",
  "session.retry": "Retried processing",
  "session.cancel": "Cancelled processing",
  "session.delete": "Deleted the session",
};
const when = (epoch) => (epoch ? dateTime(new Date(epoch * 1000).toISOString()) : "–");
const who = (email, id) => email || (id === "system" ? "TherapyBridge" : id || "–");

/** The shared state of one session's sign-off: load() fetches it and tells every subscriber. */
export function signoffController(sessionId) {
  const base = `/api/sessions/${encodeURIComponent(sessionId)}`;
  const listeners = new Set();
  const ctl = {
    base,
    state: null,
    subscribe(fn) {
      listeners.add(fn);
      if (ctl.state) fn(ctl.state);
    },
    async load() {
      ctl.state = await request("GET", `${base}/signoff`);
      listeners.forEach((fn) => fn(ctl.state));
      return ctl.state;
    },
    async act(method, path, json, message) {
      try {
        const result = await request(method, `${base}${path}`, { json });
        await ctl.load();
        if (message) toast(message);
        return result;
      } catch (err) {
        toast(err.message, "error");
        return null;
      }
    },
  };
  return ctl;
}

/** The review controls of the flag at `index` (the document's risk_flags order), for the banner. */
export function flagReview(ctl, index) {
  const box = h("div", { class: "flag-review", dataset: { index: String(index) } });
  ctl.subscribe((state) => {
    const f = state.flags[index];
    if (!f) return clear(box);
    box.dataset.flagId = f.id;
    box.dataset.status = f.status;
    const status =
      f.status === "open"
        ? h("p", { class: "flag-state flag-open" }, "Open: not yet reviewed")
        : h(
            "p",
            { class: "flag-state" },
            h("strong", {}, f.status === "dismissed" ? "Dismissed" : "Acknowledged"),
            ` by ${who(f.reviewed_by_email, f.reviewed_by)}, ${when(f.reviewed_at)}: `,
            h("span", { class: "flag-reason" }, f.reason),
          );
    const form = h("div", { class: "flag-form", hidden: true });
    const open = (decision) => {
      const id = `flag-reason-${index}`;
      const reason = h("textarea", { id, rows: "2", maxlength: "2000", required: true });
      const verb = decision === "dismissed" ? "Dismiss" : "Acknowledge";
      const submit = async () => {
        if (!reason.value.trim()) {
          toast("Give a reason.", "error");
          reason.focus();
          return;
        }
        submitBtn.disabled = true;
        const done = await ctl.act("POST", `/flags/${encodeURIComponent(f.id)}/review`, { decision, reason: reason.value }, `Flag ${decision}.`);
        if (!done) submitBtn.disabled = false;
      };
      const submitBtn = h("button", { type: "button", class: decision === "dismissed" ? "btn btn-danger-outline flag-submit" : "btn btn-primary flag-submit", onclick: submit }, `${verb} flag`);
      clear(
        form,
        h("div", { class: "field" }, h("label", { for: id }, `Reason (${RISK_LABELS[f.type] || f.type})`), reason),
        h("div", { class: "actions" }, submitBtn, h("button", { type: "button", class: "btn", onclick: () => (form.hidden = true) }, "Cancel")),
      );
      form.hidden = false;
      reason.focus();
    };
    clear(
      box,
      status,
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", class: "btn flag-ack", onclick: () => open("acknowledged") }, f.status === "open" ? "Acknowledge" : "Acknowledge instead"),
        h("button", { type: "button", class: "btn flag-dismiss", onclick: () => open("dismissed") }, f.status === "open" ? "Dismiss" : "Dismiss instead"),
      ),
      form,
    );
  });
  return box;
}

/** The Sign-off tab: note, client summary, history. */
export function signoffView(ctl, sessionId) {
  const noteBox = h("section", { class: "note-block signoff-note", id: "signoff-note", "aria-labelledby": "signoff-note-heading" });
  const summaryBox = h("section", { class: "note-block", id: "signoff-summary", "aria-labelledby": "signoff-summary-heading" });
  const historyList = h("ol", { class: "history", id: "history" });
  const historyBox = h("section", { class: "note-block", "aria-labelledby": "history-heading" }, h("h3", { id: "history-heading" }, "History"), historyList);
  ctl.subscribe((state) => {
    renderNote(state);
    renderSummary(state);
    loadHistory();
  });

  function renderNote(state) {
    const cur = state.note.current;
    const fin = state.note.final;
    const heading = h("h3", { id: "signoff-note-heading" }, "Clinical note");
    if (!cur) return clear(noteBox, heading, h("p", { class: "muted" }, "This session has no note."));
    if (cur.status === "signed") {
      const reasonId = "amend-reason";
      const reason = h("textarea", { id: reasonId, rows: "2", maxlength: "2000" });
      const amendForm = h(
        "div",
        { class: "amend-form", hidden: true },
        h("div", { class: "field" }, h("label", { for: reasonId }, "Reason for the amendment"), reason),
        h("div", { class: "actions" }, h("button", {
          type: "button",
          class: "btn btn-primary",
          id: "amend-start",
          onclick: async () => {
            if (!reason.value.trim()) {
              toast("Give the reason for the amendment.", "error");
              reason.focus();
              return;
            }
            await ctl.act("POST", "/note/amend", { reason: reason.value }, "Amendment started: edit and sign it.");
          },
        }, "Start amendment")),
      );
      return clear(
        noteBox,
        heading,
        h("p", { id: "note-status", class: "signoff-status", dataset: { status: "signed" } }, h("span", { class: "badge badge-ok" }, "Signed"), ` Version ${cur.version}, ${(cur.format || "").toUpperCase()}, signed by ${who(cur.signed_by_email, cur.signed_by)} ${when(cur.signed_at)}. It is locked; a change is an amendment that keeps this version.`),
        h("pre", { class: "prose signed-note", id: "note-signed" }, cur.text),
        h("div", { class: "actions" }, h("button", { type: "button", class: "btn", id: "note-amend", onclick: () => { amendForm.hidden = false; reason.focus(); } }, "Amend")),
        amendForm,
      );
    }
    // A draft: edit, save, sign.
    const text = h("textarea", { id: "note-text", rows: "18", class: "note-editor", spellcheck: true });
    text.value = cur.text;
    let format = cur.format || "soap";
    const select = h("select", { id: "note-format" }, NOTE_FORMATS.map(([id, label]) => h("option", { value: id, selected: id === format }, label)));
    select.addEventListener("change", async () => {
      const ok = await confirmDialog({ title: `Start again from the ${select.value.toUpperCase()} draft?`, body: "The text in the editor is replaced by the engine's note in this format. Saved versions are kept.", confirmLabel: "Replace the text", cancelLabel: "Keep my text" });
      if (!ok) {
        select.value = format;
        return;
      }
      try {
        const resp = await fetchRaw(`${ctl.base}/notes`, { query: { format: select.value } });
        text.value = await resp.text();
        format = select.value;
      } catch (err) {
        select.value = format;
        toast(err.message, "error");
      }
    });
    const changed = () => text.value !== cur.text || format !== (cur.format || "soap");
    const save = async () => (changed() ? ctl.act("PUT", "/note", { text: text.value, format, base_version: cur.version }, null) : cur);
    const notes = [];
    if (cur.source === "amendment") notes.push(`Amendment of version ${cur.based_on}: ${cur.reason}`);
    if (cur.source === "reprocess") notes.push(`A new draft from processing the session again${fin ? `; signed version ${fin.version} stays the record until this one is signed` : ""}.`);
    if (cur.source === "engine") notes.push("The engine's draft: check it against the transcript before signing.");
    clear(
      noteBox,
      heading,
      h("p", { id: "note-status", class: "signoff-status", dataset: { status: "draft" } }, h("span", { class: "badge badge-busy" }, "Unsigned draft"), ` Version ${cur.version}.`, fin ? ` Signed version ${fin.version} is kept.` : ""),
      notes.map((n) => h("p", { class: "muted small" }, n)),
      h("div", { class: "field field-inline" }, h("label", { for: "note-format" }, "Format"), select),
      h("div", { class: "field" }, h("label", { for: "note-text" }, "Note"), text),
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", class: "btn", id: "note-save", onclick: async () => { if (await save()) toast("Draft saved."); } }, "Save draft"),
        h("button", {
          type: "button",
          class: "btn btn-primary",
          id: "note-sign",
          onclick: async () => {
            const ok = await confirmDialog({ title: "Sign this note?", body: "A signed note is locked. A later change is an amendment, and this version is kept.", confirmLabel: "Sign note", cancelLabel: "Not yet" });
            if (!ok) return;
            const saved = await save();
            if (saved) await ctl.act("POST", "/note/sign", { version: saved.version }, "Note signed.");
          },
        }, "Sign note"),
      ),
    );
  }

  function renderSummary(state) {
    const cur = state.summary.current;
    const heading = h("h3", { id: "signoff-summary-heading" }, "Summary for the client");
    const text = h("textarea", { id: "summary-text", rows: "6" });
    text.value = cur ? cur.text : "";
    const changed = () => text.value !== (cur ? cur.text : "");
    const save = async () => {
      if (!text.value.trim()) {
        toast("The summary is empty.", "error");
        return null;
      }
      return changed() ? ctl.act("PUT", "/summary", { text: text.value, base_version: cur ? cur.version : null }, null) : cur;
    };
    const exportBtn = h("button", {
      type: "button",
      class: "btn",
      id: "summary-export",
      disabled: !state.summary_exportable,
      onclick: () => download(`${ctl.base}/client-summary.txt`, `session-${sessionId}-client-summary.txt`).then(() => loadHistory(), (err) => toast(err.message, "error")),
    }, "Download for the client");
    const approved = Boolean(cur && cur.status === "approved");
    const approveBtn = h("button", {
      type: "button",
      class: "btn btn-primary",
      id: "summary-approve",
      disabled: approved,
      onclick: async () => {
        const saved = await save();
        if (saved) await ctl.act("POST", "/summary/approve", { version: saved.version }, "Summary approved for the client.");
      },
    }, "Approve for the client");
    text.addEventListener("input", () => {
      exportBtn.disabled = !state.summary_exportable || changed();
      approveBtn.disabled = approved && !changed();
    });
    const status = cur && cur.status === "approved"
      ? h("p", { id: "summary-status", class: "signoff-status", dataset: { status: "approved" } }, h("span", { class: "badge badge-ok" }, "Approved"), ` Version ${cur.version}, approved by ${who(cur.signed_by_email, cur.signed_by)} ${when(cur.signed_at)}.`)
      : h("p", { id: "summary-status", class: "signoff-status", dataset: { status: "draft" } }, h("span", { class: "badge badge-busy" }, "Draft"), " Not approved: it cannot be given to the client until you approve it.");
    clear(
      summaryBox,
      heading,
      status,
      h("div", { class: "field" }, h("label", { for: "summary-text" }, "Summary"), text),
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", class: "btn", id: "summary-save", onclick: async () => { if (await save()) toast("Summary saved as a draft."); } }, "Save draft"),
        approveBtn,
        exportBtn,
      ),
    );
  }

  let historyToken = 0;
  async function loadHistory() {
    const token = ++historyToken;
    let entries;
    try {
      entries = await request("GET", `${ctl.base}/history`);
    } catch (err) {
      clear(historyList, h("li", { class: "form-error" }, err.message));
      return;
    }
    if (token !== historyToken) return; // a newer load is on its way
    if (!entries.length) return clear(historyList, h("li", { class: "muted" }, "Nothing has been changed yet."));
    clear(
      historyList,
      entries.map((e) =>
        h(
          "li",
          { class: "history-entry", dataset: { action: e.action, ref: e.ref || "" } },
          h("span", { class: "history-when" }, when(e.at)),
          " · ",
          h("span", { class: "history-who" }, who(e.user_email, e.user_id)),
          " · ",
          h("strong", {}, ACTIONS[e.action] || e.action),
          e.detail ? h("span", { class: "history-detail" }, ` (${e.detail})`) : null,
          e.diff ? h("details", {}, h("summary", {}, "Changes"), h("pre", { class: "diff" }, e.diff)) : null,
        ),
      ),
    );
  }

  return h("div", { class: "signoff", id: "signoff" }, noteBox, summaryBox, historyBox);
}
