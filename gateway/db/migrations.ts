// The gateway's schema, one entry per version; never edit an entry that has shipped, add a new one.
// INTEGER columns named *_at hold unix milliseconds; ledger.occurred_at is RFC 3339 (it is hashed and sent upstream).
/** Migration 4: the states of a payment that count for the velocity rule. Shipped with it: never change. */
const PAYING = "('authorizing','approved','voided','refunded','partially_refunded')";

/**
 * Migration 4's recompute of the devices `target` selects (alias d): the reset point, then the total and the count
 * after it. Part of a migration that has shipped once it has: never change what it returns.
 */
function recomputeDevices(target: string): string {
  return `UPDATE offline_device_exposure AS d SET
      reset_seq = (SELECT coalesce(max(e.seq), 0) FROM offline_device_entries e
        WHERE e.device_id = d.device_id AND (e.mode = 'online' OR e.status = 'done'))
      WHERE ${target};
    UPDATE offline_device_exposure AS d SET
      total = (SELECT coalesce(sum(e.amount), 0) FROM offline_device_entries e
        WHERE e.device_id = d.device_id AND e.mode = 'offline' AND e.status = 'pending' AND NOT e.voided),
      consecutive = (SELECT count(*) FROM offline_device_entries e
        WHERE e.device_id = d.device_id AND e.mode = 'offline' AND e.status <> 'done' AND NOT e.voided
          AND e.seq > d.reset_seq)
      WHERE ${target};`;
}

