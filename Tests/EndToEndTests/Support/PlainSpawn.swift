import Foundation
#if canImport(Glibc)
import Glibc
#endif
import WatcherSystem

/// Starts a program the way many a program on glibc does: plain `posix_spawn` with every
/// signal glibc's `sigfillset` names set to default, and `blocked` in its mask. glibc's
/// `sigfillset` leaves out its internal signals 32 and 33, and its spawn then gives the child
/// SIG_IGN for them: a parent the daemon must not pass them on from.
enum PlainSpawn {
    static func spawn(_ argv: [String], environment: [String: String], blocked: [Int32]) throws -> pid_t {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var all = sigset_t()
        sigfillset(&all)
        var mask = sigset_t()
        sigemptyset(&mask)
        for s in blocked { sigaddset(&mask, s) }
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setsigmask(&attributes, &mask)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP))
        let args = argv.map { strdup($0) } + [nil]
        let env = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (args + env).forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, argv[0], nil, &attributes, args, env)
        guard rc == 0 else { throw E2EError("posix_spawn \(argv[0]): \(String(cString: strerror(rc)))") }
        return pid
    }
}
