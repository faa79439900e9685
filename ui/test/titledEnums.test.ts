import { describe, expect, test } from 'vitest';
import { titledEnums } from '../src/components/VariablesForm';
import { formatValue } from '../src/summary';

describe('enum names show as words', () => {
  test('enum with enumNames becomes oneOf of const and title, at any depth', () => {
    const schema = { type: 'object', properties: { tier: { type: 'string', enum: ['std', 'prem'], enumNames: ['Standard', 'Premium'], default: 'std' }, raw: { enum: ['a'] } } };
    expect(titledEnums(schema)).toEqual({
      type: 'object',
      properties: {
        tier: { type: 'string', default: 'std', oneOf: [{ const: 'std', title: 'Standard' }, { const: 'prem', title: 'Premium' }] },
        raw: { enum: ['a'] },
      },
    });
  });
  test('the summary names values by their titles or enumNames', () => {
    expect(formatValue('eu', { oneOf: [{ const: 'eu', title: 'Europe' }] })).toBe('Europe');
    expect(formatValue('prem', { enum: ['std', 'prem'], enumNames: ['Standard', 'Premium'] })).toBe('Premium');
    expect(formatValue('us', { enum: ['eu', 'us'] })).toBe('us');
  });
});
