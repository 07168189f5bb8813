import GRDB
import Vocabulary

/// The SQLite schema as named migrations, applied in order at open; a migration, once shipped,
/// never changes (add a new one instead).
///
/// The schema defends the data: NOT NULL everywhere a value is required, foreign keys, CHECKs on
/// statuses, ranges and lengths, money as integer cents, coordinates as E7 integers, and triggers
/// that make `order_events` append-only.
enum SQLiteSchema {
    /// Migration identifiers, in order.
    static let migrationNames = [
        "v1_orders", "v1_order_events", "v1_idempotency_keys", "v1_ratings", "v1_webhooks", "v2_text_party_ids", "v2_fences",
        "v3_order_timing", "v3_outbox",
    ]

    static func migrator() -> DatabaseMigrator {
        var m = DatabaseMigrator()
        let statuses = OrderStatus.sqlList
        let roles = ActorRef.Role.sqlList
        m.registerMigration("v1_orders") { db in
            try db.execute(sql: """
                CREATE TABLE orders (
                  id INTEGER PRIMARY KEY,
                  customer_id INTEGER NOT NULL,
                  courier_id INTEGER,
                  status TEXT NOT NULL CHECK (status IN (\(statuses))),
                  vehicle TEXT NOT NULL CHECK (length(vehicle) BETWEEN 1 AND 32),
                  pickup_lat_e7 INTEGER NOT NULL CHECK (pickup_lat_e7 BETWEEN -900000000 AND 900000000),
                  pickup_lng_e7 INTEGER NOT NULL CHECK (pickup_lng_e7 BETWEEN -1800000000 AND 1800000000),
                  dropoff_lat_e7 INTEGER NOT NULL CHECK (dropoff_lat_e7 BETWEEN -900000000 AND 900000000),
                  dropoff_lng_e7 INTEGER NOT NULL CHECK (dropoff_lng_e7 BETWEEN -1800000000 AND 1800000000),
                  quote_id TEXT CHECK (quote_id IS NULL OR length(quote_id) BETWEEN 1 AND 64),
                  price_cents INTEGER NOT NULL CHECK (price_cents >= 0),
                  currency TEXT NOT NULL CHECK (length(currency) = 3),
                  surge_milli INTEGER NOT NULL CHECK (surge_milli >= 0),
                  distance_m INTEGER NOT NULL CHECK (distance_m >= 0),
                  duration_s INTEGER NOT NULL CHECK (duration_s >= 0),
                  created_at_ms INTEGER NOT NULL,
                  updated_at_ms INTEGER NOT NULL,
                  CHECK (courier_id IS NOT NULL OR status NOT IN ('dispatched','accepted','picked_up','delivered'))
                );
                CREATE INDEX orders_by_customer ON orders(customer_id, id);
                CREATE INDEX orders_by_courier ON orders(courier_id, id) WHERE courier_id IS NOT NULL;
                CREATE INDEX orders_by_status ON orders(status, id);
                """)
        }
        m.registerMigration("v1_order_events") { db in
            try db.execute(sql: """
                CREATE TABLE order_events (
                  id INTEGER PRIMARY KEY,
                  order_id INTEGER NOT NULL REFERENCES orders(id),
                  from_status TEXT CHECK (from_status IS NULL OR from_status IN (\(statuses))),
                  to_status TEXT NOT NULL CHECK (to_status IN (\(statuses))),
                  actor_role TEXT NOT NULL CHECK (actor_role IN (\(roles))),
                  actor_id INTEGER NOT NULL,
                  reason TEXT CHECK (reason IS NULL OR length(reason) <= 200),
                  at_ms INTEGER NOT NULL
                );
                CREATE INDEX order_events_by_order ON order_events(order_id, id);
                CREATE TRIGGER order_events_no_update BEFORE UPDATE ON order_events
                  BEGIN SELECT RAISE(ABORT, 'order_events is append-only'); END;
                CREATE TRIGGER order_events_no_delete BEFORE DELETE ON order_events
                  BEGIN SELECT RAISE(ABORT, 'order_events is append-only'); END;
                """)
        }
        m.registerMigration("v1_idempotency_keys") { db in
            try db.execute(sql: """
                CREATE TABLE idempotency_keys (
                  customer_id INTEGER NOT NULL,
                  key TEXT NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
                  fingerprint TEXT NOT NULL,
                  order_id INTEGER NOT NULL REFERENCES orders(id),
                  created_at_ms INTEGER NOT NULL,
                  PRIMARY KEY (customer_id, key)
                ) WITHOUT ROWID;
                """)
        }
        m.registerMigration("v1_ratings") { db in
            try db.execute(sql: """
                CREATE TABLE ratings (
                  order_id INTEGER NOT NULL REFERENCES orders(id),
                  direction TEXT NOT NULL CHECK (direction IN ('customer_to_courier','courier_to_customer')),
                  rater_id INTEGER NOT NULL,
                  subject_id INTEGER NOT NULL,
                  stars INTEGER NOT NULL CHECK (stars BETWEEN 1 AND 5),
                  comment TEXT CHECK (comment IS NULL OR length(comment) <= 500),
                  created_at_ms INTEGER NOT NULL,
                  PRIMARY KEY (order_id, direction)
                ) WITHOUT ROWID;
                CREATE INDEX ratings_by_subject ON ratings(direction, subject_id);
                CREATE TABLE rating_totals (
                  subject_kind TEXT NOT NULL CHECK (subject_kind IN ('courier','customer')),
                  subject_id INTEGER NOT NULL,
                  count INTEGER NOT NULL CHECK (count >= 0),
                  stars_sum INTEGER NOT NULL CHECK (stars_sum BETWEEN count AND 5 * count),
                  PRIMARY KEY (subject_kind, subject_id)
                ) WITHOUT ROWID;
                """)
        }
        m.registerMigration("v1_webhooks") { db in
            try db.execute(sql: """
                CREATE TABLE webhook_deliveries (
                  id INTEGER PRIMARY KEY,
                  endpoint TEXT NOT NULL CHECK (length(endpoint) BETWEEN 1 AND 2048),
                  event TEXT NOT NULL CHECK (length(event) BETWEEN 1 AND 64),
                  body BLOB NOT NULL,
                  state TEXT NOT NULL CHECK (state IN (\(WebhookDeliveryRecord.State.sqlList))),
                  attempts INTEGER NOT NULL CHECK (attempts >= 0),
                  last_error TEXT,
                  created_at_ms INTEGER NOT NULL,
                  updated_at_ms INTEGER NOT NULL
                );
                CREATE INDEX webhook_deliveries_pending ON webhook_deliveries(id) WHERE state = 'pending';
                CREATE TABLE webhook_dead_letters (
                  delivery_id INTEGER PRIMARY KEY REFERENCES webhook_deliveries(id),
                  endpoint TEXT NOT NULL,
                  event TEXT NOT NULL,
                  body BLOB NOT NULL,
                  attempts INTEGER NOT NULL CHECK (attempts >= 1),
                  last_error TEXT,
                  dead_at_ms INTEGER NOT NULL
                );
                """)
        }
        m.registerMigration("v2_text_party_ids") { db in try textPartyIDs(db, statuses: statuses, roles: roles) }
        m.registerMigration("v2_fences") { db in
            try db.execute(sql: """
                CREATE TABLE fences (
                  id TEXT PRIMARY KEY CHECK (length(CAST(id AS BLOB)) BETWEEN 1 AND 64),
                  definition BLOB NOT NULL CHECK (length(definition) BETWEEN 2 AND 1048576),
                  expires_at_ms INTEGER,
                  created_at_ms INTEGER NOT NULL,
                  updated_at_ms INTEGER NOT NULL
                ) WITHOUT ROWID;
                """)
        }
        // Ready time, deadline and maximum ride of an order (docs/dispatch.md), whole seconds; NULL = not given.
        m.registerMigration("v3_order_timing") { db in
            try db.execute(sql: """
                ALTER TABLE orders ADD COLUMN ready_in_s INTEGER CHECK (ready_in_s IS NULL OR ready_in_s BETWEEN 0 AND 86400);
                ALTER TABLE orders ADD COLUMN deadline_s INTEGER CHECK (deadline_s IS NULL OR deadline_s BETWEEN 1 AND 86400);
                ALTER TABLE orders ADD COLUMN max_ride_s INTEGER CHECK (max_ride_s IS NULL OR max_ride_s BETWEEN 1 AND 86400);
                """)
        }
        m.registerMigration("v3_outbox") { db in
            // Events waiting for the relay (docs/events.md); rows leave once the broker acknowledged them. The store's
            // random identity prefixes their message ids, so two stores publishing to one stream never collide.
            try db.execute(sql: """
                CREATE TABLE outbox (
                  id INTEGER PRIMARY KEY,
                  subject TEXT NOT NULL CHECK (length(subject) BETWEEN 1 AND 255),
                  message_id TEXT NOT NULL CHECK (length(message_id) BETWEEN 1 AND 128),
                  payload BLOB NOT NULL,
                  created_at_ms INTEGER NOT NULL
                );
                CREATE TABLE store_identity (id TEXT NOT NULL CHECK (length(id) = 16));
                INSERT INTO store_identity (id) VALUES (lower(hex(randomblob(8))));
                """)
        }
        return m
    }

