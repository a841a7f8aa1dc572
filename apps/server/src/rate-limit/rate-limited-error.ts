import { ApiError } from "../domain/errors.ts";

/** RATE_LIMITED (429) with how long to wait; the edges turn it into `retry_after` / `Retry-After`. */
export class RateLimitedError extends ApiError {
  constructor(readonly retryAfterSeconds: number) {
    super("RATE_LIMITED", "You are being rate limited.");
    this.name = "RateLimitedError";
  }
}
