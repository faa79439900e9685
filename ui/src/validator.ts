/**
 * An rjsf validator that needs no `eval`: JSON Schema validation by @cfworker/json-schema, an
 * interpreter, so the hub page keeps a strict Content-Security-Policy (no 'unsafe-eval', which
 * ajv's code generation would need). The server validates again; this is for inline errors.
 */
import { Validator, type OutputUnit, type Schema as CfSchema, type SchemaDraft } from '@cfworker/json-schema';
import {
  createErrorHandler,
  getDefaultFormState,
  toErrorSchema,
  unwrapErrorHandler,
  validationDataMerge,
  type CustomValidator,
  type ErrorTransformer,
  type RJSFSchema,
  type RJSFValidationError,
  type UiSchema,
  type ValidationData,
  type ValidatorType,
} from '@rjsf/utils';

/** The draft a schema declares in `$schema` (2020-12 when it says nothing, as the server assumes). */
export function draftOf(schema: { $schema?: unknown } | null | undefined): SchemaDraft {
  const s = typeof schema?.$schema === 'string' ? schema.$schema : '';
  if (s.includes('draft-04')) return '4';
  if (s.includes('draft-06') || s.includes('draft-07')) return '7';
  if (s.includes('2019-09')) return '2019-09';
  return '2020-12';
}

/** Keywords whose failure only says that something below them failed: the leaf errors say it better. */
const STRUCTURAL = new Set([
  'properties',
  'patternProperties',
  'items',
  'prefixItems',
  'additionalItems',
  'allOf',
  '$ref',
  '$recursiveRef',
  '$dynamicRef',
  'if',
  'then',
  'else',
  'dependentSchemas',
  'dependencies',
]);

function unescapePointer(segment: string): string {
  return decodeURIComponent(segment).replace(/~1/g, '/').replace(/~0/g, '~');
}

/** `#/a/0/b` → `['a', '0', 'b']` */
export function pointerSegments(pointer: string): string[] {
  return pointer
    .replace(/^#/, '')
    .split('/')
    .filter((s, i) => i > 0 || s !== '')
    .map(unescapePointer);
}

/** The value at a JSON pointer (`#/properties/x/maximum`) of `root`, or undefined. */
export function atPointer(root: unknown, pointer: string): unknown {
  let node: unknown = root;
  for (const seg of pointerSegments(pointer)) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[seg];
  }
  return node;
}

/** Whether an error lies inside one branch of an anyOf/oneOf/not (the combinator's own error is enough). */
function insideAlternative(keywordLocation: string): boolean {
  return /\/(anyOf|oneOf)\/\d+\//.test(keywordLocation) || /\/not\//.test(keywordLocation) || /\/contains\//.test(keywordLocation);
}

