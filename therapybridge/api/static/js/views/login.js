import { auth } from "../api.js";
import { navigate } from "../app.js";
import { h } from "../ui.js";

export function renderLogin(main) {
  const error = h("p", { class: "form-error", role: "alert", id: "login-error" });
  const email = h("input", { id: "login-email", name: "email", type: "email", autocomplete: "username", required: true });
  const password = h("input", { id: "login-password", name: "password", type: "password", autocomplete: "current-password", required: true });
  const submit = h("button", { type: "submit", class: "btn btn-primary" }, "Sign in");
  const form = h(
    "form",
    {
      class: "stack",
      "aria-describedby": "login-error",
      onsubmit: async (e) => {
        e.preventDefault();
        error.textContent = "";
        submit.disabled = true;
        submit.textContent = "Signing in…";
        try {
          await auth.login(email.value.trim(), password.value);
          const next = sessionStorage.getItem("tb.after-login") || "#/patients";
          sessionStorage.removeItem("tb.after-login");
          navigate(next === "#/login" ? "#/patients" : next);
        } catch (err) {
          error.textContent = err.message;
          password.select();
        } finally {
          submit.disabled = false;
          submit.textContent = "Sign in";
        }
      },
    },
    h("div", { class: "field" }, h("label", { for: "login-email" }, "Email"), email),
    h("div", { class: "field" }, h("label", { for: "login-password" }, "Password"), password),
    error,
    submit,
  );
  main.append(
    h(
      "section",
      { class: "panel login" },
      h("h1", {}, "Sign in"),
      h("p", { class: "muted" }, "Session recordings, transcripts and notes for your patients."),
      form,
    ),
  );
  email.focus();
}
