import GRDB
import Vocabulary

extension SQLiteStore {
    public func addRating(_ rating: NewRating,
                          completion: @escaping @Sendable (Result<RatingRecord, StorageError>) -> Void) {
        guard (1...5).contains(rating.stars) else {
            completion(.failure(StorageError(.invalidInput, "stars must be 1–5")))
            return
        }
        if let c = rating.comment, c.unicodeScalars.count > 500 {
            completion(.failure(StorageError(.invalidInput, "comment must be at most 500 characters")))
            return
        }
        let nowMs = self.nowMs
        submit({ db in
            guard let order = try Self.fetchOrder(db, rating.orderID) else {
                throw StorageError(.orderNotFound, "no order \(rating.orderID)")
            }
            guard order.status == .delivered else {
                throw StorageError(.ratingNotAllowed, "order \(order.id) is \(order.status.rawValue), not delivered")
            }
            let subject: String
            switch rating.direction {
            case .customerToCourier:
                guard rating.raterID == order.customerID.rawValue, let courier = order.courierID else {
                    throw StorageError(.forbidden, "only the order's customer rates its courier")
                }
                subject = String(courier.rawValue)
            case .courierToCustomer:
                guard rating.raterID == order.courierID.map({ String($0.rawValue) }) else {
                    throw StorageError(.forbidden, "only the order's courier rates its customer")
                }
                subject = order.customerID.rawValue
            }
            let now = nowMs()
            let insert = try db.cachedStatement(sql: """
                INSERT INTO ratings (order_id, direction, rater_id, subject_id, stars, comment, created_at_ms)
                VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (order_id, direction) DO NOTHING
                """)
            try insert.execute(arguments: [order.id.rawValue.sqlValue, rating.direction.rawValue,
                                           rating.raterID, subject, rating.stars, rating.comment, now])
            guard db.changesCount == 1 else {
                throw StorageError(.alreadyRated, "order \(order.id) was already rated (\(rating.direction.rawValue))")
            }
            let totals = try db.cachedStatement(sql: """
                INSERT INTO rating_totals (subject_kind, subject_id, count, stars_sum) VALUES (?, ?, 1, ?)
                ON CONFLICT (subject_kind, subject_id) DO UPDATE SET count = count + 1, stars_sum = stars_sum + excluded.stars_sum
                """)
            try totals.execute(arguments: [rating.direction.subjectKind.rawValue, subject, rating.stars])
            return RatingRecord(orderID: order.id, direction: rating.direction, raterID: rating.raterID,
                                subjectID: subject, stars: rating.stars, comment: rating.comment, createdAtMs: now)
        }, completion: completion)
    }

    public func ratings(of id: OrderID) throws(StorageError) -> [RatingRecord] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT order_id, direction, rater_id, subject_id, stars, comment, created_at_ms
                FROM ratings WHERE order_id = ? ORDER BY direction
                """, arguments: [id.rawValue.sqlValue]).map { row in
                guard let direction = RatingDirection(rawValue: row[1]) else {
                    throw StorageError(.storageFailure, "malformed rating row")
                }
                return RatingRecord(orderID: OrderID((row[0] as Int64).unsignedID), direction: direction,
                                    raterID: row[2], subjectID: row[3],
                                    stars: row[4], comment: row[5], createdAtMs: row[6])
            }
        }
    }

    public func ratingTotals(kind: RatingSubjectKind) throws(StorageError) -> [RatingTotals] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT subject_id, count, stars_sum FROM rating_totals WHERE subject_kind = ? ORDER BY subject_id
                """, arguments: [kind.rawValue]).map { row in
                RatingTotals(kind: kind, subjectID: row[0], count: row[1], starsSum: row[2])
            }
        }
    }
}
