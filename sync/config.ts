// The `sync` section of the gateway's configuration: the ledger uploader and the risk-feed follower.
// Every batch, retry and wait has its bound here.
import * as z from 'zod';

const PositiveInt = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

export const SyncConfigSchema = z
  .object({
    /** When false, nothing runs in the background; `uploadNow()` and `tillgate sync` still work. */
    enabled: z.boolean().default(true),
    /** Ledger entries per upload batch (the sandbox wallet accepts at most 1000). */
    batchEntriesMax: PositiveInt.max(1000).default(500),
    retryInitialDelayMs: PositiveInt.max(60_000).default(250),
    retryMaxDelayMs: PositiveInt.max(600_000).default(30_000),
    /** Deadline of one upload or feed call. */
    callTimeoutMs: PositiveInt.max(120_000).default(10_000),
    /** Long-poll wait asked of the risk feed. */
    feedWaitMs: PositiveInt.max(30_000).default(25_000),
    /** Pace of plain polling, used while long polls fail. */
    feedPollIntervalMs: PositiveInt.max(60_000).default(1_000),
    /** After a long poll fails, how long to poll plainly before trying a long poll again. */
    feedLongPollRetryMs: PositiveInt.max(3_600_000).default(60_000),
    /** How often the idle uploader looks for new outbox rows. */
    idleIntervalMs: PositiveInt.max(60_000).default(1_000),
    /** Reversal and refund calls sent per pass. */
    callsPerPassMax: PositiveInt.max(1_000).default(50),
    /** Events handed to one feed transaction are bounded by the wallet's page; this bounds what we accept. */
    feedEventsPerPageMax: PositiveInt.max(10_000).default(1_000),
    /** The uploader lease: one uploader per database (the gateway or `tillgate sync`), renewed between batches, before it could run out during the next call. */
    leaseTtlMs: PositiveInt.min(1_000).max(600_000).default(30_000),
  })
  .strict()
  .refine((sync) => sync.retryMaxDelayMs >= sync.retryInitialDelayMs, {
    path: ['retryMaxDelayMs'],
    message: 'must be at least retryInitialDelayMs',
  })
  .refine((sync) => sync.leaseTtlMs > sync.callTimeoutMs, {
    path: ['leaseTtlMs'],
    message: 'must be longer than callTimeoutMs (the lease is renewed between calls)',
  });

export type SyncConfig = z.infer<typeof SyncConfigSchema>;
