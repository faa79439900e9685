import { createContext, useContext } from 'react';
import { V1Backend, type HubBackend } from './backend';
import { V2Backend } from './backendV2';
import { isV2, type AnyHubContext } from './fragment';

export interface AppServices {
  /** The data layer: Embedded API v1 or Platform API v2, by the fragment. */
  backend: HubBackend;
  context: AnyHubContext;
}

/** The data layer for a context. */
export function createBackend(context: AnyHubContext): HubBackend {
  return isV2(context) ? new V2Backend(context) : new V1Backend(context);
}

export const ServicesContext = createContext<AppServices | null>(null);

export function useServices(): AppServices {
  const s = useContext(ServicesContext);
  if (!s) throw new Error('ServicesContext missing');
  return s;
}
