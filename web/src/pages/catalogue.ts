// The catalogue: full-text search with facet filters (whatever facets the
// API returns, with their counts), sort, result cards and paging. The state
// lives in the URL (?q=...&kind=model&organ=endocrine), so results can be
// linked and the back button works.

import { api, body } from "../api/client";
import type { Resource, SearchResult } from "../api/types";
import { navigate, type RouteMatch } from "../router";
import { field, h, message, stars } from "../ui/dom";

const FACET_LABELS: Record<string, string> = {
  kind: "Kind",
  organ: "Organ system",
  disease: "Disease",
  license: "Licence",
  scale: "Scale",
  credibility: "Credibility",
  visibility: "Visibility",
};
const PAGE = 20;

function facetNames(result: SearchResult): string[] {
  const known = Object.keys(FACET_LABELS).filter((f) => f in result.facets);
  const other = Object.keys(result.facets).filter((f) => !(f in FACET_LABELS));
  return [...known, ...other];
}

export async function cataloguePage(main: HTMLElement, match: RouteMatch): Promise<void> {
  const q = match.query;
  const text = q.get("q") ?? "";
  const sort = q.get("sort") ?? "relevance";
  const offset = Number(q.get("offset") ?? "0") || 0;
  const filters: Record<string, string[]> = {};
  for (const name of Object.keys(FACET_LABELS)) {
    const values = q.getAll(name).flatMap((v) => v.split(",")).filter(Boolean);
    if (values.length) filters[name] = values;
  }

  const go = (changes: Record<string, string | string[] | null>) => {
    const next = new URLSearchParams(q);
    for (const [k, v] of Object.entries(changes)) {
      next.delete(k);
      if (Array.isArray(v)) v.forEach((x) => next.append(k, x));
      else if (v) next.set(k, v);
    }
    if (!("offset" in changes)) next.delete("offset");
    navigate(`/?${next.toString()}`);
  };

  const input = h("input", { type: "search", name: "q", value: text, placeholder: "insulin, glucose, heart…", autocomplete: "off" });
  const sortSelect = h(
    "select",
    { name: "sort", onchange: () => go({ sort: sortSelect.value }) },
    ...["relevance", "updated", "title", "created", "rating"].map((s) => h("option", { value: s, selected: s === sort }, s)),
  );
  const form = h(
    "form",
    {
      role: "search",
      class: "search-form",
      onsubmit: (e: Event) => {
        e.preventDefault();
        go({ q: input.value.trim() || null });
      },
    },
    field("Search the catalogue", input),
    field("Sort by", sortSelect),
    h("button", { type: "submit" }, "Search"),
  );
  const facetsEl = h("aside", { class: "facets", "aria-label": "Filters" });
  const resultsEl = h("section", { class: "results", "aria-label": "Results", "aria-busy": "true" });
  main.append(h("h1", {}, "Catalogue"), form, h("div", { class: "catalogue" }, facetsEl, resultsEl));

  let result: SearchResult;
  try {
    result = await body<SearchResult>(
      api.GET("/v1/search", {
        params: {
          query: { q: text || undefined, sort, limit: PAGE, offset, ...filters },
        },
      }),
    );
  } catch (e) {
    resultsEl.replaceChildren(message("error", `Search failed: ${(e as Error).message}`));
    resultsEl.setAttribute("aria-busy", "false");
    return;
  }

  for (const name of facetNames(result)) {
    const counts = result.facets[name] ?? [];
    const selected = new Set(filters[name] ?? []);
    // Selected values stay visible even when the current page has no count for them.
    for (const v of selected) if (!counts.some((c) => c.value === v)) counts.push({ value: v, count: 0 });
    if (!counts.length) continue;
    const fs = h("fieldset", { class: "facet" }, h("legend", {}, FACET_LABELS[name] ?? name));
    for (const c of counts) {
      const box = h("input", {
        type: "checkbox",
        name,
        value: c.value,
        checked: selected.has(c.value),
        onchange: () => {
          const next = new Set(selected);
          if (box.checked) next.add(c.value);
          else next.delete(c.value);
          go({ [name]: [...next] });
        },
      });
      fs.append(h("label", { class: "facet-value" }, box, ` ${c.value || "(none)"} `, h("span", { class: "count" }, `(${c.count})`)));
    }
    facetsEl.append(fs);
  }
  if (Object.keys(filters).length) {
    facetsEl.append(h("button", { type: "button", onclick: () => go(Object.fromEntries(Object.keys(filters).map((k) => [k, null]))) }, "Clear filters"));
  }

  const summary = h(
    "p",
    { class: "result-count", role: "status" },
    result.total === 0 ? "No resources match." : `${result.total} resource${result.total === 1 ? "" : "s"}${text ? ` for “${text}”` : ""}`,
  );
  const list = h("ol", { class: "cards" }, ...result.items.map(card));
  const pager = h("nav", { class: "pager", "aria-label": "Pages" });
  if (offset > 0) pager.append(h("button", { type: "button", onclick: () => go({ offset: String(Math.max(0, offset - PAGE)) }) }, "Previous page"));
  if (result.next_offset !== null && result.next_offset !== undefined) {
    pager.append(h("button", { type: "button", onclick: () => go({ offset: String(result.next_offset) }) }, "Next page"));
  }
  resultsEl.replaceChildren(summary, list, pager);
  resultsEl.setAttribute("aria-busy", "false");
}

function card(r: Resource): HTMLElement {
  const m = r.metadata;
  const tags = [...m.organ_systems, ...m.diseases, ...m.scales];
  return h(
    "li",
    { class: "card" },
    h(
      "div",
      { class: "card-head" },
      h("span", { class: `badge kind-${r.kind}` }, r.kind),
      r.visibility !== "public" ? h("span", { class: "badge vis" }, r.visibility) : null,
      m.credibility_level ? h("span", { class: `badge cred cred-${m.credibility_level}` }, `credibility: ${m.credibility_level}`) : null,
    ),
    h("h2", {}, h("a", { href: `/resources/${encodeURIComponent(r.id)}`, "data-link": true }, m.title || r.id)),
    m.description ? h("p", { class: "desc" }, m.description.length > 220 ? `${m.description.slice(0, 220)}…` : m.description) : null,
    tags.length ? h("ul", { class: "tags", "aria-label": "Topics" }, ...tags.map((t) => h("li", {}, t))) : null,
    h(
      "p",
      { class: "card-foot" },
      stars(r.rating, r.review_count),
      ` · ${r.version_count} version${r.version_count === 1 ? "" : "s"}`,
      m.license ? ` · ${m.license}` : "",
      ` · ${r.owner}`,
    ),
  );
}
