#!/usr/bin/env bash
# p99 of every list and search route at 200 requests/s, with oha
# (docs/BENCHMARKS.md, Server). PHAROS_URL: the server (default
# http://127.0.0.1:18090); PHAROS_TOKEN: an admin token. One line a route.
T=${PHAROS_TOKEN:?set PHAROS_TOKEN to an admin token (serve token STORE prints one)}
B=${PHAROS_URL:-http://127.0.0.1:18090}
for path in \
  "/api/posts" \
  "/api/posts?q=data%20leaked" \
  "/api/posts?since=2025-03-05&until=2025-03-06&lang=en" \
  "/api/posts?platform=telegram&lang=ru" \
  "/api/posts?lang=xx" \
  "/api/posts?actor=twitter:1646306525028810753" \
  "/api/posts?hashtag=football" \
  "/api/posts?hashtag=nosuchtag" \
  "/api/posts?domain=youtube.com" \
  "/api/posts?domain=lemonde.fr" \
  "/api/posts?domain=nosuch.example" \
  "/api/posts?link=https://www.youtube.com/watch?v=x9KtfMMZQ77" \
  "/api/narratives" \
  "/api/networks" \
  "/api/actors" \
  "/api/alerts" \
  "/api/incidents" \
  "/api/claims?q=vaccine" ; do
  L=$(cut -d' ' -f1 /proc/loadavg)
  R=$(oha -z 20s -q 200 -c 8 --latency-correction --no-tui --output-format json -H "Authorization: Bearer $T" "$B$path" 2>/dev/null)
  echo "$path | load $L | $(echo "$R" | python3 -c 'import json,sys; d=json.load(sys.stdin); s=d["summary"]; p=d["latencyPercentiles"]; print("rps %.0f p50 %.1f p99 %.1f max %.1f ms ok %s" % (s["requestsPerSec"], p["p50"]*1000, p["p99"]*1000, s["slowest"]*1000, d.get("statusCodeDistribution")))')"
done
