/** Sentences for the JSON Schema (ajv) errors of the dynamic-variables form. */
import { t } from './messages';

/** The parts of an rjsf validation error this module reads. */
export interface SchemaError {
  name?: string;
  message?: string;
  params?: Record<string, unknown>;
  property?: string;
  title?: string;
  stack: string;
}

const FORMATS: Record<string, string> = {
  email: 'an email address, like name@example.com',
  uri: 'a full web address, like https://example.com',
  url: 'a full web address, like https://example.com',
  'date-time': 'a date and time',
  date: 'a date, like 2024-01-31',
  time: 'a time, like 13:45:00',
  uuid: 'a UUID',
  ipv4: 'an IPv4 address',
  hostname: 'a host name',
};

const TYPES: Record<string, string> = {
  string: 'text',
  number: 'a number',
  integer: 'a whole number',
  boolean: 'yes or no',
  object: 'a group of settings',
  array: 'a list',
};

function list(values: unknown[]): string {
  const shown = values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
  if (shown.length <= 1) return shown.join('');
  return `${shown.slice(0, -1).join(', ')} or ${shown[shown.length - 1]}`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** The subschema (`properties` only) at an rjsf error's `property` (`.a.b`, `.items.0`). */
export function schemaAt(schema: Record<string, unknown> | undefined, property: string | undefined): Record<string, unknown> | undefined {
  let node: unknown = schema;
  for (const seg of (property ?? '').split('.').filter(Boolean)) {
    if (!node || typeof node !== 'object') return undefined;
    const n = node as Record<string, unknown>;
    if (/^\d+$/.test(seg) && n.items && typeof n.items === 'object') node = n.items;
    else node = (n.properties as Record<string, unknown> | undefined)?.[seg];
  }
  return node && typeof node === 'object' ? (node as Record<string, unknown>) : undefined;
}

/** A pattern error that says which form is expected: the field's `examples`, else its
 * `description`, else the pattern itself. */
export function patternMessage(pattern: unknown, field?: Record<string, unknown>): string {
  const examples = Array.isArray(field?.examples) ? field.examples.filter((e) => typeof e === 'string' || typeof e === 'number') : [];
  if (examples.length) return t('schema.patternExample', { examples: list(examples.slice(0, 2)) });
  if (typeof field?.description === 'string' && field.description.trim()) return t('schema.patternDescription', { description: field.description.trim().replace(/\.$/, '') });
  return typeof pattern === 'string' && pattern ? t('schema.patternPattern', { pattern }) : t('schema.pattern');
}

/** One sentence for one error, or null to keep the library's message. `field`: the error's
 * subschema, when known (for its `examples` and `description`). */
export function humaniseSchemaError(error: SchemaError, field?: Record<string, unknown>): string | null {
  const p = error.params ?? {};
  switch (error.name) {
    case 'required':
      return t('schema.required');
    case 'enum':
      return Array.isArray(p.allowedValues) ? t('schema.enum', { values: list(p.allowedValues) }) : t('schema.enumAny');
    case 'const':
      return t('schema.const', { value: JSON.stringify(p.allowedValue) });
    case 'type': {
      const types = Array.isArray(p.type) ? p.type : String(p.type ?? '').split(',');
      return t('schema.type', { types: list(types.map((x: string) => TYPES[x] ?? x)) });
    }
    case 'minimum':
      return t('schema.minimum', { limit: String(p.limit) });
    case 'maximum':
      return t('schema.maximum', { limit: String(p.limit) });
    case 'exclusiveMinimum':
      return t('schema.exclusiveMinimum', { limit: String(p.limit) });
    case 'exclusiveMaximum':
      return t('schema.exclusiveMaximum', { limit: String(p.limit) });
    case 'multipleOf':
      return t('schema.multipleOf', { value: String(p.multipleOf) });
    case 'minLength':
      return Number(p.limit) === 1 ? t('schema.notEmpty') : t('schema.minLength', { count: plural(Number(p.limit), 'character') });
    case 'maxLength':
      return t('schema.maxLength', { count: plural(Number(p.limit), 'character') });
    case 'pattern':
      return patternMessage(p.pattern, field);
    case 'format':
      return FORMATS[String(p.format)] ? t('schema.formatKnown', { format: FORMATS[String(p.format)] }) : t('schema.format', { format: String(p.format) });
    case 'minItems':
      return t('schema.minItems', { count: plural(Number(p.limit), 'item') });
    case 'maxItems':
      return t('schema.maxItems', { count: plural(Number(p.limit), 'item') });
    case 'uniqueItems':
      return t('schema.uniqueItems');
    case 'additionalProperties':
      return t('schema.additionalProperties', { name: String(p.additionalProperty) });
    default:
      return null;
  }
}

/** rjsf's `transformErrors`: replaces messages (and stacks) with sentences. */
export function transformSchemaErrors<E extends SchemaError>(errors: E[], schema?: Record<string, unknown>): E[] {
  return errors.map((e) => {
    const message = humaniseSchemaError(e, schema ? schemaAt(schema, e.property) : undefined);
    if (!message) return e;
    const where = e.title || e.property || '';
    return { ...e, message, stack: where ? `${where}: ${message}` : message };
  });
}

/** rjsf labels array items `Pipelines-1` (field id `root_pipelines_0`); this says `Pipelines 1`. */
export function itemLabel(label: string, id: string): string {
  const m = /^(.*)-(\d+)$/.exec(label);
  return m && /_\d+$/.test(id) ? `${m[1]} ${m[2]}` : label;
}
