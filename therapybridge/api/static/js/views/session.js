// One session: live progress while it runs; then the risk banner, the audio player beside the
// speaker-coloured transcript (click a sentence to play from there; the sentence playing is
// highlighted), the notes, the clinical note formats and the exports. Failed and cancelled sessions
// show why, with Retry. Delete asks first.

import { auth, capabilities, download, fetchRaw, request, saveBlob } from "../api.js";
import { navigate } from "../app.js";
import { watchProgress } from "../progress.js";
import { corrections } from "./corrections.js";
import { flagReview, signoffController, signoffView } from "./signoff.js";
import { FINAL, RISK_LABELS, STAGES, clear, clock, confirmDialog, copyText, date, dateTime, duration, h, statusBadge, tabs, timeLeft, timeOfDay, toast } from "../ui.js";

const EXPORTS = [
  ["transcript.txt", "TXT", "Plain text transcript"],
  ["transcript.srt", "SRT", "SubRip subtitles"],
  ["transcript.vtt", "VTT", "WebVTT subtitles"],
  ["transcript.json", "JSON", "Session document (JSON)"],
  ["diarization.rttm", "RTTM", "Speaker turns (RTTM)"],
];
// The clinical note as a file to keep (the signed version, else the draft marked DRAFT).
const NOTE_FILES = [
  ["note.pdf", "Note PDF", "Clinical note (PDF)", "pdf"],
  ["note.docx", "Note DOCX", "Clinical note (DOCX)", "docx"],
];
const NOTE_FORMATS = [
  ["soap", "SOAP"],
  ["dap", "DAP"],
  ["birp", "BIRP"],
  ["girp", "GIRP"],
];
const ROLE_LABEL = { therapist: "Therapist", client: "Client" };

