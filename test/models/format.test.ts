// models.ts list and show over the catalog documents an operator's MongoDB really holds: ours,
// and the Python system's (SPEC 4.0: added_at instead of created_at, upstream lifecycle fields,
// providers llm-bench has no adapter for).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { addModel, listModelRows, showModel } from '../../lib/models/admin.ts';
import { formatModelList, formatModelShow } from '../../lib/models/format.ts';
import { createMongoStore } from '../../lib/store/mongo/open.ts';
import { mingoCollections } from '../fakes/mingo-collection.ts';

const NOW = Date.now();
const daysAgo = (d: number) => new Date(NOW - d * 86_400_000);

async function upstreamCatalog() {
  const collections = mingoCollections();
  const store = await createMongoStore(collections, { location: 'memory' });
  await addModel(store, 'groq', 'llama-3.3-70b-versatile', { misc: { price: { input: 0.59, output: 0.79 } }, now: daysAgo(3) });
  // seed_model.js wrote added_at, not created_at; admission and the operator wrote lifecycle fields.
  collections.models.docs.push(
    { provider: 'openai', model_id: 'gpt-4o-mini', enabled: true, deprecated: false, added_at: daysAgo(400), status: 'probation' },
    { provider: 'together', model_id: 'old-model', enabled: false, deprecated: true, created_at: daysAgo(900), disabled_class: 'provider_retired', recheck_after: daysAgo(-7), deprecation_reason: 'retired by Together' },
    { provider: 'anyscale', model_id: 'meta-llama/Llama-2-70b-chat-hf', enabled: true, deprecated: false, created_at: daysAgo(1000) },
  );
  return store;
}

describe('models list and show', () => {
  test('list is a table with a header and plain column names, upstream lifecycle and adapter-less providers shown', async () => {
    const store = await upstreamCatalog();
    const text = formatModelList(await listModelRows(store, { all: true }), { hidden: 0, now: NOW });
    const [header, rule, ...rows] = text.split('\n');
    assert.match(header!, /^provider\s+model\s+state\s+last success\s+price in \/ out per 1M tokens\s+spent 24 h\s+upstream lifecycle\s+last error$/);
    assert.match(rule!, /^-+( {2}-+)+$/);
    assert.match(text, /^groq\s+llama-3\.3-70b-versatile\s+enabled\s+never\s+\$0\.59 \/ \$0\.79\s+\$0\s+-\s+-$/m);
    assert.match(text, /^openai\s+gpt-4o-mini\s+enabled\s+never\s+unknown\s+\$0\s+status probation\s+-$/m);
    assert.match(text, /^together\s+old-model\s+deprecated\s+.*disabled class provider_retired, recheck after \d{4}-\d\d-\d\d \d\d:\d\d, deprecated because retired by Together/m);
    assert.match(text, /^anyscale\s+meta-llama\/Llama-2-70b-chat-hf\s+listed only \(no adapter\)/m);
    assert.equal(rows.length, 4);
    assert.doesNotMatch(text, /ok never|24h \$0/);
    // A provider without an adapter can be asked for by name.
    assert.equal((await listModelRows(store, { provider: 'anyscale' })).length, 1);
    await assert.rejects(listModelRows(store, { provider: 'azure' }), /Unknown provider 'azure'/);
  });

  test('show works on a model with added_at and no created_at, and on one of a provider with no adapter', async () => {
    const store = await upstreamCatalog();
    const mini = formatModelShow(await showModel(store, 'openai', 'gpt-4o-mini'), 'openai', 'gpt-4o-mini');
    assert.match(mini, new RegExp(`^ {2}added\\s+${daysAgo(400).toISOString().slice(0, 10)}T`, 'm'));
    assert.match(mini, /^ {2}upstream lifecycle\s+status probation$/m);
    assert.match(mini, /^ {2}price\s+unknown \(set misc\.price, or run discovery/m);
    assert.doesNotMatch(mini, /price price/);
    const any = formatModelShow(await showModel(store, 'anyscale', 'meta-llama/Llama-2-70b-chat-hf'), 'anyscale', 'meta-llama/Llama-2-70b-chat-hf');
    assert.match(any, /^ {2}state\s+listed only \(no adapter\)$/m);
    assert.match(any, /^ {2}benchmarked\s+never: llm-bench has no adapter for anyscale$/m);
    const old = formatModelShow(await showModel(store, 'together', 'old-model'), 'together', 'old-model');
    assert.match(old, /^ {2}upstream lifecycle\s+disabled class provider_retired, recheck after .*, deprecated because retired by Together$/m);
  });
});
