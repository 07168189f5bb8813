import Foundation
import Testing
@testable import Dispatcher

@Suite("Delay price controller")
struct DelayPriceControllerTests {
    @Test func startsAtTheInitialWeight() {
        let controller = DelayPriceController(budgetShare: 0.04, initialWeight: 1.3)
        #expect(controller.weight == 1.3)
        #expect(controller.overrun == 0)
    }

    @Test func ordersExactlyAtTheBudgetKeepTheWeight() {
        var controller = DelayPriceController(budgetShare: 0.05, initialWeight: 0.9)
        for _ in 0..<50 { controller.record(delaySeconds: 50, idealDeliverySeconds: 1000) }
        #expect(abs(controller.overrun) < 1e-12)
        #expect(abs(controller.weight - 0.9) < 1e-12)
    }

    /// Delay spent beyond the budget makes delay dearer; delay left unspent makes it cheaper, and the weight
    /// moves further the more orders stand behind the running mean.
    @Test func overspendingRaisesTheWeightAndUnderspendingLowersIt() {
        var over = DelayPriceController(budgetShare: 0.04, initialWeight: 1, gain: 2)
        var under = over
        var previousOver = over.weight, previousUnder = under.weight
        for _ in 0..<40 {
            over.record(delaySeconds: 80, idealDeliverySeconds: 1000)
            under.record(delaySeconds: 10, idealDeliverySeconds: 1000)
            #expect(over.weight > previousOver)
            #expect(under.weight < previousUnder)
            previousOver = over.weight
            previousUnder = under.weight
        }
        // 40 orders at 80 s and 20 prior ones at 40 s: a mean of 66.7 s, 2/3 over the budget.
        #expect(abs(over.overrun - 2.0 / 3.0) < 1e-9)
        #expect(abs(over.weight - exp(4.0 / 3.0)) < 1e-9)
    }

    @Test func weightStaysInItsRange() {
        var high = DelayPriceController(budgetShare: 0.01, weightRange: 0.5...2)
        var low = high
        for _ in 0..<200 {
            high.record(delaySeconds: 900, idealDeliverySeconds: 1000)
            low.record(delaySeconds: 0, idealDeliverySeconds: 1000)
        }
        #expect(high.weight == 2)
        #expect(low.weight == 0.5)
    }

    @Test func nonsenseFiguresAreIgnored() {
        var controller = DelayPriceController(budgetShare: 0.04)
        controller.record(delaySeconds: .nan, idealDeliverySeconds: 1000)
        controller.record(delaySeconds: 10, idealDeliverySeconds: .infinity)
        controller.record(delaySeconds: -5, idealDeliverySeconds: 1000)
        controller.record(delaySeconds: 10, idealDeliverySeconds: 0)
        #expect(controller.committedOrders == 0)
        #expect(controller.weight == 1)
    }

    /// Without a budget there is nothing to aim at: the weight stays where it started.
    @Test func zeroBudgetKeepsTheInitialWeight() {
        var controller = DelayPriceController(budgetShare: 0, initialWeight: 0.7)
        controller.record(delaySeconds: 300, idealDeliverySeconds: 1000)
        #expect(controller.weight == 0.7)
    }
}
