// One resource: metadata, versions, provenance (derived from / validated
// by), credibility evidence, files to download, and community feedback.

import { ApiError, api, body, request } from "../api/client";
import type { Feedback, Page, Resource, Version } from "../api/types";
import type { RouteMatch } from "../router";
import { atLeast, me } from "../session";
import { field, formatBytes, formatDate, h, message, stars } from "../ui/dom";

function resourceLink(ref: string): HTMLElement {
  // "ID@HASH" or "ID" (latest)
  const [id, hash] = ref.split("@");
  return h(
    "a",
    { href: `/resources/${encodeURIComponent(id)}${hash ? `?version=${encodeURIComponent(hash)}` : ""}`, "data-link": true },
    id,
    hash ? h("span", { class: "hash" }, ` @${hash.slice(0, 10)}`) : "",
  );
}

function referenceLink(ref: string): HTMLElement {
  const doi = /^doi:(.+)$/i.exec(ref);
  if (doi) return h("a", { href: `https://doi.org/${doi[1]}`, rel: "noopener", target: "_blank" }, ref);
  const pubmed = /^pubmed:(\d+)$/i.exec(ref);
  if (pubmed) return h("a", { href: `https://pubmed.ncbi.nlm.nih.gov/${pubmed[1]}/`, rel: "noopener", target: "_blank" }, ref);
  if (/^https?:\/\//.test(ref)) return h("a", { href: ref, rel: "noopener", target: "_blank" }, ref);
  return h("span", {}, ref);
}

function dl(rows: [string, Node | string | null][]): HTMLElement {
  const el = h("dl", { class: "meta" });
  for (const [k, v] of rows) {
    if (v === null || v === "") continue;
    el.append(h("dt", {}, k), h("dd", {}, v));
  }
  return el;
}

function list(items: string[], render: (s: string) => Node = (s) => document.createTextNode(s)): HTMLElement | null {
  if (!items.length) return null;
  return h("ul", { class: "inline-list" }, ...items.map((s) => h("li", {}, render(s))));
}

/** Downloads with the Authorization header (non-public files need it), then saves as a blob. */
async function download(url: string, filename: string, status: HTMLElement): Promise<void> {
  try {
    const response = await request(url);
    const blob = await response.blob();
    const a = h("a", { href: URL.createObjectURL(blob), download: filename });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
    status.replaceChildren(message("success", `Downloaded ${filename}`));
  } catch (e) {
    status.replaceChildren(message("error", `Download failed: ${(e as Error).message}`));
  }
}

export async function resourcePage(main: HTMLElement, match: RouteMatch): Promise<void> {
  const id = match.params[0];
  const wanted = match.query.get("version") ?? "latest";
  main.setAttribute("aria-busy", "true");
  let resource: Resource;
  let versions: Page<Version>;
  let version: Version | null = null;
  try {
    [resource, versions] = await Promise.all([
      body<Resource>(api.GET("/v1/resources/{id}", { params: { path: { id } } })),
      body<Page<Version>>(api.GET("/v1/resources/{id}/versions", { params: { path: { id } } })),
    ]);
    if (resource.version_count > 0) {
      version = await body<Version>(api.GET("/v1/resources/{id}/versions/{version}", { params: { path: { id, version: wanted } } }));
    }
  } catch (e) {
    main.removeAttribute("aria-busy");
    const status = e instanceof ApiError ? e.status : 0;
    main.append(
      h("h1", {}, status === 404 ? "Not found" : "Cannot load this resource"),
      message("error", status === 404 ? `No resource “${id}” is visible to you${me() ? "" : " (sign in to see non-public resources)"}.` : (e as Error).message),
    );
    return;
  }
  main.removeAttribute("aria-busy");
  const m = version?.metadata ?? resource.metadata;
  document.title = `${m.title || id} · Soma`;

  const header = h(
    "header",
    { class: "resource-head" },
    h("p", { class: "crumbs" }, h("a", { href: "/", "data-link": true }, "Catalogue"), " / ", resource.kind),
    h("h1", {}, m.title || id),
    h(
      "p",
      { class: "card-head" },
      h("span", { class: `badge kind-${resource.kind}` }, resource.kind),
      h("span", { class: "badge vis" }, resource.visibility + (resource.group ? ` (${resource.group})` : "")),
      " ",
      stars(resource.rating, resource.review_count),
    ),
    m.description ? h("p", { class: "desc" }, m.description) : null,
  );

  const creators = m.creators.map((c) =>
    h("span", {}, c.name, c.orcid ? h("a", { href: `https://orcid.org/${c.orcid}`, rel: "noopener", target: "_blank", "aria-label": `ORCID of ${c.name}` }, ` (ORCID ${c.orcid})`) : ""),
  );
  const metadata = h(
    "section",
    { "aria-labelledby": "md-h" },
    h("h2", { id: "md-h" }, "Metadata"),
    dl([
      ["Identifier", resource.id],
      ["Owner", resource.owner],
      ["Licence", m.license || "none given"],
      ["Creators", creators.length ? h("span", {}, ...creators.flatMap((c, i) => (i ? [", ", c] : [c]))) : null],
      ["Keywords", list(m.keywords)],
      ["Organ systems", list(m.organ_systems)],
      ["Diseases", list(m.diseases)],
      ["Scales", list(m.scales)],
      ["References", list(m.references, referenceLink)],
      ["Annotations", list(m.annotations, referenceLink)],
      ["Created", formatDate(resource.created_ms)],
      ["Updated", formatDate(resource.updated_ms)],
    ]),
  );

  const p = version?.provenance;
  const credibility = h(
    "section",
    { "aria-labelledby": "cred-h" },
    h("h2", { id: "cred-h" }, "Credibility"),
    dl([
      ["Credibility level", m.credibility_level ? h("span", { class: `badge cred cred-${m.credibility_level}` }, m.credibility_level) : "not assessed"],
      ["Context of use", m.context_of_use || null],
      ["Validated by", p && p.validated_by.length ? list(p.validated_by, resourceLink) : "no validation evidence linked"],
    ]),
  );
  const provenance = h(
    "section",
    { "aria-labelledby": "prov-h" },
    h("h2", { id: "prov-h" }, "Provenance"),
    p
      ? dl([
          ["Derived from", list(p.derived_from, resourceLink) ?? "—"],
          ["Validated by", list(p.validated_by, resourceLink) ?? "—"],
          ["Inputs", list(p.inputs, resourceLink)],
          ["Generated by", p.generated_by || null],
          ["Software", p.software_version || null],
        ])
      : h("p", {}, "No versions yet."),
  );

  const dlStatus = h("div", { "aria-live": "polite" });
  const files = h("section", { "aria-labelledby": "files-h" }, h("h2", { id: "files-h" }, `Files${version ? ` of version ${version.number}` : ""}`));
  if (version && version.files.length) {
    const v = version;
    files.append(
      h(
        "table",
        {},
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "File"), h("th", { scope: "col" }, "Type"), h("th", { scope: "col" }, "Size"), h("th", { scope: "col" }, "SHA-256"))),
        h(
          "tbody",
          {},
          ...v.files.map((f) =>
            h(
              "tr",
              {},
              h(
                "td",
                {},
                h(
                  "button",
                  {
                    type: "button",
                    class: "linklike",
                    "aria-label": `Download ${f.path}`,
                    onclick: () => void download(`/v1/resources/${encodeURIComponent(id)}/versions/${v.hash}/files/${f.path.split("/").map(encodeURIComponent).join("/")}`, f.path.split("/").pop() ?? f.path, dlStatus),
                  },
                  f.path,
                ),
              ),
              h("td", {}, f.media_type),
              h("td", {}, formatBytes(f.size)),
              h("td", { class: "hash" }, f.sha256.slice(0, 16) + "…"),
            ),
          ),
        ),
      ),
      h("p", {}, h("button", { type: "button", onclick: () => void download(`/v1/resources/${encodeURIComponent(id)}/export?version=${v.hash}`, `${id}-v${v.number}.omex`, dlStatus) }, "Download as COMBINE archive (OMEX)")),
      dlStatus,
    );
  } else {
    files.append(h("p", {}, "No files."));
  }

  const versionsEl = h(
    "section",
    { "aria-labelledby": "ver-h" },
    h("h2", { id: "ver-h" }, "Versions"),
    versions.items.length
      ? h(
          "table",
          {},
          h("thead", {}, h("tr", {}, ...["#", "Hash", "Message", "Author", "Date"].map((c) => h("th", { scope: "col" }, c)))),
          h(
            "tbody",
            {},
            ...[...versions.items].reverse().map((v) =>
              h(
                "tr",
                { class: version && v.hash === version.hash ? "current" : "" },
                h("td", {}, String(v.number)),
                h("td", { class: "hash" }, h("a", { href: `/resources/${encodeURIComponent(id)}?version=${v.number}`, "data-link": true, "aria-current": version && v.hash === version.hash ? "true" : null }, v.hash.slice(0, 12))),
                h("td", {}, v.message),
                h("td", {}, v.author),
                h("td", {}, formatDate(v.created_ms)),
              ),
            ),
          ),
        )
      : h("p", {}, "No versions yet."),
  );

  const feedbackEl = h("section", { "aria-labelledby": "fb-h", class: "feedback" }, h("h2", { id: "fb-h" }, "Community feedback"));
  main.append(
    header,
    h("div", { class: "resource-grid" }, h("div", {}, metadata, credibility, provenance), h("div", {}, files, versionsEl)),
    feedbackEl,
  );
  await renderFeedback(feedbackEl, id);
}

