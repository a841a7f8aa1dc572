/**
 * Public stand-in for the server's tRPC request context (trpc/context.ts in the server).
 * The router type names its context, but a client never sees it; the real one pulls in the
 * database, the logger and Bun's types, which have no place in a published client.
 */
export type Context = object;
