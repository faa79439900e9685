/** Variables as a list of labelled values, for the review and the manage view. */
import { t } from './messages';
import { humaniseName } from './credentials';

export interface SummaryRow {
  /** `Notifications › Email` */
  label: string;
  value: string;
  /** The value's path, `notify.email`. */
  path: string;
}

type Schema = { title?: unknown; properties?: Record<string, Schema>; items?: Schema; enum?: unknown[]; enumNames?: unknown[]; oneOf?: { const?: unknown; title?: string }[] };

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function labelOf(key: string, schema: Schema | undefined): string {
  return typeof schema?.title === 'string' && schema.title ? schema.title : capitalise(humaniseName(key));
}

/** One value as text: `Yes`/`No`, lists joined with commas, `—` for nothing. */
export function formatValue(v: unknown, schemaIn?: unknown): string {
  const schema = schemaIn as Schema | undefined;
  if (v === undefined || v === null || v === '') return '—';
  if (typeof v === 'boolean') return v ? t('value.yes') : t('value.no');
  const titled = schema?.oneOf?.find((o) => o.const === v && typeof o.title === 'string');
  if (titled) return titled.title as string;
  const at = schema?.enum?.indexOf(v) ?? -1;
  const named = at >= 0 ? schema?.enumNames?.[at] : undefined;
  if (typeof named === 'string') return named;
  if (Array.isArray(v)) {
    if (v.length === 0) return '—';
    if (v.every((x) => x === null || typeof x !== 'object')) return v.map((x) => formatValue(x, schema?.items)).join(', ');
    return JSON.stringify(v);
  }
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** Rows for `values`: the schema's properties first (in its order, nested objects flattened), then any others. */
export function summariseVariables(values: Record<string, unknown> | null | undefined, schemaIn?: unknown, prefix = '', pathPrefix = ''): SummaryRow[] {
  const schema = schemaIn as Schema | null | undefined;
  const rows: SummaryRow[] = [];
  if (!values) return rows;
  const props = schema?.properties ?? {};
  const keys = [...Object.keys(props).filter((k) => k in values), ...Object.keys(values).filter((k) => !(k in props))];
  for (const key of keys) {
    const v = values[key];
    const sub = props[key];
    const label = prefix ? `${prefix} › ${labelOf(key, sub)}` : labelOf(key, sub);
    const path = pathPrefix ? `${pathPrefix}.${key}` : key;
    if (isPlainObject(v) && Object.keys(v).length > 0) rows.push(...summariseVariables(v, sub, label, path));
    else rows.push({ label, value: formatValue(v, sub), path });
  }
  return rows;
}

/** Whether a variables schema asks anything of the user (an empty object schema does not). */
export function hasSettings(schema: unknown): schema is Record<string, unknown> {
  if (!schema || typeof schema !== 'object' || Array.isArray(schema)) return false;
  const s = schema as Record<string, unknown>;
  const props = s.properties;
  if (props && typeof props === 'object' && Object.keys(props).length > 0) return true;
  for (const k of ['allOf', 'anyOf', 'oneOf', '$ref', 'if', 'additionalProperties', 'patternProperties', 'items', 'enum', 'const']) {
    if (k in s && s[k] !== false) return true;
  }
  const type = s.type;
  return type !== undefined && type !== 'object' && !(Array.isArray(type) && type.every((t) => t === 'object' || t === 'null'));
}
