// The clinicians' web app: a hash router over four views (sign in, patients, a patient's sessions
// with upload, a session). Plain ES modules, no build step, nothing from outside this server.

import { ApiError, auth, request } from "./api.js";
import { clear, h, toast } from "./ui.js";
import { renderLogin } from "./views/login.js";
import { renderPatient } from "./views/patient.js";
import { renderPatients } from "./views/patients.js";
import { renderSession } from "./views/session.js";

const main = document.getElementById("main");
let cleanup = null; // the current view's teardown (closes progress streams, stops audio)

const routes = [
  [/^#\/login$/, () => renderLogin],
  [/^#\/patients$/, () => renderPatients],
  [/^#\/patients\/([\w-]+)$/, () => renderPatient],
  [/^#\/sessions\/([\w-]+)$/, () => renderSession],
];

export function navigate(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

async function route() {
  if (cleanup) {
    try {
      cleanup();
    } catch {
      /* a view that fails to tear down must not block the next */
    }
    cleanup = null;
  }
  let hash = location.hash || "#/patients";
  if (!auth.signedIn && hash !== "#/login") {
    sessionStorage.setItem("tb.after-login", hash);
    hash = "#/login";
    history.replaceState(null, "", hash);
  }
  if (auth.signedIn && hash === "#/login") {
    hash = "#/patients";
    history.replaceState(null, "", hash);
  }
  updateChrome();
  for (const [pattern, view] of routes) {
    const m = pattern.exec(hash);
    if (!m) continue;
    clear(main);
    try {
      cleanup = (await view()(main, ...m.slice(1))) || null;
    } catch (err) {
      showError(err);
    }
    focusHeading();
    return;
  }
  clear(main, h("section", { class: "panel" }, h("h1", { tabindex: "-1" }, "Page not found"), h("p", {}, h("a", { href: "#/patients" }, "Back to patients"))));
  focusHeading();
}

function showError(err) {
  if (err instanceof ApiError && err.status === 401) {
    navigate("#/login");
    return;
  }
  const notFound = err instanceof ApiError && err.status === 404;
  clear(
    main,
    h(
      "section",
      { class: "panel" },
      h("h1", { tabindex: "-1" }, notFound ? "Not found" : "Something went wrong"),
      h("p", {}, notFound ? "It does not exist, or it is not yours." : err.message || String(err)),
      h("p", {}, h("a", { href: "#/patients" }, "Back to patients")),
    ),
  );
}

/** Move focus to the new page's heading, so screen readers announce where we are. */
function focusHeading() {
  const heading = main.querySelector("h1");
  document.title = heading ? `${heading.textContent} · TherapyBridge` : "TherapyBridge";
  if (heading && document.activeElement === document.body) {
    heading.setAttribute("tabindex", "-1");
    heading.focus({ preventScroll: true });
  }
}

async function updateChrome() {
  const nav = document.getElementById("topnav");
  nav.hidden = !auth.signedIn;
  const who = document.getElementById("whoami");
  if (auth.signedIn && !who.textContent) {
    try {
      const me = await request("GET", "/api/auth/me");
      who.textContent = me.email;
    } catch {
      /* shown again on the next route */
    }
  }
  if (!auth.signedIn) who.textContent = "";
}

let signingOut = false;
document.getElementById("signout").addEventListener("click", () => {
  signingOut = true;
  auth.logout();
  signingOut = false;
  toast("Signed out.");
  navigate("#/login");
});

auth.onChange((tokens) => {
  if (!tokens && !signingOut && location.hash !== "#/login") {
    toast("Please sign in again.", "error");
    navigate("#/login");
  }
});

window.addEventListener("hashchange", route);
window.addEventListener("unhandledrejection", (e) => {
  if (e.reason instanceof ApiError && e.reason.status === 401) return;
  toast(e.reason && e.reason.message ? e.reason.message : "Something went wrong.", "error");
});
route();
