/**
 * `/api/v1/tokens`: API tokens, managed by admins. Secrets are shown once, in the answer to
 * their creation.
 *
 * @module
 */
import { createTokenSchema } from "../../auth/tokens.js";
import type { Tasklane } from "../../tasklane.js";
import type { Api } from "../api.js";
import { actorOf } from "../auth.js";
import { idParam } from "../params.js";
import { createdTokenResponse, tokenResponse } from "../responses.js";
import { z } from "zod";

/** Declares the token routes on `api`; `revoked` runs after a revocation (to empty an auth cache). */
export function tokenRoutes(api: Api, tl: Tasklane, revoked: () => void): void {
  const tag = "tokens";

  api.add({
    method: "get", path: "/tokens", scope: "admin", tag, operationId: "listTokens",
    summary: "Every token, revoked ones included, without secrets",
    responses: { 200: { description: "the tokens", schema: z.object({ tokens: z.array(tokenResponse) }) } },
    handler: async (c) => c.json({ tokens: await tl.listTokens() }),
  });

  api.add({
    method: "post", path: "/tokens", scope: "admin", tag, operationId: "createToken",
    summary: "Create a token; the answer is the only time its secret is shown",
    description: "A live token with the same name is 409 CONFLICT. The creating token's name is recorded as createdBy.",
    body: createTokenSchema,
    responses: { 201: { description: "created", schema: createdTokenResponse } },
    handler: async (c, { body }) => {
      const { id, token } = await tl.createToken(body, actorOf(c));
      c.header("Location", `/api/v1/tokens/${id}`);
      // The secret must not be kept by a cache between the server and the client.
      c.header("Cache-Control", "no-store");
      return c.json({ id, name: body.name, scopes: body.scopes, token }, 201);
    },
  });

  api.add({
    method: "delete", path: "/tokens/:id", scope: "admin", tag, operationId: "revokeToken", params: { id: "token id" },
    summary: "Revoke a token: requests carrying it are refused from now on",
    responses: { 200: { description: "the revoked token", schema: tokenResponse } },
    handler: async (c) => {
      const token = await tl.revokeToken(idParam(c, "token"), actorOf(c));
      revoked();
      return c.json(token);
    },
  });
}
