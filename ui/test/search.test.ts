import { expect, test } from 'vitest';
import { filterIntegrations } from '../src/search';
import type { IntegrationSummary } from '../src/types';

const mk = (id: string, name: string, description: string): IntegrationSummary => ({ id, name, description, imageUrl: '', isDeployed: true, isActivated: false });
const list = [mk('1', 'CRM sync', 'Keep contacts in step'), mk('2', 'Team chat', 'Tell your team when deals close'), mk('3', 'Café orders', 'Orders from the café')];

test('matches every word in the name or description, ignoring case and accents', () => {
  expect(filterIntegrations(list, 'crm').map((i) => i.id)).toEqual(['1']);
  expect(filterIntegrations(list, '  TEAM   deals ').map((i) => i.id)).toEqual(['2']);
  expect(filterIntegrations(list, 'cafe').map((i) => i.id)).toEqual(['3']);
  expect(filterIntegrations(list, 'team crm')).toEqual([]);
  expect(filterIntegrations(list, '')).toBe(list);
});
