// The same exchange, update and retraction scenario on PostgreSQL (127.0.0.1:5432, database
// `test`): each node has its own schema, dropped once the federation has stopped.
import pg from 'pg';
import { PG_URL } from './federation.harness.js';
import { versionsScenario } from './versions.scenario.js';

versionsScenario('postgres', {
  afterStop: async (f) => {
    const schemas = Object.values(f.nodes)
      .map((n) => n.env.FEDINTEL_DATABASE_SCHEMA)
      .filter((s): s is string => s !== undefined && /^e2e_[a-z0-9_]+$/.test(s));
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    try {
      for (const s of schemas) await client.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
    } finally {
      await client.end();
    }
  },
});
