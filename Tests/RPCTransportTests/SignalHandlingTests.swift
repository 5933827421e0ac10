// SignalHandling, exercised with SIGUSR1/SIGUSR2 so a failure cannot terminate the test run.

import Dispatch
import XCTest
@testable import RPCTransport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

final class SignalHandlingTests: XCTestCase {
    func testHandlerIsCalledOnceWithTheSignal() async {
        let received = Locked<[Int32]>([])
        let token = SignalHandling.onTermination(signals: [SIGUSR1, SIGUSR2], exitOnRepeat: false) { signal in
            received.withLock { $0.append(signal) }
        }
        defer { token.cancel() }
        kill(getpid(), SIGUSR2)
        let called = await eventually { !received.withLock { $0 }.isEmpty }
        XCTAssertTrue(called)
        kill(getpid(), SIGUSR1)
        kill(getpid(), SIGUSR2)
        try? await Task.sleep(nanoseconds: 100_000_000)
        XCTAssertEqual(received.withLock { $0 }, [SIGUSR2])
    }

    func testWaitForTermination() async {
        let waiter = Task { await SignalHandling.waitForTermination(signals: [SIGUSR1]) }
        // Give the handler time to be installed before the signal is sent.
        try? await Task.sleep(nanoseconds: 100_000_000)
        kill(getpid(), SIGUSR1)
        let received = await waiter.value
        XCTAssertEqual(received, SIGUSR1)
        // Leave SIGUSR1 ignored rather than default (terminate) in case it arrives again.
        signal(SIGUSR1, SIG_IGN)
    }

    func testSIGPIPEIsIgnored() {
        SignalHandling.ignoreSIGPIPE()
        let pipeFDs = makePipe()
        POSIX.closeDescriptor(pipeFDs.read)
        XCTAssertEqual(POSIX.writeAll(pipeFDs.write, bytes("x")), .brokenPipe)
        POSIX.closeDescriptor(pipeFDs.write)
    }
}