async function renderFeedback(section: HTMLElement, id: string): Promise<void> {
  const listEl = h("ol", { class: "feedback-list" });
  const status = h("div", { "aria-live": "polite" });
  section.append(status, listEl);

  const reload = async () => {
    let items: Feedback[];
    try {
      items = (await body<Page<Feedback>>(api.GET("/v1/resources/{id}/feedback", { params: { path: { id } } }))).items;
    } catch (e) {
      status.replaceChildren(message("error", `Cannot load feedback: ${(e as Error).message}`));
      return;
    }
    listEl.replaceChildren(...(items.length ? items.map((f) => feedbackItem(f, reload, status)) : [h("li", { class: "empty" }, "No comments or reviews yet.")]));
  };
  await reload();

  if (!me()) {
    section.append(h("p", {}, h("a", { href: `/signin?next=${encodeURIComponent(location.pathname)}`, "data-link": true }, "Sign in"), " to comment or review."));
    return;
  }
  const kind = h("select", { name: "kind" }, h("option", { value: "comment" }, "Comment"), h("option", { value: "review" }, "Review with a rating"));
  const rating = h("select", { name: "rating" }, ...[5, 4, 3, 2, 1].map((r) => h("option", { value: String(r) }, `${r} star${r === 1 ? "" : "s"}`)));
  const ratingField = field("Rating", rating);
  ratingField.hidden = true;
  kind.addEventListener("change", () => (ratingField.hidden = kind.value !== "review"));
  const text = h("textarea", { name: "text", rows: 3 });
  const form = h(
    "form",
    {
      class: "feedback-form",
      onsubmit: async (e: Event) => {
        e.preventDefault();
        const payload: Record<string, unknown> = { kind: kind.value, text: text.value };
        if (kind.value === "review") payload.rating = Number(rating.value);
        try {
          await body(api.POST("/v1/resources/{id}/feedback", { params: { path: { id } }, body: payload as never }));
          text.value = "";
          status.replaceChildren(message("success", kind.value === "review" ? "Review posted." : "Comment posted."));
          await reload();
        } catch (err) {
          status.replaceChildren(message("error", `Not posted: ${(err as Error).message}`));
        }
      },
    },
    h("h3", {}, "Add feedback"),
    field("Type", kind),
    ratingField,
    field("Your comment", text),
    h("button", { type: "submit" }, "Post"),
  );
  section.append(form);
}

