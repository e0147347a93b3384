import { Hono } from "hono";
import type { AppEnv, OrganiserVariables } from "../app-env";
import { saveSettings } from "../competition/save-settings";
import { completeSettings, defaultSettings, submissionWindow } from "../competition/settings";
import { currentSpend } from "../competition/spend";
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
      settings: saved ? completeSettings(saved.settings, c.env) : defaultSettings(c.env),
      version: saved?.version ?? 0,
      savedAt: saved?.savedAt ?? null,
    });
  });

  /** What evaluations have spent and reserve, against the ceilings; today's automatic evaluations (admins). */
  routes.get("/spend", requireRole("admin"), async (c) => c.json(await currentSpend(c.env, new Date())));

  routes.put(
    "/settings",
    requireRole("admin"),
    jsonBody(validateCompetitionSettings, "invalid_settings", "settings"),
    async (c) => {
      // Limits the document leaves out are saved with the defaults in force, so every version is complete.
      const outcome = await saveSettings(c.env, completeSettings(c.req.valid("json"), c.env), c.get("actor").id);
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
