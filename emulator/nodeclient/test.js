'use strict';
// Drives go-leader-election's Datastore emulator with Google's official
// Node.js client, @google-cloud/datastore, over gRPC (its default) and over
// REST (fallback: 'rest'), and checks what each call answers. Run by
// emulator/nodeclient_test.go, or by hand:
//
//   go-leader-election emulator --host-port=localhost:8081 &
//   npm ci --prefix emulator/nodeclient
//   DATASTORE_EMULATOR_HOST=localhost:8081 node emulator/nodeclient/test.js
//
// Prints one line per case, "PASS <transport> <case>" or "FAIL <transport>
// <case>: <why>", then "SUMMARY <passed> passed, <failed> failed"; exits 1
// if any case failed.

const assert = require('node:assert/strict');
const {Datastore, PropertyFilter, or} = require('@google-cloud/datastore');
const {googleAuthLibrary} = require('google-gax');

const projectId = process.env.DATASTORE_PROJECT_ID || 'nodeclient';
if (!process.env.DATASTORE_EMULATOR_HOST) {
  console.error('DATASTORE_EMULATOR_HOST is not set');
  process.exit(2);
}

// gRPC status codes, and the HTTP status Google's REST API answers each with.
const INVALID_ARGUMENT = 3;
const NOT_FOUND = 5;
const ALREADY_EXISTS = 6;
const ABORTED = 10;
const STATUS = {INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS, ABORTED};
const HTTP = {[INVALID_ARGUMENT]: 400, [NOT_FOUND]: 404, [ALREADY_EXISTS]: 409, [ABORTED]: 409};

const transports = {
  grpc: {},
  // The emulator takes no credentials; REST needs an auth client all the
  // same, and plain HTTP.
  rest: {
    fallback: 'rest',
    protocol: 'http',
    authClient: new googleAuthLibrary.PassThroughClient(),
  },
};

// status is the gRPC code and message of a client error. Over gRPC they
// are err.code and err.message. Over REST, google-gax 5.0.x reports the HTTP
// status in err.code instead (fixed upstream by
// googleapis/google-cloud-node#9346) and Google's JSON error as the message:
// they are read from that JSON, after checking the HTTP status matches.
function status(err) {
  if (Number.isInteger(err.code) && err.code >= 0 && err.code <= 16) {
    return {code: err.code, message: err.message};
  }
  let body = err.response && err.response.data;
  try {
    if (typeof body === 'string' || !body) {
      body = JSON.parse(typeof body === 'string' ? body : err.message);
    }
  } catch {
    return {code: err.code, message: err.message};
  }
  const code = STATUS[body.error.status];
  assert.equal(err.code, HTTP[code], `HTTP status ${err.code} for ${body.error.status}`);
  return {code, message: body.error.message};
}

// rejects runs fn and checks it fails with the gRPC code (and a message
// containing text, when given).
async function rejects(fn, code, text) {
  let err;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  assert.ok(err, `expected an error with code ${code}, got success`);
  const got = status(err);
  assert.equal(got.code, code, `code ${err.code} (${err.message}), want ${code}`);
  if (text) {
    assert.ok(got.message.includes(text), `message "${got.message}" lacks "${text}"`);
  }
}

// plain is an entity's properties, without the key the client adds.
const plain = e => Object.fromEntries(Object.entries(e));
const names = entities => entities.map(e => e[Datastore.KEY].name);

