/** The dashboard's one page: markup and style. Its behaviour is client/app.ts, served as /app.js; nothing comes from elsewhere. */
export const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>polyplug — running plugins</title>
<style>
  :root { --fg: #1d2430; --muted: #667085; --line: #e4e7ec; --bg: #f8f9fb; --ok: #12805c; --warn: #b54708; --bad: #b42318; --accent: #2f54eb; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 13px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
  header { display: flex; gap: 16px; align-items: center; padding: 10px 16px; background: #fff; border-bottom: 1px solid var(--line); position: sticky; top: 0; z-index: 1; }
  header h1 { font-size: 15px; margin: 0; }
  header .spacer { flex: 1; }
  #connection { font-size: 12px; color: var(--muted); }
  #connection.live::before { content: "● "; color: var(--ok); }
  #connection.down::before { content: "● "; color: var(--bad); }
  input, select, textarea, button { font: inherit; }
  input#token { width: 260px; padding: 3px 6px; border: 1px solid var(--line); border-radius: 4px; }
  main { padding: 12px 16px; }
  #notice { min-height: 20px; margin-bottom: 8px; font-size: 12px; }
  #notice.error { color: var(--bad); }
  table { width: 100%; border-collapse: collapse; background: #fff; border: 1px solid var(--line); }
  th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; white-space: nowrap; }
  th { font-weight: 600; font-size: 12px; color: var(--muted); background: #fcfcfd; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; }
  tr.plugin { cursor: pointer; }
  tr.plugin:hover { background: #f5f8ff; }
  .id { font-weight: 600; }
  .version { color: var(--muted); margin-left: 4px; }
  .status { display: inline-block; padding: 0 6px; border-radius: 8px; font-size: 12px; background: #eef0f3; }
  .status.active { background: #dcfae6; color: var(--ok); }
  .status.failed, .status.unavailable { background: #fee4e2; color: var(--bad); }
  .status.disabled { background: #f2f4f7; color: var(--muted); }
  .status.starting, .status.stopping { background: #fef0c7; color: var(--warn); }
  .codes { color: var(--bad); font-size: 12px; }
  .quarantine { color: var(--bad); font-weight: 600; }
  .actions button { padding: 1px 6px; margin-right: 2px; border: 1px solid var(--line); background: #fff; border-radius: 4px; cursor: pointer; font-size: 12px; }
  .actions button:hover { border-color: var(--accent); color: var(--accent); }
  tr.details > td { background: #fcfcfd; white-space: normal; }
  .detail-grid { display: grid; grid-template-columns: 1fr 360px; gap: 16px; }
  .logs { font: 12px/1.4 ui-monospace, monospace; background: #101828; color: #e4e7ec; padding: 8px; border-radius: 4px; height: 180px; overflow: auto; white-space: pre-wrap; }
  .logs .warn { color: #fdb022; } .logs .error { color: #f97066; } .logs .debug { color: #98a2b3; }
  .call-form label { display: block; font-size: 12px; color: var(--muted); margin-top: 4px; }
  .call-form select, .call-form textarea { width: 100%; }
  .call-form textarea { height: 60px; font: 12px ui-monospace, monospace; }
  .call-result { font: 12px ui-monospace, monospace; white-space: pre-wrap; margin-top: 6px; max-height: 120px; overflow: auto; }
  .muted { color: var(--muted); }
</style>
</head>
<body>
<header>
  <h1>polyplug · running plugins</h1>
  <span id="summary" class="muted"></span>
  <span class="spacer"></span>
  <label class="muted">token <input id="token" type="password" autocomplete="off" placeholder="needed for actions"></label>
  <span id="connection" class="down">connecting</span>
</header>
<main>
  <div id="notice"></div>
  <table id="plugins">
    <thead><tr>
      <th>plugin</th><th>kind</th><th>placement</th><th>transport</th><th>state</th><th>activated by</th><th>uptime</th>
      <th>calls</th><th>errors</th><th>p50 ms</th><th>p99 ms</th><th>restarts</th><th>crashes</th><th>memory</th><th>actions</th>
    </tr></thead>
    <tbody></tbody>
  </table>
  <p class="muted">Click a row for its recent log and stderr lines and to call a method. Prometheus metrics: <a href="/metrics">/metrics</a>.</p>
</main>
<script type="module" src="/app.js"></script>
</body>
</html>
`
