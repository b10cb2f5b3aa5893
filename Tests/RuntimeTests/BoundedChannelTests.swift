import Synchronization
import Testing
@testable import Runtime

/// The edge between two nodes: order kept, senders held back past capacity (backpressure), the end seen
/// once every producer finished, failures and a closed reader waking every waiter. No sleeps: a blocked
/// sender is observed through what has been sent so far.
@Suite struct BoundedChannelTests {
    struct Boom: Error {}

    @Test func elementsArriveInOrderAndTheEndAfterTheLastProducer() async throws {
        let channel = BoundedChannel<Int>(capacity: 2, producers: 2)
        try await channel.send(1)
        try await channel.send(2)
        channel.finishProducer()
        #expect(try await channel.receive() == 1)
        #expect(try await channel.receive() == 2)
        try await channel.send(3)
        channel.finishProducer()
        #expect(try await channel.receive() == 3)
        #expect(try await channel.receive() == nil)
    }

    @Test func aFullChannelHoldsTheSenderUntilTheConsumerTakesOne() async throws {
        let channel = BoundedChannel<Int>(capacity: 2, producers: 1)
        let sent = Atomic(0)
        let producer = Task {
            for value in 1...5 {
                try await channel.send(value)
                sent.add(1, ordering: .sequentiallyConsistent)
            }
            channel.finishProducer()
        }
        var received: [Int] = []
        while let value = try await channel.receive() {
            // Never more than capacity + one waiting sender ahead of the consumer.
            #expect(sent.load(ordering: .sequentiallyConsistent) - received.count <= 3)
            received.append(value)
        }
        try await producer.value
        #expect(received == [1, 2, 3, 4, 5])
    }

    @Test func failingWakesTheConsumerAndEverySender() async throws {
        let channel = BoundedChannel<Int>(capacity: 1, producers: 1)
        try await channel.send(1)
        let blocked = Task { try await channel.send(2) }
        let consumer = BoundedChannel<Int>(capacity: 1, producers: 1)
        let waiting = Task { try await consumer.receive() }
        channel.fail(Boom())
        consumer.fail(Boom())
        await #expect(throws: Boom.self) { try await blocked.value }
        await #expect(throws: Boom.self) { try await waiting.value }
        await #expect(throws: Boom.self) { try await channel.send(3) }
    }

    @Test func aClosedReaderDropsWhatIsSentAndReleasesSenders() async throws {
        let channel = BoundedChannel<Int>(capacity: 1, producers: 1)
        try await channel.send(1)
        let blocked = Task { try await channel.send(2) }
        channel.closeForReading()
        #expect(try await blocked.value == false)
        #expect(try await channel.send(3) == false)
        #expect(channel.isClosedForReading)
    }

    @Test func aWaitingConsumerIsCancellable() async throws {
        let channel = BoundedChannel<Int>(capacity: 1, producers: 1)
        let waiting = Task { try await channel.receive() }
        waiting.cancel()
        await #expect(throws: CancellationError.self) { try await waiting.value }
    }
}
