import { expect, test } from "bun:test";
import { isTransientConflict, retryOnConflict } from "./retry.ts";

const deadlock = Object.assign(new Error("deadlock detected"), { code: "40P01" });

test("a deadlock victim is run again until it succeeds", async () => {
  let calls = 0;
  const result = await retryOnConflict(async () => {
    calls++;
    if (calls < 3) throw deadlock;
    return "done";
  });
  expect(result).toBe("done");
  expect(calls).toBe(3);
});

test("other errors, and a conflict that persists, are rethrown", async () => {
  const unique = Object.assign(new Error("duplicate key"), { code: "23505" });
  let calls = 0;
  const failWith = (error: Error) => async () => {
    calls++;
    throw error;
  };
  await expect(retryOnConflict(failWith(unique))).rejects.toBe(unique);
  expect(calls).toBe(1);
  calls = 0;
  await expect(retryOnConflict(failWith(deadlock), { attempts: 2 })).rejects.toBe(deadlock);
  expect(calls).toBe(2);
  expect(isTransientConflict({ code: "40001" })).toBe(true);
  expect(isTransientConflict(new Error("x"))).toBe(false);
});
