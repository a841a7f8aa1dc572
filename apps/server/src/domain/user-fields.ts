import { z } from "zod";

/** The longest login (username or email) a sign-in form accepts; an email is at most 254 characters. */
export const MAX_LOGIN_LENGTH = 254;
/** The longest password accepted anywhere (registration, sign-in, sudo). */
export const MAX_PASSWORD_LENGTH = 256;

export const usernameSchema = z
  .string()
  .trim()
  .min(2, "Username must be 2–32 characters")
  .max(32, "Username must be 2–32 characters")
  .regex(/^[A-Za-z0-9_.]+$/, "Username may contain letters, digits, '_' and '.'");
export const emailSchema = z.email("Invalid email address").max(MAX_LOGIN_LENGTH);
export const passwordSchema = z
  .string()
  .min(8, "Password must be at least 8 characters")
  .max(MAX_PASSWORD_LENGTH, `Password must be at most ${MAX_PASSWORD_LENGTH} characters`);
