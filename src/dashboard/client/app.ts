/**
 * The dashboard page's script (runs in the browser, served as /app.js): renders the snapshot the
 * server streams as server-sent events, keeps one table row per plugin (so open details and
 * half-typed arguments survive updates), and posts actions with the token.
 */

interface LogRecord { level: string; message: string; plugin?: string; time: number }
interface Row {
  id: string; version: string; kind: string; placement: string; transport: string; status: string
  activationReason?: string; uptimeMs?: number; pid?: number; calls: number; errors: number
  errorsByCode: Record<string, number>; p50: number; p99: number; restarts: number; crashes: number
  quarantine?: { code: string; message: string }; lastError?: { code: string; message: string }
  memory?: { rssBytes?: number; heapBytes?: number; linearMemoryBytes?: number }
  methods: string[]; logs: LogRecord[]
}
interface Snapshot { time: number; plugins: Row[] }

const ACTIONS = ['activate', 'stop', 'restart', 'reload', 'enable', 'disable', 'reset'] as const
const COLUMNS = ['plugin', 'kind', 'placement', 'transport', 'status', 'reason', 'uptime', 'calls', 'errors', 'p50', 'p99', 'restarts', 'crashes', 'memory', 'actions'] as const
const NUMERIC = new Set(['calls', 'errors', 'p50', 'p99', 'restarts', 'crashes', 'memory', 'uptime'])

const $ = <T extends Element>(selector: string, root: ParentNode = document): T => root.querySelector<T>(selector)!
const tbody = $<HTMLTableSectionElement>('#plugins tbody')
const tokenInput = $<HTMLInputElement>('#token')
const notice = $<HTMLDivElement>('#notice')
const connection = $<HTMLSpanElement>('#connection')

const fromHash = new URLSearchParams(location.hash.slice(1)).get('token')
if (fromHash) {
  sessionStorage.setItem('polyplug-token', fromHash)
  history.replaceState(null, '', location.pathname)
}
tokenInput.value = sessionStorage.getItem('polyplug-token') ?? ''
tokenInput.addEventListener('change', () => sessionStorage.setItem('polyplug-token', tokenInput.value))

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const node = Object.assign(document.createElement(tag), props)
  node.append(...children)
  return node
}

function bytes(n: number | undefined): string {
  if (n === undefined) return ''
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KiB`
  return `${(n / 1024 / 1024).toFixed(1)} MiB`
}

function duration(ms: number | undefined): string {
  if (ms === undefined) return ''
  const s = Math.floor(ms / 1000)
  if (s < 60) return `${s} s`
  if (s < 3600) return `${Math.floor(s / 60)} m ${s % 60} s`
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} m`
}

function memory(row: Row): string {
  const m = row.memory
  if (!m) return ''
  if (m.rssBytes !== undefined) return `${bytes(m.rssBytes)} rss`
  if (m.linearMemoryBytes !== undefined) return `${bytes(m.linearMemoryBytes)} linear${m.heapBytes === undefined ? '' : ` + ${bytes(m.heapBytes)} heap`}`
  if (m.heapBytes !== undefined) return `${bytes(m.heapBytes)} heap`
  return ''
}

function say(text: string, error = false): void {
  notice.textContent = text
  notice.className = error ? 'error' : ''
}

async function act(id: string, action: string, body?: unknown): Promise<{ ok?: boolean; result?: unknown; error?: { code: string; message: string } }> {
  const response = await fetch(`/api/plugins/${encodeURIComponent(id)}/${action}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${tokenInput.value}` },
    body: JSON.stringify(body ?? {}),
  })
  const answer = (await response.json()) as { ok?: boolean; result?: unknown; error?: { code: string; message: string } }
  if (answer.error) say(`${action} ${id}: ${answer.error.code}: ${answer.error.message}`, true)
  else say(`${action} ${id}: done`)
  return answer
}

interface RowView { main: HTMLTableRowElement; details: HTMLTableRowElement; cells: Record<string, HTMLTableCellElement>; logs: HTMLDivElement; methods: HTMLSelectElement; lines: LogRecord[] }
const views = new Map<string, RowView>()

function logLine(record: LogRecord): HTMLDivElement {
  const time = new Date(record.time).toISOString().slice(11, 23)
  return el('div', { className: record.level, textContent: `${time} ${record.level.padEnd(5)} ${record.message}` })
}

