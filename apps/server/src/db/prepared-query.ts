import { type Compilable, type CompiledQuery, createQueryId } from "kysely";
import { type Db, directExecutorOf } from "./database.ts";

const SLOT = "\u0000prepared-parameter:";

type Param<Params> = <Name extends keyof Params & string>(name: Name) => Params[Name];

/**
 * A typed Kysely query that is built and compiled once per database handle; each call only supplies
 * its parameter values. The token endpoint's reads and writes are many-join selects and CTE writes:
 * building and compiling them on every request cost more CPU than everything else the server does for
 * the request (profile: Object.freeze, visitNode, the compiler), while the SQL text never changes.
 *
 * `build` receives `param(name)`, which stands for the value of `params[name]` at each call; a typed
 * builder is written exactly as usual, so a renamed column still fails `tsc`. A parameter stands for
 * one value (`=`, `eb.val`, `set`), never a list to expand (`in`). Declare the query at module level
 * (`const findX = preparedQuery<{ id: string }>()((db, param) => …)`): `build` runs once, so any value
 * it captured instead of asking `param` for would be frozen for every later call.
 *
 * A handle with Kysely plugins gets the ordinary path, built from the call's values: a plugin
 * transforms each query as it is built and sees its result under that query's id.
 */
export function preparedQuery<Params extends Record<string, unknown>>() {
  return <Row>(build: (db: Db, param: Param<Params>) => Compilable<Row>) => compiledOnce(build);
}

interface Template<Row> {
  compiled: CompiledQuery<Row>;
  slots: ({ name: string } | { fixed: unknown })[];
}

function compiledOnce<Params extends Record<string, unknown>, Row>(
  build: (db: Db, param: Param<Params>) => Compilable<Row>,
): (db: Db, params: Params) => Promise<Row[]> {
  const templates = new WeakMap<Db, Template<Row> | "plugins">();
  return async (db, params) => {
    let template = templates.get(db);
    if (template === undefined) {
      template = db.getExecutor().plugins.length > 0 ? "plugins" : compileTemplate(db, build);
      templates.set(db, template);
    }
    if (template === "plugins") return (await db.executeQuery(build(db, (name) => params[name]))).rows;
    const parameters = template.slots.map((slot) => ("name" in slot ? params[slot.name] : slot.fixed));
    const query = { ...template.compiled, parameters, queryId: createQueryId() };
    const direct = directExecutorOf(db);
    if (direct) return (await direct(query)) as Row[];
    return (await db.executeQuery<Row>(query)).rows;
  };
}

function compileTemplate<Params, Row>(
  db: Db,
  build: (db: Db, param: Param<Params>) => Compilable<Row>,
): Template<Row> {
  const compiled = build(db, (name) => `${SLOT}${name}` as never).compile();
  const slots = compiled.parameters.map((value) =>
    typeof value === "string" && value.startsWith(SLOT)
      ? { name: value.slice(SLOT.length) }
      : { fixed: value },
  );
  return { compiled, slots };
}
