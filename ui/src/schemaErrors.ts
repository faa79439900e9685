/** Sentences for the JSON Schema (ajv) errors of the dynamic-variables form. */

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
  if (examples.length) return `Use the expected form, like ${list(examples.slice(0, 2))}.`;
  if (typeof field?.description === 'string' && field.description.trim()) return `Use the expected form: ${field.description.trim().replace(/\.$/, '')}.`;
  return typeof pattern === 'string' && pattern ? `Use the expected form (matching the pattern ${pattern}).` : 'Use the expected form.';
}

/** One sentence for one error, or null to keep the library's message. `field`: the error's
 * subschema, when known (for its `examples` and `description`). */
export function humaniseSchemaError(error: SchemaError, field?: Record<string, unknown>): string | null {
  const p = error.params ?? {};
  switch (error.name) {
    case 'required':
      return 'This field is required.';
    case 'enum':
      return Array.isArray(p.allowedValues) ? `Choose one of ${list(p.allowedValues)}.` : 'Choose one of the options.';
    case 'const':
      return `Must be ${JSON.stringify(p.allowedValue)}.`;
    case 'type': {
      const t = Array.isArray(p.type) ? p.type : String(p.type ?? '').split(',');
      return `Must be ${list(t.map((x: string) => TYPES[x] ?? x))}.`;
    }
    case 'minimum':
      return `Must be ${p.limit} or more.`;
    case 'maximum':
      return `Must be ${p.limit} or less.`;
    case 'exclusiveMinimum':
      return `Must be more than ${p.limit}.`;
    case 'exclusiveMaximum':
      return `Must be less than ${p.limit}.`;
    case 'multipleOf':
      return `Must be a multiple of ${p.multipleOf}.`;
    case 'minLength':
      return Number(p.limit) === 1 ? 'This field cannot be empty.' : `Must be at least ${plural(Number(p.limit), 'character')} long.`;
    case 'maxLength':
      return `Must be at most ${plural(Number(p.limit), 'character')} long.`;
    case 'pattern':
      return patternMessage(p.pattern, field);
    case 'format':
      return FORMATS[String(p.format)] ? `Enter ${FORMATS[String(p.format)]}.` : `Must be a valid ${p.format}.`;
    case 'minItems':
      return `Add at least ${plural(Number(p.limit), 'item')}.`;
    case 'maxItems':
      return `Add at most ${plural(Number(p.limit), 'item')}.`;
    case 'uniqueItems':
      return 'Every item must be different.';
    case 'additionalProperties':
      return `Unknown setting “${p.additionalProperty}”.`;
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
