// The server's HTTP API, with the token kept in localStorage. Errors carry the server's message and, for
// script errors ("error @line:column: ..."), the position.

const TokenKey = "influxlike.token";

export class ApiError extends Error {
  constructor(message: string, readonly status: number, readonly line?: number, readonly column?: number) {
    super(message);
  }
}

export function token(): string {
  return localStorage.getItem(TokenKey) ?? "";
}

export function setToken(value: string | null): void {
  if (value) localStorage.setItem(TokenKey, value);
  else localStorage.removeItem(TokenKey);
}

const positioned = /^error @(\d+):(\d+): /;

async function fail(response: Response): Promise<never> {
  const text = await response.text();
  let message = text || response.statusText;
  try {
    const body = JSON.parse(text) as { message?: string };
    if (body.message) message = body.message;
  } catch {
    // not JSON: the text as it is
  }
  const m = positioned.exec(message);
  throw new ApiError(message, response.status, m ? Number(m[1]) : undefined, m ? Number(m[2]) : undefined);
}

async function send(method: string, path: string, body?: unknown, auth = true): Promise<Response> {
  // Signed out: a page's work still under way (a query, the next list of a builder step) stops here rather than
  // sending a request the server can only refuse (401, and an error in the browser's console).
  if (auth && !token()) throw new ApiError("signed out", 401);
  const headers: Record<string, string> = {};
  if (auth) headers.Authorization = "Token " + token();
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!response.ok) await fail(response);
  return response;
}

/** A JSON call; 204 answers undefined. */
export async function api<T>(method: string, path: string, body?: unknown, auth = true): Promise<T> {
  const response = await send(method, path, body, auth);
  return response.status === 204 ? (undefined as T) : ((await response.json()) as T);
}

/** Runs a script; the answer is annotated CSV. */
export async function query(script: string, org: string): Promise<string> {
  const response = await send("POST", "/api/v2/query?orgID=" + encodeURIComponent(org), {
    query: script,
    type: "flux",
    dialect: { header: true, annotations: ["datatype", "group", "default"], delimiter: ",", dateTimeFormat: "RFC3339" },
  });
  return response.text();
}

export interface Org { id: string; name: string }
export interface RetentionRule { type: string; everySeconds: number }
export interface Bucket { id: string; orgID: string; name: string; description?: string; retentionRules: RetentionRule[]; type: string }
export interface PermissionResource { type: string; id?: string; orgID?: string; name?: string }
export interface Permission { action: "read" | "write"; resource: PermissionResource }
export interface Authorization { id: string; token?: string; status: string; description?: string; orgID: string; permissions: Permission[]; createdAt: string }
export interface TimeRangeSpec { start: string; stop: string | null }
export interface Variable { name: string; query: string; selected: string | null }
export interface Cell { id: string; name: string; x: number; y: number; w: number; h: number; query: string; viz: string }
export interface Dashboard {
  id: string; orgID: string; name: string; description?: string | null;
  timeRange: TimeRangeSpec; refresh: string; variables: Variable[]; cells: Cell[]; createdAt?: string; updatedAt?: string;
}
export interface FunctionParam { name: string; type: string; required: boolean }
export interface FunctionSuggestion { name: string; package: string; params: FunctionParam[] }
