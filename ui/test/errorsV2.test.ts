import { describe, expect, test } from 'vitest';
import { mapConnectionField, mapFieldErrors, mapReplaceConnectionErrors, moveNameErrors } from '../src/errors';

describe('mapConnectionField, Platform API v2 paths', () => {
  test('fields of a new connection in ActivateUser', () => {
    expect(mapConnectionField('connection.credentials[0].credential.data.value')).toBe('apiKey');
    expect(mapConnectionField('connection.credentials[0].credential.data.string.value')).toBe('apiKey');
    expect(mapConnectionField('connection.credentials[0].credential.data.basicAuth.password')).toBe('password');
    expect(mapConnectionField('connection.credentials[0].credential.data.username')).toBe('username');
    expect(mapConnectionField('connection.credentials[0].credential.data.oauth2Code.state')).toBe('oauth');
    expect(mapConnectionField('connection.credentials[0].credential.data.code')).toBe('oauth');
    expect(mapConnectionField('connection.credentials[0].credential.data.certificate.key')).toBe('key');
    expect(mapConnectionField('connection.credentials[0].credential.data.certificate')).toBe('certificate');
    expect(mapConnectionField('connection.name')).toBe('name');
  });

  test('what belongs to the connection as a whole', () => {
    expect(mapConnectionField('connection')).toBe('form');
    expect(mapConnectionField('connectionTemplateId')).toBe('form');
    expect(mapConnectionField('connection.credentials[0].authSchemeConfig.type')).toBe('form');
    expect(mapConnectionField('connection.credentials[0].credential.data')).toBe('form');
    expect(mapConnectionField('connection.credentials[0].credential.data.string')).toBe('form');
    expect(mapConnectionField('connection.baseUrl')).toBe('form');
  });

  test('an existing connection', () => {
    expect(mapConnectionField('existingConnectionId')).toBe('existing');
  });

  test('v1 paths map as before', () => {
    expect(mapConnectionField('credentials.action[0].credential.data.value')).toBe('apiKey');
    expect(mapConnectionField('connectionId')).toBe('existing');
  });
});

describe('mapFieldErrors, an ActivateUser 400', () => {
  test('connections, variables and the rest', () => {
    const mapped = mapFieldErrors([
      { field: 'connections[0].connection.credentials[0].credential.data.value', message: 'is required for a string credential' },
      { field: 'connections[1].existingConnectionId', message: 'is another end user’s connection' },
      { field: 'connections[1].connection.name', message: 'must not be empty' },
      { field: 'dynamicVariables.region', message: 'must be one of eu, us' },
      { field: 'dynamicVariables.limits.batch', message: 'must be at least 1' },
      { field: 'connections[crm]', message: 'connection template "crm" (01T): the end user’s connection is missing' },
      { field: 'environmentId', message: 'no environment of this organisation has this id' },
    ]);
    expect(mapped.connections).toEqual({
      0: { apiKey: ['Is required for a string credential.'] },
      1: { existing: ['Is another end user’s connection.'], name: ['Must not be empty.'] },
    });
    expect(mapped.variables).toEqual({ region: { __errors: ['Must be one of eu, us.'] }, limits: { batch: { __errors: ['Must be at least 1.'] } } });
    expect(mapped.other.map((f) => f.field)).toEqual(['connections[crm]', 'environmentId']);
  });

  test('a SetDynamicVariables 400', () => {
    const mapped = mapFieldErrors([
      { field: 'dynamicVariables.batch', message: 'must be at least 1' },
      { field: 'dynamicVariables.colour', message: "is not declared in the project's dynamic variables schema" },
    ]);
    expect(mapped.variables).toEqual({
      batch: { __errors: ['Must be at least 1.'] },
      colour: { __errors: ["Is not declared in the project's dynamic variables schema."] },
    });
  });
});

describe('UpdateConnection errors and unnamed connections', () => {
  test('PUT /connections/{id} paths', () => {
    const errs = mapReplaceConnectionErrors([
      { field: 'credentials[0].credential.data.value', message: 'is required' },
      { field: 'name', message: 'must not be empty' },
    ]);
    expect(errs).toEqual({ apiKey: ['Is required.'], name: ['Must not be empty.'] });
    expect(moveNameErrors(errs)).toEqual({ apiKey: ['Is required.'], form: ['Must not be empty.'] });
  });

  test('moveNameErrors keeps form errors and leaves forms without name errors alone', () => {
    expect(moveNameErrors({ form: ['A.'], name: ['B.'] })).toEqual({ form: ['A.', 'B.'] });
    expect(moveNameErrors({ apiKey: ['C.'] })).toEqual({ apiKey: ['C.'] });
  });
});
