// The PostgreSQL server that `make test` starts for the tests (tests/with-postgres.sh): a fresh
// schema per test, and the server's own stop/start for tests of a database restart.
import { spawnSync } from 'node:child_process';

export function serverUrl() {
  const url = process.env.BLUEGATE_TEST_DATABASE_URL;
  if (!url) {
    throw new Error('BLUEGATE_TEST_DATABASE_URL is not set: run the tests with `make test` '
      + '(or tests/with-postgres.sh), which starts a PostgreSQL server for them');
  }
  return url;
}

function psql(sql) {
  const r = spawnSync('psql', [serverUrl(), '-v', 'ON_ERROR_STOP=1', '-qc', sql], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`psql failed: ${r.stderr}`);
  return r.stdout;
}

let counter = 0;

// A database URL whose connections see only a new, empty schema.
export function freshDatabase() {
  const schema = `it${process.pid}_${counter++}`;
  psql(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}`);
  const url = serverUrl();
  return `${url}${url.includes('?') ? '&' : '?'}options=-csearch_path%3D${schema}`;
}

// Stops or starts the test server itself (every schema on it goes down and comes back).
export function serverCtl(action) {
  const ctl = process.env.BLUEGATE_TEST_PG_CTL;
  if (!ctl) throw new Error('BLUEGATE_TEST_PG_CTL is not set (tests/with-postgres.sh sets it)');
  const r = spawnSync(ctl, [action], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${ctl} ${action} failed: ${r.stderr}`);
}
