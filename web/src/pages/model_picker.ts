// A <select> of the model resources the caller can read (search kind=model).

import { api, body } from "../api/client";
import type { SearchResult } from "../api/types";
import { field, h } from "../ui/dom";

export async function modelPicker(preferred: string): Promise<{ el: HTMLElement; value: () => string }> {
  const select = h("select", { name: "model" });
  try {
    const r = await body<SearchResult>(api.GET("/v1/search", { params: { query: { kind: ["model"], limit: 100, sort: "title" } } }));
    for (const m of r.items) select.append(h("option", { value: m.id, selected: m.id === preferred }, `${m.metadata.title || m.id} (${m.id})`));
  } catch {
    select.append(h("option", { value: preferred }, preferred));
  }
  return { el: field("Model", select), value: () => select.value };
}
