import "uplot/dist/uPlot.min.css";
import "./styles.css";
import { cataloguePage } from "./pages/catalogue";
import { resourcePage } from "./pages/resource";
import { signInPage } from "./pages/signin";
import { twinsPage, twinPage } from "./pages/twin";
import { whatIfPage } from "./pages/whatif";
import { trialsPage } from "./pages/trials";
import { interceptLinks, navigate, onRouteChange, render, route } from "./router";
import { me, onSessionChange, restoreSession, signOut } from "./session";
import { h } from "./ui/dom";

route(/^\/$/, "Catalogue", cataloguePage);
route(/^\/resources\/([^/]+)$/, "Resource", resourcePage);
route(/^\/signin$/, "Sign in", signInPage);
route(/^\/twins$/, "Twins", twinsPage);
route(/^\/twins\/([^/]+)$/, "Twin", twinPage);
route(/^\/what-if$/, "What-if", whatIfPage);
route(/^\/trials$/, "Trials", trialsPage);

function renderSession(): void {
  const el = document.getElementById("session") as HTMLElement;
  const user = me();
  if (user) {
    el.replaceChildren(
      h("span", { class: "who" }, `Signed in as ${user.name} (${user.role})`),
      h("button", { type: "button", class: "small", onclick: () => { signOut(); void render(); } }, "Sign out"),
    );
  } else {
    el.replaceChildren(h("span", { class: "who" }, "Public access"), h("a", { href: `/signin?next=${encodeURIComponent(location.pathname + location.search)}`, "data-link": true, class: "button small" }, "Sign in"));
  }
}

function markCurrentNav(): void {
  for (const a of document.querySelectorAll<HTMLAnchorElement>("header nav a")) {
    const here = a.pathname === "/" ? location.pathname === "/" || location.pathname.startsWith("/resources") : location.pathname.startsWith(a.pathname);
    if (here) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  renderSession();
}

async function start(): Promise<void> {
  interceptLinks();
  onRouteChange(markCurrentNav);
  onSessionChange(renderSession);
  await restoreSession();
  renderSession();
  await render();
  (window as unknown as { somaNavigate: typeof navigate }).somaNavigate = navigate;
}

void start();
