// Which collection a document goes to (SPEC 4.1), in one place. The public dashboard reads
// metrics_cloud_v2 and does not look at benchmark_profile_id, so a row of any other profile
// (a longer prompt, a scenario of #14's) would be averaged into the published speed: those go
// to a collection of their own, which no published read looks at unless asked. Simulated
// (mock) rows never go to MongoDB at all, since MongoDB is what the dashboard publishes.

/** The one profile whose rows the dashboard publishes (SPEC 4.5). */
export const PUBLISHED_PROFILE_ID = 'cloud-default-v1';

/** `published`: metrics_cloud_v2 (SQLite: table metrics); `probe`: metrics_cloud_probe (SQLite: metrics_probe). */
export type MetricsCollection = 'published' | 'probe';

/**
 * Where a metric row of this profile is stored. A row without a profile predates profiles
 * and was measured with the published one.
 */
export function metricsCollectionFor(profileId: string | null | undefined): MetricsCollection {
  return profileId === undefined || profileId === null || profileId === PUBLISHED_PROFILE_ID ? 'published' : 'probe';
}

/** True for a document of the simulated provider, or one marked as simulated. */
export function isMockDocument(doc: { provider: string; mock?: boolean | undefined }): boolean {
  return doc.provider === 'mock' || doc.mock === true;
}

/** Why a simulated result or model is refused on MongoDB: said by every script and the ingest server. */
export const MOCK_ON_MONGODB =
  'simulated (mock) results never go to MongoDB, which the public dashboard reads; ' +
  'try the mock provider on the embedded SQLite store instead (MONGODB_URI unset)';
