import { describe, expect, test } from 'vitest';
import { humaniseSchemaError, itemLabel, transformSchemaErrors } from '../src/schemaErrors';

describe('humaniseSchemaError', () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ['required', { missingProperty: 'region' }, 'This field is required.'],
    ['enum', { allowedValues: ['eu', 'us', 'apac'] }, 'Choose one of eu, us or apac.'],
    ['type', { type: 'integer' }, 'Must be a whole number.'],
    ['type', { type: ['string', 'null'] }, 'Must be text or null.'],
    ['minimum', { limit: 1 }, 'Must be 1 or more.'],
    ['maximum', { limit: 500 }, 'Must be 500 or less.'],
    ['minLength', { limit: 1 }, 'This field cannot be empty.'],
    ['minLength', { limit: 3 }, 'Must be at least 3 characters long.'],
    ['format', { format: 'email' }, 'Enter an email address, like name@example.com.'],
    ['format', { format: 'ipv6' }, 'Must be a valid ipv6.'],
    ['minItems', { limit: 1 }, 'Add at least 1 item.'],
    ['maxItems', { limit: 2 }, 'Add at most 2 items.'],
  ];
  test.each(cases)('%s %j', (name, params, expected) => {
    expect(humaniseSchemaError({ name, params, stack: '' })).toBe(expected);
  });
  test('keeps unknown keywords as they are', () => {
    expect(humaniseSchemaError({ name: 'if', params: {}, stack: '' })).toBeNull();
  });
});

test('transformSchemaErrors rewrites message and stack, and leaves the rest', () => {
  const out = transformSchemaErrors([
    { name: 'maximum', params: { limit: 500 }, message: 'must be <= 500', property: '.batchSize', title: 'Batch size', stack: '.batchSize must be <= 500' },
    { name: 'if', params: {}, message: 'must match "then" schema', property: '.x', stack: '.x must match "then" schema' },
  ]);
  expect(out[0]).toEqual({
    name: 'maximum',
    params: { limit: 500 },
    message: 'Must be 500 or less.',
    property: '.batchSize',
    title: 'Batch size',
    stack: 'Batch size: Must be 500 or less.',
  });
  expect(out[1].message).toBe('must match "then" schema');
});

test('itemLabel', () => {
  expect(itemLabel('Pipelines-1', 'root_pipelines_0')).toBe('Pipelines 1');
  expect(itemLabel('Tier-2', 'root_tier')).toBe('Tier-2');
  expect(itemLabel('Region', 'root_region')).toBe('Region');
});

describe('pattern errors say which form is expected', () => {
  const err = (property: string) => ({ name: 'pattern', property, message: '', params: { pattern: '^CC-[0-9]{4}$' }, stack: '' });
  const schema = {
    type: 'object',
    properties: {
      a: { type: 'string', pattern: '^CC-[0-9]{4}$', examples: ['CC-1234'] },
      b: { type: 'string', pattern: '^CC-[0-9]{4}$', description: 'CC- and four digits' },
      c: { type: 'string', pattern: '^CC-[0-9]{4}$' },
      list: { type: 'array', items: { type: 'string', pattern: 'x', examples: ['x1'] } },
    },
  };
  test('examples, then description, then the pattern', () => {
    const [a, b, c, d] = transformSchemaErrors([err('.a'), err('.b'), err('.c'), err('.list.0')], schema);
    expect(a.message).toBe('Use the expected form, like CC-1234.');
    expect(b.message).toBe('Use the expected form: CC- and four digits.');
    expect(c.message).toBe('Use the expected form (matching the pattern ^CC-[0-9]{4}$).');
    expect(d.message).toBe('Use the expected form, like x1.');
  });
});
