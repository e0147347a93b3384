import { exports } from "cloudflare:workers";
import { expect } from "vitest";
import { defined } from "../defined";
import { submit, type Upload } from "./helpers";

/*
 * What the tests of the server-rendered pages share: the site's origin and another site's, the hostile text every
 * page must escape (and how it reads escaped), requests as a browser sends them (redirects not followed, so a test
 * sees the 303 itself), and the two sign-ins that turn a pasted token into a session cookie.
 */

/** The origin the tests' requests go to; a form posted from this site names it. */
export const PAGE_ORIGIN = "http://isv.test";
/** Another site's origin. */
export const ELSEWHERE = "https://elsewhere.example";
/** The headers of a form a browser posts from another site. */
export const CROSS_SITE = { origin: ELSEWHERE, "sec-fetch-site": "cross-site" };

/** A script element, and how hono/jsx escapes it: alone, it is what pages-desk-admin stores as names. */
export const HOSTILE_SCRIPT = `<script>alert("x")</script>`;
export const ESCAPED_SCRIPT = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;";
/** The script with an ampersand and a single quote (which could end an attribute) after it, and how it reads escaped. */
export const HOSTILE = `${HOSTILE_SCRIPT} & 'q'`;
export const ESCAPED = `${ESCAPED_SCRIPT} &amp; &#39;q&#39;`;

/** A request to the service as a browser on the site makes it, without following redirects. */
export const pageRequest = (path: string, init: RequestInit = {}) =>
  exports.default.fetch(`${PAGE_ORIGIN}${path}`, { redirect: "manual", ...init });

/** Posts `pasted` to a sign-in form from this site; the Cookie header the browser would send back. */
async function sessionCookie(signInPath: string, pasted: string): Promise<string> {
  const response = await pageRequest(signInPath, {
    method: "POST",
    body: new URLSearchParams({ token: pasted }),
    headers: { origin: PAGE_ORIGIN },
  });
  expect(response.status).toBe(303);
  return defined(response.headers.get("set-cookie"), "a session cookie").split(";")[0] ?? "";
}

/** Signs in on a submission's status page with its submitter token; the session's Cookie header. */
export const signInAsSubmitter = (id: string, submitterToken: string): Promise<string> =>
  sessionCookie(`/submissions/${id}/sign-in`, submitterToken);

/** Signs in on the review desk with an organiser's or admin's token; the session's Cookie header. */
export const signInOnDesk = (apiToken: string): Promise<string> => sessionCookie("/review/sign-in", apiToken);

/** Uploads a task through the API and signs in as its submitter; its id and the session's Cookie header. */
export async function submitSignedIn(upload: Upload): Promise<{ id: string; cookie: string }> {
  const created = await submit(upload);
  expect(created.status).toBe(201);
  const { id, submitterToken } = await created.json<{ id: string; submitterToken: string }>();
  return { id, cookie: await signInAsSubmitter(id, submitterToken) };
}

/** The form's controls as a browser sends them: text fields in page order, then the file. */
export const VALID_FIELDS: Record<string, string> = {
  title: "Memo trap, from the page",
  taskType: "classification",
  description: "Asks for a famous quote's ending where the prompt wants a different one.",
  whyItMatters: "Models that repeat memorised text ignore instructions.",
  expectedInverseScaling: "Larger models memorise more and follow the memorised ending.",
  correctBehaviour: "Follow the instruction.",
  dataGeneration: "Templated from a list of quotes.",
  sources: "",
  dataLicence: "CC-BY-4.0",
  author_name_0: "Ada Researcher",
  author_affiliation_0: "Example Lab",
  author_named_0: "yes",
  author_name_1: "",
  author_affiliation_1: "",
  author_name_2: "",
  author_affiliation_2: "",
  contactEmail: "ada@example.org",
  format: "",
  matchingBehaviour: "undesired",
  promptTemplate: "\r\n\r\nHuman: {question}\r\n\r\nAssistant:",
};
