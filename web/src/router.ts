// History-API routing: `soma serve` answers every non-API path with
// index.html, so deep links work. Pages are functions of the path match and
// the query string that render into <main>.

export interface RouteMatch {
  params: string[];
  query: URLSearchParams;
}
export type Page = (main: HTMLElement, match: RouteMatch) => void | Promise<void>;

const routes: { pattern: RegExp; page: Page; title: string }[] = [];
let onNavigate: (() => void) | null = null;
let rendered = ""; // path + query of the page on screen

export function route(pattern: RegExp, title: string, page: Page): void {
  routes.push({ pattern, page, title });
}

export function navigate(url: string, replace = false): void {
  if (replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  void render();
}

export function onRouteChange(f: () => void): void {
  onNavigate = f;
}

export async function render(): Promise<void> {
  const main = document.getElementById("main") as HTMLElement;
  const path = decodeURI(location.pathname);
  rendered = location.pathname + location.search;
  for (const r of routes) {
    const m = r.pattern.exec(path);
    if (!m) continue;
    main.replaceChildren();
    document.title = `${r.title} · Soma`;
    onNavigate?.();
    await r.page(main, { params: m.slice(1), query: new URLSearchParams(location.search) });
    return;
  }
  main.replaceChildren();
  const h1 = document.createElement("h1");
  h1.textContent = "Page not found";
  main.appendChild(h1);
}

/** Same-origin links marked data-link navigate without a reload. */
export function interceptLinks(): void {
  document.addEventListener("click", (e) => {
    const a = (e.target as Element | null)?.closest?.("a[data-link]") as HTMLAnchorElement | null;
    if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    if (a.origin !== location.origin) return;
    e.preventDefault();
    navigate(a.pathname + a.search);
  });
  // Back/forward re-render; a change of the #fragment alone (the skip link) does not.
  window.addEventListener("popstate", () => {
    if (location.pathname + location.search === rendered) return;
    void render();
  });
}
