import Foundation
import WatcherSystem

/// Items, pipeline specs and fake agents (small shell scripts) for custom pipelines.
///
/// Item k is `{"id":"ik","value":k,"word":"wk"}`; the run's items file holds items 1...n
/// under `"items"`. Agents get `{phase} {batch} {attempt} {start} {end} {output} {run}` as
/// `$1`...`$7` and source `lib.sh`, which prints batches in each strategy's shape.
enum Fixtures {
    static func item(_ k: Int) -> JSON {
        .object([.init(key: "id", value: .string("i\(k)")), .init(key: "value", value: .number(Double(k))),
                 .init(key: "word", value: .string("w\(k)"))])
    }

    static func itemsFile(count: Int) -> String {
        "{\"items\": [\n" + (1...count).map { "  " + item($0).description }.joined(separator: ",\n") + "\n]}\n"
    }

    static let agentArgv = ["/bin/sh", "agent.sh", "{phase}", "{batch}", "{attempt}", "{start}", "{end}", "{output}", "{run}"]

    /// Shell functions for the fake agents.
    static let lib = #"""
    # item K: one item, the same as in items.json
    item() { printf '{"id":"i%d","value":%d,"word":"w%d"}' "$1" "$1" "$1"; }
    # object_batch START END [SKIP]: {"results": {"iK": item, ...}} (item SKIP left out)
    object_batch() {
      k=$1; sep=''; printf '{"results": {'
      while [ "$k" -le "$2" ]; do
        if [ "$k" != "${3:-0}" ]; then printf '%s\n  "i%d": ' "$sep" "$k"; item "$k"; sep=','; fi
        k=$((k+1))
      done
      printf '\n}}\n'
    }
    # array_batch START END: {"rows": [item, ...]}
    array_batch() {
      k=$1; sep=''; printf '{"rows": ['
      while [ "$k" -le "$2" ]; do printf '%s\n  ' "$sep"; item "$k"; sep=','; k=$((k+1)); done
      printf '\n]}\n'
    }
    # jsonl_batch START END: one item per line
    jsonl_batch() {
      k=$1
      while [ "$k" -le "$2" ]; do item "$k"; printf '\n'; k=$((k+1)); done
    }
    # publish OUT: stdin written under outbox/tmp/, then renamed to OUT
    publish() {
      tmp="$(dirname "$1")/tmp/$(basename "$1").$$"
      cat > "$tmp" && mv "$tmp" "$1"
    }
    # wait_for FILE: until FILE exists (at most 20 s)
    wait_for() {
      n=0
      while [ ! -e "$1" ]; do n=$((n+1)); [ "$n" -gt 800 ] && return 1; sleep 0.025; done
    }
    stamp() { date +%s.%N > "$1"; }
    """#

    /// A spec with short timings; `overrides` replace or add top-level keys. (`itemCount` is
    /// not part of a spec: `install` writes the items file; it is accepted for older callers.)
    static func spec(run: String, itemCount: Int = 0, batchSize: Int, phases: [[String: Any]],
                     overrides: [String: Any] = [:]) -> [String: Any] {
        var s: [String: Any] = [
            "version": 1,
            "run": run,
            "items": ["file": "items-\(run).json", "key": "items", "idField": "id"],
            "batchSize": batchSize,
            "concurrency": 8,
            "maxAttempts": 2,
            "timeoutSeconds": 20,
            "killGraceSeconds": 0.3,
            "settleMilliseconds": 50,
            "backoff": ["initialSeconds": 0.05, "multiplier": 1, "maxSeconds": 0.05],
            "agent": ["argv": agentArgv, "prompt": "file"],
            "phases": phases,
        ]
        for (k, v) in overrides { s[k] = v }
        return s
    }

    static func objectPhase(_ id: String, file: String, extra: [String: Any] = [:]) -> [String: Any] {
        var p: [String: Any] = ["id": id, "output": ["file": file, "strategy": "object", "key": "results"]]
        for (k, v) in extra { p[k] = v }
        return p
    }

    /// Writes `items-<run>.json`, `lib.sh`, `agent.sh` (the given body after the common
    /// header) and `<run>.json` (the spec) into the sandbox; returns the spec's path.
    @discardableResult
    static func install(in sandbox: Sandbox, spec: [String: Any], itemCount: Int, agentBody: String? = nil) throws -> String {
        let run = spec["run"] as! String
        try sandbox.write("items-\(run).json", itemsFile(count: itemCount))
        try sandbox.write("lib.sh", lib + "\n")
        if let agentBody {
            try sandbox.write("agent.sh", """
            #!/bin/sh
            . ./lib.sh
            phase=$1 batch=$2 attempt=$3 start=$4 end=$5 out=$6 run=$7
            \(agentBody)
            """)
        }
        let data = try JSONSerialization.data(withJSONObject: spec, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        let path = sandbox.path("\(run).json")
        try sandbox.write(path, String(decoding: data, as: UTF8.self))
        return path
    }
}