export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE payments (
    id TEXT PRIMARY KEY,
    register_id TEXT NOT NULL,
    lane_id TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('awaiting_scan','authorizing','approved','declined','cancelled','expired','voided','refunded','partially_refunded')),
    amount INTEGER NOT NULL CHECK (amount > 0),
    currency TEXT NOT NULL,
    order_ref TEXT NOT NULL,
    basket_json TEXT,
    mode TEXT CHECK (mode IN ('online','offline')),
    approved INTEGER,
    reason TEXT,
    authorization_id TEXT UNIQUE,
    account_id TEXT,
    device_id TEXT,
    counter INTEGER,
    code_kind TEXT CHECK (code_kind IN ('pc1','numeric')),
    code_hash TEXT,
    refunded_amount INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    scan_deadline_at INTEGER,
    authorize_deadline_at INTEGER,
    decided_at INTEGER,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX payments_open ON payments(state) WHERE state IN ('awaiting_scan','authorizing');
  CREATE INDEX payments_lane ON payments(lane_id, created_at);
  CREATE INDEX payments_code_hash ON payments(code_hash) WHERE code_hash IS NOT NULL;

  -- The highest PC1 counter this gateway has accepted for each device (CONTRACT §1.1 check 8).
  CREATE TABLE device_counters (
    device_id TEXT PRIMARY KEY,
    max_counter INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );

  -- Append-only, hash-chained (gateway/ledger/chain.ts).
  CREATE TABLE ledger (
    seq INTEGER PRIMARY KEY,
    entry_id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    mode TEXT NOT NULL,
    payment_id TEXT NOT NULL,
    authorization_id TEXT NOT NULL,
    amount INTEGER NOT NULL,
    currency TEXT NOT NULL,
    account_id TEXT,
    device_id TEXT,
    counter INTEGER,
    lane_id TEXT NOT NULL,
    register_id TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
  );
  CREATE INDEX ledger_payment ON ledger(payment_id);
  CREATE INDEX ledger_account ON ledger(account_id, occurred_at);
  CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
  CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;

  -- Work for sync/: ledger entries to upload and calls to repeat until the wallet confirms.
  CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('ledger_entry','reversal','refund')),
    ledger_seq INTEGER REFERENCES ledger(seq),
    -- reversal: the authorization to reverse; refund: the authorization refunded.
    authorization_id TEXT,
    -- refund only: the refund id (stable across retries) and its amount.
    refund_id TEXT,
    amount INTEGER,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','done','rejected')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    result_reason TEXT,
    created_at INTEGER NOT NULL,
    done_at INTEGER
  );
  CREATE INDEX outbox_pending ON outbox(kind, status, id);

  CREATE TABLE idempotency (
    register_id TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    payment_id TEXT,
    status_code INTEGER,
    response_json TEXT,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (register_id, key)
  );

  CREATE TABLE refunds (
    id TEXT PRIMARY KEY,
    payment_id TEXT NOT NULL REFERENCES payments(id),
    register_id TEXT NOT NULL,
    amount INTEGER NOT NULL CHECK (amount > 0),
    state TEXT NOT NULL CHECK (state IN ('pending','succeeded','failed')),
    reason TEXT,
    created_at INTEGER NOT NULL,
    decided_at INTEGER
  );
  CREATE INDEX refunds_payment ON refunds(payment_id);

  CREATE TABLE issuer_keys (
    kid INTEGER PRIMARY KEY,
    public_key TEXT NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL
  );

  -- Deny-lists from the wallet's risk feed (CONTRACT §3.4).
  CREATE TABLE frozen_accounts (account_id TEXT PRIMARY KEY, since INTEGER NOT NULL);
  CREATE TABLE revoked_devices (device_id TEXT PRIMARY KEY, since INTEGER NOT NULL);

  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  `,
  // 1 — sync/: upload batches (persisted before the first send, so a retry resends the same batch id and
  // entries), the uploader lease (one uploader per database), the store's losses, and the indexes sync needs.
  `
  CREATE TABLE sync_batches (
    batch_id TEXT PRIMARY KEY,
    first_seq INTEGER NOT NULL,
    last_seq INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    sends INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    settled INTEGER,
    rejected INTEGER,
    done_at INTEGER
  );
  CREATE INDEX sync_batches_open ON sync_batches(first_seq) WHERE done_at IS NULL;

  CREATE TABLE sync_leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at INTEGER NOT NULL
  );

  -- One outbox row per ledger entry; the partial index keeps "next pending entry" fast under any backlog.
  CREATE UNIQUE INDEX outbox_ledger_seq ON outbox(ledger_seq) WHERE ledger_seq IS NOT NULL;
  CREATE INDEX outbox_ledger_pending ON outbox(ledger_seq) WHERE kind = 'ledger_entry' AND status = 'pending';
  CREATE INDEX ledger_authorization ON ledger(authorization_id);

  -- Approvals the wallet refused to settle (CONTRACT §3.2) and that no void or reversal took back: the store's losses.
  CREATE VIEW sync_losses AS
    SELECT l.seq, l.entry_id, l.payment_id, l.authorization_id, l.mode, l.amount, l.currency, l.account_id,
      l.device_id, l.occurred_at, o.result_reason AS reason, o.done_at AS rejected_at
    FROM outbox o JOIN ledger l ON l.seq = o.ledger_seq
    WHERE o.kind = 'ledger_entry' AND o.status = 'rejected' AND l.type = 'authorization'
      AND NOT EXISTS (
        SELECT 1 FROM ledger t WHERE t.payment_id = l.payment_id AND t.type IN ('void', 'reversal')
      );
  `,
  // 2 — gateway/offline/: what offline acceptance and the velocity rule need beyond the ledger and the outbox.
  // Unsynced exposure is not stored: it is derived from the ledger/outbox join (docs/offline.md), so sync/
  // releases it by marking outbox rows, and nothing can drift.
  `
  -- One row per payment whose PC1 code reached a decision step (online or offline): the velocity window.
  CREATE TABLE account_activity (
    payment_id TEXT PRIMARY KEY REFERENCES payments(id),
    account_id TEXT NOT NULL,
    lane_id TEXT NOT NULL,
    at INTEGER NOT NULL
  );
  CREATE INDEX account_activity_window ON account_activity(account_id, at);

  -- The certificate fields of devices that were decided offline, for per-device headroom in /v1/status.
  CREATE TABLE offline_devices (
    device_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    offline_limit INTEGER NOT NULL,
    enrolled_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );

  -- A device's approvals by mode in seq order: its unsynced offline total and consecutive offline count.
  CREATE INDEX ledger_device_authorizations ON ledger(device_id, mode, seq) WHERE type = 'authorization';
  `,
  // 3 — the store's unsynced offline total as a counter, kept by triggers in the same transaction as every write
  // that moves it, so that an offline decision reads one row instead of summing the whole unsynced backlog. The
  // definition is still migration 2's (offline.md): an offline authorization entry counts while its outbox row is
  // pending and its payment is not voided. Triggers, not application code, keep it, so no write path can forget
  // it; `tillgate verify-ledger` compares it with the derived sum.
  `
  CREATE TABLE offline_store_exposure (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    total INTEGER NOT NULL
  );
  -- The ledger entries that can count: offline authorizations whose payment is not voided.
  CREATE VIEW offline_exposure_entries AS
    SELECT l.seq, l.amount FROM ledger l JOIN payments p ON p.id = l.payment_id
    WHERE l.type = 'authorization' AND l.mode = 'offline' AND p.state <> 'voided';
  INSERT INTO offline_store_exposure (id, total)
    SELECT 1, coalesce(sum(e.amount), 0) FROM offline_exposure_entries e
    JOIN outbox o ON o.ledger_seq = e.seq AND o.kind = 'ledger_entry'
    WHERE o.status = 'pending';

  -- An outbox row's share: its entry's amount when the row is a pending ledger_entry of one of those entries, else
  -- nothing. Each trigger takes the old share off and adds the new.
  CREATE TRIGGER offline_exposure_outbox_insert AFTER INSERT ON outbox
    WHEN NEW.kind = 'ledger_entry' AND NEW.status = 'pending'
  BEGIN
    UPDATE offline_store_exposure
      SET total = total + coalesce((SELECT amount FROM offline_exposure_entries WHERE seq = NEW.ledger_seq), 0)
      WHERE id = 1;
  END;
  CREATE TRIGGER offline_exposure_outbox_update AFTER UPDATE OF kind, status, ledger_seq ON outbox
    WHEN (OLD.kind = 'ledger_entry' AND OLD.status = 'pending') OR (NEW.kind = 'ledger_entry' AND NEW.status = 'pending')
  BEGIN
    UPDATE offline_store_exposure SET total = total
      - CASE WHEN OLD.kind = 'ledger_entry' AND OLD.status = 'pending'
          THEN coalesce((SELECT amount FROM offline_exposure_entries WHERE seq = OLD.ledger_seq), 0) ELSE 0 END
      + CASE WHEN NEW.kind = 'ledger_entry' AND NEW.status = 'pending'
          THEN coalesce((SELECT amount FROM offline_exposure_entries WHERE seq = NEW.ledger_seq), 0) ELSE 0 END
    WHERE id = 1;
  END;
  CREATE TRIGGER offline_exposure_outbox_delete AFTER DELETE ON outbox
    WHEN OLD.kind = 'ledger_entry' AND OLD.status = 'pending'
  BEGIN
    UPDATE offline_store_exposure
      SET total = total - coalesce((SELECT amount FROM offline_exposure_entries WHERE seq = OLD.ledger_seq), 0)
      WHERE id = 1;
  END;
  -- A payment voided (or, never in practice, taken out of voided) moves its pending offline authorizations.
  CREATE TRIGGER offline_exposure_payment_voided AFTER UPDATE OF state ON payments
    WHEN (OLD.state = 'voided') <> (NEW.state = 'voided')
  BEGIN
    UPDATE offline_store_exposure SET total = total
      + (CASE WHEN NEW.state = 'voided' THEN -1 ELSE 1 END) * (
        SELECT coalesce(sum(l.amount), 0) FROM ledger l
        JOIN outbox o ON o.ledger_seq = l.seq AND o.kind = 'ledger_entry'
        WHERE l.payment_id = NEW.id AND o.status = 'pending' AND l.type = 'authorization' AND l.mode = 'offline'
      )
    WHERE id = 1;
  END;
  `,
  // 4 — each device's unsynced offline total and consecutive offline count as counters, kept by triggers like the
  // store's (migration 3), so that an offline decision reads one row however long the device's history: the derived
  // queries walk every entry a device has since its last settled one, which a long outage keeps growing. The
  // definitions are unchanged (offline.md): the total counts a device's offline authorizations whose outbox row is
  // pending and whose payment is not voided; the consecutive count those not yet 'done' and not voided after its
  // reset point, its last online authorization or last 'done' one (`reset_seq`). The hot writes (an entry's outbox
  // row inserted, sync/ answering it, a void) move the counters by what they change; a rare write that could move
  // the reset point backwards (a row taken out of 'done', re-pointed or deleted) recomputes that device.
  // `tillgate verify-ledger` compares every device's counters with the derived figures.
  `
  CREATE TABLE offline_device_exposure (
    device_id TEXT PRIMARY KEY,
    total INTEGER NOT NULL,
    consecutive INTEGER NOT NULL,
    reset_seq INTEGER NOT NULL
  ) WITHOUT ROWID;
  -- A device's authorization entries with their outbox status and whether their payment is voided.
  CREATE VIEW offline_device_entries AS
    SELECT l.seq, l.device_id, l.amount, l.mode, o.status, p.state = 'voided' AS voided
    FROM ledger l
    JOIN outbox o ON o.ledger_seq = l.seq AND o.kind = 'ledger_entry'
    JOIN payments p ON p.id = l.payment_id
    WHERE l.type = 'authorization' AND l.device_id IS NOT NULL;
  -- The seed: every device with an entry, recomputed.
  INSERT INTO offline_device_exposure (device_id, total, consecutive, reset_seq)
    SELECT DISTINCT device_id, 0, 0, 0 FROM offline_device_entries;
  ${recomputeDevices('1')}

  -- A new entry's outbox row: an offline approval adds to the total and, after the reset point, to the count; an
  -- online one (or one already 'done') is the new reset point, so only entries after it still count.
  CREATE TRIGGER offline_device_outbox_insert AFTER INSERT ON outbox WHEN NEW.kind = 'ledger_entry'
  BEGIN
    INSERT OR IGNORE INTO offline_device_exposure (device_id, total, consecutive, reset_seq)
      SELECT device_id, 0, 0, 0 FROM offline_device_entries WHERE seq = NEW.ledger_seq;
    UPDATE offline_device_exposure AS d SET
      total = d.total + (e.mode = 'offline' AND e.status = 'pending' AND NOT e.voided) * e.amount,
      consecutive = CASE
        WHEN (e.mode = 'online' OR e.status = 'done') AND e.seq > d.reset_seq THEN
          (SELECT count(*) FROM offline_device_entries x WHERE x.device_id = d.device_id AND x.mode = 'offline'
            AND x.status <> 'done' AND NOT x.voided AND x.seq > e.seq)
        WHEN e.mode = 'offline' AND e.status <> 'done' AND NOT e.voided AND e.seq > d.reset_seq THEN d.consecutive + 1
        ELSE d.consecutive END,
      reset_seq = CASE WHEN e.mode = 'online' OR e.status = 'done' THEN max(d.reset_seq, e.seq) ELSE d.reset_seq END
    FROM (SELECT * FROM offline_device_entries WHERE seq = NEW.ledger_seq) AS e
    WHERE d.device_id = e.device_id;
  END;

  -- sync/ answers an entry (pending → done or rejected): the total loses a pending share; a 'done' past the reset
  -- point becomes the reset point, and the entries it passes (itself included) stop counting.
  CREATE TRIGGER offline_device_outbox_answer AFTER UPDATE OF kind, status, ledger_seq ON outbox
    WHEN OLD.kind = 'ledger_entry' AND NEW.kind = 'ledger_entry' AND OLD.ledger_seq IS NEW.ledger_seq
      AND OLD.status IS NOT NEW.status AND OLD.status <> 'done'
  BEGIN
    UPDATE offline_device_exposure AS d SET
      total = d.total + (e.mode = 'offline' AND NOT e.voided) * e.amount
        * ((NEW.status = 'pending') - (OLD.status = 'pending')),
      consecutive = CASE
        WHEN NEW.status = 'done' AND e.seq > d.reset_seq THEN d.consecutive
          - (e.mode = 'offline' AND NOT e.voided)
          - (SELECT count(*) FROM offline_device_entries x WHERE x.device_id = d.device_id AND x.mode = 'offline'
              AND x.status <> 'done' AND NOT x.voided AND x.seq > d.reset_seq AND x.seq < e.seq)
        ELSE d.consecutive END,
      reset_seq = CASE WHEN NEW.status = 'done' THEN max(d.reset_seq, e.seq) ELSE d.reset_seq END
    FROM (SELECT * FROM offline_device_entries WHERE seq = NEW.ledger_seq) AS e
    WHERE d.device_id = e.device_id;
  END;

  -- Any other change to a ledger entry's outbox row (tillgate makes none today: rows go pending → done or rejected
  -- and stay) could move a reset point backwards: the devices touched are recomputed.
  CREATE TRIGGER offline_device_outbox_other AFTER UPDATE OF kind, status, ledger_seq ON outbox
    WHEN (OLD.kind = 'ledger_entry' OR NEW.kind = 'ledger_entry') AND (OLD.kind IS NOT NEW.kind
      OR OLD.ledger_seq IS NOT NEW.ledger_seq OR (OLD.status = 'done' AND NEW.status IS NOT 'done'))
  BEGIN
    INSERT OR IGNORE INTO offline_device_exposure (device_id, total, consecutive, reset_seq)
      SELECT device_id, 0, 0, 0 FROM ledger
      WHERE seq IN (OLD.ledger_seq, NEW.ledger_seq) AND type = 'authorization' AND device_id IS NOT NULL;
    ${recomputeDevices('d.device_id IN (SELECT device_id FROM ledger WHERE seq IN (OLD.ledger_seq, NEW.ledger_seq))')}
  END;
  CREATE TRIGGER offline_device_outbox_delete AFTER DELETE ON outbox WHEN OLD.kind = 'ledger_entry'
  BEGIN
    ${recomputeDevices('d.device_id = (SELECT device_id FROM ledger WHERE seq = OLD.ledger_seq)')}
  END;

  -- A payment voided (or taken out of voided) moves its offline authorizations: pending ones in the total, those
  -- not 'done' after the reset point in the count.
  CREATE TRIGGER offline_device_payment_voided AFTER UPDATE OF state ON payments
    WHEN (OLD.state = 'voided') <> (NEW.state = 'voided')
  BEGIN
    UPDATE offline_device_exposure AS d SET
      total = d.total + (CASE WHEN NEW.state = 'voided' THEN -1 ELSE 1 END) * (
        SELECT coalesce(sum(e.amount), 0) FROM offline_device_entries e JOIN ledger l ON l.seq = e.seq
        WHERE l.payment_id = NEW.id AND e.device_id = d.device_id AND e.mode = 'offline' AND e.status = 'pending'),
      consecutive = d.consecutive + (CASE WHEN NEW.state = 'voided' THEN -1 ELSE 1 END) * (
        SELECT count(*) FROM offline_device_entries e JOIN ledger l ON l.seq = e.seq
        WHERE l.payment_id = NEW.id AND e.device_id = d.device_id AND e.mode = 'offline' AND e.status <> 'done'
          AND e.seq > d.reset_seq)
    WHERE d.device_id IN (SELECT device_id FROM ledger WHERE payment_id = NEW.id AND type = 'authorization');
  END;

  -- The velocity window keeps only paying payments (approved once, or still deciding): one that ends otherwise
  -- (declined, cancelled, expired) leaves it in the same transaction, so the rule counts index entries of the
  -- account instead of looking up every one's payment. The index covers the rule's query.
  DELETE FROM account_activity WHERE payment_id IN (SELECT id FROM payments WHERE state NOT IN ${PAYING});
  CREATE TRIGGER account_activity_not_paying AFTER UPDATE OF state ON payments WHEN NEW.state NOT IN ${PAYING}
  BEGIN
    DELETE FROM account_activity WHERE payment_id = NEW.id;
  END;
  DROP INDEX account_activity_window;
  CREATE INDEX account_activity_window ON account_activity(account_id, at, lane_id);
  `,
];