function view(row: Row): RowView {
  const existing = views.get(row.id)
  if (existing) return existing
  const cells: Record<string, HTMLTableCellElement> = {}
  const main = el('tr', { className: 'plugin' })
  main.dataset.plugin = row.id
  for (const column of COLUMNS) {
    const td = el('td', { className: NUMERIC.has(column) ? 'num' : '' })
    td.dataset.field = column
    cells[column] = td
    main.append(td)
  }
  for (const action of ACTIONS) {
    const button = el('button', { textContent: action, title: `${action} ${row.id}` })
    button.dataset.action = action
    button.addEventListener('click', (event) => {
      event.stopPropagation()
      void act(row.id, action)
    })
    cells.actions!.append(button)
  }
  cells.actions!.className = 'actions'
  const logs = el('div', { className: 'logs' })
  const methods = el('select')
  const args = el('textarea', { value: '[]', spellcheck: false })
  const result = el('div', { className: 'call-result' })
  const callButton = el('button', { textContent: 'call' })
  callButton.dataset.action = 'call'
  callButton.addEventListener('click', async () => {
    let parsed: unknown
    try {
      parsed = JSON.parse(args.value || '[]')
    } catch (e) {
      result.textContent = `arguments are not JSON: ${(e as Error).message}`
      return
    }
    const answer = await act(row.id, 'call', { method: methods.value, args: parsed })
    result.textContent = answer.error ? `${answer.error.code}: ${answer.error.message}` : JSON.stringify(answer.result, null, 2)
  })
  const form = el('div', { className: 'call-form' }, el('label', { textContent: 'method' }), methods, el('label', { textContent: 'arguments (JSON array)' }), args, callButton, result)
  const cell = el('td', { colSpan: COLUMNS.length }, el('div', { className: 'detail-grid' }, el('div', {}, el('div', { className: 'muted', textContent: 'recent log and stderr lines' }), logs), form))
  const details = el('tr', { className: 'details', hidden: true }, cell)
  details.dataset.details = row.id
  main.addEventListener('click', () => (details.hidden = !details.hidden))
  tbody.append(main, details)
  const created: RowView = { main, details, cells, logs, methods, lines: [] }
  views.set(row.id, created)
  return created
}

function setText(cell: HTMLTableCellElement | undefined, text: string, title = ''): void {
  if (!cell) return
  if (cell.textContent !== text) cell.textContent = text
  cell.title = title
}

function render(snap: Snapshot): void {
  let active = 0
  for (const row of snap.plugins) {
    const v = view(row)
    if (row.status === 'active') active++
    const c = v.cells
    if (!c.plugin!.firstChild) c.plugin!.append(el('span', { className: 'id', textContent: row.id }), el('span', { className: 'version', textContent: row.version }))
    setText(c.kind, row.kind)
    setText(c.placement, row.placement)
    setText(c.transport, row.transport)
    const status = c.status!.firstElementChild ?? c.status!.appendChild(el('span'))
    status.className = `status ${row.status}`
    status.textContent = row.quarantine ? `${row.status} · quarantined` : row.status
    ;(status as HTMLElement).title = row.quarantine?.message ?? row.lastError ? `${row.lastError?.code}: ${row.lastError?.message}` : ''
    setText(c.reason, row.activationReason ?? '')
    setText(c.uptime, duration(row.uptimeMs), row.pid === undefined ? '' : `pid ${row.pid}`)
    setText(c.calls, String(row.calls))
    const codes = Object.entries(row.errorsByCode).map(([code, n]) => `${code} ×${n}`).join(', ')
    setText(c.errors, row.errors === 0 ? '0' : `${row.errors} (${codes})`, codes)
    c.errors!.classList.toggle('codes', row.errors > 0)
    setText(c.p50, row.calls ? row.p50.toFixed(2) : '')
    setText(c.p99, row.calls ? row.p99.toFixed(2) : '')
    setText(c.restarts, String(row.restarts))
    setText(c.crashes, row.quarantine ? `${row.crashes} · quarantined` : String(row.crashes), row.quarantine?.message ?? '')
    c.crashes!.classList.toggle('quarantine', row.quarantine !== undefined)
    setText(c.memory, memory(row))
    if (v.methods.options.length !== row.methods.length) {
      const chosen = v.methods.value
      v.methods.replaceChildren(...row.methods.map((m) => el('option', { value: m, textContent: m })))
      if (row.methods.includes(chosen)) v.methods.value = chosen
    }
    const last = v.lines[v.lines.length - 1]?.time ?? 0
    const fresh = row.logs.filter((r) => r.time > last)
    if (v.lines.length === 0 || fresh.length > 0) appendLogs(v, v.lines.length === 0 ? row.logs : fresh)
  }
  $('#summary').textContent = `${snap.plugins.length} plugins, ${active} running`
  document.body.dataset.updated = String(snap.time)
}

function appendLogs(v: RowView, records: LogRecord[]): void {
  const atBottom = v.logs.scrollTop + v.logs.clientHeight >= v.logs.scrollHeight - 4
  for (const r of records) {
    v.lines.push(r)
    v.logs.append(logLine(r))
  }
  while (v.lines.length > 200) {
    v.lines.shift()
    v.logs.firstChild?.remove()
  }
  if (atBottom) v.logs.scrollTop = v.logs.scrollHeight
}

const events = new EventSource('/events')
events.addEventListener('open', () => {
  connection.textContent = 'live'
  connection.className = 'live'
})
events.addEventListener('error', () => {
  connection.textContent = 'reconnecting'
  connection.className = 'down'
})
events.addEventListener('snapshot', (event) => render(JSON.parse((event as MessageEvent<string>).data) as Snapshot))
events.addEventListener('log', (event) => {
  const record = JSON.parse((event as MessageEvent<string>).data) as LogRecord
  const v = record.plugin === undefined ? undefined : views.get(record.plugin)
  if (v && record.time > (v.lines[v.lines.length - 1]?.time ?? 0) - 1) appendLogs(v, [record])
})
