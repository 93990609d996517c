/// The dashboard's stylesheet and script, compiled into the binary: nothing is loaded from
/// the network, and the pages carry no inline script or style (the CSP forbids both).
enum DashboardAssets {
    /// The tab icon: a 3×3 batch grid.
    static let icon = #"""
    <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 30 30"><rect width="30" height="30" rx="5" fill="#1d1d1f"/>
    <rect x="4" y="4" width="6" height="6" fill="#3c9d5d"/><rect x="12" y="4" width="6" height="6" fill="#3c9d5d"/><rect x="20" y="4" width="6" height="6" fill="#3c9d5d"/>
    <rect x="4" y="12" width="6" height="6" fill="#3c9d5d"/><rect x="12" y="12" width="6" height="6" fill="#4a90d9"/><rect x="20" y="12" width="6" height="6" fill="#d9534f"/>
    <rect x="4" y="20" width="6" height="6" fill="#4a90d9"/><rect x="12" y="20" width="6" height="6" fill="#d9d9de"/><rect x="20" y="20" width="6" height="6" fill="#d9d9de"/></svg>
    """#

    static let css = #"""
    :root { --bg:#fafafa; --fg:#1d1d1f; --mut:#6b6b70; --line:#ddd;
      --pending:#d9d9de; --running:#4a90d9; --retry:#f0ad4e; --merged:#3c9d5d; --failed:#d9534f;
      --blocked:#8e5ea2; --skipped:#a0a0a0; --cancelled:#555; }
    * { box-sizing: border-box; }
    body { margin:0; font:14px/1.45 system-ui, sans-serif; background:var(--bg); color:var(--fg); }
    header { display:flex; gap:1em; align-items:center; padding:.6em 1em; background:#1d1d1f; color:#fff; flex-wrap:wrap; }
    header a { color:#fff; text-decoration:none; margin-right:1em; } .brand { font-weight:700; }
    main { padding:1em; max-width:1200px; }
    h1 { font-size:1.4em; margin:.2em 0 .6em; } h2 { font-size:1.1em; margin:1.2em 0 .4em; } h3 { font-size:1em; }
    code, pre { font-family: ui-monospace, monospace; font-size:12px; }
    pre { background:#fff; border:1px solid var(--line); padding:.6em; overflow:auto; max-height:30em; white-space:pre-wrap; word-break:break-all; }
    .quiet, small, .small { color:var(--mut); } .error { color:var(--failed); }
    .up { color:var(--merged); font-weight:700; } .down { color:var(--failed); font-weight:700; }
    .live.on { color:#5f5; } .live.off { color:#f55; }
    .count { background:var(--failed); color:#fff; border-radius:1em; padding:0 .5em; font-size:.8em; }
    ul.needs { list-style:none; padding-left:0; } ul.needs li { margin:.2em 0; padding-left:.5em; border-left:4px solid var(--line); }
    li.need-failed { border-left-color:var(--failed) !important; } li.need-blocked { border-left-color:var(--blocked) !important; }
    li.paused, li.rejected { border-left-color:var(--retry) !important; } .paused { color:#a66500; }
    table.phases td, table.phases th { padding:.2em .6em; text-align:left; } progress { width:220px; height:1em; }
    .num { font-variant-numeric: tabular-nums; }
    .gridwrap { overflow:auto; } table.grid { border-collapse:collapse; } table.grid th { font-weight:400; color:var(--mut); padding:0 .3em; font-size:11px; }
    table.grid td { padding:1px; }
    .cell { display:inline-block; min-width:1.8em; text-align:center; border-radius:3px; padding:.1em .3em; color:#fff; text-decoration:none; font-size:12px; background:var(--pending); }
    .st-pending { background:var(--pending); color:#333; } .st-spawning, .st-running, .st-validating, .st-merging { background:var(--running); }
    .st-retry_wait { background:var(--retry); } .st-merged { background:var(--merged); } .st-failed { background:var(--failed); }
    .st-blocked { background:var(--blocked); } .st-skipped { background:var(--skipped); } .st-cancelled { background:var(--cancelled); }
    .legend .cell { margin-right:.3em; } .cell .el { display:block; font-size:9px; opacity:.9; }
    button { font:inherit; padding:.3em .9em; margin-right:.4em; border:1px solid #999; border-radius:4px; background:#fff; cursor:pointer; }
    button:disabled { opacity:.4; cursor:default; }
    .answer.ok { color:var(--merged); } .answer.bad { color:var(--failed); }
    section.attempt { border-top:1px solid var(--line); margin-top:1em; }
    ul.errors .msg { color:var(--failed); }
    table.events { border-collapse:collapse; width:100%; font-size:12px; } table.events td, table.events th { border-bottom:1px solid var(--line); padding:.15em .4em; text-align:left; vertical-align:top; }
    ol.events { font-family: ui-monospace, monospace; font-size:12px; }
    input.filter { padding:.3em; width:14em; }
    .hidden { display:none; }
    svg.timeline { width:100%; height:auto; background:#fff; border:1px solid var(--line); }
    svg .axis { font-size:10px; fill:var(--mut); } svg .tick { stroke:#eee; }
    .bar { fill:var(--running); } .o-merged { fill:var(--merged); } .o-retry_wait { fill:var(--retry); } .o-failed { fill:var(--failed); }
    .o-cancelled { fill:var(--cancelled); } .o-pending { fill:var(--skipped); } .o-blocked { fill:var(--blocked); }
    svg .idle { fill:#f3e3e3; stroke:#e0b4b4; stroke-dasharray:3 2; stroke-width:.6; } svg .crit { stroke:#1d1d1f; stroke-width:2.5; }
    svg .critline { fill:none; stroke:#1d1d1f; stroke-width:1.2; stroke-dasharray:4 3; pointer-events:none; }
    .key { display:inline-block; width:1.4em; height:.8em; vertical-align:middle; } .key.crit { border:2.5px solid #1d1d1f; background:var(--merged); }
    .key.idle { background:#f3e3e3; border:1px dashed #e0b4b4; }
    .thread.stuck h3 { color:#a66500; } li.context { opacity:.6; } pre.body { margin:.2em 0 .5em; max-height:12em; }
    form.filters label { margin-right:.6em; } form.filters select { padding:.2em; } .depth-1 { margin-left:1.5em; } .depth-2 { margin-left:3em; } .depth-3, .depth-4, .depth-5, .depth-6 { margin-left:4.5em; }
    @media (max-width: 600px) { progress { width:120px; } main { padding:.5em; } }
    """#

    static let js = #"""
    'use strict';
    (function () {
      const boot = JSON.parse(document.getElementById('boot').textContent);
      const $ = (id) => document.getElementById(id);

      // State changes: a POST carrying the cookie; the answer is the daemon's log record.
      document.addEventListener('click', async (ev) => {
        const b = ev.target.closest('button[data-cmd]');
        if (!b) return;
        const msg = { command: b.dataset.cmd, run: b.dataset.run };
        if (b.dataset.phase) { msg.phase = b.dataset.phase; msg.batch = Number(b.dataset.batch); }
        const out = $('answer');
        out.textContent = msg.command + ': waiting for the daemon…';
        out.className = 'answer'; delete out.dataset.result;
        try {
          const res = await fetch('/api/control', { method: 'POST', credentials: 'same-origin',
            headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(msg) });
          const body = await res.json();
          const what = body.event || ('error ' + res.status);
          out.textContent = msg.command + ': ' + what + (body.reason ? ': ' + body.reason : '') + (body.message ? ': ' + body.message : '');
          out.className = 'answer ' + (res.ok ? 'ok' : 'bad');
          out.dataset.result = what;
        } catch (e) {
          out.textContent = msg.command + ': request failed: ' + e; out.className = 'answer bad';
        }
      });

      function line(r) {
        let s = (r.ts || '').slice(11, 23) + '  ' + (r.run || '');
        if (r.phase && r.batch) s += ' ' + r.phase + '/' + r.batch;
        if (r.attempt) s += ' #' + r.attempt;
        s += '  ' + (r.event === 'batch.transition' ? r.from + ' → ' + r.to : r.event);
        if (r.reason) s += '  (' + r.reason + ')';
        return s;
      }

      // Overview: re-read /api/status when the log says something changed (never on a timer).
      let statusBusy = false, statusAgain = false;
      async function refreshStatus() {
        if (statusBusy) { statusAgain = true; return; }
        statusBusy = true;
        try {
          const s = await (await fetch('/api/status', { credentials: 'same-origin' })).json();
          for (const run of s.runs) for (const p of run.phases) {
            const id = run.run + '--' + p.phase;
            const bar = $('bar-' + id), fig = $('fig-' + id);
            if (bar) { bar.max = p.total; bar.value = p.completed; }
            if (fig) {
              fig.dataset.merged = p.completed; fig.dataset.total = p.total;
              fig.textContent = p.completed + '/' + p.total + ' · ' + (p.total ? Math.floor(p.completed * 100 / p.total) : 0) + '%';
            }
          }
          const d = $('daemon');
          if (d) { d.textContent = s.daemon.running ? 'up' : 'down'; d.className = s.daemon.running ? 'up' : 'down'; d.dataset.up = s.daemon.running; }
        } finally {
          statusBusy = false;
          if (statusAgain) { statusAgain = false; refreshStatus(); }
        }
      }

      function eventsFilter(tr) {
        const f = (id) => ($(id) ? $(id).value.trim() : '');
        const ok = (!f('f-run') || tr.dataset.run.includes(f('f-run'))) &&
                   (!f('f-batch') || tr.dataset.batch.includes(f('f-batch'))) &&
                   (!f('f-event') || tr.dataset.event.includes(f('f-event')));
        tr.classList.toggle('hidden', !ok);
      }
      for (const id of ['f-run', 'f-batch', 'f-event']) {
        if ($(id)) $(id).addEventListener('input', () => document.querySelectorAll('#events tbody tr').forEach(eventsFilter));
      }
      // Messages: choosing a value filters at once (a GET of the same page with the query).
      for (const id of ['f-agent', 'f-type', 'f-state', 'f-run']) {
        if ($(id)) $(id).addEventListener('change', () => $('msg-filter').requestSubmit());
      }
      let newMessages = 0;

      function duration(s) {
        s = Math.max(0, s);
        if (s < 60) return Math.round(s) + 's';
        if (s < 3600) return Math.floor(s / 60) + 'm' + Math.floor(s % 60) + 's';
        return Math.floor(s / 3600) + 'h' + Math.floor(s % 3600 / 60) + 'm';
      }

      // Batch page: the latest attempt's agent log follows live over its own stream (the server
      // is woken by inotify on that file); new text is appended as text, never as markup.
      let logSource = null;
      function followAgentLog() {
        const pre = $('agent-log'), l = boot.log;
        if (!pre || !l || logSource) return;
        const from = pre.dataset.offset || l.from;
        logSource = new EventSource('/api/log/' + encodeURIComponent(boot.run) + '/' + encodeURIComponent(boot.phase) + '/' +
          boot.batch + '/' + l.attempt + '?from=' + from);
        logSource.onopen = () => { pre.dataset.live = 'on'; };
        logSource.onerror = () => {
          if (logSource.readyState === EventSource.CLOSED) { pre.dataset.live = 'off'; logSource = null; }
        };
        logSource.onmessage = (ev) => {
          const atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
          pre.appendChild(document.createTextNode(ev.data));
          pre.dataset.offset = ev.lastEventId;
          if (atEnd) pre.scrollTop = pre.scrollHeight;
        };
      }
      if (boot.page === 'batch' && boot.log && boot.log.live) followAgentLog();

      // Run page: running cells count their elapsed time from the spawn, on the page's own
      // clock (corrected by the server's time at render); no data is fetched for it.
      const skew = typeof boot.now === 'number' ? boot.now - Date.now() / 1000 : 0;
      let clock = null;
      function tickCells() {
        const cells = document.querySelectorAll('#grid [data-since]');
        if (cells.length === 0) { clearInterval(clock); clock = null; return; }
        const now = Date.now() / 1000 + skew;
        for (const c of cells) { const el = c.querySelector('.el'); if (el) el.textContent = duration(now - Number(c.dataset.since)); }
      }
      function startClock() { if (!clock && document.querySelector('#grid [data-since]')) clock = setInterval(tickCells, 1000); }
      if (boot.page === 'run') startClock();
      const active = new Set(['spawning', 'running', 'validating', 'merging']);

      const handlers = {
        overview(r) { if (r.event.startsWith('batch.') || r.event.startsWith('run.') || r.event.startsWith('watcher.')) refreshStatus(); },
        run(r) {
          if (r.run !== boot.run) return;
          if (r.event === 'batch.transition') {
            const c = $('c-' + r.phase + '-' + r.batch);
            if (!c) return;
            c.className = 'cell st-' + r.to; c.dataset.state = r.to;
            c.textContent = String(r.attempt || 0);
            c.title = r.to + ', attempt ' + (r.attempt || 0) + (r.reason ? ': ' + r.reason : '');
            if (r.to === 'spawning') c.dataset.since = String(Date.parse((r.ts || '').slice(0, 23) + 'Z') / 1000);
            if (active.has(r.to) && c.dataset.since) {
              const el = document.createElement('small'); el.className = 'el';
              el.textContent = duration(Date.now() / 1000 + skew - Number(c.dataset.since));
              c.appendChild(el); startClock();
            } else {
              delete c.dataset.since;
            }
          }
          if (r.event === 'control.applied' && (r.command === 'pause' || r.command === 'resume')) {
            document.querySelector('button[data-cmd=pause]').disabled = r.command === 'pause';
            document.querySelector('button[data-cmd=resume]').disabled = r.command === 'resume';
          }
        },
        batch(r) {
          if (r.run !== boot.run || r.phase !== boot.phase || r.batch !== boot.batch) return;
          const li = document.createElement('li'); li.textContent = '#' + r.seq + ' ' + line(r);
          $('batch-events').appendChild(li);
          if (r.event === 'batch.transition') { const s = $('batch-state'); s.textContent = r.to; s.className = 'cell st-' + r.to; s.dataset.state = r.to; }
          if (r.event === 'batch.transition' && r.to === 'running' && boot.log && r.attempt === boot.log.attempt) followAgentLog();
        },
        messages(r) {
          if (!r.event.startsWith('message.')) return;
          newMessages += 1;
          $('msg-new').textContent = newMessages + ' new message record(s) since this page was made: reload to see them';
        },
        events(r) {
          const tr = document.createElement('tr');
          const where = r.phase && r.batch ? r.phase + '/' + r.batch : '';
          tr.dataset.run = r.run || ''; tr.dataset.batch = where; tr.dataset.event = r.event;
          for (const v of [String(r.seq), r.event, r.run || '', where, line(r)]) { const td = document.createElement('td'); td.textContent = v; tr.appendChild(td); }
          eventsFilter(tr);
          document.querySelector('#events tbody').appendChild(tr);
        },
      };

      const live = $('live');
      const es = new EventSource('/api/stream?since=' + boot.seq);
      es.onopen = () => { live.className = 'live on'; };
      es.onerror = () => { live.className = 'live off'; };
      es.onmessage = (ev) => {
        let r;
        try { r = JSON.parse(ev.data); } catch (e) { return; }
        document.body.dataset.seq = r.seq;
        if ($('last-seq')) $('last-seq').textContent = r.seq;
        if (handlers[boot.page]) handlers[boot.page](r);
      };
    })();
    """#
}