/** The errors that say what is wrong, one per problem. */
export function leafErrors(errors: OutputUnit[]): OutputUnit[] {
  const seen = new Set<string>();
  return errors.filter((e) => {
    if (STRUCTURAL.has(e.keyword) || insideAlternative(e.keywordLocation)) return false;
    const key = `${e.keywordLocation}|${e.instanceLocation}|${e.error}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

const QUOTED = /"((?:[^"\\]|\\.)*)"/;

/** An rjsf validation error (the shape ajv's adapter produces: name, params, property `.a.0.b`). */
export function toRjsfError(e: OutputUnit, schema: unknown): RJSFValidationError {
  const keywordValue = atPointer(schema, e.keywordLocation);
  const parentPointer = e.keywordLocation.replace(/\/[^/]*$/, '');
  const parent = atPointer(schema, parentPointer) as Record<string, unknown> | undefined;
  const path = pointerSegments(e.instanceLocation);
  const params: Record<string, unknown> = {};
  let title = typeof parent?.title === 'string' ? parent.title : '';
  switch (e.keyword) {
    case 'required': {
      const quoted = QUOTED.exec(e.error);
      const missing = quoted ? JSON.parse(`"${quoted[1]}"`) : undefined;
      if (missing !== undefined) {
        params.missingProperty = missing;
        path.push(missing);
        const props = parent?.properties as Record<string, { title?: unknown }> | undefined;
        title = typeof props?.[missing]?.title === 'string' ? (props[missing].title as string) : missing;
      }
      break;
    }
    case 'enum':
      params.allowedValues = keywordValue;
      break;
    case 'const':
      params.allowedValue = keywordValue;
      break;
    case 'type':
      params.type = keywordValue;
      break;
    case 'format':
      params.format = keywordValue;
      break;
    case 'multipleOf':
      params.multipleOf = keywordValue;
      break;
    case 'additionalProperties': {
      const quoted = QUOTED.exec(e.error);
      if (quoted) params.additionalProperty = JSON.parse(`"${quoted[1]}"`);
      break;
    }
    default:
      if (typeof keywordValue === 'number') params.limit = keywordValue;
  }
  const property = path.length ? `.${path.join('.')}` : '';
  const message = e.error.replace(/\.$/, '');
  return {
    name: e.keyword,
    property,
    message,
    params,
    stack: `${title || property || 'Value'}: ${message}`,
    schemaPath: e.keywordLocation,
    title,
  };
}

/** A schema that can resolve the `$ref`s of the root schema it was taken from. */
function withRootDefinitions(schema: RJSFSchema, root: RJSFSchema | undefined): RJSFSchema {
  if (!root || root === schema) return schema;
  const out: RJSFSchema = { ...schema };
  if (root.definitions && !out.definitions) out.definitions = root.definitions;
  if ((root as { $defs?: unknown }).$defs && !(out as { $defs?: unknown }).$defs) (out as { $defs?: unknown }).$defs = (root as { $defs?: unknown }).$defs;
  return out;
}

export class InterpretingValidator implements ValidatorType<unknown, RJSFSchema> {
  private cache = new WeakMap<object, Validator>();
  private quick = new WeakMap<object, WeakMap<object, Validator>>();

  constructor(private readonly draft: SchemaDraft = '2020-12') {}

  private validatorFor(schema: RJSFSchema, shortCircuit = false): Validator {
    const cached = shortCircuit ? undefined : this.cache.get(schema);
    if (cached) return cached;
    const v = new Validator(schema as CfSchema, this.draft, shortCircuit);
    if (!shortCircuit) this.cache.set(schema, v);
    return v;
  }

  rawValidation<Result = OutputUnit>(schema: RJSFSchema, formData?: unknown): { errors?: Result[]; validationError?: Error } {
    try {
      const result = this.validatorFor(schema).validate(formData === undefined ? {} : formData);
      return { errors: result.valid ? undefined : (leafErrors(result.errors) as Result[]) };
    } catch (e) {
      return { validationError: e instanceof Error ? e : new Error(String(e)) };
    }
  }

  validateFormData(
    formData: unknown,
    schema: RJSFSchema,
    customValidate?: CustomValidator<unknown, RJSFSchema>,
    transformErrors?: ErrorTransformer<unknown, RJSFSchema>,
    uiSchema?: UiSchema<unknown, RJSFSchema>,
  ): ValidationData<unknown> {
    const raw = this.rawValidation<OutputUnit>(schema, formData);
    let errors: RJSFValidationError[] = (raw.errors ?? []).map((e) => toRjsfError(e, schema));
    if (raw.validationError) errors.push({ stack: `The settings form is invalid: ${raw.validationError.message}` });
    if (typeof transformErrors === 'function') errors = transformErrors(errors, uiSchema);
    const errorSchema = toErrorSchema<unknown>(errors);
    if (typeof customValidate !== 'function') return { errors, errorSchema };
    const full = getDefaultFormState(this, schema, formData, schema, true);
    const handler = customValidate(full, createErrorHandler(full), uiSchema, errorSchema);
    return validationDataMerge({ errors, errorSchema }, unwrapErrorHandler(handler));
  }

  isValid(schema: RJSFSchema, formData: unknown, rootSchema: RJSFSchema): boolean {
    try {
      let byRoot = this.quick.get(schema);
      if (!byRoot) this.quick.set(schema, (byRoot = new WeakMap()));
      const root = rootSchema ?? schema;
      let v = byRoot.get(root);
      if (!v) byRoot.set(root, (v = this.validatorFor(withRootDefinitions(schema, root), true)));
      return v.validate(formData).valid;
    } catch {
      return false;
    }
  }

  reset(): void {
    this.cache = new WeakMap();
    this.quick = new WeakMap();
  }
}
