// Gavel's typed API client: openapi-fetch over the types openapi-typescript generated from
// openapi/openapi.json (schema.d.ts). See docs/contract.md.
import createClient, { type Client } from "openapi-fetch";
import type { components, paths } from "./schema";

export type { components, paths } from "./schema";
export type Schemas = components["schemas"];
export type Problem = Schemas["Problem"];
export type GavelClient = Client<paths>;

/**
 * A client for the API at `origin` (e.g. `http://localhost:8000`); `token` is asked for on every
 * request and sent as `Authorization: Bearer …` when present.
 */
export function gavelClient(origin: string, token?: () => string | undefined): GavelClient {
  const client = createClient<paths>({ baseUrl: `${origin.replace(/\/$/, "")}/api` });
  client.use({
    onRequest({ request }) {
      const t = token?.();
      if (t) request.headers.set("Authorization", `Bearer ${t}`);
      return request;
    },
  });
  return client;
}

// The Socket.IO event types, generated from src/contract by `gavel contract` (docs/contract.md).
export * from "./events";
