// Small DOM helpers, formatters and shared widgets (status badges, toasts, the confirm dialog).

/** h("div", {class: "x", onclick: fn}, child, "text", [more]) → Element */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k === "style" && typeof v === "object") Object.assign(el.style, v);
    else if (k in el && typeof v !== "string") el[k] = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export function clock(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "–";
  const s = Math.max(0, Math.floor(seconds));
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return hh ? `${hh}:${String(mm).padStart(2, "0")}:${ss}` : `${String(mm).padStart(2, "0")}:${ss}`;
}

export function duration(seconds) {
  if (!seconds && seconds !== 0) return "–";
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const m = Math.round(seconds / 60);
  return m < 60 ? `${m} min` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function timeLeft(seconds) {
  if (seconds === null || seconds === undefined || seconds < 0) return "";
  if (seconds < 10) return "a few seconds left";
  if (seconds < 60) return `about ${Math.round(seconds / 5) * 5} s left`;
  const m = Math.round(seconds / 60);
  return `about ${m} min left`;
}

// "12:03": when something started today, in the viewer's time zone.
export function timeOfDay(value) {
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? "a while" : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

export function bytes(n) {
  if (n < 1024 * 1024) return `${Math.max(1, Math.round(n / 1024))} KB`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  return `${(n / 1024 / 1024 / 1024).toFixed(2)} GB`;
}

export function date(value) {
  if (!value) return "–";
  const d = new Date(value.length === 10 ? `${value}T12:00:00` : value);
  return Number.isNaN(d.getTime()) ? value : d.toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" });
}

export function dateTime(value) {
  if (!value) return "–";
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? value : d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export const FINAL = new Set(["processed", "failed", "cancelled"]);

export const STAGES = {
  uploading: "Uploading",
  queued: "Queued",
  preprocessing: "Preparing the audio",
  transcribing: "Transcribing",
  diarizing: "Identifying speakers",
  merging: "Attributing speakers",
  extracting_notes: "Writing the notes",
  saving: "Saving",
  processed: "Processed",
  failed: "Failed",
  cancelled: "Cancelled",
};

export function statusBadge(status, progress) {
  const running = !FINAL.has(status);
  const label = running && progress ? `${STAGES[status] || status} · ${progress}%` : STAGES[status] || status;
  const kind = status === "processed" ? "ok" : status === "failed" ? "bad" : status === "cancelled" ? "muted" : "busy";
  return h("span", { class: `badge badge-${kind}`, dataset: { status } }, label);
}

export const RISK_LABELS = {
  suicidal_ideation: "Suicidal ideation",
  self_harm: "Self-harm",
  harm_to_others: "Harm to others",
  substance_use: "Substance use",
  abuse_or_neglect: "Abuse or neglect",
};

export function toast(message, kind = "info") {
  const box = document.getElementById("toasts");
  const item = h("div", { class: `toast toast-${kind}` }, message);
  box.append(item);
  setTimeout(() => item.remove(), kind === "error" ? 9000 : 5000);
}

/** A modal yes/no question; resolves true for the confirming button. Focus returns where it was. */
export function confirmDialog({ title, body, confirmLabel = "OK", cancelLabel = "Cancel", danger = false }) {
  const dialog = document.getElementById("confirm");
  const previous = document.activeElement;
  document.getElementById("confirm-title").textContent = title;
  document.getElementById("confirm-body").textContent = body;
  const ok = document.getElementById("confirm-ok");
  ok.textContent = confirmLabel;
  ok.className = danger ? "btn btn-danger" : "btn btn-primary";
  document.getElementById("confirm-cancel").textContent = cancelLabel;
  dialog.returnValue = "cancel";
  dialog.showModal();
  document.getElementById("confirm-cancel").focus(); // the safe choice first
  return new Promise((resolve) => {
    dialog.addEventListener(
      "close",
      () => {
        if (previous && previous.focus) previous.focus();
        resolve(dialog.returnValue === "ok");
      },
      { once: true },
    );
  });
}

/** Copy text; falls back to a hidden textarea where the Clipboard API is unavailable (http). */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const ta = h("textarea", { class: "visually-hidden", readonly: true }, text);
    document.body.append(ta);
    ta.select();
    const ok = document.execCommand("copy");
    ta.remove();
    return ok;
  }
}

/** ARIA tabs: arrow keys move between tabs, each tab shows its panel. Returns select(index). */
export function tabs(container, items, onSelect) {
  const list = h("div", { role: "tablist", class: "tablist", "aria-label": container.dataset.label || "Sections" });
  const panels = [];
  const buttons = items.map((item, i) => {
    const id = `${container.id}-tab-${item.id}`;
    const panel = h("div", { role: "tabpanel", id: `${id}-panel`, "aria-labelledby": id, class: "tabpanel", tabindex: "0", hidden: i !== 0 });
    panels.push(panel);
    return h(
      "button",
      { type: "button", role: "tab", id, "aria-controls": `${id}-panel`, "aria-selected": String(i === 0), tabindex: i === 0 ? "0" : "-1", class: "tab", dataset: { tab: item.id } },
      item.label,
    );
  });
  function select(i, focus = false) {
    buttons.forEach((b, j) => {
      b.setAttribute("aria-selected", String(i === j));
      b.tabIndex = i === j ? 0 : -1;
      panels[j].hidden = i !== j;
    });
    if (focus) buttons[i].focus();
    if (onSelect) onSelect(items[i], panels[i]);
  }
  buttons.forEach((b, i) => {
    b.addEventListener("click", () => select(i));
    b.addEventListener("keydown", (e) => {
      const n = buttons.length;
      const next = { ArrowRight: (i + 1) % n, ArrowLeft: (i - 1 + n) % n, Home: 0, End: n - 1 }[e.key];
      if (next !== undefined) {
        e.preventDefault();
        select(next, true);
      }
    });
  });
  list.append(...buttons);
  container.append(list, ...panels);
  return { select, panels, buttons };
}
