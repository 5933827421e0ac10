// Drives a real ServerConnection in-process: frames go in as bytes, replies are collected as
// parsed JSON, as a transport would deliver them.
import Foundation
import ReproJSON
import Server

final class InProcessClient: @unchecked Sendable {
    private let lock = NSLock()
    private var received: [JSONValue] = []
    private var closedFlag = false
    private(set) var connection: ServerConnection!

    init(daemon: Daemon) {
        connection = daemon.makeConnection(
            send: { [weak self] bytes in
                guard let self else { return }
                let v = (try? JSONValue.parse(bytes)) ?? .string("UNPARSEABLE: \(String(decoding: bytes, as: UTF8.self))")
                self.lock.lock(); self.received.append(v); self.lock.unlock()
            },
            close: { [weak self] in
                guard let self else { return }
                self.lock.lock(); self.closedFlag = true; self.lock.unlock()
            })
    }

    func send(_ text: String) { connection.receive(frame: Array(text.utf8)) }

    func send(_ value: JSONValue) { connection.receive(frame: (try? value.serialized()) ?? []) }

    var messages: [JSONValue] { lock.lock(); defer { lock.unlock() }; return received }
    var isClosed: Bool { lock.lock(); defer { lock.unlock() }; return closedFlag }

    /// Waits until `count` messages have arrived (or the timeout passes) and returns them all.
    func waitFor(count: Int, timeout: TimeInterval = 30) -> [JSONValue] {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if messages.count >= count { return messages }
            Thread.sleep(forTimeInterval: 0.002)
        }
        return messages
    }

    /// The reply whose id is `id`.
    func reply(id: JSONValue, timeout: TimeInterval = 30) -> JSONValue? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let r = messages.first(where: { $0["id"] == id && $0["method"] == nil }) { return r }
            Thread.sleep(forTimeInterval: 0.002)
        }
        return nil
    }

    func waitUntilClosed(timeout: TimeInterval = 30) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if isClosed { return true }
            Thread.sleep(forTimeInterval: 0.002)
        }
        return false
    }
}

func errorCode(_ reply: JSONValue?) -> Int64? { reply?["error"]?["code"]?.int64Value }
