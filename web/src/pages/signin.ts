// Sign in with an API token (an admin issues them: `soma admin token create
// --for NAME`, or POST /v1/tokens). The token stays in this tab's
// sessionStorage only and is sent as a Bearer header.

import { ApiError } from "../api/client";
import { navigate, type RouteMatch } from "../router";
import { me, signIn, signOut } from "../session";
import { field, h, message } from "../ui/dom";

export function signInPage(main: HTMLElement, match: RouteMatch): void {
  const next = match.query.get("next") ?? "/";
  const safeNext = next.startsWith("/") && !next.startsWith("//") ? next : "/";
  main.append(h("h1", {}, "Sign in"));
  const user = me();
  if (user) {
    main.append(
      h("p", {}, `You are signed in as ${user.name} (${user.role}).`),
      h("button", { type: "button", onclick: () => { signOut(); navigate("/signin"); } }, "Sign out"),
    );
    return;
  }
  const input = h("input", { type: "password", name: "token", autocomplete: "off", required: true, spellcheck: "false" });
  const status = h("div", { "aria-live": "polite" });
  const form = h(
    "form",
    {
      class: "signin",
      onsubmit: async (e: Event) => {
        e.preventDefault();
        try {
          const u = await signIn(input.value.trim());
          status.replaceChildren(message("success", `Signed in as ${u.name} (${u.role}).`));
          navigate(safeNext);
        } catch (err) {
          const text = err instanceof ApiError && err.status === 401 ? "This token is not valid (unknown, revoked or mistyped)." : `Sign-in failed: ${(err as Error).message}`;
          status.replaceChildren(message("error", text));
          input.focus();
        }
      },
    },
    field("API token", input, "A token looks like soma_<id>_<secret>. It is kept in this browser tab only and forgotten when the tab closes."),
    h("button", { type: "submit" }, "Sign in"),
    status,
  );
  main.append(form, h("p", { class: "muted" }, "Without signing in you see public content only."));
  input.focus();
}
