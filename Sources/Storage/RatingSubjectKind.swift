/// Whose totals a rating adds to.
public enum RatingSubjectKind: String, Sendable, CaseIterable, Hashable {
    case courier, customer
}
