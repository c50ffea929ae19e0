/** The workbench page: the editor and feature buttons on the left, the host's dashboard beside it. */
export const page = (dashboardUrl: string) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>polyplug workbench</title>
<style>
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.45 system-ui, sans-serif; color: #1d2430; display: grid; grid-template-columns: minmax(420px, 38%) 1fr; height: 100vh; }
  section { padding: 14px 16px; overflow: auto; border-right: 1px solid #e4e7ec; }
  h1 { font-size: 17px; margin: 0 0 2px; }
  p.lead { margin: 0 0 10px; color: #667085; font-size: 13px; }
  textarea { width: 100%; height: 150px; font: 13px ui-monospace, monospace; padding: 8px; border: 1px solid #d0d5dd; border-radius: 6px; }
  .feature { display: grid; grid-template-columns: 1fr auto auto; gap: 6px; align-items: center; padding: 6px 0; border-bottom: 1px solid #f2f4f7; }
  .feature .how { display: block; color: #667085; font-size: 12px; }
  button { font: inherit; font-size: 13px; padding: 3px 10px; border: 1px solid #d0d5dd; background: #fff; border-radius: 5px; cursor: pointer; }
  button.run { border-color: #2f54eb; color: #2f54eb; }
  pre#output { background: #101828; color: #e4e7ec; padding: 10px; border-radius: 6px; min-height: 120px; white-space: pre-wrap; font-size: 12px; }
  iframe { width: 100%; height: 100vh; border: 0; }
</style>
</head>
<body>
<section>
  <h1>polyplug workbench</h1>
  <p class="lead">A small text and data workbench. Every feature below is a plugin: different languages, kinds and placements, one call from the application. The dashboard on the right shows them start, answer and use memory, live.</p>
  <textarea id="input" spellcheck="false" placeholder="text, CSV or JSON"></textarea>
  <div id="features"></div>
  <h2 style="font-size:14px">Result <span id="meta" style="color:#667085;font-weight:normal"></span></h2>
  <pre id="output"></pre>
</section>
<iframe id="dashboard" title="running plugins" src="${dashboardUrl}"></iframe>
<script type="module" src="/app.js"></script>
</body>
</html>
`
