import { z } from "zod";
import type { UserRow } from "../db/schema.ts";
import { listApplicationEvents } from "../domain/application-events.ts";
import { resetBotToken, resetClientSecret } from "../domain/application-secrets.ts";
import {
  type ApplicationChanges,
  createApplication,
  deleteApplication,
  getApplication,
  getPublicApplication,
  listApplications,
  type SudoInput,
  updateApplication,
} from "../domain/applications.ts";
import { isAllowedRedirectUri, parseAbsoluteUrl } from "../domain/redirect-uris.ts";
import { MAX_PASSWORD_LENGTH } from "../domain/user-fields.ts";
import { isSnowflake } from "../snowflake.ts";
import type { Context } from "./context.ts";
import { rateLimited } from "./rate-limit.ts";
import { protectedProcedure, publicProcedure, router } from "./trpc.ts";

const redirectUri = z
  .string()
  .max(256, "Redirect URI must be at most 256 characters")
  .refine(
    isAllowedRedirectUri,
    "Redirect URI must be an absolute https URL (http only for loopback), without fragment",
  );

const redirectUris = z
  .array(redirectUri)
  .max(10, "At most 10 redirect URIs")
  .refine((uris) => new Set(uris).size === uris.length, "Redirect URIs must be unique");

const httpsUrl = z
  .string()
  .max(2048, "URL must be at most 2048 characters")
  .refine((value) => parseAbsoluteUrl(value)?.protocol === "https:", "Must be an absolute https URL")
  .nullable();

const name = z
  .string()
  .trim()
  .min(1, "Name must be 1–100 characters")
  .max(100, "Name must be 1–100 characters");

const description = z
  .string()
  .trim()
  .max(400, "Description must be at most 400 characters")
  .nullable()
  .transform((value) => (value ? value : null));

// The domain checks the decoded size (1 MiB) and the image type; this only bounds the string.
const icon = z
  .string()
  .max(2 * 1024 * 1024)
  .nullable();

const applicationId = z.string().max(32);
const sudo = z.object({ id: applicationId, password: z.string().min(1).max(MAX_PASSWORD_LENGTH) });

/** A sudo mutation acts as the signed-in user, now, and leaves one audit entry. */
function sudoInput(ctx: Context & { user: UserRow }, input: z.infer<typeof sudo>): SudoInput {
  return { ...input, user: ctx.user, now: ctx.clock.now(), auditId: ctx.nextId() };
}

/** Everything an update may change; create requires `name`. */
const changes = z.object({
  name: name.optional(),
  description: description.optional(),
  icon: icon.optional(),
  redirect_uris: redirectUris.optional(),
  bot_public: z.boolean().optional(),
  bot_require_code_grant: z.boolean().optional(),
  public_client: z.boolean().optional(),
  terms_of_service_url: httpsUrl.optional(),
  privacy_policy_url: httpsUrl.optional(),
});

function toChanges(input: z.infer<typeof changes>): ApplicationChanges {
  return {
    name: input.name,
    description: input.description,
    icon: input.icon,
    redirectUris: input.redirect_uris,
    botPublic: input.bot_public,
    botRequireCodeGrant: input.bot_require_code_grant,
    publicClient: input.public_client,
    termsOfServiceUrl: input.terms_of_service_url,
    privacyPolicyUrl: input.privacy_policy_url,
  };
}

/** applications.create's input; the admin CLI's apps:create validates with it too. */
export const createApplicationInput = z.object({ ...changes.shape, name });

export const applicationsRouter = router({
  create: protectedProcedure
    .use(rateLimited("applications:create"))
    .input(createApplicationInput)
    .mutation(async ({ ctx, input }) => {
      const created = await createApplication(ctx.db, {
        id: ctx.nextId(),
        botUserId: ctx.nextId(),
        ownerId: ctx.user.id,
        now: ctx.clock.now(),
        maxApplications: ctx.config.maxApplications,
        fields: { ...toChanges(input), name: input.name },
        keys: ctx.keys,
      });
      return { ...created.application, client_secret: created.clientSecret, bot_token: created.botToken };
    }),

  list: protectedProcedure
    .use(rateLimited("applications:list"))
    .query(({ ctx }) => listApplications(ctx.db, ctx.user)),

  get: protectedProcedure
    .use(rateLimited("applications:list"))
    .input(z.object({ id: applicationId }))
    .query(({ ctx, input }) => getApplication(ctx.db, input.id, ctx.user)),

  // Anonymous: counted per IP (byUser falls back to the address).
  getPublic: publicProcedure
    .use(rateLimited("applications:list"))
    .input(z.object({ id: applicationId }))
    .query(({ ctx, input }) => getPublicApplication(ctx.db, input.id)),

  // Owner only, newest first; `next` is the `before` of the following (older) page.
  events: protectedProcedure
    .use(rateLimited("applications:list"))
    .input(
      z.object({
        id: applicationId,
        before: z.string().refine(isSnowflake, "Must be an event id").optional(),
        limit: z.number().int().min(1).max(100).default(50),
      }),
    )
    .query(({ ctx, input }) =>
      listApplicationEvents(ctx.db, {
        id: input.id,
        user: ctx.user,
        before: input.before ?? null,
        limit: input.limit,
      }),
    ),

  update: protectedProcedure
    .use(rateLimited("applications:update"))
    .input(
      z.object({
        id: applicationId,
        // int4 column: a larger number must be a validation error, not a database error.
        version: z.number().int().min(1).max(2_147_483_647),
        ...changes.shape,
      }),
    )
    .mutation(({ ctx, input }) =>
      updateApplication(ctx.db, {
        id: input.id,
        user: ctx.user,
        version: input.version,
        now: ctx.clock.now(),
        changes: toChanges(input),
        nextId: ctx.nextId,
      }),
    ),

  delete: protectedProcedure
    .use(rateLimited("applications:delete"))
    .input(sudo)
    .mutation(async ({ ctx, input }) => {
      await deleteApplication(ctx.db, sudoInput(ctx, input));
      return { ok: true as const };
    }),

  resetSecret: protectedProcedure
    .use(rateLimited("applications:reset"))
    .input(sudo)
    .mutation(async ({ ctx, input }) => {
      const reset = await resetClientSecret(ctx.db, sudoInput(ctx, input));
      return { ...reset.application, client_secret: reset.clientSecret };
    }),

  resetBotToken: protectedProcedure
    .use(rateLimited("applications:reset"))
    .input(sudo)
    .mutation(async ({ ctx, input }) => {
      const reset = await resetBotToken(ctx.db, sudoInput(ctx, input));
      return { ...reset.application, bot_token: reset.botToken };
    }),
});
