import { request } from "../api.js";
import { navigate } from "../app.js";
import { clear, date, h, statusBadge, toast } from "../ui.js";
import { riskBadge, signoffBadges } from "./patient.js";

export async function renderPatients(main) {
  const listBox = h("div", { id: "patient-list", "aria-live": "polite" }, h("p", { class: "loading" }, "Loading patients…"));
  const filter = h("input", { id: "patient-filter", type: "search", placeholder: "Name or ID", autocomplete: "off" });
  // An administrator sees every therapist's patients; theirs and the others' are listed apart.
  const othersBox = h("div", { id: "other-patient-list" });
  const othersPanel = h(
    "section",
    { class: "panel", "aria-labelledby": "other-patients-heading", id: "other-patients", hidden: true },
    h("h2", { id: "other-patients-heading" }, "Other therapists' patients"),
    h("p", { class: "muted small" }, "You see these as an administrator; they are not your patients."),
    othersBox,
  );
  let patients = [];
  let me = null;

  function table(items, caption, withTherapist) {
    return h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { class: "table" },
        h("caption", { class: "visually-hidden" }, caption),
        h("thead", {}, h("tr", {}, ["Name", "Date of birth", "Record ID", ...(withTherapist ? ["Therapist"] : []), "Added"].map((t) => h("th", { scope: "col" }, t)))),
        h(
          "tbody",
          {},
          items.map((p) =>
            h(
              "tr",
              { dataset: { patientId: p.id, mine: String(!withTherapist) } },
              h("th", { scope: "row" }, h("a", { href: `#/patients/${p.id}` }, p.name)),
              h("td", {}, date(p.date_of_birth)),
              h("td", {}, p.external_id || "–"),
              withTherapist ? h("td", { class: "small" }, h("span", { class: "badge badge-muted", title: p.therapist_id }, `Another therapist (${p.therapist_id.slice(0, 8)})`)) : null,
              h("td", {}, date(p.created_at)),
            ),
          ),
        ),
      ),
    );
  }

  function renderList() {
    const q = filter.value.trim().toLowerCase();
    const match = (p) => !q || p.name.toLowerCase().includes(q) || (p.external_id || "").toLowerCase().includes(q);
    const mine = patients.filter((p) => !me || p.therapist_id === me.id);
    const others = me ? patients.filter((p) => p.therapist_id !== me.id) : [];
    othersPanel.hidden = !others.length;
    if (others.length) {
      const shownOthers = others.filter(match);
      clear(othersBox, shownOthers.length ? table(shownOthers, "Other therapists' patients", true) : h("p", { class: "empty" }, "No patient matches."));
    }
    const shown = mine.filter(match);
    if (!mine.length) {
      clear(listBox, h("p", { class: "empty" }, "No patients yet. Add your first patient above."));
      return;
    }
    if (!shown.length) {
      clear(listBox, h("p", { class: "empty" }, "No patient matches."));
      return;
    }
    clear(listBox, table(shown, "Your patients", false));
  }

  filter.addEventListener("input", renderList);

  const name = h("input", { id: "new-patient-name", name: "name", required: true, maxlength: "200", autocomplete: "off" });
  const dob = h("input", { id: "new-patient-dob", name: "date_of_birth", type: "date" });
  const ext = h("input", { id: "new-patient-ext", name: "external_id", maxlength: "100", autocomplete: "off" });
  const error = h("p", { class: "form-error", role: "alert" });
  const form = h(
    "form",
    {
      class: "inline-form",
      "aria-labelledby": "new-patient-heading",
      onsubmit: async (e) => {
        e.preventDefault();
        error.textContent = "";
        try {
          const created = await request("POST", "/api/patients", {
            json: { name: name.value.trim(), date_of_birth: dob.value || null, external_id: ext.value.trim() || null },
          });
          toast(`Added ${created.name}.`);
          navigate(`#/patients/${created.id}`);
        } catch (err) {
          error.textContent = err.message;
        }
      },
    },
    h("div", { class: "field" }, h("label", { for: "new-patient-name" }, "Name"), name),
    h("div", { class: "field" }, h("label", { for: "new-patient-dob" }, "Date of birth ", h("span", { class: "muted" }, "(optional)")), dob),
    h("div", { class: "field" }, h("label", { for: "new-patient-ext" }, "Record ID ", h("span", { class: "muted" }, "(optional)")), ext),
    h("div", { class: "field field-submit" }, h("button", { type: "submit", class: "btn btn-primary" }, "Add patient")),
    error,
  );

  // Sessions waiting for the clinician: an unsigned note or a risk flag nobody has reviewed.
  const reviewBox = h("div", { id: "review-list" }, h("p", { class: "loading" }, "Loading…"));
  async function loadReview() {
    let page;
    try {
      page = await request("GET", "/api/sessions", { query: { needs_review: true, limit: 50 } });
    } catch (err) {
      clear(reviewBox, h("p", { class: "form-error" }, err.message));
      return;
    }
    const byId = new Map(patients.map((p) => [p.id, p.name]));
    // An administrator's API list holds every therapist's sessions; only theirs await *their* sign-off.
    page.data = page.data.filter((s) => !me || s.therapist_id === me.id);
    if (!page.data.length) {
      clear(reviewBox, h("p", { class: "empty" }, "Nothing waits for your sign-off."));
      return;
    }
    clear(
      reviewBox,
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { class: "table" },
          h("caption", { class: "visually-hidden" }, "Sessions awaiting sign-off"),
          h("thead", {}, h("tr", {}, ["Session", "Patient", "Status", "Risk", "Sign-off"].map((t) => h("th", { scope: "col" }, t)))),
          h(
            "tbody",
            {},
            page.data.map((s) =>
              h(
                "tr",
                { dataset: { sessionId: s.id, noteStatus: s.note_status || "", openFlags: String(s.open_flags ?? "") } },
                h("th", { scope: "row" }, h("a", { href: `#/sessions/${s.id}` }, date(s.session_date || s.created_at))),
                h("td", {}, byId.get(s.patient_id) || "–"),
                h("td", {}, statusBadge(s.status, s.progress)),
                h("td", { class: "risk-cell" }, riskBadge(s)),
                h("td", { class: "signoff-cell" }, signoffBadges(s)),
              ),
            ),
          ),
        ),
      ),
    );
  }

  main.append(
    h("div", { class: "page-head" }, h("h1", {}, "Patients")),
    h("section", { class: "panel", "aria-labelledby": "review-heading" }, h("h2", { id: "review-heading" }, "Awaiting your sign-off"), reviewBox),
    h("section", { class: "panel" }, h("h2", { id: "new-patient-heading" }, "Add a patient"), form),
    h(
      "section",
      { class: "panel", "aria-labelledby": "patients-heading" },
      h("div", { class: "panel-head" }, h("h2", { id: "patients-heading" }, "Your patients"), h("div", { class: "field field-inline" }, h("label", { for: "patient-filter" }, "Filter"), filter)),
      listBox,
    ),
    othersPanel,
  );
  // Who is looking (to tell an administrator's own patients from the others'), alongside the list.
  const whoami = request("GET", "/api/auth/me").catch(() => null);

  const all = [];
  for (let offset = 0; ; offset += 500) {
    const page = await request("GET", "/api/patients", { query: { limit: 500, offset } });
    all.push(...(page.data || []));
    if (!page.data || page.data.length < 500 || all.length >= page.count) break;
  }
  patients = all.sort((a, b) => a.name.localeCompare(b.name));
  me = await whoami;
  renderList();
  await loadReview();
}
