/**
 * Characters XML 1.0 does not allow at all, even escaped (C0 controls but tab, LF and CR; U+FFFE and U+FFFF): one
 * in a submitted title would make an SVG fail to parse, so they become U+FFFD, as a decoder shows bad bytes.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching those characters is the point.
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

/** Escapes text for HTML and XML (SVG) content and double- or single-quoted attribute values. */
export function escapeXml(text: string): string {
  return text
    .replace(NOT_XML, "\uFFFD")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}
