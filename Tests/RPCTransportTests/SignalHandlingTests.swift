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
        // A first observer makes SIGUSR1 safe to send (never its default action, terminate) even
        // before the waiter below has installed its own.
        let guardToken = SignalHandling.onTermination(signals: [SIGUSR1], exitOnRepeat: false) { _ in }
        defer { guardToken.cancel() }
        let done = Flag()
        let waiter = Task {
            let signal = await SignalHandling.waitForTermination(signals: [SIGUSR1], exitOnRepeat: false)
            done.set()
            return signal
        }
        // The waiter installs its handler when its task starts: signal until it has seen one.
        let fired = await eventually {
            if !done.isSet { kill(getpid(), SIGUSR1) }
            return done.isSet
        }
        XCTAssertTrue(fired)
        let received = await waiter.value
        XCTAssertEqual(received, SIGUSR1)
    }

    func testSIGPIPEIsIgnored() {
        SignalHandling.ignoreSIGPIPE()
        let pipeFDs = makePipe()
        POSIX.closeDescriptor(pipeFDs.read)
        XCTAssertEqual(POSIX.writeAll(pipeFDs.write, bytes("x")), .brokenPipe)
        POSIX.closeDescriptor(pipeFDs.write)
    }
}