    /// `v2_text_party_ids`: customer ids became opaque strings, so every column that holds one (`orders.customer_id`,
    /// `idempotency_keys.customer_id`, `order_events.actor_id`, `ratings.rater_id`/`subject_id`,
    /// `rating_totals.subject_id`) becomes TEXT. SQLite cannot change a column's type in place, so each table is
    /// rebuilt (create, copy, drop, rename; GRDB turns foreign keys off for the migration and checks them after).
    /// Numbers stored by v1 (a UInt64's bits as a signed integer) are copied as their unsigned decimal text, so
    /// customer `7` stays `"7"` and courier ids in the event log and ratings read back unchanged.
    private static func textPartyIDs(_ db: Database, statuses: String, roles: String) throws {
        let unsignedText = DatabaseFunction("hexfleet_unsigned_text", argumentCount: 1, pure: true) { values in
            guard let n = Int64.fromDatabaseValue(values[0]) else { return String?.none }
            return String(UInt64(bitPattern: n))
        }
        db.add(function: unsignedText)
        defer { db.remove(function: unsignedText) }
        let partyID = "TEXT NOT NULL CHECK (length(%@) BETWEEN 1 AND 64)"
        func id(_ column: String) -> String { "\(column) " + partyID.replacingOccurrences(of: "%@", with: column) }
        try db.execute(sql: """
            CREATE TABLE orders_v2 (
              id INTEGER PRIMARY KEY,
              \(id("customer_id")),
              courier_id INTEGER,
              status TEXT NOT NULL CHECK (status IN (\(statuses))),
              vehicle TEXT NOT NULL CHECK (length(vehicle) BETWEEN 1 AND 32),
              pickup_lat_e7 INTEGER NOT NULL CHECK (pickup_lat_e7 BETWEEN -900000000 AND 900000000),
              pickup_lng_e7 INTEGER NOT NULL CHECK (pickup_lng_e7 BETWEEN -1800000000 AND 1800000000),
              dropoff_lat_e7 INTEGER NOT NULL CHECK (dropoff_lat_e7 BETWEEN -900000000 AND 900000000),
              dropoff_lng_e7 INTEGER NOT NULL CHECK (dropoff_lng_e7 BETWEEN -1800000000 AND 1800000000),
              quote_id TEXT CHECK (quote_id IS NULL OR length(quote_id) BETWEEN 1 AND 64),
              price_cents INTEGER NOT NULL CHECK (price_cents >= 0),
              currency TEXT NOT NULL CHECK (length(currency) = 3),
              surge_milli INTEGER NOT NULL CHECK (surge_milli >= 0),
              distance_m INTEGER NOT NULL CHECK (distance_m >= 0),
              duration_s INTEGER NOT NULL CHECK (duration_s >= 0),
              created_at_ms INTEGER NOT NULL,
              updated_at_ms INTEGER NOT NULL,
              CHECK (courier_id IS NOT NULL OR status NOT IN ('dispatched','accepted','picked_up','delivered'))
            );
            INSERT INTO orders_v2 SELECT id, hexfleet_unsigned_text(customer_id), courier_id, status, vehicle,
              pickup_lat_e7, pickup_lng_e7, dropoff_lat_e7, dropoff_lng_e7, quote_id, price_cents, currency,
              surge_milli, distance_m, duration_s, created_at_ms, updated_at_ms FROM orders;
            DROP TABLE orders;
            ALTER TABLE orders_v2 RENAME TO orders;
            CREATE INDEX orders_by_customer ON orders(customer_id, id);
            CREATE INDEX orders_by_courier ON orders(courier_id, id) WHERE courier_id IS NOT NULL;
            CREATE INDEX orders_by_status ON orders(status, id);

            CREATE TABLE order_events_v2 (
              id INTEGER PRIMARY KEY,
              order_id INTEGER NOT NULL REFERENCES orders(id),
              from_status TEXT CHECK (from_status IS NULL OR from_status IN (\(statuses))),
              to_status TEXT NOT NULL CHECK (to_status IN (\(statuses))),
              actor_role TEXT NOT NULL CHECK (actor_role IN (\(roles))),
              \(id("actor_id")),
              reason TEXT CHECK (reason IS NULL OR length(reason) <= 200),
              at_ms INTEGER NOT NULL
            );
            INSERT INTO order_events_v2 SELECT id, order_id, from_status, to_status, actor_role,
              hexfleet_unsigned_text(actor_id), reason, at_ms FROM order_events;
            DROP TABLE order_events;
            ALTER TABLE order_events_v2 RENAME TO order_events;
            CREATE INDEX order_events_by_order ON order_events(order_id, id);
            CREATE TRIGGER order_events_no_update BEFORE UPDATE ON order_events
              BEGIN SELECT RAISE(ABORT, 'order_events is append-only'); END;
            CREATE TRIGGER order_events_no_delete BEFORE DELETE ON order_events
              BEGIN SELECT RAISE(ABORT, 'order_events is append-only'); END;

            CREATE TABLE idempotency_keys_v2 (
              \(id("customer_id")),
              key TEXT NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
              fingerprint TEXT NOT NULL,
              order_id INTEGER NOT NULL REFERENCES orders(id),
              created_at_ms INTEGER NOT NULL,
              PRIMARY KEY (customer_id, key)
            ) WITHOUT ROWID;
            INSERT INTO idempotency_keys_v2 SELECT hexfleet_unsigned_text(customer_id), key, fingerprint, order_id,
              created_at_ms FROM idempotency_keys;
            DROP TABLE idempotency_keys;
            ALTER TABLE idempotency_keys_v2 RENAME TO idempotency_keys;

            CREATE TABLE ratings_v2 (
              order_id INTEGER NOT NULL REFERENCES orders(id),
              direction TEXT NOT NULL CHECK (direction IN ('customer_to_courier','courier_to_customer')),
              \(id("rater_id")),
              \(id("subject_id")),
              stars INTEGER NOT NULL CHECK (stars BETWEEN 1 AND 5),
              comment TEXT CHECK (comment IS NULL OR length(comment) <= 500),
              created_at_ms INTEGER NOT NULL,
              PRIMARY KEY (order_id, direction)
            ) WITHOUT ROWID;
            INSERT INTO ratings_v2 SELECT order_id, direction, hexfleet_unsigned_text(rater_id),
              hexfleet_unsigned_text(subject_id), stars, comment, created_at_ms FROM ratings;
            DROP TABLE ratings;
            ALTER TABLE ratings_v2 RENAME TO ratings;
            CREATE INDEX ratings_by_subject ON ratings(direction, subject_id);

            CREATE TABLE rating_totals_v2 (
              subject_kind TEXT NOT NULL CHECK (subject_kind IN ('courier','customer')),
              \(id("subject_id")),
              count INTEGER NOT NULL CHECK (count >= 0),
              stars_sum INTEGER NOT NULL CHECK (stars_sum BETWEEN count AND 5 * count),
              PRIMARY KEY (subject_kind, subject_id)
            ) WITHOUT ROWID;
            INSERT INTO rating_totals_v2 SELECT subject_kind, hexfleet_unsigned_text(subject_id), count, stars_sum
              FROM rating_totals;
            DROP TABLE rating_totals;
            ALTER TABLE rating_totals_v2 RENAME TO rating_totals;
            """)
    }
}