const cases = {
  async crud(ds) {
    const key = ds.key(['Crud', 'a']);
    await ds.insert({key, data: {n: 1, s: 'one'}});
    await rejects(() => ds.insert({key, data: {n: 2}}), ALREADY_EXISTS);
    let [e] = await ds.get(key);
    assert.deepEqual(plain(e), {n: 1, s: 'one'});
    await ds.update({key, data: {n: 2}});
    [e] = await ds.get(key);
    assert.deepEqual(plain(e), {n: 2});
    await rejects(() => ds.update({key: ds.key(['Crud', 'none']), data: {n: 1}}), NOT_FOUND);
    await ds.upsert({key, data: {n: 3}});
    await ds.delete(key);
    [e] = await ds.get(key);
    assert.equal(e, undefined);
    // An incomplete key gets an id.
    const inc = ds.key(['Crud']);
    await ds.save({key: inc, data: {n: 4}});
    assert.ok(inc.id, 'no id allocated');
    const [ids] = await ds.allocateIds(ds.key(['Crud']), 3);
    assert.equal(new Set(ids.map(k => k.id)).size, 3);
  },

  async values(ds) {
    const key = ds.key(['Values', 'v']);
    const when = new Date('2030-01-02T03:04:05.678Z');
    const data = {
      int: 42,
      big: ds.int('9007199254740993'),
      dbl: ds.double(1.5),
      str: 'héllo',
      long: 'x'.repeat(5000),
      bool: true,
      nil: null,
      when,
      bytes: Buffer.from([0, 1, 255]),
      arr: [1, 'two', false],
      nested: {a: 1, b: {c: 'deep'}},
      geo: ds.geoPoint({latitude: 48.85, longitude: 2.35}),
      ref: ds.key(['Other', 7]),
    };
    await ds.save({key, data, excludeFromIndexes: ['long']});
    const [e] = await ds.get(key, {wrapNumbers: true});
    assert.equal(e.int.valueOf(), 42);
    assert.equal(e.big.value, '9007199254740993');
    assert.equal(e.dbl.valueOf(), 1.5);
    assert.equal(e.str, 'héllo');
    assert.equal(e.long.length, 5000);
    assert.equal(e.bool, true);
    assert.equal(e.nil, null);
    assert.equal(e.when.getTime(), when.getTime());
    assert.deepEqual([...e.bytes], [0, 1, 255]);
    assert.deepEqual(e.arr.map(v => v.valueOf()), [1, 'two', false]);
    assert.equal(e.nested.b.c, 'deep');
    assert.equal(e.geo.latitude, 48.85);
    assert.equal(e.ref.kind, 'Other');
    assert.equal(Number(e.ref.id), 7);
  },

  async batchOrder(ds) {
    const keys = ['k1', 'k2', 'k3'].map(n => ds.key(['Batch', n]));
    await ds.save(keys.map((key, i) => ({key, data: {i}})));
    // The emulator answers found entities in the order asked, missing ones
    // left out; Datastore does not promise an order, and the Node client
    // does not restore one.
    const asked = [keys[2], ds.key(['Batch', 'missing']), keys[0], keys[1]];
    const [found] = await ds.get(asked);
    assert.deepEqual(names(found), ['k3', 'k1', 'k2']);
    for (const e of found) {
      assert.equal(e.i, Number(e[Datastore.KEY].name.slice(1)) - 1);
    }
    await ds.delete(keys);
    const [gone] = await ds.get(keys);
    assert.equal(gone.length, 0);
  },

  async transactions(ds) {
    const key = ds.key(['Tx', 'counter']);
    await ds.save({key, data: {n: 0}});
    // Read, write, commit.
    let tx = ds.transaction();
    await tx.run();
    let [e] = await tx.get(key);
    tx.save({key, data: {n: e.n + 1}});
    await tx.commit();
    [e] = await ds.get(key);
    assert.equal(e.n, 1);
    // Someone else writes what the transaction read: ABORTED.
    tx = ds.transaction();
    await tx.run();
    [e] = await tx.get(key);
    await ds.save({key, data: {n: 100}});
    tx.save({key, data: {n: e.n + 1}});
    await rejects(() => tx.commit(), ABORTED);
    [e] = await ds.get(key);
    assert.equal(e.n, 100);
    // Rolled back: nothing written.
    tx = ds.transaction();
    await tx.run();
    tx.save({key, data: {n: -1}});
    await tx.rollback();
    [e] = await ds.get(key);
    assert.equal(e.n, 100);
    // Read-only: reads, cannot write.
    tx = ds.transaction({readOnly: true});
    await tx.run();
    [e] = await tx.get(key);
    assert.equal(e.n, 100);
    tx.save({key, data: {n: 1}});
    await rejects(() => tx.commit(), INVALID_ARGUMENT);
  },

  async queries(ds) {
    const parent = ds.key(['Team', 'blue']);
    const people = [
      ['ann', 30, 'paris'],
      ['bob', 25, 'lyon'],
      ['cid', 35, 'paris'],
      ['dan', 25, 'nice'],
    ];
    await ds.save(
      people.map(([name, age, city]) => ({
        key: ds.key(['Team', 'blue', 'Person', name]),
        data: {name, age, city},
      })),
    );
    await ds.save({key: ds.key(['Person', 'eve']), data: {name: 'eve', age: 40, city: 'lyon'}});
    const q = () => ds.createQuery('Person');
    let [rows] = await ds.runQuery(q().filter(new PropertyFilter('city', '=', 'paris')));
    assert.deepEqual(names(rows), ['ann', 'cid']);
    [rows] = await ds.runQuery(
      q().filter(new PropertyFilter('age', '>=', 30)).order('age', {descending: true}),
    );
    assert.deepEqual(names(rows), ['eve', 'cid', 'ann']);
    [rows] = await ds.runQuery(q().filter(new PropertyFilter('age', 'IN', [25, 40])).order('name'));
    assert.deepEqual(names(rows), ['bob', 'dan', 'eve']);
    [rows] = await ds.runQuery(
      q().filter(or([new PropertyFilter('name', '=', 'ann'), new PropertyFilter('city', '=', 'nice')])),
    );
    assert.deepEqual(names(rows).sort(), ['ann', 'dan']);
    [rows] = await ds.runQuery(q().hasAncestor(parent));
    assert.equal(rows.length, 4);
    // Pages through cursors.
    const [page, info] = await ds.runQuery(q().order('name').limit(2));
    assert.deepEqual(names(page), ['ann', 'bob']);
    assert.equal(info.moreResults, 'MORE_RESULTS_AFTER_LIMIT');
    [rows] = await ds.runQuery(q().order('name').start(info.endCursor));
    assert.deepEqual(names(rows), ['cid', 'dan', 'eve']);
    [rows] = await ds.runQuery(q().order('name').offset(3).limit(1));
    assert.deepEqual(names(rows), ['dan']);
    // Keys order by path: Person/eve before Team/blue/Person/bob.
    [rows] = await ds.runQuery(q().select('__key__').filter(new PropertyFilter('city', '=', 'lyon')));
    assert.deepEqual(names(rows), ['eve', 'bob']);
    assert.deepEqual(Object.keys(rows[0]), []);
  },

  async projections(ds) {
    const born = new Date('1990-05-06T07:08:09.123Z');
    await ds.save([
      {key: ds.key(['Proj', 'p1']), data: {name: 'ann', age: 30, city: 'paris', tags: ['a', 'b'], born}},
      {key: ds.key(['Proj', 'p2']), data: {name: 'bob', age: 25, city: 'lyon', tags: ['b'], born}},
      {key: ds.key(['Proj', 'p3']), data: {name: 'cid', age: 35, city: 'paris', tags: [], born}},
      {key: ds.key(['Proj', 'p4']), data: {name: 'dan', city: 'nice', bio: 'no age'}},
    ]);
    const q = () => ds.createQuery('Proj');
    let [rows] = await ds.runQuery(q().select(['name', 'age']).order('age'));
    assert.deepEqual(rows.map(plain), [
      {name: 'bob', age: 25},
      {name: 'ann', age: 30},
      {name: 'cid', age: 35},
    ]);
    // One result per array value; an empty array is not in the index.
    [rows] = await ds.runQuery(q().select('tags'));
    assert.deepEqual(rows.map(r => `${r[Datastore.KEY].name}:${r.tags}`), ['p1:a', 'p1:b', 'p2:b']);
    // DISTINCT ON.
    [rows] = await ds.runQuery(q().select('city').groupBy('city').order('city'));
    assert.deepEqual(rows.map(r => r.city), ['lyon', 'nice', 'paris']);
    // A projected timestamp comes back as microseconds, as from Datastore.
    [rows] = await ds.runQuery(q().select('born').filter(new PropertyFilter('__key__', '=', ds.key(['Proj', 'p1']))));
    assert.equal(rows[0].born, born.getTime() * 1000);
    // An inequality on a projected property is fine; an equality is not.
    [rows] = await ds.runQuery(q().select('age').filter(new PropertyFilter('age', '>', 26)));
    assert.deepEqual(rows.map(r => r.age), [30, 35]);
    await rejects(
      () => ds.runQuery(q().select('city').filter(new PropertyFilter('city', '=', 'paris'))),
      INVALID_ARGUMENT,
      'cannot use projection on a property with an equality filter',
    );
  },

  async aggregations(ds) {
    await ds.save(
      [3, 4, 5].map(n => ({key: ds.key(['Agg', `a${n}`]), data: {n, even: n % 2 === 0}})),
    );
    const aq = ds
      .createAggregationQuery(ds.createQuery('Agg').filter(new PropertyFilter('n', '>', 3)))
      .count('c')
      .sum('n', 's')
      .average('n', 'avg');
    const [[res]] = await ds.runAggregationQuery(aq);
    assert.deepEqual(plain(res), {c: 2, s: 9, avg: 4.5});
  },

  async databases(ds, client) {
    // databaseId picks the database, as the namespace picks the partition.
    const other = client({databaseId: 'other-db'});
    const key = other.key(['Db', 'x']);
    await other.save({key, data: {where: 'other-db'}});
    const [mine] = await other.get(key);
    assert.equal(mine.where, 'other-db');
    const [none] = await ds.get(ds.key(['Db', 'x']));
    assert.equal(none, undefined);
    const [rows] = await other.runQuery(other.createQuery('Db'));
    assert.equal(rows.length, 1);
  },

  async limits(ds) {
    const many = n => Array.from({length: n}, (_, i) => ds.key(['Limit', `k${i}`]));
    await rejects(
      () => ds.save(many(501).map(key => ({key, data: {x: 1}}))),
      INVALID_ARGUMENT,
      'cannot write more than 500 entities in a single call',
    );
    await ds.save(many(500).map(key => ({key, data: {x: 1}})));
    await rejects(() => ds.get(many(1001)), INVALID_ARGUMENT, 'cannot get more than 1000 keys in a single call');
    const [got] = await ds.get(many(1000));
    assert.equal(got.length, 500);
    const key = ds.key(['Limit', 'big']);
    await rejects(
      () => ds.save({key, data: {s: 'x'.repeat(1501)}}),
      INVALID_ARGUMENT,
      'The value of property "s" is longer than 1500 bytes',
    );
    await rejects(
      () => ds.save({key, data: {b: Buffer.alloc(1501)}}),
      INVALID_ARGUMENT,
      'The value of property "b" is longer than 1500 bytes',
    );
    await ds.save({key, data: {s: 'x'.repeat(1501)}, excludeFromIndexes: ['s']});
    const half = 'x'.repeat(600 * 1024);
    await rejects(
      () => ds.save({key, data: {a: half, b: half}, excludeFromIndexes: ['a', 'b']}),
      INVALID_ARGUMENT,
      'entity is too big',
    );
    await rejects(() => ds.save({key: ds.key(['Limit', 'n'.repeat(1501)]), data: {}}), INVALID_ARGUMENT);
  },
};

async function main() {
  let passed = 0;
  let failed = 0;
  for (const [transport, opts] of Object.entries(transports)) {
    for (const [name, run] of Object.entries(cases)) {
      // Each case in its own namespace, so that they cannot meet.
      const client = extra => new Datastore({projectId, namespace: `${transport}-${name}`, ...opts, ...extra});
      try {
        await run(client(), client);
        passed++;
        console.log(`PASS ${transport} ${name}`);
      } catch (err) {
        failed++;
        console.log(`FAIL ${transport} ${name}: ${(err && err.stack) || err}`.replaceAll('\n', '\n    '));
      }
    }
  }
  console.log(`SUMMARY ${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main().catch(err => {
  console.error(err);
  process.exit(2);
});
