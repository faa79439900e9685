// What both hub-page e2e tests need of the switchyard binary: an organisation, a running server,
// and an HTTP client of its API.
import { spawn, execFile } from 'node:child_process';
import { promisify } from 'node:util';

class HarnessError extends Error {}

/** `switchyard admin create-org` into `dataDir`: `{organisationId, apiKey}`. */
export async function createOrg(bin, dataDir, name) {
  const { stdout } = await promisify(execFile)(bin, ['admin', 'create-org', '--name', name, '--data-dir', dataDir], {
    env: { ...process.env, RUST_LOG: 'warn' },
  });
  const org = JSON.parse(stdout.slice(stdout.indexOf('{'), stdout.lastIndexOf('}') + 1));
  if (!(org.organisationId && org.apiKey)) throw new HarnessError(`create-org printed ${stdout}`);
  return org;
}

/** `switchyard serve` on a free port; every line it logs goes to `serverLog`. Resolves `{url, child}`. */
export function startSwitchyard(bin, dataDir, serverLog) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(bin, ['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'info' },
    });
    let done = false;
    const timer = setTimeout(() => {
      if (!done) {
        done = true;
        child.kill('SIGKILL');
        reject(new Error(`switchyard did not start within 30 s:\n${serverLog.join('\n')}`));
      }
    }, 30_000);
    const onLine = (line) => {
      serverLog.push(line);
      const m = /switchyard listening on (http:\/\/\S+)/.exec(line);
      if (m && !done) {
        done = true;
        clearTimeout(timer);
        resolvePromise({ url: m[1].replace(/\/+$/, ''), child });
      }
    };
    for (const stream of [child.stdout, child.stderr]) {
      let buf = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk) => {
        buf += chunk;
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          onLine(buf.slice(0, i));
          buf = buf.slice(i + 1);
        }
      });
    }
    child.on('exit', (code, signal) => {
      serverLog.push(`[switchyard exited: code ${code}, signal ${signal}]`);
      if (!done) {
        done = true;
        clearTimeout(timer);
        reject(new Error(`switchyard exited before listening (code ${code}):\n${serverLog.join('\n')}`));
      }
    });
  });
}

/** A client of the HTTP API with an Authorization header. Returns {status, body}. */
export function client(base, authorization) {
  return async function call(method, path, body) {
    const res = await fetch(base + path, {
      method,
      headers: { Authorization: authorization, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = text;
    }
    return { status: res.status, body: json };
  };
}

/** Calls and insists on a 2xx answer. */
export async function ok(call, method, path, body) {
  const res = await call(method, path, body);
  if (!(res.status >= 200 && res.status < 300)) throw new HarnessError(`${method} ${path} answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}
