import { escapeXml } from "./util/escape";
import { htmlDocument } from "./http/html";

interface Operation {
  readonly operationId?: string;
  readonly summary?: string;
  readonly description?: string;
  readonly security?: readonly Readonly<Record<string, unknown>>[];
  readonly responses?: Readonly<Record<string, { readonly description?: string }>>;
}

/** The API reference as a page, rendered from the OpenAPI document itself so the two cannot disagree. */
export function renderDocsPage(document: {
  readonly info: { readonly title: string; readonly description?: string };
  readonly paths: Readonly<Record<string, Readonly<Record<string, Operation>>>>;
}): string {
  const sections = Object.entries(document.paths)
    .flatMap(([path, operations]) =>
      Object.entries(operations).map(([method, operation]) => ({ path, method, operation })),
    )
    .map(({ path, method, operation }) => {
      const [security] = operation.security ?? [];
      const auth = security ? Object.keys(security).join(", ") : "none";
      const responses = Object.entries(operation.responses ?? {})
        .map(
          ([status, response]) => `<li><code>${escapeXml(status)}</code> ${escapeXml(response.description ?? "")}</li>`,
        )
        .join("");
      return `<section id="${escapeXml(operation.operationId ?? `${method}-${path}`)}">
  <h2><code>${escapeXml(method.toUpperCase())} ${escapeXml(path)}</code></h2>
  <p><strong>${escapeXml(operation.summary ?? "")}</strong></p>
  ${operation.description ? `<p>${escapeXml(operation.description)}</p>` : ""}
  <p>Authentication: ${escapeXml(auth)}</p>
  <ul>${responses}</ul>
</section>`;
    })
    .join("\n");
  return htmlDocument({
    title: `${document.info.title}: API reference`,
    style: `  body { max-width: 820px; }
  section { border-top: 1px solid #ddd; padding: 0.5rem 0; } h2 { font-size: 1.05rem; } code { background: #f4f4f4; padding: 0 0.2rem; }`,
    body: `<h1>${escapeXml(document.info.title)}: API reference</h1>
<p>${escapeXml(document.info.description ?? "")} The machine-readable document is <a href="/openapi.json">/openapi.json</a>; schemas are in its components.</p>
${sections}`,
  });
}
