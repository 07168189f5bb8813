/// Numeric constants of the H3 grid (values as published with H3 4.5).
@usableFromInline
enum H3Const {
    @usableFromInline static let twoPi = 6.28318530717958647692528676655900576839433
    @usableFromInline static let sqrt3Over2 = 0.8660254037844386467637231707529361834714
    @usableFromInline static let rsin60 = 1.1547005383792515290182975610039149112953
    @usableFromInline static let oneThird = 0.333333333333333333333333333333333333333
    @usableFromInline static let oneSeventh = 0.14285714285714285714285714285714285
    /// Rotation between a Class II and a Class III grid (asin(√(3/28))).
    @usableFromInline static let ap7RotRads = 0.333473172251832115336090755351601070065900389
    @usableFromInline static let sqrt7 = 2.6457513110645905905016157536392604257102
    @usableFromInline static let rsqrt7 = 0.37796447300922722721451653623418006081576
    /// Gnomonic length of a resolution-0 cell edge unit, and its inverse.
    @usableFromInline static let res0UGnomonic = 0.38196601125010500003
    @usableFromInline static let invRes0UGnomonic = 2.61803398874989588842
    @usableFromInline static let epsilon = 0.0000000000000001
    /// FLT_EPSILON, H3's tolerance for "this intersection is a vertex".
    @usableFromInline static let floatEpsilon = Double(Float.ulpOfOne)
    /// Earth radius H3 uses for areas and lengths, in kilometres.
    @usableFromInline static let earthRadiusKm = 6371.007180918475
    @usableFromInline static let maxResolution = 15
    @usableFromInline static let baseCellCount = 122
    @usableFromInline static let invalidBaseCell = 127

    /// Angle folded into [0, 2π) the way H3 does it (one correction, either side).
    @inlinable
    static func positiveAngle(_ rads: Double) -> Double {
        var t = rads < 0.0 ? rads + twoPi : rads
        if rads >= twoPi { t -= twoPi }
        return t
    }
}
