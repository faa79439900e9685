import { describe, expect, test } from 'vitest';
import { Api, ApiError, describeError, NetworkError, SESSION_ENDED } from '../src/api';

type Call = { url: string; init: RequestInit };

function fakeFetch(responses: (Response | Error)[]) {
  const calls: Call[] = [];
  const fn = (async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    const next = responses.shift();
    if (!next) throw new Error('no more responses');
    if (next instanceof Error) throw next;
    return next;
  }) as unknown as typeof fetch;
  return { fn, calls };
}

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

describe('Api', () => {
  test('sends the bearer token and JSON, and reads JSON', async () => {
    const f = fakeFetch([json(200, { id: 'act_1' })]);
    const api = new Api('tok', 'http://sy', f.fn);
    const res = await api.activate({ userId: 'alice', integrationId: 'int_1', connections: [], dynamicVariables: { a: 1 } });
    expect(res).toEqual({ id: 'act_1' });
    expect(f.calls[0].url).toBe('http://sy/api/embedded/v1/activations');
    expect(f.calls[0].init.method).toBe('POST');
    const headers = f.calls[0].init.headers as Record<string, string>;
    expect(headers.Authorization).toBe('Bearer tok');
    expect(headers['Content-Type']).toBe('application/json');
    expect(JSON.parse(String(f.calls[0].init.body))).toEqual({ userId: 'alice', integrationId: 'int_1', connections: [], dynamicVariables: { a: 1 } });
  });

  test('escapes path segments', async () => {
    const f = fakeFetch([json(200, { integrations: [], next: '', totalConnected: 0 })]);
    await new Api('t', '', f.fn).listIntegrations('hub/1', 'alice@example.com');
    expect(f.calls[0].url).toBe('/api/embedded/v1/embed/hub%2F1/users/alice%40example.com/integrations?first=100');
  });

  test('follows the pages of integrations', async () => {
    const f = fakeFetch([
      json(200, { integrations: [{ id: 'a' }], next: 'cur1', totalConnected: 1 }),
      json(200, { integrations: [{ id: 'b' }], next: '', totalConnected: 1 }),
    ]);
    const res = await new Api('t', '', f.fn).listIntegrations('h', 'u');
    expect(res.integrations.map((i) => i.id)).toEqual(['a', 'b']);
    expect(res.totalConnected).toBe(1);
    expect(f.calls[1].url).toContain('after=cur1');
  });

  test('an error answer becomes an ApiError with the body', async () => {
    const body = { code: '400000', message: 'invalid request', fields: [{ field: 'dynamicVariables.region', message: 'is required' }] };
    const f = fakeFetch([json(400, body)]);
    const err = await new Api('t', '', f.fn).updateVariables('act_1', {}).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(400);
    expect(err.body).toEqual(body);
    expect(describeError(err)).toBe('invalid request');
  });

  test('an error answer that is not JSON still has a message', async () => {
    const f = fakeFetch([new Response('<html>bad gateway</html>', { status: 502, statusText: 'Bad Gateway' })]);
    const err = await new Api('t', '', f.fn).getActivation('a').catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.body.code).toBe('502000');
    expect(describeError(err)).toBe('502 Bad Gateway');
  });

  test('a network failure is a NetworkError that says nothing was lost', async () => {
    const f = fakeFetch([new TypeError('Failed to fetch')]);
    const err = await new Api('t', '', f.fn).getActivation('a').catch((e) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect(describeError(err)).toMatch(/network/i);
    expect(describeError(err)).toMatch(/nothing you entered has been lost/);
  });

  test('401 says the session ended', async () => {
    const f = fakeFetch([json(401, { code: '401000', message: 'unauthorised' })]);
    const err = await new Api('t', '', f.fn).getActivation('a').catch((e) => e);
    expect(describeError(err)).toBe(SESSION_ENDED);
  });

  test('listConnections: none when the user does not exist yet, other errors thrown', async () => {
    const f = fakeFetch([json(404, { code: '404000', message: 'user not found' }), json(403, { code: '403000', message: 'no' })]);
    const api = new Api('t', '', f.fn);
    expect(await api.listConnections('h', 'bob', 'con_1')).toEqual([]);
    expect(f.calls[0].url).toBe('/api/embedded/v1/hubs/h/users/bob/connections?first=100&hub_connector_id=con_1');
    await expect(api.listConnections('h', 'bob', 'con_1')).rejects.toBeInstanceOf(ApiError);
  });

  test('204 is undefined; deactivate uses DELETE', async () => {
    const f = fakeFetch([new Response(null, { status: 204 })]);
    await expect(new Api('t', '', f.fn).deactivate('act 1')).resolves.toBeUndefined();
    expect(f.calls[0].init.method).toBe('DELETE');
    expect(f.calls[0].url).toBe('/api/embedded/v1/activations/act%201');
  });

  test('oauthInitialise returns the URL, and refuses an answer without one', async () => {
    const f = fakeFetch([json(200, { url: 'https://idp/authorize?state=s' }), json(200, {})]);
    const api = new Api('t', '', f.fn);
    expect(await api.oauthInitialise('h', 'con_1', { a: 1 })).toBe('https://idp/authorize?state=s');
    expect(f.calls[0].url).toBe('/api/embedded/v1/embed/h/connector/con_1/oauth2/initialise');
    await expect(api.oauthInitialise('h', 'con_1', {})).rejects.toThrow(/authorization URL/);
  });
});
