import { beforeAll, describe, expect, it } from "vitest";
import { VALID_METADATA, call, lambadaVariant, postDecision, postGpt3Results, submit, token } from "./helpers";

/** The leaderboard page served by the Worker, filtered by its query without any script. */
describe("the leaderboard page's filter", () => {
  let accepted: string;

  beforeAll(async () => {
    const organiser = await token("organiser");
    const created = await (
      await submit({ csv: lambadaVariant("Filtered"), metadata: { ...VALID_METADATA, title: "Filtered task" } })
    ).json<{ id: string }>();
    accepted = created.id;
    await postGpt3Results(accepted, organiser);
    expect((await postDecision(accepted, organiser, "accept")).status).toBe(200);
  });

  const page = async (query: string): Promise<string> => (await call(`/${query}`)).text();

  it("lists the task under a family it has a line on", async () => {
    expect(await page("?family=gpt3")).toContain(`id="task-${accepted}"`);
  });

  it("leaves it out under a family it has no line on, saying what is shown", async () => {
    const filtered = await page("?family=opt");
    expect(filtered).not.toContain(`id="task-${accepted}"`);
    expect(filtered).toMatch(/<p class="filtered">Showing 0 of \d+ ranked tasks: those with a line on opt\./);
  });

  it("links each family and verdict, keeping the other choice", async () => {
    expect(await page("?verdict=standard")).toContain('<a href="/?family=gpt3&amp;verdict=standard">gpt3</a>');
  });
});
