import JSON
import Vocabulary

extension PlanInstance {
    /// Largest matrix side accepted (a 20,000² matrix is already 3.2 GB of doubles).
    public static let maxLocations = 20_000
    /// Largest capacity accepted; keeps load arithmetic far from overflow.
    public static let maxCapacity = 1_000_000

    /// Reads and validates one instance in the `hexfleet plan` JSON format (docs/dispatch.md).
    ///
    /// Never traps on any input: malformed JSON, wrong types, negative or non-finite numbers, a matrix that is
    /// not square, indices out of range, duplicate ids and inconsistent promised stops all throw an error naming
    /// the path. Whether promised stops can actually be kept in time is checked by `RoutePlanner`, not here.
    /// - Throws: `PlanInstanceError`.
    public static func parse(_ bytes: some Collection<UInt8>) throws(PlanInstanceError) -> PlanInstance {
        let document: JSONValue
        do { document = try JSONReader.parse(bytes) } catch { throw PlanInstanceError("", "invalid JSON: \(error)") }
        guard document.object != nil else { throw PlanInstanceError("", "expected a JSON object") }
        let matrixValue = try required(document, "matrix", path: "")
        guard let rows = matrixValue.array else { throw PlanInstanceError("matrix", "expected an array of rows") }
        let n = rows.count
        guard n >= 1 else { throw PlanInstanceError("matrix", "expected at least one location") }
        guard n <= maxLocations else { throw PlanInstanceError("matrix", "more than \(maxLocations) locations") }
        var matrix = [Double]()
        matrix.reserveCapacity(n * n)
        for (i, row) in rows.enumerated() {
            guard let cells = row.array else { throw PlanInstanceError("matrix[\(i)]", "expected an array of numbers") }
            guard cells.count == n else {
                throw PlanInstanceError("matrix[\(i)]", "has \(cells.count) entries, the matrix has \(n) rows (must be square)")
            }
            for (j, cell) in cells.enumerated() {
                if cell.isNull { matrix.append(.infinity); continue }
                matrix.append(try seconds(cell, path: "matrix[\(i)][\(j)]"))
            }
        }

        let courierValues = try array(try required(document, "couriers", path: ""), path: "couriers")
        let orderValues = try array(try required(document, "orders", path: ""), path: "orders")

        var orders = [PlanOrder]()
        orders.reserveCapacity(orderValues.count)
        var orderIndex = [UInt64: Int]()
        for (k, value) in orderValues.enumerated() {
            let path = "orders[\(k)]"
            guard value.object != nil else { throw PlanInstanceError(path, "expected an object") }
            let id = try identifier(try required(value, "id", path: path), path: path + ".id")
            guard orderIndex[id] == nil else { throw PlanInstanceError(path + ".id", "duplicate order id \(id)") }
            orderIndex[id] = k
            let pickup = try location(try required(value, "pickup", path: path), path: path + ".pickup", count: n)
            let dropoff = try location(try required(value, "dropoff", path: path), path: path + ".dropoff", count: n)
            let readyAt = try optionalSeconds(value, "ready_at", path: path) ?? 0
            let deadline = try optionalSeconds(value, "deadline", path: path) ?? .infinity
            let maxRide = try optionalSeconds(value, "max_ride", path: path) ?? .infinity
            let service = try optionalSeconds(value, "service", path: path) ?? 0
            orders.append(PlanOrder(id: OrderID(id), pickup: pickup, dropoff: dropoff, readyAt: readyAt,
                                    deadline: deadline, maxRide: maxRide, service: service))
        }

        var couriers = [PlanCourier]()
        couriers.reserveCapacity(courierValues.count)
        var courierIDs = Set<UInt64>()
        var promisedBy = [Int: Int]()   // order index -> courier index holding its stops
        for (k, value) in courierValues.enumerated() {
            let path = "couriers[\(k)]"
            guard value.object != nil else { throw PlanInstanceError(path, "expected an object") }
            let id = try identifier(try required(value, "id", path: path), path: path + ".id")
            guard courierIDs.insert(id).inserted else { throw PlanInstanceError(path + ".id", "duplicate courier id \(id)") }
            let start = try location(try required(value, "start", path: path), path: path + ".start", count: n)
            let availableAt = try seconds(try required(value, "available_at", path: path), path: path + ".available_at")
            let capacityValue = try required(value, "capacity", path: path)
            guard let capacity = capacityValue.int64, capacity >= 0, capacity <= Int64(maxCapacity) else {
                throw PlanInstanceError(path + ".capacity", "expected an integer from 0 to \(maxCapacity)")
            }
            var stops = [PlanStop]()
            if let stopsValue = value["stops"], !stopsValue.isNull {
                let stopValues = try array(stopsValue, path: path + ".stops")
                var seen = Set<Int>()   // 2 * order index + (0 pickup, 1 drop-off)
                for (s, stopValue) in stopValues.enumerated() {
                    let stopPath = "\(path).stops[\(s)]"
                    guard stopValue.object != nil else { throw PlanInstanceError(stopPath, "expected an object") }
                    let orderID = try identifier(try required(stopValue, "order", path: stopPath), path: stopPath + ".order")
                    guard let index = orderIndex[orderID] else {
                        throw PlanInstanceError(stopPath + ".order", "unknown order \(orderID) (not in orders)")
                    }
                    let typeValue = try required(stopValue, "type", path: stopPath)
                    guard let typeText = typeValue.string, let kind = PlanStopKind(rawValue: typeText) else {
                        throw PlanInstanceError(stopPath + ".type", "expected \"pickup\" or \"dropoff\"")
                    }
                    if let other = promisedBy[index], other != k {
                        throw PlanInstanceError(stopPath + ".order", "order \(orderID) is already promised by couriers[\(other)]")
                    }
                    promisedBy[index] = k
                    let key = 2 * index + (kind == .pickup ? 0 : 1)
                    guard seen.insert(key).inserted else {
                        throw PlanInstanceError(stopPath, "order \(orderID) has its \(typeText) listed twice")
                    }
                    if kind == .pickup, seen.contains(2 * index + 1) {
                        throw PlanInstanceError(stopPath, "pickup of order \(orderID) comes after its drop-off")
                    }
                    stops.append(PlanStop(order: OrderID(orderID), kind: kind))
                }
                for key in seen where key % 2 == 0 && !seen.contains(key + 1) {
                    throw PlanInstanceError(path + ".stops", "order \(orders[key / 2].id) has a promised pickup but no drop-off")
                }
            }
            couriers.append(PlanCourier(id: CourierID(id), start: start, availableAt: availableAt,
                                        capacity: Int(capacity), stops: stops))
        }
        return PlanInstance(locationCount: n, matrix: matrix, couriers: couriers, orders: orders)
    }

