import { expect, test } from 'vitest';
import { formatValue, hasSettings, summariseVariables } from '../src/summary';

const schema = {
  type: 'object',
  properties: {
    region: { type: 'string', title: 'Region' },
    batchSize: { type: 'integer', title: 'Batch size' },
    notify: { type: 'object', title: 'Notifications', properties: { enabled: { type: 'boolean', title: 'Send a summary' }, email: { type: 'string' } } },
    pipelines: { type: 'array', items: { type: 'string' } },
    plan: { oneOf: [{ const: 'p1', title: 'Basic plan' }, { const: 'p2', title: 'Pro plan' }] },
  },
};

test('flattens nested objects in schema order, with titles', () => {
  const rows = summariseVariables(
    { extra_thing: 1, pipelines: ['a', 'b'], notify: { email: 'o@x.io', enabled: false }, region: 'eu', batchSize: 10, plan: 'p2' },
    schema,
  );
  expect(rows).toEqual([
    { label: 'Region', value: 'eu', path: 'region' },
    { label: 'Batch size', value: '10', path: 'batchSize' },
    { label: 'Notifications › Send a summary', value: 'No', path: 'notify.enabled' },
    { label: 'Notifications › Email', value: 'o@x.io', path: 'notify.email' },
    { label: 'Pipelines', value: 'a, b', path: 'pipelines' },
    { label: 'Plan', value: 'Pro plan', path: 'plan' },
    { label: 'Extra thing', value: '1', path: 'extra_thing' },
  ]);
});

test('formatValue', () => {
  expect(formatValue(undefined)).toBe('—');
  expect(formatValue('')).toBe('—');
  expect(formatValue([])).toBe('—');
  expect(formatValue(true)).toBe('Yes');
  expect(formatValue(0)).toBe('0');
  expect(formatValue([{ a: 1 }])).toBe('[{"a":1}]');
  expect(summariseVariables(null)).toEqual([]);
});

test('hasSettings', () => {
  expect(hasSettings(null)).toBe(false);
  expect(hasSettings({})).toBe(false);
  expect(hasSettings({ type: 'object' })).toBe(false);
  expect(hasSettings({ type: 'object', properties: {} })).toBe(false);
  expect(hasSettings({ type: 'object', additionalProperties: false })).toBe(false);
  expect(hasSettings({ type: 'object', properties: { a: { type: 'string' } } })).toBe(true);
  expect(hasSettings({ oneOf: [{ type: 'object' }] })).toBe(true);
  expect(hasSettings({ type: 'string' })).toBe(true);
});
