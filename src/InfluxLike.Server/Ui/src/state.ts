// What every page shares: the organisation, the bucket list, the schema cache used by the explorer and the
// editor's completion, and running a script with the time range and variables in front of it.

import { api, ApiError, query, type Bucket, type Org, type TimeRangeSpec } from "./api";
import { parseCsv } from "./csv";
import type { SchemaSource } from "./editor";
import { fluxString, withPrelude } from "./time";

export const state = {
  org: null as Org | null,
  buckets: [] as Bucket[],
};

export async function loadBuckets(): Promise<Bucket[]> {
  const body = await api<{ buckets: Bucket[] }>("GET", "/api/v2/buckets?orgID=" + encodeURIComponent(state.org!.id) + "&limit=1000");
  state.buckets = body.buckets.sort((a, b) => a.name.localeCompare(b.name));
  return state.buckets;
}

/** The _value column of every table of a script's result, de-duplicated in order (schema and variable queries). */
export async function values(script: string): Promise<string[]> {
  const parsed = parseCsv(await query(script, state.org!.id));
  if (parsed.error) throw new ApiError(parsed.error, 200);
  const seen = new Set<string>();
  for (const t of parsed.tables) for (const v of t.columns.find((c) => c.name === "_value")?.values ?? []) seen.add(v);
  return [...seen];
}

const cache = new Map<string, Promise<string[]>>();

function cached(key: string, script: string): Promise<string[]> {
  let p = cache.get(key);
  if (!p) {
    p = values(script).catch((e) => { cache.delete(key); throw e; });
    cache.set(key, p);
  }
  return p;
}

const schemaImport = 'import "influxdata/influxdb/schema"\n';
// Schema queries look back 30 days by default; a year finds series that stopped writing a while ago too.
const lookBack = "start: -365d";

export const schema = {
  measurements: (bucket: string) => cached(`m|${bucket}`, `${schemaImport}schema.measurements(bucket: ${fluxString(bucket)}, ${lookBack})`),
  fields: (bucket: string, measurement?: string) => measurement
    ? cached(`f|${bucket}|${measurement}`, `${schemaImport}schema.measurementFieldKeys(bucket: ${fluxString(bucket)}, measurement: ${fluxString(measurement)}, ${lookBack})`)
    : cached(`f|${bucket}`, `${schemaImport}schema.fieldKeys(bucket: ${fluxString(bucket)}, ${lookBack})`),
  tagKeys: (bucket: string, measurement?: string) => (measurement
    ? cached(`t|${bucket}|${measurement}`, `${schemaImport}schema.measurementTagKeys(bucket: ${fluxString(bucket)}, measurement: ${fluxString(measurement)}, ${lookBack})`)
    : cached(`t|${bucket}`, `${schemaImport}schema.tagKeys(bucket: ${fluxString(bucket)}, ${lookBack})`))
    .then((keys) => keys.filter((k) => !k.startsWith("_"))),
  tagValues: (bucket: string, measurement: string, tag: string) =>
    cached(`v|${bucket}|${measurement}|${tag}`, `${schemaImport}schema.measurementTagValues(bucket: ${fluxString(bucket)}, measurement: ${fluxString(measurement)}, tag: ${fluxString(tag)}, ${lookBack})`),
  clear: () => cache.clear(),
};

export function schemaSource(variables: () => string[] = () => []): SchemaSource {
  const safe = (p: Promise<string[]>) => p.catch(() => [] as string[]);
  return {
    buckets: () => state.buckets.map((b) => b.name),
    measurements: (b) => safe(schema.measurements(b)),
    fields: (b) => safe(schema.fields(b)),
    tagKeys: (b) => safe(schema.tagKeys(b)),
    variables,
  };
}

/** Runs a script with v = {time range, variables} before it; errors come back with lines of the user's script. */
export async function runScript(script: string, range: TimeRangeSpec, variables: Record<string, string> = {}): Promise<string> {
  const prepared = withPrelude(script, range, variables);
  try {
    return await query(prepared.script, state.org!.id);
  } catch (e) {
    if (e instanceof ApiError && e.line !== undefined) {
      const line = e.line > prepared.insertedAt ? e.line - 1 : e.line;
      const text = e.message.replace(/^error @\d+:\d+: /, `error @${line}:${e.column}: `);
      throw new ApiError(text, e.status, line, e.column);
    }
    throw e;
  }
}