function feedbackItem(f: Feedback, reload: () => Promise<void>, status: HTMLElement): HTMLElement {
  const moderate = async (hidden: boolean) => {
    const note = hidden ? (window.prompt("Moderation note (optional)") ?? "") : "";
    try {
      await body(api.POST("/v1/feedback/{id}/moderation", { params: { path: { id: f.id } }, body: { hidden, note } as never }));
      status.replaceChildren(message("success", hidden ? "Hidden." : "Shown again."));
      await reload();
    } catch (e) {
      status.replaceChildren(message("error", `Moderation failed: ${(e as Error).message}`));
    }
  };
  return h(
    "li",
    { class: `fb ${f.hidden ? "fb-hidden" : ""}` },
    h(
      "p",
      { class: "fb-head" },
      h("strong", {}, f.author),
      f.kind === "review" ? h("span", { class: "stars", role: "img", "aria-label": `${f.rating} out of 5` }, ` ${"★".repeat(f.rating)}${"☆".repeat(5 - f.rating)}`) : " commented",
      h("span", { class: "muted" }, ` · ${formatDate(f.created_ms)}`),
      f.hidden ? h("span", { class: "badge vis" }, `hidden${f.moderation_note ? `: ${f.moderation_note}` : ""}`) : null,
    ),
    f.text ? h("p", {}, f.text) : null,
    atLeast("curator")
      ? h("button", { type: "button", class: "small", onclick: () => void moderate(!f.hidden), "aria-label": `${f.hidden ? "Show" : "Hide"} feedback by ${f.author}` }, f.hidden ? "Show" : "Hide")
      : null,
  );
}
