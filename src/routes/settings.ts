import { Hono } from "hono";
import type { AppEnv, OrganiserVariables } from "../app-env";
import { saveSettings } from "../competition/save-settings";
import { defaultSettings, submissionWindow } from "../competition/settings";
import { validateCompetitionSettings } from "../generated/validators";
import { jsonBody } from "../http/json-body";
import { requireRole } from "../http/organiser-auth";
import { ProblemError } from "../http/problem";
import { savedSettings, settingsInForce } from "../storage/settings";

/** The rules, public: researchers need the rounds, deadlines and limits before they submit. */
export function publicSettingsRoutes(): Hono<AppEnv> {
  const routes = new Hono<AppEnv>();
  routes.get("/settings", async (c) => {
    const settings = await settingsInForce(c.env);
    const window = submissionWindow(settings, new Date());
    return c.json(
      { ...settings, submissionsOpen: window.open, currentRound: window.open ? (window.round?.name ?? null) : null },
      200,
      { "cache-control": "public, max-age=60" },
    );
  });
  return routes;
}

/** Admins change the rules (mounted under /v1/review, behind the organiser check; writing needs admin). */
export function settingsAdminRoutes(): Hono<AppEnv & { Variables: OrganiserVariables }> {
  const routes = new Hono<AppEnv & { Variables: OrganiserVariables }>();
  routes.get("/settings", async (c) => {
    const saved = await savedSettings(c.env.DB);
    return c.json({
      settings: saved?.settings ?? defaultSettings(c.env),
      version: saved?.version ?? 0,
      savedAt: saved?.savedAt ?? null,
    });
  });

  routes.put(
    "/settings",
    requireRole("admin"),
    jsonBody(validateCompetitionSettings, "invalid_settings", "settings"),
    async (c) => {
      const outcome = await saveSettings(c.env, c.req.valid("json"), c.get("actor").id);
      if (outcome.kind === "invalid")
        throw new ProblemError(
          "invalid_settings",
          `The settings are invalid: ${outcome.problems.map((p) => `${p.field} ${p.message}`).join("; ")}.`,
          { fields: outcome.problems },
        );
      return c.json({ settings: outcome.settings, version: outcome.version, savedAt: outcome.savedAt });
    },
  );
  return routes;
}
