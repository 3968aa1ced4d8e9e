// The gateway's schema, one entry per version; never edit an entry that has shipped, add a new one.
// INTEGER columns named *_at hold unix milliseconds; ledger.occurred_at is RFC 3339 (it is hashed and sent upstream).
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
];
