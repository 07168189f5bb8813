import Vocabulary

extension PostgresStore {
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
        submit({ conn in
            guard let order = try Self.fetchOrder(conn, rating.orderID, lock: true) else {
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
            let inserted = try conn.query("""
                INSERT INTO ratings (order_id, direction, rater_id, subject_id, stars, comment, created_at_ms)
                VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (order_id, direction) DO NOTHING
                """, [.id(order.id.rawValue), .text(rating.direction.rawValue), .text(rating.raterID), .text(subject),
                      .int(rating.stars), .optional(rating.comment), .int(now)])
            guard inserted.affected == 1 else {
                throw StorageError(.alreadyRated, "order \(order.id) was already rated (\(rating.direction.rawValue))")
            }
            try conn.query("""
                INSERT INTO rating_totals (subject_kind, subject_id, count, stars_sum) VALUES ($1, $2, 1, $3)
                ON CONFLICT (subject_kind, subject_id) DO UPDATE
                  SET count = rating_totals.count + 1, stars_sum = rating_totals.stars_sum + excluded.stars_sum
                """, [.text(rating.direction.subjectKind.rawValue), .text(subject), .int(rating.stars)])
            return RatingRecord(orderID: order.id, direction: rating.direction, raterID: rating.raterID,
                                subjectID: subject, stars: rating.stars, comment: rating.comment, createdAtMs: now)
        }, completion: completion)
    }

    public func ratings(of id: OrderID) throws(StorageError) -> [RatingRecord] {
        let rows = try read { conn throws(PGError) in
            try conn.query("""
                SELECT order_id, direction, rater_id, subject_id, stars, comment, created_at_ms
                FROM ratings WHERE order_id = $1 ORDER BY direction
                """, [.id(id.rawValue)])
        }
        return try rows.cells.map { (row: [String?]) throws(StorageError) -> RatingRecord in
            guard let order = row[0].flatMap(Int64.init), let direction = row[1].flatMap(RatingDirection.init(rawValue:)),
                  let rater = row[2], let subject = row[3], let stars = row[4].flatMap(Int.init),
                  let at = row[6].flatMap(Int64.init) else {
                throw StorageError(.storageFailure, "malformed rating row")
            }
            return RatingRecord(orderID: OrderID(order.unsignedID), direction: direction, raterID: rater,
                                subjectID: subject, stars: stars, comment: row[5], createdAtMs: at)
        }
    }

    public func ratingTotals(kind: RatingSubjectKind) throws(StorageError) -> [RatingTotals] {
        let rows = try read { conn throws(PGError) in
            try conn.query("""
                SELECT subject_id, count, stars_sum FROM rating_totals WHERE subject_kind = $1 ORDER BY subject_id COLLATE "C"
                """, [.text(kind.rawValue)])
        }
        return try rows.cells.map { (row: [String?]) throws(StorageError) -> RatingTotals in
            guard let subject = row[0], let count = row[1].flatMap(Int64.init), let sum = row[2].flatMap(Int64.init) else {
                throw StorageError(.storageFailure, "malformed rating totals row")
            }
            return RatingTotals(kind: kind, subjectID: subject, count: count, starsSum: sum)
        }
    }
}
