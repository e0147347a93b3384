import { escapeXml } from "../util/escape";

/** A complete HTML page: the shell our server-rendered pages share (they carry no script). */
export function htmlDocument({ title, style, body }: { title: string; style: string; body: string }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeXml(title)}</title>
<style>
  body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; padding: 0 1rem; color: #111; }
${style}
</style>
</head>
<body>
${body}
</body>
</html>
`;
}