    private static func required(_ object: JSONValue, _ key: String, path: String) throws(PlanInstanceError) -> JSONValue {
        guard let value = object[key] else {
            throw PlanInstanceError(path.isEmpty ? key : path + "." + key, "missing")
        }
        return value
    }

    private static func array(_ value: JSONValue, path: String) throws(PlanInstanceError) -> [JSONValue] {
        guard let a = value.array else { throw PlanInstanceError(path, "expected an array") }
        return a
    }

    private static func identifier(_ value: JSONValue, path: String) throws(PlanInstanceError) -> UInt64 {
        guard let id = value.uint64 else { throw PlanInstanceError(path, "expected a non-negative integer id") }
        return id
    }

    private static func location(_ value: JSONValue, path: String, count: Int) throws(PlanInstanceError) -> Int {
        guard let i = value.int64, i >= 0, i < Int64(count) else {
            throw PlanInstanceError(path, "expected a location index from 0 to \(count - 1)")
        }
        return Int(i)
    }

    private static func seconds(_ value: JSONValue, path: String) throws(PlanInstanceError) -> Double {
        guard let x = value.double else {
            throw PlanInstanceError(path, "expected a number of seconds")
        }
        guard x.isFinite, x >= 0 else { throw PlanInstanceError(path, "expected a finite non-negative number") }
        return x
    }

    private static func optionalSeconds(_ object: JSONValue, _ key: String, path: String) throws(PlanInstanceError) -> Double? {
        guard let value = object[key], !value.isNull else { return nil }
        return try seconds(value, path: path + "." + key)
    }
}
