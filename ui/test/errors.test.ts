import { describe, expect, test } from 'vitest';
import {
  addToErrorSchema,
  clearVariableError,
  errorSchemaIsEmpty,
  humaniseMessage,
  mapConnectionField,
  mapFieldErrors,
  mapReplaceConnectionErrors,
  removeFromErrorSchema,
  splitPath,
} from '../src/errors';

describe('splitPath', () => {
  test('splits names and indices', () => {
    expect(splitPath('connections[1].credentials.action[0].credential.data.value')).toEqual([
      'connections', 1, 'credentials', 'action', 0, 'credential', 'data', 'value',
    ]);
    expect(splitPath('a.b[12].c')).toEqual(['a', 'b', 12, 'c']);
    expect(splitPath('')).toEqual([]);
  });
});

describe('mapConnectionField', () => {
  test('maps credential data fields to form fields', () => {
    expect(mapConnectionField('credentials.action[0].credential.data.value')).toBe('apiKey');
    expect(mapConnectionField('credentials.action[0].credential.data.username')).toBe('username');
    expect(mapConnectionField('credentials.action[0].credential.data.password')).toBe('password');
    expect(mapConnectionField('credentials.action[0].credential.data.certificate')).toBe('certificate');
    expect(mapConnectionField('credentials.action[0].credential.data.key')).toBe('key');
    expect(mapConnectionField('credentials.action[0].credential.data.state')).toBe('oauth');
    expect(mapConnectionField('credentials.action[0].credential.data.code')).toBe('oauth');
    expect(mapConnectionField('credentials.action[0].credential.data.clientSecret')).toBe('clientSecret');
  });
  test('maps the rest of the connection', () => {
    expect(mapConnectionField('connectionId')).toBe('existing');
    expect(mapConnectionField('name')).toBe('name');
    expect(mapConnectionField('variables[1].value', ['subdomain', 'region'])).toBe('variable:region');
    expect(mapConnectionField('variables[5]', ['subdomain'])).toBe('form');
    expect(mapConnectionField('variables.subdomain')).toBe('variable:subdomain');
    expect(mapConnectionField('credentials.action[0].authSchemeConfig')).toBe('form');
    expect(mapConnectionField('templateId')).toBe('form');
    expect(mapConnectionField('')).toBe('form');
  });
});

describe('mapFieldErrors', () => {
  test('distributes fields over the wizard steps and the variables form', () => {
    const mapped = mapFieldErrors(
      [
        { field: 'connections[0].credentials.action[0].credential.data.value', message: 'must not be empty' },
        { field: 'connections[1].variables[0].value', message: 'is required' },
        { field: 'connections[1].connectionId', message: 'unknown connection' },
        { field: 'dynamicVariables.region', message: 'must be one of eu, us, apac' },
        { field: 'dynamicVariables.notify.email', message: 'is not an email address.' },
        { field: 'dynamicVariables.pipelines[2]', message: 'must be a string' },
        { field: 'dynamicVariables', message: 'must be an object' },
        { field: 'integrationId', message: 'unknown integration' },
      ],
      [[], ['subdomain']],
    );
    expect(mapped.connections).toEqual({
      0: { apiKey: ['Must not be empty.'] },
      1: { 'variable:subdomain': ['Is required.'], existing: ['Unknown connection.'] },
    });
    expect(mapped.variables).toEqual({
      __errors: ['Must be an object.'],
      region: { __errors: ['Must be one of eu, us, apac.'] },
      notify: { email: { __errors: ['Is not an email address.'] } },
      pipelines: { 2: { __errors: ['Must be a string.'] } },
    });
    expect(mapped.other).toEqual([{ field: 'integrationId', message: 'Unknown integration.' }]);
  });

  test('does not mistake a field that merely starts with "variables" for the variables form', () => {
    const mapped = mapFieldErrors([{ field: 'variablesSchema', message: 'x' }]);
    expect(mapped.variables).toBeNull();
    expect(mapped.other).toHaveLength(1);
  });

  test('has nothing to map without fields', () => {
    expect(mapFieldErrors(undefined)).toEqual({ connections: {}, variables: null, other: [] });
  });
});

describe('mapReplaceConnectionErrors', () => {
  test('reads paths with or without the connections[i] prefix', () => {
    expect(
      mapReplaceConnectionErrors(
        [
          { field: 'credentials.action[0].credential.data.value', message: 'is required' },
          { field: 'connections[0].name', message: 'too long' },
          { field: 'variables[0].value', message: 'bad' },
        ],
        ['subdomain'],
      ),
    ).toEqual({ apiKey: ['Is required.'], name: ['Too long.'], 'variable:subdomain': ['Bad.'] });
  });
});

describe('humaniseMessage', () => {
  test('capitalises and ends with a full stop', () => {
    expect(humaniseMessage('is required')).toBe('Is required.');
    expect(humaniseMessage('Already fine!')).toBe('Already fine!');
    expect(humaniseMessage('  ')).toBe('Invalid value.');
  });
});

describe('error schemas', () => {
  test('add, remove, emptiness', () => {
    const s = addToErrorSchema({}, ['a', 'b'], 'one');
    addToErrorSchema(s, ['a', 'b'], 'two');
    addToErrorSchema(s, ['c'], 'three');
    expect(s).toEqual({ a: { b: { __errors: ['one', 'two'] } }, c: { __errors: ['three'] } });
    expect(errorSchemaIsEmpty(s)).toBe(false);
    const r = removeFromErrorSchema(s, ['a', 'b']);
    expect(r).toEqual({ c: { __errors: ['three'] } });
    expect(removeFromErrorSchema(r, ['c'])).toBeNull();
    expect(errorSchemaIsEmpty({ a: { b: {} } })).toBe(true);
    expect(errorSchemaIsEmpty(null)).toBe(true);
  });

  test('clearVariableError drops the errors of the rjsf field that changed, and only those', () => {
    const s = { region: { __errors: ['Bad.'] }, notify: { email: { __errors: ['Bad email.'] } } };
    expect(clearVariableError(s, 'root_notify_email')).toEqual({ region: { __errors: ['Bad.'] } });
    expect(clearVariableError(s, 'root_region')).toEqual({ notify: { email: { __errors: ['Bad email.'] } } });
    expect(clearVariableError(s, 'root_other')).toEqual(s);
    expect(clearVariableError(s, undefined)).toBe(s);
  });
});
