/** Form parameters after the HTTP edge: each name at most once, empty values already dropped. */
export type Params = ReadonlyMap<string, string>;
