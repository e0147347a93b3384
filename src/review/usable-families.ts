import { BUILT_IN_FAMILIES, resolveFamily, type StartBindings } from "../evaluate/start";
import type { StoredFamily } from "../evaluate/stored-family";
import { listFamilies } from "../storage/families";

export interface UsableFamily {
  family: StoredFamily;
  /** Defined by the service and served by its reference server, rather than registered by an organiser. */
  builtIn: boolean;
}

/**
 * Every family an evaluation can be started on, as the evaluator resolves names (resolveFamily): the built-in
 * ones first, pointed at this deployment's reference server, then the registered ones by name. A row stored
 * under a built-in name is never used, so it is not listed.
 */
export async function usableFamilies(bindings: StartBindings): Promise<UsableFamily[]> {
  const builtIn = await Promise.all(BUILT_IN_FAMILIES.map((name) => resolveFamily(bindings, name)));
  const registered = (await listFamilies(bindings.DB)).filter((family) => !BUILT_IN_FAMILIES.includes(family.name));
  return [
    ...builtIn.flatMap((family) => (family ? [{ family, builtIn: true }] : [])),
    ...registered.map((family) => ({ family, builtIn: false })),
  ];
}
