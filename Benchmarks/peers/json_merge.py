#!/usr/bin/env python3
"""Scenarios 2 and 3 peer: the merge of the replaced scripts, with Python's json.

    json_merge.py MAIN BATCH object|array KEY REPS

Per repetition: json.load the whole main file, json.load the batch, add the batch's items
(dict.update for object, list.extend for array), json.dump the whole main file back in
place (indent=2, ensure_ascii=False; no temp file, no fsync: what the scripts did). The
main file is restored from memory between repetitions (not timed). Prints one JSON line
per repetition: {"load":s,"merge":s,"dump":s,"total":s}.
"""
import json, sys, time

main_path, batch_path, strategy, key, reps = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
original = open(main_path, "rb").read()
for _ in range(reps):
    t0 = time.perf_counter()
    with open(main_path, encoding="utf-8") as f:
        main = json.load(f)
    with open(batch_path, encoding="utf-8") as f:
        batch = json.load(f)
    t1 = time.perf_counter()
    items = batch[key] if isinstance(batch, dict) and key in batch else batch
    if strategy == "object":
        main[key].update(items)
    else:
        main[key].extend(items)
    t2 = time.perf_counter()
    with open(main_path, "w", encoding="utf-8") as f:
        json.dump(main, f, ensure_ascii=False, indent=2)
        f.write("\n")
    t3 = time.perf_counter()
    print(json.dumps({"load": t1 - t0, "merge": t2 - t1, "dump": t3 - t2, "total": t3 - t0}), flush=True)
    with open(main_path, "wb") as f:
        f.write(original)
