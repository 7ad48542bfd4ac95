import Platform
import Testing

@Suite struct EventSignalTests {
    /// A worker busy when the relay's signal woke only another worker must not then sleep a whole poll interval
    /// (found by the Redis case of `wakeUpsDeliverWithoutWaitingForThePoll`: one event of four waited out the poll).
    @Test func aSignalWhileBusyIsNotLostWhenAnotherWorkerTookTheWakeUp() async throws {
        let signal = EventSignal()
        let seen = signal.generation
        let other = Task { await signal.wait(timeout: .seconds(60)) }
        // The other worker is waiting before the signal (a signal with nobody waiting would be kept as pending).
        while signal.waiting == 0 { try await Task.sleep(for: .milliseconds(10)) }
        signal.signal()
        #expect(await other.value)
        #expect(await signal.wait(timeout: .seconds(60), unlessSignalledSince: seen))
        // With nothing since, it waits (here: until the timeout).
        #expect(!(await signal.wait(timeout: .milliseconds(50), unlessSignalledSince: signal.generation)))
    }
}
