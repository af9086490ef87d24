// A scripted session of the jsforce client, used unchanged, against a Salesforce-compatible
// server. It prints one JSON line per step and exits non-zero when any step fails.
//
// Environment: ORG_URL, ORG_USERNAME, ORG_PASSWORD, ORG_CLIENT_ID, ORG_CLIENT_SECRET,
// and optionally ORG_API_VERSION (default 62.0).
import jsforce from 'jsforce';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`missing environment variable ${name}`);
  return value;
};

const version = process.env.ORG_API_VERSION || '62.0';
const results = [];
async function step(name, fn) {
  try {
    const detail = await fn();
    results.push({ step: name, ok: true, detail });
  } catch (err) {
    results.push({ step: name, ok: false, error: String(err && err.stack ? err.stack : err) });
  }
  console.log(JSON.stringify(results[results.length - 1]));
}
function check(cond, message) {
  if (!cond) throw new Error(message);
}

const conn = new jsforce.Connection({
  oauth2: {
    loginUrl: env('ORG_URL'),
    clientId: env('ORG_CLIENT_ID'),
    clientSecret: env('ORG_CLIENT_SECRET'),
    redirectUri: 'http://127.0.0.1/callback',
  },
  version,
});

const started = new Date(Date.now() - 60_000);
let accountId;
let manyIds = [];

await step('login', async () => {
  const info = await conn.login(env('ORG_USERNAME'), env('ORG_PASSWORD'));
  check(info.id && info.organizationId, 'login returned no user or org id');
  check(conn.accessToken.startsWith('00D'), 'access token lacks the 00D prefix');
  return { user: info.id, org: info.organizationId };
});

await step('identity', async () => {
  const id = await conn.identity();
  check(id.user_id, 'identity has no user_id');
  return { user_id: id.user_id };
});

await step('describeGlobal', async () => {
  const global = await conn.describeGlobal();
  const names = global.sobjects.map((o) => o.name);
  check(names.includes('Account') && names.includes('WorkOrder'), 'Account or WorkOrder missing');
  return { objects: names.length };
});

await step('describe', async () => {
  const d = await conn.sobject('Account').describe();
  check(d.name === 'Account', 'describe named another object');
  check(d.fields.some((f) => f.name === 'Name'), 'Account describe has no Name field');
  return { fields: d.fields.length };
});

await step('create', async () => {
  const r = await conn.sobject('Account').create({ Name: 'jsforce single' });
  check(r.success && r.id, `create failed: ${JSON.stringify(r)}`);
  accountId = r.id;
  return { id: r.id };
});

await step('retrieve', async () => {
  const rec = await conn.sobject('Account').retrieve(accountId);
  check(rec.Name === 'jsforce single', 'retrieve returned another name');
  return { id: rec.Id };
});

await step('update', async () => {
  const r = await conn.sobject('Account').update({ Id: accountId, Name: 'jsforce updated' });
  check(r.success, `update failed: ${JSON.stringify(r)}`);
  const rec = await conn.sobject('Account').retrieve(accountId);
  check(rec.Name === 'jsforce updated', 'update did not take');
  return {};
});

await step('upsert', async () => {
  const ext = process.env.ORG_EXTERNAL_ID_FIELD || 'External_Id__c';
  const created = await conn.sobject('Account').upsert({ Name: 'jsforce upsert', [ext]: 'JS-1' }, ext);
  check(created.success, `upsert (insert) failed: ${JSON.stringify(created)}`);
  const updated = await conn.sobject('Account').upsert({ Name: 'jsforce upsert 2', [ext]: 'JS-1' }, ext);
  check(updated.success, `upsert (update) failed: ${JSON.stringify(updated)}`);
  return { created: created.created, updated: updated.created };
});

await step('create many', async () => {
  const records = Array.from({ length: 250 }, (_, i) => ({ Name: `jsforce many ${i}` }));
  // jsforce splits a list longer than 200 (the collections limit) only when asked to.
  const rs = await conn.sobject('Account').create(records, { allOrNone: false, allowRecursive: true });
  check(rs.length === 250 && rs.every((r) => r.success), 'collection create failed');
  manyIds = rs.map((r) => r.id);
  return { created: rs.length };
});

await step('update many', async () => {
  const rs = await conn.sobject('Account').update(
    manyIds.slice(0, 10).map((Id, i) => ({ Id, Name: `jsforce renamed ${i}` })),
  );
  check(rs.every((r) => r.success), `collection update failed: ${JSON.stringify(rs)}`);
  return { updated: rs.length };
});

await step('upsert many', async () => {
  const ext = process.env.ORG_EXTERNAL_ID_FIELD || 'External_Id__c';
  const rs = await conn.sobject('Account').upsert(
    [{ Name: 'a', [ext]: 'JS-M1' }, { Name: 'b', [ext]: 'JS-M2' }],
    ext,
  );
  check(rs.every((r) => r.success), `collection upsert failed: ${JSON.stringify(rs)}`);
  return { upserted: rs.length };
});

await step('query with queryMore', async () => {
  const soql = "SELECT Id, Name, Owner.Name FROM Account WHERE Name LIKE 'jsforce%' ORDER BY Name";
  const first = await conn.request({
    method: 'GET',
    url: `/services/data/v${version}/query?q=${encodeURIComponent(soql)}`,
    headers: { 'Sforce-Query-Options': 'batchSize=200' },
  });
  check(first.done === false && first.nextRecordsUrl, 'first page was not partial');
  let total = first.records.length;
  let locator = first.nextRecordsUrl;
  while (locator) {
    const next = await conn.queryMore(locator);
    total += next.records.length;
    locator = next.done ? null : next.nextRecordsUrl;
  }
  check(total === first.totalSize, `paged ${total} records of ${first.totalSize}`);
  const auto = await conn.query(soql, { autoFetch: true, maxFetch: 100000 });
  check(auto.records.length === first.totalSize, 'autoFetch read another count');
  return { totalSize: first.totalSize };
});

await step('delete', async () => {
  const r = await conn.sobject('Account').destroy(accountId);
  check(r.success, `delete failed: ${JSON.stringify(r)}`);
  return {};
});

await step('delete many', async () => {
  const rs = await conn.sobject('Account').destroy(manyIds.slice(0, 20));
  check(rs.length === 20 && rs.every((r) => r.success), 'collection delete failed');
  return { deleted: rs.length };
});

await step('updated', async () => {
  const end = new Date(Date.now() + 120_000);
  const r = await conn.sobject('Account').updated(started.toISOString(), end.toISOString());
  check(Array.isArray(r.ids) && r.ids.length > 0, 'updated listed no ids');
  check(r.latestDateCovered, 'updated has no latestDateCovered');
  return { ids: r.ids.length };
});

await step('deleted', async () => {
  const end = new Date(Date.now() + 120_000);
  const r = await conn.sobject('Account').deleted(started.toISOString(), end.toISOString());
  check(r.deletedRecords.some((d) => d.id === accountId), 'deleted does not list the deleted record');
  return { deleted: r.deletedRecords.length };
});

const failed = results.filter((r) => !r.ok).length;
console.log(JSON.stringify({ summary: true, steps: results.length, failed }));
process.exit(failed === 0 ? 0 : 1);
