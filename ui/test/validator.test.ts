import { describe, expect, test } from 'vitest';
import { transformSchemaErrors } from '../src/schemaErrors';
import { atPointer, draftOf, InterpretingValidator, leafErrors, pointerSegments } from '../src/validator';
import type { RJSFSchema } from '@rjsf/utils';

const schema: RJSFSchema = {
  type: 'object',
  required: ['region'],
  properties: {
    region: { type: 'string', title: 'Region', enum: ['eu', 'us', 'apac'] },
    batchSize: { type: 'integer', title: 'Batch size', minimum: 1, maximum: 500, default: 50 },
    notify: {
      type: 'object',
      title: 'Notifications',
      required: ['email'],
      properties: { enabled: { type: 'boolean', default: true }, email: { type: 'string', title: 'Email', format: 'email' } },
    },
    pipelines: { type: 'array', items: { type: 'string', minLength: 2 } },
    owner: { $ref: '#/$defs/person' },
  },
  $defs: { person: { type: 'object', required: ['name'], properties: { name: { type: 'string', title: 'Name' } } } },
};

describe('InterpretingValidator', () => {
  const v = new InterpretingValidator('2020-12');

  test('valid data has no errors', () => {
    const r = v.validateFormData({ region: 'eu', batchSize: 10, notify: { email: 'a@b.co' }, pipelines: ['ab'], owner: { name: 'x' } }, schema);
    expect(r.errors).toEqual([]);
    expect(r.errorSchema).toEqual({});
  });

  test('each violation lands on its field, with the keyword and its parameters', () => {
    const r = v.validateFormData({ region: 'xx', batchSize: 1000, notify: { email: 'nope' }, pipelines: ['a', 3], owner: {} }, schema);
    const byProperty = Object.fromEntries(r.errors.map((e) => [e.property, [e.name, e.params]]));
    expect(byProperty).toEqual({
      '.region': ['enum', { allowedValues: ['eu', 'us', 'apac'] }],
      '.batchSize': ['maximum', { limit: 500 }],
      '.notify.email': ['format', { format: 'email' }],
      '.pipelines.0': ['minLength', { limit: 2 }],
      '.pipelines.1': ['type', { type: 'string' }],
      '.owner.name': ['required', { missingProperty: 'name' }],
    });
    expect(r.errorSchema).toMatchObject({
      batchSize: { __errors: ['1000 is greater than 500'] },
      notify: { email: { __errors: [expect.stringContaining('email')] } },
      pipelines: { 0: { __errors: [expect.any(String)] }, 1: { __errors: [expect.any(String)] } },
    });
  });

  test('a missing required property is reported on that property, with its title', () => {
    const r = v.validateFormData({ notify: {} }, schema);
    expect(r.errors.map((e) => [e.property, e.name, e.title])).toEqual([
      ['.region', 'required', 'Region'],
      ['.notify.email', 'required', 'Email'],
    ]);
  });

  test('transformErrors is applied before the error schema is built', () => {
    const r = v.validateFormData({ region: 'eu', batchSize: 0 }, schema, undefined, (errors) => transformSchemaErrors(errors));
    expect(r.errorSchema).toEqual({ batchSize: { __errors: ['Must be 1 or more.'] } });
  });

  test('isValid resolves $refs against the root schema (rjsf uses it for oneOf/if)', () => {
    const sub = { $ref: '#/$defs/person' } as RJSFSchema;
    expect(v.isValid(sub, { name: 'Ann' }, schema)).toBe(true);
    expect(v.isValid(sub, {}, schema)).toBe(false);
    expect(v.isValid({ type: 'string' }, 3, schema)).toBe(false);
  });

  test('oneOf reports the combinator, not every branch', () => {
    const s: RJSFSchema = { type: 'object', properties: { x: { oneOf: [{ type: 'string' }, { type: 'integer' }] } } };
    const r = v.validateFormData({ x: 1.5 }, s);
    expect(r.errors.map((e) => [e.property, e.name])).toEqual([['.x', 'oneOf']]);
  });

  test('draft-07 schemas validate too', () => {
    const s: RJSFSchema = { type: 'object', properties: { n: { type: 'number', exclusiveMaximum: 5 } } };
    const r = new InterpretingValidator(draftOf({ $schema: 'http://json-schema.org/draft-07/schema#' })).validateFormData({ n: 5 }, s);
    expect(r.errors.map((e) => [e.property, e.name, e.params])).toEqual([['.n', 'exclusiveMaximum', { limit: 5 }]]);
  });
});

test('draftOf', () => {
  expect(draftOf({})).toBe('2020-12');
  expect(draftOf({ $schema: 'https://json-schema.org/draft/2020-12/schema' })).toBe('2020-12');
  expect(draftOf({ $schema: 'https://json-schema.org/draft/2019-09/schema' })).toBe('2019-09');
  expect(draftOf({ $schema: 'http://json-schema.org/draft-07/schema#' })).toBe('7');
  expect(draftOf({ $schema: 'http://json-schema.org/draft-04/schema#' })).toBe('4');
  expect(draftOf(null)).toBe('2020-12');
});

test('pointers', () => {
  expect(pointerSegments('#/properties/a~1b/items/0')).toEqual(['properties', 'a/b', 'items', '0']);
  expect(pointerSegments('#')).toEqual([]);
  expect(atPointer({ a: [{ b: 5 }] }, '#/a/0/b')).toBe(5);
  expect(atPointer({ a: 1 }, '#/a/b')).toBeUndefined();
});

test('leafErrors drops structural and duplicate errors', () => {
  const e = (keyword: string, keywordLocation: string, instanceLocation = '#', error = 'x') => ({ keyword, keywordLocation, instanceLocation, error });
  expect(
    leafErrors([e('properties', '#/properties'), e('maximum', '#/properties/a/maximum', '#/a'), e('maximum', '#/properties/a/maximum', '#/a'), e('type', '#/oneOf/0/type')]),
  ).toEqual([e('maximum', '#/properties/a/maximum', '#/a')]);
});
