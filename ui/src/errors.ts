/** The API's error shape, and how its `fields` map onto the page's forms. */
import { t } from './messages';

export interface FieldErrorBody {
  field: string;
  message: string;
}

export interface ApiErrorBody {
  code: string;
  message: string;
  fields?: FieldErrorBody[];
  details?: string | null;
}

/** A path segment: a property name or an array index. */
export type PathSegment = string | number;

/** Splits `a.b[0].c` into `['a', 'b', 0, 'c']`. */
export function splitPath(path: string): PathSegment[] {
  const out: PathSegment[] = [];
  const re = /([^.[\]]+)|\[(\d+)\]/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(path)) !== null) {
    if (m[1] !== undefined) out.push(m[1]);
    else out.push(Number(m[2]));
  }
  return out;
}

/** Keys of the fields of a connection form (one step of the wizard). */
export type ConnectionFieldKey =
  | 'form' // the connection as a whole (no better place)
  | 'existing' // the choice of an existing connection
  | 'name'
  | 'apiKey'
  | 'username'
  | 'password'
  | 'certificate'
  | 'key'
  | 'ca'
  | 'clientId'
  | 'clientSecret'
  | 'oauth'
  | `variable:${string}`;

const DATA_FIELD_KEYS: Record<string, ConnectionFieldKey> = {
  value: 'apiKey',
  username: 'username',
  password: 'password',
  certificate: 'certificate',
  key: 'key',
  ca: 'ca',
  clientId: 'clientId',
  clientSecret: 'clientSecret',
  code: 'oauth',
  state: 'oauth',
};

/** The keys of v2's wrapped credential data. */
const V2_DATA_KEYS = new Set(['none', 'string', 'binary', 'basicAuth', 'oauth2Client', 'oauth2Code', 'oauth2Password', 'oauth2Token', 'certificate', 'oauth1', 'oauth1Token']);

/**
 * Maps the path of an error inside one connection entry (what follows `connections[i].`, or the
 * whole path for the replace-connection endpoint) to the field of the connection form. Knows v1's
 * paths (`credentials.action[0].credential.data.value`) and v2's
 * (`connection.credentials[0].credential.data.value`, `existingConnectionId`).
 * `variableNames` are the template's connection variables, in order, so `variables[j]` can be named.
 */
export function mapConnectionField(rest: string, variableNames: string[] = []): ConnectionFieldKey {
  const seg = splitPath(rest);
  const [head] = seg;
  if (head === undefined) return 'form';
  // Platform API v2: `connections[i].connection.<the new connection's fields>`, `existingConnectionId`.
  if (head === 'connection') return seg.length > 1 ? mapConnectionField(rest.replace(/^connection\.?/, ''), variableNames) : 'form';
  if (head === 'connectionId' || head === 'existingConnectionId') return 'existing';
  if (head === 'name') return 'name';
  if (head === 'variables') {
    const idx = seg[1];
    if (typeof idx === 'number' && idx < variableNames.length) return `variable:${variableNames[idx]}`;
    if (typeof idx === 'string') return `variable:${idx}`;
    return 'form';
  }
  if (head === 'credentials') {
    const dataAt = seg.indexOf('data');
    if (dataAt >= 0) {
      let field = seg[dataAt + 1];
      // v2 wraps the data in a key named by the type: `data.string.value`, `data.certificate.key`.
      const inner = seg[dataAt + 2];
      if (typeof field === 'string' && V2_DATA_KEYS.has(field) && typeof inner === 'string') field = inner;
      if (typeof field === 'string' && DATA_FIELD_KEYS[field]) return DATA_FIELD_KEYS[field];
    }
    return 'form';
  }
  return 'form';
}

/** Errors of a connection form, by field, messages in order. */
export type ConnectionErrors = Partial<Record<ConnectionFieldKey, string[]>>;

/** When the page does not ask for a connection's name (v2 mode names connections itself), errors
 * about the name are shown for the form as a whole. Changes `errors` in place and returns it. */
export function moveNameErrors(errors: ConnectionErrors): ConnectionErrors {
  if (errors.name?.length) {
    errors.form = [...(errors.form ?? []), ...errors.name];
    delete errors.name;
  }
  return errors;
}

/** An rjsf `ErrorSchema`: nested by property, `__errors` at each level. */
export interface ErrorSchemaNode {
  __errors?: string[];
  [key: string]: ErrorSchemaNode | string[] | undefined;
}

/** Adds `message` at `path` (property names and indices) of an rjsf error schema. */
export function addToErrorSchema(schema: ErrorSchemaNode, path: PathSegment[], message: string): ErrorSchemaNode {
  let node = schema;
  for (const seg of path) {
    const key = String(seg);
    const next = node[key];
    if (!next || Array.isArray(next)) {
      const created: ErrorSchemaNode = {};
      node[key] = created;
      node = created;
    } else {
      node = next;
    }
  }
  node.__errors = [...(node.__errors ?? []), message];
  return schema;
}

