// What both hub-page e2e tests share: the run itself (numbered steps, assertions, cleanups, a
// watchdog, a screenshot and the server log on failure), and the switchyard binary (an
// organisation, a running server, an HTTP client of its API).
import { spawn, execFile } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
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
      // The test's OAuth2 provider listens on 127.0.0.1: open the egress guard to loopback only.
      env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'info', SWITCHYARD_EGRESS_ALLOW: '127.0.0.0/8' },
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

class AssertionFailed extends Error {}

/** JSON with object keys sorted, so that key order does not matter. */
function canonical(v) {
  return JSON.stringify(v, (_k, x) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : x));
}

/**
 * One e2e run, logging as `[tag ...]`, screenshots in `out`. `run(main)` empties `out`, runs
 * `main`, and exits the process: 0 when every step passed, 1 on the first failure (with a
 * screenshot of the page given to `setPage` and the server log) or when the whole run takes longer
 * than `overallTimeout` ms. Cleanups run last-in first-out either way.
 */
export function e2eRun({ tag, bin, out, timeout, overallTimeout }) {
  const started = Date.now();
  const secs = () => ((Date.now() - started) / 1000).toFixed(1).padStart(5);
  let stepNo = 0;
  let currentStep = '(setup)';
  let currentPage = null;
  const cleanups = [];
  const serverLog = [];

  const step = (name) => {
    stepNo += 1;
    currentStep = `${stepNo}. ${name}`;
    console.log(`[${tag} ${secs()}s] ${currentStep}`);
  };
  const info = (msg) => console.log(`[${tag} ${secs()}s]    ${msg}`);
  const assert = (cond, msg) => {
    if (!cond) throw new AssertionFailed(msg);
  };
  const assertEqual = (actual, expected, msg) => {
    const a = canonical(actual);
    const e = canonical(expected);
    if (a !== e) throw new AssertionFailed(`${msg}\n      expected: ${e}\n      actual:   ${a}`);
  };
  /** Polls `fn` until it returns a truthy value (which it returns), or fails after `ms`. */
  const eventually = async (fn, what, ms = timeout) => {
    const until = Date.now() + ms;
    let last;
    for (;;) {
      try {
        last = await fn();
        if (last) return last;
      } catch (e) {
        last = e;
      }
      if (Date.now() > until) throw new AssertionFailed(`timed out waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
      await new Promise((r) => setTimeout(r, 150));
    }
  };
  const screenshot = async (page, name) => {
    const path = join(out, `${name}.png`);
    await page.screenshot({ path, fullPage: true });
    info(`screenshot ${path}`);
  };
  const cleanup = async () => {
    while (cleanups.length) {
      const fn = cleanups.pop();
      try {
        await fn();
      } catch (e) {
        console.error(`[${tag}] cleanup: ${e?.message ?? e}`);
      }
    }
  };
  /** A running switchyard on `dataDir`, stopped (SIGTERM, then SIGKILL) at cleanup. */
  const switchyard = async (dataDir) => {
    const sy = await startSwitchyard(bin, dataDir, serverLog);
    cleanups.push(
      () =>
        new Promise((r) => {
          if (sy.child.exitCode !== null) return r();
          sy.child.once('exit', r);
          sy.child.kill('SIGTERM');
          setTimeout(() => sy.child.kill('SIGKILL'), 5000).unref();
        }),
    );
    return sy;
  };

  const run = async (main) => {
    const watchdog = setTimeout(() => {
      console.error(`[${tag}] FAILED: the whole run took more than ${overallTimeout / 1000} s (at step ${currentStep})`);
      void cleanup().finally(() => process.exit(1));
    }, overallTimeout);
    try {
      await rm(out, { recursive: true, force: true });
      await mkdir(out, { recursive: true });
      await main();
      console.log(`[${tag} ${secs()}s] PASSED (${stepNo} steps); screenshots in ${out}`);
      await cleanup();
      clearTimeout(watchdog);
      process.exit(0);
    } catch (e) {
      console.error(`\n[${tag}] FAILED at step ${currentStep}:\n  ${e instanceof AssertionFailed ? e.message : e?.stack ?? e}`);
      try {
        await mkdir(out, { recursive: true });
        if (currentPage && !currentPage.isClosed()) {
          await currentPage.screenshot({ path: join(out, 'failure.png'), fullPage: true, timeout: 5000 });
          console.error(`[${tag}] screenshot of the failure: ${join(out, 'failure.png')}`);
        }
      } catch {
        /* no screenshot */
      }
      try {
        await writeFile(join(out, 'switchyard.log'), serverLog.join('\n'));
        console.error(`[${tag}] server log: ${join(out, 'switchyard.log')} (last lines below)`);
        console.error(serverLog.slice(-25).map((l) => `  | ${l}`).join('\n'));
      } catch {
        /* nothing more to say */
      }
      await cleanup();
      clearTimeout(watchdog);
      process.exit(1);
    }
  };

  return {
    step,
    info,
    assert,
    assertEqual,
    eventually,
    screenshot,
    cleanups,
    switchyard,
    /** The page to screenshot if a step fails. */
    setPage: (page) => {
      currentPage = page;
    },
    run,
  };
}

/**
 * A validator of Versori's schemas, from the spec the Rust tests use
 * (`crates/switchyard/tests/it/versori/<file>`): `check(name, instance)` answers the errors, none
 * when valid. As there, `$ref`s point into `$defs`, `oneOf` is read as `anyOf` (the spec's
 * credential data members overlap) and OpenAPI `examples` maps are dropped.
 */
export async function versoriSchemas(repoRoot, file) {
  const [{ Validator }, yaml, { readFile }] = await Promise.all([import('@cfworker/json-schema'), import('js-yaml'), import('node:fs/promises')]);
  const doc = yaml.load(await readFile(join(repoRoot, 'crates/switchyard/tests/it/versori', file), 'utf8'));
  const rewrite = (v) => {
    if (Array.isArray(v)) return v.map(rewrite);
    if (!v || typeof v !== 'object') return v;
    const out = {};
    for (const [k, x] of Object.entries(v)) {
      if (k === 'discriminator' || k === 'examples') continue;
      if (k === '$ref' && typeof x === 'string') out.$ref = x.replace('#/components/schemas/', '#/$defs/');
      else out[k === 'oneOf' ? 'anyOf' : k] = rewrite(x);
    }
    return out;
  };
  const defs = rewrite(doc.components.schemas);
  return (name, instance) => {
    if (!defs[name]) return [`the spec has no schema ${name}`];
    const v = new Validator({ $defs: defs, $ref: `#/$defs/${name}` }, '2020-12', false);
    const r = v.validate(instance);
    return r.valid ? [] : r.errors.map((e) => `${e.instanceLocation}: ${e.error}`);
  };
}

/** Runs axe-core in `frame` (a Playwright Frame): the serious and critical violations, as lines. */
export async function axeViolations(frame) {
  const { default: axe } = await import('axe-core');
  await frame.evaluate(`${axe.source};0`);
  const res = await frame.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  return res.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join('; ')})`);
}