export async function renderSession(main, sessionId) {
  const base = `/api/sessions/${encodeURIComponent(sessionId)}`;
  const caps = await capabilities();
  let doc = await request("GET", base);
  const patient = doc.patient_id ? await request("GET", `/api/patients/${encodeURIComponent(doc.patient_id)}`).catch(() => null) : null;
  let watcher = null;
  let audio = null;
  let fixes = null; // transcript corrections (issue 16), once the session is processed
  const disposers = [];

  const head = h("div", { class: "page-head" });
  const body = h("div", { id: "session-body" });
  main.append(head, body);

  function renderHead() {
    const actions = h("div", { class: "actions" });
    if (!FINAL.has(doc.status)) actions.append(h("button", { type: "button", class: "btn", id: "cancel-session", onclick: cancel }, "Cancel processing"));
    actions.append(h("button", { type: "button", class: "btn btn-danger-outline", id: "delete-session", onclick: remove }, "Delete session"));
    const meta = [
      doc.audio_filename,
      doc.duration_seconds ? duration(doc.duration_seconds) : null,
      doc.processed_at ? `processed ${dateTime(doc.processed_at)}` : `uploaded ${dateTime(doc.created_at)}`,
    ].filter(Boolean);
    clear(
      head,
      h(
        "p",
        { class: "crumbs" },
        h("a", { href: "#/patients" }, "Patients"),
        " / ",
        patient ? h("a", { href: `#/patients/${patient.id}` }, patient.name) : "Patient",
        " / ",
      ),
      h("div", { class: "title-row" }, h("h1", {}, `Session of ${date(doc.session_date || doc.created_at)}`), h("span", { id: "session-status" }, statusBadge(doc.status, doc.progress))),
      h("p", { class: "muted" }, meta.join(" · ")),
      actions,
    );
  }

  function render() {
    renderHead();
    if (watcher) {
      watcher.close();
      watcher = null;
    }
    if (!FINAL.has(doc.status)) renderProgress();
    else if (doc.status === "processed") renderProcessed();
    else renderFailed();
  }

  // --- running ------------------------------------------------------------------------------------
  function renderProgress() {
    const fill = h("div", { class: "bar-fill" });
    const bar = h("div", { class: "bar", id: "progress-bar", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": String(doc.progress || 0), "aria-labelledby": "progress-heading" }, fill);
    const pct = h("span", { class: "bar-pct", id: "progress-pct" }, `${doc.progress || 0}%`);
    const stage = h("p", { class: "stage", id: "progress-stage" }, STAGES[doc.status] || doc.status);
    const detail = h("p", { class: "muted", id: "progress-detail" });
    const eta = h("p", { class: "eta", id: "progress-eta" });
    const conn = h("p", { class: "conn", id: "progress-connection" }, "Connecting…");
    const show = (status, progress, message, remaining, waiting = null) => {
      fill.style.width = `${progress}%`;
      bar.setAttribute("aria-valuenow", String(progress));
      bar.setAttribute("aria-valuetext", `${progress}%, ${STAGES[status] || status}`);
      pct.textContent = `${progress}%`;
      stage.textContent = STAGES[status] || status;
      detail.textContent = message || "";
      // A countdown only from a measured rate (the server sends none otherwise); when no worker has
      // taken the session's work, say so and since when instead.
      eta.dataset.waiting = waiting ? "true" : "false";
      eta.textContent = waiting ? `Waiting for a ${waiting.for} since ${timeOfDay(waiting.since)}` : timeLeft(remaining);
      clear(document.getElementById("session-status") || h("span"), statusBadge(status, progress));
    };
    clear(
      body,
      h(
        "section",
        { class: "panel progress-panel", "aria-labelledby": "progress-heading" },
        h("h2", { id: "progress-heading" }, "Processing the recording"),
        h("div", { class: "bar-row" }, bar, pct),
        h("div", { "aria-live": "polite", "aria-atomic": "true" }, stage, eta),
        detail,
        conn,
        h("p", { class: "muted" }, "You can leave this page: processing goes on, and the session list shows when it is done."),
      ),
    );
    show(doc.status, doc.progress || 0, "", null);
    watcher = watchProgress(sessionId, {
      onUpdate: (msg) =>
        show(msg.status, msg.progress ?? 0, msg.message, msg.estimated_time_remaining, msg.waiting_for ? { for: msg.waiting_for, since: msg.waiting_since } : null),
      onFinal: async (msg) => {
        show(msg.status, msg.status === "processed" ? 100 : msg.progress ?? 0, msg.message, null);
        conn.textContent = "";
        try {
          doc = await request("GET", base);
        } catch (err) {
          toast(err.message, "error");
          return;
        }
        if (doc.status === "processed") {
          toast("The session is ready.");
          await new Promise((r) => setTimeout(r, 700)); // let the full bar be seen
        }
        render();
      },
      onConnection: (state, transport) => {
        conn.dataset.state = state;
        conn.dataset.transport = transport;
        conn.textContent = {
          connecting: "Connecting…",
          live: "Live updates",
          reconnecting: "Connection lost, reconnecting…",
          polling: "Checking for updates every few seconds",
          gone: "This session no longer exists.",
        }[state];
      },
    });
  }

  // --- failed or cancelled ---------------------------------------------------------------------------
  function renderFailed() {
    clear(
      body,
      h(
        "section",
        { class: `panel outcome outcome-${doc.status}`, role: "alert", id: "session-error" },
        h("h2", {}, doc.status === "failed" ? "Processing failed" : "Processing was cancelled"),
        h("p", {}, doc.error || (doc.status === "cancelled" ? "Processing was stopped before it finished." : "No reason was recorded.")),
        h("p", {}, h("button", { type: "button", class: "btn btn-primary", id: "retry-session", onclick: retry }, "Retry"), " ", h("span", { class: "muted" }, "Runs the same recording again.")),
      ),
    );
  }

  async function retry() {
    try {
      doc = await request("POST", `${base}/retry`);
      toast("Processing again.");
      render();
    } catch (err) {
      toast(err.message, "error");
    }
  }

  async function cancel() {
    const ok = await confirmDialog({ title: "Cancel processing?", body: "The recording stays; you can retry later.", confirmLabel: "Cancel processing", cancelLabel: "Keep going" });
    if (!ok) return;
    try {
      doc = await request("POST", `${base}/cancel`);
      render();
    } catch (err) {
      toast(err.message, "error");
    }
  }

  async function remove() {
    const ok = await confirmDialog({
      title: "Delete this session?",
      body: "The recording, transcript, notes and exports of this session are deleted for good. This cannot be undone.",
      confirmLabel: "Delete session",
      cancelLabel: "Keep it",
      danger: true,
    });
    if (!ok) return;
    try {
      await request("DELETE", base);
      toast("Session deleted.");
      navigate(patient ? `#/patients/${patient.id}` : "#/patients");
    } catch (err) {
      toast(err.message, "error");
    }
  }

  // --- processed --------------------------------------------------------------------------------------
  function speakerInfo() {
    const info = new Map();
    const speakers = doc.speakers || [];
    const sameRole = {};
    for (const s of speakers) sameRole[s.role || "none"] = (sameRole[s.role || "none"] || 0) + 1;
    const seen = {};
    speakers.forEach((s, i) => {
      const key = s.role || "none";
      seen[key] = (seen[key] || 0) + 1;
      const roleName = ROLE_LABEL[s.role] || `Speaker ${i + 1}`;
      const suffix = s.role && sameRole[key] > 1 ? ` ${seen[key]}` : "";
      info.set(s.label, { ...s, display: s.name || `${roleName}${suffix}`, roleName: ROLE_LABEL[s.role] || "Unknown role", cls: s.role ? `spk-${s.role}` : `spk-other spk-other-${i % 3}` });
    });
    return (label) => info.get(label) || { label, display: label === "Unknown" ? "Unknown speaker" : label, roleName: "Unknown role", cls: "spk-unknown" };
  }

  function sentencesOf(seg) {
    const words = (seg.words || []).filter((w) => w.word && w.word.trim());
    const out = [];
    if (words.length) {
      let cur = [];
      for (const w of words) {
        cur.push(w);
        if (/[.!?…]["')\]]*$/.test(w.word.trim())) {
          out.push(cur);
          cur = [];
        }
      }
      if (cur.length) out.push(cur);
      // Whisper's words carry their leading space (" eye", "-opening"); other sources may not.
      const spaced = words.some((w) => /^\s/.test(w.word));
      const join = (ws) => (spaced ? ws.map((w) => w.word).join("").trim() : ws.map((w) => w.word.trim()).join(" "));
      return out.map((ws) => ({ start: ws[0].start, end: ws[ws.length - 1].end, text: join(ws) }));
    }
    // No word timings: split the text and spread the segment's time by length.
    const parts = seg.text.match(/[^.!?…]+[.!?…]*["')\]]*\s*/g) || [seg.text];
    const total = parts.reduce((n, p) => n + p.length, 0) || 1;
    let t = seg.start;
    return parts.map((p) => {
      const span = ((seg.end - seg.start) * p.length) / total;
      const s = { start: t, end: t + span, text: p.trim() };
      t += span;
      return s;
    });
  }

  function renderProcessed() {
    const who = speakerInfo();
    const notes = doc.extracted_notes || {};
    const flags = notes.risk_flags || [];
    const denials = notes.documented_denials || [];
    const sentences = []; // {start, end, el} in time order
    const signoff = caps.signoff ? signoffController(sessionId) : null;
    if (!fixes && caps.corrections) {
      fixes = corrections({ base, getDoc: () => doc, setDoc: (d) => { doc = d; renderProcessed(); }, canEdit: caps.speakers });
      fixes.refresh();
      disposers.push(() => fixes.close());
    }

    // Transcript
    const transcript = h("div", { class: "transcript", id: "transcript" });
    // Say plainly whether the recording is kept: only then does clicking a sentence play it.
    const kept = doc.audio_retained; // true | false | null (saved before the field: try the server)
    const MARK_ONLY = "The recording of this session was not kept, so there is no playback: clicking a sentence marks it.";
    const hint = h(
      "p",
      { class: "muted small", id: "transcript-hint", dataset: { audio: kept === false || !caps.audio ? "none" : "kept" } },
      kept === false || !caps.audio ? MARK_ONLY : "The recording is kept. Click a sentence, or move with the arrow keys and press Enter, to play from there.",
    );
    // One block per speaker turn: consecutive segments of the same speaker read as one paragraph.
    const turns = [];
    for (const seg of doc.transcript_segments || []) {
      const last = turns[turns.length - 1];
      if (last && last.speaker === seg.speaker) last.segments.push(seg);
      else turns.push({ speaker: seg.speaker, role: seg.role, start: seg.start, segments: [seg] });
    }
    turns.forEach((turn, i) => {
      const s = who(turn.speaker);
      const text = h("p", { class: "seg-text" });
      for (const seg of turn.segments) {
        for (const sent of sentencesOf(seg)) {
          const el = h("span", { class: "sentence", role: "button", tabindex: "-1", dataset: { start: String(sent.start), end: String(sent.end) } }, sent.text);
          text.append(el, " ");
          sentences.push({ start: sent.start, end: sent.end, el });
        }
      }
      transcript.append(
        h(
          "article",
          { class: `seg ${s.cls}`, id: `turn-${i}`, dataset: { speaker: turn.speaker, role: turn.role || "", start: String(turn.start) }, "aria-label": `${s.display} at ${clock(turn.start)}` },
          h("header", { class: "seg-head" }, h("span", { class: `speaker-chip ${s.cls}` }, s.display), h("span", { class: "seg-time" }, clock(turn.start))),
          text,
        ),
      );
    });
    if (!sentences.length) transcript.append(h("p", { class: "empty" }, "No speech was found in this recording."));
    if (sentences.length) sentences[0].el.tabIndex = 0;

    let current = null;
    function mark(idx, { focus = false, scroll = true } = {}) {
      const s = sentences[idx];
      if (!s || current === s) {
        if (s && focus) s.el.focus();
        return;
      }
      if (current) {
        current.el.classList.remove("current");
        current.el.removeAttribute("aria-current");
        current.el.tabIndex = -1;
      }
      current = s;
      s.el.classList.add("current");
      s.el.setAttribute("aria-current", "true");
      s.el.tabIndex = 0;
      if (focus) s.el.focus();
      if (scroll) s.el.scrollIntoView({ block: "nearest", behavior: "smooth" });
    }
    const indexAt = (t) => {
      let lo = 0;
      let hi = sentences.length - 1;
      let ans = -1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        if (sentences[mid].start <= t + 0.05) {
          ans = mid;
          lo = mid + 1;
        } else hi = mid - 1;
      }
      return ans;
    };
    function playFrom(idx) {
      mark(idx, { focus: true, scroll: false });
      if (audio && !audio.hidden) {
        audio.currentTime = sentences[idx].start;
        audio.play().catch(() => {});
      }
    }
    transcript.addEventListener("click", (e) => {
      const el = e.target.closest(".sentence");
      if (el) playFrom(sentences.findIndex((s) => s.el === el));
    });
    transcript.addEventListener("keydown", (e) => {
      const el = e.target.closest(".sentence");
      if (!el) return;
      const idx = sentences.findIndex((s) => s.el === el);
      if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        playFrom(idx);
      } else if (e.key === "ArrowDown" || e.key === "ArrowRight") {
        e.preventDefault();
        mark(Math.min(sentences.length - 1, idx + 1), { focus: true });
      } else if (e.key === "ArrowUp" || e.key === "ArrowLeft") {
        e.preventDefault();
        mark(Math.max(0, idx - 1), { focus: true });
      }
    });

    function goTo(t) {
      main.querySelector('[data-tab="transcript"]').click();
      const idx = Math.max(0, indexAt(t));
      if (!sentences.length) return;
      mark(idx, { focus: true });
      sentences[idx].el.classList.add("flash");
      setTimeout(() => sentences[idx].el.classList.remove("flash"), 2000);
      if (audio && !audio.hidden) audio.currentTime = sentences[idx].start;
    }

    // Risk banner
    const banner = flags.length
      ? h(
          "section",
          { class: "risk-banner", id: "risk-banner", role: "region", "aria-labelledby": "risk-heading" },
          h("h2", { id: "risk-heading" }, `Safety flags (${flags.length})`, signoff ? h("span", { id: "flags-open", class: "flags-open" }) : null),
          h(
            "ul",
            { class: "risk-list" },
            flags.map((f, i) =>
              h(
                "li",
                { class: `risk risk-${f.severity}`, dataset: { type: f.type, severity: f.severity } },
                h("div", { class: "risk-head" }, h("strong", {}, RISK_LABELS[f.type] || f.type), " ", h("span", { class: `sev sev-${f.severity}` }, `${f.severity} severity`)),
                h("blockquote", {}, `“${f.quote}”`),
                h("button", { type: "button", class: "link", onclick: () => goTo(f.start) }, `Show at ${clock(f.start)} in the transcript`),
                signoff ? flagReview(signoff, i) : null,
              ),
            ),
          ),
          denials.length ? denialList(denials, goTo) : null,
        )
      : null;

    // Side column: player, speakers, exports
    const side = h("aside", { class: "session-side", "aria-label": "Recording and speakers" });
    const player = h("section", { class: "panel", "aria-labelledby": "player-heading" }, h("h2", { id: "player-heading" }, "Recording"));
    if (caps.audio && kept === false) {
      player.append(h("p", { class: "muted", id: "player-unavailable" }, "Not kept: the recording was deleted once processed (the upload's choice or this clinic's setting). The transcript and notes stay."));
    } else if (caps.audio) {
      audio = h("audio", { controls: true, preload: "metadata", id: "player", class: "player" });
      auth.ticket(sessionId, "audio").then(
        (ticket) => {
          audio.src = `${base}/audio?ticket=${encodeURIComponent(ticket)}`;
        },
        () => audio.dispatchEvent(new Event("error")),
      );
      const unavailable = h("p", { class: "muted", hidden: true }, "The audio of this session is not kept on the server.");
      audio.addEventListener("error", () => {
        audio.hidden = true;
        unavailable.hidden = false;
        hint.dataset.audio = "none";
        hint.textContent = MARK_ONLY;
      });
      audio.addEventListener("timeupdate", () => {
        const idx = indexAt(audio.currentTime);
        if (idx >= 0 && !audio.paused) mark(idx, { scroll: follow.checked });
      });
      const follow = h("input", { type: "checkbox", id: "follow", checked: true });
      player.append(audio, unavailable, h("div", { class: "check" }, follow, h("label", { for: "follow" }, "Keep the current sentence in view")));
      disposers.push(() => audio.pause());
    } else {
      player.append(h("p", { class: "muted", id: "player-unavailable" }, "Playback is not available on this server; clicking a sentence marks it."));
    }
    side.append(player, speakersPanel(who), exportsPanel());

    // Main column: tabs
    const tabBox = h("div", { class: "session-tabs", id: "session-tabs", dataset: { label: "Session" } });
    const { panels } = tabs(tabBox, [
      { id: "transcript", label: "Transcript" },
      { id: "notes", label: "Notes" },
      { id: "clinical", label: "Clinical note" },
      ...(signoff ? [{ id: "signoff", label: "Sign-off" }] : []),
    ], (item, panel) => {
      if (item.id === "clinical" && !panel.dataset.loaded) {
        panel.dataset.loaded = "1";
        clinicalNote(panel);
      }
    });
    if (fixes) panels[0].append(fixes.bar());
    if (fixes && fixes.editing()) panels[0].append(fixes.editor(who));
    else panels[0].append(hint, transcript);
    panels[1].append(notesView(notes, flags, denials, goTo));
    if (signoff) {
      panels[3].append(signoffView(signoff, sessionId));
      signoff.subscribe((state) => {
        const open = document.getElementById("flags-open");
        if (open) open.textContent = state.open_flags ? ` · ${state.open_flags} open` : " · all reviewed";
        const summaryDraft = document.getElementById("summary-draft");
        if (summaryDraft) summaryDraft.hidden = state.summary_exportable;
      });
      signoff.load().catch((err) => toast(err.message, "error"));
    }

    // Banners can be long on a phone: one tap goes to the transcript.
    const jump = h(
      "p",
      { class: "jump-link" },
      h("button", { type: "button", class: "link", id: "jump-transcript", onclick: () => { main.querySelector('[data-tab="transcript"]').click(); tabBox.scrollIntoView({ block: "start" }); } }, "Go to the transcript"),
    );
    clear(body, jump, qualityBanner(), banner, h("div", { class: "session-layout" }, side, h("div", { class: "session-main" }, tabBox)));
  }

  function denialList(denials, goTo) {
    return h(
      "div",
      { class: "denials", id: "denials" },
      h("h3", {}, "Documented denials"),
      h(
        "ul",
        {},
        denials.map((d) =>
          h("li", {}, h("strong", {}, RISK_LABELS[d.type] || d.type), ": “", d.quote, "” ", h("button", { type: "button", class: "link", onclick: () => goTo(d.start) }, clock(d.start))),
        ),
      ),
    );
  }

  function notesView(notes, flags, denials, goTo) {
    const section = (title, ...content) => h("section", { class: "note-block" }, h("h3", {}, title), ...content);
    // Every note item links to where it was said, so the clinician can check it against the transcript.
    const said = (evidence) =>
      (evidence || []).length
        ? h("span", { class: "evidence small" }, " · said at ", ...evidence.slice(0, 3).flatMap((e, i) => [i ? ", " : "", h("button", { type: "button", class: "link", title: e.quote, onclick: () => goTo(e.start) }, clock(e.start))]))
        : null;
    const topicEvidence = Object.fromEntries((notes.topic_evidence || []).map((t) => [t.text, t.evidence]));
    const homework = (notes.action_items || []).slice().sort((a, b) => (a.category === "homework" ? -1 : 0) - (b.category === "homework" ? -1 : 0));
    const analytics = Object.entries(notes.analytics || {}).filter(([k, v]) => v !== null && v !== undefined && !SKILL_KEYS.has(k));
    const skills = SKILL_METRICS.filter(([k]) => (notes.analytics || {})[k] !== undefined);
    const safety = section("Safety", flags.length ? h("p", {}, `${flags.length} risk flag${flags.length > 1 ? "s" : ""}: see the banner above.`) : h("p", { class: "muted" }, "No risk flags."), !flags.length && denials.length ? denialList(denials, goTo) : null);
    const rest = [
      section("Mood", h("p", { id: "notes-mood" }, notes.patient_mood || "–", said(notes.mood_evidence))),
      section("Topics", (notes.key_topics || []).length ? h("ul", { class: "chips", id: "notes-topics" }, notes.key_topics.map((t) => h("li", { class: "chip" }, t, said(topicEvidence[t])))) : h("p", { class: "muted" }, "None found.")),
      section(
        "Strategies",
        (notes.strategies || []).length
          ? h("ul", { class: "items" }, notes.strategies.map((s) => h("li", {}, h("strong", {}, s.name), ` — ${s.category}`, " ", h("span", { class: "tag" }, s.status), said(s.evidence), s.context ? h("p", { class: "muted small" }, s.context) : null)))
          : h("p", { class: "muted" }, "None found."),
      ),
      section(
        "Homework and follow-up",
        homework.length
          ? h("ul", { class: "items", id: "notes-homework" }, homework.map((a) => h("li", {}, h("span", { class: "tag" }, a.category), " ", h("strong", {}, a.task), said(a.evidence), a.details ? h("p", { class: "muted small" }, a.details) : null)))
          : h("p", { class: "muted" }, "None found."),
      ),
      notes.therapist_notes ? section("Therapist notes", h("p", { class: "prose" }, notes.therapist_notes)) : null,
      notes.patient_summary
        ? section(
            "Summary for the client",
            notes.patient_summary_status === "approved" ? null : h("p", { class: "tag", id: "summary-draft" }, "Draft: review and edit before sharing with the client"),
            h("p", { class: "prose" }, notes.patient_summary),
          )
        : null,
      analytics.length
        ? section(
            "Session analytics",
            h("dl", { class: "kv" }, analytics.map(([k, v]) => [h("dt", {}, analyticsLabel(k)), h("dd", {}, analyticsValue(k, v))])),
          )
        : null,
      skills.length
        ? section(
            "Counselling skills",
            h(
              "dl",
              { class: "kv", id: "skill-metrics" },
              skills.map(([k, label, why]) => {
                const v = notes.analytics[k];
                const shown = v === null ? "–" : k.startsWith("percent_") ? `${v}%` : String(v);
                return [h("dt", {}, label), h("dd", { "data-metric": k }, shown, h("span", { class: "muted small" }, ` — ${why}`))];
              }),
            ),
          )
        : null,
    ];
    // A recording the roles and notes cannot stand on (doc.quality_warnings): the generated prose is
    // not shown as if it were a clinical finding; it stays one click away for whoever wants it.
    if ((doc.quality_warnings || []).length) {
      return h(
        "div",
        { class: "notes", id: "notes" },
        safety,
        h("section", { class: "note-block" }, h("h3", {}, "Notes"), h("p", { id: "notes-withheld" }, "Not written up: this recording does not look like a two-person therapy session (see the warning above).")),
        h("details", { class: "notes-anyway", id: "notes-anyway" }, h("summary", {}, "Show the generated notes anyway (unreliable)"), ...rest),
      );
    }
    return h("div", { class: "notes", id: "notes" }, safety, ...rest);
  }

  function qualityBanner() {
    const warnings = doc.quality_warnings || [];
    if (!warnings.length) return null;
    return h(
      "section",
      { class: "quality-banner", id: "quality-warning", role: "region", "aria-labelledby": "quality-heading" },
      h("h2", { id: "quality-heading" }, "Not a therapy recording?"),
      h("p", {}, "The therapist/client roles and the notes below are unreliable for this recording:"),
      h("ul", {}, warnings.map((w) => h("li", { dataset: { code: w.code } }, w.message))),
    );
  }

  async function clinicalNote(panel) {
    if (!caps.notes) {
      panel.append(h("p", { class: "muted", id: "clinical-unavailable" }, "SOAP, DAP, BIRP and GIRP notes are not available on this server yet."));
      return;
    }
    const output = h("div", { class: "clinical-output", id: "clinical-output", "aria-live": "polite" });
    let text = "";
    let format = "soap";
    const group = h("div", { class: "segmented", role: "radiogroup", "aria-label": "Note format" });
    const load = async (fmt) => {
      format = fmt;
      group.querySelectorAll("button").forEach((b) => b.setAttribute("aria-checked", String(b.dataset.format === fmt)));
      clear(output, h("p", { class: "loading" }, "Loading…"));
      try {
        const resp = await fetchRaw(`${base}/notes`, { query: { format: fmt } });
        const type = resp.headers.get("content-type") || "";
        if (type.includes("json")) {
          const rendered = renderNoteJson(await resp.json());
          text = rendered.text;
          clear(output, rendered.node);
        } else {
          text = await resp.text();
          clear(output, h("pre", { class: "prose" }, text));
        }
      } catch (err) {
        text = "";
        clear(output, h("p", { class: "form-error" }, err.message));
      }
    };
    NOTE_FORMATS.forEach(([id, label]) => group.append(h("button", { type: "button", role: "radio", class: "seg-btn", dataset: { format: id }, "aria-checked": "false", onclick: () => load(id) }, label)));
    panel.append(
      h(
        "div",
        { class: "clinical-head" },
        group,
        h(
          "div",
          { class: "actions" },
          h("button", { type: "button", class: "btn", id: "note-copy", onclick: async () => toast((await copyText(text)) ? "Copied." : "Could not copy.") }, "Copy"),
          h("button", { type: "button", class: "btn", id: "note-download", onclick: () => saveBlob(new Blob([text], { type: "text/plain" }), `session-${sessionId}-${format}.txt`) }, "Download"),
        ),
      ),
      output,
    );
    load("soap");
  }

  function speakersPanel(who) {
    const speakers = (doc.speakers || []).map((s) => ({ ...s }));
    const panel = h("section", { class: "panel", "aria-labelledby": "speakers-heading", id: "speakers" }, h("h2", { id: "speakers-heading" }, "Speakers"));
    if (!speakers.length) {
      panel.append(h("p", { class: "muted" }, doc.diarization === "unavailable" ? "Speaker identification was unavailable for this session." : "No speakers."));
      return panel;
    }
    const editable = caps.speakers;
    if (!editable) {
      panel.append(
        h(
          "ul",
          { class: "speaker-list" },
          speakers.map((s) => {
            const info = who(s.label);
            return h("li", { class: "speaker", dataset: { label: s.label } }, h("div", { class: "speaker-head" }, h("span", { class: `speaker-chip ${info.cls}` }, info.display), h("span", { class: "muted small" }, `${info.roleName} · talks ${duration(s.talk_seconds)}`)));
          }),
        ),
        h("p", { class: "muted small", id: "speakers-readonly" }, "Renaming speakers and changing roles is not available on this server yet."),
      );
      return panel;
    }
    const rows = speakers.map((s, i) => {
      const info = who(s.label);
      const role = h(
        "select",
        { id: `speaker-role-${i}` },
        h("option", { value: "therapist", selected: s.role === "therapist" }, "Therapist"),
        h("option", { value: "client", selected: s.role === "client" }, "Client"),
        h("option", { value: "", selected: !s.role }, "Unknown"),
      );
      const name = h("input", { id: `speaker-name-${i}`, value: s.name || "", placeholder: info.display, maxlength: "80", autocomplete: "off" });
      role.addEventListener("change", () => (s.role = role.value || null));
      name.addEventListener("input", () => (s.name = name.value.trim() || null));
      return h(
        "li",
        { class: "speaker", dataset: { label: s.label } },
        h("div", { class: "speaker-head" }, h("span", { class: `speaker-chip ${info.cls}` }, info.display), h("span", { class: "muted small" }, `${info.roleName} · talks ${duration(s.talk_seconds)}`)),
        h("div", { class: "row" }, h("div", { class: "field" }, h("label", { for: `speaker-name-${i}` }, "Name"), name), h("div", { class: "field" }, h("label", { for: `speaker-role-${i}` }, "Role"), role)),
      );
    });
    panel.append(h("ul", { class: "speaker-list" }, rows));
    const save = async (list) => {
      const rolesChanged = list.some((s) => (doc.speakers.find((d) => d.label === s.label) || {}).role !== (s.role || null));
      if (rolesChanged && fixes && !(await fixes.confirmRoles(doc.speakers, list, who))) {
        renderProcessed(); // "Keep them": the page shows the saved roles again
        return;
      }
      try {
        // Only what the clinician changed: an untouched name is not sent, so it follows its role.
        const body = list.map((s) => {
          const was = doc.speakers.find((d) => d.label === s.label) || {};
          const out = { label: s.label, role: s.role || null };
          if ((s.name || null) !== (was.name || null)) out.name = s.name || null;
          return out;
        });
        const updated = await request("PATCH", `/api/sessions/${encodeURIComponent(sessionId)}/speakers`, {
          json: { speakers: body },
        });
        doc = updated && updated.transcript_segments ? updated : await request("GET", `/api/sessions/${encodeURIComponent(sessionId)}`);
        toast(rolesChanged ? "Roles changed; the notes are being rebuilt. Undo is above the transcript." : "Speakers saved.");
        if (fixes) await fixes.refresh();
        renderProcessed();
      } catch (err) {
        toast(err.message, "error");
      }
    };
    const swap = speakers.length === 2
      ? h("button", {
          type: "button",
          class: "btn",
          id: "speakers-swap",
          onclick: () => {
            const [a, b] = speakers;
            [a.role, b.role] = [b.role, a.role];
            save(speakers);
          },
        }, "Swap roles")
      : null;
    panel.append(
      h("div", { class: "actions" }, h("button", { type: "button", class: "btn btn-primary", id: "speakers-save", onclick: () => save(speakers) }, "Save speakers"), swap),
      h("p", { class: "muted small", id: "names-rule" }, "Names belong to the role: when roles are swapped, each name stays with its role, so the therapist's name stays on the therapist. A role change asks first and can be undone."),
    );
    return panel;
  }

  function exportsPanel() {
    return h(
      "section",
      { class: "panel", "aria-labelledby": "exports-heading", id: "exports" },
      h("h2", { id: "exports-heading" }, "Export"),
      h(
        "div",
        { class: "export-buttons" },
        (caps.noteFiles ? NOTE_FILES : []).map(([file, label, title, format]) =>
          h(
            "button",
            {
              type: "button",
              class: "btn",
              dataset: { format },
              title,
              "aria-label": `Download ${title}`,
              onclick: () => download(`${base}/${file}`, `session-${sessionId}-${file}`).catch((err) => toast(err.message, "error")),
            },
            label,
          ),
        ),
        EXPORTS.map(([file, label, title]) =>
          h(
            "button",
            {
              type: "button",
              class: "btn",
              dataset: { format: label.toLowerCase() },
              title,
              "aria-label": `Download ${title}`,
              onclick: () => download(`${base}/${file}`, `session-${sessionId}-${file}`).catch((err) => toast(err.message, "error")),
            },
            label,
          ),
        ),
      ),
    );
  }

  render();
  return () => {
    if (watcher) watcher.close();
    disposers.forEach((fn) => fn());
  };
}

// Issue 17: counselling-skill metrics (MITI-style, from each utterance's behaviour label), one line each
// on what the number means. "–" when undefined (no questions, or the labelling model is not installed).
const SKILL_METRICS = [
  ["reflections", "Reflections", "therapist turns that mirror back what the client said or meant"],
  ["questions", "Questions", "therapist turns that ask something"],
  ["open_questions", "Open questions", "questions that invite more than yes or no (What…, How…, Tell me…)"],
  ["reflection_to_question", "Reflection-to-question ratio", "reflections per question; MITI: 1 is fair, 2 or more good"],
  ["percent_open_questions", "Open questions (share)", "share of questions that are open; MITI: 50% fair, 70% good"],
  ["change_talk", "Change talk", "client turns for change (desire, ability, reasons, need, commitment)"],
  ["sustain_talk", "Sustain talk", "client turns for keeping things as they are"],
  ["percent_change_talk", "Change talk (share)", "change talk out of change plus sustain talk; higher is better"],
];
const SKILL_KEYS = new Set(SKILL_METRICS.map(([k]) => k));

function analyticsLabel(key) {
  const words = key.replace(/_(s|seconds)$/, "").replace(/_/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function analyticsValue(key, v) {
  if (typeof v !== "number") return String(v);
  if (/(share|ratio|fraction)/.test(key) && v <= 1) return `${Math.round(v * 100)}%`;
  if (/_(s|seconds)$/.test(key)) return duration(v);
  return Number.isInteger(v) ? String(v) : v.toFixed(2);
}

/** A notes rendering answered as JSON: {text} and/or {sections: [{title, body}] | {title: body}}. */
function renderNoteJson(data) {
  let sections = data.sections || null;
  if (sections && !Array.isArray(sections)) sections = Object.entries(sections).map(([title, body]) => ({ title, body }));
  if (sections) {
    const node = h(
      "div",
      { class: "clinical-note" },
      data.title ? h("h3", {}, data.title) : null,
      sections.map((s) => h("section", {}, h("h4", {}, s.title || s.heading || s.name), h("p", { class: "prose" }, s.body || s.text || s.content || ""))),
    );
    const text = data.text || sections.map((s) => `${s.title || s.heading || s.name}\n${s.body || s.text || s.content || ""}`).join("\n\n");
    return { text, node };
  }
  const text = data.text || data.content || JSON.stringify(data, null, 2);
  return { text, node: h("pre", { class: "prose" }, text) };
}