export interface MappedErrors {
  /** Errors of connection entry i (wizard step i), by form field. */
  connections: Record<number, ConnectionErrors>;
  /** Errors for the dynamic-variables form, as an rjsf error schema (null when none). */
  variables: ErrorSchemaNode | null;
  /** Field errors that belong to no form (shown with the overall message). */
  other: FieldErrorBody[];
}

/** Turns a message such as `is required for a basic-auth credential` into a sentence for a person. */
export function humaniseMessage(message: string): string {
  const m = message.trim();
  if (!m) return t('error.invalidValue');
  const s = m.charAt(0).toUpperCase() + m.slice(1);
  return /[.!?]$/.test(s) ? s : `${s}.`;
}

/**
 * Distributes the API's `fields` over the wizard's forms:
 * `connections[i].…` → step i's connection form (see `mapConnectionField`),
 * `dynamicVariables.x.y` / `dynamicVariables.a[0].b` → the rjsf field x.y / a.0.b,
 * anything else → `other`. `variableNames[i]` lists template i's connection variables.
 */
export function mapFieldErrors(fields: FieldErrorBody[] | undefined, variableNames: string[][] = []): MappedErrors {
  const out: MappedErrors = { connections: {}, variables: null, other: [] };
  for (const f of fields ?? []) {
    const message = humaniseMessage(f.message);
    const conn = /^connections\[(\d+)\](?:\.(.*))?$/.exec(f.field);
    if (conn) {
      const i = Number(conn[1]);
      const key = mapConnectionField(conn[2] ?? '', variableNames[i] ?? []);
      const errs = (out.connections[i] ??= {});
      (errs[key] ??= []).push(message);
      continue;
    }
    const vars = /^(?:dynamicVariables|variables)(?:(?=[.[])(.*))?$/.exec(f.field);
    if (vars) {
      out.variables ??= {};
      addToErrorSchema(out.variables, splitPath(vars[1] ?? ''), message);
      continue;
    }
    out.other.push({ field: f.field, message });
  }
  return out;
}

/** Errors of one connection form, for the replace-connection endpoint (paths without `connections[i].`). */
export function mapReplaceConnectionErrors(fields: FieldErrorBody[] | undefined, variableNames: string[] = []): ConnectionErrors {
  const out: ConnectionErrors = {};
  for (const f of fields ?? []) {
    const key = mapConnectionField(f.field.replace(/^connections\[\d+\]\.?/, ''), variableNames);
    (out[key] ??= []).push(humaniseMessage(f.message));
  }
  return out;
}

/** Whether an rjsf error schema holds any message. */
export function errorSchemaIsEmpty(schema: ErrorSchemaNode | null | undefined): boolean {
  if (!schema) return true;
  for (const [k, v] of Object.entries(schema)) {
    if (k === '__errors') {
      if (Array.isArray(v) && v.length) return false;
    } else if (v && !Array.isArray(v) && !errorSchemaIsEmpty(v)) {
      return false;
    }
  }
  return true;
}

/** Removes the errors at `path` (and below) from an rjsf error schema, returning a new schema. */
export function removeFromErrorSchema(schema: ErrorSchemaNode | null, path: PathSegment[]): ErrorSchemaNode | null {
  if (!schema) return null;
  if (path.length === 0) return null;
  const [head, ...rest] = path;
  const key = String(head);
  const child = schema[key];
  if (!child || Array.isArray(child)) return schema;
  const copy: ErrorSchemaNode = { ...schema };
  const next = removeFromErrorSchema(child, rest);
  if (!next || errorSchemaIsEmpty(next)) delete copy[key];
  else copy[key] = next;
  return errorSchemaIsEmpty(copy) ? null : copy;
}

/** Drops the server's errors for the rjsf field `fieldId` (`root_x_y`) once the user changes it. */
export function clearVariableError(errors: ErrorSchemaNode | null, fieldId: string | undefined): ErrorSchemaNode | null {
  if (!errors || !fieldId) return errors;
  let out: ErrorSchemaNode | null = errors;
  const walk = (node: ErrorSchemaNode, path: string[]) => {
    for (const [k, v] of Object.entries(node)) {
      if (k !== '__errors' && v && !Array.isArray(v)) walk(v, [...path, k]);
    }
    if (path.length && node.__errors?.length && ['root', ...path].join('_') === fieldId) out = removeFromErrorSchema(out, path);
  };
  walk(errors, []);
  return out;
}
