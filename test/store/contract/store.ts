// One contract for every Store backend: SQLite, the MongoDB backend over the mingo stand-in,
// and a real MongoDB server when MONGODB_TEST_URI is set. A record written through one
// backend and read back has the same fields and types as through any other. One suite per
// collection (the files beside this one), each against a store of its own.
import { describe, test } from 'node:test';
import { agentRunsContract } from './agent-runs.ts';
import { catalogsContract } from './catalogs.ts';
import { contractStore, type ContractOptions, type OpenStore } from './context.ts';
import { errorsContract } from './errors.ts';
import { metricsContract } from './metrics.ts';
import { migrationsContract } from './migrations.ts';
import { modelHealthContract } from './model-health.ts';
import { modelsContract } from './models.ts';
import { rollupsContract } from './rollups.ts';
import { runsContract } from './runs.ts';
import { scenariosContract } from './scenarios.ts';
import { sweepSkipsContract } from './sweep-skips.ts';
import { benchSweepsContract } from './sweeps.ts';

export function storeContract(name: string, open: OpenStore, options: ContractOptions = {}): void {
  modelsContract(name, open);
  metricsContract(name, open);
  errorsContract(name, open);
  runsContract(name, open, options);
  catalogsContract(name, open);
  modelHealthContract(name, open);
  scenariosContract(name, open);
  agentRunsContract(name, open, options);
  sweepSkipsContract(name, open);
  benchSweepsContract(name, open);
  migrationsContract(name, open);
  rollupsContract(name, open);
  describe(`${name} store contract: connection`, () => {
    const store = contractStore(open);

    test('ping answers on a reachable store', async () => {
      await store.ping();
    });
  });
}
