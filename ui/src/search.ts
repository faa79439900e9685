/** The grid's search. */
import type { IntegrationSummary } from './types';

/** Filters integrations by a search string (name or description, case- and accent-insensitive). */
export function filterIntegrations(list: IntegrationSummary[], query: string): IntegrationSummary[] {
  const norm = (s: string) =>
    s
      .normalize('NFD')
      .replace(/[\u0300-\u036f]/g, '')
      .toLowerCase();
  const words = norm(query).split(/\s+/).filter(Boolean);
  if (!words.length) return list;
  return list.filter((i) => {
    const hay = norm(`${i.name} ${i.description ?? ''}`);
    return words.every((w) => hay.includes(w));
  });
}
