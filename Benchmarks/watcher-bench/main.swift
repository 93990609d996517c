// watcher-bench: see BENCHMARKS.md. (Placeholder until the harness lands.)
print("watcher-bench: no scenarios yet")
