#!/usr/bin/env python3
"""Regenerates Sources/AgentWatcher/Resources/demo/ from ../shared/fixtures/ssi-spa_for_eng/:
the first 100 seeds of the spa_for_eng course, as the demo's item source and as the answer
key its simulated agent writes from."""
import json, os, sys

here = os.path.dirname(os.path.abspath(__file__))
fixtures = os.path.join(here, "..", "..", "shared", "fixtures", "ssi-spa_for_eng")
out = os.path.join(here, "..", "Sources", "AgentWatcher", "Resources", "demo")
N = int(sys.argv[1]) if len(sys.argv) > 1 else 100

seeds = json.load(open(os.path.join(fixtures, "seed_pairs.json")))
pairs = json.load(open(os.path.join(fixtures, "lego_pairs.json")))
baskets = json.load(open(os.path.join(fixtures, "lego_baskets.json")))

ids = list(seeds["translations"].keys())[:N]
os.makedirs(os.path.join(out, "answers"), exist_ok=True)

def dump(obj, name):
    with open(os.path.join(out, name), "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=2)
        f.write("\n")

dump({"course": "spa_for_eng", "seeds": [{"id": i, "known": seeds["translations"][i]["known"]} for i in ids]}, "seeds.json")
dump({"translations": {i: seeds["translations"][i] for i in ids}}, "answers/phase-1.json")
first = [s for s in pairs["seeds"] if s["seed_id"] in set(ids)]
dump({"seeds": first}, "answers/phase-3.json")
new_legos = [l["id"] for s in first for l in s["legos"] if l["new"]]
dump({"baskets": {l: baskets["baskets"][l] for l in new_legos if l in baskets["baskets"]}}, "answers/phase-5.json")
print(f"{len(ids)} seeds, {len(first)} seed decompositions, {len(new_legos)} new LEGOs -> {out}")
