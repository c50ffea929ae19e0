/** The workbench page's script: lists the features and runs them on the text in the editor. */
interface Feature { id: string; title: string; plugin: string; how: string; example: string }
interface Answer { feature: string; plugin: string; ms?: number; result?: unknown; error?: { code: string; message: string } }

const input = document.querySelector<HTMLTextAreaElement>('#input')!
const output = document.querySelector<HTMLPreElement>('#output')!
const meta = document.querySelector<HTMLSpanElement>('#meta')!
const list = document.querySelector<HTMLDivElement>('#features')!

function button(text: string, className: string, onClick: () => void): HTMLButtonElement {
  const b = document.createElement('button')
  b.textContent = text
  b.className = className
  b.addEventListener('click', onClick)
  return b
}

async function run(feature: Feature): Promise<void> {
  meta.textContent = `running ${feature.plugin}…`
  const response = await fetch(`/api/run/${feature.id}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: input.value }) })
  const answer = (await response.json()) as Answer
  output.dataset.feature = feature.id
  if (answer.error) {
    meta.textContent = `${feature.plugin}: ${answer.error.code}`
    output.textContent = answer.error.message
  } else {
    meta.textContent = `${feature.title} — ${feature.plugin}, ${(answer.ms ?? 0).toFixed(1)} ms`
    output.textContent = typeof answer.result === 'string' ? answer.result : JSON.stringify(answer.result, null, 2)
  }
}

const features = (await (await fetch('/api/features')).json()) as Feature[]
for (const f of features) {
  const row = document.createElement('div')
  row.className = 'feature'
  row.dataset.feature = f.id
  const label = document.createElement('div')
  label.append(f.title)
  const how = document.createElement('span')
  how.className = 'how'
  how.textContent = `${f.plugin}: ${f.how}`
  label.append(how)
  row.append(label, button('example', '', () => (input.value = f.example)), button('run', 'run', () => void run(f)))
  list.append(row)
}
input.value = features[0]?.example ?? ''
