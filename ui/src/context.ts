import { createContext, useContext } from 'react';
import type { Api } from './api';
import type { HubContext } from './fragment';

export interface AppServices {
  api: Api;
  context: HubContext;
}

export const ServicesContext = createContext<AppServices | null>(null);

export function useServices(): AppServices {
  const s = useContext(ServicesContext);
  if (!s) throw new Error('ServicesContext missing');
  return s;
}
